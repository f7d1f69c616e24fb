//! Tests of the source helpers.

use expect_test::{Expect, expect};

use super::{blank_cfg_test_items, blank_comments_and_literals, shipping_code};

#[track_caller]
fn check(f: fn(&str) -> String, input: &str, expect: Expect) {
    let output = f(input);
    assert_eq!(
        output.lines().count(),
        input.lines().count(),
        "line count must be kept"
    );
    expect.assert_eq(
        &output
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn comments_and_literals_are_blanked() {
    check(
        blank_comments_and_literals,
        r####"use std::fs; // std::env here
/// Doc: std::process
let s = "std::net \" still";
let r = r#"tokio "quoted" "#;
let c = '"'; let q = '\''; let u = '\u{7f}';
fn f<'a>(x: &'a str) -> &'a str { x }
/* block /* nested */ std::env */ let after = 1;
let r#type = 2;"####,
        expect![[r##"
            use std::fs;

            let s = "                 ";
            let r = r#"               "#;
            let c = ' '; let q = '  '; let u = '      ';
            fn f<'a>(x: &'a str) -> &'a str { x }
                                              let after = 1;
            let r#type = 2;"##]],
    );
}

#[test]
fn cfg_test_items_are_blanked() {
    check(
        blank_cfg_test_items,
        "fn shipped() {}\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod inline {\n    fn t() { std::fs::read(); }\n}\nfn after() {}",
        expect![[r#"
            fn shipped() {}






            fn after() {}"#]],
    );
}

#[test]
fn shipping_code_drops_both() {
    check(
        shipping_code,
        "fn a() { \"}\" }\n#[cfg(test)]\nmod t { fn b() { '}'; } }\nfn c() {}",
        expect![[r#"
            fn a() { " " }


            fn c() {}"#]],
    );
}
