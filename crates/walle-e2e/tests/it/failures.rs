//! Failures on one host: before the barrier nobody switches, after it everybody switches back,
//! and the failure policy decides how many failed hosts a deploy tolerates.

use std::time::Duration;

use walle_core::model::{
    FailurePolicy, HealthCheck, HealthProbe, HostState, LedgerStatus, Project, ReleaseStatus, Step,
    TaskStatus,
};
use walle_core::ports::{ReleaseStore, TaskStore};
use walle_core::value::ReleaseId;
use walle_e2e::{World, assert_live};
use walle_test_support::GitFixture;

use crate::{assert_outcome, outcome};

/// A project with `v1` live on every host; returns the repository for the next commits.
fn with_v1(w: &World, name: &str) -> (GitFixture, Project, ReleaseId) {
    let repo = GitFixture::new(name).commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));
    assert_live(&w.views(&project), Some(&r1));
    (repo, project, r1)
}

#[test]
fn pre_release_failure_on_one_host_switches_nobody() {
    let w = World::new("pre_release_failure");
    let (repo, project, r1) = with_v1(&w, "e2e-pre");
    let hook = r#"test "$(hostname)" != wl2"#;
    let project = w.update_project(&project, |s| s.hooks.pre_release = vec![hook.to_owned()]);
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    let (task, report) = w.ship(&project, "v2", World::branch("main"));

    assert_eq!(report.status, TaskStatus::Failed);
    assert_eq!(task.status, TaskStatus::Failed);
    let r2 = report.release.clone();
    let error = report.error.clone().unwrap_or_default();
    assert!(
        error.contains("wl2") && error.contains(hook),
        "the deploy's error names the host and the command: {error}"
    );
    assert!(error.contains("no host was switched"), "{error}");
    let wl2 = outcome(&w, &report, 1);
    assert_eq!(wl2.state, HostState::FailedBeforeSwitch);
    let wl2_error = wl2.error.clone().unwrap_or_default();
    assert!(
        wl2_error.contains("wl2") && wl2_error.contains(hook),
        "{wl2_error}"
    );
    for i in [0, 2] {
        let o = outcome(&w, &report, i);
        assert!(
            !matches!(o.state, HostState::Switched | HostState::Reverted),
            "{} was switched: {o:?}",
            w.hosts()[i].name
        );
        assert_eq!(o.live.as_ref(), Some(&r1));
    }
    let views = w.views(&project);
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
        let last = v.ledger().pop().unwrap();
        assert_eq!(
            (last.release, last.status),
            (r2.clone(), LedgerStatus::Failed),
            "{}",
            v.name
        );
    }
    assert_eq!(w.store.release(&r2).unwrap().status, ReleaseStatus::Failed);
}

#[test]
fn post_release_failure_switches_every_host_back() {
    let w = World::new("post_release_failure");
    let (repo, project, r1) = with_v1(&w, "e2e-post");
    let hook = r#"test "$(hostname)" != wl3"#;
    let project = w.update_project(&project, |s| s.hooks.post_release = vec![hook.to_owned()]);
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    let (task, report) = w.ship(&project, "v2", World::branch("main"));

    assert_eq!(report.status, TaskStatus::Failed);
    assert_eq!(task.status, TaskStatus::Failed);
    let r2 = report.release.clone();
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Reverted, Some(&r1), Some(&r1));
    }
    let error = report.error.clone().unwrap_or_default();
    assert!(
        error.contains("wl3") && error.contains(hook),
        "the deploy's error names the host and the command: {error}"
    );
    let wl3_error = outcome(&w, &report, 2).error.clone().unwrap_or_default();
    assert!(wl3_error.contains(hook), "{wl3_error}");
    let views = w.views(&project);
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
        let last = v.ledger().pop().unwrap();
        assert_eq!(
            (last.release, last.status),
            (r2.clone(), LedgerStatus::Failed),
            "{}",
            v.name
        );
    }
    let reverts = w.events.lines(task.id, Step::Revert);
    assert_eq!(
        reverts
            .iter()
            .filter(|l| l.as_str() == format!("switched back to {r1}"))
            .count(),
        3,
        "{reverts:#?}"
    );
}

