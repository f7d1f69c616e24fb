//! Errors: opening the store, and the translation of diesel errors into core `StoreError`s.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use walle_core::ports::StoreError;
use walle_core::value::InvalidValue;

use crate::conn::Backend;

/// Why the store could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL's scheme names no backend walle-store knows.
    #[error(
        "unknown database URL scheme {scheme:?}: use sqlite://PATH (or a plain path), mysql:// or postgres://"
    )]
    UnknownScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The backend is known but this build does not include it.
    #[error("this build has no {backend} support: rebuild walle with the `{backend}` feature")]
    NotCompiledIn {
        /// The backend the URL asks for.
        backend: Backend,
    },
    /// The first connection failed.
    #[error("cannot connect to the {backend} database: {detail}")]
    Connect {
        /// The backend.
        backend: Backend,
        /// The driver's message (never the URL, which may hold a password).
        detail: String,
    },
    /// Applying or listing the embedded migrations failed.
    #[error("cannot migrate the {backend} database: {detail}")]
    Migrate {
        /// The backend.
        backend: Backend,
        /// What failed.
        detail: String,
    },
}

/// The crate-internal error: a database error, or an already-classified store error.
#[derive(Debug)]
pub(crate) enum Error {
    /// From diesel; classified by [`classify`] at the boundary.
    Db(DieselError),
    /// Already a port error (not found, duplicate, conflict, corrupt, ...).
    Store(StoreError),
    /// The connection pool gave no connection.
    Pool(String),
    /// A race lost in a way that retrying the whole transaction resolves.
    Retry,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        Error::Db(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Store(e) => e,
            Error::Db(e) => classify(e),
            Error::Pool(detail) => StoreError::Unavailable { detail },
            Error::Retry => StoreError::Conflict {
                detail: "too many concurrent changes; try again".to_owned(),
            },
        }
    }
}

impl Error {
    /// True for failures that go away when the transaction is run again: deadlocks, serialization
    /// failures, a busy SQLite database, and lost insert races.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Error::Retry => true,
            Error::Db(DieselError::DatabaseError(kind, info)) => {
                let msg = info.message().to_ascii_lowercase();
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || msg.contains("deadlock")
                    || msg.contains("database is locked")
                    || msg.contains("database table is locked")
                    || msg.contains("lock wait timeout")
            }
            _ => false,
        }
    }

    /// True for a unique-constraint violation.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Error::Db(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Translates a diesel error that no call site handled.
fn classify(e: DieselError) -> StoreError {
    match e {
        DieselError::NotFound => StoreError::NotFound {
            what: "row",
            id: String::new(),
        },
        DieselError::DatabaseError(kind, info) => {
            let detail = info.message().to_owned();
            match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    StoreError::Unavailable { detail }
                }
                DatabaseErrorKind::UniqueViolation => StoreError::Duplicate {
                    what: "row",
                    name: detail,
                },
                DatabaseErrorKind::ForeignKeyViolation => StoreError::NotFound {
                    what: "referenced row",
                    id: detail,
                },
                _ => StoreError::Backend { detail },
            }
        }
        DieselError::DeserializationError(e) => StoreError::Corrupt {
            what: "row",
            detail: e.to_string(),
        },
        other => StoreError::Backend {
            detail: other.to_string(),
        },
    }
}

/// A `NotFound` for `what` with id `id`.
pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Error {
    Error::Store(StoreError::NotFound {
        what,
        id: id.to_string(),
    })
}

/// A `Duplicate` for `what` named `name`.
pub(crate) fn duplicate(what: &'static str, name: impl ToString) -> Error {
    Error::Store(StoreError::Duplicate {
        what,
        name: name.to_string(),
    })
}

/// A `Conflict` with a description.
pub(crate) fn conflict(detail: impl Into<String>) -> Error {
    Error::Store(StoreError::Conflict {
        detail: detail.into(),
    })
}

/// A `Corrupt` for a stored `what`.
pub(crate) fn corrupt(what: &'static str, detail: impl ToString) -> Error {
    Error::Store(StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    })
}

/// Re-validates a stored value with its core constructor; failure means the row is corrupt.
pub(crate) fn valid<T>(what: &'static str, r: Result<T, InvalidValue>) -> Result<T> {
    r.map_err(|e| corrupt(what, e))
}

/// Turns a unique-constraint violation of an `INSERT`/`UPDATE` into `Duplicate` (a race lost
/// after the explicit check), keeping other errors.
pub(crate) fn or_duplicate<T>(
    r: diesel::QueryResult<T>,
    what: &'static str,
    name: impl ToString,
) -> Result<T> {
    match r {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(duplicate(what, name))
        }
        other => Ok(other?),
    }
}
