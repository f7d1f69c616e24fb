//! `walle release list`: a project's releases and where each host's webroot points.

use serde::Serialize;
use walle_core::model::{Page, Project};
use walle_rbac::{Action, Resource};

use crate::args::ReleaseCmd;
use crate::context::Ctx;
use crate::output::{Report, table};
use crate::tasks::host_releases;

/// A release as shown.
#[derive(Debug, Serialize)]
pub struct ReleaseView {
    /// Id (the directory name on every host).
    pub id: String,
    /// Commit.
    pub commit: String,
    /// Fleet status.
    pub status: &'static str,
    /// The task that built it.
    pub task: i64,
    /// Build time.
    pub created_at: String,
    /// Hosts where it is live.
    pub live_on: Vec<String>,
    /// Hosts where it is kept (a rollback can return to it there).
    pub kept_on: Vec<String>,
}

/// A project's releases.
#[derive(Debug, Serialize)]
pub struct ReleasesView {
    /// Project name.
    pub project: String,
    /// The webroot symlink.
    pub webroot: String,
    /// The releases directory.
    pub releases_dir: String,
    /// Releases, newest first.
    pub releases: Vec<ReleaseView>,
}

/// Runs a `walle release` command.
pub fn run(ctx: &Ctx, cmd: &ReleaseCmd) -> anyhow::Result<Report> {
    let ReleaseCmd::List { project } = cmd;
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let project = ctx.project_by_name(&space, project)?;
    ctx.check(
        &who,
        Action::ProjectView,
        &Resource::Project(ctx.project_ref(&project)?),
    )?;
    let view = releases(ctx, &project)?;
    let rows = view
        .releases
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.commit.chars().take(10).collect(),
                r.task.to_string(),
                placement(r),
            ]
        })
        .collect::<Vec<_>>();
    let text = format!(
        "webroot {}, releases in {}\n{}",
        view.webroot,
        view.releases_dir,
        table(&["RELEASE", "COMMIT", "TASK", "ON THE HOSTS"], &rows)
    );
    Ok(Report::new(&view, text))
}

/// The releases of a project with their placement on the hosts.
pub fn releases(ctx: &Ctx, project: &Project) -> anyhow::Result<ReleasesView> {
    let hosts = host_releases(ctx, project, &project.spec.servers)?;
    let names = crate::projects::server_names(ctx, &project.spec.servers);
    let name_of = |id| {
        project
            .spec
            .servers
            .iter()
            .position(|s| *s == id)
            .and_then(|i| names.get(i).cloned())
            .unwrap_or_default()
    };
    let list = ctx.store.list_releases(project.id, Page::all())?;
    let releases = list
        .items
        .iter()
        .map(|r| ReleaseView {
            id: r.id.to_string(),
            commit: r.commit.to_string(),
            status: r.status.as_str(),
            task: r.task.get(),
            created_at: r.created_at.to_string(),
            live_on: hosts
                .iter()
                .filter(|(_, h)| h.live.as_ref() == Some(&r.id))
                .map(|(s, _)| name_of(*s))
                .collect(),
            kept_on: hosts
                .iter()
                .filter(|(_, h)| h.kept.contains(&r.id))
                .map(|(s, _)| name_of(*s))
                .collect(),
        })
        .collect();
    Ok(ReleasesView {
        project: project.spec.name.to_string(),
        webroot: project.spec.webroot.to_string(),
        releases_dir: project.spec.releases_dir.to_string(),
        releases,
    })
}

/// Where a release is, from the hosts' ledgers: `live on web1,web2`, `kept on web1`, or the
/// store's status when no host holds it (failed, removed).
pub fn placement(r: &ReleaseView) -> String {
    let kept_only: Vec<&String> = r
        .kept_on
        .iter()
        .filter(|h| !r.live_on.contains(h))
        .collect();
    let mut parts = Vec::new();
    if !r.live_on.is_empty() {
        parts.push(format!("live on {}", r.live_on.join(",")));
    }
    if !kept_only.is_empty() {
        let names: Vec<&str> = kept_only.iter().map(|s| s.as_str()).collect();
        parts.push(format!("kept on {}", names.join(",")));
    }
    if parts.is_empty() {
        r.status.to_owned()
    } else {
        parts.join("; ")
    }
}
