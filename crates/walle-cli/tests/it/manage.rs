//! Management commands round-trip: create, list, show, export with `--json`.

use crate::{Walle, project_toml, repo_with};

#[test]
fn servers_projects_users_and_tasks_round_trip() {
    let (w, _) = Walle::init();
    let s = w.json(&[
        "server", "create", "web1", "--host", "10.0.0.5", "--user", "deploy", "--label", "web",
    ]);
    assert_eq!(s["name"], "web1");
    assert_eq!(s["host"], "10.0.0.5");
    assert_eq!(s["port"], 22);
    w.json(&[
        "server",
        "create",
        "web2",
        "--host",
        "web2.example.com",
        "--port",
        "2222",
        "--user",
        "deploy",
    ]);
    let list = w.json(&["server", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let web = w.json(&["server", "list", "--label", "web"]);
    assert_eq!(web.as_array().map(Vec::len), Some(1), "{web}");
    let shown = w.json(&["server", "show", "web2"]);
    assert_eq!(shown["port"], 2222);

    let repo = repo_with(w.scratch(), "v1");
    let file = w.scratch().join("shop.toml");
    std::fs::write(
        &file,
        project_toml(
            "shop",
            &repo,
            std::path::Path::new("/srv/shop"),
            &["web1", "web2"],
            true,
        ),
    )
    .expect("write project file");
    let p = w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);
    assert_eq!(p["name"], "shop");
    assert_eq!(p["servers"], serde_json::json!(["web1", "web2"]));
    assert_eq!(p["deploy"]["webroot"], "/srv/shop/current");
    let shown = w.json(&["project", "show", "shop"]);
    assert_eq!(shown["approval"]["required"], true);
    assert_eq!(shown["environment"], "production");

    // Export, edit, update: the file is the round-trip format.
    let exported = w.ok(&["project", "export", "shop"]);
    assert!(exported.contains("name = \"shop\""), "{exported}");
    let edited = exported.replace("keep = 3", "keep = 7");
    std::fs::write(&file, edited).expect("write");
    let updated = w.json(&[
        "project",
        "update",
        "shop",
        "--from",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(updated["deploy"]["keep"], 7);
    let projects = w.json(&["project", "list"]);
    assert_eq!(projects[0]["name"], "shop");

    // A second project with the same name is a conflict.
    let err = w.fails(
        5,
        &["project", "create", "--from", file.to_str().expect("utf-8")],
    );
    assert!(err.contains("shop"), "{err}");

    // Users and members.
    let dev = w.json(&["user", "create", "dev@example.com", "--role", "developer"]);
    assert!(
        dev["password"].as_str().is_some_and(|p| p.len() >= 16),
        "{dev}"
    );
    let members = w.json(&["member", "list"]);
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap_or(""),
                m["role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        roles.contains(&("dev@example.com", "DEVELOPER")),
        "{members}"
    );
    let shown = w.json(&["user", "show", "dev@example.com"]);
    assert_eq!(shown["memberships"][0]["role"], "DEVELOPER");

    // Tasks: created submitted (approval required), approved, listed, shown.
    let t = w.json(&[
        "--as",
        "dev@example.com",
        "task",
        "create",
        "shop",
        "--branch",
        "main",
        "--server",
        "web1",
    ]);
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["servers"], serde_json::json!(["web1"]));
    let id = t["id"].as_i64().expect("id").to_string();
    let approved = w.json(&["task", "approve", &id, "--comment", "ok"]);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["reviewer"][1], "ok");
    let tasks = w.json(&["task", "list", "--project", "shop"]);
    assert_eq!(
        tasks[0]["id"].as_i64().map(|i| i.to_string()),
        Some(id.clone())
    );
    let shown = w.json(&["task", "show", &id]);
    assert_eq!(shown["branch"], "main");
    assert_eq!(shown["submitter"], "dev@example.com");
    // Approving twice is a state conflict.
    w.fails(5, &["task", "approve", &id]);

    // Environments.
    w.json(&["env", "create", "staging"]);
    let envs = w.json(&["env", "list"]);
    assert_eq!(envs.as_array().map(Vec::len), Some(2), "{envs}");
}

#[test]
fn not_found_and_usage_errors_have_their_exit_codes() {
    let (w, _) = Walle::init();
    let err = w.fails(4, &["task", "show", "999"]);
    assert!(err.contains("999"), "{err}");
    w.fails(4, &["server", "show", "nope"]);
    let err = w.fails(2, &["server", "create", "bad", "--host=-oProxyCommand=x"]);
    assert!(err.contains("host"), "{err}");
    w.fails(2, &["no-such-command"]);
    let file = w.scratch().join("bad.toml");
    std::fs::write(&file, "name = \"x\"\nbogus = 1\n").expect("write");
    w.fails(
        2,
        &["project", "create", "--from", file.to_str().expect("utf-8")],
    );
}

#[test]
fn secrets_are_read_from_the_environment_and_never_printed() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "web1", "--host", "10.0.0.5"]);
    let file = w.scratch().join("p.toml");
    std::fs::write(
        &file,
        "name = \"private\"\nservers = [\"web1\"]\n[repo]\nurl = \"https://git.example.com/p.git\"\n\
         [repo.credentials]\nusername = \"deploy\"\npassword_env = \"P_TOKEN\"\n\
         [deploy]\nwebroot = \"/srv/p/current\"\nreleases_dir = \"/srv/p/releases\"\n",
    )
    .expect("write");
    // A missing variable is a usage error that names it.
    let err = w.fails(
        2,
        &["project", "create", "--from", file.to_str().expect("utf-8")],
    );
    assert!(err.contains("P_TOKEN"), "{err}");
    let out = w
        .command(&["project", "create", "--from", file.to_str().expect("utf-8")])
        .env("P_TOKEN", "s3cr3t-token-value")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        vec!["project", "export", "private"],
        vec!["--json", "project", "show", "private"],
        vec!["project", "show", "private"],
        vec!["--json", "project", "list"],
    ] {
        let text = w.ok(&args);
        assert!(
            !text.contains("s3cr3t"),
            "{args:?} printed the secret:\n{text}"
        );
    }
    let exported = w.ok(&["project", "export", "private"]);
    assert!(exported.contains("username = \"deploy\""), "{exported}");
    // Updating from the export keeps the stored secret (no variable needed).
    let file2 = w.scratch().join("export.toml");
    std::fs::write(&file2, exported).expect("write");
    w.json(&[
        "project",
        "update",
        "private",
        "--from",
        file2.to_str().expect("utf-8"),
    ]);
}

