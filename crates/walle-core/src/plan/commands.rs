//! Builders for every command Walle itself runs on a host. Values travel as arguments (or as
//! positional parameters of a constant `sh -c` script), never spliced into a shell string.

use std::time::Duration;

use crate::model::HealthProbe;
use crate::shell::Command;
use crate::value::{AbsPath, RelPath, VarName};

/// `mkdir -p -- <dirs>`.
pub fn mkdirs(dirs: &[&AbsPath]) -> Command {
    Command::new("mkdir")
        .args(["-p", "--"])
        .args(dirs.iter().map(|d| d.to_string()))
}

/// `rm -rf -- <paths>`.
pub fn remove_all(paths: &[AbsPath]) -> Command {
    Command::new("rm")
        .args(["-rf", "--"])
        .args(paths.iter().map(|d| d.to_string()))
}

/// Hard-links `files` (paths relative to the release directory `previous`) into the release
/// directory `new`, creating their parent directories. Unchanged files of an incremental transfer
/// travel this way instead of over the network. GNU `cp -al --parents` does it in one process;
/// where that is missing (BusyBox), a POSIX loop of `mkdir -p` and `ln` does the same.
pub fn link_unchanged(previous: &AbsPath, new: &AbsPath, files: &[String]) -> Command {
    let script = "cd \"$1\" && d=$2 && shift 2 && \
                  { cp -al --parents -- \"$@\" \"$d\" 2>/dev/null || \
                  for f do mkdir -p -- \"$d/$(dirname -- \"$f\")\" && ln -f -- \"$f\" \"$d/$f\" || exit 1; done; }";
    Command::new("sh")
        .args(["-c", script, "sh", previous.as_str(), new.as_str()])
        .args(files.iter().cloned())
}

/// Lists the entries of a directory, one per line (nothing when it does not exist).
pub fn list_dir(dir: &AbsPath) -> Command {
    Command::new("sh").args([
        "-c",
        "[ ! -d \"$1\" ] || ls -1A -- \"$1\"",
        "sh",
        dir.as_str(),
    ])
}

/// `test -d <dir>`: exit 0 when the directory exists.
pub fn dir_exists(dir: &AbsPath) -> Command {
    Command::new("test").args(["-d", dir.as_str()])
}

/// Verifies the files of `dir` against a `sha256sum`-format manifest file; prints one line per file.
pub fn verify_checksums(dir: &AbsPath, manifest: &AbsPath) -> Command {
    Command::new("sh").args([
        "-c",
        "cd \"$1\" && sha256sum -c -- \"$2\"",
        "sh",
        dir.as_str(),
        manifest.as_str(),
    ])
}

/// Links a shared directory into a release: creates it in `shared/` (seeded from the release's
/// copy on first use), replaces the release's copy with a symlink to it.
pub fn link_shared_dir(shared: &AbsPath, release: &AbsPath, rel: &RelPath) -> Command {
    let script = "s=\"$1/$3\"; r=\"$2/$3\"; \
                  if [ ! -e \"$s\" ]; then mkdir -p -- \"$(dirname -- \"$s\")\"; \
                  if [ -d \"$r\" ] && [ ! -L \"$r\" ]; then cp -a -- \"$r\" \"$s\"; else mkdir -p -- \"$s\"; fi; fi; \
                  rm -rf -- \"$r\" && mkdir -p -- \"$(dirname -- \"$r\")\" && ln -s -- \"$s\" \"$r\"";
    Command::new("sh").args([
        "-c",
        script,
        "sh",
        shared.as_str(),
        release.as_str(),
        rel.as_str(),
    ])
}

/// Links a shared file into a release: seeds it from the release's copy (or an empty file) on first
/// use, replaces the release's copy with a symlink to it.
pub fn link_shared_file(shared: &AbsPath, release: &AbsPath, rel: &RelPath) -> Command {
    let script = "s=\"$1/$3\"; r=\"$2/$3\"; \
                  if [ ! -e \"$s\" ]; then mkdir -p -- \"$(dirname -- \"$s\")\"; \
                  if [ -f \"$r\" ] && [ ! -L \"$r\" ]; then cp -p -- \"$r\" \"$s\"; else : > \"$s\"; fi; fi; \
                  rm -rf -- \"$r\" && mkdir -p -- \"$(dirname -- \"$r\")\" && ln -s -- \"$s\" \"$r\"";
    Command::new("sh").args([
        "-c",
        script,
        "sh",
        shared.as_str(),
        release.as_str(),
        rel.as_str(),
    ])
}

/// A user hook line: `sh -c <line>` in `dir` with the hook variables.
pub fn hook(line: &str, dir: &AbsPath, vars: &[(VarName, String)]) -> Command {
    Command::shell(line).envs(vars).cwd(dir.clone())
}

/// The health-check probe, run on the host.
pub fn health_probe(
    probe: &HealthProbe,
    webroot: &AbsPath,
    timeout: Duration,
    vars: &[(VarName, String)],
) -> Command {
    match probe {
        HealthProbe::Http { url } => {
            let secs = timeout.as_secs().max(1).to_string();
            let script = "if command -v curl >/dev/null 2>&1; then \
                          curl -fsS -o /dev/null --max-time \"$2\" -- \"$1\"; \
                          else wget -q -O /dev/null -T \"$2\" -- \"$1\"; fi";
            Command::new("sh").args(["-c", script, "sh", url.as_str(), secs.as_str()])
        }
        HealthProbe::Command { line } => hook(line, webroot, vars),
    }
}
