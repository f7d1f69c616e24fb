//! The CLI on MariaDB and PostgreSQL (`--database-url`), when built with those features.

#[cfg(any(feature = "mysql", feature = "postgres"))]
fn round_trip(db: &walle_test_support::TestDb) {
    let w = crate::Walle::fresh();
    let url = db.url();
    let v = w.json(&["--database-url", url, "init"]);
    assert!(
        !v["database_url"].as_str().unwrap_or("").contains("walle@"),
        "{v}"
    );
    w.json(&[
        "--database-url",
        url,
        "server",
        "create",
        "web1",
        "--host",
        "10.0.0.5",
    ]);
    let list = w.json(&["--database-url", url, "server", "list"]);
    assert_eq!(list[0]["name"], "web1", "{list}");
    // A second init on the same database refuses, even from another data directory.
    let other = crate::Walle::fresh();
    other.fails(5, &["--database-url", url, "init"]);
}

#[cfg(feature = "mysql")]
#[test]
fn mariadb_store() {
    round_trip(&walle_test_support::TestDb::mysql());
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store() {
    round_trip(&walle_test_support::TestDb::postgres());
}
