//! Fresh MariaDB and PostgreSQL databases: created, connected to, queried and dropped.

use std::process::Command;

use walle_test_support::{DbKind, TestDb};

use crate::run_ok;

#[test]
fn mysql_fresh_database() {
    let db = TestDb::mysql();
    assert_eq!(db.kind(), DbKind::Mysql);
    assert!(
        db.url()
            .starts_with("mysql://walle:walle@127.0.0.1:23306/walle_test_"),
        "{}",
        db.url()
    );
    let out = db
        .query("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO t VALUES (1, 'wäll-e'); SELECT id, name FROM t")
        .unwrap();
    assert_eq!(out, "1\twäll-e\n");
    // The URL's own credentials work.
    let (user_pass, host_db) = db.url()["mysql://".len()..].split_once('@').unwrap();
    let (user, pass) = user_pass.split_once(':').unwrap();
    let (host_port, name) = host_db.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let out = run_ok(
        Command::new("mariadb")
            .args([
                "--no-defaults",
                "--protocol=tcp",
                "-N",
                "-B",
                "-h",
                host,
                "-P",
                port,
                "-u",
                user,
                "-D",
                name,
            ])
            .env("MYSQL_PWD", pass)
            .args(["-e", "SELECT COUNT(*) FROM t"]),
    );
    assert_eq!(out, "1\n");

    let name = db.name().to_owned();
    let other = TestDb::mysql();
    let exists =
        format!("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'");
    assert_eq!(other.query(&exists).unwrap(), "1\n");
    drop(db);
    assert_eq!(
        other.query(&exists).unwrap(),
        "0\n",
        "dropped with the guard"
    );
}

#[test]
fn postgres_fresh_database() {
    let db = TestDb::postgres();
    assert_eq!(db.kind(), DbKind::Postgres);
    assert!(
        db.url()
            .starts_with("postgres://postgres@127.0.0.1:25432/walle_test_"),
        "{}",
        db.url()
    );
    // Connect with the URL itself, as an application would.
    let out = run_ok(Command::new("psql").args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]).arg(db.url()).args([
        "-c",
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'wäll-e'); SELECT id || ':' || name FROM t",
    ]));
    assert_eq!(out, "1:wäll-e\n");

    let name = db.name().to_owned();
    let other = TestDb::postgres();
    let exists = format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'");
    assert_eq!(other.query(&exists).unwrap(), "1\n");
    drop(db);
    assert_eq!(
        other.query(&exists).unwrap(),
        "0\n",
        "dropped with the guard"
    );
}
