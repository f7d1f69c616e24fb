//! Dead, frozen and cut-off hosts: each fails on its own schedule while the others finish.
//! Every test here holds an exclusive lease on the host it breaks (docs/TESTING.md, rule 3).

use std::time::{Duration, Instant};

use walle_core::ports::{HostTarget, OutputLine, RunOptions, Session, Transport, TransportError};
use walle_core::shell::Command;
use walle_test_support::Infra;
use walle_transport::{fan_out, fan_out_mut};

use crate::support::{opts, ssh, target};

/// Connects and runs `hostname`, returning its output and how long it all took.
fn connect_and_name(
    transport: &dyn Transport,
    t: &HostTarget,
    connect_timeout: Duration,
) -> (Result<String, TransportError>, Duration) {
    let start = Instant::now();
    let result = transport
        .connect(t, &opts(connect_timeout))
        .and_then(|mut s| {
            let mut name = String::new();
            s.run(
                &Command::new("hostname"),
                &RunOptions::default(),
                &mut |l| {
                    if let OutputLine::Stdout(l) = l {
                        name = l;
                    }
                },
            )?;
            Ok(name)
        });
    (result, start.elapsed())
}

#[test]
fn a_frozen_host_times_out_on_schedule_while_the_others_finish() {
    let infra = Infra::get();
    let lease = infra.exclusive_host(2);
    let frozen = target(lease.host());
    let targets: Vec<HostTarget> = lease.all_hosts().iter().map(target).collect();
    let transport = ssh(infra);
    let fault = lease.freeze();
    let start = Instant::now();
    let results = fan_out(&targets, 3, |t| {
        connect_and_name(&transport, t, Duration::from_secs(2))
    });
    let total = start.elapsed();
    fault.undo().expect("thaw");
    for (t, (result, took)) in &results {
        println!(
            "{t}: {took:?} {:?}",
            result.as_ref().map_err(ToString::to_string)
        );
        if *t == frozen {
            match result {
                Err(TransportError::Timeout { what, after, .. }) => {
                    assert_eq!(*after, Duration::from_secs(2));
                    assert!(what.contains("handshake"), "{what}");
                }
                other => panic!("frozen host: expected a timeout, got {other:?}"),
            }
            assert!(
                *took >= Duration::from_secs(2) && *took < Duration::from_millis(2600),
                "frozen host gave up after {took:?}"
            );
        } else {
            let name = result.as_ref().expect("healthy host");
            assert!(name.starts_with("wl"), "{name}");
            assert!(*took < Duration::from_millis(1500), "{t}: {took:?}");
        }
    }
    assert!(total < Duration::from_millis(2800), "{total:?}");
    // After the thaw the host answers again.
    let (result, _) = connect_and_name(&transport, &frozen, Duration::from_secs(5));
    assert_eq!(result.expect("thawed"), lease.host().name);
}

#[test]
fn a_host_cut_off_during_a_command_times_out_while_the_others_finish() {
    let infra = Infra::get();
    let lease = infra.exclusive_host(2);
    let transport = ssh(infra);
    let mut sessions: Vec<Box<dyn Session>> = lease
        .all_hosts()
        .iter()
        .map(|h| {
            transport
                .connect(&target(h), &opts(Duration::from_secs(5)))
                .expect("connect")
        })
        .collect();
    let cut = target(lease.host());
    let run_opts = RunOptions {
        timeout: Duration::from_secs(3),
        silence_timeout: None,
    };
    // The link goes down while the commands run: every host has printed its first line.
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (results, fault) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            fan_out_mut(&mut sessions, 3, |s| {
                let started_tx = started_tx.clone();
                let start = Instant::now();
                let r = s.run(
                    &Command::shell("echo started; sleep 1; hostname"),
                    &run_opts,
                    &mut |line| {
                        if line == OutputLine::Stdout("started".to_owned()) {
                            let _ = started_tx.send(());
                        }
                    },
                );
                (s.target().clone(), r, start.elapsed())
            })
        });
        for _ in 0..3 {
            started_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("every command started");
        }
        let fault = lease.cut_link();
        (worker.join().expect("fan-out"), fault)
    });
    for (t, result, took) in &results {
        println!(
            "{t}: {took:?} {:?}",
            result.as_ref().map_err(ToString::to_string)
        );
        if *t == cut {
            assert!(
                matches!(result, Err(TransportError::Timeout { after, .. }) if *after == Duration::from_secs(3)),
                "{result:?}"
            );
            assert!(
                *took >= Duration::from_secs(3) && *took < Duration::from_millis(3600),
                "{took:?}"
            );
        } else {
            assert!(
                result.as_ref().is_ok_and(|s| s.success()),
                "{t}: {result:?}"
            );
            assert!(*took < Duration::from_secs(2), "{t}: {took:?}");
        }
    }
    // The broken session says so within a second, as a retryable error; dropping it does not hang.
    let index = sessions
        .iter()
        .position(|s| *s.target() == cut)
        .expect("cut session");
    let mut broken = sessions.remove(index);
    let start = Instant::now();
    let err = broken
        .read_link(&crate::support::abs("/srv"))
        .expect_err("broken");
    assert!(matches!(err, TransportError::Disconnected { .. }), "{err}");
    assert!(err.is_retryable());
    drop(broken);
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    // A new connection to the unreachable host times out in the TCP connect.
    let (result, took) = connect_and_name(&transport, &cut, Duration::from_secs(1));
    assert!(
        matches!(&result, Err(TransportError::Timeout { what, .. }) if what.contains("TCP")),
        "{result:?}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    fault.undo().expect("link back up");
}

#[test]
fn a_dead_sshd_is_a_retryable_connection_refusal() {
    let infra = Infra::get();
    let lease = infra.exclusive_host(1);
    let transport = ssh(infra);
    let t = target(lease.host());
    let fault = lease.kill_sshd();
    let start = Instant::now();
    let err = transport
        .connect(&t, &opts(Duration::from_secs(5)))
        .map(|_| ())
        .expect_err("refused");
    assert!(start.elapsed() < Duration::from_secs(1));
    match &err {
        TransportError::Connect { detail, .. } => {
            assert!(detail.to_lowercase().contains("refused"), "{detail}");
        }
        other => panic!("expected a refused connection, got {other}"),
    }
    assert!(err.is_retryable());
    fault.undo().expect("sshd restarted");
    let (result, _) = connect_and_name(&transport, &t, Duration::from_secs(5));
    assert_eq!(result.expect("back"), lease.host().name);
}
