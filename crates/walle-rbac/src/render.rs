//! Renders the permission matrix, as computed by [`crate::check`], into `docs/PERMISSIONS.md`.

use std::fmt::Write as _;

use walle_core::model::{MemberScope, Membership, Role, UserStatus};
use walle_core::{ProjectId, SpaceId, UserId};

use crate::action::Action;
use crate::policy::check;
use crate::resource::{ProjectRef, Resource, ResourceKind};
use crate::subject::{RoleSource, Subject};

/// The columns of the matrix: the five roles, lowest first.
pub(crate) const COLUMNS: [Role; 5] = Role::ALL;

/// The sample user (the actor) of the matrix.
const ME: UserId = UserId(1);
/// Another user of the same space.
const OTHER: UserId = UserId(2);
const SPACE: SpaceId = SpaceId(1);
const PROJECT: ProjectRef = ProjectRef {
    space: SPACE,
    id: ProjectId(1),
    has_explicit_members: false,
};

/// One cell: what a role may do with an action, in words.
pub(crate) fn cell(role: Role, action: Action) -> String {
    let subject = sample_subject(role);
    let allowed = |r: &Resource| check(&subject, action, r).is_ok();
    match action.resource_kind() {
        ResourceKind::Platform => yes_no(allowed(&Resource::Platform)),
        ResourceKind::Space => yes_no(allowed(&Resource::Space(SPACE))),
        ResourceKind::Project => yes_no(allowed(&Resource::Project(PROJECT))),
        ResourceKind::Task => {
            let task = |submitter| Resource::Task {
                project: PROJECT,
                submitter,
            };
            whose(allowed(&task(OTHER)), allowed(&task(ME)), "own")
        }
        ResourceKind::Account => whose(
            allowed(&Resource::Account(OTHER)),
            allowed(&Resource::Account(ME)),
            "self",
        ),
        ResourceKind::NewAccount => {
            let new = |space| Resource::NewAccount {
                space,
                is_super: false,
            };
            if allowed(&new(None)) {
                "✓".to_owned()
            } else {
                match highest(|r| allowed(&new(Some((SPACE, r))))) {
                    Some(r) => format!("≤ {r}, own space"),
                    None => "—".to_owned(),
                }
            }
        }
        ResourceKind::Member | ResourceKind::ProjectMember => {
            let member = |user, grant| match action.resource_kind() {
                ResourceKind::Member => Resource::Member {
                    space: SPACE,
                    user,
                    grant,
                },
                _ => Resource::ProjectMember {
                    project: PROJECT,
                    user,
                    grant,
                },
            };
            let grant = if action.rule().grants {
                highest(|r| allowed(&member(OTHER, Some(r))))
            } else {
                None
            };
            let plain = whose(
                allowed(&member(OTHER, grant)),
                allowed(&member(ME, grant)),
                "self",
            );
            match grant {
                Some(r) => format!("≤ {r}{}", plain.strip_prefix('✓').unwrap_or(&plain)),
                None => plain,
            }
        }
    }
}

