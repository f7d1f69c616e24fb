//! The acting user as the permission check sees it: id, SUPER flag, status and memberships, and
//! the effective role that follows in each space and project.

use std::collections::BTreeMap;
use std::fmt;

use walle_core::model::{MemberScope, Membership, Role, User, UserStatus};
use walle_core::{ProjectId, SpaceId, UserId};

use crate::resource::ProjectRef;

/// The acting user: built once per request from the stored user and their memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    user: UserId,
    is_super: bool,
    status: UserStatus,
    spaces: BTreeMap<SpaceId, Role>,
    projects: BTreeMap<ProjectId, Role>,
}

impl Subject {
    /// The subject for a stored user and their memberships (as `MemberStore::memberships_of`
    /// returns them).
    pub fn new(user: &User, memberships: &[Membership]) -> Subject {
        Subject::from_parts(user.id, user.is_super, user.status, memberships)
    }

    /// The subject from its parts.
    ///
    /// Memberships of other users are ignored. Should the store hold two rows for one scope, the
    /// lower role counts (walle 2.x let the last row win). Memberships never carry SUPER: a space
    /// role above OWNER counts as OWNER, and a project role above MASTER counts as MASTER.
    pub fn from_parts(
        user: UserId,
        is_super: bool,
        status: UserStatus,
        memberships: &[Membership],
    ) -> Subject {
        let mut spaces = BTreeMap::new();
        let mut projects = BTreeMap::new();
        for m in memberships.iter().filter(|m| m.user == user) {
            match m.scope {
                MemberScope::Space(space) => {
                    keep_lowest(&mut spaces, space, m.role.min(Role::Owner))
                }
                MemberScope::Project(project) => {
                    keep_lowest(&mut projects, project, m.role.min(Role::Master));
                }
            }
        }
        Subject {
            user,
            is_super,
            status,
            spaces,
            projects,
        }
    }

    /// The user's id.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Platform super administrator.
    pub fn is_super(&self) -> bool {
        self.is_super
    }

    /// Not blocked.
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    /// The user's role in a space, if they are a member.
    pub fn space_role(&self, space: SpaceId) -> Option<Role> {
        self.spaces.get(&space).copied()
    }

    /// The spaces the user belongs to, with their role in each.
    pub fn spaces(&self) -> impl Iterator<Item = (SpaceId, Role)> + '_ {
        self.spaces.iter().map(|(s, r)| (*s, *r))
    }

    /// The user's explicit project membership, if any (whether or not they are still a member of
    /// the project's space).
    pub fn project_membership(&self, project: ProjectId) -> Option<Role> {
        self.projects.get(&project).copied()
    }

    /// The role the user acts with in a project, and where it comes from; `None` when the user is
    /// not a member of the project's space (a project membership alone grants nothing).
    ///
    /// SUPER is not a membership and is not reflected here.
    pub fn project_standing(&self, project: &ProjectRef) -> Option<Standing> {
        let space_role = self.space_role(project.space)?;
        let (role, source) = match self.project_membership(project.id) {
            Some(role) => (role, RoleSource::ProjectMember),
            None if project.has_explicit_members && space_role < Role::Master => {
                (Role::Reporter, RoleSource::MembersOnly)
            }
            None => (space_role, RoleSource::Space),
        };
        Some(Standing {
            role,
            source,
            space: project.space,
            space_role,
            project: Some(project.id),
        })
    }

    /// The role the user acts with in a space itself (project memberships never count here).
    pub fn space_standing(&self, space: SpaceId) -> Option<Standing> {
        let space_role = self.space_role(space)?;
        Some(Standing {
            role: space_role,
            source: RoleSource::Space,
            space,
            space_role,
            project: None,
        })
    }
}

fn keep_lowest<K: Ord>(map: &mut BTreeMap<K, Role>, key: K, role: Role) {
    map.entry(key)
        .and_modify(|r| *r = (*r).min(role))
        .or_insert(role);
}

/// Where an effective role comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleSource {
    /// The space role (the project has no explicit members, or the user is a space MASTER or
    /// OWNER, or the resource is the space itself).
    Space,
    /// The user's explicit project membership, which overrides the space role either way.
    ProjectMember,
    /// The project is members-only and the user, a space DEVELOPER or REPORTER, is not a member:
    /// they act as REPORTER.
    MembersOnly,
}

/// The role a user acts with somewhere, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Standing {
    /// The effective role.
    pub role: Role,
    /// Where it comes from.
    pub source: RoleSource,
    /// The space.
    pub space: SpaceId,
    /// The user's role in that space.
    pub space_role: Role,
    /// The project, for a standing in a project.
    pub project: Option<ProjectId>,
}

impl fmt::Display for Standing {
    /// "DEVELOPER in space 3", "MASTER in project 7 of space 3", or "DEVELOPER in space 3 but not
    /// a member of members-only project 7 (acting as REPORTER)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.source, self.project) {
            (RoleSource::ProjectMember, Some(p)) => {
                write!(f, "{} in project {p} of space {}", self.role, self.space)
            }
            (RoleSource::MembersOnly, Some(p)) => write!(
                f,
                "{} in space {} but not a member of members-only project {p} (acting as {})",
                self.space_role, self.space, self.role
            ),
            _ => write!(f, "{} in space {}", self.role, self.space),
        }
    }
}
