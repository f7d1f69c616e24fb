//! Fresh, uniquely named MariaDB and PostgreSQL databases, dropped when the guard is.

use std::fmt;
use std::process::Command;

use crate::cmd::run;
use crate::infra::{DbServer, Infra};

/// Which server a [`TestDb`] lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// MariaDB on 127.0.0.1:23306 (`mysql://` URLs).
    Mysql,
    /// PostgreSQL on 127.0.0.1:25432 (`postgres://` URLs).
    Postgres,
}

impl fmt::Display for DbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbKind::Mysql => "mysql",
            DbKind::Postgres => "postgres",
        })
    }
}

/// A database created for one test; `DROP DATABASE` runs on drop.
#[derive(Debug)]
pub struct TestDb {
    kind: DbKind,
    name: String,
    url: String,
    server: &'static DbServer,
}

impl TestDb {
    /// Creates a fresh MariaDB database (panics, naming `sudo scripts/infra up`, if the server is missing).
    #[track_caller]
    pub fn mysql() -> TestDb {
        TestDb::create(DbKind::Mysql)
    }

    /// Creates a fresh PostgreSQL database (panics, naming `sudo scripts/infra up`, if the server is missing).
    #[track_caller]
    pub fn postgres() -> TestDb {
        TestDb::create(DbKind::Postgres)
    }

    /// Creates a fresh database of `kind`.
    #[track_caller]
    pub fn create(kind: DbKind) -> TestDb {
        let infra = Infra::get();
        let server = match kind {
            DbKind::Mysql => infra.mysql_server(),
            DbKind::Postgres => infra.postgres_server(),
        };
        let name = format!("walle_test_{}", crate::unique_suffix().replace('-', "_"));
        let sql = match kind {
            DbKind::Mysql => {
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            }
            DbKind::Postgres => {
                format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
            }
        };
        if let Err(err) = admin_sql(kind, server, None, &sql) {
            panic!(
                "cannot create a {kind} test database: {err:#}\n(is the test world up? {})",
                crate::START_COMMAND
            );
        }
        let url = match kind {
            DbKind::Mysql => format!(
                "mysql://{}:{}@{}:{}/{name}",
                server.user,
                server.password.as_deref().unwrap_or(""),
                server.host,
                server.port
            ),
            DbKind::Postgres => format!(
                "postgres://{}@{}:{}/{name}",
                server.user, server.host, server.port
            ),
        };
        TestDb {
            kind,
            name,
            url,
            server,
        }
    }

    /// The connection URL, e.g. `mysql://walle:walle@127.0.0.1:23306/walle_test_...`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which server it lives on.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Runs SQL in this database with the `mariadb`/`psql` client; returns rows as tab-separated lines.
    pub fn query(&self, sql: &str) -> anyhow::Result<String> {
        admin_sql(self.kind, self.server, Some(&self.name), sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = match self.kind {
            DbKind::Mysql => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            DbKind::Postgres => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        };
        if let Err(err) = admin_sql(self.kind, self.server, None, &sql) {
            #[allow(clippy::print_stderr)]
            // Failing a test over a leftover database would hide its real result.
            {
                eprintln!("warning: cannot drop test database {}: {err:#}", self.name);
            }
        }
    }
}

fn admin_sql(
    kind: DbKind,
    server: &DbServer,
    db: Option<&str>,
    sql: &str,
) -> anyhow::Result<String> {
    let port = server.port.to_string();
    match kind {
        DbKind::Mysql => {
            let mut cmd = Command::new("mariadb");
            cmd.args([
                "--no-defaults",
                "--protocol=tcp",
                "--batch",
                "--skip-column-names",
                "--connect-timeout=10",
            ])
            .args(["-h", &server.host, "-P", &port, "-u", &server.user])
            .env("MYSQL_PWD", server.password.as_deref().unwrap_or(""));
            if let Some(db) = db {
                cmd.args(["-D", db]);
            }
            run(cmd.args(["-e", sql]))
        }
        DbKind::Postgres => {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", &server.host, "-p", &port, "-U", &server.user])
                .args(["-d", db.unwrap_or("postgres")])
                .env("PGCONNECT_TIMEOUT", "10")
                .env_remove("PGPASSWORD")
                .env_remove("PGSERVICE");
            run(cmd.args(["-c", sql]))
        }
    }
}
