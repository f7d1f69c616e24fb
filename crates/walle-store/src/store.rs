//! `DieselStore`: the pool, opening and migrating, and the helpers every repository module uses.

use std::time::Duration;

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use walle_core::model::Page;
use walle_core::ports::StoreResult;
use walle_core::value::Name;

use crate::conn::{self, AnyConnection, Backend, Manager, Pool};
use crate::crypto::{Sealer, SecretKey};
use crate::error::{Error, OpenError, Result};

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How many times a transaction that lost a race (deadlock, busy, serialization) is run again.
const MAX_ATTEMPTS: u32 = 20;

/// Settings for [`DieselStore::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Maximum pooled connections (an SQLite `:memory:` database always uses one).
    pub max_connections: u32,
    /// Apply pending embedded migrations while opening.
    pub migrate: bool,
}

impl Default for StoreOptions {
    /// Eight connections, migrations applied.
    fn default() -> Self {
        Self {
            max_connections: 8,
            migrate: true,
        }
    }
}

/// The storage adapter: implements every storage port of walle-core on one database.
///
/// Cheap to clone (the pool is shared). All methods block; call them from blocking threads.
#[derive(Clone)]
pub struct DieselStore {
    pool: Pool,
    backend: Backend,
    pub(crate) sealer: Sealer,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl DieselStore {
    /// Opens the database at `url` (`sqlite://PATH` or a plain path, `mysql://…`, `postgres://…`)
    /// and applies pending migrations. `key` encrypts stored secrets.
    pub fn open(url: &str, key: &SecretKey) -> Result<DieselStore, OpenError> {
        DieselStore::open_with(url, key, &StoreOptions::default())
    }

    /// Like [`DieselStore::open`], with explicit options.
    pub fn open_with(
        url: &str,
        key: &SecretKey,
        options: &StoreOptions,
    ) -> Result<DieselStore, OpenError> {
        let backend = Backend::from_url(url)?;
        if !backend.is_compiled_in() {
            return Err(OpenError::NotCompiledIn { backend });
        }
        let pool = conn::pool(Manager::new(backend, url), options.max_connections)?;
        let store = DieselStore {
            pool,
            backend,
            sealer: Sealer::new(key),
        };
        if options.migrate {
            store.migrate()?;
        }
        Ok(store)
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending embedded migrations; returns the names of those applied.
    pub fn migrate(&self) -> Result<Vec<String>, OpenError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| self.open_error(e.to_string()))?;
        let applied = run_migrations(&mut conn).map_err(|e| self.open_error(e))?;
        Ok(applied)
    }

    /// The names of the embedded migrations not yet applied.
    pub fn pending_migrations(&self) -> Result<Vec<String>, OpenError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| self.open_error(e.to_string()))?;
        pending(&mut conn).map_err(|e| self.open_error(e))
    }

    fn open_error(&self, detail: String) -> OpenError {
        OpenError::Migrate {
            backend: self.backend,
            detail,
        }
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| Error::Pool(e.to_string()))
    }

    /// Runs `f` on a pooled connection, outside any explicit transaction.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T>,
    ) -> StoreResult<T> {
        let mut conn = self.conn()?;
        f(&mut conn).map_err(Into::into)
    }

    /// Runs `f` in a write transaction, again when it loses a race the database reports
    /// (deadlock, serialization failure, busy SQLite file) or that `f` reports as [`Error::Retry`].
    pub(crate) fn write<T>(
        &self,
        mut f: impl FnMut(&mut AnyConnection) -> Result<T>,
    ) -> StoreResult<T> {
        let mut conn = self.conn()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match conn::write_tx(&mut conn, &mut f) {
                Err(e) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * 3));
                }
                other => return other.map_err(Into::into),
            }
        }
    }
}

use diesel::r2d2;

