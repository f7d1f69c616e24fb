//! The orchestration of one deploy or rollback, from lease to unlock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::emit::Emitter;
use super::host::{HostCtx, HostRun};
use super::{lease, pool::parallel_map};
use crate::TaskId;
use crate::lifecycle::{Actor, DeployEnd, TransitionError};
use crate::model::{
    HostOutcome, HostState, LeaseToken, LockKey, Project, Release, ReleaseStatus, Server, Step,
    SwitchMode, Task, TaskKind, TaskStatus,
};
use crate::plan::{PlanError, PlanInput, build_plan};
use crate::ports::{
    Artifact, Clock, ConnectOptions, EventSink, Notification, NotificationKind, Notifier,
    RunOptions, Store, StoreError, Transport, Vcs, Workspace, WorkspaceError,
};
use crate::value::{CommitId, ReleaseId};

/// The adapters a deploy runs on.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// Storage.
    pub store: &'a dyn Store,
    /// Version control.
    pub vcs: &'a dyn Vcs,
    /// Transport to the target hosts.
    pub transport: &'a dyn Transport,
    /// Transport on the deploy host itself (pre-deploy and build hooks).
    pub local: &'a dyn Transport,
    /// Build directories and archives.
    pub workspace: &'a dyn Workspace,
    /// Live events.
    pub events: &'a dyn EventSink,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Notifications, if configured.
    pub notifier: Option<&'a dyn Notifier>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// The task (approved, or failed for a retry).
    pub task: TaskId,
    /// Who runs it (already authorised by the caller).
    pub actor: Actor,
    /// Retry only the hosts that did not switch last time.
    pub failed_hosts_only: bool,
    /// Send every file even when the previous release is on the host.
    pub full_transfer: bool,
    /// A fresh random token for the project lease.
    pub lease_token: LeaseToken,
}

/// A cancel switch shared with whoever may cancel the deploy.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Asks the deploy to stop; hosts are left on a consistent release.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    /// The task.
    pub task: TaskId,
    /// Its final status.
    pub status: TaskStatus,
    /// The release deployed or rolled back to.
    pub release: ReleaseId,
    /// The commit.
    pub commit: Option<CommitId>,
    /// Each host's final state.
    pub hosts: Vec<HostOutcome>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// Why a deploy could not run at all (a deploy that ran and failed returns a report instead).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Storage failed, or the lease is held by another deploy.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task is not in a state that can be deployed.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The plan could not be built.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Runs a deploy or rollback task to its end.
pub fn deploy(
    ports: &Ports<'_>,
    req: &DeployRequest,
    cancel: &CancelFlag,
) -> Result<DeployReport, EngineError> {
    let store = ports.store;
    let task = store.task(req.task)?;
    let project = store.project(task.project)?;
    let key = LockKey::project(project.id);
    let holder = format!("task {} ({})", task.id, req.actor.name);
    lease::acquire(store, &key, &req.lease_token, &holder, ports.clock)?;
    let result = deploy_locked(ports, req, cancel, task, &project, &key);
    let _ = store.release_lease(&key, &req.lease_token);
    result
}

