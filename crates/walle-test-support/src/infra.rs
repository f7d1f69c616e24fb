//! The test world as `scripts/infra up` describes it in its env file, checked once per test process.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, bail, format_err};

use crate::host::{
    Controller, ExclusiveHost, Fleet, HostLock, LockMode, TestHost, ssh_base_command,
};

/// The command that starts the test world, named in every "not available" panic.
pub const START_COMMAND: &str = "sudo scripts/infra up";

/// The environment variable that overrides where the env file is read from.
pub const ENV_FILE_VAR: &str = "WALLE_TEST_INFRA_ENV";

/// Where `scripts/infra up` writes the env file.
pub const DEFAULT_ENV_FILE: &str = "/var/lib/walle-test-infra/env";

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Handles to everything `scripts/infra up` started: target hosts, controller sshd, git and SVN servers, databases.
#[derive(Debug)]
pub struct Infra {
    vars: BTreeMap<String, String>,
    env_file: PathBuf,
    state_dir: PathBuf,
    infra_script: PathBuf,
    lock_dir: PathBuf,
    bridge_addr: IpAddr,
    hosts: Vec<TestHost>,
    controller: Controller,
    client_key: PathBuf,
    client_key_pub: PathBuf,
    known_hosts: PathBuf,
    deploy_user: String,
    git_root: PathBuf,
    git_port: u16,
    svn_root: PathBuf,
    svn_port: u16,
    svn_user: String,
    svn_password: String,
    mysql: DbServer,
    postgres: DbServer,
}

/// Where a database server listens and whom to log in as.
#[derive(Debug, Clone)]
pub(crate) struct DbServer {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) admin_url: String,
}

