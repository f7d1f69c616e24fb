//! Whole deploys of a 2,000-file, ~20 MiB git project to the three test hosts: `engine::deploy`
//! composed from the real adapters, first to empty hosts and then incrementally after a commit that
//! changes 1 % of the files, against a shell deployer's `git archive | ssh 'tar -x && ln -sfn &&
//! mv -T'` fan-out measured in the same run.
//!
//! The adapters come from walle-e2e's `World` (SQLite store, git, SSH with strict host key checks,
//! the local transport, the system clock), with two production choices of walle-cli instead of the
//! test harness's: events go through a channel to a writer thread that appends them in batches (the
//! harness appends every event in its own transaction), and the workspace lives on tmpfs.
//!
//! Every benchmark runs once per login user. As `root`, every remote command also sources this
//! machine's `/root/.bashrc` (which runs `pyenv init`, about 0.1 s; bash sources it for commands
//! run by sshd, and the namespace hosts share `/root` with the machine); `walle` has Debian's stock
//! `.bashrc`, which returns at once for non-interactive shells, as a typical deploy user does.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use divan::Bencher;
use tempfile::TempDir;
use walle_core::engine::{self, CancelFlag, DeployReport, Ports};
use walle_core::model::{NewDeployEvent, Project, ServerSpec, Task, TaskSource, TaskStatus};
use walle_core::ports::{EventSink, EventStore, RepoHandle, ServerStore, Vcs};
use walle_core::value::{CommitId, HostName, Port, RefName, SshUser};
use walle_e2e::{World, abs, name_of};
use walle_test_support::GitFixture;
use walle_transport::workspace::LocalWorkspace;

/// Small text files (source code): 512 B to 8.5 KiB, about 9 MiB together.
const TEXT_FILES: usize = 1_990;
/// Larger incompressible files (images, bundles): 10 x 1.1 MiB.
const BINARY_FILES: usize = 10;
const BINARY_SIZE: usize = 1_100 * 1024;
/// Files the second commit changes (1 % of the tree).
const CHANGED: usize = 20;
/// Every host directory of this benchmark is under `/srv/<BASE>/<user>`.
const BASE: &str = "bench-deploy";
/// The login users every benchmark runs as (see the module docs).
const USERS: [&str; 2] = ["walle", "root"];

struct Setup {
    /// Build directories on tmpfs (see the module docs).
    workspace: LocalWorkspace,
    _workspace_dir: TempDir,
    fixture: GitFixture,
    /// One project per login user, deploying to all three hosts.
    projects: Vec<(&'static str, Project)>,
    /// The first commit (all files) and the second (1 % of them changed).
    v1: CommitId,
    v2: CommitId,
    // Last: the world holds the host lease.
    world: World,
}

static SETUP: Mutex<Option<Setup>> = Mutex::new(None);

fn with_setup<T>(f: impl FnOnce(&Setup) -> T) -> T {
    let mut guard = SETUP.lock().unwrap_or_else(PoisonError::into_inner);
    let setup = guard.get_or_insert_with(Setup::new);
    f(setup)
}

/// Removes the benchmark's host directories, the fixture and the world (statics are never dropped).
pub(crate) fn teardown() {
    if let Some(setup) = SETUP.lock().unwrap_or_else(PoisonError::into_inner).take() {
        for host in setup.world.hosts() {
            let _ = std::fs::remove_dir_all(host.srv_root().join(BASE));
        }
    }
}

impl Setup {
    fn new() -> Setup {
        let world = World::new("bench-deploy");
        let fixture = GitFixture::new("bench-deploy")
            .commit_files("main", tree(), "2,000 files")
            .commit_files("main", changed_files(), "change 1 % of the files");
        let [v1, v2] = [0, 1].map(|i| CommitId::new(&fixture.commits()[i]).expect("commit id"));
        let projects = USERS
            .iter()
            .map(|&user| (user, project_for(&world, &fixture, user)))
            .collect();
        let shm = Path::new("/dev/shm");
        let workspace_dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a workspace directory");
        Setup {
            workspace: LocalWorkspace::new(workspace_dir.path()),
            _workspace_dir: workspace_dir,
            fixture,
            projects,
            v1,
            v2,
            world,
        }
    }