fn deploy_locked(
    ports: &Ports<'_>,
    req: &DeployRequest,
    cancel: &CancelFlag,
    task: Task,
    project: &Project,
    key: &LockKey,
) -> Result<DeployReport, EngineError> {
    let store = ports.store;
    let now = ports.clock.now();
    let (transition, servers) = if req.failed_hosts_only {
        let outcomes = store.host_outcomes(task.id)?;
        task.retry_failed_hosts(&req.actor, &outcomes, now)?
    } else {
        (
            task.start_deploy(&req.actor, now)?,
            task.spec.servers.clone(),
        )
    };
    let mut task = store.update_task(&transition.task, transition.from)?;
    let servers: Vec<Server> = servers
        .iter()
        .map(|id| store.server(*id))
        .collect::<Result<_, _>>()?;
    let release = match (&task.kind, &task.release) {
        (TaskKind::Rollback { target }, _) => target.clone(),
        // A retry of the failed hosts ships the release the other hosts already run.
        (TaskKind::Deploy, Some(built)) if req.failed_hosts_only => built.clone(),
        (TaskKind::Deploy, _) => ReleaseId::for_task(project.id, task.id, now),
    };
    let deploy_user = store
        .user(task.submitter)
        .map(|u| u.username.to_string())
        .unwrap_or_else(|_| req.actor.name.clone());

    let emit = Emitter::new(task.id, ports.events, ports.clock);
    let stop = AtomicBool::new(false);
    let lost = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        s.spawn(|| lease::heartbeat(store, key, &req.lease_token, ports.clock, &stop, &lost));
        let r = run_pipeline(
            ports,
            req,
            cancel,
            &lost,
            &emit,
            &task,
            project,
            &servers,
            &release,
            &deploy_user,
        );
        stop.store(true, Ordering::SeqCst);
        r
    });

    let end = match (&outcome.error, outcome.cancelled) {
        (_, true) => DeployEnd::Cancelled,
        (Some(reason), false) => DeployEnd::Failed {
            reason: reason.clone(),
        },
        (None, false) => DeployEnd::Succeeded,
    };
    let finished = task.finish(end, ports.clock.now())?;
    let mut done = finished.task;
    done.commit = outcome.commit.clone().or(done.commit);
    if outcome.built || matches!(task.kind, TaskKind::Rollback { .. }) {
        done.release = Some(release.clone());
    }
    task = store.update_task(&done, finished.from)?;
    // A retry of failed hosts keeps the outcomes of the hosts that were not retried.
    let mut all = if req.failed_hosts_only {
        store.host_outcomes(task.id)?
    } else {
        Vec::new()
    };
    for o in &outcome.hosts {
        all.retain(|x: &HostOutcome| x.server != o.server);
        all.push(o.clone());
    }
    store.set_host_outcomes(task.id, &all)?;
    let status = task.status;
    emit.info(
        None,
        Step::Finish,
        match &outcome.error {
            None if status == TaskStatus::Succeeded => format!("release {release} is live"),
            None => format!("deploy {status}"),
            Some(e) => format!("deploy {status}: {e}"),
        },
    );
    notify(ports, project, &task, &req.actor, &release, status);
    Ok(DeployReport {
        task: task.id,
        status,
        release,
        commit: outcome.commit,
        hosts: outcome.hosts,
        error: outcome.error,
    })
}

struct PipelineOutcome {
    hosts: Vec<HostOutcome>,
    error: Option<String>,
    cancelled: bool,
    commit: Option<CommitId>,
    built: bool,
}

