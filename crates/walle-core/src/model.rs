//! The domain model: everything walle 2.x stores, plus what Walle adds (server labels, shared paths,
//! health checks, deploy strategies, releases and the per-host release ledger, structured events,
//! the audit log and deploy leases).
//!
//! These are plain data types with validated fields. Behaviour lives in [`crate::lifecycle`] (the
//! lifecycle), [`crate::layout`] and [`crate::plan`].

mod account;
mod event;
mod lease;
mod project;
mod release;
mod server;
mod task;

pub use account::{
    Environment, MemberScope, Membership, OpenStatus, Role, Space, User, UserStatus,
};
pub use event::{AuditEntry, DeployEvent, EventStream, NewAuditEntry, NewDeployEvent, Step};
pub use lease::{Lease, LeaseToken, LockKey};
pub use project::{
    DeployStrategy, FailurePolicy, FileFilter, FilterMode, HealthCheck, HealthProbe, Hooks,
    NotifyChannel, NotifySettings, Project, ProjectSpec, RepoConfig, RepoCredentials, RepoKind,
    RepoMode, SharedPaths, SwitchMode, Variable,
};
pub use release::{LedgerEntry, LedgerStatus, Release, ReleaseStatus};
pub use server::{HostKey, Server, ServerSpec};
pub use task::{HostOutcome, HostState, Task, TaskKind, TaskSource, TaskSpec, TaskStatus};

/// A page request: `offset` rows skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Maximum rows to return.
    pub limit: u64,
}

impl Page {
    /// Page `number` (1-based) of `size` rows, as walle's `page`/`size` parameters.
    pub fn number(number: u64, size: u64) -> Self {
        Self {
            offset: number.saturating_sub(1) * size,
            limit: size,
        }
    }

    /// Everything (for small lists such as a project's servers).
    pub fn all() -> Self {
        Self {
            offset: 0,
            limit: u64::MAX / 2,
        }
    }
}

/// One page of results and the total number of matching rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// All matching rows, across pages.
    pub total: u64,
}
