use expect_test::{Expect, expect};

use super::*;
use crate::model::{LedgerEntry, LedgerStatus};
use crate::value::CommitId;
use crate::{ProjectId, ServerId, TaskId, Timestamp, UserId};

fn path(p: &str) -> AbsPath {
    AbsPath::new(p).unwrap()
}

fn rid(s: &str) -> ReleaseId {
    ReleaseId::new(s).unwrap()
}

fn layout() -> ReleaseLayout {
    ReleaseLayout::new(&path("/srv/www/shop"), &path("/srv/releases/shop")).unwrap()
}

// ---- paths -------------------------------------------------------------------------------------

#[test]
fn paths() {
    let l = layout();
    let id = rid("3_7_20270115_080400");
    let rows = [
        ("webroot", l.webroot().clone()),
        ("releases_dir", l.releases_dir().clone()),
        ("release_dir", l.release_dir(&id)),
        ("shared_dir", l.shared_dir()),
        (
            "shared_path",
            l.shared_path(&RelPath::new("storage/logs").unwrap()),
        ),
        ("meta_dir", l.meta_dir()),
        ("ledger_file", l.ledger_file()),
        ("lock_file", l.lock_file()),
        ("staging_dir", l.staging_dir()),
        ("staging_release_dir", l.staging_release_dir(&id)),
        ("staging_archive", l.staging_archive(&id)),
        ("switch_temp_link", l.switch_temp_link()),
    ]
    .map(|(k, v)| format!("{k:<20} {v}\n"))
    .concat();
    expect![[r#"
        webroot              /srv/www/shop
        releases_dir         /srv/releases/shop
        release_dir          /srv/releases/shop/3_7_20270115_080400
        shared_dir           /srv/releases/shop/shared
        shared_path          /srv/releases/shop/shared/storage/logs
        meta_dir             /srv/releases/shop/.walle
        ledger_file          /srv/releases/shop/.walle/ledger
        lock_file            /srv/releases/shop/.walle/lock
        staging_dir          /srv/releases/shop/.walle/staging
        staging_release_dir  /srv/releases/shop/.walle/staging/3_7_20270115_080400
        staging_archive      /srv/releases/shop/.walle/staging/3_7_20270115_080400.tar
        switch_temp_link     /srv/www/.shop.walle-switch
    "#]]
    .assert_eq(&rows);
    assert_eq!(switch_temp_link(&path("/")), None);
    assert_eq!(
        switch_temp_link(&path("/current")),
        Some(path("/.current.walle-switch"))
    );
}

#[track_caller]
fn check_layout(cases: &str, expect: Expect) {
    let out: String = cases
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (webroot, releases) = l.split_once(' ').expect("WEBROOT RELEASES");
            let r = ReleaseLayout::new(&path(webroot), &path(releases.trim()));
            let r = r.map_or_else(|e| format!("error: {e}"), |_| "ok".to_owned());
            format!("{l:<42} {r}\n")
        })
        .collect();
    expect.assert_eq(&out);
}

