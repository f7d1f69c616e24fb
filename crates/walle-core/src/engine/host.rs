//! One host's part of a deploy: prepare, switch, health check, revert, ledger and cleanup.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use super::emit::{CommandFailed, Emitter};
use super::manifest;
use crate::layout::{self, LedgerLine, LinkState, TargetLock};
use crate::model::{HostOutcome, HostState, LedgerEntry, LedgerStatus, Step};
use crate::plan::{DeployPlan, HostPlan, PlanKind, commands};
use crate::ports::{Artifact, ConnectOptions, RunOptions, Session, Transport, Workspace};
use crate::value::{AbsPath, CommitId, ReleaseId};
use crate::{TaskId, UserId};

/// Where one host stands during a deploy.
pub(crate) struct HostRun<'p> {
    pub(crate) plan: &'p HostPlan,
    pub(crate) session: Option<Box<dyn Session>>,
    pub(crate) state: HostState,
    pub(crate) previous: Option<ReleaseId>,
    pub(crate) locked: bool,
    pub(crate) error: Option<String>,
}

/// Everything the host steps share.
pub(crate) struct HostCtx<'a> {
    pub(crate) plan: &'a DeployPlan,
    pub(crate) emit: &'a Emitter<'a>,
    pub(crate) transport: &'a dyn Transport,
    pub(crate) workspace: &'a dyn Workspace,
    pub(crate) artifact: Option<&'a Artifact>,
    pub(crate) run_opts: RunOptions,
    pub(crate) connect_opts: ConnectOptions,
    pub(crate) cancel: &'a AtomicBool,
    pub(crate) full_transfer: bool,
    pub(crate) lock_content: String,
    pub(crate) task: TaskId,
    pub(crate) actor: UserId,
    pub(crate) actor_name: String,
    pub(crate) commit: Option<CommitId>,
}

type StepResult<T = ()> = Result<T, String>;

impl<'p> HostRun<'p> {
    pub(crate) fn new(plan: &'p HostPlan) -> Self {
        Self {
            plan,
            session: None,
            state: HostState::Pending,
            previous: None,
            locked: false,
            error: None,
        }
    }

    pub(crate) fn outcome(&self, live: Option<ReleaseId>) -> HostOutcome {
        HostOutcome {
            server: self.plan.server,
            state: self.state,
            previous: self.previous.clone(),
            live,
            error: self.error.clone(),
        }
    }

    fn fail(&mut self, state: HostState, ctx: &HostCtx<'_>, step: Step, msg: String) {
        ctx.emit.error(Some(self.plan.server), step, msg.clone());
        self.state = state;
        self.error = Some(msg);
    }

    fn run(
        &mut self,
        ctx: &HostCtx<'_>,
        step: Step,
        cmd: &crate::shell::Command,
    ) -> StepResult<Vec<String>> {
        let session = self
            .session
            .as_deref_mut()
            .ok_or_else(|| "not connected".to_owned())?;
        ctx.emit
            .run(
                session,
                Some(self.plan.server),
                &self.plan.name,
                step,
                cmd,
                &ctx.run_opts,
            )
            .map_err(|CommandFailed { summary }| summary)
    }

    fn session(&mut self) -> StepResult<&mut (dyn Session + 'static)> {
        self.session
            .as_deref_mut()
            .ok_or_else(|| "not connected".to_owned())
    }

    /// Phase one: everything up to the barrier. Never touches the live release.
    pub(crate) fn prepare(&mut self, ctx: &HostCtx<'_>) {
        let mut step = Step::Connect;
        let r = self.prepare_steps(ctx, &mut step);
        match r {
            Ok(()) => {
                self.state = HostState::Prepared;
                ctx.emit.info(
                    Some(self.plan.server),
                    Step::Barrier,
                    "prepared; waiting for the other hosts",
                );
            }
            Err(msg) => self.fail(HostState::FailedBeforeSwitch, ctx, step, msg),
        }
    }

