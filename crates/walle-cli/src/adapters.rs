//! The adapters a deploy runs on, picked once here: git/SVN, the transport router (`local` →
//! local transport, everything else → SSH), the local workspace, and the known_hosts file.

use std::path::PathBuf;
use std::time::Duration;

use walle_core::model::Server;
use walle_core::ports::{ConnectOptions, HostTarget, Session, Transport, TransportError};
use walle_transport::workspace::LocalWorkspace;
use walle_transport::{KnownHostsFile, LocalTransport};
use walle_vcs::{AnyVcs, GitConfig, KnownHosts, SvnConfig, UnknownHostPolicy};

use crate::context::{Ctx, Paths};
use crate::servers::LOCAL_HOST;

/// A process on the deploy host (the one sanctioned way to spawn one).
pub fn command(program: &str) -> std::process::Command {
    walle_transport::local::command(program)
}

/// Everything the engine needs besides the store and the clock.
pub struct Adapters {
    /// Git and SVN.
    pub vcs: AnyVcs,
    /// Targets: `local` on this host, the rest over SSH.
    pub transport: Router,
    /// This host (deploy-host hooks).
    pub local: LocalTransport,
    /// Build directories and archives.
    pub workspace: LocalWorkspace,
}

impl Adapters {
    /// The adapters for a data directory.
    pub fn new(ctx: &Ctx) -> anyhow::Result<Adapters> {
        let ws = ctx.paths.workspace_dir();
        crate::init::create_private_dir(&ws)?;
        let known_hosts = KnownHosts {
            path: ctx.paths.known_hosts(),
            unknown: UnknownHostPolicy::TrustOnFirstUse,
        };
        let vcs = AnyVcs::new(
            GitConfig {
                cache_root: ws.join("cache"),
                known_hosts,
            },
            SvnConfig {
                cache_root: ws.join("cache"),
                command_timeout: Duration::from_secs(600),
            },
        );
        let identity = ctx
            .global
            .identity
            .clone()
            .or_else(|| ctx.config.identity.clone());
        Ok(Adapters {
            vcs,
            transport: Router {
                local: LocalTransport::default(),
                ssh: ssh::transport(&ctx.paths, identity)?,
            },
            local: LocalTransport::default(),
            workspace: LocalWorkspace::new(ws),
        })
    }
}

/// Sends the host named `local` to the local transport and every other host to SSH.
pub struct Router {
    local: LocalTransport,
    ssh: ssh::Ssh,
}

impl Transport for Router {
    fn connect(
        &self,
        target: &HostTarget,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, TransportError> {
        if target.host.as_str() == LOCAL_HOST {
            self.local.connect(target, opts)
        } else {
            self.ssh.connect(target, opts)
        }
    }
}

/// Removes a server's key from the known_hosts file (after `walle server forget-key`).
pub fn forget_host_key(paths: &Paths, server: &Server) -> anyhow::Result<()> {
    let file = KnownHostsFile::new(paths.known_hosts());
    file.remove(&server.spec.host, server.spec.port)
        .map_err(|e| anyhow::format_err!("updating {}: {e}", paths.known_hosts().display()))
}

mod ssh {
    //! The SSH side of the router: identity and host keys.

    use std::sync::Arc;

    use walle_core::Secret;
    use walle_transport::{SshConfig, SshIdentity, SshTransport};

    use super::{Duration, KnownHostsFile, PathBuf, Paths};

    /// The environment variable holding the passphrase of `--identity`.
    pub(crate) const PASSPHRASE_VAR: &str = "WALLE_IDENTITY_PASSPHRASE";

    pub(super) type Ssh = SshTransport;

    pub(super) fn transport(paths: &Paths, identity: Option<PathBuf>) -> anyhow::Result<Ssh> {
        Ok(SshTransport::new(SshConfig {
            identity: pick_identity(identity),
            host_keys: Arc::new(KnownHostsFile::new(paths.known_hosts())),
            tofu: true,
            io_timeout: Duration::from_secs(60),
        }))
    }

    /// `--identity` (with `WALLE_IDENTITY_PASSPHRASE`), else a running agent, else
    /// `~/.ssh/id_ed25519`, `~/.ssh/id_ecdsa` or `~/.ssh/id_rsa`, else the agent (which then
    /// reports that there is none).
    fn pick_identity(explicit: Option<PathBuf>) -> SshIdentity {
        let passphrase = std::env::var(PASSPHRASE_VAR).ok().map(Secret::new);
        if let Some(path) = explicit {
            return SshIdentity::KeyFile { path, passphrase };
        }
        if std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty()) {
            return SshIdentity::Agent { socket: None };
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
            if let Some(p) = home.as_ref().map(|h| h.join(".ssh").join(name))
                && p.exists()
            {
                return SshIdentity::KeyFile {
                    path: p,
                    passphrase,
                };
            }
        }
        SshIdentity::Agent { socket: None }
    }
}
