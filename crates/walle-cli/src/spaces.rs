//! `walle space ...` and `walle env ...`: spaces and their environments.

use serde::Serialize;
use walle_core::model::{Environment, OpenStatus, Page, Space};
use walle_core::value::Name;
use walle_rbac::{Action, Resource};

use crate::args::{EnvCmd, SpaceCmd};
use crate::context::Ctx;
use crate::output::{Report, table};

/// A space as shown.
#[derive(Debug, Serialize)]
pub struct SpaceView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Owner's user id.
    pub owner: i64,
    /// `open` or `closed`.
    pub status: &'static str,
}

/// An environment as shown.
#[derive(Debug, Serialize)]
pub struct EnvView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Space id.
    pub space: i64,
    /// `open` or `closed`.
    pub status: &'static str,
}

/// Runs a `walle space` command.
pub fn run(ctx: &Ctx, cmd: &SpaceCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    match cmd {
        SpaceCmd::Create { name, owner } => {
            ctx.check(&who, Action::SpaceCreate, &Resource::Platform)?;
            let owner = match owner {
                Some(e) => ctx.user_by_email(e)?,
                None => who.user.clone(),
            };
            let space = ctx
                .store
                .create_space(&Name::new(name)?, owner.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::SpaceCreate,
                format!("space:{}", space.id),
                space.name.to_string(),
            );
            let v = view(&space);
            let text = format!(
                "created space {} (id {}), owner {}",
                v.name, v.id, owner.email
            );
            Ok(Report::new(&v, text))
        }
        SpaceCmd::List => {
            let spaces: Vec<Space> = if who.user.is_super {
                ctx.store.list_spaces(None, Page::all())?.items
            } else {
                who.subject
                    .spaces()
                    .map(|(id, _)| ctx.store.space(id))
                    .collect::<Result<_, _>>()?
            };
            let views: Vec<SpaceView> = spaces.iter().map(view).collect();
            let rows = views
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.name.clone(),
                        s.owner.to_string(),
                        s.status.into(),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Report::new(
                &views,
                table(&["ID", "NAME", "OWNER", "STATUS"], &rows),
            ))
        }
        SpaceCmd::Show { name } => {
            let space = ctx.space_by_name(name)?;
            ctx.check(&who, Action::SpaceView, &Resource::Space(space.id))?;
            let v = view(&space);
            let text = format!(
                "space {}\n  id      {}\n  owner   {}\n  status  {}",
                v.name, v.id, v.owner, v.status
            );
            Ok(Report::new(&v, text))
        }
        SpaceCmd::Update {
            name,
            rename,
            owner,
            close,
            open,
        } => {
            let mut space = ctx.space_by_name(name)?;
            ctx.check(&who, Action::SpaceUpdate, &Resource::Space(space.id))?;
            if let Some(r) = rename {
                space.name = Name::new(r)?;
            }
            if let Some(e) = owner {
                space.owner = ctx.user_by_email(e)?.id;
            }
            if *close {
                space.status = OpenStatus::Closed;
            } else if *open {
                space.status = OpenStatus::Open;
            }
            let space = ctx.store.update_space(&space)?;
            ctx.audit(
                &who,
                Action::SpaceUpdate,
                format!("space:{}", space.id),
                String::new(),
            );
            let v = view(&space);
            let text = format!("updated space {}", v.name);
            Ok(Report::new(&v, text))
        }
        SpaceCmd::Delete { name } => {
            let space = ctx.space_by_name(name)?;
            ctx.check(&who, Action::SpaceDelete, &Resource::Space(space.id))?;
            ctx.store.delete_space(space.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::SpaceDelete,
                format!("space:{}", space.id),
                space.name.to_string(),
            );
            Ok(Report::new(
                &view(&space),
                format!("deleted space {}", space.name),
            ))
        }
    }
}

/// Runs a `walle env` command.
pub fn run_env(ctx: &Ctx, cmd: &EnvCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let res = Resource::Space(space.id);
    match cmd {
        EnvCmd::Create { name } => {
            ctx.check(&who, Action::EnvironmentCreate, &res)?;
            let env = ctx.store.create_environment(space.id, &Name::new(name)?)?;
            ctx.audit(
                &who,
                Action::EnvironmentCreate,
                format!("environment:{}", env.id),
                env.name.to_string(),
            );
            let v = env_view(&env);
            let text = format!(
                "created environment {} (id {}) in space {}",
                v.name, v.id, space.name
            );
            Ok(Report::new(&v, text))
        }
        EnvCmd::List => {
            ctx.check(&who, Action::EnvironmentView, &res)?;
            let envs = ctx.store.list_environments(space.id, Page::all())?;
            let views: Vec<EnvView> = envs.items.iter().map(env_view).collect();
            let rows = views
                .iter()
                .map(|e| vec![e.id.to_string(), e.name.clone(), e.status.into()])
                .collect::<Vec<_>>();
            Ok(Report::new(&views, table(&["ID", "NAME", "STATUS"], &rows)))
        }
        EnvCmd::Update {
            name,
            rename,
            close,
            open,
        } => {
            ctx.check(&who, Action::EnvironmentUpdate, &res)?;
            let mut env = ctx.environment_by_name(&space, name)?;
            if let Some(r) = rename {
                env.name = Name::new(r)?;
            }
            if *close {
                env.status = OpenStatus::Closed;
            } else if *open {
                env.status = OpenStatus::Open;
            }
            let env = ctx.store.update_environment(&env)?;
            ctx.audit(
                &who,
                Action::EnvironmentUpdate,
                format!("environment:{}", env.id),
                String::new(),
            );
            let v = env_view(&env);
            let text = format!("updated environment {}", v.name);
            Ok(Report::new(&v, text))
        }
        EnvCmd::Delete { name } => {
            ctx.check(&who, Action::EnvironmentDelete, &res)?;
            let env = ctx.environment_by_name(&space, name)?;
            ctx.store.delete_environment(env.id)?;
            ctx.audit(
                &who,
                Action::EnvironmentDelete,
                format!("environment:{}", env.id),
                env.name.to_string(),
            );
            Ok(Report::new(
                &env_view(&env),
                format!("deleted environment {}", env.name),
            ))
        }
    }
}

fn status(s: OpenStatus) -> &'static str {
    match s {
        OpenStatus::Open => "open",
        OpenStatus::Closed => "closed",
    }
}

/// The shown form of a space.
pub fn view(s: &Space) -> SpaceView {
    SpaceView {
        id: s.id.get(),
        name: s.name.to_string(),
        owner: s.owner.get(),
        status: status(s.status),
    }
}

/// The shown form of an environment.
pub fn env_view(e: &Environment) -> EnvView {
    EnvView {
        id: e.id.get(),
        name: e.name.to_string(),
        space: e.space.get(),
        status: status(e.status),
    }
}
