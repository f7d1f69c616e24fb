//! Migrations and opening: mirrored trees, idempotent and reversible migrations, URL schemes,
//! secrets sealed at rest and tampered rows reported as corrupt.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use walle_core::ports::{ProjectStore, StoreError, UserStore};
use walle_store::{Backend, DieselStore, OpenError, SecretKey, StoreOptions};

use crate::fixtures::*;
use crate::harness::Harness;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const MYSQL: EmbeddedMigrations = embed_migrations!("migrations/mysql");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

fn tree(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            for f in ["up.sql", "down.sql"] {
                assert!(e.path().join(f).is_file(), "{backend}/{name} lacks {f}");
            }
            name
        })
        .collect()
}

#[test]
fn migration_trees_list_the_same_names() {
    let sqlite = tree("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, tree("mysql"), "mysql/ and sqlite/ differ");
    assert_eq!(sqlite, tree("postgres"), "postgres/ and sqlite/ differ");
    for name in &sqlite {
        let (stamp, rest) = name.split_at(17.min(name.len()));
        let ok = stamp.len() == 17
            && stamp.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 | 10 => b == b'-',
                _ => b.is_ascii_digit(),
            })
            && rest.starts_with('_');
        assert!(ok, "{name} is not YYYY-MM-DD-HHMMSS_name");
    }
}

#[test]
fn unknown_schemes_and_missing_databases_are_clear_errors() {
    let key = SecretKey::generate();
    match DieselStore::open("mongodb://localhost/walle", &key) {
        Err(OpenError::UnknownScheme { scheme }) => assert_eq!(scheme, "mongodb"),
        other => panic!("expected UnknownScheme, got {other:?}"),
    }
    let err = DieselStore::open("/nonexistent-dir/walle.db", &key).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Connect {
                backend: Backend::Sqlite,
                ..
            }
        ),
        "{err}"
    );
    let err = DieselStore::open("postgres://nobody@127.0.0.1:1/none", &key).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::Connect {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !err.to_string().contains("nobody@"),
        "the URL is not echoed: {err}"
    );
}

#[test]
fn a_plain_path_and_memory_are_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let key = SecretKey::generate();
    let store = DieselStore::open(path.to_str().unwrap(), &key).unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.create_user(&new_user("Plain"), T0).unwrap();
    assert!(path.is_file());
    let mem = DieselStore::open(":memory:", &key).unwrap();
    mem.create_user(&new_user("Mem"), T0).unwrap();
    assert_eq!(
        mem.list_users(None, walle_core::model::Page::all())
            .unwrap()
            .total,
        1
    );
}

fn migrate_twice_and_revert(h: &Harness) {
    let options = StoreOptions {
        migrate: false,
        ..StoreOptions::default()
    };
    let store = DieselStore::open_with(h.url(), h.key(), &options).unwrap();
    let pending = store.pending_migrations().unwrap();
    assert_eq!(pending.len(), tree("sqlite").len());
    assert_eq!(store.migrate().unwrap().len(), pending.len());
    assert_eq!(store.migrate().unwrap(), Vec::<String>::new());
    assert_eq!(store.pending_migrations().unwrap(), Vec::<String>::new());
    store.create_user(&new_user("Before"), T0).unwrap();

    // down.sql of every migration runs, and up.sql runs again after it.
    macro_rules! redo {
        ($conn:expr, $m:expr) => {{
            let c = &mut $conn;
            c.revert_all_migrations($m).expect("revert all");
            c.run_pending_migrations($m).expect("run again");
        }};
    }
    match store.backend() {
        Backend::Sqlite => {
            let path = h.url().trim_start_matches("sqlite://");
            redo!(diesel::SqliteConnection::establish(path).unwrap(), SQLITE);
        }
        Backend::Mysql => redo!(diesel::MysqlConnection::establish(h.url()).unwrap(), MYSQL),
        Backend::Postgres => redo!(diesel::PgConnection::establish(h.url()).unwrap(), POSTGRES),
    }
    assert_eq!(
        store
            .list_users(None, walle_core::model::Page::all())
            .unwrap()
            .total,
        0
    );
    store.create_user(&new_user("After"), T0).unwrap();
}

