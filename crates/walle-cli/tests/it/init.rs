//! `walle init`: a SUPER account with a generated password printed once; a second init refuses.

use crate::Walle;

#[test]
fn init_prints_a_generated_password_once_and_refuses_a_second_init() {
    let w = Walle::fresh();
    let out = w.ok(&["init", "--email", "ops@example.com"]);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("password"))
        .unwrap_or_else(|| panic!("no password line in:\n{out}"));
    let pw = line.split_whitespace().last().expect("password value");
    assert!(pw.len() >= 16, "{pw}");
    assert_ne!(pw, "Walle123", "no well-known default password");
    assert!(out.contains("ops@example.com"), "{out}");
    assert!(w.data_dir().join("walle.db").exists());

    let err = w.fails(5, &["init"]);
    assert!(err.contains("already initialised"), "{err}");
    // Nothing changed: the SUPER account is still the only one and no password was printed again.
    let out = w.run(&["init"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(pw));
    let users = w.json(&["user", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    assert_eq!(users[0]["email"], "ops@example.com");
    assert_eq!(users[0]["super"], true);
}

#[test]
fn two_inits_generate_different_passwords() {
    let (_a, pa) = Walle::init();
    let (_b, pb) = Walle::init();
    assert_ne!(pa, pb);
}

#[test]
fn commands_before_init_say_what_to_do() {
    let w = Walle::fresh();
    let err = w.fails(2, &["server", "list"]);
    assert!(err.contains("walle init"), "{err}");
}

#[test]
fn migrate_after_init_has_nothing_to_do() {
    let (w, _) = Walle::init();
    let v = w.json(&["migrate"]);
    assert_eq!(v["applied"], serde_json::json!([]), "{v}");
    let text = w.ok(&["migrate"]);
    assert!(text.contains("up to date"), "{text}");
}

#[test]
fn the_data_directory_and_secret_key_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let (w, _) = Walle::init();
    let mode = |p: std::path::PathBuf| {
        std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(w.data_dir()), 0o700);
    assert_eq!(mode(w.data_dir().join("secret.key")), 0o600);
}
