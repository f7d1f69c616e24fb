//! Projects and all their settings.

use std::time::Duration;

use crate::Secret;
use crate::value::{AbsPath, Name, RelPath, VarName};
use crate::{EnvironmentId, ProjectId, ServerId, SpaceId, Timestamp, UserId};

/// A project: one deployable repository with where and how it is deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// The owning space.
    pub space: SpaceId,
    /// Settings.
    pub spec: ProjectSpec,
    /// Creator (kept on edit, unlike walle 2.x).
    pub created_by: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Everything configurable on a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSpec {
    /// Display name, unique among the space's live projects.
    pub name: Name,
    /// The environment it deploys to.
    pub environment: EnvironmentId,
    /// Source repository.
    pub repo: RepoConfig,
    /// The webroot: the path that is a symlink to the live release (walle's `target_root`).
    pub webroot: AbsPath,
    /// The directory holding one directory per release (walle's `target_releases`).
    pub releases_dir: AbsPath,
    /// How many releases to keep on each host (at least 1; the live one is always kept).
    pub keep_releases: u32,
    /// What of the exported tree is packaged.
    pub filter: FileFilter,
    /// Files and directories shared between releases, linked into each one.
    pub shared: SharedPaths,
    /// Hook scripts, one shell command per line.
    pub hooks: Hooks,
    /// Custom hook variables (`KEY=value` lines in walle); they override the built-ins.
    pub variables: Vec<Variable>,
    /// The project's target servers.
    pub servers: Vec<ServerId>,
    /// Health check run on each host after its switch.
    pub health_check: Option<HealthCheck>,
    /// Parallelism, switch batches, failure policy and timeouts.
    pub strategy: DeployStrategy,
    /// Tasks need approval before they can be deployed.
    pub require_approval: bool,
    /// The approver of a task may not be its submitter.
    pub separate_approver: bool,
    /// Where notifications go.
    pub notify: NotifySettings,
}

/// A custom hook variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: VarName,
    /// Its value, passed quoted (never evaluated by the shell).
    pub value: String,
}

impl Variable {
    /// Parses walle's `task_vars` text: one `KEY=value` per line, `#` comments and blank lines
    /// skipped, split on the first `=`, both sides trimmed. Returns the line number (1-based)
    /// and the error for the first bad line.
    pub fn parse_lines(text: &str) -> Result<Vec<Variable>, (usize, crate::value::InvalidValue)> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            let name = VarName::new(k.trim()).map_err(|e| (i + 1, e))?;
            out.retain(|x: &Variable| x.name != name);
            out.push(Variable {
                name,
                value: v.trim().to_owned(),
            });
        }
        Ok(out)
    }
}

/// Which version-control system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoKind {
    /// Git.
    Git,
    /// Subversion, standard trunk/branches/tags layout.
    Svn,
}

/// How tasks pick a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoMode {
    /// A branch and a commit on it (SVN: trunk or a branch, and a revision).
    Branch,
    /// A tag.
    Tag,
}

/// Credentials for the repository. Secrets are never returned by the API or logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoCredentials {
    /// None (public repository, or the deploy host's SSH agent / default key for git over ssh).
    None,
    /// An SSH private key file on the deploy host (git over ssh).
    SshKey {
        /// Path of the private key.
        key_path: AbsPath,
        /// Passphrase of the key, if encrypted.
        passphrase: Option<Secret>,
    },
    /// User and password or token (https, svn).
    Password {
        /// User name.
        username: String,
        /// Password or token.
        password: Secret,
    },
}

/// Where the source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoConfig {
    /// Git or SVN.
    pub kind: RepoKind,
    /// Repository URL (`https://`, `ssh://`, `git@host:path`, `git://`, `file://`, `svn://`).
    /// For SVN, the repository root (trunk/branches/tags below it).
    pub url: String,
    /// Branch or tag mode.
    pub mode: RepoMode,
    /// Credentials.
    pub credentials: RepoCredentials,
}

/// Include or exclude mode of the package filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterMode {
    /// Ship everything except what matches.
    Exclude,
    /// Ship only what matches.
    Include,
}

/// The package filter: glob patterns (`*.log`, `vendor/**`, `dist`), one per line in walle.
/// `.git` and `.svn` are never shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFilter {
    /// Include or exclude.
    pub mode: FilterMode,
    /// Glob patterns, relative to the repository root.
    pub patterns: Vec<String>,
}

