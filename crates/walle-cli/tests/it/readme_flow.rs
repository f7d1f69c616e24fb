//! The README's path for a new user, on this host: init, a server, a project from options, a check,
//! deploy twice, roll back, list releases, read the log.

use crate::{Walle, commit, repo_with};

#[test]
fn init_server_project_deploy_rollback_in_a_few_commands() {
    let (w, _) = Walle::init();
    w.ok(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "first");
    let www = w.scratch().join("www");
    let url = format!("file://{}", repo.display());
    let webroot = format!("{}/current", www.display());
    w.ok(&[
        "project",
        "create",
        "site",
        "--repo",
        &url,
        "--webroot",
        &webroot,
        "--server",
        "here",
    ]);
    let check = w.json(&["check", "site"]);
    assert_eq!(check["ok"], true, "{check}");

    let d1 = w.json(&["deploy", "site", "--branch", "main"]);
    assert_eq!(d1["status"], "succeeded", "{d1}");
    let r1 = d1["release"].as_str().expect("release").to_owned();
    commit(&repo, "second");
    let d2 = w.json(&["deploy", "site", "--branch", "main"]);
    assert_eq!(d2["status"], "succeeded", "{d2}");
    let r2 = d2["release"].as_str().expect("release").to_owned();
    assert_eq!(
        std::fs::read_to_string(www.join("current/index.html")).expect("live"),
        "second"
    );

    let rb = w.json(&["rollback", "site"]);
    assert_eq!(rb["status"], "succeeded", "{rb}");
    assert_eq!(rb["release"], r1.as_str());
    assert_eq!(
        std::fs::read_link(www.join("current")).expect("link"),
        www.join("releases").join(&r1)
    );
    assert_eq!(
        std::fs::read_to_string(www.join("current/index.html")).expect("live"),
        "first"
    );

    let rel = w.ok(&["release", "list", "site"]);
    assert!(rel.contains(&r1) && rel.contains(&r2), "{rel}");
    let task = d2["task"].as_i64().expect("task").to_string();
    let log = w.ok(&["task", "logs", &task]);
    assert!(log.contains("switch"), "{log}");
    let follow = w.ok(&["task", "logs", &task, "--follow"]);
    assert!(follow.contains("switch"), "{follow}");
}

#[test]
fn tag_mode_projects_deploy_tags() {
    let (w, _) = Walle::init();
    w.ok(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "tagged");
    crate::git(&repo, &["tag", "-a", "v1.0", "-m", "release 1.0"]);
    let url = format!("file://{}", repo.display());
    let webroot = format!("{}/current", w.scratch().join("www").display());
    w.ok(&[
        "project",
        "create",
        "lib",
        "--repo",
        &url,
        "--webroot",
        &webroot,
        "--server",
        "here",
        "--mode",
        "tag",
    ]);
    let err = w.fails(2, &["deploy", "lib", "--branch", "main"]);
    assert!(err.contains("tag"), "{err}");
    let d = w.json(&["deploy", "lib", "--tag", "v1.0"]);
    assert_eq!(d["status"], "succeeded", "{d}");
    let id = d["task"].as_i64().expect("task").to_string();
    let t = w.json(&["task", "show", &id]);
    assert_eq!(t["tag"], "v1.0", "{t}");
}
