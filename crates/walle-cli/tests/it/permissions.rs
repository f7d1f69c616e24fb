//! The CLI enforces the same permission matrix as the server: denials exit 3 with a clear message.

use crate::{Walle, project_toml, repo_with};

#[test]
fn a_reporter_may_not_deploy_or_change_anything() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let file = w.scratch().join("p.toml");
    std::fs::write(&file, project_toml("site", &repo, &www, &["here"], false)).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);
    w.json(&["user", "create", "viewer@example.com", "--role", "REPORTER"]);

    let err = w.fails(
        3,
        &[
            "--as",
            "viewer@example.com",
            "deploy",
            "site",
            "--branch",
            "main",
        ],
    );
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("REPORTER"), "{err}");
    assert!(!www.join("current").exists(), "nothing was deployed");
    let tasks = w.json(&["task", "list"]);
    assert_eq!(
        tasks.as_array().map(Vec::len),
        Some(0),
        "no task was created: {tasks}"
    );

    let err = w.fails(
        3,
        &[
            "--as",
            "viewer@example.com",
            "server",
            "create",
            "x",
            "--host",
            "10.0.0.9",
        ],
    );
    assert!(err.contains("permission denied"), "{err}");
    w.fails(
        3,
        &[
            "--as",
            "viewer@example.com",
            "user",
            "create",
            "x@example.com",
        ],
    );
    // Reading is allowed.
    w.json(&["--as", "viewer@example.com", "project", "show", "site"]);
}

#[test]
fn a_developer_waits_for_approval_when_the_project_requires_it() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let file = w.scratch().join("p.toml");
    std::fs::write(&file, project_toml("site", &repo, &www, &["here"], true)).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);
    w.json(&["user", "create", "dev@example.com", "--role", "DEVELOPER"]);
    let err = w.fails(
        3,
        &[
            "--as",
            "dev@example.com",
            "deploy",
            "site",
            "--branch",
            "main",
        ],
    );
    assert!(err.contains("waits for approval"), "{err}");
    let err = w.fails(3, &["--as", "dev@example.com", "task", "approve", "1"]);
    assert!(err.contains("permission denied"), "{err}");
    // A MASTER (here SUPER) approves; the developer deploys their own approved task.
    w.json(&["task", "approve", "1", "--comment", "go"]);
    let d = w.json(&["--as", "dev@example.com", "task", "deploy", "1"]);
    assert_eq!(d["status"], "succeeded", "{d}");
    assert_eq!(
        std::fs::read_to_string(www.join("current/index.html")).expect("live"),
        "v1"
    );
}

#[test]
fn separate_approvers_cannot_approve_their_own_tasks() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let url = format!("file://{}", repo.display());
    let webroot = format!("{}/current", w.scratch().join("www").display());
    w.json(&[
        "project",
        "create",
        "site",
        "--repo",
        &url,
        "--webroot",
        &webroot,
        "--server",
        "here",
        "--separate-approver",
    ]);
    // Even SUPER cannot approve a task they submitted; `walle deploy` says who must approve.
    let err = w.fails(3, &["deploy", "site", "--branch", "main"]);
    assert!(err.contains("other than the submitter"), "{err}");
    let err = w.fails(5, &["task", "approve", "1"]);
    assert!(err.contains("another approver"), "{err}");
    w.json(&["user", "create", "lead@example.com", "--role", "MASTER"]);
    let t = w.json(&["--as", "lead@example.com", "task", "approve", "1"]);
    assert_eq!(t["status"], "approved");
}

#[test]
fn an_unknown_acting_user_is_not_found() {
    let (w, _) = Walle::init();
    let err = w.fails(4, &["--as", "ghost@example.com", "server", "list"]);
    assert!(err.contains("ghost@example.com"), "{err}");
}

#[test]
fn an_owner_creates_accounts_directly_into_their_space() {
    // walle 2.x made OWNERs ask SUPER for every new account; here they add them themselves.
    let (w, _) = Walle::init();
    w.json(&["user", "create", "owner@example.com", "--role", "OWNER"]);
    let dev = w.json(&[
        "--as",
        "owner@example.com",
        "user",
        "create",
        "dev@example.com",
        "--role",
        "DEVELOPER",
    ]);
    assert_eq!(dev["user"]["memberships"][0]["role"], "DEVELOPER", "{dev}");
    // But not SUPER accounts, nor accounts outside the space.
    w.fails(
        3,
        &[
            "--as",
            "owner@example.com",
            "user",
            "create",
            "root2@example.com",
            "--super",
        ],
    );
    w.fails(3, &["--as", "owner@example.com", "user", "list"]);
}

#[test]
fn blocked_users_can_do_nothing_and_nobody_blocks_themselves() {
    let (w, _) = Walle::init();
    w.json(&["user", "create", "dev@example.com", "--role", "DEVELOPER"]);
    w.json(&["--as", "dev@example.com", "server", "list"]);
    let v = w.json(&["user", "block", "dev@example.com"]);
    assert_eq!(v["status"], "blocked");
    let err = w.fails(3, &["--as", "dev@example.com", "server", "list"]);
    assert!(err.contains("blocked"), "{err}");
    w.json(&["user", "unblock", "dev@example.com"]);
    w.json(&["--as", "dev@example.com", "server", "list"]);
    let err = w.fails(3, &["user", "block", "admin@walle.local"]);
    assert!(err.contains("themselves"), "{err}");
}
