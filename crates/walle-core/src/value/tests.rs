use super::*;

#[track_caller]
fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("expected the value to be accepted")
}

#[track_caller]
fn bad<T: std::fmt::Debug>(r: Result<T, InvalidValue>, reason_part: &str) {
    let e = r.expect_err("expected the value to be refused");
    assert!(
        e.to_string().contains(reason_part),
        "{e} does not mention {reason_part:?}"
    );
}

#[test]
fn ref_names() {
    for good in [
        "main",
        "release/1.2",
        "v1.0.0",
        "feature/JIRA-12_x",
        "a.b",
        "用户/分支",
    ] {
        assert_eq!(ok(RefName::new(good)).as_str(), good);
    }
    let cases = [
        ("", "empty"),
        ("-oProxyCommand=x", "option"),
        ("--upload-pack=evil", "option"),
        ("a..b", "'..'"),
        ("a b", "spaces"),
        ("a~1", "~"),
        ("a^", "~"),
        ("a:b", "~"),
        ("a?", "~"),
        ("a*", "~"),
        ("a[", "~"),
        ("a\\b", "~"),
        ("a@{1}", "'@{'"),
        ("@", "'@'"),
        ("/a", "empty path component"),
        ("a/", "empty path component"),
        ("a//b", "empty path component"),
        ("a.", "ends with '.'"),
        (".hidden", "starting with '.'"),
        ("a/.b", "starting with '.'"),
        ("x.lock", ".lock"),
        ("a\nb", "control"),
        ("a\0b", "control"),
        ("$(reboot)", "$"),
    ];
    for (input, why) in cases {
        if input == "$(reboot)" {
            // `$`, `(` and `)` are legal in git ref names; they stay safe because every use is quoted.
            assert!(RefName::new(input).is_ok());
            continue;
        }
        bad(RefName::new(input), why);
    }
    bad(RefName::new(&"a".repeat(256)), "255");
}

#[test]
fn commit_ids() {
    assert_eq!(ok(CommitId::new("ABCDEF1")).as_str(), "abcdef1");
    assert_eq!(ok(CommitId::new("1234")).as_revision(), Some(1234));
    assert_eq!(ok(CommitId::new("7")).as_revision(), Some(7));
    bad(CommitId::new(""), "1 to 64");
    bad(CommitId::new("abc"), "at least 4");
    bad(CommitId::new("xyz1234"), "hex");
    bad(CommitId::new("-abcdef"), "hex");
    bad(CommitId::new(&"a".repeat(65)), "1 to 64");
}

#[test]
fn abs_paths() {
    assert_eq!(ok(AbsPath::new("/var/www/")).as_str(), "/var/www");
    assert_eq!(ok(AbsPath::new("/")).as_str(), "/");
    let p = ok(AbsPath::new("/srv/app"));
    assert_eq!(
        p.join(&ok(RelPath::new("releases/1"))).as_str(),
        "/srv/app/releases/1"
    );
    assert_eq!(p.parent().map(|p| p.to_string()), Some("/srv".into()));
    assert_eq!(
        ok(AbsPath::new("/srv")).parent().map(|p| p.to_string()),
        Some("/".into())
    );
    assert_eq!(p.file_name(), Some("app"));
    assert!(p.contains(&ok(AbsPath::new("/srv/app/x"))));
    assert!(!p.contains(&ok(AbsPath::new("/srv/apple"))));
    bad(AbsPath::new("relative"), "start with '/'");
    bad(AbsPath::new("/a/../etc"), "'..'");
    bad(AbsPath::new("/a/./b"), "'.'");
    bad(AbsPath::new("/a//b"), "empty component");
    bad(AbsPath::new("/a\nb"), "control");
    bad(AbsPath::new("/a\0b"), "control");
    bad(AbsPath::new(&format!("/{}", "a".repeat(5000))), "4096");
}

