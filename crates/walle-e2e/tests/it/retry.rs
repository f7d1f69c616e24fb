//! Retrying only the hosts that failed.

use walle_core::engine::{self, CancelFlag, DeployRequest};
use walle_core::model::{FailurePolicy, HostState, TaskStatus};
use walle_core::ports::TaskStore;
use walle_e2e::{World, assert_live};
use walle_test_support::GitFixture;

use crate::{assert_outcome, outcome};

#[test]
fn retry_deploys_only_the_failed_host() {
    let w = World::new("retry_failed_hosts");
    let repo = GitFixture::new("e2e-retry").commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));

    let marker = format!("{}/fail-here", w.base_dir());
    let project = w.update_project(&project, |s| {
        s.strategy.failure = FailurePolicy::Continue;
        s.hooks.pre_release = vec![format!("test ! -e {marker}")];
    });
    let marker_on_wl3 = w.host_path(2, "fail-here");
    std::fs::write(&marker_on_wl3, "").unwrap();
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    // wl3 fails; with `Continue` the other two go on and the task counts as succeeded.
    let (task, report) = w.ship(&project, "v2", World::branch("main"));
    let r2 = report.release.clone();
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_outcome(&w, &report, 0, HostState::Switched, Some(&r1), Some(&r2));
    assert_outcome(&w, &report, 1, HostState::Switched, Some(&r1), Some(&r2));
    assert_outcome(
        &w,
        &report,
        2,
        HostState::FailedBeforeSwitch,
        Some(&r1),
        Some(&r1),
    );
    let views = w.views(&project);
    assert_eq!(views[0].live(), Some(r2.to_string()));
    assert_eq!(views[1].live(), Some(r2.to_string()));
    assert_eq!(views[2].live(), Some(r1.to_string()));

    // The cause is gone: retrying the failed hosts deploys wl3 only, with the same release.
    std::fs::remove_file(&marker_on_wl3).unwrap();
    let req = DeployRequest {
        failed_hosts_only: true,
        ..w.request(&task)
    };
    let retry = engine::deploy(&w.ports(), &req, &CancelFlag::default())
        .expect("the engine retries the failed hosts");
    assert_eq!(
        retry.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        retry.error,
        w.events.transcript(task.id)
    );
    assert_eq!(
        retry.hosts.len(),
        1,
        "only wl3 is retried: {:#?}",
        retry.hosts
    );
    assert_eq!(outcome(&w, &retry, 2).state, HostState::Switched);
    assert_eq!(retry.release, r2, "the retry ships the task's release");
    assert_live(&views, Some(&r2));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v2\n"),
            "{}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
    }
    let task = w.task(task.id);
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(task.release.as_ref(), Some(&r2));
    let stored = w.store.host_outcomes(task.id).unwrap();
    assert_eq!(stored.len(), 3, "{stored:#?}");
    assert!(
        stored.iter().all(|o| o.state == HostState::Switched),
        "{stored:#?}"
    );
}
