//! The shared behaviour over SSH, plus what only SSH has: one connection for many steps, big uploads.

use std::io::Read;
use std::time::Instant;

use sha2::{Digest, Sha256};
use walle_core::ports::{ConnectOptions, Session, Transport};
use walle_core::shell::Command;
use walle_test_support::{Infra, TestHost};

use crate::behaviour;
use crate::support::{NoiseReader, RemoteDir, run, sh, ssh, target, target_as};

/// Connects to `host` as root and hands the session and a fresh directory to `f`.
fn on_host(index: usize, name: &str, f: impl FnOnce(&mut dyn Session, &RemoteDir, &TestHost)) {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let host = fleet.host(index);
    let dir = RemoteDir::new(host, name);
    let mut session = ssh(infra)
        .connect(&target(host), &ConnectOptions::default())
        .unwrap_or_else(|e| panic!("connect to {}: {e}", host.name));
    f(&mut *session, &dir, host);
}

#[test]
fn commands_and_exit_codes() {
    on_host(0, "commands", |s, dir, _| {
        behaviour::commands_and_exit_codes(s, &dir.remote)
    });
}

#[test]
fn large_and_binary_output() {
    on_host(1, "output", |s, _, _| behaviour::large_and_binary_output(s));
}

#[test]
fn env_values_round_trip() {
    on_host(2, "env", |s, _, _| behaviour::env_values_round_trip(s));
}

#[test]
fn timeout_stops_the_remote_command() {
    on_host(0, "timeout", |s, dir, _| {
        behaviour::timeout_stops_the_command(s, &dir.remote)
    });
}

#[test]
fn silence_timeout() {
    on_host(1, "silence", |s, _, _| behaviour::silence_timeout(s));
}

#[test]
fn small_files() {
    on_host(2, "files", |s, dir, _| {
        behaviour::small_files(s, &dir.remote)
    });
}

#[test]
fn upload() {
    on_host(0, "upload", |s, dir, _| behaviour::upload(s, &dir.remote));
}

#[test]
fn unpack() {
    on_host(1, "unpack", |s, dir, _| behaviour::unpack(s, &dir.remote));
}

#[test]
fn unsafe_archives_are_refused() {
    on_host(2, "unsafe", |s, dir, _| {
        behaviour::unsafe_archives_are_refused(s, &dir.remote)
    });
}

#[test]
fn switch_symlink() {
    on_host(0, "switch", |s, dir, _| {
        behaviour::switch_symlink(s, &dir.remote)
    });
}

#[test]
fn switch_is_atomic_under_a_reader_loop() {
    let infra = Infra::get();
    on_host(1, "atomic", |s, dir, host| {
        let (n, took, reads) =
            behaviour::switch_is_atomic(&ssh(infra), &target(host), s, &dir.remote, 300);
        println!("{n} switches in {took:?} while the reader checked {reads} times");
    });
}

#[test]
fn one_connection_serves_every_step() {
    on_host(2, "reuse", |s, dir, _| {
        let first = sh(s, "echo $SSH_CONNECTION");
        for i in 0..20 {
            assert_eq!(sh(s, "echo $SSH_CONNECTION"), first, "command {i}");
            s.write_file(&dir.path("f"), b"x").expect("write");
        }
        // The client's source port is the same for all of them: one TCP connection.
        assert_eq!(first.len(), 1);
    });
}

#[test]
fn upload_of_100_mb_streams_without_a_local_file() {
    const SIZE: u64 = 100 * 1024 * 1024;
    on_host(2, "big", |s, dir, _| {
        let mut expected = Sha256::new();
        let mut noise = NoiseReader::new(42, SIZE);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = noise.read(&mut buf).expect("noise");
            if n == 0 {
                break;
            }
            expected.update(&buf[..n]);
        }
        let dest = dir.path("release.bin");
        let start = Instant::now();
        let n = s
            .upload(&mut NoiseReader::new(42, SIZE), &dest, 0o644)
            .expect("upload");
        let took = start.elapsed();
        assert_eq!(n, SIZE);
        // Check what landed on the host's disk, read directly from the root namespace.
        let mut file = std::fs::File::open(dir.local.join("release.bin")).expect("open");
        let mut actual = Sha256::new();
        loop {
            let n = file.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            actual.update(&buf[..n]);
        }
        assert_eq!(actual.finalize(), expected.finalize());
        println!(
            "100 MiB upload took {took:?} ({:.0} MiB/s)",
            100.0 / took.as_secs_f64()
        );
    });
}

#[test]
fn a_non_root_user_deploys_into_its_own_directory() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let host = fleet.host(0);
    let mut s = ssh(infra)
        .connect(
            &target_as(host, infra.deploy_user()),
            &ConnectOptions::default(),
        )
        .expect("connect as the deploy user");
    let (code, out) = run(&mut *s, &Command::new("id").arg("-un"));
    assert_eq!(
        (code, out.stdout),
        (0, vec![infra.deploy_user().to_owned()])
    );
    let base = format!("/srv/www/transport-it-{}", crate::support::unique());
    sh(&mut *s, &format!("mkdir -p {base}/r1"));
    let current = crate::support::abs(&format!("{base}/current"));
    s.switch_symlink(&current, &crate::support::abs(&format!("{base}/r1")))
        .expect("switch as walle");
    // Root-owned places stay closed to it.
    assert!(
        s.write_file(&crate::support::abs("/srv/walle-transport-it-denied"), b"x")
            .is_err()
    );
    sh(&mut *s, &format!("rm -rf {base}"));
}
