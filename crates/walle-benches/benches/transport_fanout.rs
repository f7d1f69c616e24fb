//! Shipping a ~20 MiB release to all three test hosts at once: walle-transport's `fan_out` with
//! `Session::unpack` (checked in-stream, streamed over one SSH session per host), against the
//! shell baseline `tar -c | ssh host tar -x` started for every host in parallel with the OpenSSH
//! client (strict host key checking). Both sides create the release directory, and both include
//! connecting; a third variant reuses already open sessions, as a deploy does after its first step.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use divan::Bencher;
use tempfile::TempDir;
use walle_core::ports::{ConnectOptions, HostTarget, RunOptions, Session, Transport};
use walle_core::shell::Command;
use walle_core::value::{AbsPath, HostName, Port, SshUser};
use walle_test_support::{Fleet, Infra, TestHost};
use walle_transport::{KnownHostsFile, SshConfig, SshIdentity, SshTransport, fan_out, fan_out_mut};

/// Files in the release and their size: 320 x 64 KiB = 20 MiB.
const FILES: usize = 320;
const FILE_SIZE: usize = 64 * 1024;
/// The directory on every host under which the benchmark unpacks.
const REMOTE_BASE: &str = "walle-bench-fanout";

struct Setup {
    fleet: Fleet<'static>,
    source: TempDir,
    tar: Arc<Vec<u8>>,
    transport: SshTransport,
    targets: Vec<HostTarget>,
    sessions: Vec<Box<dyn Session>>,
}

static SETUP: Mutex<Option<Setup>> = Mutex::new(None);

fn with_setup<T>(f: impl FnOnce(&mut Setup) -> T) -> T {
    let mut guard = SETUP.lock().unwrap_or_else(PoisonError::into_inner);
    let setup = guard.get_or_insert_with(|| {
        let infra = Infra::get();
        let fleet = infra.fleet();
        let source = tempfile::tempdir().expect("temp dir");
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..FILES {
            let dir = source.path().join(format!("dir{:02}", i / 32));
            std::fs::create_dir_all(&dir).expect("mkdir");
            // Incompressible bytes: neither side gains from compression.
            let body: Vec<u8> = (0..FILE_SIZE / 8)
                .flat_map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()
                })
                .collect();
            std::fs::write(dir.join(format!("f{i}.bin")), body).expect("write");
        }
        let tar = tar_of(source.path());
        let transport = SshTransport::new(SshConfig {
            identity: SshIdentity::KeyFile {
                path: infra.client_key().to_owned(),
                passphrase: None,
            },
            host_keys: Arc::new(KnownHostsFile::new(infra.known_hosts().to_owned())),
            tofu: false,
            io_timeout: Duration::from_secs(60),
        });
        let targets: Vec<HostTarget> = fleet.hosts().iter().map(target).collect();
        let sessions = targets
            .iter()
            .map(|t| {
                transport
                    .connect(t, &ConnectOptions::default())
                    .expect("connect")
            })
            .collect();
        Setup {
            fleet,
            source,
            tar: Arc::new(tar),
            transport,
            targets,
            sessions,
        }
    });
    f(setup)
}

/// Removes everything the benchmark left on the hosts and closes the sessions.
pub(crate) fn teardown() {
    if let Some(setup) = SETUP.lock().unwrap_or_else(PoisonError::into_inner).take() {
        for host in setup.fleet.hosts() {
            let _ = std::fs::remove_dir_all(host.srv_root().join(REMOTE_BASE));
        }
    }
}

fn target(host: &TestHost) -> HostTarget {
    HostTarget {
        server: None,
        host: HostName::new(&host.addr.to_string()).expect("valid address"),
        port: Port::new(host.port).expect("valid port"),
        user: SshUser::new(&host.ssh_user).expect("valid user"),
    }
}

fn tar_of(dir: &Path) -> Vec<u8> {
    let out = walle_transport::local::command("tar")
        .args(["-c", "-f", "-", "-C"])
        .arg(dir)
        .arg(".")
        .output()
        .expect("tar runs");
    assert!(out.status.success(), "tar failed: {out:?}");
    out.stdout
}

