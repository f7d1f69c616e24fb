//! The storage ports: one repository trait per aggregate, the deploy lease, events and audit log.
//!
//! Deletes are soft where walle's were (users, spaces, servers, projects, tasks) but free the
//! unique names at once, so a deleted user or server can be created again with the same name.

use std::time::Duration;

use crate::model::{
    AuditEntry, DeployEvent, Environment, HostKey, HostOutcome, Lease, LeaseToken, LedgerEntry,
    LockKey, MemberScope, Membership, NewAuditEntry, NewDeployEvent, Page, Paged, Project,
    ProjectSpec, Release, ReleaseStatus, Role, Server, ServerSpec, Space, Task, TaskKind, TaskSpec,
    TaskStatus, User,
};
use crate::value::{Email, Label, Name, ReleaseId};
use crate::{EnvironmentId, ProjectId, ServerId, SpaceId, TaskId, Timestamp, UserId};

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No live row with that id.
    #[error("{what} {id} not found")]
    NotFound {
        /// `user`, `project`, ...
        what: &'static str,
        /// The id or key looked up.
        id: String,
    },
    /// A unique name is taken.
    #[error("a {what} named {name:?} already exists; pick another name")]
    Duplicate {
        /// `user`, `space`, ...
        what: &'static str,
        /// The taken value.
        name: String,
    },
    /// The row changed under us (e.g. a task's status is no longer the expected one).
    #[error("conflict: {detail}")]
    Conflict {
        /// What changed.
        detail: String,
    },
    /// The lease is held by someone else, or the token does not match.
    #[error("lock {key} is held by {holder} until {expires_at}")]
    Locked {
        /// The lock.
        key: String,
        /// The current holder.
        holder: String,
        /// Expiry of the current lease.
        expires_at: Timestamp,
    },
    /// A stored value failed validation (the database was edited by hand).
    #[error("stored {what} is invalid: {detail}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// The validation error.
        detail: String,
    },
    /// The database could not be reached.
    #[error(
        "database unavailable: {detail}; check the database URL and that the server is running"
    )]
    Unavailable {
        /// Underlying error.
        detail: String,
    },
    /// Any other database error.
    #[error("database error: {detail}")]
    Backend {
        /// Underlying error.
        detail: String,
    },
}

/// Result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Display name.
    pub username: Name,
    /// Login.
    pub email: Email,
    /// Argon2 PHC hash.
    pub password_hash: String,
    /// Platform super administrator.
    pub is_super: bool,
}

/// A task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Project.
    pub project: ProjectId,
    /// Title, version, servers.
    pub spec: TaskSpec,
    /// Deploy or rollback.
    pub kind: TaskKind,
    /// Initial status (submitted, or approved when the project needs no approval).
    pub status: TaskStatus,
    /// Submitter.
    pub submitter: UserId,
    /// The task this one retries or rolls back.
    pub parent: Option<TaskId>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Filters of the task list; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only tasks of projects in this space.
    pub space: Option<SpaceId>,
    /// Only this project.
    pub project: Option<ProjectId>,
    /// Only this environment.
    pub environment: Option<EnvironmentId>,
    /// Only tasks submitted by this user ("mine").
    pub submitter: Option<UserId>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<TaskStatus>,
    /// Substring of the title.
    pub keyword: Option<String>,
}

/// Outcome of a lease acquisition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// We hold it now (fresh, or taken over from an expired holder).
    Acquired(Lease),
    /// Someone else holds an unexpired lease.
    Held(Lease),
}

/// An API token's metadata (the token itself is shown once at creation and stored hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user: UserId,
    /// Label given by the owner.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last use.
    pub last_used_at: Option<Timestamp>,
}

