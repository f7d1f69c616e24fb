//! Creating tasks: validating a submitted spec, and creating rollback tasks.

use super::{Action, Actor, ApprovalPolicy, TaskEvent, TransitionError};
use crate::model::{
    Environment, OpenStatus, Project, RepoMode, Space, Task, TaskKind, TaskSource, TaskSpec,
    TaskStatus,
};
use crate::ports::NewTask;
use crate::value::{Name, ReleaseId};
use crate::{ProjectId, ServerId, TaskId, Timestamp};

/// The project a task belongs to, with its space and environment (which may be closed).
#[derive(Debug, Clone, Copy)]
pub struct TaskContext<'a> {
    /// The project's space.
    pub space: &'a Space,
    /// The project's environment.
    pub environment: &'a Environment,
    /// The project.
    pub project: &'a Project,
}

/// A task to store, with the events of its creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The task, for [`TaskStore::create_task`](crate::ports::TaskStore::create_task).
    pub task: NewTask,
    /// What happened, in order.
    pub events: Vec<TaskEvent>,
}

/// Why a task spec does not fit its project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The server list is empty.
    #[error("a task needs at least one server; pick servers of project {project}")]
    NoServers {
        /// The project.
        project: ProjectId,
    },
    /// A server is not one of the project's servers.
    #[error(
        "server {server} is not a server of project {project}; pick among servers {}",
        servers(allowed)
    )]
    ForeignServer {
        /// The foreign server.
        server: ServerId,
        /// The project.
        project: ProjectId,
        /// The project's servers.
        allowed: Vec<ServerId>,
    },
    /// A server is listed twice.
    #[error("server {server} is listed twice")]
    DuplicateServer {
        /// The repeated server.
        server: ServerId,
    },
    /// A branch was given to a tag-mode project, or a tag to a branch-mode project.
    #[error("project {project} deploys {}; the task names {given}", mode_noun(*mode))]
    SourceMismatch {
        /// The project.
        project: ProjectId,
        /// The project's mode.
        mode: RepoMode,
        /// What the task names, e.g. `branch 'main'`.
        given: String,
    },
    /// The space or environment is closed.
    #[error("{what} {name:?} is closed and accepts no new tasks")]
    Closed {
        /// `space` or `environment`.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// The project, space, environment and task given together do not belong together
    /// (a caller bug).
    #[error("inconsistent task context: {detail}")]
    WrongContext {
        /// What does not match.
        detail: String,
    },
}

/// Why a rollback task cannot be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    /// The task it is created from has not finished.
    #[error(transparent)]
    NotFinished(#[from] TransitionError),
    /// The target release is not kept on the hosts any more (or never was).
    #[error(
        "release {target} is not kept on the servers (kept: {}); it was cleaned up or never deployed",
        list(kept)
    )]
    NotKept {
        /// The requested release.
        target: ReleaseId,
        /// The kept releases.
        kept: Vec<ReleaseId>,
    },
    /// The target release is live already.
    #[error("release {target} is already live; there is nothing to roll back to")]
    AlreadyLive {
        /// The requested release.
        target: ReleaseId,
    },
    /// The target release belongs to another project.
    #[error("release {target} belongs to project {}, not project {project}", target.project())]
    ForeignRelease {
        /// The requested release.
        target: ReleaseId,
        /// The project of the rollback.
        project: ProjectId,
    },
    /// The task given as the builder of the target did not build or switch to it (a caller bug).
    #[error("task {task} did not deploy release {target}")]
    NotBuiltBy {
        /// The requested release.
        target: ReleaseId,
        /// The task given as its builder.
        task: TaskId,
    },
    /// The servers no longer fit the project, or the project is closed.
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// What a rollback returns to.
#[derive(Debug, Clone, Copy)]
pub struct RollbackRequest<'a> {
    /// The finished task whose servers are rolled back (the new task's parent).
    pub from: &'a Task,
    /// The release to return to.
    pub target: &'a ReleaseId,
    /// The task that deployed `target`; its version (branch and commit, or tag) is copied.
    pub built_by: &'a Task,
    /// The releases kept on the servers (present on every one of them).
    pub kept: &'a [ReleaseId],
    /// The release live on the servers now, if known.
    pub live: Option<&'a ReleaseId>,
}

