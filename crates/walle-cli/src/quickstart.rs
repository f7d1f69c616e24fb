//! `walle quickstart`: the main job end to end on this machine, with nothing set up by hand.
//!
//! Initialises an embedded store in a fresh directory, creates a sample git repository, defines
//! the server `local` (this host, local transport) and a project, deploys v1, commits and deploys
//! v2, rolls back to v1, and shows the releases and where the webroot points.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use walle_core::model::{
    DeployStrategy, FileFilter, Hooks, NotifySettings, ProjectSpec, RepoConfig, RepoCredentials,
    RepoKind, RepoMode, ServerSpec, SharedPaths, TaskStatus,
};
use walle_core::value::{AbsPath, HostName, Name, Port};
use walle_rbac::{Action, Resource};

use crate::args::{Global, InitArgs, QuickstartArgs, TaskCreateArgs, VersionArgs};
use crate::context::{Acting, Ctx};
use crate::error::{CliError, usage};
use crate::output::{self, Mode, Report, table};
use crate::{init, releases, servers, tasks};

/// The project the quickstart creates.
pub const PROJECT: &str = "quickstart";

/// What the quickstart did.
#[derive(Debug, Serialize)]
pub struct QuickstartView {
    /// The data directory.
    pub data_dir: String,
    /// The SUPER account and its password (shown once).
    pub email: String,
    /// Password.
    pub password: String,
    /// The sample repository.
    pub repository: String,
    /// Task ids: v1 deploy, v2 deploy, rollback.
    pub tasks: Vec<i64>,
    /// Release of v1.
    pub release_v1: String,
    /// Release of v2.
    pub release_v2: String,
    /// The webroot symlink.
    pub webroot: String,
    /// Where it points now.
    pub webroot_target: String,
    /// The live `index.html`.
    pub index_html: String,
    /// The releases.
    pub releases: releases::ReleasesView,
    /// Seconds it took.
    pub seconds: f64,
}

/// Runs the quickstart.
pub fn run(global: &Global, args: &QuickstartArgs, mode: Mode) -> anyhow::Result<Report> {
    let started = Instant::now();
    let dir = match args.dir.clone().or_else(|| global.data_dir.clone()) {
        Some(d) => absolute(&d)?,
        None => std::env::temp_dir().join(format!(
            "walle-quickstart-{}",
            crate::password::random_hex(4)?
        )),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        return Err(usage(format!(
            "{} is not empty; the quickstart needs an empty or new directory (pass --dir)",
            dir.display()
        )));
    }
    let g = Global {
        data_dir: Some(dir.clone()),
        database_url: None,
        as_user: None,
        space: None,
        identity: global.identity.clone(),
        json: global.json,
    };
    output::note(
        mode,
        &format!("==> initialising walle in {}", dir.display()),
    );
    let initialised = init::init_quiet(
        &g,
        &InitArgs {
            email: "admin@walle.local".into(),
            name: "admin".into(),
            space_name: "default".into(),
            environment: "production".into(),
        },
    )?;
    let ctx = Ctx::open(&g)?;
    let who = ctx.acting()?;

    let base = dir.join("quickstart");
    let repo = base.join("repo");
    let www = base.join("www");
    output::note(
        mode,
        &format!("==> creating a sample git repository in {}", repo.display()),
    );
    create_repo(&repo)?;
    commit(&repo, "v1")?;

    output::note(
        mode,
        "==> defining server `local` (this host) and project `quickstart`",
    );
    define(&ctx, &who, &repo, &www)?;

    output::note(mode, "==> deploying v1");
    let t1 = deploy_branch(&ctx, &who, "v1", mode)?;
    commit(&repo, "v2")?;
    output::note(mode, "==> committed v2; deploying v2");
    let t2 = deploy_branch(&ctx, &who, "v2", mode)?;

    output::note(mode, "==> rolling back to v1");
    let from = ctx.task(t2.id.get())?;
    let rb = tasks::create_rollback(&ctx, &who, &from, t1.release.as_ref().map(|r| r.as_str()))?;
    let rb = finish(&ctx, &who, rb, mode)?;

    let space = ctx.space(&who)?;
    let project = ctx.project_by_name(&space, PROJECT)?;
    let rels = releases::releases(&ctx, &project)?;
    let webroot = www.join("current");
    let target = std::fs::read_link(&webroot)
        .with_context(|| format!("reading the link {}", webroot.display()))?;
    let index = std::fs::read_to_string(webroot.join("index.html"))
        .with_context(|| format!("reading {}/index.html", webroot.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let r1 = t1.release.map(|r| r.to_string()).unwrap_or_default();
    let r2 = t2.release.map(|r| r.to_string()).unwrap_or_default();
    let view = QuickstartView {
        data_dir: dir.display().to_string(),
        email: initialised.email.clone(),
        password: initialised.password.clone(),
        repository: repo.display().to_string(),
        tasks: vec![t1.id.get(), t2.id.get(), rb.id.get()],
        release_v1: r1.clone(),
        release_v2: r2.clone(),
        webroot: webroot.display().to_string(),
        webroot_target: target.display().to_string(),
        index_html: index.trim_end().to_owned(),
        releases: rels,
        seconds,
    };
    let rows = view
        .releases
        .releases
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.commit.chars().take(10).collect(),
                r.task.to_string(),
                releases::placement(r),
            ]
        })
        .collect::<Vec<_>>();
    let text = format!(
        "\nQuickstart done in {seconds:.1}s. Everything is in {dir}\n\
         \n  1. initialised an embedded store; SUPER {email} (password {pw}, shown once)\
         \n  2. created a git repository {repo} and committed v1\
         \n  3. server `local` is this host (local transport); project `{PROJECT}` deploys to {webroot}\
         \n  4. task {t1} deployed v1 as release {r1}\
         \n  5. committed v2; task {t2} deployed it as release {r2}\
         \n  6. task {t3} rolled back to release {r1}\n\
         \nReleases of {PROJECT} (newest first):\n{table}\
         \n{webroot} -> {target}\
         \n{webroot}/index.html: {index}\n\
         \nLook around:\
         \n  export WALLE_DATA_DIR={dir}\
         \n  walle release list {PROJECT}\
         \n  walle task list\
         \n  walle task logs {t2}\
         \n  walle project export {PROJECT}",
        dir = view.data_dir,
        email = view.email,
        pw = view.password,
        repo = view.repository,
        webroot = view.webroot,
        t1 = view.tasks[0],
        t2 = view.tasks[1],
        t3 = view.tasks[2],
        table = table(&["RELEASE", "COMMIT", "TASK", "ON THE HOSTS"], &rows),
        target = view.webroot_target,
        index = view.index_html,
    );
    Ok(Report::new(&view, text))
}

