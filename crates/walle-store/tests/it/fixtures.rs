//! Builders for the suite: times, users, a space with servers, a project with every setting.

use std::time::Duration;

use walle_core::model::{
    DeployStrategy, FailurePolicy, FileFilter, FilterMode, HealthCheck, HealthProbe, Hooks,
    NotifyChannel, NotifySettings, ProjectSpec, RepoConfig, RepoCredentials, RepoKind, RepoMode,
    ServerSpec, SharedPaths, SwitchMode, TaskKind, TaskSource, TaskSpec, TaskStatus, User,
    Variable,
};
use walle_core::ports::{NewTask, NewUser, Store};
use walle_core::value::{
    AbsPath, CommitId, Email, HostName, Label, Name, Port, RefName, RelPath, SshUser, VarName,
};
use walle_core::{EnvironmentId, ProjectId, Secret, ServerId, SpaceId, Timestamp, UserId};

/// 2025-11-24T16:00:00Z, the suite's "now".
pub(crate) const T0: Timestamp = Timestamp::from_unix_millis(1_764_000_000_000);

/// `T0` plus some seconds.
pub(crate) fn at(secs: u64) -> Timestamp {
    T0.plus(Duration::from_secs(secs))
}

pub(crate) fn name(s: &str) -> Name {
    Name::new(s).expect("valid name")
}

pub(crate) fn email(s: &str) -> Email {
    Email::new(s).expect("valid e-mail")
}

pub(crate) fn label(s: &str) -> Label {
    Label::new(s).expect("valid label")
}

pub(crate) fn abs(s: &str) -> AbsPath {
    AbsPath::new(s).expect("valid absolute path")
}

pub(crate) fn commit(s: &str) -> CommitId {
    CommitId::new(s).expect("valid commit")
}

pub(crate) fn branch(s: &str) -> RefName {
    RefName::new(s).expect("valid ref")
}

pub(crate) fn new_user(username: &str) -> NewUser {
    NewUser {
        username: name(username),
        email: email(&format!(
            "{}@walle.test",
            username.to_lowercase().replace(' ', ".")
        )),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${username}"),
        is_super: false,
    }
}

pub(crate) fn user<S: Store>(store: &S, username: &str) -> User {
    store
        .create_user(&new_user(username), T0)
        .expect("create user")
}

pub(crate) fn server_spec(n: &str, host: &str, labels: &[&str]) -> ServerSpec {
    ServerSpec {
        name: name(n),
        host: HostName::new(host).expect("valid host"),
        port: Port::new(2222).expect("valid port"),
        user: SshUser::new("deploy").expect("valid user"),
        labels: labels.iter().map(|l| label(l)).collect(),
    }
}

/// A space owned by `owner`, with one environment and `n` servers.
pub(crate) struct World {
    pub(crate) space: SpaceId,
    pub(crate) env: EnvironmentId,
    pub(crate) servers: Vec<ServerId>,
}

pub(crate) fn world<S: Store>(store: &S, space_name: &str, owner: UserId, n: usize) -> World {
    let space = store
        .create_space(&name(space_name), owner, T0)
        .expect("create space");
    let env = store
        .create_environment(space.id, &name("production"))
        .expect("create environment");
    let servers = (0..n)
        .map(|i| {
            store
                .create_server(
                    space.id,
                    &server_spec(&format!("web-{i}"), &format!("10.0.0.{}", i + 1), &["web"]),
                )
                .expect("create server")
                .id
        })
        .collect();
    World {
        space: space.id,
        env: env.id,
        servers,
    }
}