#[test]
fn rel_and_svn_paths() {
    ok(RelPath::new("storage/logs"));
    bad(RelPath::new("../etc/passwd"), "'..'");
    bad(RelPath::new("/etc"), "relative");
    bad(RelPath::new("-rf"), "option");
    bad(RelPath::new(""), "empty");
    ok(SvnPath::new("trunk"));
    ok(SvnPath::new("branches/feature-x"));
    ok(SvnPath::new("tags/v1"));
    bad(SvnPath::new("branches/"), "empty component");
    bad(SvnPath::new("branches"), "standard layout");
    bad(SvnPath::new("somewhere/else"), "standard layout");
    bad(SvnPath::new("branches/../../etc"), "'..'");
    assert_eq!(
        SvnPath::branch(&ok(RefName::new("x"))).as_str(),
        "branches/x"
    );
}

#[test]
fn hosts_users_ports() {
    for h in [
        "example.com",
        "10.0.0.1",
        "::1",
        "fe80::1",
        "web-01.internal",
        "host_1",
    ] {
        ok(HostName::new(h));
    }
    assert_eq!(
        ok(HostName::new("Web01.Example.COM")).as_str(),
        "web01.example.com"
    );
    assert!(ok(HostName::new("::1")).is_ipv6());
    bad(HostName::new("-oProxyCommand=touch /tmp/pwned"), "option");
    bad(HostName::new("a b"), "labels");
    bad(HostName::new("a;reboot"), "labels");
    bad(HostName::new("a..b"), "labels");
    bad(HostName::new(""), "1 to 253");
    bad(HostName::new("host\n"), "control");
    for u in ["root", "deploy", "www-data", "_svc", "u1"] {
        ok(SshUser::new(u));
    }
    for u in ["-l", "Root", "a b", "", "a;b", "1abc", &"a".repeat(33)] {
        bad(SshUser::new(u), "must start");
    }
    bad(Port::new(0), "1 to 65535");
    assert_eq!(Port::default().get(), 22);
}

#[test]
fn names_labels_emails_vars() {
    assert_eq!(ok(Name::new("  My app ")).as_str(), "My app");
    bad(Name::new("   "), "1 to 100");
    bad(Name::new(&"x".repeat(101)), "1 to 100");
    bad(Name::new("a\u{7}"), "control");
    assert_eq!(ok(Label::new("EU-West")).as_str(), "eu-west");
    bad(Label::new("-x"), "1 to 64");
    bad(Label::new("a b"), "1 to 64");
    assert_eq!(
        ok(Email::new("Super@Walle-Web.io")).as_str(),
        "super@walle-web.io"
    );
    for e in ["nope", "a@b", "@b.c", "a@.c", "a b@c.d", "a@b@c.d"] {
        bad(Email::new(e), "name@example.com");
    }
    for v in ["WEBROOT", "_X", "A1_B"] {
        ok(VarName::new(v));
    }
    for v in ["lower", "1A", "A-B", "A B", "", "A=B", "$(X)"] {
        bad(VarName::new(v), "[A-Z_]");
    }
}

#[test]
fn release_ids() {
    let t = crate::Timestamp::from_unix_secs(1_551_121_462);
    let id = ReleaseId::for_task(crate::ProjectId(29), crate::TaskId(78), t);
    assert_eq!(id.as_str(), "29_78_20190225_190422");
    assert_eq!(ok(ReleaseId::new("29_78_20190225_190422")), id);
    assert_eq!(id.project(), crate::ProjectId(29));
    assert_eq!(id.task(), crate::TaskId(78));
    for b in [
        "",
        "29_78",
        "a_78_20190225_190422",
        "29_78_2019022_190422",
        "../x",
        "29_78_20190225_190422_x",
    ] {
        bad(ReleaseId::new(b), "project_id");
    }
    bad(
        ReleaseId::new("9999999999999999999_1_20190225_190422"),
        "project_id",
    );
}