    fn prepare_steps(&mut self, ctx: &HostCtx<'_>, step: &mut Step) -> StepResult {
        let layout = &ctx.plan.layout;
        let id = Some(self.plan.server);
        ctx.emit.info(
            id,
            Step::Connect,
            format!("connecting to {}", self.plan.target),
        );
        let session = ctx
            .transport
            .connect(&self.plan.target, &ctx.connect_opts)
            .map_err(|e| e.to_string())?;
        self.session = Some(session);
        self.check_cancel(ctx)?;

        *step = Step::Prepare;
        self.run(ctx, Step::Prepare, &self.plan.prepare)?;
        *step = Step::Lock;
        self.take_lock(ctx)?;
        let link = self
            .session()?
            .read_link(layout.webroot())
            .map_err(|e| e.to_string())?;
        self.previous = match layout.parse_link(link.as_deref()) {
            LinkState::Missing => None,
            LinkState::Release(id) => Some(id),
            state @ LinkState::NotManaged { .. } => {
                return Err(format!(
                    "{state}; point it at a release or remove it before deploying"
                ));
            }
        };
        let prev_text = self
            .previous
            .as_ref()
            .map_or_else(|| "nothing".to_owned(), ToString::to_string);
        ctx.emit.info(
            id,
            Step::Prepare,
            format!("webroot {} points to {prev_text}", layout.webroot()),
        );
        self.check_cancel(ctx)?;

        match ctx.plan.kind {
            PlanKind::Deploy => {
                *step = Step::Upload;
                self.upload(ctx)?;
                *step = Step::LinkShared;
                for (_, c) in &self.plan.link_shared {
                    self.run(ctx, Step::LinkShared, c)?;
                }
            }
            PlanKind::Rollback => {
                *step = Step::Prepare;
                let dir = &self.plan.release_dir;
                if self
                    .run(ctx, Step::Prepare, &commands::dir_exists(dir))
                    .is_err()
                {
                    return Err(format!(
                        "release {} is no longer on {} ({dir} is missing); pick a release that is still kept",
                        ctx.plan.release, self.plan.name
                    ));
                }
            }
        }
        self.check_cancel(ctx)?;
        *step = Step::PreRelease;
        for c in &self.plan.pre_release {
            self.run(ctx, Step::PreRelease, c)?;
            self.check_cancel(ctx)?;
        }
        Ok(())
    }

    fn check_cancel(&self, ctx: &HostCtx<'_>) -> StepResult {
        if ctx.cancel.load(Ordering::SeqCst) {
            Err("cancelled".to_owned())
        } else {
            Ok(())
        }
    }

    fn take_lock(&mut self, ctx: &HostCtx<'_>) -> StepResult {
        let lock = ctx.plan.layout.lock_file();
        let content = ctx.lock_content.clone();
        let plan = self.plan;
        let session = self.session()?;
        if session
            .create_exclusive(&lock, content.as_bytes())
            .map_err(|e| e.to_string())?
        {
            self.locked = true;
            return Ok(());
        }
        // A lock is left on the host. We hold the project's lease, so no deploy from this database
        // runs; the lock belongs to a deploy that died, or to another Walle instance. Take it over
        // only once it is older than twice the lease lifetime.
        let found = session
            .read_file(&lock)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let found = String::from_utf8_lossy(&found).into_owned();
        let now = ctx.emit.clock.now();
        match TargetLock::parse(&found) {
            Ok(held) if held.age(now) < super::lease::LEASE_TTL * 2 => {
                return Err(format!(
                    "{} is locked by task {} ({}) on {} since {}; if that deploy is gone, the lock expires \
                     {}s after it was taken, or remove {lock}",
                    plan.name,
                    held.task,
                    held.holder,
                    held.host,
                    held.since,
                    (super::lease::LEASE_TTL * 2).as_secs()
                ));
            }
            // The transport creates the file, then writes it: an empty lock is one being taken
            // right now by another Walle instance.
            Err(_) if found.trim().is_empty() => {
                return Err(format!(
                    "{} is being locked by another deploy right now (its lock file is still empty); \
                     try again, or remove {lock} if it stays empty",
                    plan.name
                ));
            }
            _ => ctx.emit.info(
                Some(plan.server),
                Step::Lock,
                format!(
                    "taking over a stale host lock left by an interrupted deploy: {}",
                    found.trim()
                ),
            ),
        }
        session
            .write_file(&lock, content.as_bytes())
            .map_err(|e| e.to_string())?;
        self.locked = true;
        Ok(())
    }

