//! Which release directories cleanup may remove from a host.

use std::cmp::Ordering;

use crate::ProjectId;
use crate::value::ReleaseId;

/// The releases of `project` to remove from a host, oldest first.
///
/// Keeps the newest `keep` releases by the build time in their id (never by file mtime; `keep` 0
/// counts as 1), and always keeps `live` (where the webroot points) and `rollback_target` (what a
/// rollback would return to, usually the release live before it). Only ids of `project` are ever
/// returned: other projects sharing the releases directory are never touched, and directories
/// whose names are not release ids never reach this function (see [`project_releases`]).
pub fn releases_to_remove(
    present: &[ReleaseId],
    live: Option<&ReleaseId>,
    rollback_target: Option<&ReleaseId>,
    keep: u32,
    project: ProjectId,
) -> Vec<ReleaseId> {
    let mut ours: Vec<&ReleaseId> = present.iter().filter(|r| r.project() == project).collect();
    ours.sort_by(|a, b| cmp_release_time(b, a));
    ours.dedup();
    let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
    let mut remove: Vec<ReleaseId> = ours
        .into_iter()
        .skip(keep)
        .filter(|r| Some(*r) != live && Some(*r) != rollback_target)
        .cloned()
        .collect();
    remove.reverse();
    remove
}

/// The release ids of `project` among the entry names of a releases directory, oldest first.
/// Names that are not release ids (`shared`, `.walle`, `current`, `x.tar`) and other projects'
/// releases are left out.
pub fn project_releases<'a>(
    names: impl IntoIterator<Item = &'a str>,
    project: ProjectId,
) -> Vec<ReleaseId> {
    let mut ids: Vec<ReleaseId> = names
        .into_iter()
        .filter_map(|n| ReleaseId::new(n).ok())
        .filter(|id| id.project() == project)
        .collect();
    ids.sort_by(cmp_release_time);
    ids.dedup();
    ids
}

/// Orders releases by the build time in their id (`YYYYmmdd_HHMMSS`), then by task id, then by
/// the whole id, so `3_9_…` and `3_10_…` built in the same second still sort by task.
pub fn cmp_release_time(a: &ReleaseId, b: &ReleaseId) -> Ordering {
    time_key(a)
        .cmp(time_key(b))
        .then_with(|| a.task().cmp(&b.task()))
        .then_with(|| a.as_str().cmp(b.as_str()))
}

/// `YYYYmmdd_HHMMSS`: the last 15 characters of a valid id, fixed width, so text order is time order.
fn time_key(id: &ReleaseId) -> &str {
    let s = id.as_str();
    s.get(s.len().saturating_sub(15)..).unwrap_or(s)
}