/// A fresh release directory name for this iteration, after removing the previous iterations'
/// directories (each host's /srv is a 512 MiB tmpfs).
fn fresh_release(fleet: &Fleet<'_>) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    for host in fleet.hosts() {
        let base = host.srv_root().join(REMOTE_BASE);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("create the benchmark directory");
    }
    format!(
        "/srv/{REMOTE_BASE}/r{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn unpack_on(session: &mut dyn Session, tar: &[u8], release: &str) {
    let dir = AbsPath::new(release).expect("valid path");
    let status = session
        .run(
            &Command::new("mkdir").arg(release),
            &RunOptions::default(),
            &mut |_| {},
        )
        .expect("mkdir");
    assert!(status.success());
    let summary = session.unpack(&mut &tar[..], &dir).expect("unpack");
    assert!(summary.entries > FILES as u64);
}

fn check_unpacked(fleet: &Fleet<'_>, release: &str) {
    let rel = release.trim_start_matches("/srv/");
    for host in fleet.hosts() {
        let f = host.srv_root().join(rel).join("dir09/f319.bin");
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len as usize, FILE_SIZE, "{} on {}", f.display(), host.name);
    }
}

/// Baseline: `tar -c -C src . | ssh -o StrictHostKeyChecking=yes host 'mkdir D && tar -x -C D'`,
/// one pipeline per host, all started at once.
#[divan::bench(sample_count = 8, sample_size = 1)]
fn tar_pipe_ssh_cli_fan_out(bencher: Bencher) {
    with_setup(|setup| {
        bencher
            .with_inputs(|| fresh_release(&setup.fleet))
            .bench_local_refs(|release| {
                let source: PathBuf = setup.source.path().to_owned();
                let mut children: Vec<Child> = Vec::new();
                for host in setup.fleet.hosts() {
                    let mut tar = walle_transport::local::command("tar")
                        .args(["-c", "-f", "-", "-C"])
                        .arg(&source)
                        .arg(".")
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("tar runs");
                    let pipe = tar.stdout.take().expect("tar stdout");
                    let ssh = host
                        .ssh_command(&host.ssh_user)
                        .arg("--")
                        .arg(format!("mkdir {release} && tar -x -f - -C {release}"))
                        .stdin(Stdio::from(pipe))
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("ssh runs");
                    children.push(tar);
                    children.push(ssh);
                }
                for mut child in children {
                    assert!(child.wait().expect("wait").success());
                }
                check_unpacked(&setup.fleet, release);
            });
    });
}

/// Walle: `fan_out` over the hosts; each connects (host key checked), creates the release
/// directory and streams the archive through the in-stream check into the remote `tar`.
#[divan::bench(sample_count = 8, sample_size = 1)]
fn walle_connect_and_unpack_fan_out(bencher: Bencher) {
    with_setup(|setup| {
        bencher
            .with_inputs(|| fresh_release(&setup.fleet))
            .bench_local_refs(|release| {
                let tar = Arc::clone(&setup.tar);
                let transport = &setup.transport;
                let results = fan_out(&setup.targets, 3, |t| {
                    let mut s = transport.connect(t, &ConnectOptions::default())?;
                    unpack_on(&mut *s, &tar, release);
                    Ok::<(), walle_core::ports::TransportError>(())
                });
                for (t, r) in results {
                    r.unwrap_or_else(|e| panic!("{t}: {e}"));
                }
                check_unpacked(&setup.fleet, release);
            });
    });
}

/// Walle on sessions that are already open, as in every deploy step after the first.
#[divan::bench(sample_count = 8, sample_size = 1)]
fn walle_unpack_fan_out_on_open_sessions(bencher: Bencher) {
    with_setup(|setup| {
        bencher
            .with_inputs(|| fresh_release(&setup.fleet))
            .bench_local_refs(|release| {
                fan_out_mut(&mut setup.sessions, 3, |s| {
                    unpack_on(&mut **s, &setup.tar, release)
                });
                check_unpacked(&setup.fleet, release);
            });
    });
}
