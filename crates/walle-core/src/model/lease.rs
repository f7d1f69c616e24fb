//! Deploy leases: a lock with an owner token and an expiry.

use crate::{EnvironmentId, ProjectId, Timestamp};

/// What a lease locks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockKey(String);

impl LockKey {
    /// The deploy lock of a project.
    pub fn project(id: ProjectId) -> Self {
        Self(format!("project:{id}"))
    }

    /// The deploy lock of an environment (for environment-wide freezes).
    pub fn environment(id: EnvironmentId) -> Self {
        Self(format!("environment:{id}"))
    }

    /// A key read back from storage.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LockKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret proof of holding a lease (random, generated outside the core).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseToken(String);

impl LeaseToken {
    /// Wraps a token.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A held lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// What is locked.
    pub key: LockKey,
    /// The holder's token.
    pub token: LeaseToken,
    /// Who holds it, for people: e.g. `task 42 (alice)`.
    pub holder: String,
    /// When it was taken.
    pub acquired_at: Timestamp,
    /// When it lapses unless renewed.
    pub expires_at: Timestamp,
}

impl Lease {
    /// True when the lease has lapsed at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}
