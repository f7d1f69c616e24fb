//! State-machine scripts: each line is an action, rendered with the resulting status and events.
//!
//! Script commands (users are alice = 1, bob = 2, carol = 3; the first task gets id 7):
//! - `policy [approval] [separate] [tags] [closed-env] [closed-space]`: project settings
//! - `submit USER [servers=1,2] [branch=B] [tag=T]`, `edit USER [servers=..] [branch=B] [tag=T]`
//! - `approve USER [comment]`, `reject USER [comment]`, `delete USER`
//! - `deploy USER`, `retry-failed USER SERVER=STATE..`, `cancel USER`
//! - `succeed`, `fail REASON`, `cancelled`, `recover` (what the engine or startup does)
//! - `rollback USER TASK`: a rollback of the current task to the release task TASK deployed
//! - `forget TASK`: cleanup removed the release of TASK; `task ID`: act on another task

use expect_test::{Expect, expect};

use super::*;
use crate::model::{
    DeployStrategy, Environment, FileFilter, Hooks, HostOutcome, HostState, NotifySettings,
    OpenStatus, Project, ProjectSpec, RepoConfig, RepoCredentials, RepoKind, RepoMode, SharedPaths,
    Space, Task, TaskKind, TaskSource, TaskSpec, TaskStatus,
};
use crate::value::{AbsPath, CommitId, Name, RefName, ReleaseId};
use crate::{EnvironmentId, ProjectId, ServerId, SpaceId, TaskId, Timestamp, UserId};

#[track_caller]
fn check(script: &str, expect: Expect) {
    let mut sim = Sim::new();
    let mut out = String::new();
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        sim.now = sim.now.plus(std::time::Duration::from_secs(60));
        let result = sim.run(line);
        out.push_str(&format!(
            "{line:<32} => {}\n",
            result.unwrap_or_else(|e| format!("error: {e}"))
        ));
    }
    expect.assert_eq(&out);
}

#[test]
fn approval_flow_deploy_and_succeed() {
    check(
        "
        policy approval
        submit alice
        approve bob looks good
        deploy bob
        succeed
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            approve bob looks good           => 7 approved: approved by bob: "looks good"
            deploy bob                       => 7 deploying: deploy started by bob (attempt 1)
            succeed                          => 7 succeeded: deploy succeeded
        "#]],
    );
}

