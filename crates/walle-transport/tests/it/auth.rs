//! Authentication with a key file or an agent, and how refusals are reported.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use walle_core::ports::{ConnectOptions, Transport, TransportError};
use walle_test_support::Infra;
use walle_transport::{SshConfig, SshIdentity, SshTransport};

use crate::support::{sh, ssh_config, target, target_as};

/// A fresh ed25519 key that no host accepts.
fn stranger_key(dir: &std::path::Path) -> std::path::PathBuf {
    let key = dir.join("stranger");
    let status = walle_transport::local::command("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    key
}

#[test]
fn an_unknown_key_is_refused_as_an_authentication_failure() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = SshConfig {
        identity: SshIdentity::KeyFile {
            path: stranger_key(dir.path()),
            passphrase: None,
        },
        ..ssh_config(infra)
    };
    let err = SshTransport::new(config)
        .connect(&target(fleet.host(0)), &ConnectOptions::default())
        .map(|_| ())
        .expect_err("refused");
    match &err {
        TransportError::Auth { user, .. } => assert_eq!(user, "root"),
        other => panic!("expected an authentication failure, got {other}"),
    }
    assert!(err.to_string().contains("authorized_keys"), "{err}");
    assert!(!err.is_retryable());
}

#[test]
fn a_missing_key_file_and_an_unknown_user_are_refused() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let config = SshConfig {
        identity: SshIdentity::KeyFile {
            path: "/nonexistent/walle-key".into(),
            passphrase: None,
        },
        ..ssh_config(infra)
    };
    match SshTransport::new(config).connect(&target(fleet.host(0)), &ConnectOptions::default()) {
        Err(TransportError::Auth { detail, .. }) => {
            assert!(detail.contains("/nonexistent/walle-key"), "{detail}");
        }
        Err(other) => panic!("expected an authentication failure, got {other}"),
        Ok(_) => panic!("connected without a key"),
    }
    match crate::support::ssh(infra).connect(
        &target_as(fleet.host(0), "nosuchuser"),
        &ConnectOptions::default(),
    ) {
        Err(TransportError::Auth { user, .. }) => assert_eq!(user, "nosuchuser"),
        Err(other) => panic!("expected an authentication failure, got {other}"),
        Ok(_) => panic!("logged in as a user that does not exist"),
    }
}

/// An `ssh-agent` in the foreground on a private socket, killed on drop.
struct Agent {
    child: Child,
    socket: std::path::PathBuf,
}

impl Agent {
    fn start(dir: &std::path::Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = walle_transport::local::command("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent runs");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, socket }
    }

    fn add(&self, key: &std::path::Path) {
        let status = walle_transport::local::command("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-add runs");
        assert!(status.success());
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_agent_holding_the_key_logs_in_and_an_empty_one_is_refused() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let dir = tempfile::tempdir().expect("temp dir");
    let agent = Agent::start(dir.path());
    let config = SshConfig {
        identity: SshIdentity::Agent {
            socket: Some(agent.socket.clone()),
        },
        ..ssh_config(infra)
    };
    let transport = SshTransport::new(config);
    match transport.connect(&target(fleet.host(1)), &ConnectOptions::default()) {
        Err(TransportError::Auth { detail, .. }) => assert!(detail.contains("no keys"), "{detail}"),
        Err(other) => panic!("expected an authentication failure, got {other}"),
        Ok(_) => panic!("logged in with an empty agent"),
    }
    agent.add(&stranger_key(dir.path()));
    agent.add(infra.client_key());
    let mut s = transport
        .connect(&target(fleet.host(1)), &ConnectOptions::default())
        .expect("the agent's second key is accepted");
    assert_eq!(sh(&mut *s, "hostname"), [fleet.host(1).name.clone()]);
}
