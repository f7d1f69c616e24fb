//! Numeric identifiers of the stored aggregates.
//!
//! Each id is its own type so that a task id can never be passed where a project id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw database value.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A space (a tenant: its members, environments, servers and projects).
    SpaceId
);
id_type!(
    /// An environment inside a space (dev, test, production, ...).
    EnvironmentId
);
id_type!(
    /// A target server.
    ServerId
);
id_type!(
    /// A project (one deployable repository with its settings).
    ProjectId
);
id_type!(
    /// A deploy task (walle's 上线单, deploy ticket).
    TaskId
);