    /// Points `user`'s project at `<dir>/{current,releases}` and submits an approved deploy task of
    /// `commit`.
    fn task(&self, user: &str, dir: &str, commit: &CommitId) -> Task {
        let project = self
            .projects
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, p)| p)
            .expect("a project per user");
        let project = self.world.update_project(project, |s| {
            s.webroot = abs(&format!("{dir}/current"));
            s.releases_dir = abs(&format!("{dir}/releases"));
        });
        let source = TaskSource::Branch {
            branch: RefName::new("main").expect("a branch name"),
            commit: Some(commit.clone()),
        };
        self.world.submit(&project, "bench", source)
    }

    /// `engine::deploy` as walle-cli composes it: events through a channel to a writer thread that
    /// appends them in batches of up to 256; returns once the writer has stored the last one.
    fn deploy(&self, task: &Task) -> DeployReport {
        let world = &self.world;
        let (tx, rx) = mpsc::channel::<NewDeployEvent>();
        let report = std::thread::scope(|s| {
            s.spawn(|| write_events(&world.store, rx));
            let sink = ChannelSink(tx);
            let ports = Ports {
                events: &sink,
                workspace: &self.workspace,
                ..world.ports()
            };
            engine::deploy(&ports, &world.request(task), &CancelFlag::default())
            // The sink (and with it the sender) is dropped here, so the writer drains and stops.
        })
        .expect("the engine runs the deploy");
        assert_eq!(
            report.status,
            TaskStatus::Succeeded,
            "deploy failed: {:?}",
            report.error
        );
        report
    }

    /// Checks that `<dir>/current` on every host holds the tree of `commit`.
    fn check_live(&self, dir: &str, commit: &CommitId) {
        let rel = dir.trim_start_matches("/srv/");
        let changed = changed_index(0);
        for host in self.world.hosts() {
            // The link is absolute on the host: map its /srv/ onto the host's srv root.
            let link = host.srv_root().join(rel).join("current");
            let target = std::fs::read_link(&link)
                .unwrap_or_else(|e| panic!("{} on {}: {e}", link.display(), host.name));
            let target = target.to_string_lossy();
            let current = host
                .srv_root()
                .join(target.strip_prefix("/srv/").expect("a release under /srv"));
            let text = std::fs::read(current.join(text_path(changed))).unwrap_or_default();
            let expected = if commit == &self.v1 {
                text_body(changed)
            } else {
                changed_body(changed)
            };
            assert!(text == expected, "{} on {}", current.display(), host.name);
            let bin = current.join(binary_path(BINARY_FILES - 1));
            let len = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
            assert_eq!(
                len as usize,
                BINARY_SIZE,
                "{} on {}",
                bin.display(),
                host.name
            );
        }
    }

    /// A fresh host directory `/srv/bench-deploy/<user>/<kind>/<n>` for this iteration, after
    /// removing the earlier iterations' directories (each host's /srv is a 512 MiB tmpfs);
    /// `<kind>` belongs to `user`.
    fn fresh_dir(&self, user: &str, kind: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let (uid, gid) = ids_of(user);
        for host in self.world.hosts() {
            let user_dir = host.srv_root().join(BASE).join(user);
            let dir = user_dir.join(kind);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("cannot remove {}: {e}", dir.display()),
            }
            std::fs::create_dir_all(&dir).expect("create the benchmark directory");
            for d in [&user_dir, &dir] {
                std::os::unix::fs::chown(d, Some(uid), Some(gid)).expect("chown");
            }
        }
        format!(
            "/srv/{BASE}/{user}/{kind}/{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// A project deploying `fixture` to the three hosts as `user`, with its mirror already fetched (every
/// deploy then fetches as a deploy of a known project does: a no-op fetch).
fn project_for(world: &World, fixture: &GitFixture, user: &str) -> Project {
    let servers = world
        .hosts()
        .iter()
        .map(|h| {
            let spec = ServerSpec {
                name: name_of(&format!("{}-{user}", h.name)),
                host: HostName::new(&h.addr.to_string()).expect("a host address"),
                port: Port::new(h.port).expect("a port"),
                user: SshUser::new(user).expect("a user name"),
                labels: Vec::new(),
            };
            world
                .store
                .create_server(world.space.id, &spec)
                .expect("create the server")
                .id
        })
        .collect();
    let mut spec = world.spec(World::git_repo(fixture.file_url()));
    spec.name = name_of(&format!("bench-deploy-{user}"));
    spec.servers = servers;
    spec.require_approval = false;
    let project = world.create_project(&spec);
    world
        .vcs
        .sync(&RepoHandle {
            project: project.id,
            config: project.spec.repo.clone(),
        })
        .expect("clone the mirror");
    project
}

/// The user and group ids of `user` from `/etc/passwd` (the hosts share it with this machine).
fn ids_of(user: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == user)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .unwrap_or_else(|| panic!("no user {user} in /etc/passwd"))
}

/// Sends events to the writer thread (as walle-cli's deploy command does).
struct ChannelSink(mpsc::Sender<NewDeployEvent>);

impl EventSink for ChannelSink {
    fn emit(&self, event: NewDeployEvent) {
        let _ = self.0.send(event);
    }
}

/// Appends events in batches until the sender is gone (walle-cli's writer).
fn write_events(store: &dyn EventStore, rx: mpsc::Receiver<NewDeployEvent>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(e) = rx.try_recv() {
            batch.push(e);
            if batch.len() >= 256 {
                break;
            }
        }
        store.append_events(&batch).expect("append events");
    }
}

