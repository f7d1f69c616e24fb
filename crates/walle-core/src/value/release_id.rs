//! Release ids, compatible with walle: `{project_id}_{task_id}_{YYYYmmdd_HHMMSS}`.

use super::{InvalidValue, string_value};
use crate::{ProjectId, TaskId, Timestamp};

/// One id for a release across the whole fleet, also the name of its directory on every host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseId(String);
string_value!(ReleaseId);

const KIND: &str = "release id";

impl ReleaseId {
    /// The id of the release a task builds at `at`.
    pub fn for_task(project: ProjectId, task: TaskId, at: Timestamp) -> Self {
        Self(format!("{}_{}_{}", project, task, at.compact()))
    }

    /// Parses a release id in walle's format.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let parts: Vec<&str> = raw.split('_').collect();
        let digits = |s: &str, n: Option<usize>| {
            !s.is_empty()
                && s.len() <= 18
                && s.bytes().all(|b| b.is_ascii_digit())
                && n.is_none_or(|n| s.len() == n)
        };
        let ok = parts.len() == 4
            && digits(parts[0], None)
            && digits(parts[1], None)
            && digits(parts[2], Some(8))
            && digits(parts[3], Some(6));
        if !ok {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "must be {project_id}_{task_id}_{YYYYmmdd}_{HHMMSS}, e.g. 29_78_20190225_190422",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The project this release belongs to.
    pub fn project(&self) -> ProjectId {
        ProjectId(self.field(0))
    }

    /// The task that built this release.
    pub fn task(&self) -> TaskId {
        TaskId(self.field(1))
    }

    fn field(&self, i: usize) -> i64 {
        self.0
            .split('_')
            .nth(i)
            .and_then(|s| s.parse().ok())
            .expect("validated release id has numeric fields")
    }
}
