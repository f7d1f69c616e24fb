//! The project file: every project setting as TOML (`walle project create --from`, `export`).
//!
//! Secrets never appear in the file; it names the environment variable or file to read them from.
//! Exported files leave them out, and an update without them keeps the stored secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use walle_core::model::{
    DeployStrategy, FailurePolicy, FileFilter, FilterMode, HealthCheck, HealthProbe, Hooks,
    NotifyChannel, NotifySettings, ProjectSpec, RepoConfig, RepoCredentials, RepoKind, RepoMode,
    SharedPaths, SwitchMode, Variable,
};
use walle_core::value::{AbsPath, Email, Name, RelPath, VarName};
use walle_core::{EnvironmentId, Secret, ServerId};

use crate::error::usage;

/// The documented example (`walle project example`).
pub const EXAMPLE: &str = include_str!("../project.example.toml");

/// A project file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// Name.
    pub name: String,
    /// Environment name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Server names.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Repository.
    pub repo: RepoSection,
    /// Paths on the hosts.
    pub deploy: DeploySection,
    /// Package filter and shared paths.
    #[serde(default)]
    pub files: FilesSection,
    /// Hooks.
    #[serde(default)]
    pub hooks: HooksSection,
    /// Custom hook variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthSection>,
    /// Strategy.
    #[serde(default)]
    pub strategy: StrategySection,
    /// Approval.
    #[serde(default)]
    pub approval: ApprovalSection,
    /// Notification channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<NotifySection>,
}

/// `[repo]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSection {
    /// `git` or `svn`.
    #[serde(default = "git")]
    pub kind: String,
    /// URL.
    pub url: String,
    /// `branch` or `tag`.
    #[serde(default = "branch")]
    pub mode: String,
    /// Credentials (references to secrets, never the secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsSection>,
}

/// `[repo.credentials]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    /// Private key path (git over ssh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<String>,
    /// Environment variable holding the key's passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_env: Option<String>,
    /// User name (https, svn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Environment variable holding the password or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// File holding the password or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// `[deploy]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySection {
    /// The webroot symlink.
    pub webroot: String,
    /// The releases directory.
    pub releases_dir: String,
    /// Releases kept per host.
    #[serde(default = "five")]
    pub keep: u32,
}

/// `[files]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSection {
    /// `exclude` or `include`.
    #[serde(default = "exclude")]
    pub mode: String,
    /// Globs.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Shared files.
    #[serde(default)]
    pub shared_files: Vec<String>,
    /// Shared directories.
    #[serde(default)]
    pub shared_dirs: Vec<String>,
}

impl Default for FilesSection {
    fn default() -> Self {
        Self {
            mode: exclude(),
            patterns: Vec::new(),
            shared_files: Vec::new(),
            shared_dirs: Vec::new(),
        }
    }
}

/// `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksSection {
    /// Deploy host, repository cache, before export.
    #[serde(default)]
    pub pre_deploy: Vec<String>,
    /// Deploy host, build directory: the build.
    #[serde(default)]
    pub post_deploy: Vec<String>,
    /// Each host, release directory, before the switch.
    #[serde(default)]
    pub pre_release: Vec<String>,
    /// Each host, webroot, after the switch.
    #[serde(default)]
    pub post_release: Vec<String>,
    /// Each host, after a rollback switch.
    #[serde(default)]
    pub post_rollback: Vec<String>,
}

/// `[health_check]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// URL to GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// Command that must exit 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Attempts.
    #[serde(default = "three")]
    pub retries: u32,
    /// Seconds between attempts.
    #[serde(default = "two")]
    pub interval_secs: u64,
    /// Seconds per attempt.
    #[serde(default = "five_u64")]
    pub timeout_secs: u64,
}