/// Several processes starting at once on a fresh database: one migrates, the others wait.
fn concurrent_opens_migrate_once(h: &Harness) {
    let barrier = std::sync::Barrier::new(4);
    let applied: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    let options = StoreOptions {
                        migrate: false,
                        ..StoreOptions::default()
                    };
                    // Every thread reaches the barrier, so one failed open fails the test
                    // instead of leaving the others waiting forever.
                    let store = DieselStore::open_with(h.url(), h.key(), &options);
                    barrier.wait();
                    store.unwrap().migrate().unwrap().len()
                })
            })
            .collect();
        handles.into_iter().map(|j| j.join().unwrap()).collect()
    });
    assert_eq!(
        applied.iter().sum::<usize>(),
        tree("sqlite").len(),
        "{applied:?}"
    );
    assert_eq!(h.open().pending_migrations().unwrap(), Vec::<String>::new());
}

fn secrets_are_sealed_at_rest(h: &Harness) {
    let store = h.open();
    let owner = user(&store, "Owner");
    let w = world(&store, "S", owner.id, 0);
    let spec = full_spec("Secretive", w.env, &[]);
    let p = store.create_project(w.space, &spec, owner.id, T0).unwrap();
    let sealed = h.text(&format!(
        "SELECT cred_secret AS v FROM projects WHERE id = {}",
        p.id
    ));
    assert!(sealed.starts_with("v1:"), "{sealed}");
    assert!(!sealed.contains("s3cr3t"));
    let notify = h.text(&format!(
        "SELECT notify_channels AS v FROM projects WHERE id = {}",
        p.id
    ));
    assert!(notify.contains("dingtalk.com"), "{notify}");
    assert!(!notify.contains("SEC-dingtalk-signing"), "{notify}");
    assert_eq!(store.project(p.id).unwrap().spec, spec);

    // The same database opened with another key cannot read the secrets back.
    let wrong = DieselStore::open(h.url(), &SecretKey::generate()).unwrap();
    match wrong.project(p.id) {
        Err(StoreError::Corrupt {
            what: "secret",
            detail,
        }) => {
            assert!(detail.contains("wrong secret key"), "{detail}")
        }
        other => panic!("expected a corrupt secret, got {other:?}"),
    }
}

fn tampered_rows_are_corrupt(h: &Harness) {
    let store = h.open();
    let u = user(&store, "Tampered");
    h.exec(&format!(
        "UPDATE users SET status = 'frozen' WHERE id = {}",
        u.id
    ));
    match store.user(u.id) {
        Err(StoreError::Corrupt { what, detail }) => {
            assert_eq!(what, "user status");
            assert!(detail.contains("frozen"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let v = user(&store, "Evil path");
    let w = world(&store, "T", v.id, 0);
    let p = store
        .create_project(w.space, &full_spec("P", w.env, &[]), v.id, T0)
        .unwrap();
    h.exec(&format!(
        "UPDATE projects SET webroot = '/var/../etc' WHERE id = {}",
        p.id
    ));
    assert!(matches!(
        store.project(p.id),
        Err(StoreError::Corrupt {
            what: "webroot",
            ..
        })
    ));
    h.exec(&format!(
        "UPDATE projects SET webroot = '/srv', hooks = '{{not json' WHERE id = {}",
        p.id
    ));
    assert!(matches!(
        store.project(p.id),
        Err(StoreError::Corrupt { what: "hooks", .. })
    ));
}

macro_rules! per_backend_raw {
    ($($test:ident),* $(,)?) => {
        mod raw_sqlite { $(#[test] fn $test() { super::$test(&crate::harness::Harness::of(walle_store::Backend::Sqlite)); })* }
        mod raw_mysql { $(#[test] fn $test() { super::$test(&crate::harness::Harness::of(walle_store::Backend::Mysql)); })* }
        mod raw_postgres { $(#[test] fn $test() { super::$test(&crate::harness::Harness::of(walle_store::Backend::Postgres)); })* }
    };
}

per_backend_raw!(
    migrate_twice_and_revert,
    concurrent_opens_migrate_once,
    secrets_are_sealed_at_rest,
    tampered_rows_are_corrupt
);
