//! What an action is done to: the resource context the server loads from the store before it asks
//! [`crate::check`].
//!
//! Every id here must come from the stored record (the project's own `space`, the task's own
//! `submitter`), never from the URL or the session: that is what makes cross-space access impossible.

use std::fmt;

use walle_core::model::Role;
use walle_core::{ProjectId, SpaceId, UserId};

/// A project as the permission check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectRef {
    /// The space the project belongs to, as stored with the project.
    pub space: SpaceId,
    /// The project.
    pub id: ProjectId,
    /// The project has at least one explicit member, which makes it members-only: space DEVELOPERs
    /// and REPORTERs who are not project members may only read it.
    pub has_explicit_members: bool,
}

/// The resource an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// The platform as a whole (spaces, all users, the platform audit log).
    Platform,
    /// A space, or something owned by a space that has no resource of its own here (its
    /// environments, its servers, its member list, its audit log).
    Space(SpaceId),
    /// A project.
    Project(ProjectRef),
    /// A task of a project.
    Task {
        /// The task's project.
        project: ProjectRef,
        /// Who submitted the task (the owner of "own tasks").
        submitter: UserId,
    },
    /// An existing user account.
    Account(UserId),
    /// An account about to be created.
    NewAccount {
        /// The space the new account is added to, and its role there; `None` for an account in
        /// no space (only SUPER may create those).
        space: Option<(SpaceId, Role)>,
        /// The new account is SUPER (only SUPER may create those).
        is_super: bool,
    },
    /// A user's membership of a space.
    Member {
        /// The space.
        space: SpaceId,
        /// The member.
        user: UserId,
        /// The role being granted (`member.add`, `member.change_role`); `None` otherwise.
        grant: Option<Role>,
    },
    /// A user's membership of a project.
    ProjectMember {
        /// The project.
        project: ProjectRef,
        /// The member.
        user: UserId,
        /// The role being granted (`project_member.add`, `project_member.change_role`); `None`
        /// otherwise.
        grant: Option<Role>,
    },
}

impl Resource {
    /// Which kind of resource this is.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::Platform => ResourceKind::Platform,
            Resource::Space(_) => ResourceKind::Space,
            Resource::Project(_) => ResourceKind::Project,
            Resource::Task { .. } => ResourceKind::Task,
            Resource::Account(_) => ResourceKind::Account,
            Resource::NewAccount { .. } => ResourceKind::NewAccount,
            Resource::Member { .. } => ResourceKind::Member,
            Resource::ProjectMember { .. } => ResourceKind::ProjectMember,
        }
    }

    /// The space the resource lives in, if any.
    pub fn space(&self) -> Option<SpaceId> {
        match self {
            Resource::Platform | Resource::Account(_) => None,
            Resource::NewAccount { space, .. } => space.map(|(s, _)| s),
            Resource::Space(space) | Resource::Member { space, .. } => Some(*space),
            Resource::Project(project)
            | Resource::Task { project, .. }
            | Resource::ProjectMember { project, .. } => Some(project.space),
        }
    }
}

/// The kinds of [`Resource`], one per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// [`Resource::Platform`].
    Platform,
    /// [`Resource::Space`].
    Space,
    /// [`Resource::Project`].
    Project,
    /// [`Resource::Task`].
    Task,
    /// [`Resource::Account`].
    Account,
    /// [`Resource::NewAccount`].
    NewAccount,
    /// [`Resource::Member`].
    Member,
    /// [`Resource::ProjectMember`].
    ProjectMember,
}

impl ResourceKind {
    /// A noun phrase for messages and docs ("a project").
    pub fn describe(self) -> &'static str {
        match self {
            ResourceKind::Platform => "the platform",
            ResourceKind::Space => "a space",
            ResourceKind::Project => "a project",
            ResourceKind::Task => "a task",
            ResourceKind::Account => "an account",
            ResourceKind::NewAccount => "a new account",
            ResourceKind::Member => "a space membership",
            ResourceKind::ProjectMember => "a project membership",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}