impl Infra {
    /// The test world, loaded and checked once per process.
    ///
    /// Panics with a message naming `sudo scripts/infra up` if the env file is missing or a service does not answer.
    /// Tests never skip.
    pub fn get() -> &'static Infra {
        static INFRA: OnceLock<Infra> = OnceLock::new();
        INFRA.get_or_init(|| match Infra::load_and_check() {
            Ok(infra) => infra,
            Err(err) => panic!("{}", unavailable(&err)),
        })
    }

    /// Reads the env file (from `WALLE_TEST_INFRA_ENV`, else [`DEFAULT_ENV_FILE`]) and probes every service.
    pub fn load_and_check() -> anyhow::Result<Infra> {
        let infra = Infra::load(&env_file_path())?;
        infra.check()?;
        Ok(infra)
    }

    /// Parses an env file without probing anything.
    pub fn load(env_file: &Path) -> anyhow::Result<Infra> {
        let text = std::fs::read_to_string(env_file)
            .with_context(|| format!("cannot read the env file {}", env_file.display()))?;
        let vars = parse_env(&text);
        let v = Vars {
            vars: &vars,
            file: env_file,
        };

        let client_key = v.path("WALLE_TEST_SSH_KEY")?;
        let known_hosts = v.path("WALLE_TEST_SSH_KNOWN_HOSTS")?;
        let ssh_user = v.string("WALLE_TEST_SSH_USER")?;
        let count: usize = v.parse("WALLE_TEST_HOST_COUNT")?;
        let mut hosts = Vec::with_capacity(count);
        for i in 1..=count {
            let key = |field: &str| format!("WALLE_TEST_HOST{i}_{field}");
            hosts.push(TestHost {
                index: i - 1,
                name: v.string(&key("NAME"))?,
                addr: v.parse(&key("ADDR"))?,
                port: v.parse(&key("PORT"))?,
                ssh_user: ssh_user.clone(),
                host_key_pub_path: v.path(&key("HOST_KEY_PUB"))?,
                srv_root: v.path(&key("SRV"))?,
                netns: v.string(&key("NETNS"))?,
                veth: v.string(&key("VETH"))?,
                sshd_config: v.path(&key("SSHD_CONFIG"))?,
                sshd_pid_file: v.path(&key("SSHD_PID_FILE"))?,
                client_key: client_key.clone(),
                known_hosts: known_hosts.clone(),
            });
        }
        let bridge_addr: IpAddr = v.parse("WALLE_TEST_BRIDGE_ADDR")?;
        let controller = Controller {
            addr: v.parse("WALLE_TEST_CONTROLLER_ADDR")?,
            bridge_addr: v.parse("WALLE_TEST_CONTROLLER_BRIDGE_ADDR")?,
            port: v.parse("WALLE_TEST_CONTROLLER_PORT")?,
            ssh_user: ssh_user.clone(),
            host_key_pub_path: v.path("WALLE_TEST_CONTROLLER_HOST_KEY_PUB")?,
            client_key: client_key.clone(),
            known_hosts: known_hosts.clone(),
        };
        let db = |prefix: &str, password: bool| -> anyhow::Result<DbServer> {
            Ok(DbServer {
                host: v.string(&format!("WALLE_TEST_{prefix}_HOST"))?,
                port: v.parse(&format!("WALLE_TEST_{prefix}_PORT"))?,
                user: v.string(&format!("WALLE_TEST_{prefix}_USER"))?,
                password: if password {
                    Some(v.string(&format!("WALLE_TEST_{prefix}_PASSWORD"))?)
                } else {
                    None
                },
                admin_url: v.string(&format!("WALLE_TEST_{prefix}_ADMIN_URL"))?,
            })
        };
        let mysql = db("MYSQL", true)?;
        let postgres = db("PG", false)?;
        let state_dir = v.path("WALLE_TEST_STATE")?;
        Ok(Infra {
            env_file: env_file.to_owned(),
            infra_script: v.path("WALLE_TEST_INFRA_SCRIPT")?,
            lock_dir: v.path("WALLE_TEST_LOCK_DIR")?,
            bridge_addr,
            hosts,
            controller,
            client_key_pub: v.path("WALLE_TEST_SSH_KEY_PUB")?,
            client_key,
            known_hosts,
            deploy_user: v.string("WALLE_TEST_DEPLOY_USER")?,
            git_root: v.path("WALLE_TEST_GIT_ROOT")?,
            git_port: v.parse("WALLE_TEST_GIT_PORT")?,
            svn_root: v.path("WALLE_TEST_SVN_ROOT")?,
            svn_port: v.parse("WALLE_TEST_SVN_PORT")?,
            svn_user: v.string("WALLE_TEST_SVN_USER")?,
            svn_password: v.string("WALLE_TEST_SVN_PASSWORD")?,
            mysql,
            postgres,
            state_dir,
            vars,
        })
    }

    /// Probes every shared service and checks the files and namespaces the tests rely on.
    ///
    /// Target hosts' sshds are probed when a lease is taken ([`Infra::fleet`], [`Infra::exclusive_host`]):
    /// until then another test may legitimately have one of them frozen or cut off.
    pub fn check(&self) -> anyhow::Result<()> {
        for path in [
            &self.client_key,
            &self.known_hosts,
            &self.git_root,
            &self.svn_root,
            &self.lock_dir,
        ] {
            if !path.exists() {
                bail!("{} does not exist", path.display());
            }
        }
        let mut endpoints = vec![
            (
                "controller sshd",
                SocketAddr::new(self.controller.addr, self.controller.port),
            ),
            (
                "controller sshd (bridge)",
                SocketAddr::new(self.controller.bridge_addr, self.controller.port),
            ),
            ("git daemon", SocketAddr::new(loopback(), self.git_port)),
            (
                "git daemon (bridge)",
                SocketAddr::new(self.bridge_addr, self.git_port),
            ),
            ("svnserve", SocketAddr::new(loopback(), self.svn_port)),
            (
                "svnserve (bridge)",
                SocketAddr::new(self.bridge_addr, self.svn_port),
            ),
        ];
        for (name, db) in [("mariadb", &self.mysql), ("postgresql", &self.postgres)] {
            let ip: IpAddr = db
                .host
                .parse()
                .with_context(|| format!("bad {name} host {}", db.host))?;
            endpoints.push((name, SocketAddr::new(ip, db.port)));
        }
        for (name, addr) in endpoints {
            TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)
                .with_context(|| format!("{name} does not answer on {addr}"))?;
        }
        for host in &self.hosts {
            let netns = Path::new("/run/netns").join(&host.netns);
            if !netns.exists() {
                bail!(
                    "network namespace {} of host {} is missing",
                    host.netns,
                    host.name
                );
            }
            if !is_mount_point(&host.srv_root)? {
                bail!(
                    "the /srv tmpfs of host {} is not mounted at {}",
                    host.name,
                    host.srv_root.display()
                );
            }
        }
        Ok(())
    }

    /// The env file this was loaded from.
    pub fn env_file(&self) -> &Path {
        &self.env_file
    }

    /// A raw value from the env file, for keys without a typed getter.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// The state directory (`/var/lib/walle-test-infra`).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `scripts/infra`, used to restart a host's sshd after [`ExclusiveHost::kill_sshd`].
    pub fn infra_script(&self) -> PathBuf {
        // Prefer the script of the checkout being tested; fall back to the one that wrote the env file.
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/infra");
        if here.exists() {
            here
        } else {
            self.infra_script.clone()
        }
    }

    /// All target hosts (`wl1`, `wl2`, `wl3`).
    ///
    /// Tests that connect to them should hold a [`Fleet`] or an [`ExclusiveHost`] lease (see docs/TESTING.md).
    pub fn hosts(&self) -> &[TestHost] {
        &self.hosts
    }

    /// The target host called `name`; panics if there is none.
    #[track_caller]
    pub fn host(&self, name: &str) -> &TestHost {
        match self.hosts.iter().find(|h| h.name == name) {
            Some(host) => host,
            None => panic!(
                "no test host named {name:?}; hosts are {:?}",
                self.host_names()
            ),
        }
    }

    fn host_names(&self) -> Vec<&str> {
        self.hosts.iter().map(|h| h.name.as_str()).collect()
    }

    /// The private key every sshd accepts (ed25519, mode 0600).
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// The public half of [`Infra::client_key`].
    pub fn client_key_pub(&self) -> &Path {
        &self.client_key_pub
    }

    /// A known_hosts file with every host key, for strict host key checking.
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// The non-root login (`walle`) that exists on every host and owns `/srv/www`.
    pub fn deploy_user(&self) -> &str {
        &self.deploy_user
    }

    /// The controller's sshd (127.0.0.1:22922, also on the bridge address), for git over ssh.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The bridge address (10.231.7.1): how target hosts reach the controller's services.
    pub fn bridge_addr(&self) -> IpAddr {
        self.bridge_addr
    }

    /// A `GIT_SSH_COMMAND` value that logs in with the client key and checks host keys strictly.
    pub fn git_ssh_command(&self) -> String {
        let cmd = ssh_base_command(&self.client_key, &self.known_hosts);
        let mut s = cmd.get_program().to_string_lossy().into_owned();
        for arg in cmd.get_args() {
            s.push(' ');
            s.push_str(&arg.to_string_lossy());
        }
        s
    }

    /// The directory `git daemon` serves (`git://127.0.0.1:29418/<path below it>`).
    pub fn git_root(&self) -> &Path {
        &self.git_root
    }

    /// The `git daemon` port (29418), on 127.0.0.1 and on the bridge address.
    pub fn git_port(&self) -> u16 {
        self.git_port
    }

    /// The directory `svnserve -r` serves (`svn://127.0.0.1:23690/<repo>`).
    pub fn svn_root(&self) -> &Path {
        &self.svn_root
    }

    /// The `svnserve` port (23690), on 127.0.0.1 and on the bridge address.
    pub fn svn_port(&self) -> u16 {
        self.svn_port
    }

    /// The SVN user every fixture repository accepts.
    pub fn svn_user(&self) -> &str {
        &self.svn_user
    }

    /// The password of [`Infra::svn_user`].
    pub fn svn_password(&self) -> &str {
        &self.svn_password
    }

    /// `mysql://walle:walle@127.0.0.1:23306/mysql`: a user with all privileges. Prefer [`crate::TestDb::mysql`].
    pub fn mysql_admin_url(&self) -> &str {
        &self.mysql.admin_url
    }

    /// `postgres://postgres@127.0.0.1:25432/postgres` (trust auth). Prefer [`crate::TestDb::postgres`].
    pub fn postgres_admin_url(&self) -> &str {
        &self.postgres.admin_url
    }

    pub(crate) fn mysql_server(&self) -> &DbServer {
        &self.mysql
    }

    pub(crate) fn postgres_server(&self) -> &DbServer {
        &self.postgres
    }

    /// A shared lease on every host: no other test can fault any of them while it lives.
    ///
    /// Panics if a host's sshd does not answer.
    #[track_caller]
    pub fn fleet(&self) -> Fleet<'_> {
        let modes: Vec<LockMode> = self.hosts.iter().map(|_| LockMode::Shared).collect();
        let locks = self.lock_hosts(&modes);
        Fleet::new(&self.hosts, locks)
    }

    /// An exclusive lease on host `index` (0-based: 2 is `wl3`) and a shared one on the others.
    ///
    /// Only an exclusive lease can inject faults. Panics if a host's sshd does not answer.
    #[track_caller]
    pub fn exclusive_host(&self, index: usize) -> ExclusiveHost<'_> {
        let Some(host) = self.hosts.get(index) else {
            panic!(
                "no test host with index {index}; hosts are {:?}",
                self.host_names()
            );
        };
        let modes: Vec<LockMode> = self
            .hosts
            .iter()
            .map(|h| {
                if h.index == index {
                    LockMode::Exclusive
                } else {
                    LockMode::Shared
                }
            })
            .collect();
        let locks = self.lock_hosts(&modes);
        ExclusiveHost::new(self, host, locks)
    }

    #[track_caller]
    fn lock_hosts(&self, modes: &[LockMode]) -> Vec<HostLock> {
        // Always in host order, so leases never deadlock each other.
        for (host, mode) in self.hosts.iter().zip(modes) {
            if let Err(err) = HostLock::check_conflict(&self.lock_path(host), *mode) {
                panic!("cannot lease host {}: {err:#}", host.name);
            }
        }
        let mut locks = Vec::with_capacity(modes.len());
        for (host, mode) in self.hosts.iter().zip(modes) {
            match HostLock::acquire(&self.lock_path(host), *mode) {
                Ok(lock) => locks.push(lock),
                Err(err) => panic!("cannot lock host {}: {err:#}", host.name),
            }
        }
        for host in &self.hosts {
            if let Err(err) = host.banner(PROBE_TIMEOUT) {
                let err = format_err!(err).context(format!(
                    "sshd of host {} does not answer on {}:{}",
                    host.name, host.addr, host.port
                ));
                panic!("{}", unavailable(&err));
            }
        }
        locks
    }

    fn lock_path(&self, host: &TestHost) -> PathBuf {
        self.lock_dir.join(format!("{}.lock", host.name))
    }

    /// Runs `scripts/infra restart-host NAME`.
    pub(crate) fn restart_host(&self, host: &TestHost) -> anyhow::Result<()> {
        crate::cmd::run(
            Command::new("bash")
                .arg(self.infra_script())
                .arg("restart-host")
                .arg(&host.name),
        )?;
        Ok(())
    }
}

