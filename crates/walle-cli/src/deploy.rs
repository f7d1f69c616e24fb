//! Running the deploy engine from the command line: `walle deploy`, `walle rollback`,
//! `walle task deploy|retry|rollback`, and `--dry-run` plans.
//!
//! Events go both to the store (so `walle task logs` and the server's console can read them) and
//! to the progress display. A cancel request from another process (`walle task cancel`) arrives
//! as a file in the data directory, polled while the deploy runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;
use walle_core::engine::{self, CancelFlag, DeployReport, DeployRequest, EngineError, Ports};
use walle_core::lifecycle::new_task;
use walle_core::model::{LeaseToken, NewDeployEvent, Server, Task, TaskKind, TaskStatus};
use walle_core::plan::{PlanInput, build_plan};
use walle_core::ports::{EventSink, Store};
use walle_core::value::{AbsPath, ReleaseId};
use walle_core::{ServerId, TaskId};
use walle_rbac::{Action, Resource};

use crate::adapters::Adapters;
use crate::args::{DeployArgs, RollbackArgs};
use crate::context::{Acting, Ctx};
use crate::error::{EXIT_FAILED, EXIT_OK, usage};
use crate::output::progress::Progress;
use crate::output::{Mode, Report};
use crate::tasks::{self, HostView, Scope};

/// The result of a deploy.
#[derive(Debug, Serialize)]
pub struct DeployView {
    /// Task id.
    pub task: i64,
    /// Final status.
    pub status: &'static str,
    /// Release deployed or rolled back to.
    pub release: String,
    /// Commit.
    pub commit: Option<String>,
    /// Each host.
    pub hosts: Vec<HostView>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A plan printed by `--dry-run`.
#[derive(Debug, Serialize)]
pub struct PlanView {
    /// Always true.
    pub dry_run: bool,
    /// The task (absent when `walle deploy --dry-run` created none).
    pub task: Option<i64>,
    /// `deploy` or `rollback`.
    pub kind: &'static str,
    /// The release id the deploy would create (or switch to).
    pub release: String,
    /// The hosts.
    pub hosts: Vec<String>,
    /// The plan as text.
    pub plan: String,
}

/// `walle deploy PROJECT --branch|--tag ...`: create a task and deploy it.
pub fn shortcut(ctx: &Ctx, args: &DeployArgs, mode: Mode) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    if args.dry_run {
        let space = ctx.space(&who)?;
        let project = ctx.project_by_name(&space, &args.task.project)?;
        ctx.check(
            &who,
            Action::TaskSubmit,
            &Resource::Project(ctx.project_ref(&project)?),
        )?;
        let spec = tasks::spec_from_args(ctx, &project, &args.task)?;
        let scope = Scope::of(ctx, project)?;
        let created = new_task(&scope.context(), spec, &who.actor(), ctx.now())?;
        let n = created.task;
        let task = Task {
            id: TaskId(0),
            project: n.project,
            spec: n.spec,
            kind: n.kind,
            status: n.status,
            submitter: n.submitter,
            reviewer: None,
            commit: None,
            release: None,
            parent: None,
            attempts: 0,
            created_at: n.created_at,
            updated_at: n.created_at,
        };
        return plan_report(ctx, &task, None);
    }
    let task = tasks::create(ctx, &who, &args.task)?;
    tasks::deploy_created(ctx, &who, task, args.full, mode)
}

/// `walle rollback PROJECT [--to RELEASE]`.
pub fn rollback(ctx: &Ctx, args: &RollbackArgs, mode: Mode) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let project = ctx.project_by_name(&space, &args.project)?;
    let from = tasks::latest_finished(ctx, &project)?;
    if args.dry_run {
        let (_, res) = ctx.task_resource(&from)?;
        ctx.check(&who, Action::TaskRollback, &res)?;
        let target = match &args.to {
            Some(t) => ReleaseId::new(t)?,
            None => {
                let hosts = tasks::host_releases(ctx, &project, &from.spec.servers)?;
                let first = hosts.values().next().cloned().unwrap_or_default();
                tasks::default_target(&first.kept, first.live.as_ref())
                    .ok_or_else(|| usage("no other kept release to roll back to"))?
            }
        };
        let mut task = from.clone();
        task.id = TaskId(0);
        task.kind = TaskKind::Rollback { target };
        return plan_report(ctx, &task, None);
    }
    let task = tasks::create_rollback(ctx, &who, &from, args.to.as_deref())?;
    tasks::deploy_created(ctx, &who, task, false, mode)
}