#[test]
fn json_errors_are_documents_too() {
    let (w, _) = Walle::init();
    let out = w.run(&["--json", "server", "show", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error document");
    assert_eq!(v["exit_code"], 4);
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("nope")),
        "{v}"
    );
}

#[test]
fn project_versions_lists_the_repository() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "web1", "--host", "10.0.0.5"]);
    let repo = repo_with(w.scratch(), "v1");
    crate::git(&repo, &["tag", "v1.0"]);
    let file = w.scratch().join("p.toml");
    std::fs::write(
        &file,
        project_toml(
            "shop",
            &repo,
            std::path::Path::new("/srv/shop"),
            &["web1"],
            false,
        ),
    )
    .expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);
    let v = w.json(&["project", "versions", "shop"]);
    assert_eq!(v["branches"][0]["name"], "main", "{v}");
    assert_eq!(v["tags"][0]["name"], "v1.0", "{v}");
    let c = w.json(&["project", "versions", "shop", "--branch", "main"]);
    assert_eq!(c["commits"][0]["subject"], "v1", "{c}");
}

#[test]
fn projects_can_be_defined_with_options_alone() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "web1", "--host", "10.0.0.5"]);
    let err = w.fails(
        2,
        &[
            "project",
            "create",
            "shop",
            "--webroot",
            "/srv/shop/current",
        ],
    );
    assert!(err.contains("--repo"), "{err}");
    let p = w.json(&[
        "project",
        "create",
        "shop",
        "--repo",
        "https://git.example.com/shop.git",
        "--webroot",
        "/srv/shop/current",
        "--server",
        "web1",
    ]);
    assert_eq!(p["deploy"]["releases_dir"], "/srv/shop/releases", "{p}");
    assert_eq!(p["approval"]["required"], false);
    let u = w.json(&[
        "project",
        "update",
        "shop",
        "--keep",
        "9",
        "--separate-approver",
    ]);
    assert_eq!(u["deploy"]["keep"], 9, "{u}");
    assert_eq!(u["approval"]["required"], true);
    assert_eq!(u["approval"]["separate_approver"], true);
    assert_eq!(u["repo"]["url"], "https://git.example.com/shop.git");
    assert_eq!(u["servers"], serde_json::json!(["web1"]));
}

#[test]
fn spaces_are_separate_and_users_land_in_their_own() {
    let (w, _) = Walle::init();
    let s = w.json(&["space", "create", "bigdata"]);
    assert_eq!(s["name"], "bigdata");
    w.json(&[
        "--space",
        "bigdata",
        "user",
        "create",
        "bd@example.com",
        "--role",
        "OWNER",
    ]);
    // A user of one space works there without --space.
    w.json(&[
        "--as",
        "bd@example.com",
        "server",
        "create",
        "hadoop1",
        "--host",
        "10.0.0.7",
    ]);
    let mine = w.json(&["--as", "bd@example.com", "server", "list"]);
    assert_eq!(mine[0]["name"], "hadoop1", "{mine}");
    // The default space does not see it, and its owner cannot reach the default space.
    let default = w.json(&["server", "list"]);
    assert_eq!(default.as_array().map(Vec::len), Some(0), "{default}");
    w.fails(
        3,
        &[
            "--as",
            "bd@example.com",
            "--space",
            "default",
            "server",
            "list",
        ],
    );
    let spaces = w.json(&["--as", "bd@example.com", "space", "list"]);
    assert_eq!(spaces.as_array().map(Vec::len), Some(1), "{spaces}");
    assert_eq!(w.json(&["space", "list"]).as_array().map(Vec::len), Some(2));
}
