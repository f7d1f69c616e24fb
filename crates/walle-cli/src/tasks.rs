//! `walle task ...`: creating, reviewing, deploying, cancelling, rolling back and reading tasks.

use std::collections::BTreeMap;

use serde::Serialize;
use walle_core::lifecycle::{
    ApprovalPolicy, RollbackRequest, TaskContext, new_task, rollback_task,
};
use walle_core::model::{
    HostOutcome, LedgerStatus, Page, Project, Space, Task, TaskKind, TaskSource, TaskSpec,
    TaskStatus,
};
use walle_core::ports::TaskFilter;
use walle_core::value::{CommitId, Name, RefName, ReleaseId};
use walle_core::{ServerId, TaskId};
use walle_rbac::{Action, Resource};

use crate::args::{TaskCmd, TaskCreateArgs};
use crate::context::{Acting, Ctx};
use crate::error::{CliError, not_found, usage};
use crate::output::{Mode, Report, table};

/// A task as shown.
#[derive(Debug, Serialize)]
pub struct TaskView {
    /// Id.
    pub id: i64,
    /// Project id.
    pub project: i64,
    /// Project name.
    pub project_name: String,
    /// Title.
    pub title: String,
    /// `deploy` or `rollback`.
    pub kind: &'static str,
    /// Rollback target release.
    pub rollback_to: Option<String>,
    /// Status.
    pub status: &'static str,
    /// Branch.
    pub branch: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// The commit asked for or resolved.
    pub commit: Option<String>,
    /// The release created or switched to.
    pub release: Option<String>,
    /// Server names.
    pub servers: Vec<String>,
    /// Submitter e-mail.
    pub submitter: String,
    /// Reviewer e-mail and comment.
    pub reviewer: Option<(String, String)>,
    /// Parent task.
    pub parent: Option<i64>,
    /// Deploy attempts.
    pub attempts: u32,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Per-host outcome of the last deploy.
    pub hosts: Vec<HostView>,
}

/// One host's outcome.
#[derive(Debug, Serialize)]
pub struct HostView {
    /// Server name.
    pub server: String,
    /// State.
    pub state: &'static str,
    /// Release live before.
    pub previous: Option<String>,
    /// Release live now.
    pub live: Option<String>,
    /// Error.
    pub error: Option<String>,
}

/// Runs a `walle task` command.
pub fn run(ctx: &Ctx, cmd: &TaskCmd, mode: Mode) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    match cmd {
        TaskCmd::Create(args) => {
            let task = create(ctx, &who, args)?;
            let v = view(ctx, &task)?;
            let text = created_text(&v);
            Ok(Report::new(&v, text))
        }
        TaskCmd::List {
            project,
            status,
            mine,
            limit,
        } => list(ctx, &who, project.as_deref(), status, *mine, *limit),
        TaskCmd::Show { id } => {
            let task = ctx.task(*id)?;
            let (_, res) = ctx.task_resource(&task)?;
            ctx.check(&who, Action::TaskView, &res)?;
            let v = view(ctx, &task)?;
            let text = show_text(&v);
            Ok(Report::new(&v, text))
        }
        TaskCmd::Approve { id, comment } => {
            let task = ctx.task(*id)?;
            let task = approve(ctx, &who, &task, comment)?;
            let v = view(ctx, &task)?;
            let text = format!("approved task {} ({})", v.id, v.title);
            Ok(Report::new(&v, text))
        }
        TaskCmd::Reject { id, comment } => {
            let task = ctx.task(*id)?;
            let (_, res) = ctx.task_resource(&task)?;
            ctx.check(&who, Action::TaskReject, &res)?;
            let t = task.reject(&who.actor(), comment, ctx.now())?;
            let task = ctx.store.update_task(&t.task, t.from)?;
            ctx.audit(
                &who,
                Action::TaskReject,
                format!("task:{}", task.id),
                comment.clone(),
            );
            let v = view(ctx, &task)?;
            let text = format!("rejected task {} ({})", v.id, v.title);
            Ok(Report::new(&v, text))
        }
        TaskCmd::Deploy { id, dry_run, full } => {
            let task = ctx.task(*id)?;
            let (_, res) = ctx.task_resource(&task)?;
            ctx.check(&who, Action::TaskDeploy, &res)?;
            if *dry_run {
                return crate::deploy::dry_run(ctx, &who, &task);
            }
            crate::deploy::run(ctx, &who, &task, false, *full, mode)
        }
        TaskCmd::Retry { id } => {
            let task = ctx.task(*id)?;
            let (_, res) = ctx.task_resource(&task)?;
            ctx.check(&who, Action::TaskRetry, &res)?;
            crate::deploy::run(ctx, &who, &task, true, false, mode)
        }
        TaskCmd::Cancel { id } => cancel(ctx, &who, *id),
        TaskCmd::Rollback { id, to, no_deploy } => {
            let from = ctx.task(*id)?;
            let task = create_rollback(ctx, &who, &from, to.as_deref())?;
            if *no_deploy {
                let v = view(ctx, &task)?;
                let text = created_text(&v);
                return Ok(Report::new(&v, text));
            }
            deploy_created(ctx, &who, task, false, mode)
        }
        TaskCmd::Logs { id, follow } => crate::logs::run(ctx, &who, *id, *follow, mode),
        TaskCmd::Delete { id } => {
            let task = ctx.task(*id)?;
            let (_, res) = ctx.task_resource(&task)?;
            ctx.check(&who, Action::TaskDelete, &res)?;
            task.delete(&who.actor())?;
            ctx.store.delete_task(task.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::TaskDelete,
                format!("task:{}", task.id),
                String::new(),
            );
            Ok(Report::new(
                &serde_json::json!({ "deleted": task.id.get() }),
                format!("deleted task {}", task.id),
            ))
        }
    }
}