/// Prints the plan of an existing task without running it.
pub fn dry_run(ctx: &Ctx, _who: &Acting, task: &Task) -> anyhow::Result<Report> {
    plan_report(ctx, task, Some(task.id))
}

fn plan_report(ctx: &Ctx, task: &Task, id: Option<TaskId>) -> anyhow::Result<Report> {
    let project = ctx.store.project(task.project)?;
    let servers: Vec<Server> = task
        .spec
        .servers
        .iter()
        .map(|s| ctx.store.server(*s))
        .collect::<Result<_, _>>()?;
    let now = ctx.now();
    let release = match &task.kind {
        TaskKind::Rollback { target } => target.clone(),
        TaskKind::Deploy => ReleaseId::for_task(project.id, task.id, now),
    };
    let ws = ctx.paths.workspace_dir();
    let cache_dir = abs(&ws.join("cache").join(project.id.to_string()))?;
    let build_dir = abs(&ws.join("builds").join(release.as_str()))?;
    let deploy_user = ctx
        .store
        .user(task.submitter)
        .map(|u| u.username.to_string())
        .unwrap_or_default();
    let plan = build_plan(PlanInput {
        project: &project,
        task,
        servers: &servers,
        release: &release,
        commit: task.commit.as_ref(),
        deploy_user: &deploy_user,
        cache_dir: &cache_dir,
        build_dir: &build_dir,
        now,
    })
    .map_err(|e| usage(e.to_string()))?;
    let text = plan.render();
    let header = match id {
        Some(id) => format!("dry run of task {id}: nothing was changed\n"),
        None => "dry run: no task was created and nothing was changed (task 0 stands for the new task)\n"
            .to_owned(),
    };
    let view = PlanView {
        dry_run: true,
        task: id.map(TaskId::get),
        kind: match task.kind {
            TaskKind::Deploy => "deploy",
            TaskKind::Rollback { .. } => "rollback",
        },
        release: release.to_string(),
        hosts: servers.iter().map(|s| s.spec.name.to_string()).collect(),
        plan: text.clone(),
    };
    Ok(Report::new(&view, format!("{header}{text}")))
}

/// Runs the engine on a task (already authorised by the caller).
pub fn run(
    ctx: &Ctx,
    who: &Acting,
    task: &Task,
    failed_hosts_only: bool,
    full_transfer: bool,
    mode: Mode,
) -> anyhow::Result<Report> {
    let adapters = Adapters::new(ctx)?;
    let hosts: Vec<(ServerId, String)> = task
        .spec
        .servers
        .iter()
        .copied()
        .zip(crate::projects::server_names(ctx, &task.spec.servers))
        .collect();
    let progress = Progress::new(mode, &hosts);
    let cancel = CancelFlag::default();
    let req = DeployRequest {
        task: task.id,
        actor: who.actor(),
        failed_hosts_only,
        full_transfer,
        lease_token: LeaseToken::new(crate::password::random_hex(16)?),
    };
    let cancel_file = ctx.paths.cancel_file(task.id);
    let _ = std::fs::remove_file(&cancel_file);
    let store: &dyn Store = &*ctx.store;
    let done = AtomicBool::new(false);
    // Ctrl-C (or SIGTERM) asks the engine to stop, leaving every host on a consistent release;
    // a second Ctrl-C ends the process at once.
    let interrupted = Arc::new(AtomicBool::new(false));
    let mut handlers = Vec::new();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        handlers.extend(
            signal_hook::flag::register_conditional_default(sig, Arc::clone(&interrupted)).ok(),
        );
        handlers.extend(signal_hook::flag::register(sig, Arc::clone(&interrupted)).ok());
    }
    let (tx, rx) = mpsc::channel::<NewDeployEvent>();
    let result = std::thread::scope(|s| {
        s.spawn(|| write_events(store, rx));
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if cancel_file.exists() || interrupted.load(Ordering::SeqCst) {
                    cancel.cancel();
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let r = {
            let sink = ChannelSink(tx);
            let tee = Tee([&sink, &progress]);
            let ports = Ports {
                store,
                vcs: &adapters.vcs,
                transport: &adapters.transport,
                local: &adapters.local,
                workspace: &adapters.workspace,
                events: &tee,
                clock: &ctx.clock,
                notifier: None,
            };
            engine::deploy(&ports, &req, &cancel)
        };
        done.store(true, Ordering::SeqCst);
        r
    });
    for h in handlers {
        signal_hook::low_level::unregister(h);
    }
    progress.finish(result.as_ref().map_or(&[], |r| r.hosts.as_slice()));
    let _ = std::fs::remove_file(&cancel_file);
    let report = result.map_err(engine_error)?;
    Ok(deploy_report(ctx, task, &report))
}

