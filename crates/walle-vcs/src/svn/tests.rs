//! Unit tests of the SVN wrapper: XML parsing, error mapping and URL building.

use walle_core::Secret;
use walle_core::Timestamp;
use walle_core::model::{RepoConfig, RepoCredentials, RepoKind, RepoMode};

use super::cli::{Missing, classify, decode_path, encode_path};
use super::*;

const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<lists>
<list path="svn://h/repo">
<entry kind="dir"><name>branches</name><commit revision="2"><author>root</author><date>2026-11-25T13:57:40.169944Z</date></commit></entry>
<entry kind="file"><name>README</name><commit revision="1"><date>2026-11-25T13:57:40.000000Z</date></commit></entry>
<entry kind="dir"><name>trunk</name><commit revision="1"><author>root</author><date>2026-11-25T13:57:40.139695Z</date></commit></entry>
</list>
</lists>"#;

const LOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log>
<logentry revision="2"><author>alice</author><date>2026-01-02T03:04:05.678901Z</date>
<paths><path kind="dir" copyfrom-path="/trunk" copyfrom-rev="1" action="A">/branches/feature$(id)</path></paths>
<msg>branch &amp; more
second line</msg></logentry>
<logentry revision="1"><date>2026-01-01T00:00:00.000000Z</date><msg></msg></logentry>
</log>"#;

const DIFF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<diff><paths>
<path item="modified" props="none" kind="file">svn://h/repo/trunk/a.txt</path>
<path kind="dir" item="added" props="none">svn://h/repo/trunk/d</path>
<path item="none" props="modified" kind="file">svn://h/repo/trunk/run.sh</path>
</paths></diff>"#;

fn repo() -> RepoConfig {
    RepoConfig {
        kind: RepoKind::Svn,
        url: "svn://deployer@h/repo".to_owned(),
        mode: RepoMode::Branch,
        credentials: RepoCredentials::Password {
            username: "deployer".to_owned(),
            password: Secret::new("s3cret-pw"),
        },
    }
}

#[test]
fn parses_list_log_info_and_diff() {
    let entries = xml::list(LIST).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].list, "svn://h/repo");
    assert_eq!(
        (
            entries[2].name.as_str(),
            entries[2].kind.as_str(),
            entries[2].revision
        ),
        ("trunk", "dir", 1)
    );

    let log = xml::log(LOG).unwrap();
    assert_eq!(log[0].revision, 2);
    assert_eq!(log[0].author, "alice");
    assert_eq!(log[0].message, "branch & more\nsecond line");
    assert_eq!(log[0].paths, ["/branches/feature$(id)"]);
    assert_eq!(log[0].date.to_string(), "2026-01-02T03:04:05Z");
    assert_eq!(log[0].date.unix_millis() % 1000, 678);
    assert_eq!(log[1].author, "");

    let info = r#"<info><entry kind="dir" path="x" revision="9"><commit revision="7"><date>2026-01-01T00:00:00.0Z</date></commit></entry></info>"#;
    assert_eq!(xml::info_last_changed(info).unwrap(), 7);

    let diff = xml::diff_summary(DIFF).unwrap();
    assert_eq!(diff.len(), 3);
    assert_eq!(
        (diff[2].item.as_str(), diff[2].props.as_str()),
        ("none", "modified")
    );
    assert!(xml::parse("<a><b></a>").is_err());
}

#[test]
fn parses_dates() {
    assert_eq!(
        xml::date("1970-01-01T00:00:01.5Z").unwrap(),
        Timestamp::from_unix_millis(1500)
    );
    assert_eq!(
        xml::date("2019-02-25T19:04:22Z").unwrap(),
        Timestamp::from_unix_secs(1_551_121_462)
    );
    assert!(xml::date("yesterday").is_err());
}

#[test]
fn maps_error_codes() {
    let config = repo();
    let shown = crate::url::Shown::new(&config);
    let missing = Some(Missing {
        kind: "branch",
        reference: "nope",
    });
    let check = |stderr: &str| classify(stderr, &shown, "listing", missing);

    let e = check(
        "svn: E170013: Unable to connect to a repository at URL 'svn://deployer@h/repo'\nsvn: E000111: Can't connect to host 'h': Connection refused",
    );
    assert!(
        matches!(&e, VcsError::Unreachable { repo, detail } if repo == "svn://h/repo" && !detail.contains("deployer@")),
        "{e:?}"
    );
    let e = check(
        "svn: E170013: Unable to connect to a repository at URL 'svn://h/repo'\nsvn: E170001: Authentication error from server: Password incorrect s3cret-pw",
    );
    assert!(
        matches!(&e, VcsError::AuthFailed { detail, .. } if !detail.contains("s3cret-pw")),
        "{e:?}"
    );
    let e = check(
        "svn: E170013: Unable to connect\nsvn: E210005: No repository found in 'svn://h/repo'",
    );
    assert!(
        matches!(
            e,
            VcsError::NotARepository {
                expected: "svn",
                ..
            }
        ),
        "{e:?}"
    );
    let e = check(
        "svn: warning: W160013: Path '/branches/nope' not found\nsvn: E200009: Could not list all targets",
    );
    assert!(
        matches!(&e, VcsError::NoSuchRef { kind: "branch", reference, .. } if reference == "nope"),
        "{e:?}"
    );
    let e = classify("svn: E160013: not found", &shown, "listing", None);
    assert!(matches!(e, VcsError::Other { .. }), "{e:?}");
    let e = check("svn: E999999: something odd");
    assert!(
        matches!(
            e,
            VcsError::Other {
                operation: "listing",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn urls_are_encoded_and_pegged() {
    assert_eq!(
        encode_path("branches/feature$(id) x@y"),
        "branches/feature%24%28id%29%20x%40y"
    );
    assert_eq!(decode_path("a%24%28b%29/c%2"), "a$(b)/c%2");
    assert_eq!(
        url_at("svn://u@h/repo/", "trunk", Some(5)),
        OsString::from("svn://u@h/repo/trunk@5")
    );
    assert_eq!(
        url_at("file:///r", "", None),
        OsString::from("file:///r@HEAD")
    );
}

#[test]
fn layout_paths_of_changed_paths() {
    assert_eq!(layout_path("/trunk/src/a.rs").as_deref(), Some("trunk"));
    assert_eq!(layout_path("/trunk").as_deref(), Some("trunk"));
    assert_eq!(layout_path("/branches/x/a").as_deref(), Some("branches/x"));
    assert_eq!(layout_path("/tags/v1").as_deref(), Some("tags/v1"));
    assert_eq!(layout_path("/branches"), None);
    assert_eq!(layout_path("/README"), None);
    let name = RefName::new("trunk").unwrap();
    assert_eq!(branch_path(&name), "trunk");
    assert_eq!(
        branch_path(&RefName::new("rel/1").unwrap()),
        "branches/rel/1"
    );
}
