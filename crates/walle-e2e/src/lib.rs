#![doc = include_str!("../README.md")]

mod sink;
mod view;

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use walle_core::engine::{self, CancelFlag, DeployReport, DeployRequest, EngineError, Ports};
use walle_core::lifecycle::{self, Actor, ApprovalPolicy, RollbackRequest, TaskContext};
use walle_core::model::{
    DeployStrategy, Environment, FileFilter, Hooks, LeaseToken, NotifySettings, Project,
    ProjectSpec, RepoConfig, RepoCredentials, RepoKind, RepoMode, Server, ServerSpec, SharedPaths,
    Space, Task, TaskSource, TaskSpec, TaskStatus, User,
};
use walle_core::ports::{
    Clock, EnvironmentStore, NewUser, ProjectStore, ServerStore, SpaceStore, TaskStore, Transport,
    UserStore,
};
use walle_core::value::{AbsPath, Email, HostName, Name, Port, RefName, ReleaseId, SshUser};
use walle_core::{Secret, ServerId, TaskId, Timestamp};
use walle_store::{DieselStore, SecretKey};
use walle_test_support::{ExclusiveHost, Fleet, Infra, KEEP_FIXTURES_VAR, TestHost};
use walle_transport::workspace::LocalWorkspace;
use walle_transport::{KnownHostsFile, LocalTransport, SshConfig, SshIdentity, SshTransport};
use walle_vcs::{AnyVcs, GitConfig, KnownHosts, SvnConfig, UnknownHostPolicy};

pub use sink::RecordingSink;
pub use view::{View, assert_live};

