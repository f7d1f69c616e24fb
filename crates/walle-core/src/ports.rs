//! The ports: traits the core needs from the outside world, implemented by adapter crates.
//!
//! Ports are synchronous and object-safe (git2, ssh2 and diesel block; the server calls them from
//! blocking threads). Their signatures use only core types, so no adapter's types leak into the core.

mod clock;
mod events;
mod notify;
mod store;
mod transport;
mod vcs;
mod workspace;

pub use clock::Clock;
pub use events::{EventSink, NullSink};
pub use notify::{Notification, NotificationKind, Notifier, NotifyError};
pub use store::{
    Acquire, ApiToken, AuditStore, EnvironmentStore, EventStore, LeaseStore, MemberStore, NewTask,
    NewUser, ProjectStore, ReleaseStore, ServerStore, SessionStore, SpaceStore, Store, StoreError,
    StoreResult, TaskFilter, TaskStore, UserStore,
};
pub use transport::{
    ConnectOptions, ExitStatus, HostKeyStore, HostTarget, OutputLine, RunOptions, Session,
    Transport, TransportError, UnpackSummary,
};
pub use vcs::{
    BranchInfo, CommitInfo, ExportSummary, FileChange, RepoHandle, Revision, TagInfo, Vcs, VcsError,
};
pub use workspace::{Artifact, ManifestEntry, Workspace, WorkspaceError};
