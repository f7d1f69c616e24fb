use expect_test::{Expect, expect};

use super::*;
use crate::model::{
    FileFilter, FilterMode, HealthCheck, HealthProbe, Hooks, NotifySettings, ProjectSpec,
    RepoConfig, RepoCredentials, RepoMode, ServerSpec, SharedPaths, TaskSpec, TaskStatus, Variable,
};
use crate::value::{HostName, Name, Port, RefName, RelPath, SshUser};
use crate::{EnvironmentId, ProjectId, SpaceId, TaskId, UserId};

fn project(kind: RepoKind, mode: RepoMode) -> Project {
    Project {
        id: ProjectId(29),
        space: SpaceId(1),
        spec: ProjectSpec {
            name: Name::new("shop api").unwrap(),
            environment: EnvironmentId(1),
            repo: RepoConfig {
                kind,
                url: match kind {
                    RepoKind::Git => "ssh://git@example.com/shop.git".into(),
                    RepoKind::Svn => "svn://svn.example.com/shop".into(),
                },
                mode,
                credentials: RepoCredentials::None,
            },
            webroot: AbsPath::new("/srv/www/current").unwrap(),
            releases_dir: AbsPath::new("/srv/www/releases").unwrap(),
            keep_releases: 3,
            filter: FileFilter::default(),
            shared: SharedPaths::default(),
            hooks: Hooks::default(),
            variables: Vec::new(),
            servers: vec![ServerId(1), ServerId(2)],
            health_check: None,
            strategy: DeployStrategy::default(),
            require_approval: true,
            separate_approver: false,
            notify: NotifySettings::default(),
        },
        created_by: UserId(1),
        created_at: Timestamp::EPOCH,
        updated_at: Timestamp::EPOCH,
    }
}

fn server(id: i64, host: &str) -> Server {
    Server {
        id: ServerId(id),
        space: SpaceId(1),
        spec: ServerSpec {
            name: Name::new(&format!("web{id}")).unwrap(),
            host: HostName::new(host).unwrap(),
            port: Port::default(),
            user: SshUser::new("deploy").unwrap(),
            labels: Vec::new(),
        },
        host_key: None,
    }
}

fn task(source: TaskSource, kind: TaskKind) -> Task {
    Task {
        id: TaskId(78),
        project: ProjectId(29),
        spec: TaskSpec {
            name: Name::new("release \"v2\" it's big").unwrap(),
            source,
            servers: vec![ServerId(1), ServerId(2)],
        },
        kind,
        status: TaskStatus::Approved,
        submitter: UserId(4),
        reviewer: None,
        commit: None,
        release: None,
        parent: None,
        attempts: 0,
        created_at: Timestamp::EPOCH,
        updated_at: Timestamp::EPOCH,
    }
}

fn branch(name: &str) -> TaskSource {
    TaskSource::Branch {
        branch: RefName::new(name).unwrap(),
        commit: None,
    }
}

#[track_caller]
fn check(project: &Project, task: &Task, commit: Option<&str>, expect: Expect) {
    let servers = [server(1, "10.0.0.1"), server(2, "web2.example.com")];
    let release = ReleaseId::new("29_78_20190225_190422").unwrap();
    let commit = commit.map(|c| CommitId::new(c).unwrap());
    let plan = build_plan(PlanInput {
        project,
        task,
        servers: &servers,
        release: &release,
        commit: commit.as_ref(),
        deploy_user: "alice",
        cache_dir: &AbsPath::new("/var/lib/walle/cache/29").unwrap(),
        build_dir: &AbsPath::new("/var/lib/walle/builds/29_78_20190225_190422").unwrap(),
        now: Timestamp::from_unix_secs(1_551_121_462),
    })
    .unwrap();
    expect.assert_eq(&plan.render());
}