/// The `Clock` port on the system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_unix_millis(ms)
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The host lease a world holds while it talks to the hosts.
enum HostLease {
    /// A shared lease on every host, held only for its `Drop`.
    Shared { _fleet: Fleet<'static> },
    /// An exclusive lease on one host (its fault helpers) and shared ones on the others.
    Exclusive(ExclusiveHost<'static>),
}

/// One test's world: a store with a user, a space, an environment and one server per target host,
/// the composed adapters, and the test's own directory `/srv/e2e/<name>` on every host.
///
/// The directories are removed when the world is created (leftovers of an earlier run) and when it
/// is dropped (unless `WALLE_TEST_KEEP_FIXTURES` is set).
pub struct World {
    name: String,
    tmp: TempDir,
    /// The store (SQLite in the world's temporary directory).
    pub store: DieselStore,
    /// Git and SVN, with their caches in the temporary directory.
    pub vcs: AnyVcs,
    /// SSH to the target hosts, with strict host key checking against the infra's known_hosts.
    pub ssh: SshTransport,
    /// The deploy host itself.
    pub local: LocalTransport,
    /// Build directories and archives, in the temporary directory.
    pub workspace: LocalWorkspace,
    /// The system clock.
    pub clock: SystemClock,
    /// Every event of every deploy, also appended to the store.
    pub events: Arc<RecordingSink>,
    /// The user who submits, approves and deploys.
    pub user: User,
    /// [`World::user`] as an actor.
    pub actor: Actor,
    /// The space.
    pub space: Space,
    /// The environment projects deploy to.
    pub environment: Environment,
    /// One server per target host, in host order (`wl1`, `wl2`, `wl3`), logging in as root.
    pub servers: Vec<Server>,
    hosts: &'static [TestHost],
    // Last: the lease outlives everything that talks to the hosts.
    lease: HostLease,
}

impl World {
    /// A world holding a shared lease on every host. `name` must be unique among the tests.
    #[track_caller]
    pub fn new(name: &str) -> World {
        let infra = Infra::get();
        World::build(
            name,
            HostLease::Shared {
                _fleet: infra.fleet(),
            },
        )
    }

    /// A world holding an exclusive lease on host `index` (0-based), for fault tests.
    #[track_caller]
    pub fn with_exclusive_host(name: &str, index: usize) -> World {
        let infra = Infra::get();
        World::build(name, HostLease::Exclusive(infra.exclusive_host(index)))
    }

    #[track_caller]
    fn build(name: &str, lease: HostLease) -> World {
        let infra = Infra::get();
        let hosts = infra.hosts();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("walle-e2e-{name}-"))
            .tempdir()
            .expect("a temporary directory");
        let db = tmp.path().join("walle.db");
        let store = DieselStore::open(
            &format!("sqlite://{}", db.display()),
            &SecretKey::generate(),
        )
        .expect("the SQLite store opens");
        let vcs_root = tmp.path().join("vcs");
        let vcs = AnyVcs::new(
            GitConfig {
                cache_root: vcs_root.clone(),
                known_hosts: KnownHosts {
                    path: infra.known_hosts().to_owned(),
                    unknown: UnknownHostPolicy::Reject,
                },
            },
            SvnConfig {
                cache_root: vcs_root,
                command_timeout: Duration::from_secs(60),
            },
        );
        let ssh = SshTransport::new(SshConfig {
            identity: SshIdentity::KeyFile {
                path: infra.client_key().to_owned(),
                passphrase: None,
            },
            host_keys: Arc::new(KnownHostsFile::new(infra.known_hosts().to_owned())),
            tofu: false,
            io_timeout: Duration::from_secs(30),
        });
        let workspace = LocalWorkspace::new(tmp.path().join("workspace"));
        let clock = SystemClock;
        let now = clock.now();
        let user = store
            .create_user(
                &NewUser {
                    username: name_of("e2e deployer"),
                    email: Email::new("deployer@e2e.example.com").expect("a valid e-mail"),
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
                        .to_owned(),
                    is_super: true,
                },
                now,
            )
            .expect("create the user");
        let actor = Actor::new(user.id, user.username.to_string());
        let space = store
            .create_space(&name_of("e2e"), user.id, now)
            .expect("create the space");
        let environment = store
            .create_environment(space.id, &name_of("production"))
            .expect("create the environment");
        let servers = hosts
            .iter()
            .map(|h| {
                let spec = ServerSpec {
                    name: name_of(&h.name),
                    host: HostName::new(&h.addr.to_string()).expect("a valid host address"),
                    port: Port::new(h.port).expect("a valid port"),
                    user: SshUser::new(&h.ssh_user).expect("a valid ssh user"),
                    labels: Vec::new(),
                };
                store
                    .create_server(space.id, &spec)
                    .expect("create the server")
            })
            .collect();
        let events = Arc::new(RecordingSink::new(store.clone()));
        let world = World {
            name: name.to_owned(),
            tmp,
            store,
            vcs,
            ssh,
            local: LocalTransport::default(),
            workspace,
            clock,
            events,
            user,
            actor,
            space,
            environment,
            servers,
            hosts,
            lease,
        };
        world.remove_host_dirs();
        world
    }

    /// The target hosts, in server order.
    pub fn hosts(&self) -> &'static [TestHost] {
        self.hosts
    }

