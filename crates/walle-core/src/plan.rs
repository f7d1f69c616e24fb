//! The deploy plan: a pure function from project settings, a task and the chosen servers to an
//! explicit, inspectable list of steps. The engine executes it; `--dry-run` prints it.

pub mod commands;
mod vars;

use std::fmt::Write as _;

use crate::layout::{LayoutError, ReleaseLayout};
use crate::model::{
    DeployStrategy, FailurePolicy, FileFilter, FilterMode, HealthCheck, Project, RepoKind, Server,
    SwitchMode, Task, TaskKind, TaskSource,
};
use crate::ports::{HostTarget, RepoHandle, Revision};
use crate::shell::Command;
use crate::value::{AbsPath, CommitId, ReleaseId, VarName};
use crate::{ServerId, Timestamp};

pub use vars::{VarInput, hook_variables};

/// What a plan is built from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The project.
    pub project: &'a Project,
    /// The task (deploy or rollback).
    pub task: &'a Task,
    /// The servers to deploy to (already narrowed, e.g. to the failed hosts of a retry).
    pub servers: &'a [Server],
    /// The release id (for a rollback: the target release).
    pub release: &'a ReleaseId,
    /// The commit, once resolved (`None` in a dry run before resolving).
    pub commit: Option<&'a CommitId>,
    /// `DEPLOY_USER`.
    pub deploy_user: &'a str,
    /// The repository cache directory on the deploy host.
    pub cache_dir: &'a AbsPath,
    /// The build directory on the deploy host.
    pub build_dir: &'a AbsPath,
    /// When the deploy starts.
    pub now: Timestamp,
}

/// Why no plan could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The project's paths are unusable.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// No servers to deploy to.
    #[error("the task has no servers to deploy to; pick at least one of the project's servers")]
    NoServers,
    /// A chosen server is not one of the project's servers.
    #[error("server {0} is not a server of this project; add it to the project first")]
    ForeignServer(ServerId),
}

/// The deploy-host part of a deploy (absent for a rollback, which ships nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalPlan {
    /// The repository.
    pub repo: RepoHandle,
    /// What to resolve to an exact commit.
    pub revision: Revision,
    /// Cache directory (pre-deploy hooks run here).
    pub cache_dir: AbsPath,
    /// Build directory (the export lands here; build hooks run here).
    pub build_dir: AbsPath,
    /// Pre-deploy hook commands.
    pub pre_deploy: Vec<Command>,
    /// The package filter.
    pub filter: FileFilter,
    /// Build hook commands (walle's post-deploy).
    pub build: Vec<Command>,
}

/// The per-host part of a deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPlan {
    /// The server.
    pub server: ServerId,
    /// Its display name.
    pub name: String,
    /// Where to connect.
    pub target: HostTarget,
    /// Directories to create first.
    pub prepare: Command,
    /// The release directory.
    pub release_dir: AbsPath,
    /// Shared-path links (run in order after unpacking): what is linked, and the command.
    pub link_shared: Vec<(String, Command)>,
    /// Pre-release hook commands (in the release directory).
    pub pre_release: Vec<Command>,
    /// Health probe after the switch.
    pub health: Option<Command>,
    /// Post-release (or post-rollback) hook commands (in the webroot).
    pub post_release: Vec<Command>,
}

/// Deploy or rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanKind {
    /// Build, ship, switch.
    Deploy,
    /// Switch back to a kept release.
    Rollback,
}

/// An explicit deploy plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployPlan {
    /// Deploy or rollback.
    pub kind: PlanKind,
    /// The release (for a rollback, the target).
    pub release: ReleaseId,
    /// Paths on the hosts.
    pub layout: ReleaseLayout,
    /// The hook environment.
    pub variables: Vec<(VarName, String)>,
    /// Deploy-host steps (`None` for a rollback).
    pub local: Option<LocalPlan>,
    /// Per-host steps, in server order.
    pub hosts: Vec<HostPlan>,
    /// Strategy.
    pub strategy: DeployStrategy,
    /// The health check settings.
    pub health: Option<HealthCheck>,
    /// Releases kept per host.
    pub keep: u32,
}

