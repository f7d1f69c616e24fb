//! Tests of the policy: the full matrix, project-role overrides, members-only projects,
//! cross-space denial, blocked users, grants, self-targets and logins.

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use walle_core::model::{MemberScope, Membership, Role, UserStatus};
use walle_core::{ProjectId, SpaceId, UserId};

use crate::{
    Action, Denied, ProjectRef, Resource, ResourceKind, Subject, allowed_actions, can_log_in,
};

const ME: UserId = UserId(10);
const OTHER: UserId = UserId(20);
const S1: SpaceId = SpaceId(1);
const S2: SpaceId = SpaceId(2);
const P1: ProjectRef = ProjectRef {
    space: S1,
    id: ProjectId(1),
    has_explicit_members: false,
};
const P2: ProjectRef = ProjectRef {
    space: S1,
    id: ProjectId(2),
    has_explicit_members: false,
};
const P3_OTHER_SPACE: ProjectRef = ProjectRef {
    space: S2,
    id: ProjectId(3),
    has_explicit_members: false,
};

/// Renders, for every action of the resource's kind, what [`crate::check`] answers, and compares.
#[track_caller]
fn check(subject: &Subject, resource: &Resource, expect: Expect) {
    expect.assert_eq(&outcomes(subject, resource));
}

fn outcomes(subject: &Subject, resource: &Resource) -> String {
    let mut out = String::new();
    for action in Action::ALL
        .iter()
        .filter(|a| a.resource_kind() == resource.kind())
    {
        let outcome = match crate::check(subject, *action, resource) {
            Ok(()) => "ok".to_owned(),
            Err(denied) => format!("denied: {denied}"),
        };
        let _ = writeln!(out, "{:<27} {outcome}", action.as_str());
    }
    out
}

fn subject(spaces: &[(SpaceId, Role)], projects: &[(ProjectRef, Role)]) -> Subject {
    let memberships: Vec<Membership> = spaces
        .iter()
        .map(|(s, role)| Membership {
            user: ME,
            scope: MemberScope::Space(*s),
            role: *role,
        })
        .chain(projects.iter().map(|(p, role)| Membership {
            user: ME,
            scope: MemberScope::Project(p.id),
            role: *role,
        }))
        .collect();
    Subject::from_parts(ME, false, UserStatus::Active, &memberships)
}

fn member_of_s1(role: Role) -> Subject {
    subject(&[(S1, role)], &[])
}

fn super_user() -> Subject {
    Subject::from_parts(ME, true, UserStatus::Active, &[])
}

fn task(project: ProjectRef, submitter: UserId) -> Resource {
    Resource::Task { project, submitter }
}

/// One resource of each kind, in space 1, targeting another user, granting DEVELOPER.
fn samples(space: SpaceId, project: ProjectRef) -> Vec<Resource> {
    vec![
        Resource::Platform,
        Resource::Space(space),
        Resource::Project(project),
        task(project, OTHER),
        Resource::Account(OTHER),
        Resource::NewAccount {
            space: Some((space, Role::Developer)),
            is_super: false,
        },
        Resource::Member {
            space,
            user: OTHER,
            grant: Some(Role::Developer),
        },
        Resource::ProjectMember {
            project,
            user: OTHER,
            grant: Some(Role::Developer),
        },
    ]
}