    /// The exclusive lease of a world made by [`World::with_exclusive_host`] (its fault helpers).
    #[track_caller]
    pub fn exclusive(&self) -> &ExclusiveHost<'static> {
        match &self.lease {
            HostLease::Exclusive(e) => e,
            HostLease::Shared { .. } => {
                panic!("this world holds a shared lease; use with_exclusive_host")
            }
        }
    }

    /// The world's temporary directory on the deploy host.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// `/srv/e2e/<name>`: the test's directory on every host.
    pub fn base_dir(&self) -> String {
        format!("/srv/e2e/{}", self.name)
    }

    /// The ids of [`World::servers`].
    pub fn server_ids(&self) -> Vec<ServerId> {
        self.servers.iter().map(|s| s.id).collect()
    }

    /// The ports of a deploy to the target hosts over SSH.
    pub fn ports(&self) -> Ports<'_> {
        self.ports_with(&self.ssh)
    }

    /// The ports of a deploy with `transport` to the targets.
    pub fn ports_with<'a>(&'a self, transport: &'a dyn Transport) -> Ports<'a> {
        Ports {
            store: &self.store,
            vcs: &self.vcs,
            transport,
            local: &self.local,
            workspace: &self.workspace,
            events: &*self.events,
            clock: &self.clock,
            notifier: None,
        }
    }

    /// A git repository in branch mode without credentials.
    pub fn git_repo(url: String) -> RepoConfig {
        RepoConfig {
            kind: RepoKind::Git,
            url,
            mode: RepoMode::Branch,
            credentials: RepoCredentials::None,
        }
    }

    /// An SVN repository in branch mode with a user and password.
    pub fn svn_repo(url: String, username: &str, password: &str) -> RepoConfig {
        RepoConfig {
            kind: RepoKind::Svn,
            url,
            mode: RepoMode::Branch,
            credentials: RepoCredentials::Password {
                username: username.to_owned(),
                password: Secret::new(password.to_owned()),
            },
        }
    }

    /// A project deploying `repo` to every server: webroot `/srv/e2e/<name>/current`, releases in
    /// `/srv/e2e/<name>/releases`, 5 releases kept, no hooks, abort on any failure, approval needed.
    pub fn spec(&self, repo: RepoConfig) -> ProjectSpec {
        let base = self.base_dir();
        ProjectSpec {
            name: name_of(&self.name),
            environment: self.environment.id,
            repo,
            webroot: abs(&format!("{base}/current")),
            releases_dir: abs(&format!("{base}/releases")),
            keep_releases: 5,
            filter: FileFilter::default(),
            shared: SharedPaths::default(),
            hooks: Hooks::default(),
            variables: Vec::new(),
            servers: self.server_ids(),
            health_check: None,
            strategy: DeployStrategy {
                connect_timeout: Duration::from_secs(10),
                command_timeout: Duration::from_secs(60),
                silence_timeout: Duration::from_secs(60),
                ..DeployStrategy::default()
            },
            require_approval: true,
            separate_approver: false,
            notify: NotifySettings::default(),
        }
    }

    /// Stores a project.
    #[track_caller]
    pub fn create_project(&self, spec: &ProjectSpec) -> Project {
        self.store
            .create_project(self.space.id, spec, self.user.id, self.clock.now())
            .expect("create the project")
    }

    /// Changes a project's settings.
    #[track_caller]
    pub fn update_project(
        &self,
        project: &Project,
        change: impl FnOnce(&mut ProjectSpec),
    ) -> Project {
        let mut spec = project.spec.clone();
        change(&mut spec);
        self.store
            .update_project(project.id, &spec, self.clock.now())
            .expect("update the project")
    }

    /// The head of `branch`.
    pub fn branch(branch: &str) -> TaskSource {
        TaskSource::Branch {
            branch: RefName::new(branch).expect("a valid branch name"),
            commit: None,
        }
    }

    /// Creates a deploy task of `source` on every server of the project, approved.
    #[track_caller]
    pub fn submit(&self, project: &Project, title: &str, source: TaskSource) -> Task {
        self.submit_to(project, title, source, project.spec.servers.clone())
    }

    /// Creates a deploy task of `source` on `servers`, approved.
    #[track_caller]
    pub fn submit_to(
        &self,
        project: &Project,
        title: &str,
        source: TaskSource,
        servers: Vec<ServerId>,
    ) -> Task {
        let project = self.store.project(project.id).expect("the project");
        let spec = TaskSpec {
            name: name_of(title),
            source,
            servers,
        };
        let created =
            lifecycle::new_task(&self.context(&project), spec, &self.actor, self.clock.now())
                .expect("the task spec fits the project");
        let task = self
            .store
            .create_task(&created.task)
            .expect("create the task");
        self.approve(&project, task)
    }

    /// Creates a rollback task from `from` (finished) back to the release `built_by` deployed.
    #[track_caller]
    pub fn rollback_task(
        &self,
        project: &Project,
        from: &Task,
        built_by: &Task,
        kept: &[ReleaseId],
        live: Option<&ReleaseId>,
    ) -> Task {
        let project = self.store.project(project.id).expect("the project");
        let target = built_by.release.clone().expect("the task built a release");
        let created = lifecycle::rollback_task(
            &self.context(&project),
            RollbackRequest {
                from,
                target: &target,
                built_by,
                kept,
                live,
            },
            &self.actor,
            self.clock.now(),
        )
        .expect("the rollback is allowed");
        let task = self
            .store
            .create_task(&created.task)
            .expect("create the rollback task");
        self.approve(&project, task)
    }

    fn approve(&self, project: &Project, task: Task) -> Task {
        if task.status != TaskStatus::Submitted {
            return task;
        }
        let t = task
            .approve(
                ApprovalPolicy::of(&project.spec),
                &self.actor,
                "ok",
                self.clock.now(),
            )
            .expect("the task can be approved");
        self.store
            .update_task(&t.task, t.from)
            .expect("store the approval")
    }

    fn context<'a>(&'a self, project: &'a Project) -> TaskContext<'a> {
        TaskContext {
            space: &self.space,
            environment: &self.environment,
            project,
        }
    }

    /// A deploy request for `task` by [`World::actor`], with a fresh lease token.
    pub fn request(&self, task: &Task) -> DeployRequest {
        DeployRequest {
            task: task.id,
            actor: self.actor.clone(),
            failed_hosts_only: false,
            full_transfer: false,
            lease_token: fresh_token(),
        }
    }

    /// Deploys `task` over SSH.
    pub fn deploy(&self, task: &Task) -> Result<DeployReport, EngineError> {
        engine::deploy(&self.ports(), &self.request(task), &CancelFlag::default())
    }

    /// Submits and deploys `source` on every server; panics if the engine refuses to run.
    #[track_caller]
    pub fn ship(&self, project: &Project, title: &str, source: TaskSource) -> (Task, DeployReport) {
        let task = self.submit(project, title, source);
        let report = self.deploy(&task).expect("the engine runs the deploy");
        (self.task(task.id), report)
    }

    /// Like [`World::ship`], and asserts that the deploy succeeded.
    #[track_caller]
    pub fn ship_ok(&self, project: &Project, title: &str, source: TaskSource) -> (Task, ReleaseId) {
        let (task, report) = self.ship(project, title, source);
        assert_eq!(
            report.status,
            TaskStatus::Succeeded,
            "deploy {title:?} failed: {:?}\n{}",
            report.error,
            self.events.transcript(task.id)
        );
        (task, report.release)
    }

    /// The stored task.
    #[track_caller]
    pub fn task(&self, id: TaskId) -> Task {
        self.store.task(id).expect("the task")
    }

    /// What every target host holds for `project`, in server order.
    pub fn views(&self, project: &Project) -> Vec<View> {
        (0..self.hosts.len())
            .map(|i| self.view(i, project))
            .collect()
    }

    /// What host `index` holds for `project`.
    pub fn view(&self, index: usize, project: &Project) -> View {
        let host = &self.hosts[index];
        View::new(
            &host.name,
            self.servers[index].id,
            Some(host.srv_root().to_owned()),
            project,
        )
    }

    /// `<srv of host index>/e2e/<name>/<rel>` as seen from the test: where the host's
    /// `/srv/e2e/<name>/<rel>` is.
    pub fn host_path(&self, index: usize, rel: &str) -> std::path::PathBuf {
        self.hosts[index]
            .srv_root()
            .join("e2e")
            .join(&self.name)
            .join(rel)
    }

    fn remove_host_dirs(&self) {
        for host in self.hosts {
            let dir = host.srv_root().join("e2e").join(&self.name);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("cannot remove {}: {e}", dir.display()),
            }
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let keep = std::env::var_os(KEEP_FIXTURES_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        if !keep && !std::thread::panicking() {
            self.remove_host_dirs();
        } else if !keep {
            // Best effort while unwinding: a second panic would abort.
            for host in self.hosts {
                let _ = std::fs::remove_dir_all(host.srv_root().join("e2e").join(&self.name));
            }
        }
    }
}

/// A new random-enough lease token.
pub fn fresh_token() -> LeaseToken {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    LeaseToken::new(format!(
        "e2e-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// `n` bytes from the operating system's random generator (incompressible file contents).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

/// A validated name.
#[track_caller]
pub fn name_of(s: &str) -> Name {
    Name::new(s).expect("a valid name")
}

/// A validated absolute path.
#[track_caller]
pub fn abs(s: &str) -> AbsPath {
    AbsPath::new(s).expect("a valid absolute path")
}