/// A project spec with every setting set to something other than its default.
pub(crate) fn full_spec(project: &str, env: EnvironmentId, servers: &[ServerId]) -> ProjectSpec {
    ProjectSpec {
        name: name(project),
        environment: env,
        repo: RepoConfig {
            kind: RepoKind::Git,
            url: "https://git.example.com/team/app.git".to_owned(),
            mode: RepoMode::Tag,
            credentials: RepoCredentials::Password {
                username: "ci-bot".to_owned(),
                password: Secret::new("s3cr3t-repo-token"),
            },
        },
        webroot: abs("/var/www/app"),
        releases_dir: abs("/var/www/releases/app"),
        keep_releases: 7,
        filter: FileFilter {
            mode: FilterMode::Include,
            patterns: vec![
                "dist/**".to_owned(),
                "*.php".to_owned(),
                "vendor".to_owned(),
            ],
        },
        shared: SharedPaths {
            files: vec![RelPath::new(".env").expect("rel")],
            dirs: vec![
                RelPath::new("storage/logs").expect("rel"),
                RelPath::new("uploads").expect("rel"),
            ],
        },
        hooks: Hooks {
            pre_deploy: vec!["echo pre-deploy".to_owned()],
            post_deploy: vec![
                "composer install --no-dev".to_owned(),
                "npm run build".to_owned(),
            ],
            pre_release: vec!["php artisan down || true".to_owned()],
            post_release: vec![
                "php artisan up".to_owned(),
                "sudo systemctl reload php-fpm".to_owned(),
            ],
            post_rollback: vec!["echo rolled back to \"$WALLE_VERSION\"".to_owned()],
        },
        variables: vec![
            Variable {
                name: VarName::new("APP_ENV").expect("var"),
                value: "production".to_owned(),
            },
            Variable {
                name: VarName::new("GREETING").expect("var"),
                value: "hello 'world' $(not run) 你好".to_owned(),
            },
        ],
        servers: servers.to_vec(),
        health_check: Some(HealthCheck {
            probe: HealthProbe::Http {
                url: "http://127.0.0.1:8080/health".to_owned(),
            },
            retries: 5,
            interval: Duration::from_millis(1500),
            timeout: Duration::from_secs(3),
        }),
        strategy: DeployStrategy {
            parallelism: 3,
            switch: SwitchMode::Rolling { batch_size: 2 },
            failure: FailurePolicy::MaxFailPercent(25),
            connect_timeout: Duration::from_secs(7),
            command_timeout: Duration::from_secs(900),
            silence_timeout: Duration::from_millis(120_500),
        },
        require_approval: true,
        separate_approver: true,
        notify: NotifySettings {
            channels: vec![
                NotifyChannel::DingTalk {
                    url: "https://oapi.dingtalk.com/robot/send?access_token=abc".to_owned(),
                    secret: Some(Secret::new("SEC-dingtalk-signing")),
                },
                NotifyChannel::Webhook {
                    url: "https://hooks.example.com/walle".to_owned(),
                },
                NotifyChannel::Email {
                    to: vec![email("ops@walle.test"), email("dev@walle.test")],
                },
            ],
        },
    }
}

/// The other variant of every setting, for an update.
pub(crate) fn changed_spec(spec: &ProjectSpec, servers: &[ServerId]) -> ProjectSpec {
    let mut s = spec.clone();
    s.name = name(&format!("{} v2", spec.name));
    s.repo = RepoConfig {
        kind: RepoKind::Svn,
        url: "svn://svn.example.com/app".to_owned(),
        mode: RepoMode::Branch,
        credentials: RepoCredentials::SshKey {
            key_path: abs("/home/walle/.ssh/id_ed25519"),
            passphrase: Some(Secret::new("key passphrase")),
        },
    };
    s.keep_releases = 1;
    s.filter = FileFilter::default();
    s.shared = SharedPaths::default();
    s.hooks = Hooks::default();
    s.variables = Vec::new();
    s.servers = servers.to_vec();
    s.health_check = Some(HealthCheck {
        probe: HealthProbe::Command {
            line: "test -f index.html".to_owned(),
        },
        retries: 1,
        interval: Duration::ZERO,
        timeout: Duration::from_secs(1),
    });
    s.strategy = DeployStrategy {
        failure: FailurePolicy::MaxFailCount(2),
        ..DeployStrategy::default()
    };
    s.require_approval = false;
    s.separate_approver = false;
    s.notify = NotifySettings::default();
    s
}

pub(crate) fn task_spec(title: &str, servers: &[ServerId]) -> TaskSpec {
    TaskSpec {
        name: name(title),
        source: TaskSource::Branch {
            branch: branch("main"),
            commit: Some(commit("0123abcd")),
        },
        servers: servers.to_vec(),
    }
}

pub(crate) fn new_task(
    project: ProjectId,
    title: &str,
    servers: &[ServerId],
    by: UserId,
) -> NewTask {
    NewTask {
        project,
        spec: task_spec(title, servers),
        kind: TaskKind::Deploy,
        status: TaskStatus::Submitted,
        submitter: by,
        parent: None,
        created_at: T0,
    }
}
