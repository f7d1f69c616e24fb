//! The strings stored for the core's enums, and their parsing back (a bad one is `Corrupt`).

use walle_core::model::{
    EventStream, FilterMode, HostState, LedgerStatus, MemberScope, OpenStatus, ReleaseStatus,
    RepoKind, RepoMode, Role, Step, TaskStatus, UserStatus,
};

use crate::error::{Result, corrupt};

/// Maps a stored string back with `parse`, or reports the column as corrupt.
fn back<T>(what: &'static str, s: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    parse(s).ok_or_else(|| corrupt(what, format!("unknown value {s:?}")))
}

pub(crate) fn user_status(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Active => "active",
        UserStatus::Blocked => "blocked",
    }
}

pub(crate) fn parse_user_status(s: &str) -> Result<UserStatus> {
    back("user status", s, |s| match s {
        "active" => Some(UserStatus::Active),
        "blocked" => Some(UserStatus::Blocked),
        _ => None,
    })
}

pub(crate) fn open_status(s: OpenStatus) -> &'static str {
    match s {
        OpenStatus::Open => "open",
        OpenStatus::Closed => "closed",
    }
}

pub(crate) fn parse_open_status(s: &str) -> Result<OpenStatus> {
    back("open status", s, |s| match s {
        "open" => Some(OpenStatus::Open),
        "closed" => Some(OpenStatus::Closed),
        _ => None,
    })
}

pub(crate) fn parse_role(s: &str) -> Result<Role> {
    back("role", s, Role::parse)
}

/// The `(scope_kind, scope_id)` columns of a membership.
pub(crate) fn scope(s: MemberScope) -> (&'static str, i64) {
    match s {
        MemberScope::Space(id) => ("space", id.get()),
        MemberScope::Project(id) => ("project", id.get()),
    }
}

pub(crate) fn parse_scope(kind: &str, id: i64) -> Result<MemberScope> {
    back("membership scope", kind, |k| match k {
        "space" => Some(MemberScope::Space(walle_core::SpaceId(id))),
        "project" => Some(MemberScope::Project(walle_core::ProjectId(id))),
        _ => None,
    })
}

pub(crate) fn repo_kind(k: RepoKind) -> &'static str {
    match k {
        RepoKind::Git => "git",
        RepoKind::Svn => "svn",
    }
}

pub(crate) fn parse_repo_kind(s: &str) -> Result<RepoKind> {
    back("repository kind", s, |s| match s {
        "git" => Some(RepoKind::Git),
        "svn" => Some(RepoKind::Svn),
        _ => None,
    })
}

pub(crate) fn repo_mode(m: RepoMode) -> &'static str {
    match m {
        RepoMode::Branch => "branch",
        RepoMode::Tag => "tag",
    }
}

pub(crate) fn parse_repo_mode(s: &str) -> Result<RepoMode> {
    back("repository mode", s, |s| match s {
        "branch" => Some(RepoMode::Branch),
        "tag" => Some(RepoMode::Tag),
        _ => None,
    })
}

pub(crate) fn filter_mode(m: FilterMode) -> &'static str {
    match m {
        FilterMode::Exclude => "exclude",
        FilterMode::Include => "include",
    }
}

pub(crate) fn parse_filter_mode(s: &str) -> Result<FilterMode> {
    back("filter mode", s, |s| match s {
        "exclude" => Some(FilterMode::Exclude),
        "include" => Some(FilterMode::Include),
        _ => None,
    })
}

pub(crate) fn parse_task_status(s: &str) -> Result<TaskStatus> {
    back("task status", s, TaskStatus::parse)
}

pub(crate) fn parse_host_state(s: &str) -> Result<HostState> {
    back("host state", s, |s| {
        [
            HostState::Pending,
            HostState::Prepared,
            HostState::Switched,
            HostState::Reverted,
            HostState::FailedBeforeSwitch,
            HostState::FailedAfterSwitch,
            HostState::Skipped,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    })
}

pub(crate) fn parse_release_status(s: &str) -> Result<ReleaseStatus> {
    back("release status", s, |s| {
        [
            ReleaseStatus::Preparing,
            ReleaseStatus::Live,
            ReleaseStatus::Superseded,
            ReleaseStatus::Failed,
            ReleaseStatus::Removed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    })
}

pub(crate) fn parse_ledger_status(s: &str) -> Result<LedgerStatus> {
    back("ledger status", s, LedgerStatus::parse)
}

pub(crate) fn parse_step(s: &str) -> Result<Step> {
    back("event step", s, Step::parse)
}

pub(crate) fn parse_stream(s: &str) -> Result<EventStream> {
    back("event stream", s, EventStream::parse)
}
