//! `walle project ...`: projects and their settings (from and to TOML files).

use anyhow::Context as _;
use serde::Serialize;
use walle_core::model::{Page, Project, RepoKind, RepoMode, Space};
use walle_core::ports::{RepoHandle, Vcs as _};
use walle_core::value::RefName;
use walle_core::{EnvironmentId, Secret, ServerId};
use walle_rbac::{Action, Resource};

use crate::args::{ProjectCmd, ProjectSettings};
use crate::context::Ctx;
use crate::error::usage;
use crate::output::{Report, table};
use crate::project_file::{EXAMPLE, ProjectFile, Resolve};

/// A project as shown: its id and its settings as in the project file.
#[derive(Debug, Serialize)]
pub struct ProjectView {
    /// Id.
    pub id: i64,
    /// Space id.
    pub space: i64,
    /// The settings (no secrets).
    #[serde(flatten)]
    pub settings: ProjectFile,
}

/// Runs a `walle project` command.
pub fn run(ctx: &Ctx, cmd: &ProjectCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    match cmd {
        ProjectCmd::Example => Ok(Report::new(
            &serde_json::json!({ "example": EXAMPLE }),
            EXAMPLE,
        )),
        ProjectCmd::Create {
            name,
            from,
            settings,
        } => {
            ctx.check(&who, Action::ProjectCreate, &Resource::Space(space.id))?;
            let mut file = match from {
                Some(f) => read_file(f)?,
                None => blank(name.as_deref())?,
            };
            if let Some(n) = name {
                file.name = n.clone();
            }
            apply(&mut file, settings);
            if file.repo.url.trim().is_empty() {
                return Err(usage("give the repository: --repo URL (or --from FILE)"));
            }
            if file.deploy.webroot.trim().is_empty() {
                return Err(usage("give the webroot: --webroot PATH (or --from FILE)"));
            }
            let spec = file.to_spec(&Names { ctx, space: &space }, None)?;
            let project = ctx
                .store
                .create_project(space.id, &spec, who.user.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::ProjectCreate,
                format!("project:{}", project.id),
                project.spec.name.to_string(),
            );
            let v = view(ctx, &project)?;
            let text = format!(
                "created project {} (id {}) in space {}: {} -> {}",
                v.settings.name, v.id, space.name, project.spec.repo.url, project.spec.webroot
            );
            Ok(Report::new(&v, text))
        }
        ProjectCmd::Update {
            name,
            from,
            settings,
        } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::ProjectUpdate,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            let mut file = match from {
                Some(f) => read_file(f)?,
                None => view(ctx, &project)?.settings,
            };
            apply(&mut file, settings);
            let spec = file.to_spec(&Names { ctx, space: &space }, Some(&project.spec))?;
            let project = ctx.store.update_project(project.id, &spec, ctx.now())?;
            ctx.audit(
                &who,
                Action::ProjectUpdate,
                format!("project:{}", project.id),
                String::new(),
            );
            let v = view(ctx, &project)?;
            let text = format!("updated project {}", v.settings.name);
            Ok(Report::new(&v, text))
        }
        ProjectCmd::Export { name } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::ProjectView,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            let v = view(ctx, &project)?;
            let text = v.settings.to_toml()?;
            Ok(Report::new(&v, text))
        }
        ProjectCmd::List => {
            ctx.check(&who, Action::ServerView, &Resource::Space(space.id))?;
            let projects = ctx.store.list_projects(space.id, None, None, Page::all())?;
            let mut views = Vec::new();
            for p in &projects.items {
                let pref = ctx.project_ref(p)?;
                if walle_rbac::check(&who.subject, Action::ProjectView, &Resource::Project(pref))
                    .is_ok()
                {
                    views.push(view(ctx, p)?);
                }
            }
            let rows = views
                .iter()
                .map(|v| {
                    vec![
                        v.id.to_string(),
                        v.settings.name.clone(),
                        v.settings.environment.clone().unwrap_or_default(),
                        v.settings.repo.url.clone(),
                        v.settings.deploy.webroot.clone(),
                        v.settings.servers.join(","),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Report::new(
                &views,
                table(&["ID", "NAME", "ENV", "REPO", "WEBROOT", "SERVERS"], &rows),
            ))
        }
        ProjectCmd::Show { name } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::ProjectView,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            let v = view(ctx, &project)?;
            let s = &v.settings;
            let text = format!(
                "project {} (id {})\n  environment  {}\n  repo         {} {} ({} mode)\n  webroot      {}\n  releases     {} (keep {})\n  servers      {}\n  approval     {}{}\n  hooks        {} pre-deploy, {} build, {} pre-release, {} post-release\n",
                s.name,
                v.id,
                s.environment.as_deref().unwrap_or("-"),
                s.repo.kind,
                s.repo.url,
                s.repo.mode,
                s.deploy.webroot,
                s.deploy.releases_dir,
                s.deploy.keep,
                s.servers.join(", "),
                if s.approval.required {
                    "required"
                } else {
                    "not required"
                },
                if s.approval.separate_approver {
                    ", by someone else than the submitter"
                } else {
                    ""
                },
                s.hooks.pre_deploy.len(),
                s.hooks.post_deploy.len(),
                s.hooks.pre_release.len(),
                s.hooks.post_release.len(),
            );
            Ok(Report::new(&v, text))
        }
        ProjectCmd::Versions { name, branch } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::ProjectBrowseRepo,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            versions(ctx, &project, branch.as_deref())
        }
        ProjectCmd::Delete { name } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::ProjectDelete,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            ctx.store.delete_project(project.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::ProjectDelete,
                format!("project:{}", project.id),
                project.spec.name.to_string(),
            );
            Ok(Report::new(
                &serde_json::json!({ "deleted": project.spec.name.as_str(), "id": project.id.get() }),
                format!("deleted project {}", project.spec.name),
            ))
        }
        ProjectCmd::Unlock { name } => {
            let project = ctx.project_by_name(&space, name)?;
            ctx.check(
                &who,
                Action::LockForceUnlock,
                &Resource::Project(ctx.project_ref(&project)?),
            )?;
            let key = walle_core::model::LockKey::project(project.id);
            let broken = ctx.store.force_release(&key, who.user.id, ctx.now())?;
            let text = match &broken {
                Some(l) => format!(
                    "broke the deploy lock of {} held by {} since {}",
                    project.spec.name, l.holder, l.acquired_at
                ),
                None => format!("project {} was not locked", project.spec.name),
            };
            Ok(Report::new(
                &serde_json::json!({
                    "project": project.spec.name.as_str(),
                    "was_locked": broken.is_some(),
                    "holder": broken.as_ref().map(|l| l.holder.clone()),
                }),
                text,
            ))
        }
        ProjectCmd::Check(args) => crate::check::run(ctx, args),
    }
}

