//! One fresh database per test, on each backend, and raw SQL access for tampering checks.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use walle_store::{Backend, DieselStore, SecretKey, StoreOptions};
use walle_test_support::TestDb;

/// A fresh database and the key its secrets are sealed with; `open` makes store instances on it.
pub(crate) struct Harness {
    backend: Backend,
    url: String,
    key: SecretKey,
    _sqlite_dir: Option<tempfile::TempDir>,
    _server_db: Option<TestDb>,
}

impl Harness {
    pub(crate) fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("walle.db").display());
        Harness::new(Backend::Sqlite, url, Some(dir), None)
    }

    pub(crate) fn mysql() -> Harness {
        let db = TestDb::mysql();
        Harness::new(Backend::Mysql, db.url().to_owned(), None, Some(db))
    }

    pub(crate) fn postgres() -> Harness {
        let db = TestDb::postgres();
        Harness::new(Backend::Postgres, db.url().to_owned(), None, Some(db))
    }

    pub(crate) fn of(backend: Backend) -> Harness {
        match backend {
            Backend::Sqlite => Harness::sqlite(),
            Backend::Mysql => Harness::mysql(),
            Backend::Postgres => Harness::postgres(),
        }
    }

    fn new(
        backend: Backend,
        url: String,
        dir: Option<tempfile::TempDir>,
        db: Option<TestDb>,
    ) -> Harness {
        Harness {
            backend,
            url,
            key: SecretKey::generate(),
            _sqlite_dir: dir,
            _server_db: db,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn key(&self) -> &SecretKey {
        &self.key
    }

    /// A new store instance (its own pool) on this database; migrations run on first open.
    pub(crate) fn open(&self) -> DieselStore {
        let options = StoreOptions {
            max_connections: 4,
            migrate: true,
        };
        let store = DieselStore::open_with(&self.url, &self.key, &options)
            .unwrap_or_else(|e| panic!("cannot open the {} test database: {e}", self.backend));
        assert_eq!(store.backend(), self.backend);
        store
    }

    /// Runs raw SQL on the database, outside the store (to tamper with rows).
    pub(crate) fn exec(&self, sql: &str) {
        let result = match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                diesel::SqliteConnection::establish(path)
                    .expect("raw sqlite connection")
                    .batch_execute(sql)
            }
            Backend::Mysql => diesel::MysqlConnection::establish(&self.url)
                .expect("raw mysql connection")
                .batch_execute(sql),
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .expect("raw postgres connection")
                .batch_execute(sql),
        };
        result.unwrap_or_else(|e| panic!("raw SQL {sql:?} failed: {e}"));
    }

    /// The text of one column of the first row of a query (to look at stored values).
    pub(crate) fn text(&self, sql: &str) -> String {
        #[derive(QueryableByName)]
        struct One {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let q = diesel::sql_query(sql);
        let rows: QueryResult<Vec<One>> = match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                q.load(&mut diesel::SqliteConnection::establish(path).expect("sqlite"))
            }
            Backend::Mysql => {
                q.load(&mut diesel::MysqlConnection::establish(&self.url).expect("mysql"))
            }
            Backend::Postgres => {
                q.load(&mut diesel::PgConnection::establish(&self.url).expect("postgres"))
            }
        };
        let rows = rows.unwrap_or_else(|e| panic!("raw SQL {sql:?} failed: {e}"));
        rows.into_iter().next().map(|r| r.v).unwrap_or_default()
    }
}