fn define(ctx: &Ctx, who: &Acting, repo: &Path, www: &Path) -> anyhow::Result<()> {
    let space = ctx.space(who)?;
    ctx.check(who, Action::ServerCreate, &Resource::Space(space.id))?;
    let server = ctx.store.create_server(
        space.id,
        &ServerSpec {
            name: Name::new("local")?,
            host: HostName::new(servers::LOCAL_HOST)?,
            port: Port::default(),
            user: servers::current_user()?,
            labels: Vec::new(),
        },
    )?;
    ctx.check(who, Action::ProjectCreate, &Resource::Space(space.id))?;
    let env = ctx.environment_by_name(&space, "production")?;
    let spec = ProjectSpec {
        name: Name::new(PROJECT)?,
        environment: env.id,
        repo: RepoConfig {
            kind: RepoKind::Git,
            url: format!("file://{}", repo.display()),
            mode: RepoMode::Branch,
            credentials: RepoCredentials::None,
        },
        webroot: abs(&www.join("current"))?,
        releases_dir: abs(&www.join("releases"))?,
        keep_releases: 5,
        filter: FileFilter::default(),
        shared: SharedPaths::default(),
        hooks: Hooks {
            post_deploy: vec![
                "printf 'built from commit %s\\n' \"$COMMIT_ID\" > BUILD_INFO".into(),
            ],
            ..Hooks::default()
        },
        variables: Vec::new(),
        servers: vec![server.id],
        health_check: None,
        strategy: DeployStrategy::default(),
        require_approval: false,
        separate_approver: false,
        notify: NotifySettings::default(),
    };
    ctx.store
        .create_project(space.id, &spec, who.user.id, ctx.now())?;
    Ok(())
}

fn deploy_branch(
    ctx: &Ctx,
    who: &Acting,
    title: &str,
    mode: Mode,
) -> anyhow::Result<walle_core::model::Task> {
    let task = tasks::create(
        ctx,
        who,
        &TaskCreateArgs {
            project: PROJECT.into(),
            version: VersionArgs {
                branch: Some("main".into()),
                commit: None,
                tag: None,
            },
            servers: Vec::new(),
            title: Some(format!("deploy {title}")),
        },
    )?;
    finish(ctx, who, task, mode)
}

fn finish(
    ctx: &Ctx,
    who: &Acting,
    task: walle_core::model::Task,
    mode: Mode,
) -> anyhow::Result<walle_core::model::Task> {
    let id = task.id;
    let report = tasks::deploy_created(ctx, who, task, false, mode)?;
    let task = ctx.store.task(id)?;
    if task.status != TaskStatus::Succeeded {
        return Err(CliError::Failed(format!("quickstart stopped: {}", report.text())).into());
    }
    Ok(task)
}

fn create_repo(repo: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(repo).with_context(|| format!("creating {}", repo.display()))?;
    git(repo, &["init", "-q"])?;
    git(repo, &["symbolic-ref", "HEAD", "refs/heads/main"])?;
    Ok(())
}

fn commit(repo: &Path, version: &str) -> anyhow::Result<()> {
    std::fs::write(
        repo.join("index.html"),
        format!("<h1>Hello from the walle quickstart, {version}</h1>\n"),
    )?;
    std::fs::write(repo.join("VERSION"), format!("{version}\n"))?;
    git(repo, &["add", "-A"])?;
    git(
        repo,
        &[
            "-c",
            "user.name=walle quickstart",
            "-c",
            "user.email=quickstart@walle.local",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            version,
        ],
    )
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = crate::adapters::command("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            CliError::Failed(format!(
                "cannot run git ({e}); the quickstart needs git installed (apt-get install git)"
            ))
        })?;
    if !out.status.success() {
        return Err(CliError::Failed(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    Ok(())
}

fn abs(p: &Path) -> anyhow::Result<AbsPath> {
    let s = p
        .to_str()
        .ok_or_else(|| usage(format!("{} is not UTF-8", p.display())))?;
    Ok(AbsPath::new(s)?)
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()?.join(p)
    })
}