/// The whole matrix as an aligned text table (for snapshots).
#[cfg(test)]
pub(crate) fn render_matrix_text() -> String {
    let width = Action::ALL
        .iter()
        .map(|a| a.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = format!("{:width$}", "");
    for role in COLUMNS {
        let _ = write!(out, " | {:<16}", role.as_str());
    }
    out = out.trim_end().to_owned();
    out.push('\n');
    for action in Action::ALL {
        let mut line = format!("{:width$}", action.as_str());
        for role in COLUMNS {
            let _ = write!(line, " | {:<16}", cell(role, *action));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `docs/PERMISSIONS.md`: the matrix as a Markdown table, the effective-role table and the rules
/// in prose, all computed from [`crate::check`].
pub fn render_permissions_markdown() -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str("\n## The matrix\n\n");
    out.push_str(MATRIX_INTRO);
    out.push_str("\n| Action | What it does | Resource |");
    for role in COLUMNS {
        let _ = write!(out, " {role} |");
    }
    out.push_str("\n|---|---|---|");
    for _ in COLUMNS {
        out.push_str(":-:|");
    }
    out.push('\n');
    for action in Action::ALL {
        let _ = write!(
            out,
            "| `{}` | {} | {} |",
            action.as_str(),
            action.describe(),
            action.resource_kind().describe()
        );
        for role in COLUMNS {
            let _ = write!(out, " {} |", cell(role, *action));
        }
        out.push('\n');
    }
    out.push_str("\n## The effective role in a project\n\n");
    out.push_str(EFFECTIVE_INTRO);
    out.push_str(&render_effective_roles());
    out.push_str(RULES);
    out
}

/// The effective-role table: space role × project situation.
fn render_effective_roles() -> String {
    let mut columns: Vec<(String, Option<Role>, bool)> = vec![
        ("Open project, not a member".to_owned(), None, false),
        ("Members-only project, not a member".to_owned(), None, true),
    ];
    for r in [Role::Reporter, Role::Developer, Role::Master] {
        columns.push((format!("Project {r}"), Some(r), true));
    }
    let mut out = "\n| Space role |".to_owned();
    for (title, _, _) in &columns {
        let _ = write!(out, " {title} |");
    }
    out.push_str("\n|---|");
    for _ in &columns {
        out.push_str(":-:|");
    }
    out.push('\n');
    for space_role in [Role::Reporter, Role::Developer, Role::Master, Role::Owner] {
        let _ = write!(out, "| {space_role} |");
        for (_, project_role, members_only) in &columns {
            let mut memberships = vec![Membership {
                user: ME,
                scope: MemberScope::Space(SPACE),
                role: space_role,
            }];
            if let Some(role) = project_role {
                memberships.push(Membership {
                    user: ME,
                    scope: MemberScope::Project(PROJECT.id),
                    role: *role,
                });
            }
            let subject = Subject::from_parts(ME, false, UserStatus::Active, &memberships);
            let project = ProjectRef {
                has_explicit_members: *members_only,
                ..PROJECT
            };
            let text = match subject.project_standing(&project) {
                Some(s) if s.source == RoleSource::Space => s.role.to_string(),
                Some(s) => format!("**{}**", s.role),
                None => "—".to_owned(),
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    out
}

/// A member of [`SPACE`] with `role`, or a SUPER with no memberships.
fn sample_subject(role: Role) -> Subject {
    let memberships: Vec<Membership> = match role {
        Role::Super => Vec::new(),
        role => vec![Membership {
            user: ME,
            scope: MemberScope::Space(SPACE),
            role,
        }],
    };
    Subject::from_parts(ME, role == Role::Super, UserStatus::Active, &memberships)
}

fn yes_no(allowed: bool) -> String {
    if allowed { "✓" } else { "—" }.to_owned()
}

fn whose(others: bool, own: bool, own_word: &str) -> String {
    match (others, own) {
        (true, true) => "✓".to_owned(),
        (true, false) => "✓, not self".to_owned(),
        (false, true) => own_word.to_owned(),
        (false, false) => "—".to_owned(),
    }
}

/// The highest role for which `allowed` holds.
fn highest(allowed: impl Fn(Role) -> bool) -> Option<Role> {
    Role::ALL.into_iter().rev().find(|r| allowed(*r))
}

const HEADER: &str = "\
<!-- Generated from the permission matrix by `walle_rbac::render_permissions_markdown()`; do not edit.
     Regenerate with `UPDATE_EXPECT=1 cargo test -p walle-rbac`. -->
# Permissions

Every action in Walle is checked on the server by one function, `walle_rbac::check(subject, action, resource)`.
This page is generated from that function: each cell below is the answer it gives.

## Roles

- **SUPER** runs the platform: it creates and deletes spaces and manages all user accounts.
  It is a flag on the account (`users.role` in walle 2.x), never a membership, and it applies everywhere.
- **OWNER** manages the members of their space and may create accounts directly into it.
- **MASTER** approves and rejects tasks and manages the environments, servers and projects of the space.
- **DEVELOPER** submits tasks, and edits, deletes, deploys, cancels and retries the tasks they submitted.
- **REPORTER** reads projects, tasks and deploy logs of the space and changes nothing.

Each role includes the rights of the roles below it.
OWNER, MASTER, DEVELOPER and REPORTER are held per space (a space membership) and may be overridden per project (a project membership).
";

const MATRIX_INTRO: &str = "\
A column is the user's effective role where the resource lives: in the space, or in the project for project and task actions (see the next section).
Environments, servers, member lists and the audit log are checked against the space that owns them.
`✓` allowed; `—` refused; `own` only for tasks the user submitted; `self` only for the user's own account; `not self` never with the user's own account or membership as the target; `≤ ROLE` may grant roles up to ROLE; `own space` only into a space where the user is OWNER.
";

const EFFECTIVE_INTRO: &str = "\
In a project, a user acts with their project role if they have one, whichever way it differs from their space role.
A project with at least one explicit member is members-only: space DEVELOPERs and REPORTERs who are not project members act as REPORTER there (they can read it, not submit or deploy), while space MASTERs and OWNERs keep their space role.
A project membership counts only while the user is a member of the project's space.
Bold marks an effective role that does not come from the space membership.
";

const RULES: &str = "
## Rules

1. **Blocked users are denied everything**, including logging in.
2. **Logging in needs a space.** A user who is not SUPER and belongs to no space may not log in (a project membership alone does not count).
3. **No cross-space access.** A user who is not a member of the space a resource lives in is denied every action on it, whatever their roles elsewhere.
   The server passes the ids stored with the record (a project's own space, a task's own project and submitter), never ones from the URL or the session.
   `Denied::is_outside_space()` lets it answer \"not found\" so that ids in other spaces are not disclosed.
4. **SUPER may do everything else**, across all spaces.
5. **Secrets are write-only.** Nobody, SUPER included, reads back repository passwords, keys or notification tokens (`project.view_secrets` is refused to all).
6. **Project roles override space roles, both ways.** A space DEVELOPER can be MASTER of one project (and then approves and deploys its tasks); a space MASTER can be narrowed to REPORTER on one project.
   Project roles apply to project and task actions only; space actions (the space, its members, environments and servers, creating projects) always use the space role.
7. **Members-only projects.** Once a project has explicit members, only they may submit and deploy there; other space DEVELOPERs and REPORTERs may only read it.
   Space MASTERs and OWNERs who are not listed keep their space role, so a project can never lock out the people who manage the space.
   Without explicit members, every member of the space acts on the project with their space role.
   We chose this over requiring a project membership for every project: small teams need no per-project setup, and a production project is restricted by listing its members.
8. **Space-level decisions stay with space roles.** Creating, copying and deleting projects and managing project members need MASTER in the space; copying and deleting also need MASTER (effectively) in the project itself, so a MASTER narrowed on a project can't copy it to escape the restriction.
   A project MASTER who is a space DEVELOPER manages the project's settings and tasks, not its existence or its members.
9. **Own tasks.** DEVELOPERs edit, delete, deploy, cancel and retry only the tasks they submitted; MASTERs do so for any task of the project.
   Any DEVELOPER of the project may create a rollback task: like every task, it goes through approval when the project requires it.
10. **Approval needs MASTER.** Whether the approver may also be the submitter is a project setting enforced by the task lifecycle, not by roles.
11. **Grants are capped.** Space roles go up to OWNER and project roles up to MASTER; SUPER is never a membership and is granted only by SUPER (`user.set_super`).
    An OWNER can make another member OWNER but nobody can grant above OWNER, and accounts an OWNER creates go into their own space with a role up to OWNER.
12. **Accounts are the user's own.** Everyone may view and update their own account (name, e-mail, password); only SUPER may change other users' accounts, delete or block accounts, or list all users.
    In walle 2.x any MASTER could change any user's password, SUPER's included, and delete users globally.
13. **Nobody targets themselves** when deleting or blocking an account, granting or revoking SUPER, or changing or removing a membership: another administrator must do it, so nobody locks themselves out by mistake.
";

#[cfg(test)]
mod tests;