/// Builds the plan.
pub fn build_plan(input: PlanInput<'_>) -> Result<DeployPlan, PlanError> {
    let PlanInput {
        project,
        task,
        servers,
        release,
        commit,
        deploy_user,
        cache_dir,
        build_dir,
        now,
    } = input;
    let spec = &project.spec;
    if servers.is_empty() {
        return Err(PlanError::NoServers);
    }
    if let Some(s) = servers.iter().find(|s| !spec.servers.contains(&s.id)) {
        return Err(PlanError::ForeignServer(s.id));
    }
    let layout = ReleaseLayout::new(&spec.webroot, &spec.releases_dir)?;
    let release_dir = layout.release_dir(release);
    let variables = hook_variables(VarInput {
        project,
        task,
        release,
        release_dir: &release_dir,
        commit,
        deploy_user,
        now,
    });
    let is_rollback = matches!(task.kind, TaskKind::Rollback { .. });
    let local = (!is_rollback).then(|| LocalPlan {
        repo: RepoHandle {
            project: project.id,
            config: spec.repo.clone(),
        },
        revision: match (&task.spec.source, commit) {
            (_, Some(c)) => Revision::Commit(c.clone()),
            (
                TaskSource::Branch {
                    commit: Some(c), ..
                },
                None,
            ) => Revision::Commit(c.clone()),
            (
                TaskSource::Branch {
                    branch,
                    commit: None,
                },
                None,
            ) => Revision::Branch(branch.clone()),
            (TaskSource::Tag { tag }, None) => Revision::Tag(tag.clone()),
        },
        cache_dir: cache_dir.clone(),
        build_dir: build_dir.clone(),
        pre_deploy: spec
            .hooks
            .pre_deploy
            .iter()
            .map(|l| commands::hook(l, cache_dir, &variables))
            .collect(),
        filter: spec.filter.clone(),
        build: spec
            .hooks
            .post_deploy
            .iter()
            .map(|l| commands::hook(l, build_dir, &variables))
            .collect(),
    });
    let post_lines = if is_rollback && !spec.hooks.post_rollback.is_empty() {
        &spec.hooks.post_rollback
    } else {
        &spec.hooks.post_release
    };
    let hosts = servers
        .iter()
        .map(|s| HostPlan {
            server: s.id,
            name: s.spec.name.to_string(),
            target: HostTarget {
                server: Some(s.id),
                host: s.spec.host.clone(),
                port: s.spec.port,
                user: s.spec.user.clone(),
            },
            prepare: commands::mkdirs(&[
                layout.releases_dir(),
                &layout.shared_dir(),
                &layout.meta_dir(),
            ]),
            release_dir: release_dir.clone(),
            link_shared: if is_rollback {
                Vec::new()
            } else {
                let shared = layout.shared_dir();
                spec.shared
                    .dirs
                    .iter()
                    .map(|d| {
                        let label = format!("directory {d} -> {}", layout.shared_path(d));
                        (label, commands::link_shared_dir(&shared, &release_dir, d))
                    })
                    .chain(spec.shared.files.iter().map(|f| {
                        let label = format!("file {f} -> {}", layout.shared_path(f));
                        (label, commands::link_shared_file(&shared, &release_dir, f))
                    }))
                    .collect()
            },
            pre_release: spec
                .hooks
                .pre_release
                .iter()
                .map(|l| commands::hook(l, &release_dir, &variables))
                .collect(),
            health: spec
                .health_check
                .as_ref()
                .map(|h| commands::health_probe(&h.probe, layout.webroot(), h.timeout, &variables)),
            post_release: post_lines
                .iter()
                .map(|l| commands::hook(l, layout.webroot(), &variables))
                .collect(),
        })
        .collect();
    Ok(DeployPlan {
        kind: if is_rollback {
            PlanKind::Rollback
        } else {
            PlanKind::Deploy
        },
        release: release.clone(),
        layout,
        variables,
        local,
        hosts,
        strategy: spec.strategy.clone(),
        health: spec.health_check.clone(),
        keep: spec.keep_releases.max(1),
    })
}

