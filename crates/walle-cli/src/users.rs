//! `walle user ...`: accounts.

use std::io::Read as _;

use anyhow::Context as _;
use serde::Serialize;
use walle_core::model::{MemberScope, Membership, Page, Role, User, UserStatus};
use walle_core::ports::NewUser;
use walle_core::value::{Email, Name};
use walle_rbac::{Action, Resource};

use crate::args::UserCmd;
use crate::context::Ctx;
use crate::error::usage;
use crate::output::{Report, table};
use crate::password;

/// An account as shown.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// SUPER.
    #[serde(rename = "super")]
    pub is_super: bool,
    /// `active` or `blocked`.
    pub status: &'static str,
    /// Memberships: `space:<name>` or `project:<id>` and role.
    pub memberships: Vec<MembershipView>,
}

/// One membership as shown.
#[derive(Debug, Serialize)]
pub struct MembershipView {
    /// `space` or `project`.
    pub scope: &'static str,
    /// Space or project id.
    pub id: i64,
    /// Role.
    pub role: String,
}

/// A created account, with the password shown once when it was generated.
#[derive(Debug, Serialize)]
pub struct CreatedUser {
    /// The account.
    pub user: UserView,
    /// The generated password (absent when read from standard input).
    pub password: Option<String>,
}

/// Runs a `walle user` command.
pub fn run(ctx: &Ctx, cmd: &UserCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    match cmd {
        UserCmd::Create {
            email,
            name,
            is_super,
            role,
            password_stdin,
        } => {
            let email = Email::new(email)?;
            let name = match name {
                Some(n) => Name::new(n)?,
                None => Name::new(email.as_str().split('@').next().unwrap_or("user"))?,
            };
            let grant = match role {
                Some(r) => Some((ctx.space(&who)?, parse_role(r)?)),
                None => None,
            };
            ctx.check(
                &who,
                Action::UserCreate,
                &Resource::NewAccount {
                    space: grant.as_ref().map(|(s, r)| (s.id, *r)),
                    is_super: *is_super,
                },
            )?;
            let (pw, generated) = if *password_stdin {
                (read_password_stdin()?, false)
            } else {
                (password::generate(20)?, true)
            };
            let user = ctx.store.create_user(
                &NewUser {
                    username: name,
                    email,
                    password_hash: password::hash(&pw)?,
                    is_super: *is_super,
                },
                ctx.now(),
            )?;
            if let Some((space, role)) = &grant {
                ctx.store.set_membership(&Membership {
                    user: user.id,
                    scope: MemberScope::Space(space.id),
                    role: *role,
                })?;
            }
            ctx.audit(
                &who,
                Action::UserCreate,
                format!("user:{}", user.id),
                user.email.to_string(),
            );
            let view = view(ctx, &user)?;
            let mut text = format!(
                "created user {} ({}), id {}",
                view.email, view.name, view.id
            );
            if let Some((space, role)) = &grant {
                text.push_str(&format!("\n  {role} in space {}", space.name));
            }
            if generated {
                text.push_str(&format!("\n  password {pw}\n(shown only this once)"));
            }
            Ok(Report::new(
                &CreatedUser {
                    user: view,
                    password: generated.then_some(pw),
                },
                text,
            ))
        }
        UserCmd::List { keyword } => {
            ctx.check(&who, Action::UserList, &Resource::Platform)?;
            let users = ctx.store.list_users(keyword.as_deref(), Page::all())?;
            let views: Vec<UserView> = users
                .items
                .iter()
                .map(|u| view(ctx, u))
                .collect::<anyhow::Result<_>>()?;
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|u| {
                    vec![
                        u.id.to_string(),
                        u.email.clone(),
                        u.name.clone(),
                        if u.is_super {
                            "SUPER".into()
                        } else {
                            String::new()
                        },
                        u.status.to_owned(),
                    ]
                })
                .collect();
            let text = table(&["ID", "EMAIL", "NAME", "SUPER", "STATUS"], &rows);
            Ok(Report::new(&views, text))
        }
        UserCmd::Show { email } => {
            let user = ctx.user_by_email(email)?;
            ctx.check(&who, Action::UserView, &Resource::Account(user.id))?;
            let v = view(ctx, &user)?;
            let text = show_text(&v);
            Ok(Report::new(&v, text))
        }
        UserCmd::Update {
            email,
            name,
            new_email,
            reset_password,
            password_stdin,
        } => {
            let mut user = ctx.user_by_email(email)?;
            ctx.check(&who, Action::UserUpdate, &Resource::Account(user.id))?;
            if let Some(n) = name {
                user.username = Name::new(n)?;
            }
            if let Some(e) = new_email {
                user.email = Email::new(e)?;
            }
            let mut generated = None;
            if *reset_password {
                let pw = password::generate(20)?;
                user.password_hash = password::hash(&pw)?;
                generated = Some(pw);
            } else if *password_stdin {
                user.password_hash = password::hash(&read_password_stdin()?)?;
            }
            let user = ctx.store.update_user(&user, ctx.now())?;
            // Keep the data directory's default user pointing at the same account.
            let before = Email::new(email)?;
            if ctx.config.user.as_deref() == Some(before.as_str()) && user.email != before {
                let mut config = ctx.config.clone();
                config.user = Some(user.email.to_string());
                config.save(&ctx.paths.config_file())?;
            }
            ctx.audit(
                &who,
                Action::UserUpdate,
                format!("user:{}", user.id),
                String::new(),
            );
            let v = view(ctx, &user)?;
            let mut text = format!("updated user {}", v.email);
            if let Some(pw) = &generated {
                text.push_str(&format!("\n  password {pw}\n(shown only this once)"));
            }
            Ok(Report::new(
                &CreatedUser {
                    user: v,
                    password: generated,
                },
                text,
            ))
        }
        UserCmd::Block { email } | UserCmd::Unblock { email } => {
            let block = matches!(cmd, UserCmd::Block { .. });
            let mut user = ctx.user_by_email(email)?;
            ctx.check(&who, Action::UserBlock, &Resource::Account(user.id))?;
            user.status = if block {
                UserStatus::Blocked
            } else {
                UserStatus::Active
            };
            let user = ctx.store.update_user(&user, ctx.now())?;
            ctx.audit(
                &who,
                Action::UserBlock,
                format!("user:{}", user.id),
                format!("blocked={block}"),
            );
            let v = view(ctx, &user)?;
            let text = format!("{} is {}", v.email, v.status);
            Ok(Report::new(&v, text))
        }
        UserCmd::Delete { email } => {
            let user = ctx.user_by_email(email)?;
            ctx.check(&who, Action::UserDelete, &Resource::Account(user.id))?;
            ctx.store.delete_user(user.id, ctx.now())?;
            ctx.audit(
                &who,
                Action::UserDelete,
                format!("user:{}", user.id),
                user.email.to_string(),
            );
            Ok(Report::new(
                &serde_json::json!({ "deleted": user.email.as_str(), "id": user.id.get() }),
                format!("deleted user {}", user.email),
            ))
        }
    }
}

