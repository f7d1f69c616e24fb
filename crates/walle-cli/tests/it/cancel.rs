//! Cancelling a running deploy, from another process (`walle task cancel`) or with Ctrl-C:
//! the task ends cancelled, exit code 1, and no host switched.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::{Walle, project_toml, repo_with};

/// A project whose build takes a few seconds, and a deploy of it running in the background.
fn slow_deploy(w: &Walle) -> (Child, std::path::PathBuf) {
    w.json(&["server", "create", "here", "--host", "local"]);
    let repo = repo_with(w.scratch(), "v1");
    let www = w.scratch().join("www");
    let file = w.scratch().join("p.toml");
    let mut toml = project_toml("slow", &repo, &www, &["here"], false);
    toml.push_str("\n[hooks]\npost_deploy = [\"sleep 5\"]\n");
    std::fs::write(&file, toml).expect("write");
    w.json(&["project", "create", "--from", file.to_str().expect("utf-8")]);
    let child = w
        .command(&["--json", "deploy", "slow", "--branch", "main"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn walle deploy");
    let started = Instant::now();
    loop {
        let out = w.run(&["--json", "task", "show", "1"]);
        if out.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            if v["status"] == "deploying" {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the deploy never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, www)
}

fn finished(w: &Walle, child: Child, www: &std::path::Path) {
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(v["status"], "cancelled", "{v}");
    let shown = w.json(&["task", "show", "1"]);
    assert_eq!(shown["status"], "cancelled");
    assert!(!www.join("current").exists(), "no host switched");
}

#[test]
fn task_cancel_from_another_process_stops_the_deploy() {
    let (w, _) = Walle::init();
    let (child, www) = slow_deploy(&w);
    let follow = w
        .command(&["task", "logs", "1", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn walle task logs --follow");
    let v = w.json(&["task", "cancel", "1"]);
    assert_eq!(v["status"], "deploying");
    finished(&w, child, &www);
    // The follower saw the deploy start and end, and stopped by itself.
    let out = follow.wait_with_output().expect("follow ends");
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("fetch") && log.contains("cancel"), "{log}");
}

#[test]
fn ctrl_c_cancels_the_deploy_cleanly() {
    let (w, _) = Walle::init();
    let (child, www) = slow_deploy(&w);
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    finished(&w, child, &www);
}

#[test]
fn a_second_deploy_of_a_busy_project_is_locked_out() {
    let (w, _) = Walle::init();
    let (child, www) = slow_deploy(&w);
    let err = w.fails(5, &["deploy", "slow", "--branch", "main"]);
    assert!(err.contains("held by"), "{err}");
    w.json(&["task", "cancel", "1"]);
    finished(&w, child, &www);
    // The locked-out task was created but never started; it can be deployed now.
    let t = w.json(&["task", "show", "2"]);
    assert_eq!(t["status"], "approved", "{t}");
}

#[test]
fn a_killed_deploy_is_unlocked_and_recovered() {
    let (w, _) = Walle::init();
    let (mut child, www) = slow_deploy(&w);
    child.kill().expect("kill -9 the deploying process");
    let _ = child.wait();
    // Its lease is still held: a new deploy is locked out until a MASTER breaks the lock.
    w.fails(5, &["deploy", "slow", "--branch", "main"]);
    let v = w.json(&["project", "unlock", "slow"]);
    assert_eq!(v["was_locked"], true, "{v}");
    // Nobody runs task 1 any more and its lease is gone: the next command, whatever it is,
    // records it as failed, so no task stays stuck deploying.
    let t = w.json(&["task", "show", "1"]);
    assert_eq!(t["status"], "failed", "{t}");
    assert!(!www.join("current").exists());
    let again = w.json(&["project", "unlock", "slow"]);
    assert_eq!(again["was_locked"], false);
}
