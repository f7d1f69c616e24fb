//! Unique names among live rows; deleted users, spaces, environments, servers and projects free
//! their names at once (walle 2.x kept them, #806); references to missing rows are refused.

use walle_core::model::{MemberScope, Membership, Page, Role, UserStatus};
use walle_core::ports::{NewUser, Store, StoreError};
use walle_core::{ProjectId, ServerId, SpaceId};

use crate::fixtures::*;
use crate::suite::{assert_duplicate, assert_not_found};

pub(crate) fn deleted_names_can_be_reused<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let admin = user(&store, "Admin");

    // Users: same name and e-mail again after a delete.
    let first = user(&store, "Dave");
    store
        .create_session("dave-session", first.id, T0, at(3600))
        .unwrap();
    store.delete_user(first.id, at(1)).unwrap();
    assert_not_found(store.user(first.id), "user");
    assert_eq!(store.user_by_email(&first.email).unwrap(), None);
    assert_eq!(store.session_user("dave-session", T0).unwrap(), None);
    assert_not_found(store.delete_user(first.id, at(2)), "user");
    let second = user(&store, "Dave");
    assert_ne!(second.id, first.id);
    assert_eq!(
        store.user_by_email(&first.email).unwrap(),
        Some(second.clone())
    );
    store.delete_user(second.id, at(3)).unwrap();
    let third = user(&store, "Dave");
    assert_eq!(store.user(third.id).unwrap().username.as_str(), "Dave");

    // Spaces and environments.
    let space = store.create_space(&name("Ops"), admin.id, T0).unwrap();
    store.delete_space(space.id, at(1)).unwrap();
    assert_not_found(store.space(space.id), "space");
    let space = store.create_space(&name("Ops"), admin.id, T0).unwrap();
    let env = store.create_environment(space.id, &name("prod")).unwrap();
    store.delete_environment(env.id).unwrap();
    assert_not_found(store.environment(env.id), "environment");
    let env = store.create_environment(space.id, &name("prod")).unwrap();

    // Servers.
    let s1 = store
        .create_server(space.id, &server_spec("db-1", "10.1.0.1", &["db"]))
        .unwrap();
    store.delete_server(s1.id).unwrap();
    assert_not_found(store.server(s1.id), "server");
    let s2 = store
        .create_server(space.id, &server_spec("db-1", "10.1.0.1", &["db"]))
        .unwrap();
    assert_ne!(s1.id, s2.id);
    let listed = store
        .list_servers(space.id, None, None, Page::all())
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [s2.id]
    );

    // Projects, several times.
    let mut ids: Vec<ProjectId> = Vec::new();
    for round in 0..3 {
        let p = store
            .create_project(
                space.id,
                &full_spec("Api", env.id, &[s2.id]),
                admin.id,
                at(round),
            )
            .unwrap();
        assert!(!ids.contains(&p.id));
        ids.push(p.id);
        store.delete_project(p.id, at(round)).unwrap();
        assert_not_found(store.project(p.id), "project");
    }
    let live = store
        .list_projects(space.id, None, None, Page::all())
        .unwrap();
    assert_eq!(live.total, 0);
}

