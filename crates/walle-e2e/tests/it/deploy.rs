//! The happy path: a first deploy, an incremental second one, a rollback; hook variables.

use std::collections::BTreeSet;

use walle_core::model::{HostState, LedgerStatus, Step, TaskStatus};
use walle_core::ports::EventStore;
use walle_e2e::{World, assert_live};
use walle_test_support::GitFixture;

use crate::assert_outcome;

#[test]
fn deploy_incremental_redeploy_and_rollback() {
    let w = World::new("incremental_and_rollback");
    let repo = GitFixture::new("e2e-app").commit(
        "main",
        &[
            ("index.html", "v1\n"),
            ("lib/keep.txt", "unchanged\n"),
            ("gone.txt", "bye\n"),
            ("bin/run.sh", "#!/bin/sh\necho run\n"),
        ],
        "v1",
    );
    let c1 = repo.commit_id("main");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let views = w.views(&project);

    // First deploy: full transfer to all three hosts.
    let (t1, report) = w.ship(&project, "first", World::branch("main"));
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(t1.id)
    );
    let r1 = report.release.clone();
    assert_eq!(
        report.commit.as_ref().map(|c| c.as_str()),
        Some(c1.as_str())
    );
    assert_eq!(t1.status, TaskStatus::Succeeded);
    assert_eq!(t1.release.as_ref(), Some(&r1));
    assert_eq!(t1.commit.as_ref().map(|c| c.as_str()), Some(c1.as_str()));
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Switched, None, Some(&r1));
    }
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert_eq!(
            v.served("lib/keep.txt").as_deref(),
            Some("unchanged\n"),
            "{}",
            v.name
        );
        assert_eq!(v.releases(), BTreeSet::from([r1.to_string()]), "{}", v.name);
        assert!(!v.locked(), "lock left on {}", v.name);
        let ledger = v.ledger();
        assert_eq!(ledger.len(), 1, "{}: {ledger:?}", v.name);
        assert_eq!(ledger[0].release, r1);
        assert_eq!(ledger[0].status, LedgerStatus::Live);
        assert_eq!(ledger[0].previous, None);
        assert_eq!(ledger[0].commit.as_str(), c1);
        assert_eq!(ledger[0].task, t1.id);
    }

    // Second deploy: only the changed files travel, the rest are hard links to the first release.
    let repo = repo.delete("gone.txt").commit(
        "main",
        &[("index.html", "v2\n"), ("new.txt", "new\n")],
        "v2",
    );
    let c2 = repo.commit_id("main");
    let (t2, report) = w.ship(&project, "second", World::branch("main"));
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(t2.id)
    );
    let r2 = report.release.clone();
    assert_ne!(r1, r2);
    assert_eq!(t2.commit.as_ref().map(|c| c.as_str()), Some(c2.as_str()));
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Switched, Some(&r1), Some(&r2));
    }
    let upload = w.events.lines(t2.id, Step::Upload);
    let incremental =
        format!("incremental: sending 2 of 4 files, hard-linking 2 unchanged from {r1}");
    for (i, s) in w.servers.iter().enumerate() {
        let lines: Vec<String> = w
            .events
            .of_task(t2.id)
            .into_iter()
            .filter(|e| e.host == Some(s.id) && e.step == Step::Upload)
            .map(|e| e.line)
            .collect();
        assert!(
            lines.contains(&incremental),
            "{} did not seed incrementally: {lines:#?}",
            w.hosts()[i].name
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("full transfer")),
            "{}: {lines:#?}",
            w.hosts()[i].name
        );
    }
    assert!(!upload.is_empty());
    assert_live(&views, Some(&r2));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v2\n"),
            "{}",
            v.name
        );
        assert_eq!(v.served("new.txt").as_deref(), Some("new\n"), "{}", v.name);
        assert_eq!(v.served("gone.txt"), None, "{}", v.name);
        assert_eq!(
            v.served("lib/keep.txt").as_deref(),
            Some("unchanged\n"),
            "{}",
            v.name
        );
        // Unchanged files are hard links into the previous release; changed ones are new files,
        // and the previous release was not written through the links.
        assert_eq!(
            v.inode(r1.as_str(), "lib/keep.txt"),
            v.inode(r2.as_str(), "lib/keep.txt"),
            "lib/keep.txt is a hard link on {}",
            v.name
        );
        assert_eq!(
            v.inode(r1.as_str(), "bin/run.sh"),
            v.inode(r2.as_str(), "bin/run.sh"),
            "bin/run.sh is a hard link on {}",
            v.name
        );
        assert_ne!(
            v.inode(r1.as_str(), "index.html"),
            v.inode(r2.as_str(), "index.html"),
            "index.html was sent again on {}",
            v.name
        );
        assert_eq!(
            std::fs::read_to_string(v.release_file(r1.as_str(), "index.html")).unwrap(),
            "v1\n",
            "the first release is intact on {}",
            v.name
        );
        assert!(v.release_file(r1.as_str(), "gone.txt").exists());
        assert_eq!(
            v.releases(),
            BTreeSet::from([r1.to_string(), r2.to_string()]),
            "{}",
            v.name
        );
        let ledger = v.ledger();
        let tail: Vec<_> = ledger[1..]
            .iter()
            .map(|e| (e.release.clone(), e.status, e.previous.clone()))
            .collect();
        assert_eq!(
            tail,
            vec![
                (r2.clone(), LedgerStatus::Live, Some(r1.clone())),
                (r1.clone(), LedgerStatus::Superseded, None),
            ],
            "ledger on {}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
    }

    // Roll back to the first release: every host points at it again.
    let t3 = w.rollback_task(&project, &t2, &t1, &[r1.clone(), r2.clone()], Some(&r2));
    let report = w.deploy(&t3).expect("the engine runs the rollback");
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(t3.id)
    );
    assert_eq!(report.release, r1);
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Switched, Some(&r2), Some(&r1));
    }
    let t3 = w.task(t3.id);
    assert_eq!(t3.status, TaskStatus::Succeeded);
    assert_eq!(t3.release.as_ref(), Some(&r1));
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert_eq!(v.served("gone.txt").as_deref(), Some("bye\n"), "{}", v.name);
        assert_eq!(
            v.releases(),
            BTreeSet::from([r1.to_string(), r2.to_string()]),
            "{}",
            v.name
        );
        let ledger = v.ledger();
        let tail: Vec<_> = ledger[3..]
            .iter()
            .map(|e| (e.release.clone(), e.status, e.previous.clone(), e.task))
            .collect();
        assert_eq!(
            tail,
            vec![
                (r1.clone(), LedgerStatus::Live, Some(r2.clone()), t3.id),
                (r2.clone(), LedgerStatus::RolledBack, None, t3.id),
            ],
            "ledger on {}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
    }

    // Every event reached the store, numbered 1, 2, 3, ... per task.
    assert_eq!(w.events.store_errors(), Vec::<String>::new());
    for t in [&t1, &t2, &t3] {
        let stored = w.store.events_after(t.id, 0, 1_000_000).unwrap();
        let seqs: Vec<u64> = stored.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (1..=w.events.of_task(t.id).len() as u64).collect();
        assert_eq!(seqs, expected, "stored events of task {}", t.id);
    }
}

