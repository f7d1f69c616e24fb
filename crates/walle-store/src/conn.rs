//! Connections: the backend enum, the URL scheme that picks it, per-backend setup and the pool.

use std::time::Duration;

#[cfg(feature = "sqlite")]
use diesel::connection::AnsiTransactionManager;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
use diesel::connection::SimpleConnection;
use diesel::connection::TransactionManager;
use diesel::prelude::*;
use diesel::r2d2::{self, R2D2Connection};

use crate::error::OpenError;

// The derive generates public helper items without docs; they stay private to this crate.
#[allow(missing_docs, unreachable_pub)]
mod any {
    /// A connection to whichever backend the URL names; SQLite last, as diesel recommends.
    #[derive(diesel::MultiConnection)]
    pub enum AnyConnection {
        #[cfg(feature = "postgres")]
        Pg(diesel::PgConnection),
        #[cfg(feature = "mysql")]
        Mysql(diesel::MysqlConnection),
        #[cfg(feature = "sqlite")]
        Sqlite(diesel::SqliteConnection),
    }
}

pub(crate) use any::{AnyConnection, MultiBackend as Db};

/// The database products walle-store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, embedded (`sqlite://path` or a plain path).
    Sqlite,
    /// MySQL or MariaDB (`mysql://`).
    Mysql,
    /// PostgreSQL (`postgres://` or `postgresql://`).
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme; a string without `://` is a SQLite path.
    pub fn from_url(url: &str) -> Result<Backend, OpenError> {
        let Some((scheme, _)) = url.split_once("://") else {
            return Ok(Backend::Sqlite);
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "mysql" | "mariadb" => Ok(Backend::Mysql),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            other => Err(OpenError::UnknownScheme {
                scheme: other.to_owned(),
            }),
        }
    }

    /// The lower-case name, also the cargo feature that compiles it in.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mysql => "mysql",
            Backend::Postgres => "postgres",
        }
    }

    /// True when this build of walle-store includes the backend.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Mysql => cfg!(feature = "mysql"),
            Backend::Postgres => cfg!(feature = "postgres"),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Opens connections of one backend and prepares each one (the r2d2 connection manager).
#[derive(Debug)]
pub(crate) struct Manager {
    backend: Backend,
    /// The URL handed to the driver (for SQLite: the file path).
    target: String,
}

impl Manager {
    pub(crate) fn new(backend: Backend, url: &str) -> Manager {
        let target = match backend {
            Backend::Sqlite => url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("SQLITE://"))
                .unwrap_or(url)
                .to_owned(),
            Backend::Mysql => match url.split_once("://") {
                // libmysqlclient's URL parser in diesel accepts only `mysql://`.
                Some((_, rest)) => format!("mysql://{rest}"),
                None => url.to_owned(),
            },
            Backend::Postgres => url.to_owned(),
        };
        Manager { backend, target }
    }

    /// True for an SQLite in-memory database, which exists once per connection.
    pub(crate) fn is_memory(&self) -> bool {
        self.backend == Backend::Sqlite && (self.target == ":memory:" || self.target.is_empty())
    }

    fn establish(&self) -> ConnectionResult<AnyConnection> {
        match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.target)?;
                conn.batch_execute("PRAGMA busy_timeout = 15000;")
                    .map_err(setup_failed)?;
                sqlite_wal(&mut conn)?;
                conn.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .map_err(setup_failed)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn = diesel::MysqlConnection::establish(&self.target)?;
                // READ COMMITTED, like PostgreSQL: fewer gap locks, and every statement sees the
                // latest committed rows, which the compare-and-set updates rely on.
                conn.batch_execute(
                    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
                     SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES');",
                )
                .map_err(setup_failed)?;
                Ok(AnyConnection::Mysql(conn))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let conn = diesel::PgConnection::establish(&self.target)?;
                Ok(AnyConnection::Pg(conn))
            }
            #[allow(unreachable_patterns)] // Reached only when the backend's feature is off.
            other => Err(ConnectionError::BadConnection(format!(
                "walle-store was built without the `{other}` feature"
            ))),
        }
    }
}

/// Switches a SQLite database to WAL. Several processes opening a fresh database at once race for
/// the exclusive lock this needs, and SQLite can answer "database is locked" at once, without
/// calling the busy handler; so retry for as long as the busy timeout would have waited.
#[cfg(feature = "sqlite")]
fn sqlite_wal(conn: &mut diesel::SqliteConnection) -> ConnectionResult<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => return Ok(()),
            Err(e) if e.to_string().contains("locked") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(setup_failed(e)),
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "mysql"))]
fn setup_failed(e: diesel::result::Error) -> ConnectionError {
    ConnectionError::BadConnection(format!("connection setup failed: {e}"))
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking()
            || <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                conn,
            )
            || conn.is_broken()
    }
}

/// The connection pool.
pub(crate) type Pool = r2d2::Pool<Manager>;

/// Builds a pool after opening one connection directly, so that a wrong URL or a server that is
/// down fails at once with the driver's message (r2d2 would retry until its timeout).
pub(crate) fn pool(manager: Manager, max_size: u32) -> Result<Pool, OpenError> {
    let backend = manager.backend;
    let first = manager.establish().map_err(|e| OpenError::Connect {
        backend,
        detail: e.to_string(),
    })?;
    drop(first);
    let builder = r2d2::Pool::builder()
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(30));
    let builder = if manager.is_memory() {
        // An in-memory database lives as long as its one connection: never close or reopen it.
        builder.max_size(1).idle_timeout(None).max_lifetime(None)
    } else {
        builder.max_size(max_size.max(1))
    };
    Ok(builder.build_unchecked(manager))
}

/// The id the last `INSERT` on this connection generated (an auto-increment / serial column).
pub(crate) fn last_insert_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let expr = match conn {
        #[cfg(feature = "postgres")]
        AnyConnection::Pg(_) => "lastval()",
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "CAST(LAST_INSERT_ID() AS SIGNED)",
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(_) => "last_insert_rowid()",
    };
    diesel::select(sql::<BigInt>(expr)).get_result(conn)
}

/// Runs `f` in a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so the write lock is
/// taken up front and two writers never deadlock on a lock upgrade (busy_timeout then applies).
pub(crate) fn write_tx<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    type Tm = <AnyConnection as Connection>::TransactionManager;
    match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(inner) => {
            // The multi-connection's transaction manager delegates to the inner connection's
            // state, so a transaction begun here is committed or rolled back through `Tm` below.
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        }
        #[allow(unreachable_patterns)] // Only SQLite needs the special begin.
        _ => Tm::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            if let Err(e) = Tm::commit_transaction(conn) {
                // A failed COMMIT leaves the transaction open on some backends; close it.
                let _ = Tm::rollback_transaction(conn);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(user_error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// A multi-row `INSERT` of `rows` (a `Vec` of insertable values) into `table`.
///
/// The multi-connection cannot express batch inserts (SQLite's differ), so this runs the insert on
/// the concrete connection inside the enum.
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        match $conn {
            #[cfg(feature = "postgres")]
            $crate::conn::AnyConnection::Pg(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            #[cfg(feature = "mysql")]
            $crate::conn::AnyConnection::Mysql(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            #[cfg(feature = "sqlite")]
            $crate::conn::AnyConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    }};
}
pub(crate) use insert_batch;