pub(crate) fn duplicate_names_are_refused<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let erin = user(&store, "Erin");

    // Users: the name case-insensitively, the e-mail (always lower-case).
    assert_duplicate(store.create_user(&new_user("Erin"), T0), "erin@walle.test");
    let same_name = NewUser {
        email: email("other@walle.test"),
        ..new_user("ERIN")
    };
    assert_duplicate(store.create_user(&same_name, T0), "ERIN");
    let frank = user(&store, "Frank");
    let mut renamed = frank.clone();
    renamed.username = name("erin");
    assert_duplicate(store.update_user(&renamed, at(1)), "erin");
    renamed.username = name("Frank Jr");
    renamed.status = UserStatus::Blocked;
    renamed.last_space = Some(SpaceId(42));
    renamed.is_super = true;
    let saved = store.update_user(&renamed, at(1)).unwrap();
    assert_eq!(
        saved,
        walle_core::model::User {
            updated_at: at(1),
            ..renamed.clone()
        }
    );

    // Spaces, environments, servers and projects.
    let a = store.create_space(&name("Alpha"), erin.id, T0).unwrap();
    let b = store.create_space(&name("Beta"), erin.id, T0).unwrap();
    assert_duplicate(store.create_space(&name("alpha"), erin.id, T0), "alpha");
    let mut b2 = b.clone();
    b2.name = name("ALPHA");
    assert_duplicate(store.update_space(&b2), "ALPHA");

    let env_a = store.create_environment(a.id, &name("prod")).unwrap();
    assert_duplicate(store.create_environment(a.id, &name("Prod")), "Prod");
    let env_b = store.create_environment(b.id, &name("prod")).unwrap(); // another space: fine
    let mut env_b2 = env_b.clone();
    env_b2.name = name("test");
    store.update_environment(&env_b2).unwrap();
    store.create_environment(b.id, &name("prod")).unwrap();
    assert_duplicate(store.update_environment(&env_b), "prod");

    let s = store
        .create_server(a.id, &server_spec("web", "10.0.0.1", &[]))
        .unwrap();
    assert_duplicate(
        store.create_server(a.id, &server_spec("WEB", "10.0.0.2", &[])),
        "WEB",
    );
    store
        .create_server(b.id, &server_spec("web", "10.0.0.2", &[]))
        .unwrap();
    let other = store
        .create_server(a.id, &server_spec("web-2", "10.0.0.3", &[]))
        .unwrap();
    assert_duplicate(
        store.update_server(other.id, &server_spec("web", "10.0.0.3", &[])),
        "web",
    );
    assert_duplicate(
        store.create_server(a.id, &server_spec("web-3", "10.0.0.4", &["x", "X"])),
        "x",
    );

    let p = store
        .create_project(a.id, &full_spec("Shop", env_a.id, &[s.id]), erin.id, T0)
        .unwrap();
    assert_duplicate(
        store.create_project(a.id, &full_spec("shop", env_a.id, &[s.id]), erin.id, T0),
        "shop",
    );
    let p2 = store
        .create_project(a.id, &full_spec("Shop 2", env_a.id, &[]), erin.id, T0)
        .unwrap();
    assert_duplicate(
        store.update_project(p2.id, &full_spec("Shop", env_a.id, &[]), at(1)),
        "Shop",
    );
    assert_duplicate(
        store.update_project(p.id, &full_spec("Shop", env_a.id, &[s.id, s.id]), at(1)),
        &s.id.to_string(),
    );

    // Releases by id.
    let t = store
        .create_task(&new_task(p.id, "t", &[s.id], erin.id))
        .unwrap();
    let release = walle_core::model::Release {
        id: walle_core::value::ReleaseId::for_task(p.id, t.id, T0),
        project: p.id,
        task: t.id,
        commit: commit("abcd1234"),
        checksum: "00".to_owned(),
        status: walle_core::model::ReleaseStatus::Preparing,
        created_at: T0,
    };
    store.create_release(&release).unwrap();
    assert_duplicate(store.create_release(&release), release.id.as_str());
}

pub(crate) fn references_are_checked<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let gina = user(&store, "Gina");
    let a = world(&store, "A", gina.id, 1);
    let b = world(&store, "B", gina.id, 1);

    // A project may use only its own space's environment and servers.
    assert_not_found(
        store.create_project(a.space, &full_spec("X", b.env, &a.servers), gina.id, T0),
        "environment",
    );
    assert_not_found(
        store.create_project(a.space, &full_spec("X", a.env, &b.servers), gina.id, T0),
        "server",
    );
    assert_not_found(
        store.create_project(
            a.space,
            &full_spec("X", a.env, &[ServerId(999_999)]),
            gina.id,
            T0,
        ),
        "server",
    );
    assert_not_found(
        store.create_project(SpaceId(999_999), &full_spec("X", a.env, &[]), gina.id, T0),
        "space",
    );
    let p = store
        .create_project(a.space, &full_spec("X", a.env, &a.servers), gina.id, T0)
        .unwrap();

    // Tasks need a live project and existing servers.
    assert_not_found(
        store.create_task(&new_task(p.id, "t", &[ServerId(999_999)], gina.id)),
        "server",
    );
    store.delete_project(p.id, at(1)).unwrap();
    assert_not_found(
        store.create_task(&new_task(p.id, "t", &a.servers, gina.id)),
        "project",
    );

    // Memberships: live user and scope; SUPER is not a membership role.
    assert_not_found(
        store.set_membership(&Membership {
            user: gina.id,
            scope: MemberScope::Project(p.id),
            role: Role::Developer,
        }),
        "project",
    );
    match store.set_membership(&Membership {
        user: gina.id,
        scope: MemberScope::Space(a.space),
        role: Role::Super,
    }) {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_not_found(store.space(SpaceId(999_999)), "space");
    assert_not_found(store.user(walle_core::UserId(999_999)), "user");
    assert_not_found(
        store.create_space(&name("Nobody's"), walle_core::UserId(999_999), T0),
        "user",
    );
}
