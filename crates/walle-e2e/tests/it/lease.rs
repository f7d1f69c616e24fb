//! The project lease: a second deploy of the same project is refused while another holds it.

use std::collections::BTreeSet;
use std::time::Duration;

use walle_core::engine::EngineError;
use walle_core::model::{LeaseToken, LockKey, TaskStatus};
use walle_core::ports::{Acquire, Clock, LeaseStore, StoreError};
use walle_e2e::{World, assert_live};
use walle_test_support::GitFixture;

#[test]
fn held_lease_refuses_a_second_deploy() {
    let w = World::new("lease_held");
    let repo = GitFixture::new("e2e-lease").commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    let key = LockKey::project(project.id);
    let other = LeaseToken::new("another-deploy");
    let holder = "task 999 (someone else)";
    let taken = w
        .store
        .acquire_lease(&key, &other, holder, w.clock.now(), Duration::from_secs(60))
        .unwrap();
    assert!(matches!(taken, Acquire::Acquired(_)), "{taken:?}");

    let task = w.submit(&project, "v2", World::branch("main"));
    let err = w
        .deploy(&task)
        .expect_err("the lease is held by another deploy");

    match &err {
        EngineError::Store(StoreError::Locked { holder: h, .. }) => assert_eq!(h, holder),
        other => panic!("expected a lease conflict, got {other:?}"),
    }
    assert!(err.to_string().contains(holder), "{err}");
    assert_eq!(w.task(task.id).status, TaskStatus::Approved);
    assert!(w.events.of_task(task.id).is_empty());
    let views = w.views(&project);
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert_eq!(v.releases(), BTreeSet::from([r1.to_string()]), "{}", v.name);
        assert!(!v.locked(), "lock left on {}", v.name);
    }
    // The refused deploy left the other holder's lease alone.
    let current = w.store.current_lease(&key, w.clock.now()).unwrap();
    assert_eq!(current.map(|l| l.token), Some(other.clone()));

    // Once the other deploy lets go, the task deploys.
    assert!(w.store.release_lease(&key, &other).unwrap());
    let report = w.deploy(&task).expect("the lease is free");
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    assert_live(&views, Some(&report.release));
    assert_eq!(views[0].served("index.html").as_deref(), Some("v2\n"));
    assert_eq!(w.store.current_lease(&key, w.clock.now()).unwrap(), None);
}

/// Target-side locks left by other deploys: an empty one (being written right now by another Walle
/// instance) and a fresh one refuse the host, so nobody switches; an old one is taken over.
#[test]
fn host_locks_of_other_deploys() {
    use walle_core::layout::{META_DIR, TargetLock};
    use walle_core::{TaskId, Timestamp};

    let w = World::new("host_locks");
    let repo = GitFixture::new("e2e-host-locks").commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");
    let views = w.views(&project);
    let lock = views[1].path(&format!("{}/{META_DIR}/lock", project.spec.releases_dir));
    let other = |since: Timestamp| {
        TargetLock {
            deploy: "d-1".into(),
            task: TaskId(999),
            holder: "someone".into(),
            host: "other-walle".into(),
            since,
        }
        .render()
    };
    let refused = |content: &str, expect: &str| {
        std::fs::write(&lock, content).unwrap();
        let task = w.submit(&project, "v2", World::branch("main"));
        let report = w.deploy(&task).expect("the deploy runs");
        assert_eq!(
            report.status,
            TaskStatus::Failed,
            "{}",
            w.events.transcript(task.id)
        );
        let error = report.error.unwrap_or_default();
        assert!(error.contains(expect), "{error}");
        assert_live(&views, Some(&r1));
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap(),
            content,
            "the foreign lock is left alone"
        );
        assert!(
            !views[0].locked() && !views[2].locked(),
            "our own locks are released"
        );
    };
    refused("", "being locked by another deploy right now");
    refused(
        &other(w.clock.now()),
        "locked by task 999 (someone) on other-walle",
    );

    let old = Timestamp::from_unix_millis(w.clock.now().unix_millis() - 10 * 60 * 1000);
    std::fs::write(&lock, other(old)).unwrap();
    let task = w.submit(&project, "v2", World::branch("main"));
    let report = w.deploy(&task).expect("the deploy runs");
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{}",
        w.events.transcript(task.id)
    );
    assert_live(&views, Some(&report.release));
    assert_eq!(views[1].served("index.html").as_deref(), Some("v2\n"));
    assert!(
        views.iter().all(|v| !v.locked()),
        "the stale lock was taken over and released"
    );
}
