use super::*;

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(like_pattern(None), None);
    assert_eq!(like_pattern(Some("  ")), None);
    assert_eq!(like_pattern(Some(" Web ")).as_deref(), Some("%web%"));
    assert_eq!(
        like_pattern(Some("50%_a!b")).as_deref(),
        Some("%50!%!_a!!b%")
    );
}

#[test]
fn urls_pick_the_backend() {
    for (url, backend) in [
        ("sqlite:///var/lib/walle.db", Backend::Sqlite),
        ("/var/lib/walle.db", Backend::Sqlite),
        ("walle.db", Backend::Sqlite),
        ("mysql://u:p@127.0.0.1:3306/walle", Backend::Mysql),
        ("postgres://u@host/walle", Backend::Postgres),
        ("postgresql://u@host/walle", Backend::Postgres),
    ] {
        assert_eq!(Backend::from_url(url).unwrap(), backend, "{url}");
    }
    let err = Backend::from_url("mongodb://x").unwrap_err();
    assert!(err.to_string().contains("\"mongodb\""), "{err}");
}

#[test]
fn page_bounds_are_clamped() {
    assert_eq!(bounds(Page::number(3, 20)), (40, 20));
    assert_eq!(bounds(Page::all()).1, i64::MAX);
    assert_eq!(
        bounds(Page {
            offset: u64::MAX,
            limit: 1
        }),
        (i64::MAX, 1)
    );
}
