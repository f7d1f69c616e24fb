//! The task state machine: creating, reviewing, deploying, finishing and rolling back tasks.
//!
//! Every transition is a pure function of the task, the acting user and `now`: it returns the
//! changed [`Task`] and the [`TaskEvent`]s that describe what happened (for the audit log, the
//! notifications and the live console), or a typed error saying why the action is not allowed.
//! Nothing is stored here; the caller persists the result with
//! [`TaskStore::update_task`](crate::ports::TaskStore::update_task), passing [`Transition::from`]
//! as the expected status so that two concurrent transitions cannot both win.
//!
//! ```text
//! new_task ─(approval required)─> submitted ─approve─> approved ─start_deploy─> deploying
//! new_task ─(no approval)───────────────────────────> approved
//! submitted ─reject─> rejected ─edit─> submitted (or approved without approval)
//! submitted / approved / rejected ─delete─> gone
//! deploying ─finish─> succeeded | failed | cancelled (after request_cancel)
//! deploying ─recover (at startup)─> failed
//! failed ─start_deploy (all servers) / retry_failed_hosts─> deploying
//! succeeded / failed / cancelled ─rollback_task─> a new task of kind rollback
//! ```
//!
//! Which action is allowed in which status is one table, [`Action::allowed_in`]; the UI uses it to
//! show buttons and the transitions use it to refuse. Who may act (roles) is decided by `walle-rbac`,
//! not here; the only person rule here is the optional separation of duties
//! ([`ProjectSpec::separate_approver`]).

mod create;
mod event;
mod transition;

pub use create::{
    Created, RollbackError, RollbackRequest, SpecError, TaskContext, new_task, rollback_task,
};
pub use event::TaskEvent;
pub use transition::{
    DeployEnd, RECOVERED_REASON, TransitionError, hosts_to_retry, recover_interrupted,
};

use crate::UserId;
use crate::model::{ProjectSpec, Task, TaskStatus};

/// Who performs a transition: the user id for checks and records, the name for messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// The display name, used in events and messages.
    pub name: String,
}

impl Actor {
    /// An actor from an id and a display name.
    pub fn new(user: UserId, name: impl Into<String>) -> Self {
        Self {
            user,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// The approval settings of a project, as far as the state machine needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// New and resubmitted tasks wait for approval ([`ProjectSpec::require_approval`]).
    pub require_approval: bool,
    /// The approver may not be the submitter ([`ProjectSpec::separate_approver`]).
    pub separate_approver: bool,
}

impl ApprovalPolicy {
    /// The policy of a project.
    pub fn of(spec: &ProjectSpec) -> Self {
        Self {
            require_approval: spec.require_approval,
            separate_approver: spec.separate_approver,
        }
    }

    /// The status a new or resubmitted task starts in.
    pub fn initial_status(self) -> TaskStatus {
        if self.require_approval {
            TaskStatus::Submitted
        } else {
            TaskStatus::Approved
        }
    }
}

/// The result of a transition of an existing task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The status before the transition: the expected status for the store's compare-and-set.
    pub from: TaskStatus,
    /// The task after the transition (`updated_at` set to `now`).
    pub task: Task,
    /// What happened, in order.
    pub events: Vec<TaskEvent>,
}

/// The actions on a task, for the table of what is allowed in which status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Approve a submitted task.
    Approve,
    /// Reject a submitted task.
    Reject,
    /// Change title, version or servers.
    Edit,
    /// Delete a task that has not run.
    Delete,
    /// Start the deploy (from approved), or run a failed task again on all its servers.
    Deploy,
    /// Run a failed task again on the servers that did not switch.
    RetryFailedHosts,
    /// Ask a running deploy to stop.
    Cancel,
    /// Record the end of a deploy (the engine does this).
    Finish,
    /// Mark a deploy interrupted by a server restart as failed (done at startup).
    Recover,
    /// Create a rollback task from this task.
    Rollback,
}

impl Action {
    /// All actions.
    pub const ALL: [Action; 10] = [
        Action::Approve,
        Action::Reject,
        Action::Edit,
        Action::Delete,
        Action::Deploy,
        Action::RetryFailedHosts,
        Action::Cancel,
        Action::Finish,
        Action::Recover,
        Action::Rollback,
    ];

    /// The verb, for messages: "approve", "retry failed hosts", "roll back".
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Deploy => "deploy",
            Action::RetryFailedHosts => "retry failed hosts",
            Action::Cancel => "cancel",
            Action::Finish => "finish",
            Action::Recover => "recover",
            Action::Rollback => "roll back",
        }
    }

    /// True for the actions only Walle itself performs (finish, recover); they are never offered
    /// to users.
    pub fn is_internal(self) -> bool {
        matches!(self, Action::Finish | Action::Recover)
    }

    /// The one table of which action is allowed in which status.
    ///
    /// Finished tasks (succeeded, failed, cancelled) are history: they cannot be edited or deleted,
    /// because they are the audit trail and the anchors of rollbacks. A deploying task can only be
    /// cancelled (and finished or recovered by Walle).
    pub fn allowed_in(self, status: TaskStatus) -> bool {
        use TaskStatus as S;
        match self {
            Action::Approve | Action::Reject => status == S::Submitted,
            Action::Edit => matches!(status, S::Submitted | S::Rejected),
            Action::Delete => matches!(status, S::Submitted | S::Approved | S::Rejected),
            Action::Deploy => matches!(status, S::Approved | S::Failed),
            // A succeeded task may have failed hosts within a continue or max-fail policy.
            Action::RetryFailedHosts => matches!(status, S::Failed | S::Succeeded),
            Action::Cancel | Action::Finish | Action::Recover => status == S::Deploying,
            Action::Rollback => status.is_finished(),
        }
    }

    /// The actions a user may take on a task in `status` (internal actions left out), in
    /// [`Action::ALL`] order.
    pub fn offered_in(status: TaskStatus) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| !a.is_internal() && a.allowed_in(status))
            .collect()
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
