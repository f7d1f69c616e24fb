//! Unit tests of URL parsing and redaction.

use super::*;

#[test]
fn parses_the_url_shapes_git_accepts() {
    let u = RemoteUrl::parse("ssh://git@example.com:2222/srv/app.git");
    assert_eq!(
        (
            u.scheme.as_str(),
            u.host.as_deref(),
            u.port,
            u.user.as_deref()
        ),
        ("ssh", Some("example.com"), Some(2222), Some("git"))
    );
    assert_eq!(u.known_hosts_name().as_deref(), Some("[example.com]:2222"));

    let u = RemoteUrl::parse("git@example.com:team/app.git");
    assert_eq!(
        (u.scheme.as_str(), u.host.as_deref(), u.port),
        ("ssh", Some("example.com"), None)
    );
    assert_eq!(u.known_hosts_name().as_deref(), Some("example.com"));

    let u = RemoteUrl::parse("ssh://[::1]:22/x");
    assert_eq!((u.host.as_deref(), u.port), (Some("::1"), Some(22)));
    assert_eq!(u.known_hosts_name().as_deref(), Some("::1"));

    let u = RemoteUrl::parse("https://user:pw@example.com/app.git");
    assert_eq!(
        (u.scheme.as_str(), u.user.as_deref(), u.port),
        ("https", Some("user"), None)
    );

    for local in ["/srv/git/app.git", "./app.git", "file:///srv/app.git"] {
        let u = RemoteUrl::parse(local);
        assert_eq!((u.scheme.as_str(), u.host), ("file", None), "{local}");
    }
}

#[test]
fn redaction_removes_userinfo_everywhere() {
    assert_eq!(
        redact_url("https://tok:x-oauth@github.com/a/b.git"),
        "https://github.com/a/b.git"
    );
    assert_eq!(redact_url("ssh://git@host:22/a"), "ssh://host:22/a");
    assert_eq!(redact_url("git@host:team/app.git"), "host:team/app.git");
    assert_eq!(
        redact_url("svn://127.0.0.1:3690/repo"),
        "svn://127.0.0.1:3690/repo"
    );
    assert_eq!(redact_url("/srv/a@b/repo"), "/srv/a@b/repo");
    assert_eq!(
        redact_text("Unable to connect to 'svn://u:p@h/r' and https://t@x/y; ok"),
        "Unable to connect to 'svn://h/r' and https://x/y; ok"
    );
    assert_eq!(
        scrub("password hunter2 was wrong", &["hunter2", ""]),
        "password *** was wrong"
    );
}
