//! One deploy and rollback over SSH to two of the test hosts (see docs/TESTING.md), as the
//! non-root deploy user, with host keys trusted on first use into the data directory.

use walle_test_support::Infra;

use crate::{Walle, commit, repo_with};

#[test]
fn deploy_and_roll_back_over_ssh_to_two_hosts() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let user = infra.deploy_user();
    let (w, _) = Walle::init();
    let key = infra.client_key().to_str().expect("utf-8").to_owned();
    let hosts = [fleet.host(0), fleet.host(1)];
    for h in hosts {
        w.ok(&[
            "server",
            "create",
            &h.name,
            "--host",
            &h.addr.to_string(),
            "--port",
            &h.port.to_string(),
            "--user",
            user,
        ]);
    }
    let unique = w
        .scratch()
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned();
    let www = format!("/srv/www/{unique}");
    let repo = repo_with(w.scratch(), "over ssh v1");
    let file = w.scratch().join("p.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"web\"\nservers = [{:?}, {:?}]\n[repo]\nurl = \"file://{}\"\n[deploy]\nwebroot = \"{www}/current\"\nreleases_dir = \"{www}/releases\"\n[hooks]\npre_release = [\"test -f index.html\"]\n",
            hosts[0].name,
            hosts[1].name,
            repo.display()
        ),
    )
    .expect("write");
    w.ok(&["project", "create", "--from", file.to_str().expect("utf-8")]);

    let check = w.json(&["--identity", &key, "check", "web"]);
    assert_eq!(check["ok"], true, "{check}");
    let d1 = w.json(&["--identity", &key, "deploy", "web", "--branch", "main"]);
    assert_eq!(d1["status"], "succeeded", "{d1}");
    let r1 = d1["release"].as_str().expect("release").to_owned();
    commit(&repo, "over ssh v2");
    let d2 = w.json(&["--identity", &key, "deploy", "web", "--branch", "main"]);
    assert_eq!(d2["status"], "succeeded", "{d2}");
    let r2 = d2["release"].as_str().expect("release").to_owned();
    for h in hosts {
        assert_eq!(
            live_content(h.srv_root(), &unique, &r2),
            "over ssh v2",
            "{}",
            h.name
        );
    }

    let rb = w.json(&["--identity", &key, "rollback", "web"]);
    assert_eq!(rb["status"], "succeeded", "{rb}");
    assert_eq!(rb["release"], r1.as_str());
    for h in hosts {
        assert_eq!(
            live_content(h.srv_root(), &unique, &r1),
            "over ssh v1",
            "{}",
            h.name
        );
    }
    // The host keys were trusted on first use, into the data directory's known_hosts.
    let known = std::fs::read_to_string(w.data_dir().join("known_hosts")).expect("known_hosts");
    for h in hosts {
        assert!(known.contains(&h.addr.to_string()), "{known}");
    }
}

/// The live `index.html` of a host: its webroot link (an absolute path inside the host) must name
/// `release`, whose file is read through the host's `/srv` as the test sees it.
fn live_content(srv_root: &std::path::Path, unique: &str, release: &str) -> String {
    let root = srv_root.join(format!("www/{unique}"));
    let link = std::fs::read_link(root.join("current")).expect("webroot is a symlink");
    assert_eq!(
        link.to_str(),
        Some(format!("/srv/www/{unique}/releases/{release}").as_str())
    );
    std::fs::read_to_string(root.join("releases").join(release).join("index.html"))
        .expect("index.html")
}

#[test]
fn a_changed_host_key_is_refused_until_forgotten() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let (w, _) = Walle::init();
    let key = infra.client_key().to_str().expect("utf-8").to_owned();
    let (target, other) = (fleet.host(2), fleet.host(0));
    w.ok(&[
        "server",
        "create",
        "db",
        "--host",
        &target.addr.to_string(),
        "--user",
        infra.deploy_user(),
    ]);
    let www = format!(
        "/srv/www/{}",
        w.scratch()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
    );
    let repo = repo_with(w.scratch(), "v1");
    let url = format!("file://{}", repo.display());
    w.ok(&[
        "project",
        "create",
        "db",
        "--repo",
        &url,
        "--webroot",
        &format!("{www}/current"),
        "--server",
        "db",
    ]);
    // The data directory trusts another host's key for this address: as after a reinstall, or an attack.
    let wrong = other.host_key_pub().expect("host key");
    let mut fields = wrong.split_whitespace();
    let (algo, blob) = (
        fields.next().expect("algorithm"),
        fields.next().expect("key"),
    );
    std::fs::write(
        w.data_dir().join("known_hosts"),
        format!("{} {algo} {blob}\n", target.addr),
    )
    .expect("write known_hosts");

    let out = w.run(&["--identity", &key, "check", "db"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("changed") && text.contains("walle server forget-key db"),
        "{text}"
    );
    let out = w.run(&[
        "--json",
        "--identity",
        &key,
        "deploy",
        "db",
        "--branch",
        "main",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !target
            .srv_root()
            .join(format!("{}/current", &www["/srv/".len()..]))
            .exists()
    );

    w.ok(&["server", "forget-key", "db"]);
    let check = w.json(&["--identity", &key, "check", "db"]);
    assert_eq!(check["ok"], true, "{check}");
    let known = std::fs::read_to_string(w.data_dir().join("known_hosts")).expect("known_hosts");
    assert!(!known.contains(blob), "the wrong key is gone: {known}");
}
