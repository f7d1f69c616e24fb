//! Commit ids (git object ids) and SVN revision numbers.

use super::{InvalidValue, string_value};

/// An exact version: a git object id in lowercase hex (4 to 64 digits, full or abbreviated),
/// or an SVN revision number (decimal digits, which are also valid hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(String);
string_value!(CommitId);

const KIND: &str = "commit id";

impl CommitId {
    /// Validates a commit id; uppercase hex is accepted and lowercased.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let lower = raw.to_ascii_lowercase();
        if lower.is_empty() || lower.len() > 64 {
            return Err(InvalidValue::new(KIND, raw, "must be 1 to 64 hex digits"));
        }
        if !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "may contain only hex digits 0-9 and a-f",
            ));
        }
        let is_revision = lower.bytes().all(|b| b.is_ascii_digit());
        if !is_revision && lower.len() < 4 {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "a git commit id needs at least 4 hex digits",
            ));
        }
        Ok(Self(lower))
    }

    /// The first `n` characters (or all of them), for display.
    pub fn short(&self, n: usize) -> &str {
        &self.0[..n.min(self.0.len())]
    }

    /// The SVN revision number, when this id is all digits.
    pub fn as_revision(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}