fn text_path(i: usize) -> String {
    format!("src/m{:02}/f{i:04}.php", i % 40)
}

fn binary_path(i: usize) -> String {
    format!("public/assets/blob{i}.bin")
}

/// Text file `i`: numbered lines up to 512 B to 8.5 KiB.
fn text_body(i: usize) -> Vec<u8> {
    let size = 512 + (i * 7919) % 8192;
    let mut body = String::with_capacity(size + 80);
    let mut line = 0;
    while body.len() < size {
        body.push_str(&format!(
            "    $value_{line} = compute({i}, {line}, 'generated source line');\n"
        ));
        line += 1;
    }
    body.into_bytes()
}

/// The second commit's version of text file `i`.
fn changed_body(i: usize) -> Vec<u8> {
    let mut body = text_body(i);
    body.extend_from_slice(b"    // changed in the second commit\n");
    body
}

/// The `k`-th changed text file, spread over the directories.
fn changed_index(k: usize) -> usize {
    (k * 97 + 13) % TEXT_FILES
}

/// The first commit: the text files and the incompressible binaries.
fn tree() -> impl Iterator<Item = (String, Vec<u8>)> {
    let texts = (0..TEXT_FILES).map(|i| (text_path(i), text_body(i)));
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let binaries = (0..BINARY_FILES).map(move |i| {
        let body: Vec<u8> = (0..BINARY_SIZE / 8)
            .flat_map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        (binary_path(i), body)
    });
    texts.chain(binaries)
}

/// The second commit: `CHANGED` text files with a line appended.
fn changed_files() -> impl Iterator<Item = (String, Vec<u8>)> {
    (0..CHANGED).map(|k| {
        let i = changed_index(k);
        (text_path(i), changed_body(i))
    })
}

/// Baseline: for every host at once, `git archive <commit> | ssh host 'mkdir -p R && tar -x -C R
/// && ln -sfn R current.tmp && mv -T current.tmp current'` with the OpenSSH client (the infra's
/// key, strict host key checking against its known_hosts). No checksums, ledger or locks.
#[divan::bench(args = USERS, sample_count = 5, sample_size = 1)]
fn baseline_git_archive_ssh_fan_out(bencher: Bencher<'_, '_>, user: &str) {
    with_setup(|s| {
        bencher
            .with_inputs(|| s.fresh_dir(user, "baseline"))
            .bench_local_refs(|dir| {
                let release = format!("{dir}/releases/{}", s.v2.as_str());
                let remote = format!(
                    "mkdir -p {release} && tar -x -f - -C {release} && ln -sfn {release} \
                     {dir}/current.tmp && mv -T {dir}/current.tmp {dir}/current"
                );
                let mut children: Vec<Child> = Vec::new();
                for host in s.world.hosts() {
                    let mut archive = Command::new("git")
                        .arg("-C")
                        .arg(s.fixture.path())
                        .args(["archive", "--format=tar", s.v2.as_str()])
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("start git archive");
                    let pipe = archive.stdout.take().expect("git archive stdout");
                    let ssh = host
                        .ssh_command(user)
                        .arg("--")
                        .arg(&remote)
                        .stdin(Stdio::from(pipe))
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("start ssh");
                    children.push(archive);
                    children.push(ssh);
                }
                for mut child in children {
                    assert!(child.wait().expect("wait").success());
                }
                s.check_live(dir, &s.v2);
            });
    });
}

/// Walle, first deploy to empty host directories: fetch (no-op), export, package, connect,
/// lock, parallel upload and unpack, checksum verification, switch, ledger, cleanup, unlock.
#[divan::bench(args = USERS, sample_count = 5, sample_size = 1)]
fn walle_first_deploy(bencher: Bencher<'_, '_>, user: &str) {
    with_setup(|s| {
        bencher
            .with_inputs(|| {
                let dir = s.fresh_dir(user, "first");
                let task = s.task(user, &dir, &s.v2);
                (dir, task)
            })
            .bench_local_refs(|(dir, task)| {
                s.deploy(task);
                s.check_live(dir, &s.v2);
            });
    });
}

/// Walle, incremental deploy: the hosts run the first commit (deployed untimed before each sample);
/// the deploy of the second commit sends the 20 changed files and hard-links the other 1,980 from
/// the previous release, then verifies every checksum as a first deploy does.
#[divan::bench(args = USERS, sample_count = 5, sample_size = 1)]
fn walle_incremental_deploy(bencher: Bencher<'_, '_>, user: &str) {
    with_setup(|s| {
        bencher
            .with_inputs(|| {
                let dir = s.fresh_dir(user, "incremental");
                let base = s.task(user, &dir, &s.v1);
                s.deploy(&base);
                s.check_live(&dir, &s.v1);
                let task = s.task(user, &dir, &s.v2);
                (dir, task)
            })
            .bench_local_refs(|(dir, task)| {
                s.deploy(task);
                s.check_live(dir, &s.v2);
            });
    });
}