impl Default for FileFilter {
    /// Exclude nothing.
    fn default() -> Self {
        Self {
            mode: FilterMode::Exclude,
            patterns: Vec::new(),
        }
    }
}

/// Files and directories kept in `shared/` and linked into every release (logs, uploads, `.env`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedPaths {
    /// Shared files.
    pub files: Vec<RelPath>,
    /// Shared directories.
    pub dirs: Vec<RelPath>,
}

/// Hook scripts. Each non-empty, non-`#` line runs on its own as `sh -c <line>`, with the hook
/// variables in its environment; a failing line stops the deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// On the deploy host, in the repository cache, before export (walle's `prev_deploy`).
    pub pre_deploy: Vec<String>,
    /// On the deploy host, in the build directory, after export: the build (walle's `post_deploy`).
    pub post_deploy: Vec<String>,
    /// On each host, in the new release directory, before the switch (walle's `prev_release`).
    pub pre_release: Vec<String>,
    /// On each host, in the webroot, after the switch (walle's `post_release`).
    pub post_release: Vec<String>,
    /// On each host, in the webroot, after a rollback switch (walle lacked one, #767).
    pub post_rollback: Vec<String>,
}

impl Hooks {
    /// Splits a hook text field into its command lines (blank and `#` lines dropped).
    pub fn lines(text: &str) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }
}

/// A per-host health check after the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// What to probe.
    pub probe: HealthProbe,
    /// Attempts before the host counts as unhealthy (at least 1).
    pub retries: u32,
    /// Pause between attempts.
    pub interval: Duration,
    /// Time limit of one attempt.
    pub timeout: Duration,
}

/// The probe of a health check; both run on the target host itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbe {
    /// An HTTP GET that must answer 2xx or 3xx (run on the host with `curl` or `wget`).
    Http {
        /// URL, usually `http://127.0.0.1:<port>/health`.
        url: String,
    },
    /// A shell command that must exit 0, run in the webroot.
    Command {
        /// The command line.
        line: String,
    },
}

/// How the switch is rolled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchMode {
    /// Every host switches at once after the barrier.
    AllAtOnce,
    /// Hosts switch in batches of this size, each batch health-checked before the next.
    Rolling {
        /// Hosts per batch (at least 1).
        batch_size: u32,
    },
}

/// What a failing host does to the rest of the deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Any failure fails the deploy: nobody switches, or everyone switches back.
    AbortAll,
    /// Failed hosts are reported; the others go on.
    Continue,
    /// Tolerate up to this many failed hosts.
    MaxFailCount(u32),
    /// Tolerate up to this percentage (0..=100) of failed hosts, rounded down.
    MaxFailPercent(u8),
}

impl FailurePolicy {
    /// How many failed hosts out of `total` are tolerated.
    pub fn tolerated(self, total: usize) -> usize {
        match self {
            FailurePolicy::AbortAll => 0,
            FailurePolicy::Continue => total,
            FailurePolicy::MaxFailCount(n) => usize::try_from(n).unwrap_or(usize::MAX).min(total),
            FailurePolicy::MaxFailPercent(p) => total * usize::from(p.min(100)) / 100,
        }
    }
}

/// Deploy strategy and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployStrategy {
    /// Hosts prepared (uploaded, unpacked, hooked) at the same time.
    pub parallelism: u32,
    /// All at once or rolling batches.
    pub switch: SwitchMode,
    /// Failure handling.
    pub failure: FailurePolicy,
    /// SSH connect timeout.
    pub connect_timeout: Duration,
    /// Time limit of one command (hooks included).
    pub command_timeout: Duration,
    /// A command printing nothing for this long is stopped.
    pub silence_timeout: Duration,
}

impl Default for DeployStrategy {
    fn default() -> Self {
        Self {
            parallelism: 10,
            switch: SwitchMode::AllAtOnce,
            failure: FailurePolicy::AbortAll,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(600),
            silence_timeout: Duration::from_secs(300),
        }
    }
}

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySettings {
    /// The channels; empty means none.
    pub channels: Vec<NotifyChannel>,
}

/// One notification channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyChannel {
    /// A DingTalk robot webhook, with its signing secret if set.
    DingTalk {
        /// Webhook URL.
        url: String,
        /// Signing secret.
        secret: Option<Secret>,
    },
    /// A generic JSON webhook (Slack-compatible `{"text": ...}`).
    Webhook {
        /// URL.
        url: String,
    },
    /// E-mail recipients.
    Email {
        /// Addresses.
        to: Vec<crate::value::Email>,
    },
}