#[test]
fn git_branch_minimal() {
    check(
        &project(RepoKind::Git, RepoMode::Branch),
        &task(branch("main"), TaskKind::Deploy),
        None,
        expect![[r#"
            deploy release 29_78_20190225_190422
              webroot   /srv/www/current -> /srv/www/releases/29_78_20190225_190422
              releases  /srv/www/releases (keep 3)
              strategy  prepare 10 host(s) at a time, switch all hosts at once, any failure aborts all
            variables
              WEBROOT='/srv/www/current'
              CURRENT_RELEASE='/srv/www/releases'
              VERSION='29_78_20190225_190422'
              BRANCH='main'
              TAG=''
              COMMIT_ID=''
              PROJECT_NAME='shop api'
              PROJECT_ID='29'
              TASK_NAME='release "v2" it'\''s big'
              TASK_ID='78'
              DEPLOY_USER='alice'
              DEPLOY_TIME='20190225-19:04:22'
              RELEASE_PATH='/srv/www/releases/29_78_20190225_190422'
            on the deploy host
              fetch git ssh://git@example.com/shop.git into /var/lib/walle/cache/29
              resolve head of branch main
              export into /var/lib/walle/builds/29_78_20190225_190422 (everything; never .git/.svn)
              package with a SHA-256 manifest
            on web1 (deploy@10.0.0.1:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
            on web2 (deploy@web2.example.com:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
        "#]],
    );
}

#[test]
fn git_tag_with_hooks_filters_shared_and_hostile_variables() {
    let mut p = project(RepoKind::Git, RepoMode::Tag);
    p.spec.filter = FileFilter {
        mode: FilterMode::Exclude,
        patterns: vec!["*.log".into(), "tests".into()],
    };
    p.spec.shared = SharedPaths {
        files: vec![RelPath::new(".env").unwrap()],
        dirs: vec![RelPath::new("storage/logs").unwrap()],
    };
    p.spec.hooks = Hooks {
        pre_deploy: Hooks::lines("echo pre $BRANCH\n# a comment\n\n"),
        post_deploy: Hooks::lines("make build"),
        pre_release: Hooks::lines("test -f index.php"),
        post_release: Hooks::lines("systemctl reload php-fpm"),
        post_rollback: Vec::new(),
    };
    p.spec.variables =
        Variable::parse_lines("EVIL=$(rm -rf /); echo 'x'\nWEBROOT=/override\n# skip\nEMPTY=")
            .unwrap();
    p.spec.health_check = Some(HealthCheck {
        probe: HealthProbe::Http {
            url: "http://127.0.0.1:8080/health?a=1&b=2".into(),
        },
        retries: 3,
        interval: std::time::Duration::from_secs(2),
        timeout: std::time::Duration::from_secs(5),
    });
    p.spec.strategy.switch = SwitchMode::Rolling { batch_size: 1 };
    p.spec.strategy.failure = FailurePolicy::MaxFailPercent(50);
    let t = task(
        TaskSource::Tag {
            tag: RefName::new("v2.0.0").unwrap(),
        },
        TaskKind::Deploy,
    );
    check(
        &p,
        &t,
        Some("0123456789abcdef0123456789abcdef01234567"),
        expect![[r#"
            deploy release 29_78_20190225_190422
              webroot   /srv/www/current -> /srv/www/releases/29_78_20190225_190422
              releases  /srv/www/releases (keep 3)
              strategy  prepare 10 host(s) at a time, switch in batches of 1, tolerate 50% failed hosts
              health    3 attempt(s), 2s apart, 5s each
            variables
              CURRENT_RELEASE='/srv/www/releases'
              VERSION='29_78_20190225_190422'
              BRANCH=''
              TAG='v2.0.0'
              COMMIT_ID='0123456789abcdef0123456789abcdef01234567'
              PROJECT_NAME='shop api'
              PROJECT_ID='29'
              TASK_NAME='release "v2" it'\''s big'
              TASK_ID='78'
              DEPLOY_USER='alice'
              DEPLOY_TIME='20190225-19:04:22'
              RELEASE_PATH='/srv/www/releases/29_78_20190225_190422'
              EVIL='$(rm -rf /); echo '\''x'\'''
              WEBROOT='/override'
              EMPTY=''
            on the deploy host
              fetch git ssh://git@example.com/shop.git into /var/lib/walle/cache/29
              resolve commit 0123456789abcdef0123456789abcdef01234567
              pre-deploy: (in /var/lib/walle/cache/29) echo pre $BRANCH
              export into /var/lib/walle/builds/29_78_20190225_190422 (excluding *.log, tests; never .git/.svn)
              build: (in /var/lib/walle/builds/29_78_20190225_190422) make build
              package with a SHA-256 manifest
            on web1 (deploy@10.0.0.1:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              link shared directory storage/logs -> /srv/www/releases/shared/storage/logs
              link shared file .env -> /srv/www/releases/shared/.env
              pre-release: (in /srv/www/releases/29_78_20190225_190422) test -f index.php
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              health check: sh -c 'if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time "$2" -- "$1"; else wget -q -O /dev/null -T "$2" -- "$1"; fi' sh 'http://127.0.0.1:8080/health?a=1&b=2' 5
              post-release: (in /srv/www/current) systemctl reload php-fpm
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
            on web2 (deploy@web2.example.com:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              link shared directory storage/logs -> /srv/www/releases/shared/storage/logs
              link shared file .env -> /srv/www/releases/shared/.env
              pre-release: (in /srv/www/releases/29_78_20190225_190422) test -f index.php
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              health check: sh -c 'if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time "$2" -- "$1"; else wget -q -O /dev/null -T "$2" -- "$1"; fi' sh 'http://127.0.0.1:8080/health?a=1&b=2' 5
              post-release: (in /srv/www/current) systemctl reload php-fpm
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
        "#]],
    );
}

#[test]
fn svn_branch_with_include_list() {
    let mut p = project(RepoKind::Svn, RepoMode::Branch);
    p.spec.filter = FileFilter {
        mode: FilterMode::Include,
        patterns: vec!["public".into(), "*.php".into()],
    };
    let t = task(
        TaskSource::Branch {
            branch: RefName::new("trunk").unwrap(),
            commit: Some(CommitId::new("1234").unwrap()),
        },
        TaskKind::Deploy,
    );
    check(
        &p,
        &t,
        None,
        expect![[r#"
            deploy release 29_78_20190225_190422
              webroot   /srv/www/current -> /srv/www/releases/29_78_20190225_190422
              releases  /srv/www/releases (keep 3)
              strategy  prepare 10 host(s) at a time, switch all hosts at once, any failure aborts all
            variables
              WEBROOT='/srv/www/current'
              CURRENT_RELEASE='/srv/www/releases'
              VERSION='29_78_20190225_190422'
              BRANCH='trunk'
              TAG=''
              COMMIT_ID='1234'
              PROJECT_NAME='shop api'
              PROJECT_ID='29'
              TASK_NAME='release "v2" it'\''s big'
              TASK_ID='78'
              DEPLOY_USER='alice'
              DEPLOY_TIME='20190225-19:04:22'
              RELEASE_PATH='/srv/www/releases/29_78_20190225_190422'
            on the deploy host
              fetch svn svn://svn.example.com/shop into /var/lib/walle/cache/29
              resolve commit 1234
              export into /var/lib/walle/builds/29_78_20190225_190422 (only public, *.php; never .git/.svn)
              package with a SHA-256 manifest
            on web1 (deploy@10.0.0.1:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
            on web2 (deploy@web2.example.com:22)
              connect, verify host key, lock /srv/www/releases/.walle/lock
              mkdir -p -- /srv/www/releases /srv/www/releases/shared /srv/www/releases/.walle
              upload into /srv/www/releases/29_78_20190225_190422 (only files changed since the live release travel; unchanged ones are hard-linked), verify checksums
              -- barrier: every host prepared --
              switch /srv/www/current -> /srv/www/releases/29_78_20190225_190422 (atomic rename, verified)
              record in /srv/www/releases/.walle/ledger, clean up beyond 3 releases, unlock
        "#]],
    );
}

#[test]
fn rollback_ships_nothing_and_uses_rollback_hooks() {
    let mut p = project(RepoKind::Git, RepoMode::Branch);
    p.spec.hooks.pre_release = Hooks::lines("./stop.sh");
    p.spec.hooks.post_release = Hooks::lines("./start.sh");
    p.spec.hooks.post_rollback = Hooks::lines("./start.sh --after-rollback");
    let target = ReleaseId::new("29_70_20190101_000000").unwrap();
    let t = task(
        branch("main"),
        TaskKind::Rollback {
            target: target.clone(),
        },
    );
    let servers = [server(1, "10.0.0.1")];
    let plan = build_plan(PlanInput {
        project: &p,
        task: &t,
        servers: &servers,
        release: &target,
        commit: None,
        deploy_user: "bob",
        cache_dir: &AbsPath::new("/c").unwrap(),
        build_dir: &AbsPath::new("/c").unwrap(),
        now: Timestamp::EPOCH,
    })
    .unwrap();
    assert_eq!(plan.kind, PlanKind::Rollback);
    assert!(plan.local.is_none());
    assert_eq!(
        plan.hosts[0].release_dir.as_str(),
        "/srv/www/releases/29_70_20190101_000000"
    );
    assert_eq!(
        plan.hosts[0].post_release[0].display(),
        "(in /srv/www/current) ./start.sh --after-rollback"
    );
    let version = plan
        .variables
        .iter()
        .find(|(k, _)| k.as_str() == "VERSION")
        .unwrap();
    assert_eq!(version.1, "29_70_20190101_000000");
}

#[test]
fn refuses_foreign_and_missing_servers() {
    let p = project(RepoKind::Git, RepoMode::Branch);
    let t = task(branch("main"), TaskKind::Deploy);
    let release = ReleaseId::new("29_78_20190225_190422").unwrap();
    let cache = AbsPath::new("/c").unwrap();
    let input = |servers| PlanInput {
        project: &p,
        task: &t,
        servers,
        release: &release,
        commit: None,
        deploy_user: "a",
        cache_dir: &cache,
        build_dir: &cache,
        now: Timestamp::EPOCH,
    };
    assert_eq!(build_plan(input(&[])).unwrap_err(), PlanError::NoServers);
    assert_eq!(
        build_plan(input(&[server(9, "x")])).unwrap_err(),
        PlanError::ForeignServer(ServerId(9))
    );
}

#[test]
fn hook_values_are_passed_quoted_never_spliced() {
    let mut p = project(RepoKind::Git, RepoMode::Branch);
    p.spec.hooks.pre_release = Hooks::lines("echo \"$TASK_NAME\"");
    p.spec.variables = Variable::parse_lines("X='; reboot #").unwrap();
    let t = task(branch("feature/$(id)"), TaskKind::Deploy);
    let servers = [server(1, "10.0.0.1")];
    let release = ReleaseId::new("29_78_20190225_190422").unwrap();
    let cache = AbsPath::new("/c").unwrap();
    let plan = build_plan(PlanInput {
        project: &p,
        task: &t,
        servers: &servers,
        release: &release,
        commit: None,
        deploy_user: "a",
        cache_dir: &cache,
        build_dir: &cache,
        now: Timestamp::EPOCH,
    })
    .unwrap();
    let line = plan.hosts[0].pre_release[0].render();
    assert!(line.contains("BRANCH='feature/$(id)'"), "{line}");
    assert!(
        line.contains("TASK_NAME='release \"v2\" it'\\''s big'"),
        "{line}"
    );
    assert!(line.contains("X=''\\''; reboot #'"), "{line}");
    assert!(line.ends_with("'sh' '-c' 'echo \"$TASK_NAME\"'"), "{line}");
}
