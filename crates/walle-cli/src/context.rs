//! What every command needs: where the data lives, the store, the clock, and who is acting, with
//! the permission check that every state change goes through.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use walle_core::model::NewAuditEntry;
use walle_core::model::{
    Environment, MemberScope, Page, Project, Server, Space, Task, User, UserStatus,
};
use walle_core::ports::{Clock, Store};
use walle_core::value::{Email, Name};
use walle_core::{ProjectId, TaskId, Timestamp};
use walle_rbac::{Action, ProjectRef, Resource, Subject};

use crate::args::Global;
use crate::error::{CliError, not_found, usage};

/// The file in the data directory that remembers the defaults `walle init` chose.
pub const CONFIG_FILE: &str = "walle.toml";

/// Paths derived from the global options.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database URL.
    pub database_url: String,
}

impl Paths {
    /// Resolves `--data-dir` and `--database-url` (and their environment variables).
    pub fn resolve(global: &Global) -> anyhow::Result<Paths> {
        let data_dir = match &global.data_dir {
            Some(d) => absolute(d)?,
            None => default_data_dir()?,
        };
        let database_url = match &global.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", data_dir.join("walle.db").display()),
        };
        Ok(Paths {
            data_dir,
            database_url,
        })
    }

    /// The defaults file.
    pub fn config_file(&self) -> PathBuf {
        self.data_dir.join(CONFIG_FILE)
    }

    /// Repository caches and build directories.
    pub fn workspace_dir(&self) -> PathBuf {
        self.data_dir.join("workspace")
    }

    /// Trusted host keys of target servers.
    pub fn known_hosts(&self) -> PathBuf {
        self.data_dir.join("known_hosts")
    }

    /// Cancel requests for running deploys (one file per task).
    pub fn run_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    /// The file whose presence asks the deploy of `task` to stop.
    pub fn cancel_file(&self, task: TaskId) -> PathBuf {
        self.run_dir().join(format!("cancel-{task}"))
    }
}

/// The defaults remembered in the data directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    /// The account commands act as by default (e-mail).
    pub user: Option<String>,
    /// The space commands work in by default.
    pub space: Option<String>,
    /// The SSH private key for target hosts.
    pub identity: Option<PathBuf>,
}

impl Config {
    /// Reads the defaults file; a missing file means no defaults.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(s) => toml::from_str(&s).with_context(|| format!("reading {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the defaults file.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "# Defaults written by `walle init`; command-line options and WALLE_* variables override them.\n{}",
            toml::to_string(self).context("serialising the config")?
        );
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_unix_millis(ms)
    }

    fn sleep(&self, d: std::time::Duration) {
        std::thread::sleep(d);
    }
}

/// The acting user: their account and what the permission check knows about them.
#[derive(Debug, Clone)]
pub struct Acting {
    /// The account.
    pub user: User,
    /// Their memberships, for `walle_rbac::check`.
    pub subject: Subject,
}

impl Acting {
    /// The actor for the task lifecycle.
    pub fn actor(&self) -> walle_core::lifecycle::Actor {
        walle_core::lifecycle::Actor::new(self.user.id, self.user.username.to_string())
    }
}

/// An opened data directory: paths, defaults, store, clock.
pub struct Ctx {
    /// Global options.
    pub global: Global,
    /// Paths.
    pub paths: Paths,
    /// Defaults.
    pub config: Config,
    /// The store.
    pub store: Box<dyn Store>,
    /// The clock.
    pub clock: SystemClock,
}

impl Ctx {
    /// Opens an initialised data directory.
    pub fn open(global: &Global) -> anyhow::Result<Ctx> {
        let paths = Paths::resolve(global)?;
        let config = Config::load(&paths.config_file())?;
        if global.database_url.is_none() && !paths.data_dir.join("walle.db").exists() {
            return Err(usage(format!(
                "no walle data in {}; run `walle init` first (or pass --data-dir)",
                paths.data_dir.display()
            )));
        }
        let store = crate::store::open(&paths, false)?;
        let ctx = Ctx {
            global: global.clone(),
            paths,
            config,
            store,
            clock: SystemClock,
        };
        ctx.recover_interrupted_deploys();
        Ok(ctx)
    }