/// The space, environment and project of a task, for the lifecycle.
pub struct Scope {
    /// Space.
    pub space: Space,
    /// Environment.
    pub environment: walle_core::model::Environment,
    /// Project.
    pub project: Project,
}

impl Scope {
    /// Loads the scope of a project.
    pub fn of(ctx: &Ctx, project: Project) -> anyhow::Result<Scope> {
        Ok(Scope {
            space: ctx.store.space(project.space)?,
            environment: ctx.store.environment(project.spec.environment)?,
            project,
        })
    }

    /// The lifecycle's view.
    pub fn context(&self) -> TaskContext<'_> {
        TaskContext {
            space: &self.space,
            environment: &self.environment,
            project: &self.project,
        }
    }
}

/// The spec a `task create` (or `deploy`) asks for.
pub fn spec_from_args(
    ctx: &Ctx,
    project: &Project,
    args: &TaskCreateArgs,
) -> anyhow::Result<TaskSpec> {
    let v = &args.version;
    let source = match (&v.branch, &v.tag) {
        (Some(b), None) => TaskSource::Branch {
            branch: RefName::new(b)?,
            commit: v.commit.as_deref().map(CommitId::new).transpose()?,
        },
        (None, Some(t)) => TaskSource::Tag {
            tag: RefName::new(t)?,
        },
        _ => {
            return Err(usage(
                "pick a version: --branch NAME [--commit ID] or --tag NAME",
            ));
        }
    };
    let space = ctx.store.space(project.space)?;
    let servers = if args.servers.is_empty() {
        project.spec.servers.clone()
    } else {
        args.servers
            .iter()
            .map(|n| ctx.server_by_name(&space, n).map(|s| s.id))
            .collect::<anyhow::Result<Vec<ServerId>>>()?
    };
    let title = match &args.title {
        Some(t) => Name::new(t)?,
        None => Name::new(&match &source {
            TaskSource::Branch {
                branch,
                commit: Some(c),
            } => format!("deploy {branch}@{}", c.short(10)),
            TaskSource::Branch { branch, .. } => format!("deploy {branch}"),
            TaskSource::Tag { tag } => format!("deploy {tag}"),
        })?,
    };
    Ok(TaskSpec {
        name: title,
        source,
        servers,
    })
}

/// Creates a task (checked: `task.submit`).
pub fn create(ctx: &Ctx, who: &Acting, args: &TaskCreateArgs) -> anyhow::Result<Task> {
    let space = ctx.space(who)?;
    let project = ctx.project_by_name(&space, &args.project)?;
    ctx.check(
        who,
        Action::TaskSubmit,
        &Resource::Project(ctx.project_ref(&project)?),
    )?;
    let spec = spec_from_args(ctx, &project, args)?;
    let scope = Scope::of(ctx, project)?;
    let created = new_task(&scope.context(), spec, &who.actor(), ctx.now())?;
    let task = ctx.store.create_task(&created.task)?;
    ctx.audit(
        who,
        Action::TaskSubmit,
        format!("task:{}", task.id),
        task.spec.name.to_string(),
    );
    Ok(task)
}

