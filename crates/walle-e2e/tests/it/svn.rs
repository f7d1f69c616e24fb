//! An SVN project, fetched with credentials from svnserve.

use std::collections::BTreeSet;

use walle_core::model::{HostState, Step, TaskStatus};
use walle_e2e::{World, assert_live};
use walle_test_support::SvnFixture;

use crate::assert_outcome;

#[test]
fn svn_project_deploys_to_every_host() {
    let w = World::new("svn_project");
    let svn = SvnFixture::new("e2e-svn").commit(
        "trunk",
        &[("index.html", "svn v1\n"), ("lib/a.txt", "a\n")],
        "r1",
    );
    let repo = World::svn_repo(svn.svn_url(), svn.username(), svn.password());
    let project = w.create_project(&w.spec(repo));
    let views = w.views(&project);

    let (task, report) = w.ship(&project, "svn v1", World::branch("trunk"));
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    let r1 = report.release.clone();
    assert_eq!(
        report.commit.as_ref().and_then(|c| c.as_revision()),
        Some(svn.revision())
    );
    for i in 0..3 {
        assert_outcome(&w, &report, i, HostState::Switched, None, Some(&r1));
    }
    assert_live(&views, Some(&r1));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("svn v1\n"),
            "{}",
            v.name
        );
        assert_eq!(v.served("lib/a.txt").as_deref(), Some("a\n"), "{}", v.name);
        assert!(
            !v.path(&format!("{}/releases/{r1}/.svn", w.base_dir()))
                .exists()
        );
    }

    let svn = svn.commit("trunk", &[("index.html", "svn v2\n")], "r2");
    let (task, report) = w.ship(&project, "svn v2", World::branch("trunk"));
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    let r2 = report.release.clone();
    assert_eq!(
        report.commit.as_ref().and_then(|c| c.as_revision()),
        Some(svn.revision())
    );
    assert_live(&views, Some(&r2));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("svn v2\n"),
            "{}",
            v.name
        );
        assert_eq!(v.served("lib/a.txt").as_deref(), Some("a\n"), "{}", v.name);
        assert_eq!(
            v.releases(),
            BTreeSet::from([r1.to_string(), r2.to_string()])
        );
    }
    assert!(
        w.events.lines(task.id, Step::Upload).iter().any(|l| l
            == &format!("incremental: sending 1 of 2 files, hard-linking 1 unchanged from {r1}")),
        "{}",
        w.events.transcript(task.id)
    );
    // The password never reaches the console.
    assert!(
        w.events
            .all()
            .iter()
            .all(|e| !e.line.contains(svn.password())),
        "the SVN password leaked into the events"
    );
}