impl DeployPlan {
    /// The plan as readable text (what `--dry-run` prints).
    pub fn render(&self) -> String {
        let mut o = String::new();
        let kind = match self.kind {
            PlanKind::Deploy => "deploy",
            PlanKind::Rollback => "rollback to",
        };
        let _ = writeln!(o, "{kind} release {}", self.release);
        let _ = writeln!(
            o,
            "  webroot   {} -> {}",
            self.layout.webroot(),
            self.layout.release_dir(&self.release)
        );
        let _ = writeln!(
            o,
            "  releases  {} (keep {})",
            self.layout.releases_dir(),
            self.keep
        );
        let _ = writeln!(o, "  strategy  {}", describe_strategy(&self.strategy));
        if let Some(h) = &self.health {
            let _ = writeln!(
                o,
                "  health    {} attempt(s), {:?} apart, {:?} each",
                h.retries.max(1),
                h.interval,
                h.timeout
            );
        }
        let _ = writeln!(o, "variables");
        for (k, v) in &self.variables {
            let _ = writeln!(o, "  {k}={}", crate::shell::quote(v));
        }
        if let Some(l) = &self.local {
            let _ = writeln!(o, "on the deploy host");
            let kind = match l.repo.config.kind {
                RepoKind::Git => "git",
                RepoKind::Svn => "svn",
            };
            let _ = writeln!(
                o,
                "  fetch {kind} {} into {}",
                l.repo.config.url, l.cache_dir
            );
            let rev = match &l.revision {
                Revision::Branch(b) => format!("head of branch {b}"),
                Revision::Tag(t) => format!("tag {t}"),
                Revision::Commit(c) => format!("commit {c}"),
            };
            let _ = writeln!(o, "  resolve {rev}");
            for c in &l.pre_deploy {
                let _ = writeln!(o, "  pre-deploy: {}", c.display());
            }
            let filter = match (l.filter.mode, l.filter.patterns.is_empty()) {
                (_, true) => "everything".to_owned(),
                (FilterMode::Exclude, false) => {
                    format!("excluding {}", l.filter.patterns.join(", "))
                }
                (FilterMode::Include, false) => format!("only {}", l.filter.patterns.join(", ")),
            };
            let _ = writeln!(
                o,
                "  export into {} ({filter}; never .git/.svn)",
                l.build_dir
            );
            for c in &l.build {
                let _ = writeln!(o, "  build: {}", c.display());
            }
            let _ = writeln!(o, "  package with a SHA-256 manifest");
        }
        for h in &self.hosts {
            let _ = writeln!(o, "on {} ({})", h.name, h.target);
            let _ = writeln!(
                o,
                "  connect, verify host key, lock {}",
                self.layout.lock_file()
            );
            let _ = writeln!(o, "  {}", h.prepare.display());
            if self.kind == PlanKind::Deploy {
                let _ = writeln!(
                    o,
                    "  upload into {} (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums",
                    h.release_dir
                );
            } else {
                let _ = writeln!(o, "  check that {} is still on the host", h.release_dir);
            }
            for (label, _) in &h.link_shared {
                let _ = writeln!(o, "  link shared {label}");
            }
            for c in &h.pre_release {
                let _ = writeln!(o, "  pre-release: {}", c.display());
            }
            let _ = writeln!(o, "  -- barrier: every host prepared --");
            let _ = writeln!(
                o,
                "  switch {} -> {} (atomic rename, verified)",
                self.layout.webroot(),
                h.release_dir
            );
            if let Some(c) = &h.health {
                let _ = writeln!(o, "  health check: {}", c.display());
            }
            for c in &h.post_release {
                let _ = writeln!(o, "  post-release: {}", c.display());
            }
            let _ = writeln!(
                o,
                "  record in {}, clean up beyond {} releases, unlock",
                self.layout.ledger_file(),
                self.keep
            );
        }
        o
    }
}

fn describe_strategy(s: &DeployStrategy) -> String {
    let switch = match s.switch {
        SwitchMode::AllAtOnce => "switch all hosts at once".to_owned(),
        SwitchMode::Rolling { batch_size } => format!("switch in batches of {batch_size}"),
    };
    let failure = match s.failure {
        FailurePolicy::AbortAll => "any failure aborts all".to_owned(),
        FailurePolicy::Continue => "failures continue".to_owned(),
        FailurePolicy::MaxFailCount(n) => format!("tolerate {n} failed host(s)"),
        FailurePolicy::MaxFailPercent(p) => format!("tolerate {p}% failed hosts"),
    };
    format!(
        "prepare {} host(s) at a time, {switch}, {failure}",
        s.parallelism
    )
}

#[cfg(test)]
mod tests;
