//! Tests of the layering check, on the real workspace and on small examples.

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use super::{FORBIDDEN_CRATES, check_dependencies, forbidden_in};
use crate::source::{shipping_code, workspace_root};

#[test]
fn pure_crates_stay_pure() {
    if let Err(e) = super::check(&workspace_root()) {
        panic!("{e:#}\n\nRun `cargo run -p xtask -- layering` to see the same report.");
    }
}

#[test]
fn the_forbidden_list_has_no_duplicates_or_odd_names() {
    let mut names = FORBIDDEN_CRATES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FORBIDDEN_CRATES.len());
    for name in FORBIDDEN_CRATES {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}: crates.io names in this list are lower-case with hyphens"
        );
    }
}

/// A dependency of a fake package: its name and kind (`None` for a normal dependency).
type Dep<'a> = (&'a str, Option<&'a str>);

/// A fake `cargo metadata`: `(name, dependencies)`; packages named `walle-*` are workspace members.
fn metadata(packages: &[(&str, &[Dep<'_>])]) -> Value {
    let id = |name: &str| format!("path+file:///ws#{name}@0.1.0");
    json!({
        "packages": packages.iter().map(|(name, _)| json!({"id": id(name), "name": name})).collect::<Vec<_>>(),
        "workspace_members": packages
            .iter()
            .filter(|(name, _)| name.starts_with("walle-"))
            .map(|(name, _)| id(name))
            .collect::<Vec<_>>(),
        "resolve": {"nodes": packages.iter().map(|(name, deps)| json!({
            "id": id(name),
            "deps": deps.iter().map(|(dep, kind)| json!({
                "name": dep.replace('-', "_"),
                "pkg": id(dep),
                "dep_kinds": [{"kind": kind, "target": null}],
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()},
    })
}

#[track_caller]
fn check_deps(metadata: &Value, expect: Expect) {
    let report = check_dependencies(metadata).expect("well-formed metadata");
    let mut out = report.problems.join("\n");
    out.push_str("\n--\n");
    out.push_str(&report.summary);
    expect.assert_eq(&out);
}

#[test]
fn a_forbidden_crate_behind_another_dependency_is_found_with_its_path() {
    check_deps(
        &metadata(&[
            (
                "walle-core",
                &[
                    ("thiserror", None),
                    ("helper", None),
                    ("tokio", Some("dev")),
                ],
            ),
            ("walle-rbac", &[("walle-core", None), ("walle-vcs", None)]),
            ("walle-vcs", &[("git2", None)]),
            ("helper", &[("libsqlite3-sys", None)]),
            ("thiserror", &[]),
            ("tokio", &[]),
            ("git2", &[]),
            ("libsqlite3-sys", &[]),
        ]),
        expect![[r#"
            walle-core depends on libsqlite3-sys: walle-core -> helper -> libsqlite3-sys
            walle-rbac depends on git2: walle-rbac -> walle-vcs -> git2
            walle-rbac depends on libsqlite3-sys: walle-rbac -> walle-core -> helper -> libsqlite3-sys
            walle-rbac depends on the workspace crate walle-vcs; it may depend only on [walle-core]
            --
            forbidden crates present in the workspace (spelling verified): tokio, git2, libsqlite3-sys
            forbidden crates not used anywhere in the workspace yet: diesel, ssh2, axum, hyper, reqwest, rusqlite, mysqlclient-sys, pq-sys, sqlx, libgit2-sys, libssh2-sys, openssl, openssl-sys
            walle-core: 3 normal dependencies checked
            walle-rbac: 6 normal dependencies checked
        "#]],
    );
}

#[test]
fn dev_and_build_dependencies_do_not_count() {
    check_deps(
        &metadata(&[
            (
                "walle-core",
                &[("tokio", Some("dev")), ("cc", Some("build"))],
            ),
            ("walle-rbac", &[("walle-core", None)]),
            ("tokio", &[]),
            ("cc", &[]),
        ]),
        expect![[r#"

            --
            forbidden crates present in the workspace (spelling verified): tokio
            forbidden crates not used anywhere in the workspace yet: diesel, git2, ssh2, axum, hyper, reqwest, rusqlite, libsqlite3-sys, mysqlclient-sys, pq-sys, sqlx, libgit2-sys, libssh2-sys, openssl, openssl-sys
            walle-core: 0 normal dependencies checked
            walle-rbac: 1 normal dependencies checked
        "#]],
    );
}

#[test]
fn a_misspelled_forbidden_name_is_reported() {
    // The list says `libsqlite3-sys`; a package spelled with an underscore would be missed.
    check_deps(
        &metadata(&[
            ("walle-core", &[("libsqlite3_sys", None)]),
            ("walle-rbac", &[("walle-core", None)]),
            ("libsqlite3_sys", &[]),
        ]),
        expect![[r#"
            forbidden crate "libsqlite3-sys" matches no package, but "libsqlite3_sys" is in the workspace: fix the spelling in xtask/src/layering.rs
            --
            forbidden crates present in the workspace (spelling verified): (none)
            forbidden crates not used anywhere in the workspace yet: tokio, diesel, git2, ssh2, axum, hyper, reqwest, rusqlite, libsqlite3-sys, mysqlclient-sys, pq-sys, sqlx, libgit2-sys, libssh2-sys, openssl, openssl-sys
            walle-core: 1 normal dependencies checked
            walle-rbac: 2 normal dependencies checked
        "#]],
    );
}

#[track_caller]
fn check_source(code: &str, expect: Expect) {
    let found: Vec<String> = forbidden_in(&shipping_code(code))
        .into_iter()
        .map(|(line, pattern)| format!("{line}: {pattern}"))
        .collect();
    expect.assert_eq(&found.join("\n"));
}

#[test]
fn source_scan_finds_plain_grouped_and_nested_imports() {
    check_source(
        "use std::fs;\nuse std::{collections::BTreeMap, env};\nuse std::{\n    fmt,\n    net::{IpAddr, TcpStream},\n    process::Command,\n};\nfn f() { let t = std::time::SystemTime::now(); std::thread::sleep(d); tokio::spawn(x); }\nfn g() { Instant::now() }",
        expect![[r#"
            1: std::fs
            2: std::env
            5: std::net
            6: std::process
            8: SystemTime
            8: thread::sleep
            8: tokio
            9: Instant::now"#]],
    );
}

#[test]
fn source_scan_allows_pure_values_comments_literals_and_tests() {
    check_source(
        "//! No std::fs here.\nuse std::net::IpAddr;\nuse std::net::{Ipv4Addr, SocketAddrV4};\nfn f(s: &str) -> bool { s.parse::<std::net::IpAddr>().is_ok() && s != \"tokio\" }\nfn tokio_free() {}\nuse std::environment_is_not_env;\n#[cfg(test)]\nmod tests { use std::fs; }",
        expect![[r#""#]],
    );
}
