//! Transitions of an existing task: review, edit, delete, deploy, retry, cancel, finish, recover.

use super::create::{SpecError, TaskContext, check_same_project, check_spec, submission_events};
use super::{Action, Actor, ApprovalPolicy, TaskEvent, Transition};
use crate::model::{HostOutcome, HostState, Task, TaskSpec, TaskStatus};
use crate::{ServerId, TaskId, Timestamp};

/// The reason recorded for deploys interrupted by a server restart.
pub const RECOVERED_REASON: &str =
    "the server stopped during the deploy; check the hosts and deploy again";

/// How a deploy ended, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployEnd {
    /// Every host switched, or the failures stayed within the failure policy.
    Succeeded,
    /// The deploy failed; `reason` says why, for people.
    Failed {
        /// Why.
        reason: String,
    },
    /// The deploy stopped after a cancel request.
    Cancelled,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action is not allowed in the task's status.
    #[error("cannot {action}: task {task} {}; {}", status_phrase(*status), hint(*status))]
    NotAllowed {
        /// The task.
        task: TaskId,
        /// Its status.
        status: TaskStatus,
        /// What was attempted.
        action: Action,
    },
    /// Separation of duties: the submitter tried to approve their own task.
    #[error(
        "{approver} submitted task {task} and cannot approve it: project settings require another approver"
    )]
    SelfApproval {
        /// The task.
        task: TaskId,
        /// The would-be approver (the submitter).
        approver: String,
    },
    /// A retry of failed hosts was asked for, but every host switched.
    #[error("task {task} has no failed hosts to retry: every server switched to the new release")]
    NothingToRetry {
        /// The task.
        task: TaskId,
    },
    /// An edit does not fit the project.
    #[error("cannot edit task {task}: {source}")]
    InvalidEdit {
        /// The task.
        task: TaskId,
        /// What is wrong.
        #[source]
        source: SpecError,
    },
}

impl TransitionError {
    /// The error for `action` on `task` in its current status.
    pub fn not_allowed(task: &Task, action: Action) -> Self {
        TransitionError::NotAllowed {
            task: task.id,
            status: task.status,
            action,
        }
    }
}

impl Task {
    /// Approves a submitted task, with the approver's comment.
    pub fn approve(
        &self,
        policy: ApprovalPolicy,
        by: &Actor,
        comment: &str,
        now: Timestamp,
    ) -> Result<Transition, TransitionError> {
        self.require(Action::Approve)?;
        if policy.separate_approver && by.user == self.submitter {
            return Err(TransitionError::SelfApproval {
                task: self.id,
                approver: by.name.clone(),
            });
        }
        let comment = comment.trim().to_owned();
        let mut task = self.moved(TaskStatus::Approved, now);
        task.reviewer = Some((by.user, comment.clone()));
        Ok(self.transition(
            task,
            vec![TaskEvent::Approved {
                by: by.clone(),
                comment,
            }],
        ))
    }

    /// Rejects a submitted task, with the reason.
    ///
    /// Separation of duties does not apply: rejecting one's own task only stops it, which the
    /// submitter may do anyway by deleting it.
    pub fn reject(
        &self,
        by: &Actor,
        comment: &str,
        now: Timestamp,
    ) -> Result<Transition, TransitionError> {
        self.require(Action::Reject)?;
        let comment = comment.trim().to_owned();
        let mut task = self.moved(TaskStatus::Rejected, now);
        task.reviewer = Some((by.user, comment.clone()));
        Ok(self.transition(
            task,
            vec![TaskEvent::Rejected {
                by: by.clone(),
                comment,
            }],
        ))
    }

    /// Replaces title, version and servers of a submitted or rejected task. The submitter is kept.
    /// The task (re)starts as submitted, or approved when the project requires no approval; the
    /// previous review is cleared.
    pub fn edit(
        &self,
        ctx: &TaskContext<'_>,
        by: &Actor,
        spec: TaskSpec,
        now: Timestamp,
    ) -> Result<Transition, TransitionError> {
        self.require(Action::Edit)?;
        let invalid = |source| TransitionError::InvalidEdit {
            task: self.id,
            source,
        };
        check_same_project(ctx, self).map_err(invalid)?;
        check_spec(ctx, &spec, &self.kind).map_err(invalid)?;
        let policy = ApprovalPolicy::of(&ctx.project.spec);
        let status = policy.initial_status();
        let mut task = self.moved(status, now);
        task.spec = spec;
        task.reviewer = None;
        let mut events = vec![TaskEvent::Edited { by: by.clone() }];
        if self.status == TaskStatus::Rejected {
            events.extend(submission_events(policy, by));
        } else if status == TaskStatus::Approved {
            // Submitted, and the project stopped requiring approval since.
            events.push(TaskEvent::AutoApproved);
        }
        Ok(self.transition(task, events))
    }

    /// Checks that the task may be deleted (submitted, approved or rejected) and returns the event;
    /// the caller then deletes it with [`TaskStore::delete_task`](crate::ports::TaskStore::delete_task).
    pub fn delete(&self, by: &Actor) -> Result<Vec<TaskEvent>, TransitionError> {
        self.require(Action::Delete)?;
        Ok(vec![TaskEvent::Deleted { by: by.clone() }])
    }

