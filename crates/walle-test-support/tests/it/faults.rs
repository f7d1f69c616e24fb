//! Each fault helper observed working, then undone (explicitly and by drop).

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::Duration;

use walle_test_support::{FaultKind, Infra, TestHost};

const SHORT: Duration = Duration::from_millis(500);

#[track_caller]
fn assert_healthy(host: &TestHost) {
    let banner = host.banner(Duration::from_secs(2)).expect("sshd banner");
    assert!(banner.starts_with("SSH-2.0-OpenSSH"), "{banner}");
}

#[test]
fn freeze_stops_the_banner_until_undone() {
    let infra = Infra::get();
    let host = infra.exclusive_host(0);
    assert_healthy(&host);
    let fault = host.freeze();
    assert_eq!(fault.kind(), FaultKind::Freeze);
    // The kernel still accepts the connection, but the frozen sshd never greets.
    let err = host.banner(SHORT).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );
    for other in host.others() {
        assert_healthy(other);
    }
    fault.undo().unwrap();
    assert_eq!(host.ssh("hostname").unwrap().trim(), host.name);

    drop(host.freeze());
    assert_healthy(&host);
}

#[test]
fn cut_link_makes_connects_time_out_until_undone() {
    let infra = Infra::get();
    let host = infra.exclusive_host(1);
    let fault = host.cut_link();
    assert_eq!(fault.kind(), FaultKind::CutLink);
    let err = TcpStream::connect_timeout(&host.socket_addr(), SHORT).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::HostUnreachable),
        "{err:?}"
    );
    drop(fault);
    assert_healthy(&host);
}

#[test]
fn kill_sshd_refuses_connections_until_restarted() {
    let infra = Infra::get();
    let host = infra.exclusive_host(2);
    let marker = host.srv_root().join(crate::unique("smoke-kill"));
    std::fs::write(&marker, "still here\n").unwrap();
    let fault = host.kill_sshd();
    let err = TcpStream::connect_timeout(&host.socket_addr(), SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    fault.undo().unwrap();
    // Restarted the same way: same hostname, same /srv.
    let remote = format!(
        "hostname; cat /srv/{}",
        marker.file_name().unwrap().to_string_lossy()
    );
    assert_eq!(
        host.ssh(&remote).unwrap(),
        format!("{}\nstill here\n", host.name)
    );
    std::fs::remove_file(marker).unwrap();
}

#[test]
fn fill_disk_makes_writes_fail_until_undone() {
    let infra = Infra::get();
    let host = infra.exclusive_host(2);
    let probe = host.srv_root().join(crate::unique("smoke-fill"));
    let fault = host.fill_disk();
    let err = std::fs::write(&probe, vec![7u8; 1 << 20]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull, "{err:?}");
    let remote = host
        .ssh("{ echo x > /srv/www/enospc-probe; } 2>&1 || echo refused")
        .unwrap();
    assert!(remote.contains("No space left on device"), "{remote}");
    drop(fault);
    std::fs::write(&probe, vec![7u8; 1 << 20]).unwrap();
    std::fs::remove_file(probe).unwrap();
    let _ = std::fs::remove_file(host.srv_root().join("www/enospc-probe"));
}

#[test]
fn a_conflicting_second_lease_in_one_test_fails_at_once() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let again = infra.fleet(); // shared + shared: fine
    let err = std::panic::catch_unwind(|| infra.exclusive_host(0).host().name.clone()).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("already holds a lease"), "{msg}");
    drop((fleet, again));
    assert_eq!(infra.exclusive_host(0).host().name, infra.hosts()[0].name);
}
