//! A deploy to the deploy host itself over the local transport.

use walle_core::model::{HostState, LedgerStatus, ServerSpec, TaskStatus};
use walle_core::ports::ServerStore;
use walle_core::value::{HostName, Port, SshUser};
use walle_e2e::{View, World, abs, assert_live, name_of};
use walle_test_support::GitFixture;

#[test]
fn local_transport_deploys_to_the_deploy_host() {
    let w = World::new("local_transport");
    let repo = GitFixture::new("e2e-local").commit(
        "main",
        &[("index.html", "local v1\n"), ("bin/x.sh", "#!/bin/sh\n")],
        "v1",
    );
    let server = w
        .store
        .create_server(
            w.space.id,
            &ServerSpec {
                name: name_of("deploy-host"),
                host: HostName::new("local").unwrap(),
                port: Port::new(22).unwrap(),
                user: SshUser::new("root").unwrap(),
                labels: Vec::new(),
            },
        )
        .unwrap();
    let www = w.tmp().join("www");
    let www = www.to_str().unwrap();
    let mut spec = w.spec(World::git_repo(repo.git_url()));
    spec.webroot = abs(&format!("{www}/current"));
    spec.releases_dir = abs(&format!("{www}/releases"));
    spec.servers = vec![server.id];
    spec.hooks.pre_release = vec![r#"pwd > where.txt; test "$(pwd)" = "$RELEASE_PATH""#.to_owned()];
    let project = w.create_project(&spec);
    let view = View::new("deploy host", server.id, None, &project);

    let task = w.submit(&project, "local v1", World::branch("main"));
    let ports = w.ports_with(&w.local);
    let report = walle_core::engine::deploy(
        &ports,
        &w.request(&task),
        &walle_core::engine::CancelFlag::default(),
    )
    .expect("the engine runs the deploy");

    assert_eq!(
        report.status,
        TaskStatus::Succeeded,
        "{:?}\n{}",
        report.error,
        w.events.transcript(task.id)
    );
    let r1 = report.release.clone();
    assert_eq!(report.hosts.len(), 1);
    assert_eq!(report.hosts[0].state, HostState::Switched);
    assert_live(std::slice::from_ref(&view), Some(&r1));
    assert_eq!(view.served("index.html").as_deref(), Some("local v1\n"));
    assert_eq!(
        view.served("where.txt").as_deref(),
        Some(format!("{www}/releases/{r1}\n").as_str())
    );
    let ledger = view.ledger();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(
        (&ledger[0].release, ledger[0].status),
        (&r1, LedgerStatus::Live)
    );
    assert!(!view.locked());
    // Nothing went to the target hosts.
    for i in 0..3 {
        assert!(
            !w.host_path(i, "").exists(),
            "{} was touched",
            w.hosts()[i].name
        );
    }
}
