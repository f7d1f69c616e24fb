//! Exit codes and the classification of errors into them.
//!
//! Scripts rely on these: 0 ok, 1 the deploy (or check) failed, 2 usage or validation error,
//! 3 permission denied, 4 not found, 5 locked or conflict.

use walle_core::lifecycle::{RollbackError, SpecError, TransitionError};
use walle_core::ports::StoreError;
use walle_core::value::InvalidValue;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The deploy or check ran and failed.
pub const EXIT_FAILED: u8 = 1;
/// Usage or validation error.
pub const EXIT_USAGE: u8 = 2;
/// Permission denied.
pub const EXIT_DENIED: u8 = 3;
/// Not found.
pub const EXIT_NOT_FOUND: u8 = 4;
/// Locked or conflict.
pub const EXIT_CONFLICT: u8 = 5;

/// An error the CLI raises itself, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or input.
    #[error("{0}")]
    Usage(String),
    /// The acting user may not do this.
    #[error("permission denied: {0}")]
    Denied(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Locked, taken, or in the wrong state.
    #[error("{0}")]
    Conflict(String),
    /// A deploy or check ran and failed.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Denied(_) => EXIT_DENIED,
            CliError::NotFound(_) => EXIT_NOT_FOUND,
            CliError::Conflict(_) => EXIT_CONFLICT,
            CliError::Failed(_) => EXIT_FAILED,
        }
    }
}

/// A usage error.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    CliError::Usage(msg.into()).into()
}

/// A not-found error.
pub fn not_found(msg: impl Into<String>) -> anyhow::Error {
    CliError::NotFound(msg.into()).into()
}

/// A conflict error.
pub fn conflict(msg: impl Into<String>) -> anyhow::Error {
    CliError::Conflict(msg.into()).into()
}

/// The exit code for an error: the first error in the chain that has a known meaning decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return e.code();
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return store_code(e);
        }
        if cause.downcast_ref::<walle_rbac::Denied>().is_some() {
            return EXIT_DENIED;
        }
        if cause.downcast_ref::<InvalidValue>().is_some()
            || cause.downcast_ref::<SpecError>().is_some()
            || cause.downcast_ref::<toml::de::Error>().is_some()
        {
            return EXIT_USAGE;
        }
        if let Some(e) = cause.downcast_ref::<TransitionError>() {
            return match e {
                TransitionError::InvalidEdit { .. } => EXIT_USAGE,
                _ => EXIT_CONFLICT,
            };
        }
        if let Some(e) = cause.downcast_ref::<RollbackError>() {
            return match e {
                RollbackError::NotFinished(_) | RollbackError::AlreadyLive { .. } => EXIT_CONFLICT,
                RollbackError::NotKept { .. } => EXIT_NOT_FOUND,
                _ => EXIT_USAGE,
            };
        }
    }
    EXIT_FAILED
}

fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::NotFound { .. } => EXIT_NOT_FOUND,
        StoreError::Duplicate { .. } | StoreError::Conflict { .. } | StoreError::Locked { .. } => {
            EXIT_CONFLICT
        }
        _ => EXIT_FAILED,
    }
}

#[cfg(test)]
mod tests;
