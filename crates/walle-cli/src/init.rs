//! `walle init` and `walle migrate`: the data directory, the database and the first SUPER account.

use anyhow::Context as _;
use serde::Serialize;
use walle_core::ports::NewUser;
use walle_core::value::{Email, Name};

use crate::args::{Global, InitArgs};
use crate::context::{Config, Paths, SystemClock};
use crate::error::conflict;
use crate::output::Report;
use crate::password;
use walle_core::ports::Clock as _;

/// What `walle init` created.
#[derive(Debug, Serialize)]
pub struct Initialised {
    /// The data directory.
    pub data_dir: String,
    /// The database URL.
    pub database_url: String,
    /// The SUPER account's e-mail.
    pub email: String,
    /// The generated password, shown this once.
    pub password: String,
    /// The first space.
    pub space: String,
    /// The first environment.
    pub environment: String,
}

/// Creates the data directory, the database, a SUPER account, a space and an environment.
pub fn init(global: &Global, args: &InitArgs) -> anyhow::Result<Report> {
    let done = init_quiet(global, args)?;
    let text = format!(
        "Initialised walle in {}\n  database     {}\n  SUPER        {}\n  password     {}\n  space        {} (environment {})\n\n\
         The password is shown only this once; change it with `walle user update {} --reset-password`.\n\
         Next: `walle server create NAME --host HOST --user USER`, then\n`walle project create NAME --repo URL --webroot PATH --server NAME` and `walle deploy NAME --branch main`.",
        done.data_dir,
        done.database_url,
        done.email,
        done.password,
        done.space,
        done.environment,
        done.email,
    );
    Ok(Report::new(&done, text))
}

/// [`init`] without the report text (quickstart uses it).
pub fn init_quiet(global: &Global, args: &InitArgs) -> anyhow::Result<Initialised> {
    let paths = Paths::resolve(global)?;
    let email = Email::new(&args.email)?;
    let username = Name::new(&args.name)?;
    let space_name = Name::new(&args.space_name)?;
    let env_name = Name::new(&args.environment)?;
    if paths.config_file().exists() {
        return Err(conflict(format!(
            "walle is already initialised in {}; nothing was changed (use another --data-dir for a fresh one)",
            paths.data_dir.display()
        )));
    }
    create_private_dir(&paths.data_dir)?;
    let store = crate::store::open(&paths, true)?;
    let existing = store.list_users(None, walle_core::model::Page::number(1, 1))?;
    if existing.total > 0 {
        return Err(conflict(format!(
            "the database {} already has accounts; nothing was changed",
            paths.database_url
        )));
    }
    let now = SystemClock.now();
    let pw = password::generate(20)?;
    let user = store.create_user(
        &NewUser {
            username,
            email: email.clone(),
            password_hash: password::hash(&pw)?,
            is_super: true,
        },
        now,
    )?;
    let space = store.create_space(&space_name, user.id, now)?;
    store.create_environment(space.id, &env_name)?;
    Config {
        user: Some(email.to_string()),
        space: Some(space_name.to_string()),
        identity: global.identity.clone(),
    }
    .save(&paths.config_file())?;
    Ok(Initialised {
        data_dir: paths.data_dir.display().to_string(),
        database_url: crate::store::redact(&paths.database_url),
        email: email.to_string(),
        password: pw,
        space: space_name.to_string(),
        environment: env_name.to_string(),
    })
}

/// What `walle migrate` did.
#[derive(Debug, Serialize)]
pub struct Migrated {
    /// The database URL.
    pub database_url: String,
    /// Migrations applied now.
    pub applied: Vec<String>,
}

/// Applies pending migrations.
pub fn migrate(global: &Global) -> anyhow::Result<Report> {
    let paths = Paths::resolve(global)?;
    let applied = crate::store::migrate(&paths)?;
    let text = if applied.is_empty() {
        format!(
            "{} is up to date",
            crate::store::redact(&paths.database_url)
        )
    } else {
        format!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        )
    };
    Ok(Report::new(
        &Migrated {
            database_url: crate::store::redact(&paths.database_url),
            applied,
        },
        text,
    ))
}

/// Creates a directory (and parents) readable by its owner only.
pub fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}
