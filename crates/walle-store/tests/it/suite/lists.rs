//! Lists page and search in SQL: totals, page boundaries, literal `%` and `_`, ASCII case folding.

use walle_core::model::{MemberScope, Membership, NewAuditEntry, Page, Role, TaskStatus};
use walle_core::ports::{NewTask, Store, TaskFilter};

use crate::fixtures::*;

pub(crate) fn lists_page_and_search<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(user(&store, &format!("user {i:02}")).id);
    }
    let odd = user(&store, "100% real_name");
    let plain = user(&store, "1000 realXname");

    // Paging.
    let all = store.list_users(None, Page::all()).unwrap();
    assert_eq!(all.total, 25);
    let p1 = store.list_users(None, Page::number(1, 10)).unwrap();
    let p3 = store.list_users(None, Page::number(3, 10)).unwrap();
    assert_eq!(p1.total, 25);
    assert_eq!(p1.items.iter().map(|u| u.id).collect::<Vec<_>>(), ids[..10]);
    assert_eq!(p3.items.len(), 5);
    assert_eq!(
        store.list_users(None, Page::number(4, 10)).unwrap().items,
        []
    );

    // Search: case-insensitive (ASCII), on name or e-mail; wildcards in the keyword are literal.
    let found = store
        .list_users(Some("USER 1"), Page::number(1, 3))
        .unwrap();
    assert_eq!(found.total, 10);
    assert_eq!(found.items.len(), 3);
    let by_mail = store.list_users(Some("user.07@"), Page::all()).unwrap();
    assert_eq!(
        by_mail.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [ids[7]]
    );
    let pct = store.list_users(Some("100%"), Page::all()).unwrap();
    assert_eq!(pct.items.iter().map(|u| u.id).collect::<Vec<_>>(), [odd.id]);
    let under = store.list_users(Some("l_n"), Page::all()).unwrap();
    assert_eq!(
        under.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [odd.id]
    );
    assert_eq!(
        store
            .list_users(Some("realxname"), Page::all())
            .unwrap()
            .items[0]
            .id,
        plain.id
    );
    assert_eq!(store.list_users(Some("  "), Page::all()).unwrap().total, 25);

    // Spaces, members, servers (by label), projects (by environment) and the audit log.
    let owner = ids[0];
    for n in ["Payments", "Search", "Pay later"] {
        store.create_space(&name(n), owner, T0).unwrap();
    }
    assert_eq!(
        store.list_spaces(Some("pay"), Page::all()).unwrap().total,
        2
    );
    let w = world(&store, "Big", owner, 0);
    for (i, id) in ids.iter().enumerate().skip(1).take(12) {
        store
            .set_membership(&Membership {
                user: *id,
                scope: MemberScope::Space(w.space),
                role: if i % 2 == 0 {
                    Role::Developer
                } else {
                    Role::Reporter
                },
            })
            .unwrap();
    }
    let members = store
        .members(
            MemberScope::Space(w.space),
            Some("user 1"),
            Page::number(1, 2),
        )
        .unwrap();
    assert_eq!(members.total, 3, "users 10, 11, 12");
    assert_eq!(members.items.len(), 2);
    assert_eq!(members.items[0].1, Role::Developer);
    for i in 0..15 {
        let labels: &[&str] = if i % 3 == 0 { &["db"] } else { &["web", "eu"] };
        store
            .create_server(
                w.space,
                &server_spec(
                    &format!("srv-{i:02}"),
                    &format!("host{i}.example.com"),
                    labels,
                ),
            )
            .unwrap();
    }
    let db = store
        .list_servers(w.space, None, Some(&label("db")), Page::number(2, 3))
        .unwrap();
    assert_eq!(db.total, 5);
    assert_eq!(
        db.items
            .iter()
            .map(|s| s.spec.name.as_str())
            .collect::<Vec<_>>(),
        ["srv-09", "srv-12"]
    );
    let by_host = store
        .list_servers(w.space, Some("HOST1"), Some(&label("eu")), Page::all())
        .unwrap();
    assert_eq!(by_host.total, 5, "host1, host10, host11, host13, host14");
    assert_eq!(by_host.items[0].spec.labels, [label("web"), label("eu")]);
    let staging = store.create_environment(w.space, &name("staging")).unwrap();
    for i in 0..6 {
        let env = if i < 4 { w.env } else { staging.id };
        store
            .create_project(
                w.space,
                &full_spec(&format!("svc {i}"), env, &[]),
                owner,
                T0,
            )
            .unwrap();
    }
    assert_eq!(
        store
            .list_projects(w.space, Some(w.env), None, Page::all())
            .unwrap()
            .total,
        4
    );
    let on_staging = store
        .list_projects(w.space, Some(staging.id), Some("SVC"), Page::number(1, 1))
        .unwrap();
    assert_eq!(on_staging.total, 2);
    assert_eq!(on_staging.items[0].spec.name.as_str(), "svc 4");
    assert_eq!(
        store.list_environments(w.space, Page::all()).unwrap().total,
        2
    );
    for i in 0..7 {
        store
            .append_audit(&NewAuditEntry {
                actor: if i == 0 { None } else { Some(owner) },
                action: if i % 2 == 0 {
                    "server.create"
                } else {
                    "project.update"
                }
                .to_owned(),
                target: format!("item:{i}"),
                details: String::new(),
                at: at(i),
            })
            .unwrap();
    }
    let audit = store
        .list_audit(Some("SERVER."), Page::number(1, 3))
        .unwrap();
    assert_eq!(audit.total, 4);
    assert_eq!(
        audit
            .items
            .iter()
            .map(|e| e.entry.target.as_str())
            .collect::<Vec<_>>(),
        ["item:6", "item:4", "item:2"]
    );
    assert_eq!(
        store.list_audit(Some("item:0"), Page::all()).unwrap().items[0]
            .entry
            .actor,
        None
    );
}