/// The shown form of a project.
pub fn view(ctx: &Ctx, p: &Project) -> anyhow::Result<ProjectView> {
    let env = ctx
        .store
        .environment(p.spec.environment)
        .map(|e| e.name.to_string())
        .unwrap_or_else(|_| p.spec.environment.to_string());
    let servers = server_names(ctx, &p.spec.servers);
    Ok(ProjectView {
        id: p.id.get(),
        space: p.space.get(),
        settings: ProjectFile::from_spec(&p.spec, &env, &servers),
    })
}

/// Names of servers (the id when a server is gone).
pub fn server_names(ctx: &Ctx, ids: &[ServerId]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            ctx.store
                .server(*id)
                .map(|s| s.spec.name.to_string())
                .unwrap_or_else(|_| id.to_string())
        })
        .collect()
}

/// A project file with only a name, for `project create NAME --repo ... --webroot ...`.
fn blank(name: Option<&str>) -> anyhow::Result<ProjectFile> {
    let name = name.ok_or_else(|| usage("give the project a name (or --from FILE)"))?;
    let text = format!(
        "name = {}\n[repo]\nurl = \"\"\n[deploy]\nwebroot = \"\"\nreleases_dir = \"\"\n",
        toml_string(name)
    );
    ProjectFile::parse(&text)
}

