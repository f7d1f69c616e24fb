#![doc = include_str!("../README.md")]

pub mod engine;
pub mod ids;
pub mod layout;
pub mod lifecycle;
pub mod model;
pub mod plan;
pub mod ports;
pub mod secret;
pub mod shell;
pub mod time;
pub mod value;

pub use ids::{EnvironmentId, ProjectId, ServerId, SpaceId, TaskId, UserId};
pub use secret::Secret;
pub use time::Timestamp;