fn deploy_report(ctx: &Ctx, task: &Task, r: &DeployReport) -> Report {
    let names: std::collections::BTreeMap<ServerId, String> = task
        .spec
        .servers
        .iter()
        .copied()
        .zip(crate::projects::server_names(ctx, &task.spec.servers))
        .collect();
    let view = DeployView {
        task: r.task.get(),
        status: r.status.as_str(),
        release: r.release.to_string(),
        commit: r.commit.as_ref().map(|c| c.to_string()),
        hosts: r
            .hosts
            .iter()
            .map(|o| tasks::host_view(&names, ctx, o))
            .collect(),
        error: r.error.clone(),
    };
    let verb = match task.kind {
        TaskKind::Deploy => "deploy",
        TaskKind::Rollback { .. } => "rollback",
    };
    let mut text = match (&r.status, &r.error) {
        (TaskStatus::Succeeded, _) => format!(
            "task {}: {verb} succeeded; release {} is live{}",
            r.task,
            r.release,
            r.commit
                .as_ref()
                .map(|c| format!(" (commit {})", c.short(10)))
                .unwrap_or_default()
        ),
        (status, Some(e)) => format!("task {}: {verb} {status}: {e}", r.task),
        (status, None) => format!("task {}: {verb} {status}", r.task),
    };
    for h in &view.hosts {
        text.push_str(&format!(
            "\n  {}: {} (live {}){}",
            h.server,
            h.state,
            h.live.as_deref().unwrap_or("-"),
            h.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    let code = if r.status == TaskStatus::Succeeded {
        EXIT_OK
    } else {
        EXIT_FAILED
    };
    Report::new(&view, text).with_code(code)
}

/// Keeps the typed cause of an engine error, so the exit code follows it.
fn engine_error(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Store(s) => s.into(),
        EngineError::Transition(t) => t.into(),
        EngineError::Plan(p) => usage(p.to_string()),
    }
}

fn abs(p: &std::path::Path) -> anyhow::Result<AbsPath> {
    let s = p
        .to_str()
        .ok_or_else(|| usage(format!("{} is not UTF-8", p.display())))?;
    Ok(AbsPath::new(s)?)
}

/// Sends events to the store writer thread (never blocks the deploy).
struct ChannelSink(mpsc::Sender<NewDeployEvent>);

impl EventSink for ChannelSink {
    fn emit(&self, event: NewDeployEvent) {
        let _ = self.0.send(event);
    }
}

/// Sends every event to each sink.
struct Tee<'a, const N: usize>([&'a dyn EventSink; N]);

impl<const N: usize> EventSink for Tee<'_, N> {
    fn emit(&self, event: NewDeployEvent) {
        if let Some((last, rest)) = self.0.split_last() {
            for s in rest {
                s.emit(event.clone());
            }
            last.emit(event);
        }
    }
}

/// Appends events to the store in batches until every sender is gone.
fn write_events(store: &dyn Store, rx: mpsc::Receiver<NewDeployEvent>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(e) = rx.try_recv() {
            batch.push(e);
            if batch.len() >= 256 {
                break;
            }
        }
        // A lost log line must not fail the deploy; the engine's own outcome is stored separately.
        let _ = store.append_events(&batch);
    }
}
