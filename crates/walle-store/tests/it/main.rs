//! walle-store's integration tests: one conformance suite, generic over the store, run against
//! SQLite (a temp dir), MariaDB and PostgreSQL (fresh databases from walle-test-support), each test
//! on its own database; plus migration and opening checks.

// The suite's helpers are plain functions called from the `#[test]`s, which clippy's
// `allow-unwrap-in-tests` does not cover; a failed unwrap is a failed test here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod harness;
mod migrations;
mod suite;

/// Instantiates each suite test once per backend, each on a fresh database.
macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() { let h = crate::harness::Harness::sqlite(); crate::suite::$test(&|| h.open()); })*
        }
        mod mysql {
            $(#[test] fn $test() { let h = crate::harness::Harness::mysql(); crate::suite::$test(&|| h.open()); })*
        }
        mod postgres {
            $(#[test] fn $test() { let h = crate::harness::Harness::postgres(); crate::suite::$test(&|| h.open()); })*
        }
    };
}

per_backend!(
    lifecycle_story,
    every_project_setting_round_trips,
    deleted_names_can_be_reused,
    duplicate_names_are_refused,
    references_are_checked,
    lists_page_and_search,
    task_list_filters,
    task_compare_and_set_race,
    lease_race_between_threads,
    lease_race_between_instances,
    lease_expiry_tokens_and_forced_unlock,
    events_resume_with_concurrent_appenders,
    sessions_tokens_and_blocked_users,
);
