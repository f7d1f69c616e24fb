//! `--dry-run` prints the plan and changes nothing.

use crate::{Walle, project_toml, repo_with};

#[test]
fn dry_run_prints_the_plan_and_creates_nothing() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let file = w.scratch().join("p.toml");
    std::fs::write(&file, project_toml("site", &repo, &www, &["here"], false)).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);

    let out = w.ok(&["deploy", "site", "--branch", "main", "--dry-run"]);
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("head of branch main"), "{out}");
    assert!(out.contains(&format!("{}/current", www.display())), "{out}");
    assert!(out.contains("barrier"), "{out}");
    assert!(!www.exists(), "a dry run touches no host");
    let tasks = w.json(&["task", "list"]);
    assert_eq!(tasks.as_array().map(Vec::len), Some(0), "{tasks}");

    let v = w.json(&["deploy", "site", "--branch", "main", "--dry-run"]);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["hosts"], serde_json::json!(["here"]));

    // An existing task too.
    let t = w.json(&["task", "create", "site", "--branch", "main"]);
    let id = t["id"].as_i64().expect("id").to_string();
    let out = w.ok(&["task", "deploy", &id, "--dry-run"]);
    assert!(out.contains(&format!("dry run of task {id}")), "{out}");
    let shown = w.json(&["task", "show", &id]);
    assert_eq!(shown["status"], "approved", "unchanged");
}
