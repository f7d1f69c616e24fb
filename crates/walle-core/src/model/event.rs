//! Structured deploy events (the live console) and the audit log.

use crate::{ServerId, TaskId, Timestamp, UserId};

/// The step of a deploy an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Acquiring the deploy lease and the target-side locks.
    Lock,
    /// Fetching into the repository cache.
    Fetch,
    /// Pre-deploy hooks on the deploy host.
    PreDeploy,
    /// Exporting the exact commit into the build directory.
    Export,
    /// Build hooks (walle's post-deploy) on the deploy host.
    Build,
    /// Packaging the build into one archive.
    Package,
    /// Connecting to a host and verifying its host key.
    Connect,
    /// Creating the directories on a host.
    Prepare,
    /// Uploading and unpacking the release on a host.
    Upload,
    /// Linking shared files and directories into the release.
    LinkShared,
    /// Pre-release hooks on a host.
    PreRelease,
    /// Waiting for every host to be prepared.
    Barrier,
    /// Switching the webroot symlink.
    Switch,
    /// The health check on a host.
    HealthCheck,
    /// Post-release hooks on a host.
    PostRelease,
    /// Switching a host back to its previous release.
    Revert,
    /// Removing old releases.
    Cleanup,
    /// Writing the release ledger.
    Ledger,
    /// Releasing locks.
    Unlock,
    /// The end of the deploy (the summary).
    Finish,
}

impl Step {
    /// All steps, in pipeline order.
    pub const ALL: [Step; 20] = [
        Step::Lock,
        Step::Fetch,
        Step::PreDeploy,
        Step::Export,
        Step::Build,
        Step::Package,
        Step::Connect,
        Step::Prepare,
        Step::Upload,
        Step::LinkShared,
        Step::PreRelease,
        Step::Barrier,
        Step::Switch,
        Step::HealthCheck,
        Step::PostRelease,
        Step::Revert,
        Step::Cleanup,
        Step::Ledger,
        Step::Unlock,
        Step::Finish,
    ];

    /// A stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Lock => "lock",
            Step::Fetch => "fetch",
            Step::PreDeploy => "pre_deploy",
            Step::Export => "export",
            Step::Build => "build",
            Step::Package => "package",
            Step::Connect => "connect",
            Step::Prepare => "prepare",
            Step::Upload => "upload",
            Step::LinkShared => "link_shared",
            Step::PreRelease => "pre_release",
            Step::Barrier => "barrier",
            Step::Switch => "switch",
            Step::HealthCheck => "health_check",
            Step::PostRelease => "post_release",
            Step::Revert => "revert",
            Step::Cleanup => "cleanup",
            Step::Ledger => "ledger",
            Step::Unlock => "unlock",
            Step::Finish => "finish",
        }
    }

    /// Parses [`Step::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What kind of line an event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStream {
    /// The command about to run (its display form).
    Command,
    /// A line of standard output.
    Stdout,
    /// A line of standard error.
    Stderr,
    /// A command finished: `exit_code` is set, `line` holds the duration.
    Exit,
    /// Progress information from Walle itself.
    Info,
    /// An error from Walle itself.
    Error,
}

impl EventStream {
    /// A stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStream::Command => "command",
            EventStream::Stdout => "stdout",
            EventStream::Stderr => "stderr",
            EventStream::Exit => "exit",
            EventStream::Info => "info",
            EventStream::Error => "error",
        }
    }

    /// Parses [`EventStream::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            EventStream::Command,
            EventStream::Stdout,
            EventStream::Stderr,
            EventStream::Exit,
            EventStream::Info,
            EventStream::Error,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An event to append (the store assigns the sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployEvent {
    /// The task.
    pub task: TaskId,
    /// The host, or `None` for the deploy host.
    pub host: Option<ServerId>,
    /// The step.
    pub step: Step,
    /// What the line is.
    pub stream: EventStream,
    /// The text (one line, without the newline).
    pub line: String,
    /// Exit status, for [`EventStream::Exit`].
    pub exit_code: Option<i32>,
    /// When it happened.
    pub at: Timestamp,
}

/// A stored event, with its per-task sequence number (1, 2, 3, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployEvent {
    /// Position in the task's event stream; a console resumes after the last one it saw.
    pub seq: u64,
    /// The event.
    pub event: NewDeployEvent,
}

/// An audit-log entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who did it (`None` for the system itself, e.g. crash recovery).
    pub actor: Option<UserId>,
    /// What was done, e.g. `task.approve`, `lock.force_unlock`.
    pub action: String,
    /// What it was done to, e.g. `task:42`.
    pub target: String,
    /// Details (never secrets).
    pub details: String,
    /// When.
    pub at: Timestamp,
}

/// A stored audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Id, increasing.
    pub id: i64,
    /// The entry.
    pub entry: NewAuditEntry,
}