fn toml_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Applies the options over a project file.
fn apply(file: &mut ProjectFile, s: &ProjectSettings) {
    if let Some(v) = &s.repo {
        file.repo.url = v.clone();
    }
    if let Some(v) = &s.repo_kind {
        file.repo.kind = v.clone();
    }
    if let Some(v) = &s.mode {
        file.repo.mode = v.clone();
    }
    if let Some(v) = &s.webroot {
        file.deploy.webroot = v.clone();
    }
    if let Some(v) = &s.releases_dir {
        file.deploy.releases_dir = v.clone();
    } else if file.deploy.releases_dir.trim().is_empty() {
        // Default: `releases` beside the webroot.
        let w = file.deploy.webroot.trim_end_matches('/');
        if let Some((parent, _)) = w.rsplit_once('/') {
            file.deploy.releases_dir = format!("{parent}/releases");
        }
    }
    if let Some(v) = s.keep {
        file.deploy.keep = v;
    }
    if !s.servers.is_empty() {
        file.servers = s.servers.clone();
    }
    if let Some(v) = &s.environment {
        file.environment = Some(v.clone());
    }
    if s.approval || s.separate_approver {
        file.approval.required = true;
    }
    if s.no_approval {
        file.approval.required = false;
        file.approval.separate_approver = false;
    }
    if s.separate_approver {
        file.approval.separate_approver = true;
    }
}

fn read_file(path: &std::path::Path) -> anyhow::Result<ProjectFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))
        .map_err(|e| usage(format!("{e:#}")))?;
    ProjectFile::parse(&text).with_context(|| format!("in {}", path.display()))
}

#[derive(Debug, Serialize)]
struct Versions {
    branches: Vec<serde_json::Value>,
    tags: Vec<serde_json::Value>,
    commits: Vec<serde_json::Value>,
}

fn versions(ctx: &Ctx, project: &Project, branch: Option<&str>) -> anyhow::Result<Report> {
    let adapters = crate::adapters::Adapters::new(ctx)?;
    let repo = RepoHandle {
        project: project.id,
        config: project.spec.repo.clone(),
    };
    let mut v = Versions {
        branches: Vec::new(),
        tags: Vec::new(),
        commits: Vec::new(),
    };
    let mut text = String::new();
    if let Some(b) = branch {
        let b = RefName::new(b)?;
        for c in adapters.vcs.commits(&repo, &b, 20)? {
            text.push_str(&format!(
                "{}  {}  {}  {}\n",
                c.id.short(10),
                c.date,
                c.author,
                c.subject
            ));
            v.commits.push(serde_json::json!({
                "id": c.id.as_str(), "author": c.author, "date": c.date.to_string(), "subject": c.subject
            }));
        }
    } else {
        if project.spec.repo.mode == RepoMode::Branch || project.spec.repo.kind == RepoKind::Svn {
            text.push_str("branches:\n");
            for b in adapters.vcs.branches(&repo)? {
                text.push_str(&format!("  {}  {}\n", b.name, b.head.short(10)));
                v.branches
                    .push(serde_json::json!({ "name": b.name.as_str(), "head": b.head.as_str() }));
            }
        }
        text.push_str("tags:\n");
        for t in adapters.vcs.tags(&repo)? {
            text.push_str(&format!(
                "  {}  {}  {}\n",
                t.name,
                t.commit.short(10),
                t.date
            ));
            v.tags
                .push(serde_json::json!({ "name": t.name.as_str(), "commit": t.commit.as_str() }));
        }
    }
    Ok(Report::new(&v, text))
}

/// Resolves names in a project file against a space.
struct Names<'a> {
    ctx: &'a Ctx,
    space: &'a Space,
}

impl Resolve for Names<'_> {
    fn environment(&self, name: Option<&str>) -> anyhow::Result<EnvironmentId> {
        match name {
            Some(n) => Ok(self.ctx.environment_by_name(self.space, n)?.id),
            None => {
                let envs = self
                    .ctx
                    .store
                    .list_environments(self.space.id, Page::all())?;
                match envs.items.as_slice() {
                    [only] => Ok(only.id),
                    [] => Err(usage(format!(
                        "space {} has no environment; create one with `walle env create NAME`",
                        self.space.name
                    ))),
                    _ => Err(usage(
                        "the space has several environments; set `environment` in the file",
                    )),
                }
            }
        }
    }

    fn server(&self, name: &str) -> anyhow::Result<ServerId> {
        Ok(self.ctx.server_by_name(self.space, name)?.id)
    }

    fn env_secret(&self, var: &str) -> anyhow::Result<Secret> {
        std::env::var(var).map(Secret::new).map_err(|_| {
            usage(format!(
                "environment variable {var} (named in the project file) is not set"
            ))
        })
    }

    fn file_secret(&self, path: &str) -> anyhow::Result<Secret> {
        let s = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("reading the secret file {path}: {e}")))?;
        Ok(Secret::new(s.trim_end_matches(['\n', '\r'])))
    }
}