/// Approves a task (checked: `task.approve`).
pub fn approve(ctx: &Ctx, who: &Acting, task: &Task, comment: &str) -> anyhow::Result<Task> {
    let (project, res) = ctx.task_resource(task)?;
    ctx.check(who, Action::TaskApprove, &res)?;
    let t = task.approve(
        ApprovalPolicy::of(&project.spec),
        &who.actor(),
        comment,
        ctx.now(),
    )?;
    let task = ctx.store.update_task(&t.task, t.from)?;
    ctx.audit(
        who,
        Action::TaskApprove,
        format!("task:{}", task.id),
        comment.to_owned(),
    );
    Ok(task)
}

/// Deploys a freshly created task: approves it first when it waits for approval and the acting
/// user may approve it, else stops with a permission error that says who must approve.
pub fn deploy_created(
    ctx: &Ctx,
    who: &Acting,
    task: Task,
    full: bool,
    mode: Mode,
) -> anyhow::Result<Report> {
    let (project, res) = ctx.task_resource(&task)?;
    let task = if task.status == TaskStatus::Submitted {
        let may_approve = walle_rbac::check(&who.subject, Action::TaskApprove, &res).is_ok()
            && !(project.spec.separate_approver && task.submitter == who.user.id);
        if !may_approve {
            return Err(CliError::Denied(format!(
                "task {} was created and waits for approval: project {} requires a MASTER{} to approve it \
                 (`walle task approve {}`), then deploy it with `walle task deploy {}`",
                task.id,
                project.spec.name,
                if project.spec.separate_approver { " other than the submitter" } else { "" },
                task.id,
                task.id
            ))
            .into());
        }
        approve(ctx, who, &task, "approved on deploy")?
    } else {
        task
    };
    ctx.check(who, Action::TaskDeploy, &res)?;
    crate::deploy::run(ctx, who, &task, false, full, mode)
}

/// What a host holds for a project according to the release ledger.
#[derive(Debug, Clone, Default)]
pub struct HostReleases {
    /// Releases kept on the host (were live once and not removed), oldest first.
    pub kept: Vec<ReleaseId>,
    /// The live release.
    pub live: Option<ReleaseId>,
}

/// The ledger view of each server of a project.
pub fn host_releases(
    ctx: &Ctx,
    project: &Project,
    servers: &[ServerId],
) -> anyhow::Result<BTreeMap<ServerId, HostReleases>> {
    let mut out = BTreeMap::new();
    for s in servers {
        let entries = ctx.store.ledger(project.id, *s)?;
        let mut last: BTreeMap<ReleaseId, (usize, LedgerStatus)> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let first = last.get(&e.release).map_or(i, |(f, _)| *f);
            last.insert(e.release.clone(), (first, e.status));
        }
        let mut kept: Vec<(usize, ReleaseId)> = last
            .iter()
            .filter(|(_, (_, st))| {
                matches!(
                    st,
                    LedgerStatus::Live | LedgerStatus::Superseded | LedgerStatus::RolledBack
                )
            })
            .map(|(r, (i, _))| (*i, r.clone()))
            .collect();
        kept.sort();
        let live = last
            .iter()
            .find(|(_, (_, st))| *st == LedgerStatus::Live)
            .map(|(r, _)| r.clone());
        out.insert(
            *s,
            HostReleases {
                kept: kept.into_iter().map(|(_, r)| r).collect(),
                live,
            },
        );
    }
    Ok(out)
}

