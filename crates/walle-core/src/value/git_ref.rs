//! Git branch and tag names, checked with the rules of `git check-ref-format --branch`.

use super::{InvalidValue, reject_control, string_value};

/// A branch or tag short name (`main`, `release/1.2`, `v1.0.0`), valid by git's `check-ref-format` rules
/// and never starting with `-`, so it can't be read as an option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefName(String);
string_value!(RefName);

const KIND: &str = "git ref name";

impl RefName {
    /// Validates a branch or tag name.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let err = |why: &str| Err(InvalidValue::new(KIND, raw, why));
        reject_control(KIND, raw)?;
        if raw.is_empty() {
            return err("is empty");
        }
        if raw.len() > 255 {
            return err("is longer than 255 bytes");
        }
        if raw.starts_with('-') {
            return err("starts with '-' and could be read as an option");
        }
        if raw == "@" {
            return err("'@' alone is not a valid name");
        }
        if let Some(c) = raw.chars().find(|c| " ~^:?*[\\".contains(*c)) {
            return err(&format!(
                "contains {c:?}; spaces and ~ ^ : ? * [ \\ are not allowed"
            ));
        }
        if raw.contains("..") {
            return err("contains '..'");
        }
        if raw.contains("@{") {
            return err("contains '@{'");
        }
        if raw.starts_with('/') || raw.ends_with('/') || raw.contains("//") {
            return err("has an empty path component (leading, trailing or double '/')");
        }
        if raw.ends_with('.') {
            return err("ends with '.'");
        }
        for part in raw.split('/') {
            if part.starts_with('.') {
                return err("has a component starting with '.'");
            }
            if part.ends_with(".lock") {
                return err("has a component ending with '.lock'");
            }
        }
        Ok(Self(raw.to_owned()))
    }
}