    fn upload(&mut self, ctx: &HostCtx<'_>) -> StepResult {
        let artifact = ctx
            .artifact
            .ok_or_else(|| "no artifact to upload".to_owned())?;
        let layout = &ctx.plan.layout;
        let id = Some(self.plan.server);
        let new_dir = self.plan.release_dir.clone();
        let manifest_path = manifest_file(layout.meta_dir(), &ctx.plan.release, "manifest");
        let check_path = manifest_file(layout.meta_dir(), &ctx.plan.release, "sha256");

        // Incremental: only new and changed files travel; the unchanged ones are hard-linked from
        // the previous release afterwards. The release directory always starts empty, so nothing
        // of the previous release (files made by its hooks, shared-path symlinks) is carried over,
        // and neither the unpack nor a hook writes through a link into another release.
        let mut only: Option<Vec<String>> = None;
        let mut unchanged: Option<(AbsPath, Vec<String>)> = None;
        let previous = self.previous.clone().filter(|p| p != &ctx.plan.release);
        if let (false, Some(prev)) = (ctx.full_transfer, previous) {
            let prev_manifest = manifest_file(layout.meta_dir(), &prev, "manifest");
            let text = self
                .session()?
                .read_file(&prev_manifest)
                .map_err(|e| e.to_string())?;
            if let Some(old) = text.and_then(|t| manifest::parse_full(&String::from_utf8_lossy(&t)))
            {
                let delta = manifest::delta(&old, &artifact.files);
                ctx.emit.info(
                    id,
                    Step::Upload,
                    format!(
                        "incremental: sending {} of {} files, hard-linking {} unchanged from {prev}",
                        delta.send.len(),
                        artifact.files.len(),
                        delta.keep.len()
                    ),
                );
                only = Some(delta.send);
                unchanged = Some((layout.release_dir(&prev), delta.keep));
            }
        }
        if only.is_none() {
            ctx.emit.info(
                id,
                Step::Upload,
                format!("full transfer of {} files", artifact.files.len()),
            );
        }
        self.run(
            ctx,
            Step::Upload,
            &commands::remove_all(std::slice::from_ref(&new_dir)),
        )?;
        let manifests = manifests_dir(layout.meta_dir());
        self.run(
            ctx,
            Step::Upload,
            &commands::mkdirs(&[&new_dir, &manifests]),
        )?;
        let send = only.as_deref();
        if send.is_none_or(|s| !s.is_empty()) {
            let stream = ctx
                .workspace
                .tar_stream(artifact, send)
                .map_err(|e| e.to_string())?;
            let mut reader = CancelRead {
                inner: stream,
                cancel: ctx.cancel,
            };
            let summary = self.session()?.unpack(&mut reader, &new_dir).map_err(|e| {
                if ctx.cancel.load(Ordering::SeqCst) {
                    "cancelled during upload".to_owned()
                } else {
                    e.to_string()
                }
            })?;
            ctx.emit.info(
                id,
                Step::Upload,
                format!(
                    "unpacked {} entries ({} bytes)",
                    summary.entries, summary.bytes
                ),
            );
        }
        if let Some((prev_dir, files)) = &unchanged {
            for chunk in files.chunks(500) {
                self.run(
                    ctx,
                    Step::Upload,
                    &commands::link_unchanged(prev_dir, &new_dir, chunk),
                )?;
            }
        }
        let session = self.session()?;
        session
            .write_file(
                &manifest_path,
                manifest::render_full(&artifact.files).as_bytes(),
            )
            .map_err(|e| e.to_string())?;
        session
            .write_file(
                &check_path,
                manifest::render_check(&artifact.files).as_bytes(),
            )
            .map_err(|e| e.to_string())?;
        let lines = self.run(
            ctx,
            Step::Upload,
            &commands::verify_checksums(&new_dir, &check_path),
        )?;
        let bad: Vec<&String> = lines.iter().filter(|l| !l.ends_with(": OK")).collect();
        if !bad.is_empty() {
            return Err(format!(
                "checksum mismatch after upload: {}",
                bad.iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        ctx.emit.info(
            id,
            Step::Upload,
            format!("verified {} checksums", lines.len()),
        );
        Ok(())
    }

    /// Phase two: switch, health check, post-release hooks.
    pub(crate) fn switch(&mut self, ctx: &HostCtx<'_>) {
        let plan = self.plan;
        let id = Some(plan.server);
        let layout = &ctx.plan.layout;
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return self.fail(HostState::FailedBeforeSwitch, ctx, Step::Switch, e),
        };
        if let Err(e) = session.switch_symlink(layout.webroot(), &plan.release_dir) {
            // A failed switch leaves the old link in place (the rename did not happen).
            return self.fail(
                HostState::FailedBeforeSwitch,
                ctx,
                Step::Switch,
                e.to_string(),
            );
        }
        self.state = HostState::Switched;
        ctx.emit.info(
            id,
            Step::Switch,
            format!("{} -> {}", layout.webroot(), self.plan.release_dir),
        );
        if let Err(e) = self.health(ctx) {
            return self.fail(HostState::FailedAfterSwitch, ctx, Step::HealthCheck, e);
        }
        for c in &self.plan.post_release {
            if let Err(e) = self.run(ctx, Step::PostRelease, c) {
                return self.fail(HostState::FailedAfterSwitch, ctx, Step::PostRelease, e);
            }
        }
    }

    fn health(&mut self, ctx: &HostCtx<'_>) -> StepResult {
        let (Some(probe), Some(h)) = (self.plan.health.clone(), ctx.plan.health.as_ref()) else {
            return Ok(());
        };
        let attempts = h.retries.max(1);
        let opts = RunOptions {
            timeout: h.timeout,
            silence_timeout: None,
        };
        let mut last = String::new();
        let plan = self.plan;
        for attempt in 1..=attempts {
            let session = self.session()?;
            match ctx.emit.run(
                session,
                Some(plan.server),
                &plan.name,
                Step::HealthCheck,
                &probe,
                &opts,
            ) {
                Ok(_) => {
                    ctx.emit.info(
                        Some(self.plan.server),
                        Step::HealthCheck,
                        format!("healthy (attempt {attempt})"),
                    );
                    return Ok(());
                }
                Err(CommandFailed { summary }) => last = summary,
            }
            if attempt < attempts {
                ctx.emit.clock.sleep(h.interval);
            }
        }
        Err(format!("health check failed {attempts} time(s): {last}"))
    }

    /// Puts a switched host back on its own previous release (or removes the webroot link when
    /// there was none).
    pub(crate) fn revert(&mut self, ctx: &HostCtx<'_>) {
        let id = Some(self.plan.server);
        let layout = &ctx.plan.layout;
        let previous = self.previous.clone();
        let result = match (self.session(), &previous) {
            (Err(e), _) => Err(e),
            (Ok(s), Some(prev)) => s
                .switch_symlink(layout.webroot(), &layout.release_dir(prev))
                .map_err(|e| e.to_string()),
            (Ok(s), None) => s.remove_file(layout.webroot()).map_err(|e| e.to_string()),
        };
        match result {
            Ok(()) => {
                let to = previous
                    .map_or_else(|| "no release (first deploy)".to_owned(), |p| p.to_string());
                ctx.emit
                    .info(id, Step::Revert, format!("switched back to {to}"));
                self.state = HostState::Reverted;
            }
            Err(e) => {
                let msg = format!("could not switch back: {e}; this host needs attention");
                self.fail(HostState::FailedAfterSwitch, ctx, Step::Revert, msg);
            }
        }
    }

    /// Appends this deploy's ledger entries on the host (best effort; errors are reported).
    pub(crate) fn write_ledger(&mut self, ctx: &HostCtx<'_>, entries: &[LedgerEntry]) {
        if entries.is_empty() {
            return;
        }
        let path = ctx.plan.layout.ledger_file();
        let r = (|| -> StepResult {
            let session = self.session()?;
            let text = session
                .read_file(&path)
                .map_err(|e| e.to_string())?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let lines: Vec<LedgerLine> = entries
                .iter()
                .map(|e| LedgerLine {
                    entry: e.clone(),
                    actor_name: ctx.actor_name.clone(),
                })
                .collect();
            let text = layout::append_ledger(&text, &lines);
            session
                .write_file(&path, text.as_bytes())
                .map_err(|e| e.to_string())
        })();
        if let Err(e) = r {
            ctx.emit.error(
                Some(self.plan.server),
                Step::Ledger,
                format!("could not write the ledger: {e}"),
            );
        }
    }

    /// Removes releases beyond the project's keep count, never the live one nor the rollback target.
    pub(crate) fn cleanup(
        &mut self,
        ctx: &HostCtx<'_>,
        live: Option<&ReleaseId>,
        keep_also: Option<&ReleaseId>,
    ) -> Vec<ReleaseId> {
        let layout = &ctx.plan.layout;
        let r = (|| -> StepResult<Vec<ReleaseId>> {
            let names = self.run(
                ctx,
                Step::Cleanup,
                &commands::list_dir(layout.releases_dir()),
            )?;
            let project = ctx.plan.release.project();
            let present = layout::project_releases(names.iter().map(|n| n.trim()), project);
            let doomed =
                layout::releases_to_remove(&present, live, keep_also, ctx.plan.keep, project);
            if doomed.is_empty() {
                return Ok(doomed);
            }
            let mut paths: Vec<AbsPath> = Vec::new();
            for d in &doomed {
                paths.push(layout.release_dir(d));
                paths.push(manifest_file(layout.meta_dir(), d, "manifest"));
                paths.push(manifest_file(layout.meta_dir(), d, "sha256"));
            }
            self.run(ctx, Step::Cleanup, &commands::remove_all(&paths))?;
            Ok(doomed)
        })();
        match r {
            Ok(d) => d,
            Err(e) => {
                ctx.emit.error(
                    Some(self.plan.server),
                    Step::Cleanup,
                    format!("cleanup failed (the deploy is unaffected): {e}"),
                );
                Vec::new()
            }
        }
    }

    /// Removes the host lock if we hold it.
    pub(crate) fn unlock(&mut self, ctx: &HostCtx<'_>) {
        if !self.locked {
            return;
        }
        let lock = ctx.plan.layout.lock_file();
        if let Ok(s) = self.session() {
            if let Err(e) = s.remove_file(&lock) {
                ctx.emit.error(
                    Some(self.plan.server),
                    Step::Unlock,
                    format!("could not remove the host lock {lock}: {e}"),
                );
            } else {
                self.locked = false;
            }
        }
    }

    /// The ledger entries this deploy produced on this host.
    pub(crate) fn ledger_entries(
        &self,
        ctx: &HostCtx<'_>,
        at: crate::Timestamp,
    ) -> Vec<LedgerEntry> {
        let Some(commit) = ctx.commit.clone() else {
            return Vec::new();
        };
        let entry =
            |release: &ReleaseId, status: LedgerStatus, previous: Option<ReleaseId>| LedgerEntry {
                server: self.plan.server,
                release: release.clone(),
                commit: commit.clone(),
                task: ctx.task,
                actor: ctx.actor,
                status,
                previous,
                at,
            };
        let new = &ctx.plan.release;
        match (self.state, ctx.plan.kind.clone()) {
            (HostState::Switched, kind) => {
                let mut v = vec![entry(new, LedgerStatus::Live, self.previous.clone())];
                if let Some(p) = self.previous.as_ref().filter(|p| *p != new) {
                    let status = if kind == PlanKind::Rollback {
                        LedgerStatus::RolledBack
                    } else {
                        LedgerStatus::Superseded
                    };
                    v.push(entry(p, status, None));
                }
                v
            }
            (HostState::Reverted, PlanKind::Deploy) | (HostState::Prepared, PlanKind::Deploy) => {
                vec![entry(new, LedgerStatus::Failed, self.previous.clone())]
            }
            (HostState::FailedBeforeSwitch, PlanKind::Deploy) if self.session.is_some() => {
                vec![entry(new, LedgerStatus::Failed, self.previous.clone())]
            }
            _ => Vec::new(),
        }
    }
}

/// `<meta>/manifests/<release>.<ext>`.
pub(crate) fn manifest_file(meta: AbsPath, release: &ReleaseId, ext: &str) -> AbsPath {
    let rel = crate::value::RelPath::new(&format!("{release}.{ext}"))
        .expect("release ids are safe path components");
    manifests_dir(meta).join(&rel)
}

/// `<meta>/manifests`.
fn manifests_dir(meta: AbsPath) -> AbsPath {
    let rel = crate::value::RelPath::new("manifests").expect("a valid path component");
    meta.join(&rel)
}

/// A reader that fails once the deploy is cancelled, so an upload stops mid-stream.
struct CancelRead<'a> {
    inner: Box<dyn Read + Send>,
    cancel: &'a AtomicBool,
}

impl Read for CancelRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("deploy cancelled"));
        }
        self.inner.read(buf)
    }
}
