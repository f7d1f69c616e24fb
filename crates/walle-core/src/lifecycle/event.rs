//! Domain events of the task lifecycle.

use std::fmt;

use super::Actor;
use crate::value::ReleaseId;
use crate::{ServerId, TaskId};

/// Something that happened to a task. The task and the time are known to the caller (the task the
/// transition was applied to, and the `now` it was given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEvent {
    /// The task was created or resubmitted and waits for approval (or is approved at once, see
    /// [`TaskEvent::AutoApproved`]).
    Submitted {
        /// The submitter.
        by: Actor,
    },
    /// The project requires no approval, so the task was approved when submitted.
    AutoApproved,
    /// An approver approved the task.
    Approved {
        /// The approver.
        by: Actor,
        /// The approver's comment (may be empty).
        comment: String,
    },
    /// An approver rejected the task.
    Rejected {
        /// The approver.
        by: Actor,
        /// Why (may be empty).
        comment: String,
    },
    /// Title, version or servers changed.
    Edited {
        /// The editor (the submitter is kept).
        by: Actor,
    },
    /// The task was deleted.
    Deleted {
        /// Who deleted it.
        by: Actor,
    },
    /// A deploy attempt started.
    DeployStarted {
        /// Who started it.
        by: Actor,
        /// The attempt number, 1 for the first deploy.
        attempt: u32,
    },
    /// A failed task is run again, on these servers.
    RetryRequested {
        /// Who asked.
        by: Actor,
        /// The servers the new attempt deploys to.
        hosts: Vec<ServerId>,
    },
    /// The deploy ended successfully.
    DeploySucceeded,
    /// The deploy failed.
    DeployFailed {
        /// Why, for people.
        reason: String,
    },
    /// A user asked a running deploy to stop; the engine finishes it as cancelled.
    CancelRequested {
        /// Who asked.
        by: Actor,
    },
    /// The deploy stopped after a cancel request.
    Cancelled,
    /// A rollback task was created (this event belongs to the new task).
    RollbackCreated {
        /// Who created it.
        by: Actor,
        /// The task it was created from.
        from: TaskId,
        /// The release it returns to.
        target: ReleaseId,
    },
    /// A deploy found running at startup was marked failed.
    Recovered {
        /// Why, for people.
        reason: String,
    },
}

impl TaskEvent {
    /// The user who caused the event; `None` for what Walle did by itself.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            TaskEvent::Submitted { by }
            | TaskEvent::Approved { by, .. }
            | TaskEvent::Rejected { by, .. }
            | TaskEvent::Edited { by }
            | TaskEvent::Deleted { by }
            | TaskEvent::DeployStarted { by, .. }
            | TaskEvent::RetryRequested { by, .. }
            | TaskEvent::CancelRequested { by }
            | TaskEvent::RollbackCreated { by, .. } => Some(by),
            TaskEvent::AutoApproved
            | TaskEvent::DeploySucceeded
            | TaskEvent::DeployFailed { .. }
            | TaskEvent::Cancelled
            | TaskEvent::Recovered { .. } => None,
        }
    }

    /// A stable name for the audit log, e.g. `task.approve`.
    pub fn action(&self) -> &'static str {
        match self {
            TaskEvent::Submitted { .. } => "task.submit",
            TaskEvent::AutoApproved => "task.auto_approve",
            TaskEvent::Approved { .. } => "task.approve",
            TaskEvent::Rejected { .. } => "task.reject",
            TaskEvent::Edited { .. } => "task.edit",
            TaskEvent::Deleted { .. } => "task.delete",
            TaskEvent::DeployStarted { .. } => "task.deploy",
            TaskEvent::RetryRequested { .. } => "task.retry",
            TaskEvent::DeploySucceeded => "task.succeed",
            TaskEvent::DeployFailed { .. } => "task.fail",
            TaskEvent::CancelRequested { .. } => "task.cancel_request",
            TaskEvent::Cancelled => "task.cancel",
            TaskEvent::RollbackCreated { .. } => "task.rollback",
            TaskEvent::Recovered { .. } => "task.recover",
        }
    }
}

impl fmt::Display for TaskEvent {
    /// One line for people: `approved by bob: "looks good"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskEvent::Submitted { by } => write!(f, "submitted by {by}"),
            TaskEvent::AutoApproved => f.write_str("approved automatically (no approval required)"),
            TaskEvent::Approved { by, comment } => write!(f, "approved by {by}{}", quoted(comment)),
            TaskEvent::Rejected { by, comment } => write!(f, "rejected by {by}{}", quoted(comment)),
            TaskEvent::Edited { by } => write!(f, "edited by {by}"),
            TaskEvent::Deleted { by } => write!(f, "deleted by {by}"),
            TaskEvent::DeployStarted { by, attempt } => {
                write!(f, "deploy started by {by} (attempt {attempt})")
            }
            TaskEvent::RetryRequested { by, hosts } => {
                let hosts: Vec<String> = hosts.iter().map(ToString::to_string).collect();
                write!(f, "retry requested by {by} on servers {}", hosts.join(", "))
            }
            TaskEvent::DeploySucceeded => f.write_str("deploy succeeded"),
            TaskEvent::DeployFailed { reason } => write!(f, "deploy failed: {reason}"),
            TaskEvent::CancelRequested { by } => write!(f, "cancel requested by {by}"),
            TaskEvent::Cancelled => f.write_str("deploy cancelled"),
            TaskEvent::RollbackCreated { by, from, target } => {
                write!(f, "rollback to {target} created by {by} from task {from}")
            }
            TaskEvent::Recovered { reason } => write!(f, "marked failed at startup: {reason}"),
        }
    }
}

fn quoted(comment: &str) -> String {
    if comment.is_empty() {
        String::new()
    } else {
        format!(": {comment:?}")
    }
}
