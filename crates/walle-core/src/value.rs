//! Validated values: every string that can reach a shell, a path or a URL is checked once, here.
//!
//! Each type has private fields and one fallible constructor, so holding a value proves it is valid.
//! The error says what is wrong and what is allowed.

mod commit;
mod git_ref;
mod host;
mod names;
mod path;
mod release_id;

pub use commit::CommitId;
pub use git_ref::RefName;
pub use host::{HostName, Port, SshUser};
pub use names::{Email, Label, Name, VarName};
pub use path::{AbsPath, RelPath, SvnPath};
pub use release_id::ReleaseId;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidValue {
    /// What kind of value it was ("git ref name", "absolute path", ...).
    pub kind: &'static str,
    /// The refused input, with control characters escaped by `{:?}` when printed.
    pub value: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(kind: &'static str, value: &str, reason: impl Into<String>) -> Self {
        // Keep error messages bounded even for hostile multi-megabyte input.
        let value: String = value.chars().take(200).collect();
        Self {
            kind,
            value,
            reason: reason.into(),
        }
    }
}

/// Rejects NUL, newlines and other control characters, which no value type accepts.
pub(crate) fn reject_control(kind: &'static str, raw: &str) -> Result<(), InvalidValue> {
    match raw.chars().find(|c| c.is_control()) {
        Some(c) => Err(InvalidValue::new(
            kind,
            raw,
            format!("contains the control character {c:?}"),
        )),
        None => Ok(()),
    }
}

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The validated string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::value::InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}
pub(crate) use string_value;

#[cfg(test)]
mod tests;
