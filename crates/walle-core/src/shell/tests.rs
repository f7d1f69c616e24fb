use super::*;

fn var(n: &str) -> VarName {
    VarName::new(n).unwrap()
}

#[test]
fn quoting() {
    assert_eq!(quote(""), "''");
    assert_eq!(quote("plain"), "'plain'");
    assert_eq!(quote("it's"), "'it'\\''s'");
    assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    assert_eq!(quote("a\nb"), "'a\nb'");
}

#[test]
fn renders_quoted_command_line() {
    let c = Command::new("tar")
        .args(["-xzf", "-", "--", "x y"])
        .env(var("BRANCH"), "feat'; reboot; echo '")
        .cwd(AbsPath::new("/srv/www releases").unwrap());
    expect_test::expect![[r#"cd '/srv/www releases' && BRANCH='feat'\''; reboot; echo '\''' 'tar' '-xzf' '-' '--' 'x y'"#]]
        .assert_eq(&c.render());
}

#[test]
fn later_env_assignment_wins() {
    let c = Command::shell("echo $A")
        .env(var("A"), "1")
        .env(var("A"), "2");
    assert_eq!(c.environment().len(), 1);
    assert_eq!(c.render(), "A='2' 'sh' '-c' 'echo $A'");
    assert_eq!(c.display(), "echo $A");
}

/// Runs the rendered line through a real `sh` is not allowed here (no processes in the core);
/// instead check the quoting invariant: unquoting the rendered words gives the originals back.
#[test]
fn quoting_round_trips_hostile_values() {
    let hostile = [
        "'",
        "''",
        "\\'",
        "a'b'c",
        "$HOME",
        "`id`",
        "\"",
        "; rm -rf / #",
        "\n\t",
        "é✓",
    ];
    for h in hostile {
        assert_eq!(unquote(&quote(h)), h, "{h:?}");
    }
}

/// A tiny POSIX single-quote unquoter (the inverse of `quote`), for the test above.
fn unquote(s: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (in_quote, c) {
            (false, '\'') | (true, '\'') => in_quote = !in_quote,
            (false, '\\') => out.extend(chars.next()),
            (_, c) => out.push(c),
        }
    }
    out
}