    /// A deploy whose process died (crash, `kill -9`, reboot) leaves its task deploying, and its
    /// project lease lapses within a minute (a running deploy renews it every 20 s). Every command
    /// first marks such tasks failed, with an audit entry, so no task stays stuck deploying; the
    /// task can then be deployed again or its failed hosts retried.
    fn recover_interrupted_deploys(&self) {
        let filter = walle_core::ports::TaskFilter {
            statuses: vec![walle_core::model::TaskStatus::Deploying],
            ..Default::default()
        };
        let Ok(stuck) = self
            .store
            .list_tasks(&filter, walle_core::model::Page::number(1, 1000))
        else {
            return;
        };
        let now = self.now();
        for task in stuck.items {
            let key = walle_core::model::LockKey::project(task.project);
            if !matches!(self.store.current_lease(&key, now), Ok(None)) {
                continue;
            }
            let Ok(t) = task.recover(now) else { continue };
            if self.store.update_task(&t.task, t.from).is_ok() {
                let _ = self.store.append_audit(&NewAuditEntry {
                    actor: None,
                    action: "task.recover".to_owned(),
                    target: format!("task:{}", task.id),
                    details: walle_core::lifecycle::RECOVERED_REASON.to_owned(),
                    at: now,
                });
            }
        }
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The acting user (`--as`, `WALLE_USER`, or the default from `walle init`).
    pub fn acting(&self) -> anyhow::Result<Acting> {
        let email = self
            .global
            .as_user
            .clone()
            .or_else(|| self.config.user.clone())
            .ok_or_else(|| usage("no acting user: pass --as <email> or set WALLE_USER"))?;
        let user = self.user_by_email(&email)?;
        if user.status == UserStatus::Blocked {
            return Err(CliError::Denied(format!("user {email} is blocked")).into());
        }
        let memberships = self.store.memberships_of(user.id)?;
        let subject = Subject::new(&user, &memberships);
        Ok(Acting { user, subject })
    }

    /// Checks that the acting user may do `action` to `resource`.
    pub fn check(&self, who: &Acting, action: Action, resource: &Resource) -> anyhow::Result<()> {
        walle_rbac::check(&who.subject, action, resource).map_err(|denied| {
            CliError::Denied(format!(
                "{} ({}): {denied}",
                who.user.email,
                action.as_str()
            ))
            .into()
        })
    }

    /// Records an audit entry (never secrets).
    pub fn audit(&self, who: &Acting, action: Action, target: String, details: String) {
        let entry = NewAuditEntry {
            actor: Some(who.user.id),
            action: action.as_str().to_owned(),
            target,
            details,
            at: self.now(),
        };
        // The change is done; a failed audit write must not turn it into an error.
        let _ = self.store.append_audit(&entry);
    }

    /// A live user by e-mail.
    pub fn user_by_email(&self, email: &str) -> anyhow::Result<User> {
        let e = Email::new(email)?;
        self.store
            .user_by_email(&e)?
            .ok_or_else(|| not_found(format!("no user with e-mail {email}")))
    }

    /// The space to work in: `--space`, else the data directory's default when the user may work
    /// there (SUPER, or a member), else the user's only space.
    pub fn space(&self, who: &Acting) -> anyhow::Result<Space> {
        if let Some(name) = &self.global.space {
            return self.space_by_name(name);
        }
        let mine: Vec<_> = who.subject.spaces().collect();
        if let Some(name) = &self.config.space {
            let default = self.space_by_name(name);
            match &default {
                Ok(s) if who.user.is_super || mine.iter().any(|(id, _)| *id == s.id) => {
                    return default;
                }
                _ => {}
            }
        }
        match mine.as_slice() {
            [(id, _)] => Ok(self.store.space(*id)?),
            [] => Err(usage("you belong to no space; pass --space <name>")),
            _ => Err(usage("you belong to several spaces; pass --space <name>")),
        }
    }

    /// A live space by name.
    pub fn space_by_name(&self, name: &str) -> anyhow::Result<Space> {
        let n = Name::new(name)?;
        let found = self.store.list_spaces(Some(n.as_str()), Page::all())?;
        found
            .items
            .into_iter()
            .find(|s| s.name == n)
            .ok_or_else(|| not_found(format!("no space named {name:?}")))
    }

    /// A live environment of a space by name.
    pub fn environment_by_name(&self, space: &Space, name: &str) -> anyhow::Result<Environment> {
        let n = Name::new(name)?;
        self.store
            .list_environments(space.id, Page::all())?
            .items
            .into_iter()
            .find(|e| e.name == n)
            .ok_or_else(|| {
                not_found(format!(
                    "no environment named {name:?} in space {}",
                    space.name
                ))
            })
    }

    /// A live server of a space by name.
    pub fn server_by_name(&self, space: &Space, name: &str) -> anyhow::Result<Server> {
        let n = Name::new(name)?;
        self.store
            .list_servers(space.id, Some(n.as_str()), None, Page::all())?
            .items
            .into_iter()
            .find(|s| s.spec.name == n)
            .ok_or_else(|| not_found(format!("no server named {name:?} in space {}", space.name)))
    }

    /// A live project of a space by name (or numeric id).
    pub fn project_by_name(&self, space: &Space, name: &str) -> anyhow::Result<Project> {
        if let Ok(id) = name.parse::<i64>() {
            let p = self.store.project(ProjectId(id))?;
            if p.space == space.id {
                return Ok(p);
            }
        }
        let n = Name::new(name)?;
        self.store
            .list_projects(space.id, None, Some(n.as_str()), Page::all())?
            .items
            .into_iter()
            .find(|p| p.spec.name == n)
            .ok_or_else(|| not_found(format!("no project named {name:?} in space {}", space.name)))
    }

    /// The permission view of a project.
    pub fn project_ref(&self, project: &Project) -> anyhow::Result<ProjectRef> {
        let members =
            self.store
                .members(MemberScope::Project(project.id), None, Page::number(1, 1))?;
        Ok(ProjectRef {
            space: project.space,
            id: project.id,
            has_explicit_members: members.total > 0,
        })
    }

    /// The permission view of a task.
    pub fn task_resource(&self, task: &Task) -> anyhow::Result<(Project, Resource)> {
        let project = self.store.project(task.project)?;
        let pref = self.project_ref(&project)?;
        Ok((
            project,
            Resource::Task {
                project: pref,
                submitter: task.submitter,
            },
        ))
    }

    /// A task by id.
    pub fn task(&self, id: i64) -> anyhow::Result<Task> {
        Ok(self.store.task(TaskId(id))?)
    }
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("reading the current directory")?
            .join(p))
    }
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("walle"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| usage("neither XDG_DATA_HOME nor HOME is set; pass --data-dir"))?;
    Ok(PathBuf::from(home).join(".local/share/walle"))
}