/// Applies the pending migrations while holding a database-wide lock, so that two processes
/// starting on a fresh database do not both try to create the tables.
fn run_migrations(conn: &mut AnyConnection) -> std::result::Result<Vec<String>, String> {
    type Names = std::result::Result<Vec<String>, String>;
    fn names<T: ToString>(r: diesel::migration::Result<Vec<T>>) -> Names {
        r.map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(|e| e.to_string())
    }
    match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => {
            use diesel::connection::{AnsiTransactionManager, TransactionManager};
            // One IMMEDIATE transaction: a second migrator waits for the write lock, then finds
            // nothing pending. diesel runs each migration in a savepoint inside it.
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
                .map_err(|e| e.to_string())?;
            let result = names(c.run_pending_migrations(SQLITE_MIGRATIONS));
            let end = if result.is_ok() {
                AnsiTransactionManager::commit_transaction(c)
            } else {
                AnsiTransactionManager::rollback_transaction(c)
            };
            let applied = result?;
            end.map_err(|e| e.to_string())?;
            Ok(applied)
        }
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => {
            use diesel::RunQueryDsl;
            use diesel::dsl::sql;
            use diesel::sql_types::{Integer, Nullable};
            let got: Option<i32> = diesel::select(sql::<Nullable<Integer>>(
                "GET_LOCK('walle_store_migrations', 300)",
            ))
            .get_result(c)
            .map_err(|e| e.to_string())?;
            if got != Some(1) {
                return Err("timed out waiting for another process's migrations".to_owned());
            }
            let result = names(c.run_pending_migrations(MYSQL_MIGRATIONS));
            let unlocked = diesel::select(sql::<Nullable<Integer>>(
                "RELEASE_LOCK('walle_store_migrations')",
            ))
            .get_result::<Option<i32>>(c);
            let applied = result?;
            unlocked.map_err(|e| e.to_string())?;
            Ok(applied)
        }
        #[cfg(feature = "postgres")]
        AnyConnection::Pg(c) => {
            use diesel::RunQueryDsl;
            // Session-level advisory lock; the key is arbitrary but fixed ("walle" in ASCII).
            diesel::sql_query("SELECT pg_advisory_lock(512735603813)")
                .execute(c)
                .map_err(|e| e.to_string())?;
            let result = names(c.run_pending_migrations(POSTGRES_MIGRATIONS));
            let unlocked = diesel::sql_query("SELECT pg_advisory_unlock(512735603813)").execute(c);
            let applied = result?;
            unlocked.map_err(|e| e.to_string())?;
            Ok(applied)
        }
    }
}

fn pending(conn: &mut AnyConnection) -> std::result::Result<Vec<String>, String> {
    let names = match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => c
            .pending_migrations(MYSQL_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
        #[cfg(feature = "postgres")]
        AnyConnection::Pg(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
    };
    names.map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the repository modules.

/// `lower(text)`, the same on all three backends for ASCII letters.
#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The escape character of the `LIKE` patterns built by [`like_pattern`].
pub(crate) const LIKE_ESCAPE: char = '!';

/// A case-insensitive (for ASCII) "contains" pattern for `lower(column) LIKE ? ESCAPE '!'`, or
/// `None` when the keyword is blank. `%`, `_` and `!` in the keyword match themselves.
pub(crate) fn like_pattern(keyword: Option<&str>) -> Option<String> {
    let k = keyword?.trim();
    if k.is_empty() {
        return None;
    }
    let mut p = String::with_capacity(k.len() + 2);
    p.push('%');
    for c in k.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            p.push(LIKE_ESCAPE);
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    Some(p)
}

/// The unique key of a display name: names are unique case-insensitively.
pub(crate) fn name_key(name: &Name) -> String {
    name.as_str().to_lowercase()
}

/// OFFSET and LIMIT of a page, clamped to what SQL accepts.
pub(crate) fn bounds(page: Page) -> (i64, i64) {
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    (clamp(page.offset), clamp(page.limit))
}

/// A row count as the port's `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Converts a non-negative count or position for an `INTEGER` column.
pub(crate) fn int(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests;