#[test]
fn failed_health_check_switches_every_host_back() {
    let w = World::new("health_check_failure");
    let (repo, project, r1) = with_v1(&w, "e2e-health");
    let probe = r#"test "$(hostname)" != wl1 && test -f index.html"#;
    let project = w.update_project(&project, |s| {
        s.health_check = Some(HealthCheck {
            probe: HealthProbe::Command {
                line: probe.to_owned(),
            },
            retries: 2,
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
        });
    });
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    let (task, report) = w.ship(&project, "v2", World::branch("main"));

    assert_eq!(report.status, TaskStatus::Failed);
    assert_eq!(task.status, TaskStatus::Failed);
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Reverted, Some(&r1), Some(&r1));
    }
    let wl1_error = outcome(&w, &report, 0).error.clone().unwrap_or_default();
    assert!(
        wl1_error.contains("health check failed 2 time(s)") && wl1_error.contains("wl1"),
        "{wl1_error}"
    );
    let attempts = |i: usize| {
        w.events
            .of_task(task.id)
            .into_iter()
            .filter(|e| {
                e.host == Some(w.servers[i].id)
                    && e.step == Step::HealthCheck
                    && e.stream == walle_core::model::EventStream::Command
            })
            .count()
    };
    assert_eq!(attempts(0), 2, "{}", w.events.transcript(task.id));
    assert_eq!(attempts(1), 1);
    assert_eq!(attempts(2), 1);
    let views = w.views(&project);
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v1\n"),
            "{}",
            v.name
        );
        assert!(!v.locked(), "lock left on {}", v.name);
    }
}

#[test]
fn max_fail_count_tolerates_one_failed_host_but_not_two() {
    let w = World::new("max_fail_count");
    let (repo, project, r1) = with_v1(&w, "e2e-maxfail");
    let project = w.update_project(&project, |s| {
        s.strategy.failure = FailurePolicy::MaxFailCount(1);
        s.hooks.pre_release = vec![r#"test "$(hostname)" != wl2"#.to_owned()];
    });
    let repo = repo.commit("main", &[("index.html", "v2\n")], "v2");

    // One host fails: the other two switch and the task succeeds.
    let (task, report) = w.ship(&project, "v2", World::branch("main"));
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    assert_eq!(task.status, TaskStatus::Succeeded);
    let r2 = report.release.clone();
    assert_outcome(&w, &report, 0, HostState::Switched, Some(&r1), Some(&r2));
    assert_outcome(
        &w,
        &report,
        1,
        HostState::FailedBeforeSwitch,
        Some(&r1),
        Some(&r1),
    );
    assert_outcome(&w, &report, 2, HostState::Switched, Some(&r1), Some(&r2));
    assert!(
        outcome(&w, &report, 1)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("wl2")),
        "{:?}",
        outcome(&w, &report, 1)
    );
    let stored = w.store.host_outcomes(task.id).unwrap();
    assert_eq!(stored, report.hosts, "the host outcomes are stored");
    let views = w.views(&project);
    assert_eq!(views[0].live(), Some(r2.to_string()));
    assert_eq!(views[1].live(), Some(r1.to_string()));
    assert_eq!(views[2].live(), Some(r2.to_string()));
    assert_eq!(views[0].served("index.html").as_deref(), Some("v2\n"));
    assert_eq!(views[1].served("index.html").as_deref(), Some("v1\n"));
    assert_eq!(views[2].served("index.html").as_deref(), Some("v2\n"));

    // Two hosts fail: more than tolerated, nobody switches.
    let project = w.update_project(&project, |s| {
        s.hooks.pre_release = vec![r#"test "$(hostname)" = wl1"#.to_owned()];
    });
    let _repo = repo.commit("main", &[("index.html", "v3\n")], "v3");
    let (task, report) = w.ship(&project, "v3", World::branch("main"));
    assert_eq!(report.status, TaskStatus::Failed);
    assert_eq!(task.status, TaskStatus::Failed);
    for i in [1, 2] {
        assert_eq!(
            outcome(&w, &report, i).state,
            HostState::FailedBeforeSwitch,
            "{}",
            w.hosts()[i].name
        );
    }
    assert!(
        !matches!(
            outcome(&w, &report, 0).state,
            HostState::Switched | HostState::Reverted
        ),
        "{:?}",
        outcome(&w, &report, 0)
    );
    assert_eq!(views[0].live(), Some(r2.to_string()));
    assert_eq!(views[1].live(), Some(r1.to_string()));
    assert_eq!(views[2].live(), Some(r2.to_string()));
    for v in &views {
        assert!(!v.locked(), "lock left on {}", v.name);
    }
}
