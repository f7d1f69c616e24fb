//! The deploy engine: executes a [`crate::plan::DeployPlan`] over the ports.
//!
//! Two phases with a barrier between them. Every host is prepared first (upload, unpack, shared
//! links, pre-release hooks) without touching its live release. Only when the failures stay within
//! the project's failure policy do the hosts switch, all at once or in rolling batches; a failure
//! after a switch puts every switched host back on its own previous release.

mod build;
mod emit;
mod host;
mod lease;
mod manifest;
mod pool;
mod run;

pub use run::{CancelFlag, DeployReport, DeployRequest, EngineError, Ports, deploy};
