//! Target servers and their host keys.

use crate::value::{HostName, Label, Name, Port, SshUser};
use crate::{ServerId, SpaceId};

/// What an operator configures for a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// Display name, unique among the space's live servers.
    pub name: Name,
    /// Address or DNS name.
    pub host: HostName,
    /// SSH port.
    pub port: Port,
    /// SSH login user.
    pub user: SshUser,
    /// Labels grouping servers (`web`, `canary`, `eu-west`); a task can target a label.
    pub labels: Vec<Label>,
}

/// A target server. Unlike walle 2.x, servers belong to a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Id.
    pub id: ServerId,
    /// The owning space.
    pub space: SpaceId,
    /// Settings.
    pub spec: ServerSpec,
    /// The host key trusted on first use, if a connection has been made.
    pub host_key: Option<HostKey>,
}

/// An SSH host key as trusted on first use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    /// Key type as OpenSSH names it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`).
    pub algorithm: String,
    /// The public key blob, base64 as in `known_hosts`.
    pub key_base64: String,
}

impl HostKey {
    /// The `known_hosts` form of the key: `<algorithm> <base64>`.
    pub fn known_hosts_entry(&self) -> String {
        format!("{} {}", self.algorithm, self.key_base64)
    }
}
