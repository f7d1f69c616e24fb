//! Users, roles, spaces, memberships and environments.

use crate::value::{Email, Name};
use crate::{EnvironmentId, ProjectId, SpaceId, Timestamp, UserId};

/// The five roles of walle. SUPER is global; the others are held per space or per project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read-only: sees projects, tasks and logs, changes nothing.
    Reporter,
    /// Submits tasks and deploys approved tasks of projects they belong to.
    Developer,
    /// Approves and rejects tasks; manages environments, servers and projects of the space.
    Master,
    /// Manages the space's members and creates accounts directly into the space.
    Owner,
    /// Runs the platform: all spaces and all users.
    Super,
}

impl Role {
    /// All roles, lowest first.
    pub const ALL: [Role; 5] = [
        Role::Reporter,
        Role::Developer,
        Role::Master,
        Role::Owner,
        Role::Super,
    ];

    /// The upper-case name walle stores (`"MASTER"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "REPORTER",
            Role::Developer => "DEVELOPER",
            Role::Master => "MASTER",
            Role::Owner => "OWNER",
            Role::Super => "SUPER",
        }
    }

    /// Parses a stored or typed role name, case-insensitively.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an account may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// Normal.
    Active,
    /// Blocked: cannot log in and API tokens stop working (walle ignored this status).
    Blocked,
}

/// A user account. The password is stored only as an argon2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Display name, unique among live users.
    pub username: Name,
    /// Login identifier, unique among live users.
    pub email: Email,
    /// Argon2 PHC hash string (never the password).
    pub password_hash: String,
    /// Platform super administrator.
    pub is_super: bool,
    /// Active or blocked.
    pub status: UserStatus,
    /// The space selected last, restored at login.
    pub last_space: Option<SpaceId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Open or closed (spaces and environments). Closed ones accept no new tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenStatus {
    /// In use.
    Open,
    /// Closed: visible, but new tasks are refused.
    Closed,
}

/// A space: a tenant holding members, environments, servers and projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Id.
    pub id: SpaceId,
    /// Unique among live spaces.
    pub name: Name,
    /// The owner of record (also an OWNER member).
    pub owner: UserId,
    /// Open or closed.
    pub status: OpenStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What a membership applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberScope {
    /// A space membership (walle's `source_type = 'group'`).
    Space(SpaceId),
    /// A project membership; its role overrides the space role for that project.
    Project(ProjectId),
}

/// One user's role in one space or project (at most one row per user and scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The member.
    pub user: UserId,
    /// Space or project.
    pub scope: MemberScope,
    /// The role held there (never SUPER).
    pub role: Role,
}

/// An environment of a space (development, test, production, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Id.
    pub id: EnvironmentId,
    /// The space it belongs to.
    pub space: SpaceId,
    /// Unique within the space.
    pub name: Name,
    /// Open or closed; a closed environment accepts no new tasks.
    pub status: OpenStatus,
}
