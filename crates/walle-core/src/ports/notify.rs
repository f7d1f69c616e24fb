//! The notifier port: task and deploy notifications (DingTalk, webhooks, e-mail).

use crate::model::NotifyChannel;
use crate::{ProjectId, TaskId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// A task awaits approval (walle never told approvers, #659).
    Submitted,
    /// A task was approved.
    Approved,
    /// A task was rejected.
    Rejected,
    /// A deploy succeeded.
    DeploySucceeded,
    /// A deploy failed.
    DeployFailed,
    /// A rollback finished.
    RolledBack,
}

/// A notification, already rendered from core data; secrets are never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// Project.
    pub project: ProjectId,
    /// Project name.
    pub project_name: String,
    /// Task.
    pub task: TaskId,
    /// Task title.
    pub task_name: String,
    /// Who caused it.
    pub actor: String,
    /// Version text (tag, or branch@commit).
    pub version: String,
    /// Where to send it.
    pub channels: Vec<NotifyChannel>,
}

/// Why a notification could not be delivered. Delivery failures never change a task's outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notification to {channel} failed: {detail}")]
pub struct NotifyError {
    /// The channel, without secrets.
    pub channel: String,
    /// What went wrong.
    pub detail: String,
}

/// Sends notifications.
pub trait Notifier: Send + Sync {
    /// Sends one notification to each of its channels; returns the failures.
    fn notify(&self, n: &Notification) -> Vec<NotifyError>;
}
