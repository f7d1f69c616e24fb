//! The policy: one function, [`check`], decides every action; [`allowed_actions`] and
//! [`can_log_in`] are built on the same rules.

use walle_core::model::Role;
use walle_core::{SpaceId, UserId};

use crate::action::{Action, Need};
use crate::resource::{ProjectRef, Resource, ResourceKind};
use crate::subject::{Standing, Subject};

/// Why an action was refused: who lacks what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The account is blocked; blocked users are denied everything.
    #[error("user {user} is blocked")]
    Blocked {
        /// The user.
        user: UserId,
    },
    /// A user who is neither SUPER nor a member of any space may not log in.
    #[error(
        "user {user} belongs to no space and may not log in; an OWNER or SUPER must add them to a space first"
    )]
    NoSpace {
        /// The user.
        user: UserId,
    },
    /// An action nobody may do.
    #[error("nobody may {what}", what = .action.describe())]
    Never {
        /// The action.
        action: Action,
    },
    /// The action was asked about the wrong kind of resource (a bug in the caller).
    #[error("{action} applies to {expected}, not to {given}")]
    WrongResource {
        /// The action.
        action: Action,
        /// The kind it applies to.
        expected: ResourceKind,
        /// The kind it was asked about.
        given: ResourceKind,
    },
    /// The user is not a member of the space the resource lives in (and not SUPER).
    #[error("user {user} is not a member of space {space} and may not {what} there", what = .action.describe())]
    NotMember {
        /// The user.
        user: UserId,
        /// The resource's space.
        space: SpaceId,
        /// The action.
        action: Action,
    },
    /// The user's role where the resource lives is too low.
    #[error("{standing} may not {what}; {need}", what = .action.describe(), need = required_text(*.required))]
    Role {
        /// The user's role there, and where it comes from.
        standing: Standing,
        /// The action.
        action: Action,
        /// The lowest role that may do it.
        required: Role,
    },
    /// The user may do this to their own tasks only, and the task is someone else's.
    #[error("{standing} may only {what} they submitted; {need} for tasks of others", what = .action.describe(), need = required_text(*.required))]
    NotOwnTask {
        /// The user's role in the task's project.
        standing: Standing,
        /// The action.
        action: Action,
        /// The lowest role that may do it to any task.
        required: Role,
    },
    /// Only SUPER may do this.
    #[error("user {user} may not {what}; SUPER is required", what = .action.describe())]
    SuperRequired {
        /// The user.
        user: UserId,
        /// The action.
        action: Action,
    },
    /// The user may do this to their own account only.
    #[error("user {user} may not {what} of other users; SUPER is required", what = .action.describe())]
    OwnAccountOnly {
        /// The user.
        user: UserId,
        /// The action.
        action: Action,
    },
    /// Nobody may do this to their own account or membership, SUPER included.
    #[error("user {user} may not {what} with themselves as the target; another administrator must do it", what = .action.describe())]
    SelfTarget {
        /// The user.
        user: UserId,
        /// The action.
        action: Action,
    },
    /// The role to grant is above what the scope allows (SUPER is never a membership).
    #[error("{grant} cannot be granted in {scope}; the highest role there is {ceiling}{hint}", hint = if *.grant == Role::Super { " (SUPER is granted with user.set_super)" } else { "" })]
    GrantTooHigh {
        /// The role asked for.
        grant: Role,
        /// What is granted: a space membership, a project membership or a new account.
        scope: ResourceKind,
        /// The highest role that can be granted there.
        ceiling: Role,
    },
    /// A grant action was asked without the role to grant (a bug in the caller).
    #[error("{action} needs the role to grant")]
    MissingGrant {
        /// The action.
        action: Action,
    },
}

impl Denied {
    /// True when the user is not a member of the resource's space: servers may answer
    /// "not found" rather than "forbidden" so that ids in other spaces are not disclosed.
    pub fn is_outside_space(&self) -> bool {
        matches!(self, Denied::NotMember { .. })
    }
}

fn required_text(role: Role) -> String {
    if role == Role::Super {
        "SUPER is required".to_owned()
    } else {
        format!("{role} or higher is required")
    }
}

/// The highest space role anyone can grant; SUPER is not a membership.
pub const SPACE_ROLE_CEILING: Role = Role::Owner;
/// The highest project role anyone can grant; project roles above MASTER would mean nothing.
pub const PROJECT_ROLE_CEILING: Role = Role::Master;

/// May `subject` do `action` to `resource`?
///
/// The rules, in order: blocked users are denied everything; nobody reads secrets; the resource
/// must be of the kind the action applies to; SUPER may do everything else; anyone else must be a
/// member of the resource's space and hold the role the action needs there (in a project: their
/// effective role, see [`Subject::project_standing`]); a granted role may not exceed the scope's
/// ceiling; and accounts and memberships can't be deleted, blocked or changed by their own user.
pub fn check(subject: &Subject, action: Action, resource: &Resource) -> Result<(), Denied> {
    if !subject.is_active() {
        return Err(Denied::Blocked {
            user: subject.user(),
        });
    }
    let rule = action.rule();
    if rule.need == Need::Never {
        return Err(Denied::Never { action });
    }
    if resource.kind() != rule.resource {
        return Err(Denied::WrongResource {
            action,
            expected: rule.resource,
            given: resource.kind(),
        });
    }
    check_need(subject, action, rule.need, resource)?;
    if rule.grants {
        check_grant(action, resource)?;
    }
    if rule.not_self && target_user(resource) == Some(subject.user()) {
        return Err(Denied::SelfTarget {
            user: subject.user(),
            action,
        });
    }
    Ok(())
}