#[test]
fn matrix() {
    expect![[r#"
                                   | REPORTER         | DEVELOPER        | MASTER           | OWNER            | SUPER
        space.list                 | —                | —                | —                | —                | ✓
        space.view                 | ✓                | ✓                | ✓                | ✓                | ✓
        space.create               | —                | —                | —                | —                | ✓
        space.update               | —                | —                | —                | ✓                | ✓
        space.delete               | —                | —                | —                | —                | ✓
        user.list                  | —                | —                | —                | —                | ✓
        user.view                  | self             | self             | self             | self             | ✓
        user.create                | —                | —                | —                | ≤ OWNER, own space | ✓
        user.update                | self             | self             | self             | self             | ✓
        user.delete                | —                | —                | —                | —                | ✓, not self
        user.block                 | —                | —                | —                | —                | ✓, not self
        user.set_super             | —                | —                | —                | —                | ✓, not self
        member.list                | ✓                | ✓                | ✓                | ✓                | ✓
        member.add                 | —                | —                | —                | ≤ OWNER          | ≤ OWNER
        member.change_role         | —                | —                | —                | ≤ OWNER, not self | ≤ OWNER, not self
        member.remove              | —                | —                | —                | ✓, not self      | ✓, not self
        environment.view           | ✓                | ✓                | ✓                | ✓                | ✓
        environment.create         | —                | —                | ✓                | ✓                | ✓
        environment.update         | —                | —                | ✓                | ✓                | ✓
        environment.delete         | —                | —                | ✓                | ✓                | ✓
        server.view                | ✓                | ✓                | ✓                | ✓                | ✓
        server.create              | —                | —                | ✓                | ✓                | ✓
        server.update              | —                | —                | ✓                | ✓                | ✓
        server.delete              | —                | —                | ✓                | ✓                | ✓
        server.trust_host_key      | —                | —                | ✓                | ✓                | ✓
        project.view               | ✓                | ✓                | ✓                | ✓                | ✓
        project.browse_repo        | —                | ✓                | ✓                | ✓                | ✓
        project.create             | —                | —                | ✓                | ✓                | ✓
        project.update             | —                | —                | ✓                | ✓                | ✓
        project.delete             | —                | —                | ✓                | ✓                | ✓
        project.copy               | —                | —                | ✓                | ✓                | ✓
        project.check              | —                | —                | ✓                | ✓                | ✓
        project.view_secrets       | —                | —                | —                | —                | —
        project_member.list        | ✓                | ✓                | ✓                | ✓                | ✓
        project_member.add         | —                | —                | ≤ MASTER         | ≤ MASTER         | ≤ MASTER
        project_member.change_role | —                | —                | ≤ MASTER, not self | ≤ MASTER, not self | ≤ MASTER, not self
        project_member.remove      | —                | —                | ✓, not self      | ✓, not self      | ✓, not self
        task.view                  | ✓                | ✓                | ✓                | ✓                | ✓
        task.view_logs             | ✓                | ✓                | ✓                | ✓                | ✓
        task.submit                | —                | ✓                | ✓                | ✓                | ✓
        task.edit                  | —                | own              | ✓                | ✓                | ✓
        task.delete                | —                | own              | ✓                | ✓                | ✓
        task.approve               | —                | —                | ✓                | ✓                | ✓
        task.reject                | —                | —                | ✓                | ✓                | ✓
        task.deploy                | —                | own              | ✓                | ✓                | ✓
        task.cancel                | —                | own              | ✓                | ✓                | ✓
        task.retry                 | —                | own              | ✓                | ✓                | ✓
        task.rollback              | —                | ✓                | ✓                | ✓                | ✓
        lock.force_unlock          | —                | —                | ✓                | ✓                | ✓
        audit.view                 | —                | —                | ✓                | ✓                | ✓
        audit.view_platform        | —                | —                | —                | —                | ✓
    "#]]
    .assert_eq(&crate::render::render_matrix_text());
}

#[test]
fn every_role_and_action_with_its_message() {
    let mut out = String::new();
    for role in Role::ALL {
        let subject = if role == Role::Super {
            super_user()
        } else {
            member_of_s1(role)
        };
        let _ = writeln!(out, "## {role}");
        for resource in samples(S1, P1) {
            out.push_str(&outcomes(&subject, &resource));
        }
    }
    expect![[r#"
        ## REPORTER
        space.list                  denied: user 10 may not list all spaces of the platform; SUPER is required
        space.create                denied: user 10 may not create spaces; SUPER is required
        user.list                   denied: user 10 may not list all users of the platform; SUPER is required
        audit.view_platform         denied: user 10 may not view the audit log of the whole platform; SUPER is required
        space.view                  ok
        space.update                denied: REPORTER in space 1 may not rename, open or close the space; OWNER or higher is required
        space.delete                denied: user 10 may not delete spaces; SUPER is required
        member.list                 ok
        environment.view            ok
        environment.create          denied: REPORTER in space 1 may not create environments; MASTER or higher is required
        environment.update          denied: REPORTER in space 1 may not update environments; MASTER or higher is required
        environment.delete          denied: REPORTER in space 1 may not delete environments; MASTER or higher is required
        server.view                 ok
        server.create               denied: REPORTER in space 1 may not create servers; MASTER or higher is required
        server.update               denied: REPORTER in space 1 may not update servers; MASTER or higher is required
        server.delete               denied: REPORTER in space 1 may not delete servers; MASTER or higher is required
        server.trust_host_key       denied: REPORTER in space 1 may not trust or replace the host keys of servers; MASTER or higher is required
        project.create              denied: REPORTER in space 1 may not create projects; MASTER or higher is required
        audit.view                  denied: REPORTER in space 1 may not view the audit log of the space; MASTER or higher is required
        project.view                ok
        project.browse_repo         denied: REPORTER in space 1 may not list the branches, tags and commits of projects; DEVELOPER or higher is required
        project.update              denied: REPORTER in space 1 may not update projects; MASTER or higher is required
        project.delete              denied: REPORTER in space 1 may not delete projects; MASTER or higher is required
        project.copy                denied: REPORTER in space 1 may not copy projects; MASTER or higher is required
        project.check               denied: REPORTER in space 1 may not run the checks of projects on their servers; MASTER or higher is required
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 denied: REPORTER in space 1 may not submit tasks; DEVELOPER or higher is required
        lock.force_unlock           denied: REPORTER in space 1 may not force-unlock the deploy locks of projects; MASTER or higher is required
        task.view                   ok
        task.view_logs              ok
        task.edit                   denied: REPORTER in space 1 may not edit tasks; DEVELOPER or higher is required
        task.delete                 denied: REPORTER in space 1 may not delete tasks; DEVELOPER or higher is required
        task.approve                denied: REPORTER in space 1 may not approve tasks; MASTER or higher is required
        task.reject                 denied: REPORTER in space 1 may not reject tasks; MASTER or higher is required
        task.deploy                 denied: REPORTER in space 1 may not deploy tasks; DEVELOPER or higher is required
        task.cancel                 denied: REPORTER in space 1 may not cancel the deploys of tasks; DEVELOPER or higher is required
        task.retry                  denied: REPORTER in space 1 may not retry the failed deploys of tasks; DEVELOPER or higher is required
        task.rollback               denied: REPORTER in space 1 may not create rollback tasks from tasks; DEVELOPER or higher is required
        user.view                   denied: user 10 may not view accounts of other users; SUPER is required
        user.update                 denied: user 10 may not change the name, e-mail or password of accounts of other users; SUPER is required
        user.delete                 denied: user 10 may not delete accounts; SUPER is required
        user.block                  denied: user 10 may not block or unblock accounts; SUPER is required
        user.set_super              denied: user 10 may not grant or revoke SUPER; SUPER is required
        user.create                 denied: REPORTER in space 1 may not create accounts; OWNER or higher is required
        member.add                  denied: REPORTER in space 1 may not add members to the space; OWNER or higher is required
        member.change_role          denied: REPORTER in space 1 may not change the roles of space members; OWNER or higher is required
        member.remove               denied: REPORTER in space 1 may not remove members from the space; OWNER or higher is required
        project_member.add          denied: REPORTER in space 1 may not add members to projects; MASTER or higher is required
        project_member.change_role  denied: REPORTER in space 1 may not change the roles of project members; MASTER or higher is required
        project_member.remove       denied: REPORTER in space 1 may not remove members from projects; MASTER or higher is required
        ## DEVELOPER
        space.list                  denied: user 10 may not list all spaces of the platform; SUPER is required
        space.create                denied: user 10 may not create spaces; SUPER is required
        user.list                   denied: user 10 may not list all users of the platform; SUPER is required
        audit.view_platform         denied: user 10 may not view the audit log of the whole platform; SUPER is required
        space.view                  ok
        space.update                denied: DEVELOPER in space 1 may not rename, open or close the space; OWNER or higher is required
        space.delete                denied: user 10 may not delete spaces; SUPER is required
        member.list                 ok
        environment.view            ok
        environment.create          denied: DEVELOPER in space 1 may not create environments; MASTER or higher is required
        environment.update          denied: DEVELOPER in space 1 may not update environments; MASTER or higher is required
        environment.delete          denied: DEVELOPER in space 1 may not delete environments; MASTER or higher is required
        server.view                 ok
        server.create               denied: DEVELOPER in space 1 may not create servers; MASTER or higher is required
        server.update               denied: DEVELOPER in space 1 may not update servers; MASTER or higher is required
        server.delete               denied: DEVELOPER in space 1 may not delete servers; MASTER or higher is required
        server.trust_host_key       denied: DEVELOPER in space 1 may not trust or replace the host keys of servers; MASTER or higher is required
        project.create              denied: DEVELOPER in space 1 may not create projects; MASTER or higher is required
        audit.view                  denied: DEVELOPER in space 1 may not view the audit log of the space; MASTER or higher is required
        project.view                ok
        project.browse_repo         ok
        project.update              denied: DEVELOPER in space 1 may not update projects; MASTER or higher is required
        project.delete              denied: DEVELOPER in space 1 may not delete projects; MASTER or higher is required
        project.copy                denied: DEVELOPER in space 1 may not copy projects; MASTER or higher is required
        project.check               denied: DEVELOPER in space 1 may not run the checks of projects on their servers; MASTER or higher is required
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 ok
        lock.force_unlock           denied: DEVELOPER in space 1 may not force-unlock the deploy locks of projects; MASTER or higher is required
        task.view                   ok
        task.view_logs              ok
        task.edit                   denied: DEVELOPER in space 1 may only edit tasks they submitted; MASTER or higher is required for tasks of others
        task.delete                 denied: DEVELOPER in space 1 may only delete tasks they submitted; MASTER or higher is required for tasks of others
        task.approve                denied: DEVELOPER in space 1 may not approve tasks; MASTER or higher is required
        task.reject                 denied: DEVELOPER in space 1 may not reject tasks; MASTER or higher is required
        task.deploy                 denied: DEVELOPER in space 1 may only deploy tasks they submitted; MASTER or higher is required for tasks of others
        task.cancel                 denied: DEVELOPER in space 1 may only cancel the deploys of tasks they submitted; MASTER or higher is required for tasks of others
        task.retry                  denied: DEVELOPER in space 1 may only retry the failed deploys of tasks they submitted; MASTER or higher is required for tasks of others
        task.rollback               ok
        user.view                   denied: user 10 may not view accounts of other users; SUPER is required
        user.update                 denied: user 10 may not change the name, e-mail or password of accounts of other users; SUPER is required
        user.delete                 denied: user 10 may not delete accounts; SUPER is required
        user.block                  denied: user 10 may not block or unblock accounts; SUPER is required
        user.set_super              denied: user 10 may not grant or revoke SUPER; SUPER is required
        user.create                 denied: DEVELOPER in space 1 may not create accounts; OWNER or higher is required
        member.add                  denied: DEVELOPER in space 1 may not add members to the space; OWNER or higher is required
        member.change_role          denied: DEVELOPER in space 1 may not change the roles of space members; OWNER or higher is required
        member.remove               denied: DEVELOPER in space 1 may not remove members from the space; OWNER or higher is required
        project_member.add          denied: DEVELOPER in space 1 may not add members to projects; MASTER or higher is required
        project_member.change_role  denied: DEVELOPER in space 1 may not change the roles of project members; MASTER or higher is required
        project_member.remove       denied: DEVELOPER in space 1 may not remove members from projects; MASTER or higher is required
        ## MASTER
        space.list                  denied: user 10 may not list all spaces of the platform; SUPER is required
        space.create                denied: user 10 may not create spaces; SUPER is required
        user.list                   denied: user 10 may not list all users of the platform; SUPER is required
        audit.view_platform         denied: user 10 may not view the audit log of the whole platform; SUPER is required
        space.view                  ok
        space.update                denied: MASTER in space 1 may not rename, open or close the space; OWNER or higher is required
        space.delete                denied: user 10 may not delete spaces; SUPER is required
        member.list                 ok
        environment.view            ok
        environment.create          ok
        environment.update          ok
        environment.delete          ok
        server.view                 ok
        server.create               ok
        server.update               ok
        server.delete               ok
        server.trust_host_key       ok
        project.create              ok
        audit.view                  ok
        project.view                ok
        project.browse_repo         ok
        project.update              ok
        project.delete              ok
        project.copy                ok
        project.check               ok
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 ok
        lock.force_unlock           ok
        task.view                   ok
        task.view_logs              ok
        task.edit                   ok
        task.delete                 ok
        task.approve                ok
        task.reject                 ok
        task.deploy                 ok
        task.cancel                 ok
        task.retry                  ok
        task.rollback               ok
        user.view                   denied: user 10 may not view accounts of other users; SUPER is required
        user.update                 denied: user 10 may not change the name, e-mail or password of accounts of other users; SUPER is required
        user.delete                 denied: user 10 may not delete accounts; SUPER is required
        user.block                  denied: user 10 may not block or unblock accounts; SUPER is required
        user.set_super              denied: user 10 may not grant or revoke SUPER; SUPER is required
        user.create                 denied: MASTER in space 1 may not create accounts; OWNER or higher is required
        member.add                  denied: MASTER in space 1 may not add members to the space; OWNER or higher is required
        member.change_role          denied: MASTER in space 1 may not change the roles of space members; OWNER or higher is required
        member.remove               denied: MASTER in space 1 may not remove members from the space; OWNER or higher is required
        project_member.add          ok
        project_member.change_role  ok
        project_member.remove       ok
        ## OWNER
        space.list                  denied: user 10 may not list all spaces of the platform; SUPER is required
        space.create                denied: user 10 may not create spaces; SUPER is required
        user.list                   denied: user 10 may not list all users of the platform; SUPER is required
        audit.view_platform         denied: user 10 may not view the audit log of the whole platform; SUPER is required
        space.view                  ok
        space.update                ok
        space.delete                denied: user 10 may not delete spaces; SUPER is required
        member.list                 ok
        environment.view            ok
        environment.create          ok
        environment.update          ok
        environment.delete          ok
        server.view                 ok
        server.create               ok
        server.update               ok
        server.delete               ok
        server.trust_host_key       ok
        project.create              ok
        audit.view                  ok
        project.view                ok
        project.browse_repo         ok
        project.update              ok
        project.delete              ok
        project.copy                ok
        project.check               ok
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 ok
        lock.force_unlock           ok
        task.view                   ok
        task.view_logs              ok
        task.edit                   ok
        task.delete                 ok
        task.approve                ok
        task.reject                 ok
        task.deploy                 ok
        task.cancel                 ok
        task.retry                  ok
        task.rollback               ok
        user.view                   denied: user 10 may not view accounts of other users; SUPER is required
        user.update                 denied: user 10 may not change the name, e-mail or password of accounts of other users; SUPER is required
        user.delete                 denied: user 10 may not delete accounts; SUPER is required
        user.block                  denied: user 10 may not block or unblock accounts; SUPER is required
        user.set_super              denied: user 10 may not grant or revoke SUPER; SUPER is required
        user.create                 ok
        member.add                  ok
        member.change_role          ok
        member.remove               ok
        project_member.add          ok
        project_member.change_role  ok
        project_member.remove       ok
        ## SUPER
        space.list                  ok
        space.create                ok
        user.list                   ok
        audit.view_platform         ok
        space.view                  ok
        space.update                ok
        space.delete                ok
        member.list                 ok
        environment.view            ok
        environment.create          ok
        environment.update          ok
        environment.delete          ok
        server.view                 ok
        server.create               ok
        server.update               ok
        server.delete               ok
        server.trust_host_key       ok
        project.create              ok
        audit.view                  ok
        project.view                ok
        project.browse_repo         ok
        project.update              ok
        project.delete              ok
        project.copy                ok
        project.check               ok
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 ok
        lock.force_unlock           ok
        task.view                   ok
        task.view_logs              ok
        task.edit                   ok
        task.delete                 ok
        task.approve                ok
        task.reject                 ok
        task.deploy                 ok
        task.cancel                 ok
        task.retry                  ok
        task.rollback               ok
        user.view                   ok
        user.update                 ok
        user.delete                 ok
        user.block                  ok
        user.set_super              ok
        user.create                 ok
        member.add                  ok
        member.change_role          ok
        member.remove               ok
        project_member.add          ok
        project_member.change_role  ok
        project_member.remove       ok
    "#]]
    .assert_eq(&out);
}

#[test]
fn project_role_raises_a_space_developer_to_master_on_that_project_only() {
    let dev = subject(&[(S1, Role::Developer)], &[(P1, Role::Master)]);
    check(
        &dev,
        &task(P1, OTHER),
        expect![[r#"
        task.view                   ok
        task.view_logs              ok
        task.edit                   ok
        task.delete                 ok
        task.approve                ok
        task.reject                 ok
        task.deploy                 ok
        task.cancel                 ok
        task.retry                  ok
        task.rollback               ok
    "#]],
    );
    check(
        &dev,
        &task(P2, OTHER),
        expect![[r#"
        task.view                   ok
        task.view_logs              ok
        task.edit                   denied: DEVELOPER in space 1 may only edit tasks they submitted; MASTER or higher is required for tasks of others
        task.delete                 denied: DEVELOPER in space 1 may only delete tasks they submitted; MASTER or higher is required for tasks of others
        task.approve                denied: DEVELOPER in space 1 may not approve tasks; MASTER or higher is required
        task.reject                 denied: DEVELOPER in space 1 may not reject tasks; MASTER or higher is required
        task.deploy                 denied: DEVELOPER in space 1 may only deploy tasks they submitted; MASTER or higher is required for tasks of others
        task.cancel                 denied: DEVELOPER in space 1 may only cancel the deploys of tasks they submitted; MASTER or higher is required for tasks of others
        task.retry                  denied: DEVELOPER in space 1 may only retry the failed deploys of tasks they submitted; MASTER or higher is required for tasks of others
        task.rollback               ok
    "#]],
    );
}

#[test]
fn project_role_narrows_a_space_master_to_reporter_on_that_project_only() {
    let master = subject(&[(S1, Role::Master)], &[(P1, Role::Reporter)]);
    check(
        &master,
        &Resource::Project(P1),
        expect![[r#"
        project.view                ok
        project.browse_repo         denied: REPORTER in project 1 of space 1 may not list the branches, tags and commits of projects; DEVELOPER or higher is required
        project.update              denied: REPORTER in project 1 of space 1 may not update projects; MASTER or higher is required
        project.delete              denied: REPORTER in project 1 of space 1 may not delete projects; MASTER or higher is required
        project.copy                denied: REPORTER in project 1 of space 1 may not copy projects; MASTER or higher is required
        project.check               denied: REPORTER in project 1 of space 1 may not run the checks of projects on their servers; MASTER or higher is required
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 denied: REPORTER in project 1 of space 1 may not submit tasks; DEVELOPER or higher is required
        lock.force_unlock           denied: REPORTER in project 1 of space 1 may not force-unlock the deploy locks of projects; MASTER or higher is required
    "#]],
    );
    check(
        &master,
        &task(P1, ME),
        expect![[r#"
        task.view                   ok
        task.view_logs              ok
        task.edit                   denied: REPORTER in project 1 of space 1 may not edit tasks; DEVELOPER or higher is required
        task.delete                 denied: REPORTER in project 1 of space 1 may not delete tasks; DEVELOPER or higher is required
        task.approve                denied: REPORTER in project 1 of space 1 may not approve tasks; MASTER or higher is required
        task.reject                 denied: REPORTER in project 1 of space 1 may not reject tasks; MASTER or higher is required
        task.deploy                 denied: REPORTER in project 1 of space 1 may not deploy tasks; DEVELOPER or higher is required
        task.cancel                 denied: REPORTER in project 1 of space 1 may not cancel the deploys of tasks; DEVELOPER or higher is required
        task.retry                  denied: REPORTER in project 1 of space 1 may not retry the failed deploys of tasks; DEVELOPER or higher is required
        task.rollback               denied: REPORTER in project 1 of space 1 may not create rollback tasks from tasks; DEVELOPER or higher is required
    "#]],
    );
    check(
        &master,
        &Resource::Project(P2),
        expect![[r#"
        project.view                ok
        project.browse_repo         ok
        project.update              ok
        project.delete              ok
        project.copy                ok
        project.check               ok
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         ok
        task.submit                 ok
        lock.force_unlock           ok
    "#]],
    );
}

#[test]
fn members_only_project_limits_space_developers_who_are_not_members() {
    let members_only = ProjectRef {
        has_explicit_members: true,
        ..P1
    };
    check(
        &member_of_s1(Role::Developer),
        &Resource::Project(members_only),
        expect![[r#"
            project.view                ok
            project.browse_repo         denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not list the branches, tags and commits of projects; DEVELOPER or higher is required
            project.update              denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not update projects; MASTER or higher is required
            project.delete              denied: DEVELOPER in space 1 may not delete projects; MASTER or higher is required
            project.copy                denied: DEVELOPER in space 1 may not copy projects; MASTER or higher is required
            project.check               denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not run the checks of projects on their servers; MASTER or higher is required
            project.view_secrets        denied: nobody may read the secrets of projects
            project_member.list         ok
            task.submit                 denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not submit tasks; DEVELOPER or higher is required
            lock.force_unlock           denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not force-unlock the deploy locks of projects; MASTER or higher is required
        "#]],
    );
    check(
        &member_of_s1(Role::Developer),
        &task(members_only, ME),
        expect![[r#"
            task.view                   ok
            task.view_logs              ok
            task.edit                   denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not edit tasks; DEVELOPER or higher is required
            task.delete                 denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not delete tasks; DEVELOPER or higher is required
            task.approve                denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not approve tasks; MASTER or higher is required
            task.reject                 denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not reject tasks; MASTER or higher is required
            task.deploy                 denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not deploy tasks; DEVELOPER or higher is required
            task.cancel                 denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not cancel the deploys of tasks; DEVELOPER or higher is required
            task.retry                  denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not retry the failed deploys of tasks; DEVELOPER or higher is required
            task.rollback               denied: DEVELOPER in space 1 but not a member of members-only project 1 (acting as REPORTER) may not create rollback tasks from tasks; DEVELOPER or higher is required
        "#]],
    );
    let listed = subject(&[(S1, Role::Developer)], &[(members_only, Role::Developer)]);
    check(
        &listed,
        &task(members_only, ME),
        expect![[r#"
        task.view                   ok
        task.view_logs              ok
        task.edit                   ok
        task.delete                 ok
        task.approve                denied: DEVELOPER in project 1 of space 1 may not approve tasks; MASTER or higher is required
        task.reject                 denied: DEVELOPER in project 1 of space 1 may not reject tasks; MASTER or higher is required
        task.deploy                 ok
        task.cancel                 ok
        task.retry                  ok
        task.rollback               ok
    "#]],
    );
    // Space MASTERs keep their space role, so a project cannot lock out its space's managers.
    check(
        &member_of_s1(Role::Master),
        &task(members_only, OTHER),
        expect![[r#"
            task.view                   ok
            task.view_logs              ok
            task.edit                   ok
            task.delete                 ok
            task.approve                ok
            task.reject                 ok
            task.deploy                 ok
            task.cancel                 ok
            task.retry                  ok
            task.rollback               ok
        "#]],
    );
}

#[test]
fn a_project_membership_without_the_space_grants_nothing() {
    let stale = subject(&[], &[(P1, Role::Master)]);
    check(
        &stale,
        &task(P1, OTHER),
        expect![[r#"
        task.view                   denied: user 10 is not a member of space 1 and may not view tasks there
        task.view_logs              denied: user 10 is not a member of space 1 and may not view the deploy logs of tasks there
        task.edit                   denied: user 10 is not a member of space 1 and may not edit tasks there
        task.delete                 denied: user 10 is not a member of space 1 and may not delete tasks there
        task.approve                denied: user 10 is not a member of space 1 and may not approve tasks there
        task.reject                 denied: user 10 is not a member of space 1 and may not reject tasks there
        task.deploy                 denied: user 10 is not a member of space 1 and may not deploy tasks there
        task.cancel                 denied: user 10 is not a member of space 1 and may not cancel the deploys of tasks there
        task.retry                  denied: user 10 is not a member of space 1 and may not retry the failed deploys of tasks there
        task.rollback               denied: user 10 is not a member of space 1 and may not create rollback tasks from tasks there
    "#]],
    );
    check(
        &stale,
        &Resource::Project(P1),
        expect![[r#"
        project.view                denied: user 10 is not a member of space 1 and may not view projects there
        project.browse_repo         denied: user 10 is not a member of space 1 and may not list the branches, tags and commits of projects there
        project.update              denied: user 10 is not a member of space 1 and may not update projects there
        project.delete              denied: user 10 is not a member of space 1 and may not delete projects there
        project.copy                denied: user 10 is not a member of space 1 and may not copy projects there
        project.check               denied: user 10 is not a member of space 1 and may not run the checks of projects on their servers there
        project.view_secrets        denied: nobody may read the secrets of projects
        project_member.list         denied: user 10 is not a member of space 1 and may not list the members of projects there
        task.submit                 denied: user 10 is not a member of space 1 and may not submit tasks there
        lock.force_unlock           denied: user 10 is not a member of space 1 and may not force-unlock the deploy locks of projects there
    "#]],
    );
}

#[test]
fn cross_space_access_is_denied_for_every_action() {
    let owner = subject(&[(S1, Role::Owner)], &[(P3_OTHER_SPACE, Role::Master)]);
    let mut denied = 0;
    for resource in samples(S2, P3_OTHER_SPACE) {
        if resource.space().is_none() {
            continue;
        }
        for action in Action::ALL
            .iter()
            .filter(|a| a.resource_kind() == resource.kind())
        {
            let result = crate::check(&owner, *action, &resource);
            // SUPER-only and never-allowed actions are refused before membership is looked at.
            assert!(
                matches!(
                    result,
                    Err(Denied::NotMember { .. }
                        | Denied::Never { .. }
                        | Denied::SuperRequired { .. })
                ),
                "{action} on {resource:?}: {result:?}"
            );
            if let Err(Denied::NotMember { space, .. }) = &result {
                assert_eq!(*space, S2);
            }
            denied += 1;
        }
    }
    let in_a_space = Action::ALL
        .iter()
        .filter(|a| {
            !matches!(
                a.resource_kind(),
                ResourceKind::Platform | ResourceKind::Account
            )
        })
        .count();
    assert_eq!(denied, in_a_space);
    check(
        &owner,
        &Resource::Space(S2),
        expect![[r#"
        space.view                  denied: user 10 is not a member of space 2 and may not view the space there
        space.update                denied: user 10 is not a member of space 2 and may not rename, open or close the space there
        space.delete                denied: user 10 may not delete spaces; SUPER is required
        member.list                 denied: user 10 is not a member of space 2 and may not list the members of the space there
        environment.view            denied: user 10 is not a member of space 2 and may not view environments there
        environment.create          denied: user 10 is not a member of space 2 and may not create environments there
        environment.update          denied: user 10 is not a member of space 2 and may not update environments there
        environment.delete          denied: user 10 is not a member of space 2 and may not delete environments there
        server.view                 denied: user 10 is not a member of space 2 and may not view servers there
        server.create               denied: user 10 is not a member of space 2 and may not create servers there
        server.update               denied: user 10 is not a member of space 2 and may not update servers there
        server.delete               denied: user 10 is not a member of space 2 and may not delete servers there
        server.trust_host_key       denied: user 10 is not a member of space 2 and may not trust or replace the host keys of servers there
        project.create              denied: user 10 is not a member of space 2 and may not create projects there
        audit.view                  denied: user 10 is not a member of space 2 and may not view the audit log of the space there
    "#]],
    );
}

#[test]
fn blocked_users_are_denied_everything() {
    let blocked_super = Subject::from_parts(ME, true, UserStatus::Blocked, &[]);
    let blocked_owner = Subject::from_parts(
        ME,
        false,
        UserStatus::Blocked,
        &[Membership {
            user: ME,
            scope: MemberScope::Space(S1),
            role: Role::Owner,
        }],
    );
    for subject in [&blocked_super, &blocked_owner] {
        for resource in samples(S1, P1) {
            assert_eq!(allowed_actions(subject, &resource), []);
            for action in Action::ALL {
                assert_eq!(
                    crate::check(subject, *action, &resource),
                    Err(Denied::Blocked { user: ME })
                );
            }
        }
        assert_eq!(can_log_in(subject), Err(Denied::Blocked { user: ME }));
    }
    check(
        &blocked_owner,
        &Resource::Space(S1),
        expect![[r#"
        space.view                  denied: user 10 is blocked
        space.update                denied: user 10 is blocked
        space.delete                denied: user 10 is blocked
        member.list                 denied: user 10 is blocked
        environment.view            denied: user 10 is blocked
        environment.create          denied: user 10 is blocked
        environment.update          denied: user 10 is blocked
        environment.delete          denied: user 10 is blocked
        server.view                 denied: user 10 is blocked
        server.create               denied: user 10 is blocked
        server.update               denied: user 10 is blocked
        server.delete               denied: user 10 is blocked
        server.trust_host_key       denied: user 10 is blocked
        project.create              denied: user 10 is blocked
        audit.view                  denied: user 10 is blocked
    "#]],
    );
}

#[test]
fn logging_in_needs_a_space_unless_super() {
    let outcome = |s: &Subject| match can_log_in(s) {
        Ok(()) => "ok".to_owned(),
        Err(d) => format!("denied: {d}"),
    };
    let cases = [
        ("SUPER without a space", super_user()),
        ("REPORTER of a space", member_of_s1(Role::Reporter)),
        ("nothing at all", subject(&[], &[])),
        ("a project only", subject(&[], &[(P1, Role::Master)])),
    ];
    let mut out = String::new();
    for (name, s) in &cases {
        let _ = writeln!(out, "{name}: {}", outcome(s));
    }
    expect![[r#"
        SUPER without a space: ok
        REPORTER of a space: ok
        nothing at all: denied: user 10 belongs to no space and may not log in; an OWNER or SUPER must add them to a space first
        a project only: denied: user 10 belongs to no space and may not log in; an OWNER or SUPER must add them to a space first
    "#]]
    .assert_eq(&out);
}

#[test]
fn grants_are_capped_and_need_a_role() {
    let owner = member_of_s1(Role::Owner);
    let member = |grant| Resource::Member {
        space: S1,
        user: OTHER,
        grant,
    };
    let project_member = |grant| Resource::ProjectMember {
        project: P1,
        user: OTHER,
        grant,
    };
    let new_account = |space, is_super| Resource::NewAccount { space, is_super };
    let cases: Vec<(&str, Subject, Action, Resource)> = vec![
        (
            "owner makes an owner",
            owner.clone(),
            Action::MemberAdd,
            member(Some(Role::Owner)),
        ),
        (
            "owner makes a super",
            owner.clone(),
            Action::MemberChangeRole,
            member(Some(Role::Super)),
        ),
        (
            "super makes a super member",
            super_user(),
            Action::MemberAdd,
            member(Some(Role::Super)),
        ),
        (
            "owner forgets the role",
            owner.clone(),
            Action::MemberAdd,
            member(None),
        ),
        (
            "master adds a member",
            member_of_s1(Role::Master),
            Action::MemberAdd,
            member(Some(Role::Reporter)),
        ),
        (
            "master adds a project master",
            member_of_s1(Role::Master),
            Action::ProjectMemberAdd,
            project_member(Some(Role::Master)),
        ),
        (
            "master adds a project owner",
            member_of_s1(Role::Master),
            Action::ProjectMemberAdd,
            project_member(Some(Role::Owner)),
        ),
        (
            "project master (space developer) adds a project member",
            subject(&[(S1, Role::Developer)], &[(P1, Role::Master)]),
            Action::ProjectMemberAdd,
            project_member(Some(Role::Developer)),
        ),
        (
            "owner creates an account in their space",
            owner.clone(),
            Action::UserCreate,
            new_account(Some((S1, Role::Owner)), false),
        ),
        (
            "owner creates a super",
            owner.clone(),
            Action::UserCreate,
            new_account(Some((S1, Role::Reporter)), true),
        ),
        (
            "owner creates an account in no space",
            owner.clone(),
            Action::UserCreate,
            new_account(None, false),
        ),
        (
            "owner creates an account in another space",
            owner.clone(),
            Action::UserCreate,
            new_account(Some((S2, Role::Reporter)), false),
        ),
        (
            "owner creates a super member",
            owner.clone(),
            Action::UserCreate,
            new_account(Some((S1, Role::Super)), false),
        ),
        (
            "master creates an account",
            member_of_s1(Role::Master),
            Action::UserCreate,
            new_account(Some((S1, Role::Reporter)), false),
        ),
        (
            "super creates a super",
            super_user(),
            Action::UserCreate,
            new_account(None, true),
        ),
    ];
    let mut out = String::new();
    for (name, subject, action, resource) in &cases {
        let outcome = match crate::check(subject, *action, resource) {
            Ok(()) => "ok".to_owned(),
            Err(d) => format!("denied: {d}"),
        };
        let _ = writeln!(out, "{name}: {outcome}");
    }
    expect![[r#"
        owner makes an owner: ok
        owner makes a super: denied: SUPER cannot be granted in a space membership; the highest role there is OWNER (SUPER is granted with user.set_super)
        super makes a super member: denied: SUPER cannot be granted in a space membership; the highest role there is OWNER (SUPER is granted with user.set_super)
        owner forgets the role: denied: member.add needs the role to grant
        master adds a member: denied: MASTER in space 1 may not add members to the space; OWNER or higher is required
        master adds a project master: ok
        master adds a project owner: denied: OWNER cannot be granted in a project membership; the highest role there is MASTER
        project master (space developer) adds a project member: denied: DEVELOPER in space 1 may not add members to projects; MASTER or higher is required
        owner creates an account in their space: ok
        owner creates a super: denied: user 10 may not create accounts; SUPER is required
        owner creates an account in no space: denied: user 10 may not create accounts; SUPER is required
        owner creates an account in another space: denied: user 10 is not a member of space 2 and may not create accounts there
        owner creates a super member: denied: SUPER cannot be granted in a new account; the highest role there is OWNER (SUPER is granted with user.set_super)
        master creates an account: denied: MASTER in space 1 may not create accounts; OWNER or higher is required
        super creates a super: ok
    "#]]
    .assert_eq(&out);
}

#[test]
fn nobody_targets_themselves_and_accounts_are_their_users_own() {
    check(
        &super_user(),
        &Resource::Account(ME),
        expect![[r#"
        user.view                   ok
        user.update                 ok
        user.delete                 denied: user 10 may not delete accounts with themselves as the target; another administrator must do it
        user.block                  denied: user 10 may not block or unblock accounts with themselves as the target; another administrator must do it
        user.set_super              denied: user 10 may not grant or revoke SUPER with themselves as the target; another administrator must do it
    "#]],
    );
    check(
        &member_of_s1(Role::Master),
        &Resource::Account(ME),
        expect![[r#"
        user.view                   ok
        user.update                 ok
        user.delete                 denied: user 10 may not delete accounts; SUPER is required
        user.block                  denied: user 10 may not block or unblock accounts; SUPER is required
        user.set_super              denied: user 10 may not grant or revoke SUPER; SUPER is required
    "#]],
    );
    check(
        &member_of_s1(Role::Owner),
        &Resource::Member {
            space: S1,
            user: ME,
            grant: Some(Role::Reporter),
        },
        expect![[r#"
            member.add                  ok
            member.change_role          denied: user 10 may not change the roles of space members with themselves as the target; another administrator must do it
            member.remove               denied: user 10 may not remove members from the space with themselves as the target; another administrator must do it
        "#]],
    );
}

#[test]
fn walle_2x_bugs_stay_fixed() {
    let cases: Vec<(&str, Subject, Action, Resource)> = vec![
        (
            "2.2 REPORTER reads tasks",
            member_of_s1(Role::Reporter),
            Action::TaskView,
            task(P1, OTHER),
        ),
        (
            "2.2 REPORTER reads logs",
            member_of_s1(Role::Reporter),
            Action::TaskViewLogs,
            task(P1, OTHER),
        ),
        (
            "2.2 REPORTER submits",
            member_of_s1(Role::Reporter),
            Action::TaskSubmit,
            Resource::Project(P1),
        ),
        (
            "2.4/1 DEVELOPER makes themselves OWNER",
            member_of_s1(Role::Developer),
            Action::MemberChangeRole,
            Resource::Member {
                space: S1,
                user: ME,
                grant: Some(Role::Owner),
            },
        ),
        (
            "2.4/2 MASTER creates a SUPER",
            member_of_s1(Role::Master),
            Action::UserCreate,
            Resource::NewAccount {
                space: None,
                is_super: true,
            },
        ),
        (
            "2.4/3 MASTER changes SUPER's password",
            member_of_s1(Role::Master),
            Action::UserUpdate,
            Resource::Account(OTHER),
        ),
        (
            "2.4/3 MASTER deletes a user globally",
            member_of_s1(Role::Master),
            Action::UserDelete,
            Resource::Account(OTHER),
        ),
        (
            "2.4/3 OWNER deletes a user globally",
            member_of_s1(Role::Owner),
            Action::UserDelete,
            Resource::Account(OTHER),
        ),
        (
            "2.4/5 DEVELOPER approves",
            member_of_s1(Role::Developer),
            Action::TaskApprove,
            task(P1, ME),
        ),
        (
            "2.4/5 DEVELOPER deploys another's task",
            member_of_s1(Role::Developer),
            Action::TaskDeploy,
            task(P1, OTHER),
        ),
        (
            "2.4/6 MASTER edits a project of another space",
            member_of_s1(Role::Master),
            Action::ProjectUpdate,
            Resource::Project(P3_OTHER_SPACE),
        ),
        (
            "2.4/6 SUPER reads a repository password",
            super_user(),
            Action::ProjectViewSecrets,
            Resource::Project(P1),
        ),
        (
            "2.4 MASTER lists spaces of others",
            member_of_s1(Role::Master),
            Action::SpaceList,
            Resource::Platform,
        ),
        (
            "2.4 OWNER deletes their space",
            member_of_s1(Role::Owner),
            Action::SpaceDelete,
            Resource::Space(S1),
        ),
        (
            "2.4 DEVELOPER views servers",
            member_of_s1(Role::Developer),
            Action::ServerView,
            Resource::Space(S1),
        ),
        (
            "2.4 MASTER edits environments",
            member_of_s1(Role::Master),
            Action::EnvironmentUpdate,
            Resource::Space(S1),
        ),
        (
            "2.4 DEVELOPER edits their own profile",
            member_of_s1(Role::Developer),
            Action::UserUpdate,
            Resource::Account(ME),
        ),
    ];
    let mut out = String::new();
    for (name, subject, action, resource) in &cases {
        let outcome = match crate::check(subject, *action, resource) {
            Ok(()) => "ok".to_owned(),
            Err(d) => format!("denied: {d}"),
        };
        let _ = writeln!(out, "{name}: {outcome}");
    }
    expect![[r#"
        2.2 REPORTER reads tasks: ok
        2.2 REPORTER reads logs: ok
        2.2 REPORTER submits: denied: REPORTER in space 1 may not submit tasks; DEVELOPER or higher is required
        2.4/1 DEVELOPER makes themselves OWNER: denied: DEVELOPER in space 1 may not change the roles of space members; OWNER or higher is required
        2.4/2 MASTER creates a SUPER: denied: user 10 may not create accounts; SUPER is required
        2.4/3 MASTER changes SUPER's password: denied: user 10 may not change the name, e-mail or password of accounts of other users; SUPER is required
        2.4/3 MASTER deletes a user globally: denied: user 10 may not delete accounts; SUPER is required
        2.4/3 OWNER deletes a user globally: denied: user 10 may not delete accounts; SUPER is required
        2.4/5 DEVELOPER approves: denied: DEVELOPER in space 1 may not approve tasks; MASTER or higher is required
        2.4/5 DEVELOPER deploys another's task: denied: DEVELOPER in space 1 may only deploy tasks they submitted; MASTER or higher is required for tasks of others
        2.4/6 MASTER edits a project of another space: denied: user 10 is not a member of space 2 and may not update projects there
        2.4/6 SUPER reads a repository password: denied: nobody may read the secrets of projects
        2.4 MASTER lists spaces of others: denied: user 10 may not list all spaces of the platform; SUPER is required
        2.4 OWNER deletes their space: denied: user 10 may not delete spaces; SUPER is required
        2.4 DEVELOPER views servers: ok
        2.4 MASTER edits environments: ok
        2.4 DEVELOPER edits their own profile: ok
    "#]]
    .assert_eq(&out);
}

#[test]
fn the_wrong_kind_of_resource_is_refused() {
    let result = crate::check(&super_user(), Action::TaskApprove, &Resource::Project(P1));
    expect![[r#"
        Err(WrongResource { action: TaskApprove, expected: Task, given: Project })
        task.approve applies to a task, not to a project
    "#]]
    .assert_eq(&format!(
        "{result:?}\n{}\n",
        result
            .as_ref()
            .err()
            .map(|d| d.to_string())
            .unwrap_or_default()
    ));
}

#[test]
fn allowed_actions_give_the_ui_flags() {
    let names = |s: &Subject, r: &Resource| {
        allowed_actions(s, r)
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let dev = member_of_s1(Role::Developer);
    let out = format!(
        "own task: {}\nother's task: {}\nproject: {}\n",
        names(&dev, &task(P1, ME)),
        names(&dev, &task(P1, OTHER)),
        names(&dev, &Resource::Project(P1)),
    );
    expect![[r#"
        own task: task.view task.view_logs task.edit task.delete task.deploy task.cancel task.retry task.rollback
        other's task: task.view task.view_logs task.rollback
        project: project.view project.browse_repo project_member.list task.submit
    "#]]
    .assert_eq(&out);
}

#[test]
fn duplicate_memberships_keep_the_lowest_role_and_never_super() {
    let m = |scope, role| Membership {
        user: ME,
        scope,
        role,
    };
    let memberships = [
        m(MemberScope::Space(S1), Role::Owner),
        m(MemberScope::Space(S1), Role::Developer),
        m(MemberScope::Space(S2), Role::Super),
        m(MemberScope::Project(P1.id), Role::Owner),
        Membership {
            user: OTHER,
            scope: MemberScope::Space(SpaceId(9)),
            role: Role::Owner,
        },
    ];
    let s = Subject::from_parts(ME, false, UserStatus::Active, &memberships);
    assert_eq!(s.space_role(S1), Some(Role::Developer));
    assert_eq!(s.space_role(S2), Some(Role::Owner));
    assert_eq!(s.project_membership(P1.id), Some(Role::Master));
    assert_eq!(s.space_role(SpaceId(9)), None);
    assert_eq!(s.spaces().count(), 2);
}
