//! Deploy tasks (walle's 上线单) and the per-host outcome of a deploy.

use crate::value::{CommitId, Name, RefName, ReleaseId};
use crate::{ProjectId, ServerId, Timestamp, UserId};

/// The lifecycle states of a task. See [`crate::lifecycle`] for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting for approval (walle 0).
    Submitted,
    /// Approved, or created in a project without approval (walle 1).
    Approved,
    /// Rejected by an approver (walle 2).
    Rejected,
    /// A deploy is running (walle 3).
    Deploying,
    /// Every host ended on the new release, or failures stayed within the policy (walle 4).
    Succeeded,
    /// The deploy failed; hosts were left on a consistent release (walle 5).
    Failed,
    /// The deploy was cancelled; hosts were left on a consistent release.
    Cancelled,
}

impl TaskStatus {
    /// All statuses.
    pub const ALL: [TaskStatus; 7] = [
        TaskStatus::Submitted,
        TaskStatus::Approved,
        TaskStatus::Rejected,
        TaskStatus::Deploying,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
    ];

    /// A stable lower-case name for storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Submitted => "submitted",
            TaskStatus::Approved => "approved",
            TaskStatus::Rejected => "rejected",
            TaskStatus::Deploying => "deploying",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Parses [`TaskStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True for the states a deploy ends in.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which version a task deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskSource {
    /// A branch, optionally pinned to a commit (SVN: `trunk` or a branch name, and a revision).
    /// Without a commit, the branch head is resolved when the deploy starts and recorded.
    Branch {
        /// Branch name (`trunk` for SVN trunk).
        branch: RefName,
        /// Exact commit or revision.
        commit: Option<CommitId>,
    },
    /// A tag.
    Tag {
        /// Tag name.
        tag: RefName,
    },
}

/// What a task does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskKind {
    /// Build and ship a new release.
    Deploy,
    /// Switch back to a kept release (no build, no upload).
    Rollback {
        /// The release to return to.
        target: ReleaseId,
    },
}

/// What a submitter provides for a new task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Title.
    pub name: Name,
    /// Version to deploy.
    pub source: TaskSource,
    /// Target servers: a subset of the project's servers.
    pub servers: Vec<ServerId>,
}

/// A deploy task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// Project.
    pub project: ProjectId,
    /// Title, version and servers.
    pub spec: TaskSpec,
    /// Deploy or rollback.
    pub kind: TaskKind,
    /// Current state.
    pub status: TaskStatus,
    /// Who submitted it (kept on edit, unlike walle 2.x).
    pub submitter: UserId,
    /// Who approved or rejected it, and the comment.
    pub reviewer: Option<(UserId, String)>,
    /// The commit the deploy resolved and shipped.
    pub commit: Option<CommitId>,
    /// The release this task created or switched to (walle's `link_id`).
    pub release: Option<ReleaseId>,
    /// The task this one retries or rolls back, if any.
    pub parent: Option<TaskId>,
    /// Number of deploy attempts so far.
    pub attempts: u32,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

use crate::TaskId;

/// Where one host stands at the end of (or during) a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostState {
    /// Not started.
    Pending,
    /// Release uploaded, unpacked and pre-release hooks done; waiting at the barrier.
    Prepared,
    /// Switched to the new release and healthy.
    Switched,
    /// Switched, then switched back to its previous release.
    Reverted,
    /// Failed before switching; the live release was not touched.
    FailedBeforeSwitch,
    /// Failed after switching and could not be switched back: needs attention.
    FailedAfterSwitch,
    /// Skipped because the deploy was cancelled or aborted before reaching it.
    Skipped,
}

impl HostState {
    /// A stable lower-case name for storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Pending => "pending",
            HostState::Prepared => "prepared",
            HostState::Switched => "switched",
            HostState::Reverted => "reverted",
            HostState::FailedBeforeSwitch => "failed_before_switch",
            HostState::FailedAfterSwitch => "failed_after_switch",
            HostState::Skipped => "skipped",
        }
    }
}

/// The final state of one host in one deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOutcome {
    /// The server.
    pub server: ServerId,
    /// Its state.
    pub state: HostState,
    /// The release live on the host before the deploy.
    pub previous: Option<ReleaseId>,
    /// The release live on the host now (as verified by reading the webroot link).
    pub live: Option<ReleaseId>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}
