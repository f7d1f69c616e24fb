//! `walle quickstart`: deploy twice to this host, roll back, and the webroot really points to v1.

use std::time::Instant;

use crate::Walle;

#[test]
fn quickstart_deploys_twice_rolls_back_and_the_webroot_points_to_v1() {
    let w = Walle::fresh();
    let dir = w.scratch().join("qs");
    let started = Instant::now();
    let v = w.json(&["quickstart", "--dir", dir.to_str().expect("utf-8")]);
    let took = started.elapsed();
    assert!(took.as_secs() < 60, "quickstart took {took:?}");

    let r1 = v["release_v1"].as_str().expect("release_v1");
    let r2 = v["release_v2"].as_str().expect("release_v2");
    assert_ne!(r1, r2);
    let www = dir.join("quickstart/www");
    let link = std::fs::read_link(www.join("current")).expect("webroot is a symlink");
    assert_eq!(
        link,
        www.join("releases").join(r1),
        "webroot must point to the v1 release"
    );
    let live = std::fs::read_to_string(www.join("current/index.html")).expect("index.html");
    assert!(live.contains("v1"), "{live}");
    // Both releases are kept on the host with their own contents.
    let v2 =
        std::fs::read_to_string(www.join("releases").join(r2).join("index.html")).expect("v2 kept");
    assert!(v2.contains("v2"), "{v2}");
    // The build hook ran on the deploy host and its output shipped.
    // ... with the hook variables: COMMIT_ID is the exact commit of the release.
    let commit_v1 = v["releases"]["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .find(|r| r["id"] == r1)
        .and_then(|r| r["commit"].as_str())
        .expect("v1 commit")
        .to_owned();
    let info = std::fs::read_to_string(www.join("current/BUILD_INFO")).expect("BUILD_INFO");
    assert_eq!(info, format!("built from commit {commit_v1}\n"));
    assert!(!www.join("current/.git").exists());

    // The store agrees, and the same data dir works with the ordinary commands.
    let rel = &v["releases"]["releases"];
    let live_ids: Vec<&str> = rel
        .as_array()
        .expect("releases")
        .iter()
        .filter(|r| r["live_on"].as_array().is_some_and(|a| !a.is_empty()))
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(live_ids, vec![r1]);
    let out = w
        .command(&["release", "list", "quickstart"])
        .env("WALLE_DATA_DIR", &dir)
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(r2));
}

#[test]
fn quickstart_refuses_a_non_empty_directory() {
    let w = Walle::fresh();
    let dir = w.scratch().join("full");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("x"), "x").expect("write");
    let err = w.fails(2, &["quickstart", "--dir", dir.to_str().expect("utf-8")]);
    assert!(err.contains("not empty"), "{err}");
}
