//! walle-store on each backend: appending deploy events in batches of 100 (the live console's
//! write path) and the task list's first page with a keyword over 10,000 tasks.
//!
//! SQLite runs in a temp dir; MariaDB and PostgreSQL use fresh databases from the test
//! infrastructure (`sudo scripts/infra up`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use divan::Bencher;
use divan::counter::ItemsCount;
use tempfile::TempDir;
use walle_core::model::{
    EventStream, FileFilter, NewDeployEvent, Page, ProjectSpec, RepoConfig, RepoCredentials,
    RepoKind, RepoMode, ServerSpec, Step, TaskKind, TaskSource, TaskSpec, TaskStatus,
};
use walle_core::ports::{
    EnvironmentStore, EventStore, NewTask, NewUser, ProjectStore, ServerStore, SpaceStore,
    TaskFilter, TaskStore, UserStore,
};
use walle_core::value::{AbsPath, Email, HostName, Name, Port, RefName, SshUser};
use walle_core::{ProjectId, ServerId, SpaceId, TaskId, Timestamp, UserId};
use walle_store::{Backend, DieselStore, SecretKey};
use walle_test_support::TestDb;

const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Mysql, Backend::Postgres];
/// Events per `append_events` call.
const BATCH: usize = 100;
/// Tasks in the task-list benchmark.
const TASKS: usize = 10_000;
/// Seeding threads (creating 10,000 tasks one transaction at a time takes a while on a server).
const SEEDERS: usize = 4;

const T0: Timestamp = Timestamp::from_unix_millis(1_764_000_000_000);

/// A store on a fresh database, with a project to hang tasks on.
struct Fixture {
    store: DieselStore,
    space: SpaceId,
    project: ProjectId,
    user: UserId,
    server: ServerId,
    /// The task whose event stream grows while the append benchmark runs.
    task: TaskId,
    seeded: bool,
    _dir: Option<TempDir>,
    _db: Option<TestDb>,
}

static FIXTURES: Mutex<Option<HashMap<Backend, Fixture>>> = Mutex::new(None);

/// Drops the fixtures (and their databases); statics are never dropped.
pub(crate) fn teardown() {
    drop(
        FIXTURES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(),
    );
}

fn with_fixture<T>(backend: Backend, f: impl FnOnce(&mut Fixture) -> T) -> T {
    let mut guard = FIXTURES.lock().unwrap_or_else(PoisonError::into_inner);
    let map = guard.get_or_insert_with(HashMap::new);
    let fixture = map.entry(backend).or_insert_with(|| Fixture::new(backend));
    f(fixture)
}

fn name(s: &str) -> Name {
    Name::new(s).expect("name")
}

