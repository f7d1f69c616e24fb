//! `walle member ...`: who holds which role in a space or project.

use serde::Serialize;
use walle_core::model::{MemberScope, Membership, Page};
use walle_rbac::{Action, Resource};

use crate::args::MemberCmd;
use crate::context::Ctx;
use crate::output::{Report, table};
use crate::users::parse_role;

/// A member as shown.
#[derive(Debug, Serialize)]
pub struct MemberView {
    /// User id.
    pub user: i64,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
}

/// Runs a `walle member` command.
pub fn run(ctx: &Ctx, cmd: &MemberCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let project_of = |p: &Option<String>| -> anyhow::Result<_> {
        p.as_deref()
            .map(|name| {
                let project = ctx.project_by_name(&space, name)?;
                let pref = ctx.project_ref(&project)?;
                Ok::<_, anyhow::Error>((project, pref))
            })
            .transpose()
    };
    match cmd {
        MemberCmd::Add {
            email,
            role,
            project,
        } => {
            let user = ctx.user_by_email(email)?;
            let role = parse_role(role)?;
            let project = project_of(project)?;
            let existing = ctx.store.memberships_of(user.id)?;
            let (scope, resource, where_) = match &project {
                Some((p, pref)) => (
                    MemberScope::Project(p.id),
                    Resource::ProjectMember {
                        project: *pref,
                        user: user.id,
                        grant: Some(role),
                    },
                    format!("project {}", p.spec.name),
                ),
                None => (
                    MemberScope::Space(space.id),
                    Resource::Member {
                        space: space.id,
                        user: user.id,
                        grant: Some(role),
                    },
                    format!("space {}", space.name),
                ),
            };
            let change = existing.iter().any(|m| m.scope == scope);
            let action = match (change, project.is_some()) {
                (false, false) => Action::MemberAdd,
                (true, false) => Action::MemberChangeRole,
                (false, true) => Action::ProjectMemberAdd,
                (true, true) => Action::ProjectMemberChangeRole,
            };
            ctx.check(&who, action, &resource)?;
            ctx.store.set_membership(&Membership {
                user: user.id,
                scope,
                role,
            })?;
            ctx.audit(
                &who,
                action,
                format!("user:{}", user.id),
                format!("{role} in {where_}"),
            );
            let v = MemberView {
                user: user.id.get(),
                email: user.email.to_string(),
                name: user.username.to_string(),
                role: role.to_string(),
            };
            let text = format!("{} is {role} in {where_}", user.email);
            Ok(Report::new(&v, text))
        }
        MemberCmd::List { project } => {
            let project = project_of(project)?;
            let (scope, action, resource) = match &project {
                Some((p, pref)) => (
                    MemberScope::Project(p.id),
                    Action::ProjectMemberList,
                    Resource::Project(*pref),
                ),
                None => (
                    MemberScope::Space(space.id),
                    Action::MemberList,
                    Resource::Space(space.id),
                ),
            };
            ctx.check(&who, action, &resource)?;
            let members = ctx.store.members(scope, None, Page::all())?;
            let views: Vec<MemberView> = members
                .items
                .iter()
                .map(|(u, r)| MemberView {
                    user: u.id.get(),
                    email: u.email.to_string(),
                    name: u.username.to_string(),
                    role: r.to_string(),
                })
                .collect();
            let rows = views
                .iter()
                .map(|m| {
                    vec![
                        m.user.to_string(),
                        m.email.clone(),
                        m.name.clone(),
                        m.role.clone(),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Report::new(
                &views,
                table(&["ID", "EMAIL", "NAME", "ROLE"], &rows),
            ))
        }
        MemberCmd::Remove { email, project } => {
            let user = ctx.user_by_email(email)?;
            let project = project_of(project)?;
            let (scope, action, resource) = match &project {
                Some((p, pref)) => (
                    MemberScope::Project(p.id),
                    Action::ProjectMemberRemove,
                    Resource::ProjectMember {
                        project: *pref,
                        user: user.id,
                        grant: None,
                    },
                ),
                None => (
                    MemberScope::Space(space.id),
                    Action::MemberRemove,
                    Resource::Member {
                        space: space.id,
                        user: user.id,
                        grant: None,
                    },
                ),
            };
            ctx.check(&who, action, &resource)?;
            ctx.store.remove_membership(user.id, scope)?;
            ctx.audit(&who, action, format!("user:{}", user.id), String::new());
            Ok(Report::new(
                &serde_json::json!({ "removed": user.email.as_str() }),
                format!("removed {}", user.email),
            ))
        }
    }
}
