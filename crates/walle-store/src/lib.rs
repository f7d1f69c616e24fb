#![doc = include_str!("../README.md")]

mod codes;
mod conn;
mod crypto;
mod error;
mod events;
mod leases;
mod projects;
mod releases;
mod schema;
mod servers;
mod spaces;
mod store;
mod tasks;
mod users;

pub use conn::Backend;
pub use crypto::{InvalidSecretKey, SecretKey};
pub use error::OpenError;
pub use store::{DieselStore, StoreOptions};
