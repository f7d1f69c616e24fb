#![doc = include_str!("../README.md")]

mod fan_out;
mod host_key;
mod known_hosts;
mod lines;
pub mod local;
mod ssh;
mod tar_guard;
mod temp_name;
pub mod workspace;

pub use fan_out::{fan_out, fan_out_mut};
pub use host_key::{fingerprint, host_key_from_blob};
pub use known_hosts::{Error as KnownHostsError, KnownHostsFile};
pub use local::LocalTransport;
pub use ssh::{SshConfig, SshIdentity, SshTransport};
