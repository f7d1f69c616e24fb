//! `walle check`: real checks on the project's hosts, exit 1 when one fails.

use crate::{Walle, project_toml, repo_with};

#[test]
fn check_passes_for_a_good_project_and_names_a_missing_hook_tool() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let file = w.scratch().join("p.toml");
    let mut toml = project_toml("site", &repo, &www, &["here"], false);
    std::fs::write(&file, &toml).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);

    let v = w.json(&["check", "site"]);
    assert_eq!(v["ok"], true, "{v}");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["check"].as_str())
        .collect();
    for expected in [
        "repository reachable",
        "login and host key",
        "releases directory writable",
        "webroot usable",
    ] {
        assert!(names.contains(&expected), "{expected} missing in {names:?}");
    }

    toml.push_str("\n[hooks]\npost_release = [\"walle-no-such-tool --reload\"]\n");
    std::fs::write(&file, &toml).expect("write");
    w.json(&[
        "project",
        "update",
        "site",
        "--from",
        file.to_str().expect("utf-8"),
    ]);
    let out = w.run(&["check", "site"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("walle-no-such-tool"),
        "{text}"
    );

    // An unreachable repository fails too.
    let bad = toml.replace(
        &format!("file://{}", repo.display()),
        "file:///nonexistent/repo.git",
    );
    std::fs::write(&file, bad).expect("write");
    w.json(&[
        "project",
        "update",
        "site",
        "--from",
        file.to_str().expect("utf-8"),
    ]);
    let v: serde_json::Value =
        serde_json::from_slice(&w.run(&["--json", "check", "site"]).stdout).expect("json");
    let repo_check = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "repository reachable")
        .expect("repo check");
    assert_eq!(repo_check["ok"], false, "{v}");
}
