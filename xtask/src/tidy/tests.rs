//! The tidy test of the workspace, and tests of each rule on small examples.

use expect_test::{Expect, expect};

use super::{check, module_doc, placeholders, report, test_markers};
use crate::source::{blank_cfg_test_items, blank_comments_and_literals, workspace_root};

#[test]
fn tidy() {
    let offences = check(&workspace_root()).expect("the workspace can be read");
    assert!(
        offences.is_empty(),
        "tidy check failed:\n{}\nRun `cargo run -p xtask -- tidy` to see the same report.",
        report(&offences)
    );
}

#[track_caller]
fn check_rules(rel: &str, text: &str, expect: Expect) {
    let code = blank_comments_and_literals(text);
    let mut offences: Vec<_> = module_doc(rel, text).into_iter().collect();
    offences.extend(test_markers(rel, &code));
    offences.extend(placeholders(rel, &blank_cfg_test_items(&code)));
    expect.assert_eq(&report(&offences));
}

#[test]
fn a_clean_file_passes() {
    check_rules(
        "crates/walle-x/src/a.rs",
        "//! Docs mention #[ignore] and todo!() freely.\nfn f() -> &'static str { \"#[should_panic]\" }\n#[cfg(test)]\nmod t { fn w() { todo!() } }\n",
        expect![[r#"
            0 offence(s)
        "#]],
    );
}

#[test]
fn every_rule_reports_its_place() {
    check_rules(
        "crates/walle-x/src/lib.rs",
        "use std::fmt;\n#[test]\n#[should_panic(expected = \"x\")]\nfn a() {}\n#[test]\n#[ignore = \"later\"]\nfn b() {}\nfn c() { todo!(\"soon\") }\nfn d() { unimplemented!() }\nfn e() { my_todo!() }\n",
        expect![[r#"
            module docs (the first line must be a `//!` line, or `#![doc` in lib.rs/main.rs):
              crates/walle-x/src/lib.rs: starts with "use std::fmt;"
            no #[should_panic] or #[ignore] (STYLE.md item 18):
              crates/walle-x/src/lib.rs:3: `#[should_panic]`: assert the `Err` instead
              crates/walle-x/src/lib.rs:6: `#[ignore]`: assert today's output with a FIXME instead
            no todo!() or unimplemented!() in code that ships:
              crates/walle-x/src/lib.rs:8: `todo!()`: return an error or finish the code
              crates/walle-x/src/lib.rs:9: `unimplemented!()`: return an error or finish the code
            5 offence(s)
        "#]],
    );
}

#[test]
fn crate_roots_may_include_their_readme() {
    check_rules(
        "crates/walle-x/src/lib.rs",
        "#![doc = include_str!(\"../README.md\")]\n",
        expect![[r#"
            0 offence(s)
        "#]],
    );
    check_rules(
        "crates/walle-x/src/other.rs",
        "#![doc = include_str!(\"../README.md\")]\n",
        expect![[r##"
            module docs (the first line must be a `//!` line, or `#![doc` in lib.rs/main.rs):
              crates/walle-x/src/other.rs: starts with "#![doc = include_str!(\"../README.md\")]"
            1 offence(s)
        "##]],
    );
}
