//! Cancelling a deploy while the release is being uploaded.

use std::time::Duration;

use walle_core::engine::{self, CancelFlag};
use walle_core::model::{HostState, LockKey, Step, TaskStatus};
use walle_core::ports::{Clock, LeaseStore};
use walle_e2e::{World, assert_live, random_bytes};
use walle_test_support::GitFixture;

const BIG_FILES: usize = 4;
const BIG_FILE_SIZE: usize = 8 << 20;

#[test]
fn cancel_during_upload_leaves_every_host_on_its_previous_release() {
    let w = World::new("cancel_upload");
    let repo = GitFixture::new("e2e-cancel").commit("main", &[("index.html", "v1\n")], "v1");
    let project = w.create_project(&w.spec(World::git_repo(repo.git_url())));
    let (_, r1) = w.ship_ok(&project, "v1", World::branch("main"));

    // 32 MB of incompressible files.
    let big: Vec<(String, Vec<u8>)> = (0..BIG_FILES)
        .map(|i| (format!("blobs/blob-{i}.bin"), random_bytes(BIG_FILE_SIZE)))
        .collect();
    let mut files = big.clone();
    files.push(("index.html".to_owned(), b"v2\n".to_vec()));
    let _repo = repo.commit_files("main", files, "big");

    let task = w.submit(&project, "big", World::branch("main"));
    let cancel = CancelFlag::default();
    let (report, first_upload) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let seen = w.events.wait_for(Duration::from_secs(60), |e| {
                e.task == task.id && matches!(e.step, Step::Upload | Step::Finish)
            });
            if seen.as_ref().is_some_and(|e| e.step == Step::Upload) {
                cancel.cancel();
            }
            seen
        });
        let report = engine::deploy(&w.ports(), &w.request(&task), &cancel);
        (report, watcher.join().unwrap())
    });
    let report = report.expect("the engine runs the deploy");
    let transcript = w.events.transcript(task.id);
    assert!(
        first_upload.is_some_and(|e| e.step == Step::Upload),
        "no upload event before the end:\n{transcript}"
    );

    assert_eq!(report.status, TaskStatus::Cancelled, "{transcript}");
    assert_eq!(w.task(task.id).status, TaskStatus::Cancelled);
    for o in &report.hosts {
        assert!(
            matches!(
                o.state,
                HostState::FailedBeforeSwitch | HostState::Skipped | HostState::Prepared
            ),
            "{o:?}"
        );
        assert_eq!(o.live.as_ref(), Some(&r1), "{o:?}");
    }
    assert!(
        report
            .hosts
            .iter()
            .any(|o| o.error.as_deref() == Some("cancelled during upload")),
        "no upload was interrupted: {:#?}\n{transcript}",
        report.hosts
    );
    assert!(
        !transcript.contains("verified"),
        "an upload completed before the cancel:\n{transcript}"
    );
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
    let key = LockKey::project(project.id);
    assert_eq!(w.store.current_lease(&key, w.clock.now()).unwrap(), None);

    // Nothing is left locked: the next deploy goes through.
    let (_, r3) = w.ship_ok(&project, "big again", World::branch("main"));
    assert_live(&views, Some(&r3));
    for v in &views {
        assert_eq!(
            v.served("index.html").as_deref(),
            Some("v2\n"),
            "{}",
            v.name
        );
        for (path, data) in &big {
            let got = std::fs::read(v.release_file(r3.as_str(), path)).unwrap();
            assert!(got == *data, "{path} differs on {}", v.name);
        }
    }
}
