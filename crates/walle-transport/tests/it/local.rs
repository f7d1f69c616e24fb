//! The local transport shows the same behaviour as SSH, in a temporary directory.

use std::time::Duration;

use walle_core::ports::{ConnectOptions, HostTarget, Session, Transport};
use walle_core::shell::Command;
use walle_core::value::{HostName, Port, SshUser};
use walle_transport::LocalTransport;

use crate::behaviour;
use crate::support::{LocalDir, abs, run, sh};

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

/// The reader loop of the atomicity test does catch a switch that is not atomic (`rm` then
/// `ln -s`, as Spug and BusyBox `ln -sfn` do), so its silence above means something.
#[test]
fn the_reader_loop_catches_a_non_atomic_switch() {
    with_local(|s, dir| {
        let d = &dir.path;
        let current = abs(&format!("{d}/current"));
        let ready = abs(&format!("{d}/ready"));
        let stop = abs(&format!("{d}/stop"));
        sh(
            s,
            &format!("mkdir {d}/r0 {d}/r1 {d}/r2 {d}/r3 && ln -s {d}/r0 {current}"),
        );
        let mut reader = LocalTransport::default()
            .connect(&local_target(), &ConnectOptions::default())
            .expect("second session");
        let script = behaviour::reader_loop(d, &current, &ready, &stop);
        std::thread::scope(|scope| {
            let handle = scope.spawn(move || run(&mut *reader, &Command::shell(script)).1.stdout);
            while s.read_file(&ready).expect("read").is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
            sh(
                s,
                &format!(
                    "i=0; while [ $i -lt 400 ]; do rm -f {current}; \
                     ln -s {d}/r$((i % 4)) {current}; i=$((i+1)); done; : > {stop}"
                ),
            );
            let lines = handle.join().expect("reader");
            let last: Vec<String> = lines
                .last()
                .map(|l| l.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            let bad: u64 = last[2].parse().expect("count");
            assert!(bad > 0, "the reader missed every gap: {lines:?}");
        });
    });
}