/// The shown form of an account.
pub fn view(ctx: &Ctx, u: &User) -> anyhow::Result<UserView> {
    let memberships = ctx
        .store
        .memberships_of(u.id)?
        .into_iter()
        .map(|m| {
            let (scope, id) = match m.scope {
                MemberScope::Space(s) => ("space", s.get()),
                MemberScope::Project(p) => ("project", p.get()),
            };
            MembershipView {
                scope,
                id,
                role: m.role.to_string(),
            }
        })
        .collect();
    Ok(UserView {
        id: u.id.get(),
        name: u.username.to_string(),
        email: u.email.to_string(),
        is_super: u.is_super,
        status: match u.status {
            UserStatus::Active => "active",
            UserStatus::Blocked => "blocked",
        },
        memberships,
    })
}

fn show_text(v: &UserView) -> String {
    let mut t = format!(
        "user {}\n  id      {}\n  name    {}\n  super   {}\n  status  {}\n",
        v.email, v.id, v.name, v.is_super, v.status
    );
    for m in &v.memberships {
        t.push_str(&format!("  member  {} {} as {}\n", m.scope, m.id, m.role));
    }
    t
}

/// Parses a role name (case-insensitive).
pub fn parse_role(raw: &str) -> anyhow::Result<Role> {
    Role::parse(raw).ok_or_else(|| {
        usage(format!(
            "unknown role {raw:?}; use REPORTER, DEVELOPER, MASTER or OWNER"
        ))
    })
}

fn read_password_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.trim_end_matches(['\n', '\r']).to_owned();
    if pw.chars().count() < 8 {
        return Err(usage("the password must have at least 8 characters"));
    }
    Ok(pw)
}