pub(crate) fn task_list_filters<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let ann = user(&store, "Ann");
    let ben = user(&store, "Ben");
    let w1 = world(&store, "One", ann.id, 1);
    let w2 = world(&store, "Two", ann.id, 1);
    let test_env = store.create_environment(w1.space, &name("test")).unwrap();
    let p1 = store
        .create_project(w1.space, &full_spec("P1", w1.env, &w1.servers), ann.id, T0)
        .unwrap();
    let p1t = store
        .create_project(
            w1.space,
            &full_spec("P1 test", test_env.id, &w1.servers),
            ann.id,
            T0,
        )
        .unwrap();
    let p2 = store
        .create_project(w2.space, &full_spec("P2", w2.env, &w2.servers), ann.id, T0)
        .unwrap();
    let mut made = Vec::new();
    for i in 0..30_u64 {
        let (project, servers) = match i % 3 {
            0 => (p1.id, &w1.servers),
            1 => (p1t.id, &w1.servers),
            _ => (p2.id, &w2.servers),
        };
        let by = if i % 2 == 0 { ann.id } else { ben.id };
        let status = if i % 5 == 0 {
            TaskStatus::Approved
        } else {
            TaskStatus::Submitted
        };
        let title = if i == 7 {
            "Hotfix 50%_off".to_owned()
        } else {
            format!("release {i}")
        };
        let t = store
            .create_task(&NewTask {
                status,
                created_at: at(i),
                ..new_task(project, &title, servers, by)
            })
            .unwrap();
        made.push(t);
    }
    let list = |f: TaskFilter, page| store.list_tasks(&f, page).unwrap();

    let all = list(TaskFilter::default(), Page::number(1, 4));
    assert_eq!(all.total, 30);
    assert_eq!(
        all.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        made.iter().rev().take(4).map(|t| t.id).collect::<Vec<_>>(),
        "newest first"
    );
    assert_eq!(all.items[0], made[29]);
    let space1 = list(
        TaskFilter {
            space: Some(w1.space),
            ..TaskFilter::default()
        },
        Page::all(),
    );
    assert_eq!(space1.total, 20);
    let env = list(
        TaskFilter {
            environment: Some(test_env.id),
            ..TaskFilter::default()
        },
        Page::all(),
    );
    assert_eq!(env.total, 10);
    assert!(env.items.iter().all(|t| t.project == p1t.id));
    let mine = list(
        TaskFilter {
            project: Some(p1.id),
            submitter: Some(ben.id),
            ..TaskFilter::default()
        },
        Page::all(),
    );
    assert_eq!(
        mine.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [
            made[27].id,
            made[21].id,
            made[15].id,
            made[9].id,
            made[3].id
        ]
    );
    let approved = list(
        TaskFilter {
            statuses: vec![TaskStatus::Approved, TaskStatus::Deploying],
            ..TaskFilter::default()
        },
        Page::all(),
    );
    assert_eq!(approved.total, 6);
    let kw = list(
        TaskFilter {
            keyword: Some("50%_OFF".to_owned()),
            ..TaskFilter::default()
        },
        Page::all(),
    );
    assert_eq!(
        kw.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [made[7].id]
    );
    let kw2 = list(
        TaskFilter {
            keyword: Some("release 1".to_owned()),
            space: Some(w2.space),
            ..TaskFilter::default()
        },
        Page::number(2, 2),
    );
    // Titles with "release 1" in space two: tasks 11, 14 and 17; page 2 of 2 holds the oldest.
    assert_eq!(kw2.total, 3);
    assert_eq!(
        kw2.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [made[11].id]
    );
}