/// The actions `subject` may do to `resource` (for the UI's per-row flags): every action of the
/// resource's kind that [`check`] allows.
pub fn allowed_actions(subject: &Subject, resource: &Resource) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| a.resource_kind() == resource.kind() && check(subject, *a, resource).is_ok())
        .collect()
}

/// May `subject` log in? Blocked users may not; nor may anyone but SUPER who belongs to no space
/// (a project membership alone does not count).
pub fn can_log_in(subject: &Subject) -> Result<(), Denied> {
    if !subject.is_active() {
        return Err(Denied::Blocked {
            user: subject.user(),
        });
    }
    if subject.is_super() || subject.spaces().next().is_some() {
        Ok(())
    } else {
        Err(Denied::NoSpace {
            user: subject.user(),
        })
    }
}

fn check_need(
    subject: &Subject,
    action: Action,
    need: Need,
    resource: &Resource,
) -> Result<(), Denied> {
    let user = subject.user();
    match need {
        Need::Never => Err(Denied::Never { action }),
        Need::SuperOnly if subject.is_super() => Ok(()),
        Need::SuperOnly => Err(Denied::SuperRequired { user, action }),
        Need::SelfOrSuper => {
            if subject.is_super() || target_user(resource) == Some(user) {
                Ok(())
            } else {
                Err(Denied::OwnAccountOnly { user, action })
            }
        }
        Need::NewAccount => match resource {
            Resource::NewAccount {
                space: Some((space, grant)),
                is_super: false,
            } => {
                if !subject.is_super() {
                    at_least(
                        space_standing(subject, action, *space)?,
                        action,
                        Role::Owner,
                    )?;
                }
                if *grant > SPACE_ROLE_CEILING {
                    return Err(Denied::GrantTooHigh {
                        grant: *grant,
                        scope: ResourceKind::NewAccount,
                        ceiling: SPACE_ROLE_CEILING,
                    });
                }
                Ok(())
            }
            _ if subject.is_super() => Ok(()),
            _ => Err(Denied::SuperRequired { user, action }),
        },
        _ if subject.is_super() => Ok(()),
        Need::InSpace(min) => {
            let space = resource
                .space()
                .ok_or(Denied::SuperRequired { user, action })?;
            at_least(space_standing(subject, action, space)?, action, min)
        }
        Need::InProject(min) => at_least(project_standing(subject, action, resource)?, action, min),
        Need::InSpaceAndProject(min) => {
            let standing = project_standing(subject, action, resource)?;
            let space = subject
                .space_standing(standing.space)
                .ok_or(Denied::NotMember {
                    user,
                    space: standing.space,
                    action,
                })?;
            at_least(space, action, min)?;
            at_least(standing, action, min)
        }
        Need::OnTask { own, any } => {
            let standing = project_standing(subject, action, resource)?;
            let own_task = target_user(resource) == Some(user);
            if standing.role >= any || (own_task && standing.role >= own) {
                Ok(())
            } else if own_task || standing.role < own {
                Err(Denied::Role {
                    standing,
                    action,
                    required: own,
                })
            } else {
                Err(Denied::NotOwnTask {
                    standing,
                    action,
                    required: any,
                })
            }
        }
    }
}

fn check_grant(action: Action, resource: &Resource) -> Result<(), Denied> {
    let (grant, scope, ceiling) = match resource {
        Resource::Member { grant, .. } => (*grant, ResourceKind::Member, SPACE_ROLE_CEILING),
        Resource::ProjectMember { grant, .. } => {
            (*grant, ResourceKind::ProjectMember, PROJECT_ROLE_CEILING)
        }
        _ => return Ok(()),
    };
    match grant {
        None => Err(Denied::MissingGrant { action }),
        Some(grant) if grant > ceiling => Err(Denied::GrantTooHigh {
            grant,
            scope,
            ceiling,
        }),
        Some(_) => Ok(()),
    }
}

fn at_least(standing: Standing, action: Action, required: Role) -> Result<(), Denied> {
    if standing.role >= required {
        Ok(())
    } else {
        Err(Denied::Role {
            standing,
            action,
            required,
        })
    }
}

fn space_standing(subject: &Subject, action: Action, space: SpaceId) -> Result<Standing, Denied> {
    subject.space_standing(space).ok_or(Denied::NotMember {
        user: subject.user(),
        space,
        action,
    })
}

fn project_standing(
    subject: &Subject,
    action: Action,
    resource: &Resource,
) -> Result<Standing, Denied> {
    let project: &ProjectRef = match resource {
        Resource::Project(project)
        | Resource::Task { project, .. }
        | Resource::ProjectMember { project, .. } => project,
        _ => {
            return Err(Denied::WrongResource {
                action,
                expected: ResourceKind::Project,
                given: resource.kind(),
            });
        }
    };
    subject.project_standing(project).ok_or(Denied::NotMember {
        user: subject.user(),
        space: project.space,
        action,
    })
}

/// The user a resource is about: an account, a member, or a task's submitter.
fn target_user(resource: &Resource) -> Option<UserId> {
    match resource {
        Resource::Account(user)
        | Resource::Member { user, .. }
        | Resource::ProjectMember { user, .. } => Some(*user),
        Resource::Task { submitter, .. } => Some(*submitter),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