#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename these.
fn run_pipeline(
    ports: &Ports<'_>,
    req: &DeployRequest,
    cancel: &CancelFlag,
    lost: &AtomicBool,
    emit: &Emitter<'_>,
    task: &Task,
    project: &Project,
    servers: &[Server],
    release: &ReleaseId,
    deploy_user: &str,
) -> PipelineOutcome {
    let mut out = PipelineOutcome {
        hosts: Vec::new(),
        error: None,
        cancelled: false,
        commit: None,
        built: false,
    };
    let cancelled = || cancel.is_cancelled() || lost.load(Ordering::SeqCst);
    let fail = |out: &mut PipelineOutcome, msg: String| {
        emit.error(None, Step::Finish, msg.clone());
        out.error = Some(msg);
    };
    let is_rollback = matches!(task.kind, TaskKind::Rollback { .. });

    // The commit: for a rollback, the target release's.
    let mut commit = None;
    if let TaskKind::Rollback { target } = &task.kind {
        commit = ports.store.release(target).ok().map(|r| r.commit);
    }
    // A retry of the failed hosts rebuilds the exact commit of the release the others run.
    let rebuild = req.failed_hosts_only && task.release.as_ref() == Some(release);
    if rebuild {
        commit = task.commit.clone();
    }
    let paths = match local_paths(ports, project, release, is_rollback) {
        Ok(p) => p,
        Err(e) => {
            fail(&mut out, e.to_string());
            return out;
        }
    };
    let input = PlanInput {
        project,
        task,
        servers,
        release,
        commit: commit.as_ref(),
        deploy_user,
        cache_dir: &paths.0,
        build_dir: &paths.1,
        now: ports.clock.now(),
    };
    let plan = match build_plan(input) {
        Ok(p) => p,
        Err(e) => {
            fail(&mut out, e.to_string());
            return out;
        }
    };

    // Deploy host: fetch, resolve, hooks, export, build, package.
    let mut artifact: Option<Artifact> = None;
    let mut plan = plan;
    if let Some(local) = plan.local.clone() {
        let replan = |c: &CommitId| {
            build_plan(PlanInput {
                commit: Some(c),
                ..input
            })
            .map_err(|e| e.to_string())?
            .local
            .ok_or_else(|| "a deploy plan has deploy-host steps".to_owned())
        };
        match super::build::build(ports, emit, &local, cancel, release, &replan) {
            Ok((c, a)) => {
                // Rebuild the plan with the resolved commit so COMMIT_ID is exact in every hook.
                match build_plan(PlanInput {
                    commit: Some(&c),
                    ..input
                }) {
                    Ok(p) => plan = p,
                    Err(e) => {
                        fail(&mut out, e.to_string());
                        return out;
                    }
                }
                let record = Release {
                    id: release.clone(),
                    project: project.id,
                    task: task.id,
                    commit: c.clone(),
                    checksum: a.checksum.clone(),
                    status: ReleaseStatus::Preparing,
                    created_at: ports.clock.now(),
                };
                // A rebuilt release is recorded already.
                let recorded = if rebuild {
                    Ok(())
                } else {
                    ports.store.create_release(&record)
                };
                if let Err(e) = recorded {
                    fail(&mut out, format!("could not record the release: {e}"));
                    return out;
                }
                out.built = true;
                artifact = Some(a);
                commit = Some(c);
            }
            Err(e) => {
                out.cancelled = cancelled();
                fail(&mut out, e);
                let _ = ports.workspace.remove_build_dir(release);
                return out;
            }
        }
    }
    out.commit = commit.clone();

    let ctx = HostCtx {
        plan: &plan,
        emit,
        transport: ports.transport,
        workspace: ports.workspace,
        artifact: artifact.as_ref(),
        run_opts: RunOptions {
            timeout: plan.strategy.command_timeout,
            silence_timeout: Some(plan.strategy.silence_timeout),
        },
        connect_opts: ConnectOptions {
            connect_timeout: plan.strategy.connect_timeout,
            ..ConnectOptions::default()
        },
        cancel: cancel.0.as_ref(),
        full_transfer: req.full_transfer,
        lock_content: crate::layout::TargetLock {
            deploy: release.to_string(),
            task: task.id,
            holder: req.actor.name.clone(),
            host: "walle".to_owned(),
            since: ports.clock.now(),
        }
        .render(),
        task: task.id,
        actor: req.actor.user,
        actor_name: req.actor.name.clone(),
        commit: commit.clone(),
    };
    let mut hosts: Vec<HostRun<'_>> = plan.hosts.iter().map(HostRun::new).collect();
    let limit = usize::try_from(plan.strategy.parallelism.max(1)).unwrap_or(1);

    // Phase one: prepare every host.
    parallel_map(&mut hosts, limit, |h| h.prepare(&ctx));
    let failed = hosts
        .iter()
        .filter(|h| h.state != HostState::Prepared)
        .count();
    let tolerated = plan.strategy.failure.tolerated(hosts.len());
    emit.info(
        None,
        Step::Barrier,
        format!(
            "{} of {} host(s) prepared",
            hosts.len() - failed,
            hosts.len()
        ),
    );

    let error = if cancelled() {
        out.cancelled = true;
        Some(
            if lost.load(Ordering::SeqCst) {
                "the deploy lock was taken away (forced unlock)"
            } else {
                "cancelled before the switch"
            }
            .to_owned(),
        )
    } else if failed > tolerated || failed == hosts.len() {
        Some(format!(
            "{failed} of {} host(s) failed before the switch (tolerated: {tolerated}); no host was switched{}",
            hosts.len(),
            host_failures(&hosts)
        ))
    } else {
        switch_phase(&ctx, &mut hosts, tolerated, &cancelled, &mut out.cancelled)
    };

    // Ledger, cleanup, unlock on every host we reached.
    let at = ports.clock.now();
    let success = error.is_none();
    let mut ledger = Vec::new();
    let mut removed: Vec<(crate::ServerId, Vec<ReleaseId>)> = Vec::new();
    parallel_map(&mut hosts, limit, |h| {
        let mut entries = h.ledger_entries(&ctx, at);
        let mut doomed = Vec::new();
        if h.state == HostState::Switched && success {
            let keep_also = h.previous.clone();
            doomed = h.cleanup(&ctx, Some(&plan.release), keep_also.as_ref());
            entries.extend(removed_entries(ports, &ctx, h.plan.server, &doomed, at));
        }
        h.write_ledger(&ctx, &entries);
        h.unlock(&ctx);
        h.session = None;
        (entries, (h.plan.server, doomed))
    })
    .into_iter()
    .for_each(|(mut e, r)| {
        ledger.append(&mut e);
        removed.push(r);
    });
    record_release_states(ports, &hosts, &removed, release);
    if !out.built && hosts.iter().any(|h| h.state == HostState::Switched) {
        // A rollback (or a retry) made an existing release live again.
        let _ = ports.store.set_release_status(release, ReleaseStatus::Live);
    }
    if let Err(e) = ports.store.append_ledger(&ledger) {
        emit.error(
            None,
            Step::Ledger,
            format!("could not record the ledger: {e}"),
        );
    }
    if out.built {
        let live = hosts.iter().any(|h| h.state == HostState::Switched);
        // A rebuilt release stays live on the hosts that switched before, whatever the retry did.
        if live || !rebuild {
            let status = if live {
                ReleaseStatus::Live
            } else {
                ReleaseStatus::Failed
            };
            let _ = ports.store.set_release_status(release, status);
        }
        let _ = ports.workspace.remove_build_dir(release);
    }
    out.hosts = hosts
        .iter()
        .map(|h| {
            let live = match h.state {
                HostState::Switched => Some(plan.release.clone()),
                HostState::FailedAfterSwitch => None,
                _ => h.previous.clone(),
            };
            h.outcome(live)
        })
        .collect();
    if let Some(e) = error {
        fail(&mut out, e);
    }
    out
}

