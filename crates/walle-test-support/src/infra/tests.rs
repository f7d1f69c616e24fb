//! Env file parsing and the "not available" message, without touching the real test world.

use std::path::Path;

use super::{Infra, parse_env, unavailable};

#[test]
fn parse_env_skips_comments_and_blank_lines() {
    let vars = parse_env("# comment\n\nA=1\n B = two words \nC=x=y\nnot a pair\n");
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(pairs, [("A", "1"), ("B", "two words"), ("C", "x=y")]);
}

#[test]
fn a_missing_env_file_is_an_error_naming_it() {
    let err = Infra::load(Path::new("/nonexistent/walle-env")).unwrap_err();
    assert!(
        format!("{err:#}").contains("/nonexistent/walle-env"),
        "{err:#}"
    );
}

#[test]
fn an_incomplete_env_file_names_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env");
    std::fs::write(&file, "WALLE_TEST_SSH_KEY=/k\n").unwrap();
    let err = Infra::load(&file).unwrap_err();
    assert!(
        format!("{err:#}").contains("WALLE_TEST_SSH_KNOWN_HOSTS"),
        "{err:#}"
    );
}

#[test]
fn the_unavailable_message_names_the_start_command() {
    let msg = unavailable(&anyhow::format_err!(
        "mariadb does not answer on 127.0.0.1:23306"
    ));
    assert!(msg.contains("sudo scripts/infra up"), "{msg}");
    assert!(msg.contains("mariadb does not answer"), "{msg}");
    assert!(msg.contains("WALLE_TEST_INFRA_ENV"), "{msg}");
}