/// Creates a deploy task: checks the spec against the project, then starts it as submitted, or as
/// approved when the project requires no approval.
pub fn new_task(
    ctx: &TaskContext<'_>,
    spec: TaskSpec,
    submitter: &Actor,
    now: Timestamp,
) -> Result<Created, SpecError> {
    check_context(ctx)?;
    check_spec(ctx, &spec, &TaskKind::Deploy)?;
    Ok(created(
        ctx,
        spec,
        TaskKind::Deploy,
        None,
        submitter,
        Vec::new(),
        now,
    ))
}

/// Creates a rollback task from a finished task: same servers, the version of `target`, named
/// `"<original name> (rollback to <release>)"`, submitted or approved like any new task.
pub fn rollback_task(
    ctx: &TaskContext<'_>,
    req: RollbackRequest<'_>,
    by: &Actor,
    now: Timestamp,
) -> Result<Created, RollbackError> {
    let RollbackRequest {
        from,
        target,
        built_by,
        kept,
        live,
    } = req;
    check_context(ctx)?;
    check_same_project(ctx, from)?;
    check_same_project(ctx, built_by)?;
    if !Action::Rollback.allowed_in(from.status) {
        return Err(TransitionError::not_allowed(from, Action::Rollback).into());
    }
    let project = ctx.project.id;
    if target.project() != project {
        return Err(RollbackError::ForeignRelease {
            target: target.clone(),
            project,
        });
    }
    if built_by.release.as_ref() != Some(target) {
        return Err(RollbackError::NotBuiltBy {
            target: target.clone(),
            task: built_by.id,
        });
    }
    if live == Some(target) {
        return Err(RollbackError::AlreadyLive {
            target: target.clone(),
        });
    }
    if !kept.contains(target) {
        return Err(RollbackError::NotKept {
            target: target.clone(),
            kept: kept.to_vec(),
        });
    }
    let source = match &built_by.spec.source {
        TaskSource::Branch { branch, commit } => TaskSource::Branch {
            branch: branch.clone(),
            commit: built_by.commit.clone().or_else(|| commit.clone()),
        },
        tag @ TaskSource::Tag { .. } => tag.clone(),
    };
    let spec = TaskSpec {
        name: rollback_name(&from.spec.name, target),
        source,
        servers: from.spec.servers.clone(),
    };
    let kind = TaskKind::Rollback {
        target: target.clone(),
    };
    check_spec(ctx, &spec, &kind)?;
    let first = vec![TaskEvent::RollbackCreated {
        by: by.clone(),
        from: from.id,
        target: target.clone(),
    }];
    Ok(created(ctx, spec, kind, Some(from.id), by, first, now))
}

/// Checks a spec against the project: open space and environment, a non-empty subset of the
/// project's servers without repeats, and (for deploys) a source that matches the repository mode.
/// Rollback tasks do not build, so their source is not checked against the mode.
pub(super) fn check_spec(
    ctx: &TaskContext<'_>,
    spec: &TaskSpec,
    kind: &TaskKind,
) -> Result<(), SpecError> {
    if ctx.space.status == OpenStatus::Closed {
        return Err(SpecError::Closed {
            what: "space",
            name: ctx.space.name.to_string(),
        });
    }
    if ctx.environment.status == OpenStatus::Closed {
        return Err(SpecError::Closed {
            what: "environment",
            name: ctx.environment.name.to_string(),
        });
    }
    let project = ctx.project.id;
    if spec.servers.is_empty() {
        return Err(SpecError::NoServers { project });
    }
    let allowed = &ctx.project.spec.servers;
    for (i, server) in spec.servers.iter().enumerate() {
        if !allowed.contains(server) {
            return Err(SpecError::ForeignServer {
                server: *server,
                project,
                allowed: allowed.clone(),
            });
        }
        if spec.servers[..i].contains(server) {
            return Err(SpecError::DuplicateServer { server: *server });
        }
    }
    if *kind == TaskKind::Deploy {
        let mode = ctx.project.spec.repo.mode;
        let given = match (&spec.source, mode) {
            (TaskSource::Branch { .. }, RepoMode::Branch)
            | (TaskSource::Tag { .. }, RepoMode::Tag) => None,
            (TaskSource::Branch { branch, .. }, RepoMode::Tag) => {
                Some(format!("branch '{branch}'"))
            }
            (TaskSource::Tag { tag }, RepoMode::Branch) => Some(format!("tag '{tag}'")),
        };
        if let Some(given) = given {
            return Err(SpecError::SourceMismatch {
                project,
                mode,
                given,
            });
        }
    }
    Ok(())
}

