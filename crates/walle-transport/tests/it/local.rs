//! The local transport shows the same behaviour as SSH, in a temporary directory.

use walle_core::ports::{ConnectOptions, HostTarget, Session, Transport};
use walle_core::value::{HostName, Port, SshUser};
use walle_transport::LocalTransport;

use crate::behaviour;
use crate::support::LocalDir;

fn local_target() -> HostTarget {
    HostTarget {
        server: None,
        host: HostName::new("local").expect("valid host"),
        port: Port::default(),
        user: SshUser::new("root").expect("valid user"),
    }
}

fn with_local(f: impl FnOnce(&mut dyn Session, &LocalDir)) {
    let dir = LocalDir::new();
    let mut s = LocalTransport::default()
        .connect(&local_target(), &ConnectOptions::default())
        .expect("local session");
    f(&mut *s, &dir);
}

#[test]
fn commands_and_exit_codes() {
    with_local(|s, dir| behaviour::commands_and_exit_codes(s, &dir.path));
}

#[test]
fn large_and_binary_output() {
    with_local(|s, _| behaviour::large_and_binary_output(s));
}

#[test]
fn env_values_round_trip() {
    with_local(|s, _| behaviour::env_values_round_trip(s));
}

#[test]
fn timeout_stops_the_command() {
    with_local(|s, dir| behaviour::timeout_stops_the_command(s, &dir.path));
}

#[test]
fn silence_timeout() {
    with_local(|s, _| behaviour::silence_timeout(s));
}

#[test]
fn small_files() {
    with_local(|s, dir| behaviour::small_files(s, &dir.path));
}

#[test]
fn upload() {
    with_local(|s, dir| behaviour::upload(s, &dir.path));
}

#[test]
fn unpack() {
    with_local(|s, dir| behaviour::unpack(s, &dir.path));
}

#[test]
fn unsafe_archives_are_refused() {
    with_local(|s, dir| behaviour::unsafe_archives_are_refused(s, &dir.path));
}

#[test]
fn switch_symlink() {
    with_local(|s, dir| behaviour::switch_symlink(s, &dir.path));
}

#[test]
fn switch_is_atomic_under_a_reader_loop() {
    with_local(|s, dir| {
        let (n, took, reads) = behaviour::switch_is_atomic(
            &LocalTransport::default(),
            &local_target(),
            s,
            &dir.path,
            500,
        );
        println!("{n} switches in {took:?} while the reader checked {reads} times");
    });
}