#[test]
fn without_approval_tasks_start_approved() {
    check(
        "
        policy
        submit alice
        approve bob
        reject bob
        deploy alice
        ",
        expect![[r#"
            policy                           => ok
            submit alice                     => 7 approved: submitted by alice; approved automatically (no approval required)
            approve bob                      => error: cannot approve: task 7 is approved; allowed: delete, deploy
            reject bob                       => error: cannot reject: task 7 is approved; allowed: delete, deploy
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
        "#]],
    );
}

#[test]
fn separation_of_duties() {
    check(
        "
        policy approval separate
        submit alice
        approve alice I trust myself
        reject alice withdrawn
        edit alice
        approve bob
        ",
        expect![[r#"
            policy approval separate         => ok
            submit alice                     => 7 submitted: submitted by alice
            approve alice I trust myself     => error: alice submitted task 7 and cannot approve it: project settings require another approver
            reject alice withdrawn           => 7 rejected: rejected by alice: "withdrawn"
            edit alice                       => 7 submitted: edited by alice; submitted by alice
            approve bob                      => 7 approved: approved by bob
        "#]],
    );
    // Without the setting, submitters may approve their own tasks (walle's behaviour).
    check(
        "
        policy approval
        submit alice
        approve alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            approve alice                    => 7 approved: approved by alice
        "#]],
    );
}

#[test]
fn reject_edit_resubmits_per_approval_setting() {
    check(
        "
        policy approval
        submit alice
        reject bob wrong branch
        deploy alice
        edit carol branch=release/2
        reject bob still wrong
        policy
        edit alice branch=main
        deploy alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            reject bob wrong branch          => 7 rejected: rejected by bob: "wrong branch"
            deploy alice                     => error: cannot deploy: task 7 was rejected; allowed: edit, delete
            edit carol branch=release/2      => 7 submitted: edited by carol; submitted by carol
            reject bob still wrong           => 7 rejected: rejected by bob: "still wrong"
            policy                           => ok
            edit alice branch=main           => 7 approved: edited by alice; submitted by alice; approved automatically (no approval required)
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
        "#]],
    );
}

#[test]
fn edit_keeps_submitter_and_clears_review() {
    let mut sim = Sim::new();
    for line in [
        "policy approval",
        "submit alice",
        "reject bob no",
        "edit carol servers=2",
    ] {
        sim.run(line).unwrap();
    }
    let task = sim.current();
    assert_eq!(task.submitter, UserId(1));
    assert_eq!(task.reviewer, None);
    assert_eq!(task.spec.servers, vec![ServerId(2)]);
}

#[test]
fn edit_is_validated_and_only_before_approval() {
    check(
        "
        policy approval
        submit alice
        edit alice servers=1,9
        edit alice tag=v1.0
        approve bob
        edit alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            edit alice servers=1,9           => error: cannot edit task 7: server 9 is not a server of project 3; pick among servers 1, 2, 3
            edit alice tag=v1.0              => error: cannot edit task 7: project 3 deploys branches (branch mode); pick a branch and commit; the task names tag 'v1.0'
            approve bob                      => 7 approved: approved by bob
            edit alice                       => error: cannot edit: task 7 is approved; allowed: delete, deploy
        "#]],
    );
}

#[test]
fn submit_validation() {
    check(
        "
        policy approval
        submit alice servers=
        submit alice servers=1,4
        submit alice servers=2,2
        submit alice tag=v1
        policy approval tags
        submit alice branch=main
        submit alice tag=v1
        policy approval closed-env
        submit alice
        policy approval closed-space
        submit alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice servers=            => error: a task needs at least one server; pick servers of project 3
            submit alice servers=1,4         => error: server 4 is not a server of project 3; pick among servers 1, 2, 3
            submit alice servers=2,2         => error: server 2 is listed twice
            submit alice tag=v1              => error: project 3 deploys branches (branch mode); pick a branch and commit; the task names tag 'v1'
            policy approval tags             => ok
            submit alice branch=main         => error: project 3 deploys tags (tag mode); pick a tag; the task names branch 'main'
            submit alice tag=v1              => 7 submitted: submitted by alice
            policy approval closed-env       => ok
            submit alice                     => error: environment "production" is closed and accepts no new tasks
            policy approval closed-space     => ok
            submit alice                     => error: space "acme" is closed and accepts no new tasks
        "#]],
    );
}

#[test]
fn context_must_belong_together() {
    let sim = Sim::new();
    let mut env = sim.env.clone();
    env.id = EnvironmentId(99);
    let ctx = TaskContext {
        space: &sim.space,
        environment: &env,
        project: &sim.project,
    };
    let err = new_task(&ctx, sim.spec(&[]), &actor("alice"), sim.now).unwrap_err();
    expect!["inconsistent task context: project 3 deploys to environment 2, not 99"]
        .assert_eq(&err.to_string());
}

#[test]
fn delete_only_before_deploy() {
    check(
        "
        policy approval
        submit alice
        delete alice
        submit alice
        approve bob
        delete alice
        submit alice
        reject bob
        delete alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            delete alice                     => 7 deleted: deleted by alice
            submit alice                     => 8 submitted: submitted by alice
            approve bob                      => 8 approved: approved by bob
            delete alice                     => 8 deleted: deleted by alice
            submit alice                     => 9 submitted: submitted by alice
            reject bob                       => 9 rejected: rejected by bob
            delete alice                     => 9 deleted: deleted by alice
        "#]],
    );
    check(
        "
        policy
        submit alice
        deploy alice
        delete alice
        succeed
        delete alice
        ",
        expect![[r#"
            policy                           => ok
            submit alice                     => 7 approved: submitted by alice; approved automatically (no approval required)
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            delete alice                     => error: cannot delete: task 7 is deploying; only cancel is allowed
            succeed                          => 7 succeeded: deploy succeeded
            delete alice                     => error: cannot delete: task 7 has succeeded; allowed: retry failed hosts, roll back
        "#]],
    );
}

#[test]
fn failure_retry_and_retry_failed_hosts() {
    check(
        "
        policy
        submit alice servers=1,2,3
        deploy alice
        fail host 2 unreachable
        deploy bob
        fail health check failed on 3
        retry-failed bob 1=switched 2=switched 3=failed_after_switch
        fail again
        retry-failed bob 1=switched 2=switched 3=switched
        deploy bob
        succeed
        retry-failed bob
        ",
        expect![[r#"
            policy                           => ok
            submit alice servers=1,2,3       => 7 approved: submitted by alice; approved automatically (no approval required)
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            fail host 2 unreachable          => 7 failed: deploy failed: host 2 unreachable
            deploy bob                       => 7 deploying: retry requested by bob on servers 1, 2, 3; deploy started by bob (attempt 2)
            fail health check failed on 3    => 7 failed: deploy failed: health check failed on 3
            retry-failed bob 1=switched 2=switched 3=failed_after_switch => 7 deploying: retry requested by bob on servers 3; deploy started by bob (attempt 3)
            fail again                       => 7 failed: deploy failed: again
            retry-failed bob 1=switched 2=switched 3=switched => error: task 7 has no failed hosts to retry: every server switched to the new release
            deploy bob                       => 7 deploying: retry requested by bob on servers 1, 2, 3; deploy started by bob (attempt 4)
            succeed                          => 7 succeeded: deploy succeeded
            retry-failed bob                 => 7 deploying: retry requested by bob on servers 1, 2, 3; deploy started by bob (attempt 5)
        "#]],
    );
}

#[test]
fn hosts_to_retry_table() {
    let mut sim = Sim::new();
    sim.run("submit alice servers=1,2,3").unwrap();
    let task = sim.current().clone();
    let render = |outcomes: &str| {
        let hosts = hosts_to_retry(&task, &outcomes_of(outcomes));
        format!("{hosts:?}")
    };
    let table = [
        "",
        "1=switched 2=switched 3=switched",
        "1=pending 2=prepared 3=reverted",
        "1=failed_before_switch 2=skipped 3=switched",
        "2=switched",
        "9=failed_before_switch 1=switched 2=switched 3=switched",
        "1=failed_before_switch 1=switched 2=switched 3=switched",
        "1=switched 1=reverted 2=switched 3=switched",
    ]
    .map(|o| format!("{o:<56} -> {}\n", render(o)))
    .concat();
    expect![[r#"
                                                                 -> [ServerId(1), ServerId(2), ServerId(3)]
        1=switched 2=switched 3=switched                         -> []
        1=pending 2=prepared 3=reverted                          -> [ServerId(1), ServerId(2), ServerId(3)]
        1=failed_before_switch 2=skipped 3=switched              -> [ServerId(1), ServerId(2)]
        2=switched                                               -> [ServerId(1), ServerId(3)]
        9=failed_before_switch 1=switched 2=switched 3=switched  -> []
        1=failed_before_switch 1=switched 2=switched 3=switched  -> []
        1=switched 1=reverted 2=switched 3=switched              -> [ServerId(1)]
    "#]]
    .assert_eq(&table);
}

#[test]
fn cancel_only_while_deploying() {
    check(
        "
        policy approval
        submit alice
        cancel alice
        approve bob
        cancel alice
        deploy alice
        cancel carol
        cancelled
        cancel carol
        deploy alice
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            cancel alice                     => error: cannot cancel: task 7 is waiting for approval; allowed: approve, reject, edit, delete
            approve bob                      => 7 approved: approved by bob
            cancel alice                     => error: cannot cancel: task 7 is approved; allowed: delete, deploy
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            cancel carol                     => 7 deploying: cancel requested by carol
            cancelled                        => 7 cancelled: deploy cancelled
            cancel carol                     => error: cannot cancel: task 7 was cancelled; only roll back is allowed
            deploy alice                     => error: cannot deploy: task 7 was cancelled; only roll back is allowed
        "#]],
    );
}

#[test]
fn deploying_allows_only_cancel() {
    check(
        "
        policy approval
        submit alice
        approve bob
        deploy alice
        approve bob
        reject bob
        edit alice
        deploy alice
        retry-failed alice
        rollback alice 7
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            approve bob                      => 7 approved: approved by bob
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            approve bob                      => error: cannot approve: task 7 is deploying; only cancel is allowed
            reject bob                       => error: cannot reject: task 7 is deploying; only cancel is allowed
            edit alice                       => error: cannot edit: task 7 is deploying; only cancel is allowed
            deploy alice                     => error: cannot deploy: task 7 is deploying; only cancel is allowed
            retry-failed alice               => error: cannot retry failed hosts: task 7 is deploying; only cancel is allowed
            rollback alice 7                 => error: cannot roll back: task 7 is deploying; only cancel is allowed
        "#]],
    );
}

#[test]
fn engine_transitions_need_a_running_deploy() {
    check(
        "
        policy approval
        submit alice
        succeed
        fail boom
        cancelled
        recover
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            succeed                          => error: cannot finish: task 7 is waiting for approval; allowed: approve, reject, edit, delete
            fail boom                        => error: cannot finish: task 7 is waiting for approval; allowed: approve, reject, edit, delete
            cancelled                        => error: cannot finish: task 7 is waiting for approval; allowed: approve, reject, edit, delete
            recover                          => error: cannot recover: task 7 is waiting for approval; allowed: approve, reject, edit, delete
        "#]],
    );
}

#[test]
fn crash_recovery_fails_stuck_deploys() {
    check(
        "
        policy
        submit alice
        deploy alice
        recover
        deploy alice
        ",
        expect![[r#"
            policy                           => ok
            submit alice                     => 7 approved: submitted by alice; approved automatically (no approval required)
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            recover                          => 7 failed: marked failed at startup: the server stopped during the deploy; check the hosts and deploy again
            deploy alice                     => 7 deploying: retry requested by alice on servers 1, 2; deploy started by alice (attempt 2)
        "#]],
    );
    let now = Timestamp::from_unix_secs(1_800_000_000);
    let tasks: Vec<Task> = TaskStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| task_in(*s, 10 + i64::try_from(i).unwrap()))
        .collect();
    let recovered = recover_interrupted(&tasks, now);
    assert_eq!(recovered.len(), 1);
    let t = &recovered[0];
    assert_eq!(
        (t.from, t.task.id, t.task.status),
        (TaskStatus::Deploying, TaskId(13), TaskStatus::Failed)
    );
    assert_eq!(t.task.updated_at, now);
    assert_eq!(
        t.events,
        vec![TaskEvent::Recovered {
            reason: RECOVERED_REASON.to_owned()
        }]
    );
}

#[test]
fn rollback_creates_a_new_task() {
    check(
        "
        policy approval
        submit alice
        approve bob
        deploy alice
        succeed
        submit carol
        approve bob
        deploy carol
        succeed
        rollback carol 7
        deploy carol
        approve bob
        deploy carol
        succeed
        rollback alice 8
        ",
        expect![[r#"
            policy approval                  => ok
            submit alice                     => 7 submitted: submitted by alice
            approve bob                      => 7 approved: approved by bob
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            succeed                          => 7 succeeded: deploy succeeded
            submit carol                     => 8 submitted: submitted by carol
            approve bob                      => 8 approved: approved by bob
            deploy carol                     => 8 deploying: deploy started by carol (attempt 1)
            succeed                          => 8 succeeded: deploy succeeded
            rollback carol 7                 => 9 submitted: rollback to 3_7_20270115_080400 created by carol from task 8; submitted by carol
            deploy carol                     => error: cannot deploy: task 9 is waiting for approval; allowed: approve, reject, edit, delete
            approve bob                      => 9 approved: approved by bob
            deploy carol                     => 9 deploying: deploy started by carol (attempt 1)
            succeed                          => 9 succeeded: deploy succeeded
            rollback alice 8                 => 10 submitted: rollback to 3_8_20270115_080800 created by alice from task 9; submitted by alice
        "#]],
    );
}

#[test]
fn rollback_task_fields() {
    let mut sim = Sim::new();
    for line in [
        "policy",
        "submit alice servers=2,3 branch=main",
        "deploy alice",
        "succeed",
        "submit bob",
        "deploy bob",
        "succeed",
        "submit bob servers=1,2,3",
        "deploy bob",
        "fail broken",
        "rollback carol 7",
    ] {
        sim.run(line).unwrap();
    }
    let rb = sim.current();
    expect![[r#"Task { id: TaskId(10), project: ProjectId(3), spec: TaskSpec { name: Name("release 9 (rollback to 3_7_20270115_080000)"), source: Branch { branch: RefName("main"), commit: Some(CommitId("c0ffee7")) }, servers: [ServerId(1), ServerId(2), ServerId(3)] }, kind: Rollback { target: ReleaseId("3_7_20270115_080000") }, status: Approved, submitter: UserId(3), reviewer: None, commit: None, release: None, parent: Some(TaskId(9)), attempts: 0, created_at: Timestamp(1800000000000), updated_at: Timestamp(1800000000000) }"#]].assert_eq(&format!("{rb:?}"));
}

#[test]
fn rollback_refusals() {
    check(
        "
        policy
        submit alice
        deploy alice
        succeed
        submit alice
        deploy alice
        succeed
        rollback bob 8
        forget 7
        rollback bob 7
        submit alice
        rollback bob 7
        ",
        expect![[r#"
            policy                           => ok
            submit alice                     => 7 approved: submitted by alice; approved automatically (no approval required)
            deploy alice                     => 7 deploying: deploy started by alice (attempt 1)
            succeed                          => 7 succeeded: deploy succeeded
            submit alice                     => 8 approved: submitted by alice; approved automatically (no approval required)
            deploy alice                     => 8 deploying: deploy started by alice (attempt 1)
            succeed                          => 8 succeeded: deploy succeeded
            rollback bob 8                   => error: release 3_8_20270115_080600 is already live; there is nothing to roll back to
            forget 7                         => ok
            rollback bob 7                   => error: release 3_7_20270115_080300 is not kept on the servers (kept: 3_8_20270115_080600); it was cleaned up or never deployed
            submit alice                     => 9 approved: submitted by alice; approved automatically (no approval required)
            rollback bob 7                   => error: cannot roll back: task 9 is approved; allowed: delete, deploy
        "#]],
    );
}

#[test]
fn rollback_caller_mistakes() {
    let mut sim = Sim::new();
    for line in [
        "policy",
        "submit alice",
        "deploy alice",
        "succeed",
        "submit alice",
        "deploy alice",
        "succeed",
    ] {
        sim.run(line).unwrap();
    }
    let from = sim.task(TaskId(8)).clone();
    let builder = sim.task(TaskId(7)).clone();
    let target = builder.release.clone().unwrap();
    let other_project = ReleaseId::new("4_7_20270115_080400").unwrap();
    let ctx = sim.ctx();
    let mut req = RollbackRequest {
        from: &from,
        target: &target,
        built_by: &builder,
        kept: &sim.kept,
        live: sim.live.as_ref(),
    };
    let by = actor("bob");
    let err = |req| {
        rollback_task(&ctx, req, &by, sim.now)
            .unwrap_err()
            .to_string()
    };
    req.built_by = &from;
    expect!["task 8 did not deploy release 3_7_20270115_080000"].assert_eq(&err(req));
    req.built_by = &builder;
    req.target = &other_project;
    expect!["release 4_7_20270115_080400 belongs to project 4, not project 3"].assert_eq(&err(req));
    req.target = &target;
    let mut foreign = from.clone();
    foreign.project = ProjectId(4);
    req.from = &foreign;
    expect!["inconsistent task context: task 8 belongs to project 4, not project 3"]
        .assert_eq(&err(req));
}

#[test]
fn rollback_servers_must_still_belong_to_the_project() {
    let mut sim = Sim::new();
    for line in [
        "policy",
        "submit alice servers=1,3",
        "deploy alice",
        "succeed",
        "submit alice",
        "deploy alice",
        "succeed",
    ] {
        sim.run(line).unwrap();
    }
    // Server 3 left the project after task 7 deployed to it.
    sim.project.spec.servers = vec![ServerId(1), ServerId(2)];
    sim.live = None;
    sim.current = Some(TaskId(7));
    expect![[r#"Err("server 3 is not a server of project 3; pick among servers 1, 2")"#]]
        .assert_eq(&format!("{:?}", sim.run("rollback bob 8")));
    sim.current = Some(TaskId(8));
    expect![[r#"Ok("9 approved: rollback to 3_7_20270115_080000 created by bob from task 8; submitted by bob; approved automatically (no approval required)")"#]]
        .assert_eq(&format!("{:?}", sim.run("rollback bob 7")));
}

#[test]
fn rollback_name_is_shortened_to_fit() {
    let mut sim = Sim::new();
    sim.name = "x".repeat(100);
    for line in [
        "policy",
        "submit alice",
        "deploy alice",
        "succeed",
        "submit alice",
        "deploy alice",
        "succeed",
        "rollback bob 7",
    ] {
        sim.run(line).unwrap();
    }
    let name = sim.current().spec.name.as_str().to_owned();
    assert_eq!(name.chars().count(), 100);
    assert!(
        name.starts_with("xxx") && name.contains("x… (rollback to 3_7_"),
        "{name}"
    );
}

/// Every action in every status: `ok` exactly where [`Action::allowed_in`] says so.
#[test]
fn transition_matrix() {
    let mut out = format!("{:<10}", "");
    for a in Action::ALL {
        out.push_str(&format!(" {:>8}", short(a)));
    }
    out.push('\n');
    for status in TaskStatus::ALL {
        out.push_str(&format!("{:<10}", status.as_str()));
        for action in Action::ALL {
            let result = attempt(status, action);
            assert_eq!(
                result.is_ok(),
                action.allowed_in(status),
                "{action} in {status}: {result:?}"
            );
            if let Err(e) = &result {
                assert!(
                    e.contains(status_word(status)) || e.contains("cannot"),
                    "{action} in {status}: {e}"
                );
            }
            out.push_str(&format!(" {:>8}", if result.is_ok() { "ok" } else { "-" }));
        }
        out.push('\n');
    }
    expect![[r#"
                    approve   reject     edit   delete   deploy    retry   cancel   finish  recover rollback
        submitted        ok       ok       ok       ok        -        -        -        -        -        -
        approved          -        -        -       ok       ok        -        -        -        -        -
        rejected          -        -       ok       ok        -        -        -        -        -        -
        deploying         -        -        -        -        -        -       ok       ok       ok        -
        succeeded         -        -        -        -        -       ok        -        -        -       ok
        failed            -        -        -        -       ok       ok        -        -        -       ok
        cancelled         -        -        -        -        -        -        -        -        -       ok
    "#]]
    .assert_eq(&out);
}

#[test]
fn offered_actions() {
    let out: String = TaskStatus::ALL
        .map(|s| {
            let offered: Vec<&str> = Action::offered_in(s).iter().map(|a| a.as_str()).collect();
            format!("{s}: {}\n", offered.join(", "))
        })
        .concat();
    expect![[r#"
        submitted: approve, reject, edit, delete
        approved: delete, deploy
        rejected: edit, delete
        deploying: cancel
        succeeded: retry failed hosts, roll back
        failed: deploy, retry failed hosts, roll back
        cancelled: roll back
    "#]]
    .assert_eq(&out);
}

#[test]
fn event_actors_and_audit_names() {
    let by = actor("bob");
    let target = ReleaseId::new("3_7_20270115_080400").unwrap();
    let events = [
        TaskEvent::Submitted { by: by.clone() },
        TaskEvent::AutoApproved,
        TaskEvent::Approved {
            by: by.clone(),
            comment: String::new(),
        },
        TaskEvent::Rejected {
            by: by.clone(),
            comment: "no \"way\"".into(),
        },
        TaskEvent::Edited { by: by.clone() },
        TaskEvent::Deleted { by: by.clone() },
        TaskEvent::DeployStarted {
            by: by.clone(),
            attempt: 2,
        },
        TaskEvent::RetryRequested {
            by: by.clone(),
            hosts: vec![ServerId(4)],
        },
        TaskEvent::DeploySucceeded,
        TaskEvent::DeployFailed { reason: "x".into() },
        TaskEvent::CancelRequested { by: by.clone() },
        TaskEvent::Cancelled,
        TaskEvent::RollbackCreated {
            by: by.clone(),
            from: TaskId(7),
            target,
        },
        TaskEvent::Recovered { reason: "y".into() },
    ];
    let out: String = events
        .iter()
        .map(|e| {
            let who = e.actor().map_or("-".to_owned(), |a| a.user.to_string());
            format!("{:<20} {who} {e}\n", e.action())
        })
        .collect();
    expect![[r#"
        task.submit          2 submitted by bob
        task.auto_approve    - approved automatically (no approval required)
        task.approve         2 approved by bob
        task.reject          2 rejected by bob: "no \"way\""
        task.edit            2 edited by bob
        task.delete          2 deleted by bob
        task.deploy          2 deploy started by bob (attempt 2)
        task.retry           2 retry requested by bob on servers 4
        task.succeed         - deploy succeeded
        task.fail            - deploy failed: x
        task.cancel_request  2 cancel requested by bob
        task.cancel          - deploy cancelled
        task.rollback        2 rollback to 3_7_20270115_080400 created by bob from task 7
        task.recover         - marked failed at startup: y
    "#]]
    .assert_eq(&out);
}

// ---- helpers ----------------------------------------------------------------------------------

fn short(a: Action) -> &'static str {
    match a {
        Action::RetryFailedHosts => "retry",
        Action::Rollback => "rollback",
        other => other.as_str(),
    }
}

fn status_word(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Submitted => "waiting",
        other => other.as_str(),
    }
}

/// Tries `action` on a task in `status`, with arguments that are otherwise valid.
fn attempt(status: TaskStatus, action: Action) -> Result<(), String> {
    let sim = Sim::new();
    let task = task_in(status, 7);
    let by = actor("bob");
    let now = sim.now;
    let policy = ApprovalPolicy::of(&sim.project.spec);
    let ok = |r: Result<Transition, TransitionError>| r.map(drop).map_err(|e| e.to_string());
    match action {
        Action::Approve => ok(task.approve(policy, &by, "", now)),
        Action::Reject => ok(task.reject(&by, "", now)),
        Action::Edit => ok(task.edit(&sim.ctx(), &by, sim.spec(&[]), now)),
        Action::Delete => task.delete(&by).map(drop).map_err(|e| e.to_string()),
        Action::Deploy => ok(task.start_deploy(&by, now)),
        Action::RetryFailedHosts => ok(task.retry_failed_hosts(&by, &[], now).map(|(t, _)| t)),
        Action::Cancel => task
            .request_cancel(&by)
            .map(drop)
            .map_err(|e| e.to_string()),
        Action::Finish => ok(task.finish(DeployEnd::Succeeded, now)),
        Action::Recover => ok(task.recover(now)),
        Action::Rollback => {
            let mut builder = task_in(TaskStatus::Succeeded, 5);
            let target = ReleaseId::new("3_5_20270101_000000").unwrap();
            builder.release = Some(target.clone());
            let req = RollbackRequest {
                from: &task,
                target: &target,
                built_by: &builder,
                kept: std::slice::from_ref(&target),
                live: None,
            };
            rollback_task(&sim.ctx(), req, &by, now)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

fn actor(name: &str) -> Actor {
    let id = match name {
        "alice" => 1,
        "bob" => 2,
        "carol" => 3,
        other => panic!("unknown user {other}"),
    };
    Actor::new(UserId(id), name)
}

fn task_in(status: TaskStatus, id: i64) -> Task {
    let sim = Sim::new();
    Task {
        id: TaskId(id),
        project: sim.project.id,
        spec: sim.spec(&[]),
        kind: TaskKind::Deploy,
        status,
        submitter: UserId(1),
        reviewer: None,
        commit: None,
        release: None,
        parent: None,
        attempts: 0,
        created_at: sim.now,
        updated_at: sim.now,
    }
}

fn outcomes_of(spec: &str) -> Vec<HostOutcome> {
    spec.split_whitespace()
        .map(|pair| {
            let (server, state) = pair.split_once('=').expect("SERVER=STATE");
            let state = [
                HostState::Pending,
                HostState::Prepared,
                HostState::Switched,
                HostState::Reverted,
                HostState::FailedBeforeSwitch,
                HostState::FailedAfterSwitch,
                HostState::Skipped,
            ]
            .into_iter()
            .find(|s| s.as_str() == state)
            .unwrap_or_else(|| panic!("unknown host state {state}"));
            HostOutcome {
                server: ServerId(server.parse().unwrap()),
                state,
                previous: None,
                live: None,
                error: None,
            }
        })
        .collect()
}

/// A project with servers 1, 2, 3 in an open environment, and the tasks of a script.
struct Sim {
    space: Space,
    env: Environment,
    project: Project,
    tasks: Vec<Task>,
    deleted: Vec<TaskId>,
    current: Option<TaskId>,
    next_id: i64,
    now: Timestamp,
    name: String,
    kept: Vec<ReleaseId>,
    live: Option<ReleaseId>,
}

impl Sim {
    fn new() -> Self {
        let now = Timestamp::from_unix_secs(1_800_000_000);
        let path = |p: &str| AbsPath::new(p).unwrap();
        let spec = ProjectSpec {
            name: Name::new("shop").unwrap(),
            environment: EnvironmentId(2),
            repo: RepoConfig {
                kind: RepoKind::Git,
                url: "https://git.example.com/shop.git".into(),
                mode: RepoMode::Branch,
                credentials: RepoCredentials::None,
            },
            webroot: path("/srv/www/shop"),
            releases_dir: path("/srv/releases/shop"),
            keep_releases: 5,
            filter: FileFilter::default(),
            shared: SharedPaths::default(),
            hooks: Hooks::default(),
            variables: Vec::new(),
            servers: vec![ServerId(1), ServerId(2), ServerId(3)],
            health_check: None,
            strategy: DeployStrategy::default(),
            require_approval: true,
            separate_approver: false,
            notify: NotifySettings::default(),
        };
        Sim {
            space: Space {
                id: SpaceId(1),
                name: Name::new("acme").unwrap(),
                owner: UserId(1),
                status: OpenStatus::Open,
                created_at: now,
            },
            env: Environment {
                id: EnvironmentId(2),
                space: SpaceId(1),
                name: Name::new("production").unwrap(),
                status: OpenStatus::Open,
            },
            project: Project {
                id: ProjectId(3),
                space: SpaceId(1),
                spec,
                created_by: UserId(1),
                created_at: now,
                updated_at: now,
            },
            tasks: Vec::new(),
            deleted: Vec::new(),
            current: None,
            next_id: 7,
            now,
            name: String::new(),
            kept: Vec::new(),
            live: None,
        }
    }

    fn ctx(&self) -> TaskContext<'_> {
        TaskContext {
            space: &self.space,
            environment: &self.env,
            project: &self.project,
        }
    }

    /// A spec with `servers=1,2` and `branch=main` unless the arguments say otherwise.
    fn spec(&self, args: &[&str]) -> TaskSpec {
        let name = if self.name.is_empty() {
            format!("release {}", self.next_id)
        } else {
            self.name.clone()
        };
        let mut spec = TaskSpec {
            name: Name::new(&name).unwrap(),
            source: TaskSource::Branch {
                branch: RefName::new("main").unwrap(),
                commit: None,
            },
            servers: vec![ServerId(1), ServerId(2)],
        };
        for arg in args {
            let (k, v) = arg.split_once('=').expect("KEY=VALUE");
            match k {
                "servers" => {
                    spec.servers = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| ServerId(s.parse().unwrap()))
                        .collect();
                }
                "branch" => {
                    spec.source = TaskSource::Branch {
                        branch: RefName::new(v).unwrap(),
                        commit: None,
                    };
                }
                "tag" => {
                    spec.source = TaskSource::Tag {
                        tag: RefName::new(v).unwrap(),
                    };
                }
                other => panic!("unknown argument {other}"),
            }
        }
        spec
    }

    fn task(&self, id: TaskId) -> &Task {
        self.tasks
            .iter()
            .find(|t| t.id == id)
            .expect("no such task")
    }

    fn current(&self) -> &Task {
        self.task(self.current.expect("no current task"))
    }

    fn store(&mut self, task: Task) {
        match self.tasks.iter_mut().find(|t| t.id == task.id) {
            Some(t) => *t = task,
            None => self.tasks.push(task),
        }
    }

    fn insert(&mut self, created: Created) -> String {
        let new = created.task;
        let id = TaskId(self.next_id);
        self.next_id += 1;
        self.store(Task {
            id,
            project: new.project,
            spec: new.spec,
            kind: new.kind,
            status: new.status,
            submitter: new.submitter,
            reviewer: None,
            commit: None,
            release: None,
            parent: new.parent,
            attempts: 0,
            created_at: new.created_at,
            updated_at: new.created_at,
        });
        self.current = Some(id);
        self.render(&created.events)
    }

    fn apply(&mut self, t: Transition) -> String {
        assert_eq!(t.task.updated_at, self.now);
        self.store(t.task);
        self.render(&t.events)
    }

    fn render(&self, events: &[TaskEvent]) -> String {
        let task = self.current();
        let events: Vec<String> = events.iter().map(ToString::to_string).collect();
        format!("{} {}: {}", task.id, task.status, events.join("; "))
    }

    fn run(&mut self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (cmd, args) = words.split_first().expect("empty line");
        let rest = || args.get(1..).unwrap_or_default().join(" ");
        let who = || actor(args[0]);
        let now = self.now;
        let e = |e: &dyn std::fmt::Display| e.to_string();
        if let Some(id) = self.current
            && self.deleted.contains(&id)
            && !matches!(*cmd, "submit" | "policy" | "task")
        {
            return Err(format!("task {id} is gone"));
        }
        match *cmd {
            "policy" => {
                let spec = &mut self.project.spec;
                spec.require_approval = args.contains(&"approval");
                spec.separate_approver = args.contains(&"separate");
                spec.repo.mode = if args.contains(&"tags") {
                    RepoMode::Tag
                } else {
                    RepoMode::Branch
                };
                let open = |closed| {
                    if closed {
                        OpenStatus::Closed
                    } else {
                        OpenStatus::Open
                    }
                };
                self.env.status = open(args.contains(&"closed-env"));
                self.space.status = open(args.contains(&"closed-space"));
                Ok("ok".into())
            }
            "submit" => {
                let spec = self.spec(&args[1..]);
                let created = new_task(&self.ctx(), spec, &who(), now).map_err(|x| e(&x))?;
                Ok(self.insert(created))
            }
            "edit" => {
                let mut spec = self.spec(&args[1..]);
                spec.name = self.current().spec.name.clone();
                if !args[1..].iter().any(|a| a.starts_with("servers=")) {
                    spec.servers = self.current().spec.servers.clone();
                }
                let t = self
                    .current()
                    .edit(&self.ctx(), &who(), spec, now)
                    .map_err(|x| e(&x))?;
                Ok(self.apply(t))
            }
            "approve" => {
                let policy = ApprovalPolicy::of(&self.project.spec);
                let t = self
                    .current()
                    .approve(policy, &who(), &rest(), now)
                    .map_err(|x| e(&x))?;
                Ok(self.apply(t))
            }
            "reject" => {
                let t = self
                    .current()
                    .reject(&who(), &rest(), now)
                    .map_err(|x| e(&x))?;
                Ok(self.apply(t))
            }
            "delete" => {
                let events = self.current().delete(&who()).map_err(|x| e(&x))?;
                let id = self.current().id;
                self.deleted.push(id);
                Ok(format!("{id} deleted: {}", events[0]))
            }
            "deploy" => {
                let mut t = self
                    .current()
                    .start_deploy(&who(), now)
                    .map_err(|x| e(&x))?;
                if t.task.kind == TaskKind::Deploy && t.task.release.is_none() {
                    // What the engine records when it builds.
                    t.task.release = Some(ReleaseId::for_task(t.task.project, t.task.id, now));
                    t.task.commit = Some(CommitId::new("c0ffee7").unwrap());
                }
                Ok(self.apply(t))
            }
            "retry-failed" => {
                let outcomes = outcomes_of(&rest());
                let (t, _) = self
                    .current()
                    .retry_failed_hosts(&who(), &outcomes, now)
                    .map_err(|x| e(&x))?;
                Ok(self.apply(t))
            }
            "cancel" => {
                let events = self.current().request_cancel(&who()).map_err(|x| e(&x))?;
                Ok(self.render(&events))
            }
            "succeed" | "fail" | "cancelled" => {
                let end = match *cmd {
                    "succeed" => DeployEnd::Succeeded,
                    "fail" => DeployEnd::Failed {
                        reason: args.join(" "),
                    },
                    _ => DeployEnd::Cancelled,
                };
                let t = self.current().finish(end, now).map_err(|x| e(&x))?;
                if t.task.status == TaskStatus::Succeeded {
                    let live = match &t.task.kind {
                        TaskKind::Rollback { target } => target.clone(),
                        TaskKind::Deploy => {
                            t.task.release.clone().expect("deploy sets the release")
                        }
                    };
                    if !self.kept.contains(&live) {
                        self.kept.push(live.clone());
                    }
                    self.live = Some(live);
                }
                Ok(self.apply(t))
            }
            "recover" => {
                let t = self.current().recover(now).map_err(|x| e(&x))?;
                Ok(self.apply(t))
            }
            "rollback" => {
                let builder = self.task(TaskId(args[1].parse().unwrap())).clone();
                let target = builder
                    .release
                    .clone()
                    .expect("the task deployed a release");
                let from = self.current().clone();
                let req = RollbackRequest {
                    from: &from,
                    target: &target,
                    built_by: &builder,
                    kept: &self.kept,
                    live: self.live.as_ref(),
                };
                let created = rollback_task(&self.ctx(), req, &who(), now).map_err(|x| e(&x))?;
                Ok(self.insert(created))
            }
            "forget" => {
                let release = self.task(TaskId(args[0].parse().unwrap())).release.clone();
                self.kept.retain(|r| Some(r) != release.as_ref());
                Ok("ok".into())
            }
            "task" => {
                self.current = Some(TaskId(args[0].parse().unwrap()));
                Ok("ok".into())
            }
            other => panic!("unknown command {other}"),
        }
    }
}