impl Fixture {
    fn new(backend: Backend) -> Fixture {
        let (url, dir, db) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                (url, Some(dir), None)
            }
            Backend::Mysql => {
                let db = TestDb::mysql();
                (db.url().to_owned(), None, Some(db))
            }
            Backend::Postgres => {
                let db = TestDb::postgres();
                (db.url().to_owned(), None, Some(db))
            }
        };
        let store = DieselStore::open(&url, &SecretKey::generate()).expect("open the store");
        let user = store
            .create_user(
                &NewUser {
                    username: name("bench"),
                    email: Email::new("bench@walle.test").expect("email"),
                    password_hash: "$argon2id$bench".to_owned(),
                    is_super: false,
                },
                T0,
            )
            .expect("user")
            .id;
        let space = store
            .create_space(&name("bench"), user, T0)
            .expect("space")
            .id;
        let env = store
            .create_environment(space, &name("prod"))
            .expect("env")
            .id;
        let server = store
            .create_server(
                space,
                &ServerSpec {
                    name: name("web-1"),
                    host: HostName::new("10.0.0.1").expect("host"),
                    port: Port::default(),
                    user: SshUser::new("deploy").expect("user"),
                    labels: Vec::new(),
                },
            )
            .expect("server")
            .id;
        let spec = ProjectSpec {
            name: name("app"),
            environment: env,
            repo: RepoConfig {
                kind: RepoKind::Git,
                url: "https://git.example.com/app.git".to_owned(),
                mode: RepoMode::Branch,
                credentials: RepoCredentials::None,
            },
            webroot: AbsPath::new("/var/www/app").expect("path"),
            releases_dir: AbsPath::new("/var/www/releases").expect("path"),
            keep_releases: 5,
            filter: FileFilter::default(),
            shared: Default::default(),
            hooks: Default::default(),
            variables: Vec::new(),
            servers: vec![server],
            health_check: None,
            strategy: Default::default(),
            require_approval: false,
            separate_approver: false,
            notify: Default::default(),
        };
        let project = store
            .create_project(space, &spec, user, T0)
            .expect("project")
            .id;
        let mut fixture = Fixture {
            store,
            space,
            project,
            user,
            server,
            task: TaskId(0),
            seeded: false,
            _dir: dir,
            _db: db,
        };
        fixture.task = fixture.create_task(0, "event stream");
        fixture
    }

    fn new_task(&self, i: usize, title: &str) -> NewTask {
        NewTask {
            project: self.project,
            spec: TaskSpec {
                name: name(title),
                source: TaskSource::Branch {
                    branch: RefName::new("main").expect("ref"),
                    commit: None,
                },
                servers: vec![self.server],
            },
            kind: TaskKind::Deploy,
            status: TaskStatus::Approved,
            submitter: self.user,
            parent: None,
            created_at: T0.plus(std::time::Duration::from_secs(i as u64)),
        }
    }

    fn create_task(&self, i: usize, title: &str) -> TaskId {
        self.store
            .create_task(&self.new_task(i, title))
            .expect("task")
            .id
    }

    /// 10,000 tasks; one in ten is a "hotfix".
    fn seed_tasks(&mut self) {
        if self.seeded {
            return;
        }
        std::thread::scope(|s| {
            for t in 0..SEEDERS {
                let this = &*self;
                s.spawn(move || {
                    for i in (t..TASKS).step_by(SEEDERS) {
                        let title = if i % 10 == 0 {
                            format!("Hotfix #{i}: checkout rounding")
                        } else {
                            format!("Release 2.{i} (weekly)")
                        };
                        this.create_task(i, &title);
                    }
                });
            }
        });
        self.seeded = true;
    }
}

fn events(task: TaskId, server: ServerId) -> Vec<NewDeployEvent> {
    (0..BATCH)
        .map(|i| NewDeployEvent {
            task,
            host: Some(server),
            step: Step::Build,
            stream: EventStream::Stdout,
            line: format!(
                "npm WARN deprecated package-{i}@1.0.0: use something else ({i} of {BATCH})"
            ),
            exit_code: None,
            at: T0,
        })
        .collect()
}

/// One `append_events` call of 100 events (one transaction) on a task's growing stream.
#[divan::bench(args = BACKENDS, sample_count = 30, sample_size = 5)]
fn append_100_events(bencher: Bencher<'_, '_>, backend: Backend) {
    with_fixture(backend, |f| {
        let batch = events(f.task, f.server);
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench_local(|| f.store.append_events(&batch).expect("append"));
    });
}

/// Page 1 (20 rows) of a space's tasks whose title contains "hotfix", over 10,000 tasks, with
/// the total count, as the task list page asks for it.
#[divan::bench(args = BACKENDS, sample_count = 30, sample_size = 3)]
fn task_list_page_1_keyword(bencher: Bencher<'_, '_>, backend: Backend) {
    with_fixture(backend, |f| {
        f.seed_tasks();
        let filter = TaskFilter {
            space: Some(f.space),
            keyword: Some("hotfix".to_owned()),
            ..TaskFilter::default()
        };
        bencher.bench_local(|| {
            let page = f
                .store
                .list_tasks(&filter, Page::number(1, 20))
                .expect("list");
            assert_eq!((page.items.len(), page.total), (20, (TASKS / 10) as u64));
            page
        });
    });
}