/// Users.
pub trait UserStore {
    /// Creates a user; `Duplicate` if the name or e-mail is taken by a live user.
    fn create_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User>;
    /// A live user.
    fn user(&self, id: UserId) -> StoreResult<User>;
    /// The live user with this e-mail.
    fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    /// Live users whose name or e-mail contains `keyword`, by id.
    fn list_users(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<User>>;
    /// Saves name, e-mail, hash, status, super flag and last space.
    fn update_user(&self, user: &User, now: Timestamp) -> StoreResult<User>;
    /// Soft-deletes a user and removes all their memberships, sessions and tokens.
    fn delete_user(&self, id: UserId, now: Timestamp) -> StoreResult<()>;
}

/// Spaces.
pub trait SpaceStore {
    /// Creates a space and makes `owner` its OWNER member.
    fn create_space(&self, name: &Name, owner: UserId, now: Timestamp) -> StoreResult<Space>;
    /// A live space.
    fn space(&self, id: SpaceId) -> StoreResult<Space>;
    /// Live spaces whose name contains `keyword`.
    fn list_spaces(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<Space>>;
    /// Saves name, owner and status; a new owner becomes an OWNER member (the old owner keeps
    /// their membership, demoted to MASTER).
    fn update_space(&self, space: &Space) -> StoreResult<Space>;
    /// Soft-deletes a space.
    fn delete_space(&self, id: SpaceId, now: Timestamp) -> StoreResult<()>;
}

/// Space and project memberships (one row per user and scope).
pub trait MemberStore {
    /// Adds or changes a membership.
    fn set_membership(&self, m: &Membership) -> StoreResult<()>;
    /// Removes a membership (the user account stays).
    fn remove_membership(&self, user: UserId, scope: MemberScope) -> StoreResult<()>;
    /// All memberships of a user, in live spaces and projects.
    fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>>;
    /// The live members of a space or project whose name or e-mail contains `keyword`.
    fn members(
        &self,
        scope: MemberScope,
        keyword: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<(User, Role)>>;
}

/// Environments.
pub trait EnvironmentStore {
    /// Creates an open environment; `Duplicate` if the name is taken in the space.
    fn create_environment(&self, space: SpaceId, name: &Name) -> StoreResult<Environment>;
    /// A live environment.
    fn environment(&self, id: EnvironmentId) -> StoreResult<Environment>;
    /// The live environments of a space.
    fn list_environments(&self, space: SpaceId, page: Page) -> StoreResult<Paged<Environment>>;
    /// Saves name and status.
    fn update_environment(&self, env: &Environment) -> StoreResult<Environment>;
    /// Soft-deletes.
    fn delete_environment(&self, id: EnvironmentId) -> StoreResult<()>;
}

/// Servers.
pub trait ServerStore {
    /// Creates a server; `Duplicate` if the name is taken in the space.
    fn create_server(&self, space: SpaceId, spec: &ServerSpec) -> StoreResult<Server>;
    /// A live server.
    fn server(&self, id: ServerId) -> StoreResult<Server>;
    /// Live servers of a space, filtered by name/host substring and label.
    fn list_servers(
        &self,
        space: SpaceId,
        keyword: Option<&str>,
        label: Option<&Label>,
        page: Page,
    ) -> StoreResult<Paged<Server>>;
    /// Saves the settings (the host key is kept unless host or port changed).
    fn update_server(&self, id: ServerId, spec: &ServerSpec) -> StoreResult<Server>;
    /// Records or clears the trusted host key.
    fn set_host_key(&self, id: ServerId, key: Option<&HostKey>) -> StoreResult<()>;
    /// Soft-deletes and detaches it from projects.
    fn delete_server(&self, id: ServerId) -> StoreResult<()>;
}

/// Projects.
pub trait ProjectStore {
    /// Creates a project; `Duplicate` if the name is taken in the space.
    fn create_project(
        &self,
        space: SpaceId,
        spec: &ProjectSpec,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<Project>;
    /// A live project.
    fn project(&self, id: ProjectId) -> StoreResult<Project>;
    /// Live projects of a space, filtered by environment and name substring.
    fn list_projects(
        &self,
        space: SpaceId,
        environment: Option<EnvironmentId>,
        keyword: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<Project>>;
    /// Saves the settings.
    fn update_project(
        &self,
        id: ProjectId,
        spec: &ProjectSpec,
        now: Timestamp,
    ) -> StoreResult<Project>;
    /// Soft-deletes.
    fn delete_project(&self, id: ProjectId, now: Timestamp) -> StoreResult<()>;
}

/// Tasks and their per-host outcomes.
pub trait TaskStore {
    /// Creates a task.
    fn create_task(&self, new: &NewTask) -> StoreResult<Task>;
    /// A live task.
    fn task(&self, id: TaskId) -> StoreResult<Task>;
    /// Tasks matching the filter, newest first.
    fn list_tasks(&self, filter: &TaskFilter, page: Page) -> StoreResult<Paged<Task>>;
    /// Saves a task only if its stored status is still `expected` (compare-and-set), else `Conflict`.
    fn update_task(&self, task: &Task, expected: TaskStatus) -> StoreResult<Task>;
    /// Soft-deletes.
    fn delete_task(&self, id: TaskId, now: Timestamp) -> StoreResult<()>;
    /// Replaces the recorded per-host outcomes of a task.
    fn set_host_outcomes(&self, task: TaskId, outcomes: &[HostOutcome]) -> StoreResult<()>;
    /// The recorded per-host outcomes.
    fn host_outcomes(&self, task: TaskId) -> StoreResult<Vec<HostOutcome>>;
}

/// Releases and the per-host release ledger.
pub trait ReleaseStore {
    /// Records a release.
    fn create_release(&self, release: &Release) -> StoreResult<()>;
    /// A release.
    fn release(&self, id: &ReleaseId) -> StoreResult<Release>;
    /// Changes a release's fleet-level status.
    fn set_release_status(&self, id: &ReleaseId, status: ReleaseStatus) -> StoreResult<()>;
    /// Releases of a project, newest first.
    fn list_releases(&self, project: ProjectId, page: Page) -> StoreResult<Paged<Release>>;
    /// Appends ledger entries.
    fn append_ledger(&self, entries: &[LedgerEntry]) -> StoreResult<()>;
    /// The ledger of one host for one project, oldest first.
    fn ledger(&self, project: ProjectId, server: ServerId) -> StoreResult<Vec<LedgerEntry>>;
}

/// Deploy events (the durable live console).
pub trait EventStore {
    /// Appends events in one transaction, assigning per-task sequence numbers; returns them.
    fn append_events(&self, events: &[NewDeployEvent]) -> StoreResult<Vec<u64>>;
    /// Up to `limit` events of a task with sequence number greater than `after`, in order.
    fn events_after(&self, task: TaskId, after: u64, limit: u64) -> StoreResult<Vec<DeployEvent>>;
}

/// The audit log.
pub trait AuditStore {
    /// Appends an entry.
    fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<AuditEntry>;
    /// Entries whose action or target contains `keyword`, newest first.
    fn list_audit(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<AuditEntry>>;
}

/// Deploy leases: atomic, token-owned, expiring locks.
pub trait LeaseStore {
    /// Takes the lease if free or expired (atomically), else reports the holder.
    fn acquire_lease(
        &self,
        key: &LockKey,
        token: &LeaseToken,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> StoreResult<Acquire>;
    /// Extends our lease; `Locked` if the token no longer holds it.
    fn renew_lease(
        &self,
        key: &LockKey,
        token: &LeaseToken,
        now: Timestamp,
        ttl: Duration,
    ) -> StoreResult<Lease>;
    /// Releases our lease; returns false if the token did not hold it.
    fn release_lease(&self, key: &LockKey, token: &LeaseToken) -> StoreResult<bool>;
    /// The current unexpired lease, if any.
    fn current_lease(&self, key: &LockKey, now: Timestamp) -> StoreResult<Option<Lease>>;
    /// Breaks a lease regardless of its holder and records it in the audit log.
    fn force_release(
        &self,
        key: &LockKey,
        actor: UserId,
        now: Timestamp,
    ) -> StoreResult<Option<Lease>>;
}

/// Login sessions and API tokens, stored by the hash of the token only.
pub trait SessionStore {
    /// Stores a session.
    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The user of an unexpired session of an active user.
    fn session_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<UserId>>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Stores an API token.
    fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<ApiToken>;
    /// The user of an API token of an active user (and records its use).
    fn api_token_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<UserId>>;
    /// A user's API tokens.
    fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token.
    fn revoke_api_token(&self, user: UserId, id: i64) -> StoreResult<()>;
}

/// Everything the server and CLI need from storage.
pub trait Store:
    UserStore
    + SpaceStore
    + MemberStore
    + EnvironmentStore
    + ServerStore
    + ProjectStore
    + TaskStore
    + ReleaseStore
    + EventStore
    + AuditStore
    + LeaseStore
    + SessionStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: UserStore
        + SpaceStore
        + MemberStore
        + EnvironmentStore
        + ServerStore
        + ProjectStore
        + TaskStore
        + ReleaseStore
        + EventStore
        + AuditStore
        + LeaseStore
        + SessionStore
        + Send
        + Sync
{
}