/// The env file path: `WALLE_TEST_INFRA_ENV` if set, else [`DEFAULT_ENV_FILE`].
pub fn env_file_path() -> PathBuf {
    std::env::var_os(ENV_FILE_VAR).map_or_else(|| PathBuf::from(DEFAULT_ENV_FILE), PathBuf::from)
}

fn unavailable(err: &anyhow::Error) -> String {
    format!(
        "the walle test infrastructure is not available: {err:#}\n\
         start it with: {START_COMMAND}   (from the repository root; `scripts/infra status` shows what is down)\n\
         env file: {} (override with {ENV_FILE_VAR})",
        env_file_path().display()
    )
}

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn is_mount_point(path: &Path) -> anyhow::Result<bool> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let parent_meta =
        std::fs::metadata(parent).with_context(|| format!("cannot stat {}", parent.display()))?;
    Ok(meta.dev() != parent_meta.dev())
}

struct Vars<'a> {
    vars: &'a BTreeMap<String, String>,
    file: &'a Path,
}

impl Vars<'_> {
    fn string(&self, key: &str) -> anyhow::Result<String> {
        self.vars.get(key).cloned().ok_or_else(|| {
            format_err!(
                "{} has no {key} (written by an older scripts/infra?)",
                self.file.display()
            )
        })
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        self.string(key).map(PathBuf::from)
    }

    fn parse<T>(&self, key: &str) -> anyhow::Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let raw = self.string(key)?;
        raw.parse()
            .with_context(|| format!("bad value {raw:?} for {key} in {}", self.file.display()))
    }
}

#[cfg(test)]
mod tests;