#[test]
fn hook_variables_and_shared_paths_across_releases() {
    let w = World::new("hooks_and_shared");
    let repo = GitFixture::new("e2e-vars").commit(
        "main",
        &[
            ("index.html", "v1\n"),
            ("static.txt", "static\n"),
            ("logs/README", "logs v1\n"),
        ],
        "v1",
    );
    let mut spec = w.spec(World::git_repo(repo.git_url()));
    spec.hooks.pre_release =
        vec![r#"printf %s "$BRANCH|$VERSION|$TASK_NAME" > hook-vars.txt"#.to_owned()];
    spec.shared.dirs = vec![walle_core::value::RelPath::new("logs").unwrap()];
    let project = w.create_project(&spec);
    let views = w.views(&project);
    // Hooks run in the release directory: `../../pwned` is /srv/e2e/<test>/pwned.
    let title = r#"it's "quoted" $(touch ../../pwned) `touch ../../pwned` $HOME \n ; | & done"#;

    let (task, r1) = w.ship_ok(&project, title, World::branch("main"));

    assert_eq!(task.spec.name.as_str(), title);
    for (i, v) in views.iter().enumerate() {
        assert_eq!(
            v.served("hook-vars.txt").as_deref(),
            Some(format!("main|{r1}|{title}").as_str()),
            "{}",
            v.name
        );
        assert!(
            !w.host_path(i, "pwned").exists(),
            "the task name was evaluated by a shell on {}",
            v.name
        );
        // The shared directory was seeded from the first release.
        assert_eq!(v.served("logs/README").as_deref(), Some("logs v1\n"));
        std::fs::write(w.host_path(i, "releases/shared/logs/app.log"), "runtime\n").unwrap();
    }

    // A second release: its hook writes its own file, the first release's stays as it was, and
    // the shared directory keeps what the application wrote (a deploy never writes into it).
    let _repo = repo.commit(
        "main",
        &[("index.html", "v2\n"), ("logs/README", "logs v2\n")],
        "v2",
    );
    let (_, r2) = w.ship_ok(
        &project,
        "second $(touch ../../pwned)",
        World::branch("main"),
    );
    for (i, v) in views.iter().enumerate() {
        assert_eq!(
            v.served("hook-vars.txt").as_deref(),
            Some(format!("main|{r2}|second $(touch ../../pwned)").as_str()),
            "{}",
            v.name
        );
        assert_eq!(
            std::fs::read_to_string(v.release_file(r1.as_str(), "hook-vars.txt")).unwrap(),
            format!("main|{r1}|{title}"),
            "the first release's hook output was overwritten on {}",
            v.name
        );
        assert_eq!(
            v.inode(r1.as_str(), "static.txt"),
            v.inode(r2.as_str(), "static.txt"),
            "{}",
            v.name
        );
        assert_eq!(
            v.served("logs/app.log").as_deref(),
            Some("runtime\n"),
            "{}",
            v.name
        );
        assert_eq!(
            v.served("logs/README").as_deref(),
            Some("logs v1\n"),
            "{}",
            v.name
        );
        assert!(
            std::fs::symlink_metadata(v.path(&format!("{}/releases/{r2}/logs", w.base_dir())))
                .unwrap()
                .file_type()
                .is_symlink(),
            "logs is linked to the shared directory on {}",
            v.name
        );
        assert!(!w.host_path(i, "pwned").exists(), "{}", v.name);
    }
}
