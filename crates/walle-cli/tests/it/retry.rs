//! A deploy that fails before the switch exits 1 and leaves the host untouched; after the cause is
//! fixed, `walle task retry` deploys the same task.

use crate::{Walle, project_toml, repo_with};

#[test]
fn a_failed_deploy_exits_1_and_retry_finishes_it() {
    let (w, _) = Walle::init();
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let flag = w.scratch().join("ready");
    let file = w.scratch().join("p.toml");
    let mut toml = project_toml("site", &repo, &www, &["here"], false);
    toml.push_str(&format!(
        "\n[hooks]\npre_release = [\"test -f {}\"]\n",
        flag.display()
    ));
    std::fs::write(&file, toml).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);

    let out = w.run(&["--json", "deploy", "site", "--branch", "main"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["hosts"][0]["state"], "failed_before_switch", "{v}");
    assert!(!www.join("current").exists(), "the host was not switched");
    let log = w.ok(&["task", "logs", "1"]);
    assert!(log.contains("pre_release"), "{log}");

    std::fs::write(&flag, "").expect("write flag");
    let v = w.json(&["task", "retry", "1"]);
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(
        std::fs::read_to_string(www.join("current/index.html")).expect("live"),
        "v1"
    );
    let shown = w.json(&["task", "show", "1"]);
    assert_eq!(shown["attempts"], 2, "{shown}");
}
