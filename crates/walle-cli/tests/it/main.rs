//! Integration tests: the real `walle` binary in temporary data directories.

mod backends;
mod cancel;
mod check;
mod dry_run;
mod init;
mod manage;
mod permissions;
mod quickstart;
mod readme_flow;
mod retry;
mod ssh;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A data directory and a way to run `walle` in it.
pub struct Walle {
    dir: TempDir,
}

impl Walle {
    /// A fresh, uninitialised data directory.
    pub fn fresh() -> Walle {
        Walle {
            dir: tempfile::Builder::new()
                .prefix("walle-cli-it-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// A data directory after `walle init`; returns the SUPER password too.
    pub fn init() -> (Walle, String) {
        let w = Walle::fresh();
        let v = w.json(&["init"]);
        let pw = v["password"].as_str().expect("password").to_owned();
        (w, pw)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory beside the data directory.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// The command, with the data directory set and every WALLE_* default cleared.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_walle"));
        c.args(args)
            .env("WALLE_DATA_DIR", self.data_dir())
            .env_remove("WALLE_DATABASE_URL")
            .env_remove("WALLE_USER")
            .env_remove("WALLE_SPACE")
            .env_remove("WALLE_SECRET_KEY")
            .env_remove("WALLE_IDENTITY");
        c
    }

    /// Runs walle.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("walle runs")
    }

    /// Runs walle, expects success, returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "walle {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs walle with `--json`, expects success, parses standard output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("walle {args:?}: {e}\n{text}"))
    }

    /// Runs walle, expects exit code `code`, returns standard error.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "walle {args:?}\nstdout:\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }
}

/// Runs git in `dir` (test setup).
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (install git)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository with one commit of `index.html` containing `content`, on branch main.
pub fn repo_with(dir: &Path, content: &str) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir repo");
    git(&repo, &["init", "-q"]);
    git(&repo, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    commit(&repo, content);
    repo
}

/// Commits a new `index.html`.
pub fn commit(repo: &Path, content: &str) {
    std::fs::write(repo.join("index.html"), content).expect("write index.html");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", content]);
}

/// A project file deploying `repo` to `www` on the servers named.
pub fn project_toml(
    name: &str,
    repo: &Path,
    www: &Path,
    servers: &[&str],
    approval: bool,
) -> String {
    let servers: Vec<String> = servers.iter().map(|s| format!("{s:?}")).collect();
    format!(
        r#"name = "{name}"
servers = [{servers}]

[repo]
url = "file://{repo}"

[deploy]
webroot = "{www}/current"
releases_dir = "{www}/releases"
keep = 3

[approval]
required = {approval}
"#,
        servers = servers.join(", "),
        repo = repo.display(),
        www = www.display(),
    )
}