/// `[strategy]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySection {
    /// Hosts prepared at once.
    #[serde(default = "ten")]
    pub parallelism: u32,
    /// `all` or `rolling`.
    #[serde(default = "all")]
    pub switch: String,
    /// Rolling batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// `abort` or `continue`.
    #[serde(default = "abort")]
    pub failure: String,
    /// Tolerated failed hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed: Option<u32>,
    /// Tolerated failed hosts, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed_percent: Option<u8>,
    /// SSH connect timeout.
    #[serde(default = "ten_u64")]
    pub connect_timeout_secs: u64,
    /// Command timeout.
    #[serde(default = "six_hundred")]
    pub command_timeout_secs: u64,
    /// Silence timeout.
    #[serde(default = "three_hundred")]
    pub silence_timeout_secs: u64,
}

impl Default for StrategySection {
    fn default() -> Self {
        Self::from(&DeployStrategy::default())
    }
}

/// `[approval]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSection {
    /// Tasks need approval.
    #[serde(default)]
    pub required: bool,
    /// Approver may not be the submitter.
    #[serde(default)]
    pub separate_approver: bool,
}

/// `[[notify]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// `webhook`, `dingtalk` or `email`.
    pub kind: String,
    /// URL (webhook, dingtalk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Environment variable holding the DingTalk signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Recipients (email).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// What converting a file needs from the outside: names to ids, and secrets.
pub trait Resolve {
    /// The environment id for a name (`None`: the space's default).
    fn environment(&self, name: Option<&str>) -> anyhow::Result<EnvironmentId>;
    /// The server id for a name.
    fn server(&self, name: &str) -> anyhow::Result<ServerId>;
    /// A secret from an environment variable.
    fn env_secret(&self, var: &str) -> anyhow::Result<Secret>;
    /// A secret from a file.
    fn file_secret(&self, path: &str) -> anyhow::Result<Secret>;
}

impl ProjectFile {
    /// Parses a project file.
    pub fn parse(text: &str) -> anyhow::Result<ProjectFile> {
        Ok(toml::from_str(text)?)
    }