#[test]
fn layout_validation() {
    check_layout(
        "
        /srv/www/shop /srv/releases/shop
        /var/www/html /var/www/releases
        /srv/app/current /srv/app/releases
        /srv/app/releases/current /srv/app/releases
        /srv/shop /srv/shop-releases
        / /srv/releases
        /srv/www /
        /srv/app /srv/app
        /srv/www /srv/www/releases
        /srv/www /srv/www/a/b/releases
        /srv/r/shared /srv/r
        /srv/r/shared/www /srv/r
        /srv/r/.walle /srv/r
        /srv/r/.hidden /srv/r
        /srv/r/3_7_20270115_080400 /srv/r
        /srv/r/3_7_20270115_080400/public /srv/r
        /srv/r/current/public /srv/r
        /srv/r/-x/y /srv/r
        ",
        expect![[r#"
            /srv/www/shop /srv/releases/shop           ok
            /var/www/html /var/www/releases            ok
            /srv/app/current /srv/app/releases         ok
            /srv/app/releases/current /srv/app/releases ok
            /srv/shop /srv/shop-releases               ok
            / /srv/releases                            error: the webroot must not be '/'; use a directory such as /srv/www/app
            /srv/www /                                 error: the releases directory must not be '/'; use a directory such as /srv/www/app
            /srv/app /srv/app                          error: the webroot and the releases directory are both /srv/app; the webroot must be a separate path that walle turns into a symlink to a release
            /srv/www /srv/www/releases                 error: the releases directory /srv/www/releases lies inside the webroot /srv/www; the webroot becomes a symlink to a release, so put the releases directory next to it (e.g. /srv/www-releases)
            /srv/www /srv/www/a/b/releases             error: the releases directory /srv/www/a/b/releases lies inside the webroot /srv/www; the webroot becomes a symlink to a release, so put the releases directory next to it (e.g. /srv/www-releases)
            /srv/r/shared /srv/r                       error: the webroot /srv/r/shared lies inside /srv/r/shared, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/shared/www /srv/r                   error: the webroot /srv/r/shared/www lies inside /srv/r/shared, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/.walle /srv/r                       error: the webroot /srv/r/.walle lies inside /srv/r/.walle, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/.hidden /srv/r                      error: the webroot /srv/r/.hidden lies inside /srv/r/.hidden, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/3_7_20270115_080400 /srv/r          error: the webroot /srv/r/3_7_20270115_080400 lies inside /srv/r/3_7_20270115_080400, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/3_7_20270115_080400/public /srv/r   error: the webroot /srv/r/3_7_20270115_080400/public lies inside /srv/r/3_7_20270115_080400, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/current/public /srv/r               error: the webroot /srv/r/current/public lies inside /srv/r/current, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
            /srv/r/-x/y /srv/r                         error: the webroot /srv/r/-x/y lies inside /srv/r/-x, which walle manages (releases, shared files, metadata); put the webroot outside it, e.g. directly in /srv/r under another name, or next to it
        "#]],
    );
}

#[test]
fn parse_link() {
    let l = layout();
    let cases = [
        None,
        Some("/srv/releases/shop/3_7_20270115_080400"),
        Some("/srv/releases/shop/3_7_20270115_080400/"),
        Some("../releases/shop/3_7_20270115_080400"),
        Some("./../releases/shop//3_7_20270115_080400"),
        Some("../../../../srv/releases/shop/3_7_20270115_080400"),
        Some("/srv/releases/shop/4_7_20270115_080400"),
        Some("/srv/releases/shop/shared"),
        Some("/srv/releases/shop/3_7_20270115_080400/public"),
        Some("/srv/releases/other/3_7_20270115_080400"),
        Some("/var/www/html"),
        Some("releases/3_7_20270115_080400"),
        Some(""),
        Some("/srv/releases/shop/3_7_20270115_080400\n"),
    ];
    let out: String = cases
        .iter()
        .map(|c| format!("{:<52} {}\n", format!("{c:?}"), l.parse_link(*c)))
        .collect();
    expect![[r#"
        None                                                 no release is live (the webroot is not a symlink)
        Some("/srv/releases/shop/3_7_20270115_080400")       release 3_7_20270115_080400 is live
        Some("/srv/releases/shop/3_7_20270115_080400/")      release 3_7_20270115_080400 is live
        Some("../releases/shop/3_7_20270115_080400")         release 3_7_20270115_080400 is live
        Some("./../releases/shop//3_7_20270115_080400")      release 3_7_20270115_080400 is live
        Some("../../../../srv/releases/shop/3_7_20270115_080400") release 3_7_20270115_080400 is live
        Some("/srv/releases/shop/4_7_20270115_080400")       release 4_7_20270115_080400 is live
        Some("/srv/releases/shop/shared")                    the webroot points at "/srv/releases/shop/shared", which is not managed by walle: "shared" in /srv/releases/shop is not a release directory
        Some("/srv/releases/shop/3_7_20270115_080400/public") the webroot points at "/srv/releases/shop/3_7_20270115_080400/public", which is not managed by walle: /srv/releases/shop/3_7_20270115_080400/public is outside the releases directory /srv/releases/shop
        Some("/srv/releases/other/3_7_20270115_080400")      the webroot points at "/srv/releases/other/3_7_20270115_080400", which is not managed by walle: /srv/releases/other/3_7_20270115_080400 is outside the releases directory /srv/releases/shop
        Some("/var/www/html")                                the webroot points at "/var/www/html", which is not managed by walle: /var/www/html is outside the releases directory /srv/releases/shop
        Some("releases/3_7_20270115_080400")                 the webroot points at "releases/3_7_20270115_080400", which is not managed by walle: /srv/www/releases/3_7_20270115_080400 is outside the releases directory /srv/releases/shop
        Some("")                                             the webroot points at "", which is not managed by walle: the target is empty or contains control characters
        Some("/srv/releases/shop/3_7_20270115_080400\n")     the webroot points at "/srv/releases/shop/3_7_20270115_080400\n", which is not managed by walle: the target is empty or contains control characters
    "#]]
    .assert_eq(&out);
}

#[test]
fn parse_link_with_webroot_inside_releases_dir() {
    let l = ReleaseLayout::new(
        &path("/srv/app/releases/current"),
        &path("/srv/app/releases"),
    )
    .unwrap();
    assert_eq!(
        l.parse_link(Some("3_7_20270115_080400")),
        LinkState::Release(rid("3_7_20270115_080400"))
    );
    assert_eq!(
        l.parse_link(Some("./3_7_20270115_080400")),
        LinkState::Release(rid("3_7_20270115_080400"))
    );
    assert!(matches!(
        l.parse_link(Some("current")),
        LinkState::NotManaged { .. }
    ));
}

// ---- cleanup -----------------------------------------------------------------------------------

/// `present` ids are written `task@YYYYmmdd_HHMMSS` for project 3, or in full for others.
#[track_caller]
fn check_cleanup(
    present: &str,
    live: Option<&str>,
    rollback: Option<&str>,
    keep: u32,
    expect: Expect,
) {
    let id = |s: &str| match s.split_once('@') {
        Some((task, time)) => rid(&format!("3_{task}_{time}")),
        None => rid(s),
    };
    let present: Vec<ReleaseId> = present.split_whitespace().map(id).collect();
    let live = live.map(id);
    let rollback = rollback.map(id);
    let removed = releases_to_remove(
        &present,
        live.as_ref(),
        rollback.as_ref(),
        keep,
        ProjectId(3),
    );
    let out: Vec<&str> = removed.iter().map(ReleaseId::as_str).collect();
    expect.assert_eq(&out.join(" "));
}

const FIVE: &str =
    "1@20270101_000000 2@20270102_000000 3@20270103_000000 4@20270104_000000 5@20270105_000000";

#[test]
fn cleanup_keeps_newest_n() {
    check_cleanup(FIVE, None, None, 5, expect![""]);
    check_cleanup(FIVE, None, None, 9, expect![""]);
    check_cleanup(
        FIVE,
        None,
        None,
        3,
        expect!["3_1_20270101_000000 3_2_20270102_000000"],
    );
    check_cleanup(
        FIVE,
        None,
        None,
        2,
        expect!["3_1_20270101_000000 3_2_20270102_000000 3_3_20270103_000000"],
    );
    check_cleanup(
        FIVE,
        None,
        None,
        1,
        expect!["3_1_20270101_000000 3_2_20270102_000000 3_3_20270103_000000 3_4_20270104_000000"],
    );
    // keep = 0 is treated as 1.
    check_cleanup(
        FIVE,
        None,
        None,
        0,
        expect!["3_1_20270101_000000 3_2_20270102_000000 3_3_20270103_000000 3_4_20270104_000000"],
    );
    check_cleanup("", None, None, 1, expect![""]);
}

#[test]
fn cleanup_never_removes_live_or_rollback_target() {
    // After a rollback to 2, the live release is older than the kept ones.
    check_cleanup(
        FIVE,
        Some("2@20270102_000000"),
        None,
        2,
        expect!["3_1_20270101_000000 3_3_20270103_000000"],
    );
    // The release live before the live one is where a rollback returns to.
    check_cleanup(
        FIVE,
        Some("5@20270105_000000"),
        Some("1@20270101_000000"),
        1,
        expect!["3_2_20270102_000000 3_3_20270103_000000 3_4_20270104_000000"],
    );
    check_cleanup(
        FIVE,
        Some("2@20270102_000000"),
        Some("1@20270101_000000"),
        1,
        expect!["3_3_20270103_000000 3_4_20270104_000000"],
    );
    // A live release that is not present changes nothing.
    check_cleanup(
        FIVE,
        Some("9@20270109_000000"),
        None,
        4,
        expect!["3_1_20270101_000000"],
    );
}

#[test]
fn cleanup_orders_by_id_time_not_input_order_or_text() {
    // Unsorted input; task 10 sorts after task 9 within the same second, and text order would put
    // 3_10_... before 3_9_....
    check_cleanup(
        "9@20270103_000000 10@20270103_000000 100@20270101_000000 11@20270102_000000",
        None,
        None,
        2,
        expect!["3_100_20270101_000000 3_11_20270102_000000"],
    );
    // Duplicates are reported once.
    check_cleanup(
        "1@20270101_000000 1@20270101_000000 2@20270102_000000",
        None,
        None,
        1,
        expect!["3_1_20270101_000000"],
    );
    // Midnight and year boundaries.
    check_cleanup(
        "1@20261231_235959 2@20270101_000000 3@20270101_000001",
        None,
        None,
        2,
        expect!["3_1_20261231_235959"],
    );
}

#[test]
fn cleanup_leaves_other_projects_alone() {
    // walle's cleanup removed other projects' releases sharing the directory; never here.
    check_cleanup(
        "30_1_20200101_000000 4_1_20200101_000000 1@20270101_000000 2@20270102_000000 33_2_20200101_000000",
        None,
        None,
        1,
        expect!["3_1_20270101_000000"],
    );
    check_cleanup(
        "4_1_20200101_000000 4_2_20200102_000000",
        None,
        None,
        1,
        expect![""],
    );
}

#[test]
fn project_releases_from_a_directory_listing() {
    let names = [
        "shared",
        ".walle",
        "current",
        "3_2_20270102_000000",
        "3_2_20270102_000000.tar",
        "3_1_20270101_000000",
        "4_1_20270101_000000",
        "33_1_20270101_000000",
        "3_1_20270101_00000",
        "3_x_20270101_000000",
        "-3_1_20270101_000000",
        "3_1_20270101_000000 ",
    ];
    let ids = project_releases(names.iter().copied(), ProjectId(3));
    expect![[r#"["3_1_20270101_000000", "3_2_20270102_000000"]"#]].assert_eq(&format!(
        "{:?}",
        ids.iter().map(ReleaseId::as_str).collect::<Vec<_>>()
    ));
}

// ---- ledger ------------------------------------------------------------------------------------

fn entry(release: &str, status: LedgerStatus, previous: Option<&str>, ms: i64) -> LedgerEntry {
    LedgerEntry {
        server: ServerId(5),
        release: rid(release),
        commit: CommitId::new("c0ffee7").unwrap(),
        task: rid(release).task(),
        actor: UserId(1),
        status,
        previous: previous.map(rid),
        at: Timestamp::from_unix_millis(ms),
    }
}

fn line(release: &str, status: LedgerStatus, previous: Option<&str>, name: &str) -> LedgerLine {
    LedgerLine {
        entry: entry(release, status, previous, 1_800_000_000_000),
        actor_name: name.to_owned(),
    }
}

#[test]
fn ledger_line_format() {
    let l = line(
        "3_7_20270115_080400",
        LedgerStatus::Live,
        Some("3_6_20270114_080400"),
        "alice",
    );
    expect![
        "v1\t3_7_20270115_080400\tc0ffee7\t7\t1\talice\tlive\t3_6_20270114_080400\t1800000000000\n"
    ]
    .assert_eq(&l.render());
    let first = line("3_7_20270115_080400", LedgerStatus::Prepared, None, "");
    expect!["v1\t3_7_20270115_080400\tc0ffee7\t7\t1\t\tprepared\t-\t1800000000000\n"]
        .assert_eq(&first.render());
}

#[test]
fn ledger_round_trips_hostile_names() {
    for name in [
        "",
        "alice",
        "tab\there",
        "new\nline",
        "cr\r\nlf",
        "back\\slash",
        "\\t literally",
        "trailing\\",
        "王小明",
        "-",
        "#not a comment",
    ] {
        for status in [
            LedgerStatus::Prepared,
            LedgerStatus::Live,
            LedgerStatus::Superseded,
            LedgerStatus::RolledBack,
            LedgerStatus::Failed,
            LedgerStatus::Removed,
        ] {
            let l = line(
                "3_7_20270115_080400",
                status,
                Some("3_6_20270114_080400"),
                name,
            );
            let text = l.render();
            assert_eq!(text.matches('\n').count(), 1, "{text:?}");
            assert_eq!(text.matches('\t').count(), 8, "{text:?}");
            let parsed = LedgerLine::parse(text.trim_end_matches('\n'), ServerId(5));
            assert_eq!(parsed.as_ref(), Ok(&l), "{text:?}");
            let file = parse_ledger(&append_ledger("", &[l.clone(), l.clone()]), ServerId(5));
            assert_eq!(file.lines, vec![l.clone(), l.clone()]);
            assert!(file.skipped.is_empty() && file.truncated.is_none());
        }
    }
}

#[test]
fn ledger_line_errors() {
    let good = "v1\t3_7_20270115_080400\tc0ffee7\t7\t1\talice\tlive\t-\t1800000000000";
    let cases = [
        good.to_owned(),
        format!("{good}\textra\tfields"),
        good.replacen("v1", "v2", 1),
        good.replacen("v1", "", 1),
        "garbage".to_owned(),
        "v1\t3_7_20270115_080400\tc0ffee7".to_owned(),
        good.replace("3_7_20270115_080400", "../../etc"),
        good.replace("c0ffee7", "xyz"),
        good.replace("\t7\t", "\tseven\t"),
        good.replace("live", "alive"),
        good.replace("\t-\t", "\t3_6\t"),
        good.replace("1800000000000", "soon"),
        good.replace("alice", "bad\\escape"),
        good.replace("alice", "lone\\"),
    ];
    let out: String = cases
        .iter()
        .map(|c| {
            let r = LedgerLine::parse(c, ServerId(5));
            format!(
                "{}\n",
                r.map_or_else(
                    |e| format!("error: {e}"),
                    |l| format!("ok {}", l.entry.status.as_str())
                )
            )
        })
        .collect();
    expect![[r#"
        ok live
        ok live
        error: unknown ledger format version "v2"
        error: unknown ledger format version ""
        error: unknown ledger format version "garbage"
        error: expected 9 tab-separated fields, found 3
        error: bad release "../../etc": must be {project_id}_{task_id}_{YYYYmmdd}_{HHMMSS}, e.g. 29_78_20190225_190422
        error: bad commit "xyz": may contain only hex digits 0-9 and a-f
        error: bad task "seven": must be a whole number
        error: bad status "alive": must be prepared, live, superseded, rolled_back, failed or removed
        error: bad previous release "3_6": must be {project_id}_{task_id}_{YYYYmmdd}_{HHMMSS}, e.g. 29_78_20190225_190422
        error: bad time "soon": must be a whole number
        error: bad actor name "bad\\escape": unknown escape '\e'
        error: bad actor name "lone\\": a lone '\' at the end
    "#]]
    .assert_eq(&out);
}

#[track_caller]
fn check_ledger(text: &str, expect: Expect) {
    let parsed = parse_ledger(text, ServerId(5));
    let mut out = String::new();
    for l in &parsed.lines {
        let e = &l.entry;
        let prev = e.previous.as_ref().map_or("-", ReleaseId::as_str);
        out.push_str(&format!(
            "entry {} {} prev={prev} by {}\n",
            e.release,
            e.status.as_str(),
            l.actor_name
        ));
    }
    for s in &parsed.skipped {
        out.push_str(&format!("skipped line {}: {}\n", s.line_no, s.error));
    }
    if let Some(t) = &parsed.truncated {
        out.push_str(&format!("truncated {t:?}\n"));
    }
    expect.assert_eq(&out);
}

#[test]
fn ledger_file_parsing() {
    let a = line("3_7_20270115_080400", LedgerStatus::Prepared, None, "alice").render();
    let b = line("3_7_20270115_080400", LedgerStatus::Live, None, "alice").render();
    let c = line(
        "3_8_20270116_080400",
        LedgerStatus::Live,
        Some("3_7_20270115_080400"),
        "bob",
    )
    .render();
    check_ledger("", expect![""]);
    check_ledger(
        &format!("{LEDGER_HEADER}{a}\n{b}v2\tfuture\tformat\n{c}"),
        expect![[r#"
            entry 3_7_20270115_080400 prepared prev=- by alice
            entry 3_7_20270115_080400 live prev=- by alice
            entry 3_8_20270116_080400 live prev=3_7_20270115_080400 by bob
            skipped line 5: unknown ledger format version "v2"
        "#]],
    );
    // A crash cut the last line short: even though "1800" parses as a time, it is not used.
    let cut = &c[..c.len() - 10];
    check_ledger(
        &format!("{a}{b}{cut}"),
        expect![[r#"
            entry 3_7_20270115_080400 prepared prev=- by alice
            entry 3_7_20270115_080400 live prev=- by alice
            truncated "v1\t3_8_20270116_080400\tc0ffee7\t8\t1\tbob\tlive\t3_7_20270115_080400\t1800"
        "#]],
    );
    check_ledger(
        &format!("{a}{}", &b[..3]),
        expect![[r#"
            entry 3_7_20270115_080400 prepared prev=- by alice
            truncated "v1\t"
        "#]],
    );
    // Windows line endings from a hand edit, and a damaged line in the middle.
    check_ledger(
        &format!("{}\r\nv1\tbroken\n{c}", a.trim_end()),
        expect![[r#"
            entry 3_7_20270115_080400 prepared prev=- by alice
            entry 3_8_20270116_080400 live prev=3_7_20270115_080400 by bob
            skipped line 2: expected 9 tab-separated fields, found 2
        "#]],
    );
}

#[test]
fn ledger_append() {
    let a = line("3_7_20270115_080400", LedgerStatus::Live, None, "alice");
    let b = line(
        "3_8_20270116_080400",
        LedgerStatus::Live,
        Some("3_7_20270115_080400"),
        "bob",
    );
    let fresh = append_ledger("", std::slice::from_ref(&a));
    assert_eq!(fresh, format!("{LEDGER_HEADER}{}", a.render()));
    // Lines of other versions are kept; a truncated tail is dropped.
    let existing = format!("{fresh}v2\tsomething newer\nv1\t3_8_2027");
    let appended = append_ledger(&existing, std::slice::from_ref(&b));
    assert_eq!(
        appended,
        format!("{fresh}v2\tsomething newer\n{}", b.render())
    );
    let parsed = parse_ledger(&appended, ServerId(5));
    assert_eq!(parsed.lines, vec![a, b]);
    assert_eq!(parsed.skipped.len(), 1);
}

#[track_caller]
fn check_state(entries: &[LedgerEntry], expect: Expect) {
    let mut out = String::new();
    for (release, status) in ledger_state(entries) {
        let before = live_before(entries, &release);
        let before = before.as_ref().map_or("-", ReleaseId::as_str);
        out.push_str(&format!(
            "{release} {} live_before={before}\n",
            status.as_str()
        ));
    }
    let live = live_release(entries);
    out.push_str(&format!(
        "live: {}\n",
        live.as_ref().map_or("-", ReleaseId::as_str)
    ));
    expect.assert_eq(&out);
}

#[test]
fn ledger_state_and_rollback_anchor() {
    use LedgerStatus::*;
    let (r1, r2, r3) = (
        "3_1_20270101_000000",
        "3_2_20270102_000000",
        "3_3_20270103_000000",
    );
    check_state(&[], expect!["live: -\n"]);
    // Deploy 1, deploy 2, deploy 3 (failed before switch), roll back to 1, cleanup removes 3.
    let history = [
        entry(r1, Prepared, None, 1),
        entry(r1, Live, None, 2),
        entry(r2, Prepared, None, 3),
        entry(r2, Live, Some(r1), 4),
        entry(r1, Superseded, None, 4),
        entry(r3, Prepared, None, 5),
        entry(r3, Failed, None, 6),
        entry(r1, Live, Some(r2), 7),
        entry(r2, RolledBack, None, 7),
        entry(r3, Removed, None, 8),
    ];
    check_state(
        &history[..5],
        expect![[r#"
            3_1_20270101_000000 superseded live_before=-
            3_2_20270102_000000 live live_before=3_1_20270101_000000
            live: 3_2_20270102_000000
        "#]],
    );
    check_state(
        &history,
        expect![[r#"
            3_1_20270101_000000 live live_before=3_2_20270102_000000
            3_2_20270102_000000 rolled_back live_before=3_1_20270101_000000
            3_3_20270103_000000 removed live_before=-
            live: 3_1_20270101_000000
        "#]],
    );
    // File order wins over timestamps (clocks may jump backwards).
    check_state(
        &[
            entry(r2, Live, None, 100),
            entry(r1, Live, Some(r2), 5),
            entry(r2, Superseded, None, 5),
        ],
        expect![[r#"
            3_1_20270101_000000 live live_before=3_2_20270102_000000
            3_2_20270102_000000 superseded live_before=-
            live: 3_1_20270101_000000
        "#]],
    );
    // A live release later marked failed (a revert recorded without a new live entry): none live.
    check_state(
        &[entry(r1, Live, None, 1), entry(r1, Failed, None, 2)],
        expect![[r#"
            3_1_20270101_000000 failed live_before=-
            live: -
        "#]],
    );
}

// ---- lock --------------------------------------------------------------------------------------

#[test]
fn lock_round_trip_and_report() {
    let lock = TargetLock {
        deploy: "d-42".to_owned(),
        task: TaskId(12),
        holder: "alice".to_owned(),
        host: "deploy-1.example.com".to_owned(),
        since: Timestamp::from_unix_secs(1_764_077_977),
    };
    expect![[r#"
        walle-lock v1
        deploy	d-42
        task	12
        holder	alice
        host	deploy-1.example.com
        since	1764077977000
    "#]]
    .assert_eq(&lock.render());
    assert_eq!(TargetLock::parse(&lock.render()), Ok(lock.clone()));
    expect!["locked by task 12 (alice) since 2025-11-25T13:39:37Z, deploy d-42 from deploy-1.example.com"]
        .assert_eq(&lock.to_string());
    let later = Timestamp::from_unix_secs(1_764_077_977 + 90);
    assert_eq!(lock.age(later), std::time::Duration::from_secs(90));

    let hostile = TargetLock {
        holder: "a\tb\nc\\d".to_owned(),
        host: "\n".to_owned(),
        ..lock
    };
    assert_eq!(hostile.render().lines().count(), 6);
    assert_eq!(TargetLock::parse(&hostile.render()), Ok(hostile));
}

#[test]
fn lock_parse_errors() {
    let good = "walle-lock v1\ndeploy\td\ntask\t12\nholder\talice\nhost\th\nsince\t1\n";
    let cases = [
        good.to_owned(),
        good.replace('\n', "\r\n"),
        format!("{good}future\tkey\n"),
        good.replace("since\t1\n", ""),
        good.replace("walle-lock v1", "walle-lock v2"),
        String::new(),
        "12345\n".to_owned(),
        good.replace("task\t12", "task\ttwelve"),
        good.replace("holder\talice", "holder\tal\\ice"),
    ];
    let out: String = cases
        .iter()
        .map(|c| match TargetLock::parse(c) {
            Ok(l) => format!("ok: {l}\n"),
            Err(e) => format!("error: {e}\n"),
        })
        .collect();
    expect![[r#"
        ok: locked by task 12 (alice) since 1970-01-01T00:00:00Z, deploy d from h
        ok: locked by task 12 (alice) since 1970-01-01T00:00:00Z, deploy d from h
        ok: locked by task 12 (alice) since 1970-01-01T00:00:00Z, deploy d from h
        error: lock file lacks "since"
        error: not a walle lock file (first line "walle-lock v2"); inspect it by hand
        error: not a walle lock file (first line ""); inspect it by hand
        error: not a walle lock file (first line "12345"); inspect it by hand
        error: bad task "twelve" in lock file: must be a whole number
        error: bad holder "al\\ice" in lock file: unknown escape '\i'
    "#]]
    .assert_eq(&out);
}
