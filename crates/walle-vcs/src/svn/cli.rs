//! Running the `svn` client: global options, credentials on stdin, and error codes mapped to
//! [`VcsError`]s.

use std::ffi::OsString;
use std::path::Path;

use walle_core::model::{RepoConfig, RepoCredentials};
use walle_core::ports::VcsError;

use super::SvnConfig;
use crate::process;
use crate::url::Shown;

/// What a missing path or revision means for the caller, for the `NoSuchRef` error.
#[derive(Debug, Clone, Copy)]
pub(super) struct Missing<'a> {
    /// `branch`, `tag`, `revision`.
    pub(super) kind: &'static str,
    /// What was asked for.
    pub(super) reference: &'a str,
}

/// One repository as the `svn` client sees it.
pub(super) struct Client<'a> {
    config: &'a SvnConfig,
    repo: &'a RepoConfig,
    config_dir: &'a Path,
}

impl<'a> Client<'a> {
    pub(super) fn new(config: &'a SvnConfig, repo: &'a RepoConfig, config_dir: &'a Path) -> Self {
        Client {
            config,
            repo,
            config_dir,
        }
    }

    pub(super) fn shown(&self) -> Shown<'a> {
        Shown::new(self.repo)
    }

    /// Runs `svn <args>` and returns its stdout; `missing` says how a "not found" is reported.
    pub(super) fn run(
        &self,
        operation: &'static str,
        args: &[OsString],
        missing: Option<Missing<'_>>,
    ) -> Result<String, VcsError> {
        let mut cmd = process::command("svn");
        cmd.arg("--non-interactive")
            .arg("--no-auth-cache")
            .arg("--config-dir")
            .arg(self.config_dir);
        let mut stdin = None;
        match &self.repo.credentials {
            RepoCredentials::None => {}
            RepoCredentials::Password { username, password } => {
                // The password goes through a pipe: a command line is readable by every user.
                cmd.arg("--username")
                    .arg(username)
                    .arg("--password-from-stdin");
                let mut line = password.expose().as_bytes().to_vec();
                line.push(b'\n');
                stdin = Some(line);
            }
            RepoCredentials::SshKey { .. } => {
                return Err(VcsError::AuthFailed {
                    repo: self.shown().url(),
                    detail:
                        "an SSH key is configured, but SVN projects authenticate with a user and \
                             password (svn+ssh uses the deploy host's own ssh setup); change the \
                             project's credentials"
                            .to_owned(),
                });
            }
        }
        cmd.args(args);
        let output = process::run(&mut cmd, stdin.as_deref(), self.config.command_timeout)
            .map_err(|e| VcsError::Other {
                operation,
                repo: self.shown().url(),
                detail: format!("{e}; is the subversion client installed on the deploy host?"),
            })?;
        if output.status.success() {
            return String::from_utf8(output.stdout).map_err(|_| VcsError::Other {
                operation,
                repo: self.shown().url(),
                detail: "svn printed output that is not UTF-8".to_owned(),
            });
        }
        Err(classify(
            &process::text(&output.stderr),
            &self.shown(),
            operation,
            missing,
        ))
    }
}

/// Maps `svn`'s error codes (`svn: E170013: ...`) to a [`VcsError`].
pub(super) fn classify(
    stderr: &str,
    shown: &Shown<'_>,
    operation: &'static str,
    missing: Option<Missing<'_>>,
) -> VcsError {
    let detail = shown.clean(stderr);
    let codes: Vec<&str> = stderr
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() == 7
                && (w.starts_with('E') || w.starts_with('W'))
                && w[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .collect();
    let any = |list: &[&str]| codes.iter().any(|c| list.contains(c));
    let repo = shown.url();
    // Authentication: refused credentials, or none when the server wants some.
    if any(&["E170001", "E215004", "E175013"]) {
        return VcsError::AuthFailed { repo, detail };
    }
    if any(&["E230001"]) {
        return VcsError::HostKey {
            repo,
            detail: format!(
                "{detail}; the server's TLS certificate is not trusted by the deploy host (install its CA)"
            ),
        };
    }
    if any(&["E210005", "E180001", "E170000", "E175011"]) {
        return VcsError::NotARepository {
            repo,
            expected: "svn",
            detail,
        };
    }
    if any(&[
        "E160013", "W160013", "W170000", "E200009", "E195012", "E160006", "E160005", "E200005",
    ]) && let Some(missing) = missing
    {
        return VcsError::NoSuchRef {
            repo,
            kind: missing.kind,
            reference: missing.reference.to_owned(),
        };
    }
    if any(&[
        "E170013", "E000111", "E000110", "E000113", "E000101", "E000104", "E670002", "E670008",
        "E120108", "E175012", "E210002",
    ]) {
        return VcsError::Unreachable { repo, detail };
    }
    VcsError::Other {
        operation,
        repo,
        detail: if detail.is_empty() {
            "svn failed without a message".to_owned()
        } else {
            detail
        },
    }
}

/// Percent-encodes a repository path for a URL: everything but unreserved characters and `/`.
/// This also keeps an `@` in a branch name from being read as a peg revision.
pub(super) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (for matching URLs printed by svn).
pub(super) fn decode_path(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
