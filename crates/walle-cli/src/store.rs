//! Opening the store named by the database URL, with the key that encrypts stored secrets.
//!
//! The key lives in `<data-dir>/secret.key` (created by `walle init`, mode 0600), or comes from
//! `WALLE_SECRET_KEY` (64 hex digits) when the database is shared with a server elsewhere.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context as _;
use walle_core::ports::Store;
use walle_store::{DieselStore, SecretKey};

use crate::context::Paths;
use crate::error::usage;

/// The environment variable that overrides the key file.
pub const SECRET_KEY_VAR: &str = "WALLE_SECRET_KEY";

/// Opens (and migrates) the store; with `create_key`, creates the key file if it is missing.
pub fn open(paths: &Paths, create_key: bool) -> anyhow::Result<Box<dyn Store>> {
    let key = secret_key(paths, create_key)?;
    let store = DieselStore::open(&paths.database_url, &key)
        .with_context(|| format!("opening the database {}", redact(&paths.database_url)))?;
    Ok(Box::new(store))
}

/// Applies pending migrations; returns their names.
pub fn migrate(paths: &Paths) -> anyhow::Result<Vec<String>> {
    let key = secret_key(paths, false)?;
    let store = DieselStore::open_with(
        &paths.database_url,
        &key,
        &walle_store::StoreOptions {
            migrate: false,
            ..walle_store::StoreOptions::default()
        },
    )
    .with_context(|| format!("opening the database {}", redact(&paths.database_url)))?;
    Ok(store.migrate()?)
}

fn secret_key(paths: &Paths, create: bool) -> anyhow::Result<SecretKey> {
    if let Some(hex) = std::env::var(SECRET_KEY_VAR).ok().filter(|v| !v.is_empty()) {
        return SecretKey::from_hex(&hex).map_err(|e| usage(format!("{SECRET_KEY_VAR}: {e}")));
    }
    let path = paths.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(hex) => SecretKey::from_hex(&hex).map_err(|e| usage(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key = SecretKey::generate();
            write_private(&path, &key.to_hex())?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(usage(format!(
            "the secret key {} is missing; restore it or set {SECRET_KEY_VAR}",
            path.display()
        ))),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "{text}").with_context(|| format!("writing {}", path.display()))
}

/// The URL without a password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