    /// The file as TOML, with a header saying that secrets are left out.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(format!(
            "# Exported by `walle project export`. Secrets are never exported: add password_env,\n\
             # passphrase_env or secret_env to set them; an update without them keeps the stored ones.\n{}",
            toml::to_string(self)?
        ))
    }

    /// The settings this file describes. `existing` supplies secrets the file does not name.
    pub fn to_spec(
        &self,
        names: &dyn Resolve,
        existing: Option<&ProjectSpec>,
    ) -> anyhow::Result<ProjectSpec> {
        let f = self;
        let repo = RepoConfig {
            kind: match f.repo.kind.as_str() {
                "git" => RepoKind::Git,
                "svn" => RepoKind::Svn,
                k => return Err(usage(format!("repo.kind {k:?}: use \"git\" or \"svn\""))),
            },
            url: non_empty("repo.url", &f.repo.url)?,
            mode: match f.repo.mode.as_str() {
                "branch" => RepoMode::Branch,
                "tag" => RepoMode::Tag,
                m => return Err(usage(format!("repo.mode {m:?}: use \"branch\" or \"tag\""))),
            },
            credentials: credentials(
                f.repo.credentials.as_ref(),
                names,
                existing.map(|e| &e.repo.credentials),
            )?,
        };
        let filter = FileFilter {
            mode: match f.files.mode.as_str() {
                "exclude" => FilterMode::Exclude,
                "include" => FilterMode::Include,
                m => {
                    return Err(usage(format!(
                        "files.mode {m:?}: use \"exclude\" or \"include\""
                    )));
                }
            },
            patterns: f.files.patterns.clone(),
        };
        let shared = SharedPaths {
            files: rel_paths(&f.files.shared_files)?,
            dirs: rel_paths(&f.files.shared_dirs)?,
        };
        let hooks = Hooks {
            pre_deploy: lines(&f.hooks.pre_deploy),
            post_deploy: lines(&f.hooks.post_deploy),
            pre_release: lines(&f.hooks.pre_release),
            post_release: lines(&f.hooks.post_release),
            post_rollback: lines(&f.hooks.post_rollback),
        };
        let variables = f
            .variables
            .iter()
            .map(|(k, v)| {
                Ok(Variable {
                    name: VarName::new(k)?,
                    value: v.clone(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let servers = f
            .servers
            .iter()
            .map(|s| names.server(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let health_check = f.health_check.as_ref().map(health).transpose()?;
        let notify = NotifySettings {
            channels: f
                .notify
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    notify_channel(n, names, existing.and_then(|e| e.notify.channels.get(i)))
                })
                .collect::<anyhow::Result<_>>()?,
        };
        if f.deploy.keep == 0 {
            return Err(usage("deploy.keep must be at least 1"));
        }
        Ok(ProjectSpec {
            name: Name::new(&f.name)?,
            environment: names.environment(f.environment.as_deref())?,
            repo,
            webroot: AbsPath::new(&f.deploy.webroot)?,
            releases_dir: AbsPath::new(&f.deploy.releases_dir)?,
            keep_releases: f.deploy.keep,
            filter,
            shared,
            hooks,
            variables,
            servers,
            health_check,
            strategy: strategy(&f.strategy)?,
            require_approval: f.approval.required,
            separate_approver: f.approval.separate_approver,
            notify,
        })
    }

    /// The file for stored settings (without secrets).
    pub fn from_spec(spec: &ProjectSpec, environment: &str, servers: &[String]) -> ProjectFile {
        let credentials = match &spec.repo.credentials {
            RepoCredentials::None => None,
            RepoCredentials::SshKey { key_path, .. } => Some(CredentialsSection {
                ssh_key: Some(key_path.to_string()),
                ..CredentialsSection::default()
            }),
            RepoCredentials::Password { username, .. } => Some(CredentialsSection {
                username: Some(username.clone()),
                ..CredentialsSection::default()
            }),
        };
        ProjectFile {
            name: spec.name.to_string(),
            environment: Some(environment.to_owned()),
            servers: servers.to_vec(),
            repo: RepoSection {
                kind: match spec.repo.kind {
                    RepoKind::Git => "git",
                    RepoKind::Svn => "svn",
                }
                .to_owned(),
                url: spec.repo.url.clone(),
                mode: match spec.repo.mode {
                    RepoMode::Branch => "branch",
                    RepoMode::Tag => "tag",
                }
                .to_owned(),
                credentials,
            },
            deploy: DeploySection {
                webroot: spec.webroot.to_string(),
                releases_dir: spec.releases_dir.to_string(),
                keep: spec.keep_releases,
            },
            files: FilesSection {
                mode: match spec.filter.mode {
                    FilterMode::Exclude => "exclude",
                    FilterMode::Include => "include",
                }
                .to_owned(),
                patterns: spec.filter.patterns.clone(),
                shared_files: spec.shared.files.iter().map(|p| p.to_string()).collect(),
                shared_dirs: spec.shared.dirs.iter().map(|p| p.to_string()).collect(),
            },
            hooks: HooksSection {
                pre_deploy: spec.hooks.pre_deploy.clone(),
                post_deploy: spec.hooks.post_deploy.clone(),
                pre_release: spec.hooks.pre_release.clone(),
                post_release: spec.hooks.post_release.clone(),
                post_rollback: spec.hooks.post_rollback.clone(),
            },
            variables: spec
                .variables
                .iter()
                .map(|v| (v.name.to_string(), v.value.clone()))
                .collect(),
            health_check: spec.health_check.as_ref().map(|h| {
                let (http, command) = match &h.probe {
                    HealthProbe::Http { url } => (Some(url.clone()), None),
                    HealthProbe::Command { line } => (None, Some(line.clone())),
                };
                HealthSection {
                    http,
                    command,
                    retries: h.retries,
                    interval_secs: h.interval.as_secs(),
                    timeout_secs: h.timeout.as_secs(),
                }
            }),
            strategy: StrategySection::from(&spec.strategy),
            approval: ApprovalSection {
                required: spec.require_approval,
                separate_approver: spec.separate_approver,
            },
            notify: spec
                .notify
                .channels
                .iter()
                .map(|c| match c {
                    NotifyChannel::DingTalk { url, .. } => NotifySection {
                        kind: "dingtalk".into(),
                        url: Some(url.clone()),
                        secret_env: None,
                        to: Vec::new(),
                    },
                    NotifyChannel::Webhook { url } => NotifySection {
                        kind: "webhook".into(),
                        url: Some(url.clone()),
                        secret_env: None,
                        to: Vec::new(),
                    },
                    NotifyChannel::Email { to } => NotifySection {
                        kind: "email".into(),
                        url: None,
                        secret_env: None,
                        to: to.iter().map(|e| e.to_string()).collect(),
                    },
                })
                .collect(),
        }
    }
}

impl From<&DeployStrategy> for StrategySection {
    fn from(s: &DeployStrategy) -> Self {
        let (switch, batch_size) = match s.switch {
            SwitchMode::AllAtOnce => ("all", None),
            SwitchMode::Rolling { batch_size } => ("rolling", Some(batch_size)),
        };
        let (failure, max_failed, max_failed_percent) = match s.failure {
            FailurePolicy::AbortAll => ("abort", None, None),
            FailurePolicy::Continue => ("continue", None, None),
            FailurePolicy::MaxFailCount(n) => ("abort", Some(n), None),
            FailurePolicy::MaxFailPercent(p) => ("abort", None, Some(p)),
        };
        StrategySection {
            parallelism: s.parallelism,
            switch: switch.to_owned(),
            batch_size,
            failure: failure.to_owned(),
            max_failed,
            max_failed_percent,
            connect_timeout_secs: s.connect_timeout.as_secs(),
            command_timeout_secs: s.command_timeout.as_secs(),
            silence_timeout_secs: s.silence_timeout.as_secs(),
        }
    }
}

fn strategy(s: &StrategySection) -> anyhow::Result<DeployStrategy> {
    if s.parallelism == 0 {
        return Err(usage("strategy.parallelism must be at least 1"));
    }
    let switch = match (s.switch.as_str(), s.batch_size) {
        ("all", _) => SwitchMode::AllAtOnce,
        ("rolling", Some(n)) if n >= 1 => SwitchMode::Rolling { batch_size: n },
        ("rolling", _) => return Err(usage("strategy.switch = \"rolling\" needs batch_size >= 1")),
        (m, _) => {
            return Err(usage(format!(
                "strategy.switch {m:?}: use \"all\" or \"rolling\""
            )));
        }
    };
    let failure = match (s.failure.as_str(), s.max_failed, s.max_failed_percent) {
        (_, Some(_), Some(_)) => {
            return Err(usage(
                "give strategy.max_failed or max_failed_percent, not both",
            ));
        }
        ("abort", Some(n), None) => FailurePolicy::MaxFailCount(n),
        ("abort", None, Some(p)) if p <= 100 => FailurePolicy::MaxFailPercent(p),
        ("abort", None, Some(_)) => {
            return Err(usage("strategy.max_failed_percent must be 0 to 100"));
        }
        ("abort", None, None) => FailurePolicy::AbortAll,
        ("continue", None, None) => FailurePolicy::Continue,
        ("continue", _, _) => {
            return Err(usage("strategy.failure = \"continue\" takes no max_failed"));
        }
        (m, _, _) => {
            return Err(usage(format!(
                "strategy.failure {m:?}: use \"abort\" or \"continue\""
            )));
        }
    };
    Ok(DeployStrategy {
        parallelism: s.parallelism,
        switch,
        failure,
        connect_timeout: Duration::from_secs(s.connect_timeout_secs.max(1)),
        command_timeout: Duration::from_secs(s.command_timeout_secs.max(1)),
        silence_timeout: Duration::from_secs(s.silence_timeout_secs.max(1)),
    })
}

fn health(h: &HealthSection) -> anyhow::Result<HealthCheck> {
    let probe = match (&h.http, &h.command) {
        (Some(url), None) => HealthProbe::Http {
            url: non_empty("health_check.http", url)?,
        },
        (None, Some(line)) => HealthProbe::Command {
            line: non_empty("health_check.command", line)?,
        },
        _ => return Err(usage("health_check needs exactly one of http or command")),
    };
    Ok(HealthCheck {
        probe,
        retries: h.retries.max(1),
        interval: Duration::from_secs(h.interval_secs),
        timeout: Duration::from_secs(h.timeout_secs.max(1)),
    })
}

fn credentials(
    c: Option<&CredentialsSection>,
    names: &dyn Resolve,
    existing: Option<&RepoCredentials>,
) -> anyhow::Result<RepoCredentials> {
    let Some(c) = c else {
        return Ok(RepoCredentials::None);
    };
    match (&c.ssh_key, &c.username) {
        (Some(_), Some(_)) => Err(usage(
            "repo.credentials: give ssh_key or username, not both",
        )),
        (Some(key), None) => {
            let passphrase = match &c.passphrase_env {
                Some(var) => Some(names.env_secret(var)?),
                None => match existing {
                    Some(RepoCredentials::SshKey { passphrase, .. }) => passphrase.clone(),
                    _ => None,
                },
            };
            Ok(RepoCredentials::SshKey {
                key_path: AbsPath::new(key)?,
                passphrase,
            })
        }
        (None, Some(user)) => {
            let password = match (&c.password_env, &c.password_file) {
                (Some(_), Some(_)) => {
                    return Err(usage(
                        "repo.credentials: give password_env or password_file, not both",
                    ));
                }
                (Some(var), None) => names.env_secret(var)?,
                (None, Some(path)) => names.file_secret(path)?,
                (None, None) => match existing {
                    Some(RepoCredentials::Password { password, .. }) => password.clone(),
                    _ => {
                        return Err(usage(
                            "repo.credentials: username needs password_env or password_file",
                        ));
                    }
                },
            };
            Ok(RepoCredentials::Password {
                username: non_empty("repo.credentials.username", user)?,
                password,
            })
        }
        (None, None) => Ok(RepoCredentials::None),
    }
}

fn notify_channel(
    n: &NotifySection,
    names: &dyn Resolve,
    existing: Option<&NotifyChannel>,
) -> anyhow::Result<NotifyChannel> {
    let url = || {
        n.url
            .clone()
            .ok_or_else(|| usage(format!("notify kind {:?} needs a url", n.kind)))
    };
    Ok(match n.kind.as_str() {
        "webhook" => NotifyChannel::Webhook { url: url()? },
        "dingtalk" => NotifyChannel::DingTalk {
            url: url()?,
            secret: match &n.secret_env {
                Some(var) => Some(names.env_secret(var)?),
                None => match existing {
                    Some(NotifyChannel::DingTalk { secret, .. }) => secret.clone(),
                    _ => None,
                },
            },
        },
        "email" => NotifyChannel::Email {
            to: n
                .to
                .iter()
                .map(|e| Email::new(e))
                .collect::<Result<_, _>>()?,
        },
        k => {
            return Err(usage(format!(
                "notify kind {k:?}: use \"webhook\", \"dingtalk\" or \"email\""
            )));
        }
    })
}

fn rel_paths(raw: &[String]) -> anyhow::Result<Vec<RelPath>> {
    Ok(raw
        .iter()
        .map(|p| RelPath::new(p))
        .collect::<Result<_, _>>()?)
}

fn lines(raw: &[String]) -> Vec<String> {
    raw.iter().flat_map(|l| Hooks::lines(l)).collect()
}

fn non_empty(what: &str, v: &str) -> anyhow::Result<String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(usage(format!("{what} must not be empty")));
    }
    Ok(t.to_owned())
}

fn git() -> String {
    "git".into()
}
fn branch() -> String {
    "branch".into()
}
fn exclude() -> String {
    "exclude".into()
}
fn all() -> String {
    "all".into()
}
fn abort() -> String {
    "abort".into()
}
fn five() -> u32 {
    5
}
fn three() -> u32 {
    3
}
fn ten() -> u32 {
    10
}
fn two() -> u64 {
    2
}
fn five_u64() -> u64 {
    5
}
fn ten_u64() -> u64 {
    10
}
fn six_hundred() -> u64 {
    600
}
fn three_hundred() -> u64 {
    300
}

#[cfg(test)]
mod tests;