/// Checks that the task belongs to the context's project.
pub(super) fn check_same_project(ctx: &TaskContext<'_>, task: &Task) -> Result<(), SpecError> {
    if task.project != ctx.project.id {
        return Err(SpecError::WrongContext {
            detail: format!(
                "task {} belongs to project {}, not project {}",
                task.id, task.project, ctx.project.id
            ),
        });
    }
    Ok(())
}

/// The events of a (re)submission: `Submitted`, plus `AutoApproved` without approval.
pub(super) fn submission_events(policy: ApprovalPolicy, by: &Actor) -> Vec<TaskEvent> {
    let mut events = vec![TaskEvent::Submitted { by: by.clone() }];
    if policy.initial_status() == TaskStatus::Approved {
        events.push(TaskEvent::AutoApproved);
    }
    events
}

fn check_context(ctx: &TaskContext<'_>) -> Result<(), SpecError> {
    let (space, env, project) = (ctx.space, ctx.environment, ctx.project);
    let detail = if project.space != space.id {
        format!(
            "project {} is in space {}, not {}",
            project.id, project.space, space.id
        )
    } else if project.spec.environment != env.id {
        format!(
            "project {} deploys to environment {}, not {}",
            project.id, project.spec.environment, env.id
        )
    } else if env.space != space.id {
        format!(
            "environment {} is in space {}, not {}",
            env.id, env.space, space.id
        )
    } else {
        return Ok(());
    };
    Err(SpecError::WrongContext { detail })
}

fn created(
    ctx: &TaskContext<'_>,
    spec: TaskSpec,
    kind: TaskKind,
    parent: Option<TaskId>,
    submitter: &Actor,
    mut events: Vec<TaskEvent>,
    now: Timestamp,
) -> Created {
    let policy = ApprovalPolicy::of(&ctx.project.spec);
    events.extend(submission_events(policy, submitter));
    Created {
        task: NewTask {
            project: ctx.project.id,
            spec,
            kind,
            status: policy.initial_status(),
            submitter: submitter.user,
            parent,
            created_at: now,
        },
        events,
    }
}

/// `"<name> (rollback to <release>)"`, with the original name shortened (ending in `…`) when the
/// result would exceed the 100 characters a name may have.
fn rollback_name(original: &Name, target: &ReleaseId) -> Name {
    const MAX: usize = 100;
    let suffix = format!(" (rollback to {target})");
    let room = MAX.saturating_sub(suffix.chars().count());
    let name = original.as_str();
    let head: String = if name.chars().count() <= room {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(room.saturating_sub(1)).collect();
        s.push('…');
        s
    };
    // Both parts are validated (no control characters) and the length is bounded, so this holds;
    // the fallback only guards against a future change of the name rules.
    Name::new(&format!("{head}{suffix}")).unwrap_or_else(|_| original.clone())
}

fn mode_noun(mode: RepoMode) -> &'static str {
    match mode {
        RepoMode::Branch => "branches (branch mode); pick a branch and commit",
        RepoMode::Tag => "tags (tag mode); pick a tag",
    }
}

fn servers(ids: &[ServerId]) -> String {
    if ids.is_empty() {
        return "(none: add servers to the project first)".to_owned();
    }
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(ids: &[ReleaseId]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter()
        .map(ReleaseId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