/// Switches the prepared hosts (all at once or in batches); reverts when failures exceed the policy.
fn switch_phase(
    ctx: &HostCtx<'_>,
    hosts: &mut [HostRun<'_>],
    tolerated: usize,
    cancelled: &dyn Fn() -> bool,
    was_cancelled: &mut bool,
) -> Option<String> {
    let total = hosts.len();
    let batch = match ctx.plan.strategy.switch {
        SwitchMode::AllAtOnce => total,
        SwitchMode::Rolling { batch_size } => usize::try_from(batch_size.max(1)).unwrap_or(1),
    };
    let prepared: Vec<usize> = (0..total)
        .filter(|&i| hosts[i].state == HostState::Prepared)
        .collect();
    let mut abort: Option<String> = None;
    for (n, chunk) in prepared.chunks(batch).enumerate() {
        if cancelled() {
            *was_cancelled = true;
            abort = Some("cancelled during the switch; switched hosts were put back".to_owned());
            break;
        }
        ctx.emit.info(
            None,
            Step::Switch,
            format!("switching batch {} ({} host(s))", n + 1, chunk.len()),
        );
        let mut batch_hosts: Vec<&mut HostRun<'_>> = Vec::new();
        for (i, h) in hosts.iter_mut().enumerate() {
            if chunk.contains(&i) {
                batch_hosts.push(h);
            }
        }
        parallel_map(&mut batch_hosts, chunk.len(), |h| h.switch(ctx));
        let failed = hosts
            .iter()
            .filter(|h| !matches!(h.state, HostState::Prepared | HostState::Switched))
            .count();
        if failed > tolerated {
            abort = Some(format!(
                "{failed} of {total} host(s) failed (tolerated: {tolerated}); switched hosts were put back{}",
                host_failures(hosts)
            ));
            break;
        }
    }
    // Hosts that failed after switching always go back to their own previous release; on abort, so
    // does every switched host.
    let mut to_revert: Vec<&mut HostRun<'_>> = hosts
        .iter_mut()
        .filter(|h| {
            h.state == HostState::FailedAfterSwitch
                || (abort.is_some() && h.state == HostState::Switched)
        })
        .collect();
    if !to_revert.is_empty() {
        let n = to_revert.len();
        parallel_map(&mut to_revert, n, |h| h.revert(ctx));
    }
    for h in hosts.iter_mut().filter(|h| h.state == HostState::Prepared) {
        h.state = HostState::Skipped;
    }
    if abort.is_none() {
        let failed = hosts
            .iter()
            .filter(|h| h.state != HostState::Switched)
            .count();
        if failed > 0 {
            ctx.emit.info(
                None,
                Step::Finish,
                format!("{failed} host(s) failed, within the failure policy"),
            );
        }
    }
    abort
}

/// `; <host>: <first line of its error>` for the failed hosts (at most five), so that the deploy's
/// error says where and why without opening every host's outcome.
fn host_failures(hosts: &[HostRun<'_>]) -> String {
    const SHOWN: usize = 5;
    let failed: Vec<&HostRun<'_>> = hosts.iter().filter(|h| h.error.is_some()).collect();
    let mut out: String = failed
        .iter()
        .take(SHOWN)
        .filter_map(|h| {
            let e = h.error.as_deref()?;
            Some(format!(
                "; {}: {}",
                h.plan.name,
                e.lines().next().unwrap_or(e)
            ))
        })
        .collect();
    if failed.len() > SHOWN {
        out.push_str(&format!("; and {} more", failed.len() - SHOWN));
    }
    out
}

/// The cache and build directories on the deploy host.
fn local_paths(
    ports: &Ports<'_>,
    project: &Project,
    release: &ReleaseId,
    is_rollback: bool,
) -> Result<(crate::value::AbsPath, crate::value::AbsPath), WorkspaceError> {
    let cache = ports.workspace.cache_dir(project.id)?;
    let build = if is_rollback {
        cache.clone()
    } else {
        ports.workspace.create_build_dir(release)?
    };
    Ok((cache, build))
}

fn notify(
    ports: &Ports<'_>,
    project: &Project,
    task: &Task,
    actor: &Actor,
    release: &ReleaseId,
    status: TaskStatus,
) {
    let Some(n) = ports.notifier else { return };
    if project.spec.notify.channels.is_empty() {
        return;
    }
    let kind = match (status, &task.kind) {
        (TaskStatus::Succeeded, TaskKind::Rollback { .. }) => NotificationKind::RolledBack,
        (TaskStatus::Succeeded, _) => NotificationKind::DeploySucceeded,
        _ => NotificationKind::DeployFailed,
    };
    let failures = n.notify(&Notification {
        kind,
        project: project.id,
        project_name: project.spec.name.to_string(),
        task: task.id,
        task_name: task.spec.name.to_string(),
        actor: actor.name.clone(),
        version: release.to_string(),
        channels: project.spec.notify.channels.clone(),
    });
    for f in failures {
        ports.events.emit(crate::model::NewDeployEvent {
            task: task.id,
            host: None,
            step: Step::Finish,
            stream: crate::model::EventStream::Error,
            line: f.to_string(),
            exit_code: None,
            at: ports.clock.now(),
        });
    }
}

/// Ledger entries for the releases cleanup removed from a host (their commit from the store).
fn removed_entries(
    ports: &Ports<'_>,
    ctx: &HostCtx<'_>,
    server: crate::ServerId,
    doomed: &[ReleaseId],
    at: crate::Timestamp,
) -> Vec<crate::model::LedgerEntry> {
    doomed
        .iter()
        .filter_map(|id| {
            let commit = ports.store.release(id).ok()?.commit;
            Some(crate::model::LedgerEntry {
                server,
                release: id.clone(),
                commit,
                task: ctx.task,
                actor: ctx.actor,
                status: crate::model::LedgerStatus::Removed,
                previous: None,
                at,
            })
        })
        .collect()
}

/// Fleet-level release states in the store: the releases replaced on every host that switched are
/// superseded (unless a host that did not switch still runs them), and a release removed from every
/// host that ran cleanup is removed.
fn record_release_states(
    ports: &Ports<'_>,
    hosts: &[HostRun<'_>],
    removed: &[(crate::ServerId, Vec<ReleaseId>)],
    release: &ReleaseId,
) {
    use std::collections::BTreeSet;
    let still_live: BTreeSet<&ReleaseId> = hosts
        .iter()
        .filter(|h| h.state != HostState::Switched)
        .filter_map(|h| h.previous.as_ref())
        .collect();
    let replaced: BTreeSet<&ReleaseId> = hosts
        .iter()
        .filter(|h| h.state == HostState::Switched)
        .filter_map(|h| h.previous.as_ref())
        .filter(|p| *p != release && !still_live.contains(p))
        .collect();
    for id in replaced {
        let _ = ports
            .store
            .set_release_status(id, ReleaseStatus::Superseded);
    }
    let cleaned: Vec<&Vec<ReleaseId>> = removed
        .iter()
        .filter(|(server, _)| {
            hosts
                .iter()
                .any(|h| h.plan.server == *server && h.state == HostState::Switched)
        })
        .map(|(_, d)| d)
        .collect();
    if let Some((first, rest)) = cleaned.split_first() {
        for id in first
            .iter()
            .filter(|id| rest.iter().all(|d| d.contains(id)))
        {
            let _ = ports.store.set_release_status(id, ReleaseStatus::Removed);
        }
    }
}