    /// Starts a deploy of an approved task, or runs a failed task again on all its servers.
    /// Increments [`Task::attempts`].
    pub fn start_deploy(&self, by: &Actor, now: Timestamp) -> Result<Transition, TransitionError> {
        self.require(Action::Deploy)?;
        let mut events = Vec::new();
        if self.status == TaskStatus::Failed {
            events.push(TaskEvent::RetryRequested {
                by: by.clone(),
                hosts: self.spec.servers.clone(),
            });
        }
        Ok(self.start(by, events, now))
    }

    /// Runs a failed task again on the servers that did not switch (see [`hosts_to_retry`]).
    /// Returns the transition and those servers.
    pub fn retry_failed_hosts(
        &self,
        by: &Actor,
        outcomes: &[HostOutcome],
        now: Timestamp,
    ) -> Result<(Transition, Vec<ServerId>), TransitionError> {
        self.require(Action::RetryFailedHosts)?;
        let hosts = hosts_to_retry(self, outcomes);
        if hosts.is_empty() {
            return Err(TransitionError::NothingToRetry { task: self.id });
        }
        let events = vec![TaskEvent::RetryRequested {
            by: by.clone(),
            hosts: hosts.clone(),
        }];
        Ok((self.start(by, events, now), hosts))
    }

    /// Asks a running deploy to stop. The status stays deploying; the engine sees the request,
    /// leaves every host on a consistent release and then calls [`Task::finish`] with
    /// [`DeployEnd::Cancelled`].
    pub fn request_cancel(&self, by: &Actor) -> Result<Vec<TaskEvent>, TransitionError> {
        self.require(Action::Cancel)?;
        Ok(vec![TaskEvent::CancelRequested { by: by.clone() }])
    }

    /// Records the end of a deploy: deploying → succeeded, failed or cancelled.
    pub fn finish(&self, end: DeployEnd, now: Timestamp) -> Result<Transition, TransitionError> {
        self.require(Action::Finish)?;
        let (status, event) = match end {
            DeployEnd::Succeeded => (TaskStatus::Succeeded, TaskEvent::DeploySucceeded),
            DeployEnd::Failed { reason } => {
                (TaskStatus::Failed, TaskEvent::DeployFailed { reason })
            }
            DeployEnd::Cancelled => (TaskStatus::Cancelled, TaskEvent::Cancelled),
        };
        Ok(self.transition(self.moved(status, now), vec![event]))
    }

    /// Marks a deploy that was running when the server stopped as failed. It can then be deployed
    /// again, or its failed hosts retried.
    pub fn recover(&self, now: Timestamp) -> Result<Transition, TransitionError> {
        self.require(Action::Recover)?;
        let event = TaskEvent::Recovered {
            reason: RECOVERED_REASON.to_owned(),
        };
        Ok(self.transition(self.moved(TaskStatus::Failed, now), vec![event]))
    }

    fn require(&self, action: Action) -> Result<(), TransitionError> {
        if action.allowed_in(self.status) {
            Ok(())
        } else {
            Err(TransitionError::not_allowed(self, action))
        }
    }

    fn moved(&self, status: TaskStatus, now: Timestamp) -> Task {
        let mut task = self.clone();
        task.status = status;
        task.updated_at = now;
        task
    }

    fn start(&self, by: &Actor, mut events: Vec<TaskEvent>, now: Timestamp) -> Transition {
        let mut task = self.moved(TaskStatus::Deploying, now);
        task.attempts = self.attempts.saturating_add(1);
        events.push(TaskEvent::DeployStarted {
            by: by.clone(),
            attempt: task.attempts,
        });
        self.transition(task, events)
    }

    fn transition(&self, task: Task, events: Vec<TaskEvent>) -> Transition {
        Transition {
            from: self.status,
            task,
            events,
        }
    }
}

/// The servers of `task` a "retry failed hosts" deploys to: those whose recorded outcome is not
/// [`HostState::Switched`], including servers without an outcome, in the task's server order.
/// Outcomes of servers outside the task are ignored; for a server recorded twice the last counts.
pub fn hosts_to_retry(task: &Task, outcomes: &[HostOutcome]) -> Vec<ServerId> {
    task.spec
        .servers
        .iter()
        .copied()
        .filter(|server| {
            let last = outcomes.iter().rev().find(|o| o.server == *server);
            last.is_none_or(|o| o.state != HostState::Switched)
        })
        .collect()
}

/// Crash recovery at startup: every task still deploying is moved to failed with a
/// [`TaskEvent::Recovered`] event. Tasks in other states are left alone (not in the result).
pub fn recover_interrupted(tasks: &[Task], now: Timestamp) -> Vec<Transition> {
    tasks.iter().filter_map(|t| t.recover(now).ok()).collect()
}

fn status_phrase(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Submitted => "is waiting for approval",
        TaskStatus::Approved => "is approved",
        TaskStatus::Rejected => "was rejected",
        TaskStatus::Deploying => "is deploying",
        TaskStatus::Succeeded => "has succeeded",
        TaskStatus::Failed => "has failed",
        TaskStatus::Cancelled => "was cancelled",
    }
}

fn hint(status: TaskStatus) -> String {
    let offered = Action::offered_in(status);
    match offered.as_slice() {
        [] => "nothing more can be done with it".to_owned(),
        [only] => format!("only {only} is allowed"),
        many => {
            let names: Vec<&str> = many.iter().map(|a| a.as_str()).collect();
            format!("allowed: {}", names.join(", "))
        }
    }
}
