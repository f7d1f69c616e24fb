//! A realistic lifecycle: accounts, a space and its members, servers, a project with every
//! setting, a task approved and deployed through compare-and-set, outcomes, releases, the
//! ledger, events and the audit log.

use walle_core::TaskId;
use walle_core::model::{
    EventStream, HostKey, HostOutcome, HostState, LedgerEntry, LedgerStatus, MemberScope,
    Membership, NewAuditEntry, NewDeployEvent, OpenStatus, Page, Release, ReleaseStatus, Role,
    Step, TaskKind, TaskStatus,
};
use walle_core::ports::{NewTask, Store, StoreError, TaskFilter};
use walle_core::value::ReleaseId;

use crate::fixtures::*;

pub(crate) fn lifecycle_story<S: Store>(make: &dyn Fn() -> S) {
    let store = make();

    // Accounts.
    let alice = user(&store, "Alice");
    let bob = user(&store, "Bob");
    let carol = user(&store, "Carol");
    assert_eq!(store.user(bob.id).unwrap(), bob);
    assert_eq!(
        store.user_by_email(&email("BOB@walle.test")).unwrap(),
        Some(bob.clone())
    );

    // A space owned by Alice, with Bob as developer and Carol as master.
    let space = store.create_space(&name("Team A"), alice.id, T0).unwrap();
    assert_eq!(store.space(space.id).unwrap(), space);
    let in_space = |u, role| Membership {
        user: u,
        scope: MemberScope::Space(space.id),
        role,
    };
    store
        .set_membership(&in_space(bob.id, Role::Developer))
        .unwrap();
    store
        .set_membership(&in_space(carol.id, Role::Reporter))
        .unwrap();
    // Changing a role keeps one row per user and scope.
    store
        .set_membership(&in_space(carol.id, Role::Master))
        .unwrap();
    let members = store
        .members(MemberScope::Space(space.id), None, Page::all())
        .unwrap();
    let roles: Vec<(String, Role)> = members
        .items
        .iter()
        .map(|(u, r)| (u.username.to_string(), *r))
        .collect();
    assert_eq!(
        roles,
        [
            ("Alice".to_owned(), Role::Owner),
            ("Bob".to_owned(), Role::Developer),
            ("Carol".to_owned(), Role::Master)
        ]
    );
    assert_eq!(members.total, 3);

    // Environments and servers; a host key trusted on first use.
    let env = store
        .create_environment(space.id, &name("production"))
        .unwrap();
    let staging = store
        .create_environment(space.id, &name("staging"))
        .unwrap();
    let closed = walle_core::model::Environment {
        status: OpenStatus::Closed,
        ..staging.clone()
    };
    assert_eq!(store.update_environment(&closed).unwrap(), closed);
    let web1 = store
        .create_server(
            space.id,
            &server_spec("web-1", "10.0.0.1", &["web", "canary"]),
        )
        .unwrap();
    let web2 = store
        .create_server(
            space.id,
            &server_spec("web-2", "web2.example.com", &["web"]),
        )
        .unwrap();
    let key = HostKey {
        algorithm: "ssh-ed25519".to_owned(),
        key_base64: "AAAAC3NzaC1lZDI1NTE5AAAAIDX0abc".to_owned(),
    };
    store.set_host_key(web1.id, Some(&key)).unwrap();
    let stored = store.server(web1.id).unwrap();
    assert_eq!(stored.host_key, Some(key.clone()));
    assert_eq!(stored.spec, web1.spec);
    // Renaming keeps the key; moving the server to another address forgets it.
    let mut renamed = web1.spec.clone();
    renamed.name = name("web-1a");
    assert_eq!(
        store.update_server(web1.id, &renamed).unwrap().host_key,
        Some(key)
    );
    let mut moved = renamed.clone();
    moved.host = walle_core::value::HostName::new("10.0.0.9").unwrap();
    let moved = store.update_server(web1.id, &moved).unwrap();
    assert_eq!(moved.host_key, None);
    assert_eq!(moved.spec.host.as_str(), "10.0.0.9");

    // A project with every setting, and Bob as a project MASTER.
    let spec = full_spec("Shop", env.id, &[web2.id, web1.id]);
    let project = store.create_project(space.id, &spec, carol.id, T0).unwrap();
    assert_eq!(store.project(project.id).unwrap(), project);
    assert_eq!(project.spec.servers, [web2.id, web1.id]);
    store
        .set_membership(&Membership {
            user: bob.id,
            scope: MemberScope::Project(project.id),
            role: Role::Master,
        })
        .unwrap();
    let bobs = store.memberships_of(bob.id).unwrap();
    assert_eq!(bobs.len(), 2, "{bobs:?}");
    assert!(bobs.contains(&Membership {
        user: bob.id,
        scope: MemberScope::Project(project.id),
        role: Role::Master
    }));

    // A task: submitted, approved (compare-and-set), deployed.
    let task = store
        .create_task(&new_task(
            project.id,
            "Release 1.0",
            &[web2.id, web1.id],
            bob.id,
        ))
        .unwrap();
    assert_eq!(task.status, TaskStatus::Submitted);
    assert_eq!(store.task(task.id).unwrap(), task);
    let approved = walle_core::model::Task {
        status: TaskStatus::Approved,
        reviewer: Some((carol.id, "LGTM".to_owned())),
        updated_at: at(60),
        ..task.clone()
    };
    let approved = store.update_task(&approved, TaskStatus::Submitted).unwrap();
    assert_eq!(approved.reviewer, Some((carol.id, "LGTM".to_owned())));
    // A second approver working from the stale state loses.
    let stale = walle_core::model::Task {
        status: TaskStatus::Rejected,
        ..task.clone()
    };
    match store.update_task(&stale, TaskStatus::Submitted) {
        Err(StoreError::Conflict { detail }) => assert!(detail.contains("approved"), "{detail}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let release_id = ReleaseId::for_task(project.id, task.id, at(120));
    let deploying = store
        .update_task(
            &walle_core::model::Task {
                status: TaskStatus::Deploying,
                attempts: 1,
                commit: Some(commit("0123abcd4567ef")),
                release: Some(release_id.clone()),
                updated_at: at(120),
                ..approved.clone()
            },
            TaskStatus::Approved,
        )
        .unwrap();
    assert_eq!(deploying.attempts, 1);
    assert_eq!(deploying.submitter, bob.id, "the submitter is kept");
    assert_eq!(deploying.created_at, T0);

    // Events of the deploy, the release, outcomes and the ledger.
    let events: Vec<NewDeployEvent> = [
        (None, Step::Lock, EventStream::Info, "lock project:1", None),
        (
            Some(web1.id),
            Step::Connect,
            EventStream::Command,
            "ssh deploy@10.0.0.9",
            None,
        ),
        (
            Some(web1.id),
            Step::PreRelease,
            EventStream::Stdout,
            "maintenance mode 🚧",
            None,
        ),
        (
            Some(web1.id),
            Step::PreRelease,
            EventStream::Exit,
            "0.2s",
            Some(0),
        ),
        (
            Some(web2.id),
            Step::HealthCheck,
            EventStream::Stderr,
            "curl: (7) refused",
            None,
        ),
        (
            Some(web2.id),
            Step::HealthCheck,
            EventStream::Exit,
            "1.0s",
            Some(7),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(
        |(i, (host, step, stream, line, exit_code))| NewDeployEvent {
            task: task.id,
            host,
            step,
            stream,
            line: line.to_owned(),
            exit_code,
            at: at(121 + i as u64),
        },
    )
    .collect();
    assert_eq!(store.append_events(&events).unwrap(), [1, 2, 3, 4, 5, 6]);
    let read = store.events_after(task.id, 0, 100).unwrap();
    assert_eq!(
        read.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        read.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        events
    );

    let release = Release {
        id: release_id.clone(),
        project: project.id,
        task: task.id,
        commit: commit("0123abcd4567ef"),
        checksum: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        status: ReleaseStatus::Preparing,
        created_at: at(120),
    };
    store.create_release(&release).unwrap();
    store
        .set_release_status(&release_id, ReleaseStatus::Live)
        .unwrap();
    let live = store.release(&release_id).unwrap();
    assert_eq!(live.status, ReleaseStatus::Live);
    let outcomes = vec![
        HostOutcome {
            server: web2.id,
            state: HostState::FailedAfterSwitch,
            previous: Some(ReleaseId::new("1_1_20250101_000000").unwrap()),
            live: Some(release_id.clone()),
            error: Some("health check failed: curl exit 7".to_owned()),
        },
        HostOutcome {
            server: web1.id,
            state: HostState::Switched,
            previous: None,
            live: Some(release_id.clone()),
            error: None,
        },
    ];
    store.set_host_outcomes(task.id, &outcomes).unwrap();
    assert_eq!(store.host_outcomes(task.id).unwrap(), outcomes);
    // Replaced, not appended.
    store.set_host_outcomes(task.id, &outcomes[1..]).unwrap();
    assert_eq!(store.host_outcomes(task.id).unwrap(), &outcomes[1..]);

    let entry = |status, previous: Option<&ReleaseId>, secs| LedgerEntry {
        server: web1.id,
        release: release_id.clone(),
        commit: commit("0123abcd4567ef"),
        task: task.id,
        actor: bob.id,
        status,
        previous: previous.cloned(),
        at: at(secs),
    };
    let ledger = vec![
        entry(LedgerStatus::Prepared, None, 130),
        entry(
            LedgerStatus::Live,
            Some(&ReleaseId::new("1_1_20250101_000000").unwrap()),
            131,
        ),
    ];
    store.append_ledger(&ledger).unwrap();
    assert_eq!(store.ledger(project.id, web1.id).unwrap(), ledger);
    assert_eq!(store.ledger(project.id, web2.id).unwrap(), []);

    let done = store
        .update_task(
            &walle_core::model::Task {
                status: TaskStatus::Succeeded,
                updated_at: at(140),
                ..deploying.clone()
            },
            TaskStatus::Deploying,
        )
        .unwrap();
    assert_eq!(done.status, TaskStatus::Succeeded);

    // A rollback task pointing back at the release; both appear in the project's task list.
    let rollback = store
        .create_task(&NewTask {
            kind: TaskKind::Rollback {
                target: release_id.clone(),
            },
            parent: Some(task.id),
            status: TaskStatus::Approved,
            created_at: at(200),
            ..new_task(project.id, "Roll back 1.0", &[web1.id], alice.id)
        })
        .unwrap();
    assert_eq!(store.task(rollback.id).unwrap(), rollback);
    let list = store
        .list_tasks(
            &TaskFilter {
                project: Some(project.id),
                ..TaskFilter::default()
            },
            Page::all(),
        )
        .unwrap();
    assert_eq!(
        list.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [rollback.id, task.id],
        "newest first"
    );
    assert_eq!(list.items[1], done);
    let releases = store.list_releases(project.id, Page::all()).unwrap();
    assert_eq!(releases.items, [live]);

    // The audit log, newest first.
    for (i, action) in ["task.submit", "task.approve", "task.deploy"]
        .iter()
        .enumerate()
    {
        let e = store
            .append_audit(&NewAuditEntry {
                actor: Some(bob.id),
                action: (*action).to_owned(),
                target: format!("task:{}", task.id),
                details: "{\"via\":\"api\"}".to_owned(),
                at: at(300 + i as u64),
            })
            .unwrap();
        assert_eq!(e.entry.action, *action);
    }
    let audit = store.list_audit(None, Page::number(1, 2)).unwrap();
    assert_eq!(audit.total, 3);
    assert_eq!(
        audit
            .items
            .iter()
            .map(|e| e.entry.action.as_str())
            .collect::<Vec<_>>(),
        ["task.deploy", "task.approve"]
    );
    assert!(audit.items[0].id > audit.items[1].id);

    // Deleting the task hides it but keeps its release history readable.
    store.delete_task(rollback.id, at(400)).unwrap();
    crate::suite::assert_not_found(store.task(rollback.id), "task");
    assert_eq!(store.ledger(project.id, web1.id).unwrap().len(), 2);

    // A second instance on the same database sees everything.
    let other = make();
    assert_eq!(
        other.project(project.id).unwrap(),
        store.project(project.id).unwrap()
    );
    assert_eq!(other.task(task.id).unwrap(), done);

    // Space ownership moves: the new owner is OWNER, the old one is demoted to MASTER.
    let moved = store
        .update_space(&walle_core::model::Space {
            owner: carol.id,
            ..space.clone()
        })
        .unwrap();
    assert_eq!(moved.owner, carol.id);
    let roles: Vec<(walle_core::UserId, Role)> = store
        .members(MemberScope::Space(space.id), None, Page::all())
        .unwrap()
        .items
        .into_iter()
        .map(|(u, r)| (u.id, r))
        .collect();
    assert_eq!(
        roles,
        [
            (alice.id, Role::Master),
            (bob.id, Role::Developer),
            (carol.id, Role::Owner)
        ]
    );
    store
        .remove_membership(bob.id, MemberScope::Space(space.id))
        .unwrap();
    crate::suite::assert_not_found(
        store.remove_membership(bob.id, MemberScope::Space(space.id)),
        "membership",
    );
}

pub(crate) fn every_project_setting_round_trips<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let owner = user(&store, "Owner");
    let w = world(&store, "Settings", owner.id, 3);
    let spec = full_spec("Everything", w.env, &w.servers);
    let created = store.create_project(w.space, &spec, owner.id, T0).unwrap();
    assert_eq!(created.spec, spec);
    assert_eq!(created.created_by, owner.id);
    let fetched = store.project(created.id).unwrap();
    assert_eq!(fetched, created);

    // Every setting changed to its other variant, read back through a second instance.
    let changed = changed_spec(&spec, &[w.servers[2]]);
    let updated = store.update_project(created.id, &changed, at(10)).unwrap();
    assert_eq!(updated.spec, changed);
    assert_eq!(updated.created_by, owner.id, "the creator is kept on edit");
    assert_eq!(updated.created_at, T0);
    assert_eq!(updated.updated_at, at(10));
    assert_eq!(make().project(created.id).unwrap(), updated);

    // No credentials, no health check, a passphrase-less key.
    let mut bare = changed.clone();
    bare.repo.credentials = walle_core::model::RepoCredentials::None;
    bare.health_check = None;
    bare.servers = Vec::new();
    assert_eq!(
        store
            .update_project(created.id, &bare, at(11))
            .unwrap()
            .spec,
        bare
    );
    bare.repo.credentials = walle_core::model::RepoCredentials::SshKey {
        key_path: abs("/root/.ssh/id_rsa"),
        passphrase: None,
    };
    bare.notify.channels = vec![walle_core::model::NotifyChannel::DingTalk {
        url: "https://oapi.dingtalk.com/robot/send?access_token=x".to_owned(),
        secret: None,
    }];
    assert_eq!(
        store
            .update_project(created.id, &bare, at(12))
            .unwrap()
            .spec,
        bare
    );
    assert_eq!(store.project(created.id).unwrap().spec, bare);

    // Servers keep their ids and order; deleting a server detaches it from projects.
    let spec2 = full_spec("Order", w.env, &[w.servers[2], w.servers[0], w.servers[1]]);
    let p2 = store.create_project(w.space, &spec2, owner.id, T0).unwrap();
    assert_eq!(store.project(p2.id).unwrap().spec.servers, spec2.servers);
    store.delete_server(w.servers[0]).unwrap();
    assert_eq!(
        store.project(p2.id).unwrap().spec.servers,
        [w.servers[2], w.servers[1]]
    );
}

/// Many deployers race to start the same approved task: exactly one wins the compare-and-set.
pub(crate) fn task_compare_and_set_race<S: Store>(make: &dyn Fn() -> S) {
    let stores = [make(), make()];
    let store = &stores[0];
    let owner = user(store, "Owner");
    let w = world(store, "Race", owner.id, 1);
    let project = store
        .create_project(w.space, &full_spec("P", w.env, &w.servers), owner.id, T0)
        .unwrap();
    let task = store
        .create_task(&NewTask {
            status: TaskStatus::Approved,
            ..new_task(project.id, "T", &w.servers, owner.id)
        })
        .unwrap();
    let winners: Vec<TaskId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = &stores[i % 2];
                let task = task.clone();
                s.spawn(move || {
                    let next = walle_core::model::Task {
                        status: TaskStatus::Deploying,
                        attempts: 1,
                        updated_at: at(1 + i as u64),
                        ..task.clone()
                    };
                    match store.update_task(&next, TaskStatus::Approved) {
                        Ok(t) => Some(t.id),
                        Err(StoreError::Conflict { .. }) => None,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(winners, [task.id], "exactly one deployer wins");
    assert_eq!(store.task(task.id).unwrap().status, TaskStatus::Deploying);
}
