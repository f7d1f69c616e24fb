//! Releases (one id for the whole fleet) and the per-host release ledger.

use crate::value::{CommitId, ReleaseId};
use crate::{ProjectId, ServerId, TaskId, Timestamp, UserId};

/// A built release of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Id, also the directory name on every host.
    pub id: ReleaseId,
    /// Project.
    pub project: ProjectId,
    /// The task that built it.
    pub task: TaskId,
    /// The exact source commit or revision.
    pub commit: CommitId,
    /// SHA-256 of the package, hex.
    pub checksum: String,
    /// State across the fleet.
    pub status: ReleaseStatus,
    /// Build time.
    pub created_at: Timestamp,
}

/// The fleet-level state of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseStatus {
    /// Built and being shipped.
    Preparing,
    /// Live on at least one host.
    Live,
    /// Was live, now replaced by a newer release or a rollback; still kept on hosts.
    Superseded,
    /// Never went live (the deploy failed or was cancelled).
    Failed,
    /// Removed from every host by cleanup.
    Removed,
}

impl ReleaseStatus {
    /// A stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Preparing => "preparing",
            ReleaseStatus::Live => "live",
            ReleaseStatus::Superseded => "superseded",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::Removed => "removed",
        }
    }
}

/// The state of a release on one host, as written to the host's ledger file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerStatus {
    /// Uploaded and unpacked, not live.
    Prepared,
    /// The webroot points at it.
    Live,
    /// Was live, then replaced.
    Superseded,
    /// Was live, then switched away by a revert or rollback.
    RolledBack,
    /// Prepared but the deploy failed; kept for inspection until cleanup.
    Failed,
    /// Deleted by cleanup.
    Removed,
}

impl LedgerStatus {
    /// A stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerStatus::Prepared => "prepared",
            LedgerStatus::Live => "live",
            LedgerStatus::Superseded => "superseded",
            LedgerStatus::RolledBack => "rolled_back",
            LedgerStatus::Failed => "failed",
            LedgerStatus::Removed => "removed",
        }
    }

    /// Parses [`LedgerStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            LedgerStatus::Prepared,
            LedgerStatus::Live,
            LedgerStatus::Superseded,
            LedgerStatus::RolledBack,
            LedgerStatus::Failed,
            LedgerStatus::Removed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// One line of a host's release ledger: what happened to a release on that host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The host.
    pub server: ServerId,
    /// The release.
    pub release: ReleaseId,
    /// Its source commit.
    pub commit: CommitId,
    /// The task that caused this entry.
    pub task: TaskId,
    /// Who ran that task.
    pub actor: UserId,
    /// The new state of the release on the host.
    pub status: LedgerStatus,
    /// The release that was live before, when this entry records a switch.
    pub previous: Option<ReleaseId>,
    /// When.
    pub at: Timestamp,
}
