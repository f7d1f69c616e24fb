//! Cleanup of old releases: keep the newest ones, never the live one nor the rollback target.

use std::collections::BTreeSet;

use walle_core::model::{Task, TaskStatus};
use walle_core::value::ReleaseId;
use walle_e2e::{View, World, assert_live};
use walle_test_support::GitFixture;

fn set(ids: &[&ReleaseId]) -> BTreeSet<String> {
    ids.iter().map(|r| r.to_string()).collect()
}

/// The manifests kept in `.walle/manifests` of a host.
fn manifests(v: &View, base: &str) -> BTreeSet<String> {
    std::fs::read_dir(v.path(&format!("{base}/releases/.walle/manifests")))
        .expect("the manifests directory exists")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn manifest_names(ids: &[&ReleaseId]) -> BTreeSet<String> {
    ids.iter()
        .flat_map(|r| [format!("{r}.manifest"), format!("{r}.sha256")])
        .collect()
}

#[test]
fn cleanup_keeps_the_newest_releases_the_live_one_and_the_rollback_target() {
    let w = World::new("cleanup_keep_two");
    let mut repo = GitFixture::new("e2e-cleanup");
    let mut spec = w.spec(World::git_repo(repo.git_url()));
    spec.keep_releases = 2;
    let project = w.create_project(&spec);
    let views = w.views(&project);
    let base = w.base_dir();

    let mut deployed: Vec<(Task, ReleaseId)> = Vec::new();
    for n in 1..=4 {
        let body = format!("v{n}\n");
        repo = repo.commit("main", &[("index.html", body.as_str())], &format!("v{n}"));
        let (task, release) = w.ship_ok(&project, &format!("v{n}"), World::branch("main"));
        assert_live(&views, Some(&release));
        deployed.push((task, release));
        let newest: Vec<&ReleaseId> = deployed.iter().rev().take(2).map(|(_, r)| r).collect();
        for v in &views {
            assert_eq!(v.served("index.html").as_deref(), Some(body.as_str()));
            assert_eq!(v.releases(), set(&newest), "after v{n} on {}", v.name);
            assert_eq!(
                manifests(v, &base),
                manifest_names(&newest),
                "after v{n} on {}",
                v.name
            );
        }
    }
    let (t3, r3) = deployed[2].clone();
    let (t4, r4) = deployed[3].clone();

    // Roll back to v3: nothing is removed (v4 is what a rollback would return to now).
    let back = w.rollback_task(&project, &t4, &t3, &[r3.clone(), r4.clone()], Some(&r4));
    let report = w.deploy(&back).expect("the engine runs the rollback");
    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(back.id)
    );
    assert_live(&views, Some(&r3));
    for v in &views {
        assert_eq!(v.served("index.html").as_deref(), Some("v3\n"));
        assert_eq!(
            v.releases(),
            set(&[&r3, &r4]),
            "after the rollback on {}",
            v.name
        );
    }

    // Deploy v5: v4 is among the newest two, and v3 (live until now: the rollback target) stays.
    let _repo = repo.commit("main", &[("index.html", "v5\n")], "v5");
    let (_, r5) = w.ship_ok(&project, "v5", World::branch("main"));
    assert_live(&views, Some(&r5));
    for v in &views {
        assert_eq!(v.served("index.html").as_deref(), Some("v5\n"));
        assert_eq!(
            v.releases(),
            set(&[&r3, &r4, &r5]),
            "after v5 on {}: the live release and the rollback target are kept",
            v.name
        );
        assert_eq!(
            std::fs::read_to_string(v.release_file(r3.as_str(), "index.html")).unwrap(),
            "v3\n"
        );
    }
}
