//! Display names, labels, e-mail addresses and hook variable names.

use super::{InvalidValue, reject_control, string_value};

/// A display name (user, space, environment, server, project, task title): 1 to 100 characters,
/// trimmed, no control characters. Names reach hooks only as quoted variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);
string_value!(Name);

/// A server label used to group servers (`web`, `eu-west`, `canary`): 1 to 64 of a-z, 0-9, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);
string_value!(Label);

/// An e-mail address (the login identifier), lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);
string_value!(Email);

/// A hook variable name: `[A-Z_][A-Z0-9_]*`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarName(String);
string_value!(VarName);

impl Name {
    /// Validates and trims a display name.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "name";
        reject_control(KIND, raw)?;
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > 100 {
            return Err(InvalidValue::new(KIND, raw, "must be 1 to 100 characters"));
        }
        Ok(Self(t.to_owned()))
    }
}

impl Label {
    /// Validates a label; uppercase is lowercased.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let l = raw.to_ascii_lowercase();
        let ok = !l.is_empty()
            && l.len() <= 64
            && !l.starts_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !ok {
            return Err(InvalidValue::new(
                "label",
                raw,
                "must be 1 to 64 of a-z, 0-9, '-', '_', '.', not starting with '-'",
            ));
        }
        Ok(Self(l))
    }
}

impl Email {
    /// Validates an e-mail address (one '@', a dot in the domain, no spaces), lowercased.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "e-mail address";
        reject_control(KIND, raw)?;
        let l = raw.trim().to_lowercase();
        let ok = l.len() <= 254
            && !l.contains(char::is_whitespace)
            && l.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !ok {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "must look like name@example.com",
            ));
        }
        Ok(Self(l))
    }
}

impl VarName {
    /// Validates a variable name.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let mut bytes = raw.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !first_ok || !rest_ok || raw.len() > 64 {
            return Err(InvalidValue::new(
                "variable name",
                raw,
                "must match [A-Z_][A-Z0-9_]* (uppercase letters, digits, '_'; at most 64)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}
