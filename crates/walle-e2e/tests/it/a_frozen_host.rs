//! A frozen host (sshd stopped: TCP connects, no SSH banner) fails on schedule, before the switch.

use std::time::{Duration, Instant};

use walle_core::model::{FailurePolicy, HostState, TaskStatus};
use walle_e2e::{World, assert_live};
use walle_test_support::GitFixture;

use crate::{assert_outcome, outcome};

/// The longest a deploy with one frozen host may take with a 2 s connect timeout.
const BOUND: Duration = Duration::from_secs(20);

#[test]
fn frozen_host_fails_before_the_switch_within_the_connect_timeout() {
    let w = World::with_exclusive_host("frozen_host", 2);
    let repo = GitFixture::new("e2e-frozen").commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));
    let project = w.update_project(&project, |s| {
        s.strategy.connect_timeout = Duration::from_secs(2);
        s.strategy.command_timeout = Duration::from_secs(10);
        s.strategy.silence_timeout = Duration::from_secs(10);
    });
    let _repo = repo.commit("main", &[("index.html", "v2\n")], "v2");
    let views = w.views(&project);

    let frozen = w.exclusive().freeze();

    // Abort on any failure: nobody switches.
    let started = Instant::now();
    let (task, report) = w.ship(&project, "v2 abort", World::branch("main"));
    let took = started.elapsed();
    assert!(took < BOUND, "the deploy took {took:?}");
    assert_eq!(
        report.status,
        TaskStatus::Failed,
        "{}",
        w.events.transcript(task.id)
    );
    assert_eq!(task.status, TaskStatus::Failed);
    let wl3 = outcome(&w, &report, 2);
    assert_eq!(wl3.state, HostState::FailedBeforeSwitch);
    assert_eq!(wl3.previous, None, "wl3 was never reached");
    let wl3_error = wl3.error.clone().unwrap_or_default();
    assert!(wl3_error.contains("timed out"), "{wl3_error}");
    for i in [0, 1] {
        let o = outcome(&w, &report, i);
        assert!(
            !matches!(o.state, HostState::Switched | HostState::Reverted),
            "{o:?}"
        );
    }
    assert_live(&views, Some(&r1));
    for v in &views[..2] {
        assert!(!v.locked(), "lock left on {}", v.name);
    }

    // Tolerate one failed host: wl1 and wl2 switch, wl3 stays on v1.
    let project = w.update_project(&project, |s| {
        s.strategy.failure = FailurePolicy::MaxFailCount(1);
    });
    let started = Instant::now();
    let (task, report) = w.ship(&project, "v2 tolerate", World::branch("main"));
    let took = started.elapsed();
    assert!(took < BOUND, "the deploy took {took:?}");
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    let r3 = report.release.clone();
    assert_outcome(&w, &report, 0, HostState::Switched, Some(&r1), Some(&r3));
    assert_outcome(&w, &report, 1, HostState::Switched, Some(&r1), Some(&r3));
    assert_eq!(outcome(&w, &report, 2).state, HostState::FailedBeforeSwitch);
    assert_eq!(views[0].live(), Some(r3.to_string()));
    assert_eq!(views[1].live(), Some(r3.to_string()));
    assert_eq!(views[2].live(), Some(r1.to_string()));
    assert_eq!(views[0].served("index.html").as_deref(), Some("v2\n"));
    assert_eq!(views[2].served("index.html").as_deref(), Some("v1\n"));

    frozen.undo().unwrap();
}
