//! POSIX paths on target hosts and paths inside a repository.

use super::{InvalidValue, reject_control, string_value};

/// An absolute, normalised POSIX path on a target host: starts with `/`, has no empty, `.` or `..`
/// components, no NUL, newline or other control characters, and no trailing `/` (except `/` itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbsPath(String);
string_value!(AbsPath);

/// A relative path below some root (a shared file, an include pattern's base, a file in a release):
/// no leading `/`, no empty, `.` or `..` components, no control characters, no leading `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelPath(String);
string_value!(RelPath);

/// A path inside an SVN repository in the standard layout: `trunk`, `branches/<name>` or `tags/<name>`,
/// with the component rules of [`RelPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SvnPath(String);
string_value!(SvnPath);

const MAX_PATH: usize = 4096;

fn check_components(kind: &'static str, raw: &str, body: &str) -> Result<(), InvalidValue> {
    for part in body.split('/') {
        match part {
            "" => {
                return Err(InvalidValue::new(
                    kind,
                    raw,
                    "has an empty component ('//' or a trailing '/')",
                ));
            }
            "." | ".." => {
                return Err(InvalidValue::new(
                    kind,
                    raw,
                    format!("has a '{part}' component; write the path without it"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

impl AbsPath {
    /// Validates an absolute path. A single trailing `/` is removed (walle strips it from the webroot too).
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "absolute path";
        reject_control(KIND, raw)?;
        if !raw.starts_with('/') {
            return Err(InvalidValue::new(KIND, raw, "must start with '/'"));
        }
        if raw.len() > MAX_PATH {
            return Err(InvalidValue::new(KIND, raw, "is longer than 4096 bytes"));
        }
        if raw == "/" {
            return Ok(Self(raw.to_owned()));
        }
        let trimmed = raw.strip_suffix('/').unwrap_or(raw);
        check_components(KIND, raw, &trimmed[1..])?;
        Ok(Self(trimmed.to_owned()))
    }

    /// This path with a validated relative path appended.
    pub fn join(&self, rel: &RelPath) -> AbsPath {
        if self.0 == "/" {
            AbsPath(format!("/{}", rel.0))
        } else {
            AbsPath(format!("{}/{}", self.0, rel.0))
        }
    }

    /// The parent directory, `None` for `/`.
    pub fn parent(&self) -> Option<AbsPath> {
        if self.0 == "/" {
            return None;
        }
        let idx = self.0.rfind('/').expect("an absolute path contains '/'");
        Some(AbsPath(if idx == 0 {
            "/".to_owned()
        } else {
            self.0[..idx].to_owned()
        }))
    }

    /// The last component, `None` for `/`.
    pub fn file_name(&self) -> Option<&str> {
        if self.0 == "/" {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// True when `other` is this path or lies below it.
    pub fn contains(&self, other: &AbsPath) -> bool {
        self.0 == "/" || other.0 == self.0 || other.0.starts_with(&format!("{}/", self.0))
    }
}

impl RelPath {
    /// Validates a relative path.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "relative path";
        reject_control(KIND, raw)?;
        if raw.is_empty() {
            return Err(InvalidValue::new(KIND, raw, "is empty"));
        }
        if raw.len() > MAX_PATH {
            return Err(InvalidValue::new(KIND, raw, "is longer than 4096 bytes"));
        }
        if raw.starts_with('/') {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "must be relative (no leading '/')",
            ));
        }
        if raw.starts_with('-') {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "starts with '-' and could be read as an option",
            ));
        }
        check_components(KIND, raw, raw)?;
        Ok(Self(raw.to_owned()))
    }

    /// This path with another relative path appended.
    pub fn join(&self, rel: &RelPath) -> RelPath {
        RelPath(format!("{}/{}", self.0, rel.0))
    }
}

impl SvnPath {
    /// Validates an SVN path of the standard layout.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "SVN path";
        let rel = RelPath::new(raw).map_err(|e| InvalidValue::new(KIND, raw, e.reason))?;
        let ok = rel.0 == "trunk"
            || rel
                .0
                .strip_prefix("branches/")
                .is_some_and(|n| !n.is_empty())
            || rel.0.strip_prefix("tags/").is_some_and(|n| !n.is_empty());
        if !ok {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "must be 'trunk', 'branches/<name>' or 'tags/<name>' (standard layout)",
            ));
        }
        Ok(Self(rel.0))
    }

    /// `trunk`.
    pub fn trunk() -> Self {
        Self("trunk".to_owned())
    }

    /// `branches/<name>` for a validated name.
    pub fn branch(name: &RefName) -> Self {
        Self(format!("branches/{name}"))
    }

    /// `tags/<name>` for a validated name.
    pub fn tag(name: &RefName) -> Self {
        Self(format!("tags/{name}"))
    }
}

use super::RefName;
