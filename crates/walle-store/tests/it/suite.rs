//! The conformance suite: each test takes `make`, which opens a store instance on the test's own
//! database (calling it twice gives two instances with separate pools on the same database).

mod events;
mod leases;
mod lists;
mod names;
mod sessions;
mod story;

pub(crate) use events::events_resume_with_concurrent_appenders;
pub(crate) use leases::{
    lease_expiry_tokens_and_forced_unlock, lease_race_between_instances, lease_race_between_threads,
};
pub(crate) use lists::{lists_page_and_search, task_list_filters};
pub(crate) use names::{
    deleted_names_can_be_reused, duplicate_names_are_refused, references_are_checked,
};
pub(crate) use sessions::sessions_tokens_and_blocked_users;
pub(crate) use story::{
    every_project_setting_round_trips, lifecycle_story, task_compare_and_set_race,
};

use walle_core::ports::StoreError;

/// Asserts that `r` failed with a `Duplicate` naming `name`.
#[track_caller]
pub(crate) fn assert_duplicate<T: std::fmt::Debug>(r: Result<T, StoreError>, name: &str) {
    match r {
        Err(StoreError::Duplicate { name: n, .. }) if n == name => {}
        other => panic!("expected Duplicate({name}), got {other:?}"),
    }
}

/// Asserts that `r` failed with `NotFound` for `what`.
#[track_caller]
pub(crate) fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::NotFound { what: w, .. }) if w == what => {}
        other => panic!("expected NotFound({what}), got {other:?}"),
    }
}
