//! The deploy-host half of a deploy: fetch, resolve, pre-deploy hooks, export, build, package.

use super::emit::Emitter;
use super::run::{CancelFlag, Ports};
use crate::model::Step;
use crate::plan::LocalPlan;
use crate::ports::{Artifact, ConnectOptions, HostTarget, RunOptions};
use crate::value::{CommitId, HostName, Port, ReleaseId, SshUser};

/// Builds the release on the deploy host; returns the exact commit and the packaged artifact.
/// `replan` rebuilds the deploy-host plan once the commit is resolved, so that every hook sees the
/// exact `COMMIT_ID`.
pub(crate) fn build(
    ports: &Ports<'_>,
    emit: &Emitter<'_>,
    local: &LocalPlan,
    cancel: &CancelFlag,
    release: &ReleaseId,
    replan: &dyn Fn(&CommitId) -> Result<LocalPlan, String>,
) -> Result<(CommitId, Artifact), String> {
    let check = || {
        if cancel.is_cancelled() {
            Err("cancelled".to_owned())
        } else {
            Ok(())
        }
    };
    emit.info(
        None,
        Step::Fetch,
        format!("fetching {}", local.repo.config.url),
    );
    ports.vcs.sync(&local.repo).map_err(|e| e.to_string())?;
    let commit = ports
        .vcs
        .resolve(&local.repo, &local.revision)
        .map_err(|e| e.to_string())?;
    emit.info(None, Step::Fetch, format!("resolved to {commit}"));
    let resolved = replan(&commit)?;
    let local = &resolved;
    check()?;

    let needs_shell = !local.pre_deploy.is_empty() || !local.build.is_empty();
    let mut session = if needs_shell {
        let target = HostTarget {
            server: None,
            host: HostName::new("local").expect("'local' is a valid host name"),
            port: Port::default(),
            user: SshUser::new("walle").expect("'walle' is a valid user name"),
        };
        Some(
            ports
                .local
                .connect(&target, &ConnectOptions::default())
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let opts = RunOptions::default();
    for c in &local.pre_deploy {
        let s = session.as_deref_mut().ok_or("no local session")?;
        emit.run(s, None, "the deploy host", Step::PreDeploy, c, &opts)
            .map_err(|e| e.summary)?;
        check()?;
    }
    let build_dir = std::path::Path::new(local.build_dir.as_str());
    let summary = ports
        .vcs
        .export(&local.repo, &commit, build_dir, &local.filter)
        .map_err(|e| e.to_string())?;
    emit.info(
        None,
        Step::Export,
        format!(
            "exported {} files ({} bytes) into {}",
            summary.files, summary.bytes, local.build_dir
        ),
    );
    check()?;
    for c in &local.build {
        let s = session.as_deref_mut().ok_or("no local session")?;
        emit.run(s, None, "the deploy host", Step::Build, c, &opts)
            .map_err(|e| e.summary)?;
        check()?;
    }
    let artifact = ports
        .workspace
        .package(release, &local.build_dir)
        .map_err(|e| e.to_string())?;
    emit.info(
        None,
        Step::Package,
        format!(
            "packaged {} files, checksum {}",
            artifact.files.len(),
            &artifact.checksum
        ),
    );
    Ok((commit, artifact))
}
