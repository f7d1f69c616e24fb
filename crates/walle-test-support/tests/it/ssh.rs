//! Target hosts and the controller over SSH, with strict host key checking.

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use walle_test_support::Infra;

use crate::{run_err, run_ok, unique};

#[test]
fn each_host_has_its_own_hostname_and_srv() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let marker = unique("smoke-srv");
    std::thread::scope(|s| {
        for host in fleet.hosts() {
            let marker = &marker;
            s.spawn(move || {
                // The plain ssh CLI, spelled out, exactly as a user would check it.
                let out = run_ok(
                    Command::new("ssh")
                        .args(["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
                        .arg("-o")
                        .arg(format!("UserKnownHostsFile={}", infra.known_hosts().display()))
                        .arg("-i")
                        .arg(infra.client_key())
                        .arg("-p")
                        .arg(host.port.to_string())
                        .arg(format!("{}@{}", host.ssh_user, host.addr))
                        .arg(format!("hostname; uname -n; mkdir /srv/{marker} && hostname > /srv/{marker}/who")),
                );
                assert_eq!(out, format!("{0}\n{0}\n", host.name), "hostname on {}", host.name);
            });
        }
    });
    for host in fleet.hosts() {
        // What the host wrote to /srv is in its own tmpfs, and only there.
        let dir = host.srv_root().join(&marker);
        assert_eq!(
            std::fs::read_to_string(dir.join("who")).unwrap(),
            format!("{}\n", host.name)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
    assert!(
        !std::path::Path::new("/srv").join(&marker).exists(),
        "the root namespace's /srv was written"
    );
}

#[test]
fn deploy_user_logs_in_and_owns_srv_www() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let host = fleet.host(1);
    let marker = unique("smoke-www");
    let out = host
        .ssh_as(
            infra.deploy_user(),
            &format!("id -un; hostname; echo hi > /srv/www/{marker}"),
        )
        .unwrap();
    assert_eq!(out, format!("{}\n{}\n", infra.deploy_user(), host.name));
    let file = host.srv_root().join("www").join(&marker);
    let meta = std::fs::metadata(&file).unwrap();
    let www = std::fs::metadata(host.srv_root().join("www")).unwrap();
    assert_eq!(
        meta.uid(),
        www.uid(),
        "/srv/www and the file both belong to the deploy user"
    );
    assert_ne!(meta.uid(), 0);
    std::fs::remove_file(file).unwrap();
}

#[test]
fn unknown_host_keys_are_rejected() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let host = fleet.host(0);
    // A known_hosts file that lists only the controller: wl1's key is unknown, so strict checking must refuse.
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    let controller = infra.controller();
    std::fs::write(
        &kh,
        format!(
            "[{}]:{} {}\n",
            controller.addr,
            controller.port,
            controller.host_key_pub().unwrap()
        ),
    )
    .unwrap();
    let err = run_err(
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", kh.display()))
            .arg("-i")
            .arg(infra.client_key())
            .arg(format!("root@{}", host.addr))
            .arg("true"),
    );
    assert!(err.contains("Host key verification failed"), "{err}");
}

#[test]
fn controller_sshd_accepts_the_client_key() {
    let infra = Infra::get();
    let out = infra
        .controller()
        .ssh("echo controller-ok; id -un")
        .unwrap();
    assert_eq!(out, "controller-ok\nroot\n");
}