/// Creates a rollback task from a finished task (checked: `task.rollback`).
pub fn create_rollback(
    ctx: &Ctx,
    who: &Acting,
    from: &Task,
    to: Option<&str>,
) -> anyhow::Result<Task> {
    let (project, res) = ctx.task_resource(from)?;
    ctx.check(who, Action::TaskRollback, &res)?;
    let hosts = host_releases(ctx, &project, &from.spec.servers)?;
    // Kept on every server of the task, in order.
    let mut kept: Vec<ReleaseId> = hosts
        .values()
        .next()
        .map(|h| h.kept.clone())
        .unwrap_or_default();
    kept.retain(|r| hosts.values().all(|h| h.kept.contains(r)));
    let live = hosts.values().next().and_then(|h| h.live.clone());
    let target = match to {
        Some(t) => ReleaseId::new(t)?,
        None => default_target(&kept, live.as_ref()).ok_or_else(|| {
            not_found(format!(
                "project {} has no other kept release to roll back to (kept: {})",
                project.spec.name,
                if kept.is_empty() {
                    "none".to_owned()
                } else {
                    kept.iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
        })?,
    };
    let release = ctx.store.release(&target)?;
    let built_by = ctx.store.task(release.task)?;
    let scope = Scope::of(ctx, project)?;
    let created = rollback_task(
        &scope.context(),
        RollbackRequest {
            from,
            target: &target,
            built_by: &built_by,
            kept: &kept,
            live: live.as_ref(),
        },
        &who.actor(),
        ctx.now(),
    )?;
    let task = ctx.store.create_task(&created.task)?;
    ctx.audit(
        who,
        Action::TaskRollback,
        format!("task:{}", task.id),
        format!("to {target}"),
    );
    Ok(task)
}

/// The release a rollback returns to by default: the newest kept release older than the live
/// one, else the newest kept release that is not live.
pub fn default_target(kept: &[ReleaseId], live: Option<&ReleaseId>) -> Option<ReleaseId> {
    let live_at = live.and_then(|l| kept.iter().position(|r| r == l));
    if let Some(i) = live_at
        && i > 0
    {
        return Some(kept[i - 1].clone());
    }
    kept.iter().rev().find(|r| Some(*r) != live).cloned()
}

/// The latest finished task of a project (what `walle rollback PROJECT` rolls back from).
pub fn latest_finished(ctx: &Ctx, project: &Project) -> anyhow::Result<Task> {
    let tasks = ctx.store.list_tasks(
        &TaskFilter {
            project: Some(project.id),
            statuses: vec![
                TaskStatus::Succeeded,
                TaskStatus::Failed,
                TaskStatus::Cancelled,
            ],
            ..TaskFilter::default()
        },
        Page::number(1, 1),
    )?;
    tasks.items.into_iter().next().ok_or_else(|| {
        not_found(format!(
            "project {} has no finished deploy to roll back from",
            project.spec.name
        ))
    })
}

fn cancel(ctx: &Ctx, who: &Acting, id: i64) -> anyhow::Result<Report> {
    let task = ctx.task(id)?;
    let (project, res) = ctx.task_resource(&task)?;
    ctx.check(who, Action::TaskCancel, &res)?;
    task.request_cancel(&who.actor())?;
    let lease = ctx
        .store
        .current_lease(&walle_core::model::LockKey::project(project.id), ctx.now())?;
    ctx.audit(
        who,
        Action::TaskCancel,
        format!("task:{}", task.id),
        String::new(),
    );
    if lease.is_none() {
        // Nobody is running it (the deploying process died): record it as failed.
        let t = task.recover(ctx.now())?;
        let task = ctx.store.update_task(&t.task, t.from)?;
        let v = view(ctx, &task)?;
        let text = format!(
            "task {} was not running any more (its process stopped); it is now {}",
            v.id, v.status
        );
        return Ok(Report::new(&v, text));
    }
    let dir = ctx.paths.run_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(ctx.paths.cancel_file(task.id), who.user.email.as_str())?;
    let v = view(ctx, &task)?;
    let text = format!(
        "asked task {} to stop; hosts are left on a consistent release (`walle task logs {} --follow`)",
        v.id, v.id
    );
    Ok(Report::new(&v, text))
}

fn list(
    ctx: &Ctx,
    who: &Acting,
    project: Option<&str>,
    status: &[String],
    mine: bool,
    limit: u64,
) -> anyhow::Result<Report> {
    let space = ctx.space(who)?;
    let project = project
        .map(|p| ctx.project_by_name(&space, p))
        .transpose()?;
    if let Some(p) = &project {
        ctx.check(
            who,
            Action::ProjectView,
            &Resource::Project(ctx.project_ref(p)?),
        )?;
    } else {
        ctx.check(who, Action::SpaceView, &Resource::Space(space.id))?;
    }
    let statuses = status
        .iter()
        .map(|s| TaskStatus::parse(s).ok_or_else(|| usage(format!("unknown task status {s:?}"))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let filter = TaskFilter {
        space: Some(space.id),
        project: project.map(|p| p.id),
        submitter: mine.then_some(who.user.id),
        statuses,
        ..TaskFilter::default()
    };
    let tasks = ctx
        .store
        .list_tasks(&filter, Page::number(1, limit.max(1)))?;
    let mut views = Vec::new();
    for t in &tasks.items {
        let (_, res) = ctx.task_resource(t)?;
        if walle_rbac::check(&who.subject, Action::TaskView, &res).is_ok() {
            views.push(view(ctx, t)?);
        }
    }
    let rows = views
        .iter()
        .map(|v| {
            vec![
                v.id.to_string(),
                v.project_name.clone(),
                v.title.clone(),
                v.status.to_owned(),
                v.release.clone().unwrap_or_default(),
                v.submitter.clone(),
                v.created_at.clone(),
            ]
        })
        .collect::<Vec<_>>();
    Ok(Report::new(
        &views,
        table(
            &[
                "ID",
                "PROJECT",
                "TITLE",
                "STATUS",
                "RELEASE",
                "SUBMITTER",
                "CREATED",
            ],
            &rows,
        ),
    ))
}

/// The shown form of a task.
pub fn view(ctx: &Ctx, t: &Task) -> anyhow::Result<TaskView> {
    let project_name = ctx
        .store
        .project(t.project)
        .map(|p| p.spec.name.to_string())
        .unwrap_or_else(|_| t.project.to_string());
    let email = |id| {
        ctx.store
            .user(id)
            .map(|u| u.email.to_string())
            .unwrap_or_else(|_| format!("user {id}"))
    };
    let (branch, tag, asked) = match &t.spec.source {
        TaskSource::Branch { branch, commit } => (
            Some(branch.to_string()),
            None,
            commit.as_ref().map(|c| c.to_string()),
        ),
        TaskSource::Tag { tag } => (None, Some(tag.to_string()), None),
    };
    let names: BTreeMap<ServerId, String> = t
        .spec
        .servers
        .iter()
        .copied()
        .zip(crate::projects::server_names(ctx, &t.spec.servers))
        .collect();
    let outcomes = ctx.store.host_outcomes(t.id)?;
    Ok(TaskView {
        id: t.id.get(),
        project: t.project.get(),
        project_name,
        title: t.spec.name.to_string(),
        kind: match t.kind {
            TaskKind::Deploy => "deploy",
            TaskKind::Rollback { .. } => "rollback",
        },
        rollback_to: match &t.kind {
            TaskKind::Rollback { target } => Some(target.to_string()),
            TaskKind::Deploy => None,
        },
        status: t.status.as_str(),
        branch,
        tag,
        commit: t.commit.as_ref().map(|c| c.to_string()).or(asked),
        release: t.release.as_ref().map(|r| r.to_string()),
        servers: names.values().cloned().collect(),
        submitter: email(t.submitter),
        reviewer: t.reviewer.as_ref().map(|(u, c)| (email(*u), c.clone())),
        parent: t.parent.map(TaskId::get),
        attempts: t.attempts,
        created_at: t.created_at.to_string(),
        updated_at: t.updated_at.to_string(),
        hosts: outcomes.iter().map(|o| host_view(&names, ctx, o)).collect(),
    })
}

/// The shown form of a host outcome.
pub fn host_view(names: &BTreeMap<ServerId, String>, ctx: &Ctx, o: &HostOutcome) -> HostView {
    HostView {
        server: names.get(&o.server).cloned().unwrap_or_else(|| {
            crate::projects::server_names(ctx, &[o.server])
                .pop()
                .unwrap_or_default()
        }),
        state: o.state.as_str(),
        previous: o.previous.as_ref().map(|r| r.to_string()),
        live: o.live.as_ref().map(|r| r.to_string()),
        error: o.error.clone(),
    }
}

fn created_text(v: &TaskView) -> String {
    let next = match v.status {
        "submitted" => format!("waits for approval: `walle task approve {}`", v.id),
        "approved" => format!("deploy it with `walle task deploy {}`", v.id),
        _ => String::new(),
    };
    format!(
        "created task {} ({}) for project {}: {}; {next}",
        v.id, v.title, v.project_name, v.status
    )
}

fn show_text(v: &TaskView) -> String {
    let mut t = format!(
        "task {} ({})\n  project    {}\n  kind       {}{}\n  status     {}\n  version    {}\n  commit     {}\n  release    {}\n  servers    {}\n  submitter  {}\n",
        v.id,
        v.title,
        v.project_name,
        v.kind,
        v.rollback_to
            .as_deref()
            .map(|r| format!(" to {r}"))
            .unwrap_or_default(),
        v.status,
        match (&v.branch, &v.tag) {
            (Some(b), _) => format!("branch {b}"),
            (_, Some(t)) => format!("tag {t}"),
            _ => "-".to_owned(),
        },
        v.commit.as_deref().unwrap_or("-"),
        v.release.as_deref().unwrap_or("-"),
        v.servers.join(", "),
        v.submitter,
    );
    if let Some((r, c)) = &v.reviewer {
        t.push_str(&format!(
            "  reviewer   {r}{}\n",
            if c.is_empty() {
                String::new()
            } else {
                format!(": {c}")
            }
        ));
    }
    for h in &v.hosts {
        t.push_str(&format!(
            "  host {}: {} (live {}){}\n",
            h.server,
            h.state,
            h.live.as_deref().unwrap_or("-"),
            h.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    t
}

#[cfg(test)]
mod tests;
