//! The command line, as clap derive types: every command, its options and its `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Examples:
  walle quickstart                               # init, deploy a sample project twice, roll back
  walle init                                     # data dir, database and a SUPER account
  walle server create web1 --host 10.0.0.5 --user deploy
  walle project create --from shop.toml
  walle deploy shop --branch main                # create a task and deploy it
  walle deploy shop --branch main --dry-run      # print the plan only
  walle rollback shop                            # back to the previous release
  walle task logs 12 --follow

Who acts: every command runs as the user named by --as / WALLE_USER (default: the account
`walle init` created) and is checked against the same permission rules as the server.

Exit codes:
  0  success
  1  the deploy (or check) ran and failed
  2  usage or validation error
  3  permission denied
  4  not found
  5  locked or conflict (another deploy holds the lock, the task is in the wrong state, a name is taken)";

/// Walle deploys code: build once, ship over SSH, switch `current` atomically, roll back.
#[derive(Debug, Parser)]
#[command(
    name = "walle",
    version,
    about = "Walle deploys code: build once, ship over SSH, switch `current` atomically, roll back.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Data directory (database, repository caches, build dirs, known_hosts).
    /// Default: $XDG_DATA_HOME/walle or ~/.local/share/walle.
    #[arg(long, global = true, env = "WALLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH, mysql://..., postgres://...). Default: sqlite://DATA_DIR/walle.db.
    #[arg(long, global = true, env = "WALLE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Act as this user (e-mail). Default: the account `walle init` created.
    #[arg(long = "as", global = true, env = "WALLE_USER", value_name = "EMAIL")]
    pub as_user: Option<String>,
    /// The space to work in (name). Default: the user's only space, or `default`.
    #[arg(long, global = true, env = "WALLE_SPACE", value_name = "SPACE")]
    pub space: Option<String>,
    /// SSH private key for target hosts (its passphrase in WALLE_IDENTITY_PASSPHRASE).
    /// Default: the ssh-agent, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa.
    #[arg(long, global = true, env = "WALLE_IDENTITY", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, the database, a SUPER account (password printed once), and a
    /// `default` space with a `production` environment.
    #[command(after_help = "Example:\n  walle init --email ops@example.com")]
    Init(InitArgs),
    /// Apply pending database migrations.
    Migrate,
    /// Run the HTTP server and web UI (not part of this build yet).
    Serve(ServeArgs),
    /// Everything in one go on this machine: init a store, create a sample git project, deploy it
    /// twice to a target on this host, roll back, and show the releases.
    #[command(
        after_help = "Example:\n  walle quickstart                 # in a fresh temporary directory\n  walle quickstart --dir /tmp/wq   # keep everything there"
    )]
    Quickstart(QuickstartArgs),
    /// Users (accounts).
    #[command(subcommand)]
    User(UserCmd),
    /// Spaces (tenants holding members, environments, servers and projects).
    #[command(subcommand)]
    Space(SpaceCmd),
    /// Members of a space or project and their roles.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Environments of a space (dev, test, production, ...).
    #[command(subcommand, name = "env", alias = "environment")]
    Env(EnvCmd),
    /// Target servers.
    #[command(subcommand)]
    Server(ServerCmd),
    /// Projects (a repository and how it is deployed).
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Deploy tasks (上线单): create, approve, deploy, roll back, logs.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Releases of a project and where each host's webroot points.
    #[command(subcommand)]
    Release(ReleaseCmd),
    /// Create a task and deploy it right away (when your role allows it).
    #[command(
        after_help = "Examples:\n  walle deploy shop --branch main\n  walle deploy shop --tag v1.2.0 --server web1 --server web2\n  walle deploy shop --branch main --dry-run"
    )]
    Deploy(DeployArgs),
    /// Roll a project back to a kept release (default: the one before the live release).
    #[command(
        after_help = "Examples:\n  walle rollback shop\n  walle rollback shop --to 3_12_20260101_120000"
    )]
    Rollback(RollbackArgs),
    /// Test a project for real: SSH login and host key, writable directories, repository
    /// reachable, hook tools present.
    Check(CheckArgs),
}

/// `walle init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// E-mail (login) of the SUPER account.
    #[arg(long, default_value = "admin@walle.local")]
    pub email: String,
    /// Display name of the SUPER account.
    #[arg(long, default_value = "admin")]
    pub name: String,
    /// Name of the first space.
    #[arg(long = "space-name", default_value = "default")]
    pub space_name: String,
    /// Name of the first environment.
    #[arg(long, default_value = "production")]
    pub environment: String,
}

/// `walle serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// `walle quickstart`.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Directory for everything (must be empty or absent). Default: a new temporary directory
    /// (or --data-dir when given).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `walle user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create an account; a generated password is printed once.
    #[command(
        after_help = "Examples:\n  walle user create dev@example.com --name dev --role DEVELOPER\n  echo \"$PW\" | walle user create ci@example.com --password-stdin"
    )]
    Create {
        /// E-mail (login).
        email: String,
        /// Display name (default: the part before @).
        #[arg(long)]
        name: Option<String>,
        /// Make the account SUPER.
        #[arg(long = "super")]
        is_super: bool,
        /// Add it to the space (--space or the default) with this role.
        #[arg(long)]
        role: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        /// Only names or e-mails containing this.
        #[arg(long)]
        keyword: Option<String>,
    },
    /// Show an account and its memberships.
    Show {
        /// E-mail.
        email: String,
    },
    /// Change name, e-mail or password.
    Update {
        /// E-mail.
        email: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// New e-mail.
        #[arg(long)]
        new_email: Option<String>,
        /// Generate a new password and print it once.
        #[arg(long, conflicts_with = "password_stdin")]
        reset_password: bool,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Block an account (it can no longer act or log in).
    Block {
        /// E-mail.
        email: String,
    },
    /// Unblock an account.
    Unblock {
        /// E-mail.
        email: String,
    },
    /// Delete an account.
    Delete {
        /// E-mail.
        email: String,
    },
}

/// `walle space ...`.
#[derive(Debug, Subcommand)]
pub enum SpaceCmd {
    /// Create a space.
    Create {
        /// Name.
        name: String,
        /// Owner (e-mail); default: you.
        #[arg(long)]
        owner: Option<String>,
    },
    /// List spaces (all for SUPER, else yours).
    List,
    /// Show a space.
    Show {
        /// Name.
        name: String,
    },
    /// Rename, open, close or change the owner.
    Update {
        /// Name.
        name: String,
        /// New name.
        #[arg(long)]
        rename: Option<String>,
        /// New owner (e-mail).
        #[arg(long)]
        owner: Option<String>,
        /// Close it (no new tasks).
        #[arg(long, conflicts_with = "open")]
        close: bool,
        /// Open it again.
        #[arg(long)]
        open: bool,
    },
    /// Delete a space.
    Delete {
        /// Name.
        name: String,
    },
}

/// `walle member ...`.
#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add a member (or change their role) in the space, or in a project with --project.
    #[command(
        after_help = "Examples:\n  walle member add dev@example.com --role DEVELOPER\n  walle member add lead@example.com --role MASTER --project shop"
    )]
    Add {
        /// E-mail.
        email: String,
        /// REPORTER, DEVELOPER, MASTER or OWNER (OWNER: spaces only).
        #[arg(long)]
        role: String,
        /// A project of the space instead of the space itself.
        #[arg(long)]
        project: Option<String>,
    },
    /// List the members of the space, or of a project.
    List {
        /// A project of the space.
        #[arg(long)]
        project: Option<String>,
    },
    /// Remove a member.
    Remove {
        /// E-mail.
        email: String,
        /// A project of the space.
        #[arg(long)]
        project: Option<String>,
    },
}

/// `walle env ...`.
#[derive(Debug, Subcommand)]
pub enum EnvCmd {
    /// Create an environment.
    Create {
        /// Name.
        name: String,
    },
    /// List environments.
    List,
    /// Rename, open or close an environment.
    Update {
        /// Name.
        name: String,
        /// New name.
        #[arg(long)]
        rename: Option<String>,
        /// Close it (no new tasks).
        #[arg(long, conflicts_with = "open")]
        close: bool,
        /// Open it again.
        #[arg(long)]
        open: bool,
    },
    /// Delete an environment.
    Delete {
        /// Name.
        name: String,
    },
}

/// Server settings given on the command line.
#[derive(Debug, Args)]
pub struct ServerSettings {
    /// Address or DNS name; `local` means this host itself (no SSH).
    #[arg(long)]
    pub host: Option<String>,
    /// SSH port.
    #[arg(long)]
    pub port: Option<u16>,
    /// SSH login user (default: the current user).
    #[arg(long)]
    pub user: Option<String>,
    /// Labels (repeat).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
}

/// `walle server ...`.
#[derive(Debug, Subcommand)]
pub enum ServerCmd {
    /// Define a target server.
    #[command(
        after_help = "Examples:\n  walle server create web1 --host 10.0.0.5 --user deploy --label web\n  walle server create here --host local    # this host, no SSH"
    )]
    Create {
        /// Name.
        name: String,
        /// Settings.
        #[command(flatten)]
        settings: ServerSettings,
    },
    /// List servers.
    List {
        /// Only servers with this label.
        #[arg(long)]
        label: Option<String>,
    },
    /// Show a server.
    Show {
        /// Name.
        name: String,
    },
    /// Change a server.
    Update {
        /// Name.
        name: String,
        /// New name.
        #[arg(long)]
        rename: Option<String>,
        /// Settings.
        #[command(flatten)]
        settings: ServerSettings,
    },
    /// Forget the trusted host key (after a reinstall); the next connection trusts what it sees.
    ForgetKey {
        /// Name.
        name: String,
    },
    /// Delete a server.
    Delete {
        /// Name.
        name: String,
    },
}

/// `walle project ...`.
#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Create a project from options, a TOML file (see `walle project example`), or both (the
    /// options override the file).
    #[command(
        after_help = "Examples:\n  walle project create shop --repo https://git.example.com/shop.git --webroot /var/www/shop/current --server web1\n  walle project example > shop.toml && $EDITOR shop.toml && walle project create --from shop.toml"
    )]
    Create {
        /// Name (or `name` in the file).
        name: Option<String>,
        /// The project file.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Settings given as options.
        #[command(flatten)]
        settings: ProjectSettings,
    },
    /// Change a project's settings from options, or replace them from a TOML file (secrets not in
    /// the file are kept).
    #[command(
        after_help = "Examples:\n  walle project update shop --keep 10 --approval\n  walle project export shop > shop.toml && $EDITOR shop.toml && walle project update shop --from shop.toml"
    )]
    Update {
        /// Name.
        name: String,
        /// The project file.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Settings given as options.
        #[command(flatten)]
        settings: ProjectSettings,
    },
    /// Print a project's settings as TOML (secrets are never printed).
    Export {
        /// Name.
        name: String,
    },
    /// Print a documented example project file.
    Example,
    /// List projects.
    List,
    /// Show a project.
    Show {
        /// Name.
        name: String,
    },
    /// List the branches, tags or recent commits of a project's repository.
    Versions {
        /// Name.
        name: String,
        /// Commits of this branch instead of branches and tags.
        #[arg(long)]
        branch: Option<String>,
    },
    /// Delete a project.
    Delete {
        /// Name.
        name: String,
    },
    /// Break the project's deploy lock (after a deploying process was killed); recorded in the
    /// audit log. A running deploy that loses its lock stops before switching any more hosts.
    Unlock {
        /// Name.
        name: String,
    },
    /// Test the project for real (same as `walle check`).
    Check(CheckArgs),
}

/// The common project settings as options; hooks, shared paths, filters, health checks,
/// strategy and notifications come from a project file.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectSettings {
    /// Repository URL.
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// `git` or `svn`.
    #[arg(long, value_name = "KIND")]
    pub repo_kind: Option<String>,
    /// Deploy by `branch` or by `tag`.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// The webroot symlink on the hosts (e.g. /var/www/shop/current).
    #[arg(long, value_name = "PATH")]
    pub webroot: Option<String>,
    /// Where releases are kept on the hosts (default: `releases` beside the webroot).
    #[arg(long, value_name = "PATH")]
    pub releases_dir: Option<String>,
    /// Releases kept per host.
    #[arg(long, value_name = "N")]
    pub keep: Option<u32>,
    /// Target servers (repeat; replaces the list).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// Environment.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Tasks need approval.
    #[arg(long, conflicts_with = "no_approval")]
    pub approval: bool,
    /// Tasks need no approval.
    #[arg(long)]
    pub no_approval: bool,
    /// The approver may not be the submitter (implies --approval).
    #[arg(long)]
    pub separate_approver: bool,
}

/// What version a task deploys.
#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Branch to deploy (head at deploy time, or --commit).
    #[arg(long, conflicts_with = "tag")]
    pub branch: Option<String>,
    /// Exact commit (or SVN revision) on the branch.
    #[arg(long, requires = "branch")]
    pub commit: Option<String>,
    /// Tag to deploy (tag-mode projects).
    #[arg(long)]
    pub tag: Option<String>,
}

/// `walle task ...`.
#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Create a task (submitted, or approved when the project needs no approval).
    #[command(
        after_help = "Example:\n  walle task create shop --branch main --title 'fix checkout'"
    )]
    Create(TaskCreateArgs),
    /// List tasks, newest first.
    List {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only these statuses (submitted, approved, rejected, deploying, succeeded, failed, cancelled).
        #[arg(long)]
        status: Vec<String>,
        /// Only tasks you submitted.
        #[arg(long)]
        mine: bool,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// Show a task with its hosts' outcomes.
    Show {
        /// Task id.
        id: i64,
    },
    /// Approve a submitted task.
    Approve {
        /// Task id.
        id: i64,
        /// Comment.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Reject a submitted task.
    Reject {
        /// Task id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Deploy an approved task (or a failed one again, on all its servers).
    Deploy {
        /// Task id.
        id: i64,
        /// Print the plan, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send every file even when the previous release is on the host.
        #[arg(long)]
        full: bool,
    },
    /// Cancel a running deploy; hosts are left on a consistent release.
    Cancel {
        /// Task id.
        id: i64,
    },
    /// Deploy a failed task again on the servers that did not switch.
    Retry {
        /// Task id.
        id: i64,
    },
    /// Create a rollback task from a finished task and deploy it.
    Rollback {
        /// Task id.
        id: i64,
        /// Release to return to (default: the one before the live release).
        #[arg(long)]
        to: Option<String>,
        /// Only create the rollback task, do not deploy it.
        #[arg(long)]
        no_deploy: bool,
    },
    /// Print a task's deploy log.
    Logs {
        /// Task id.
        id: i64,
        /// Keep printing new lines until the deploy ends.
        #[arg(long, short)]
        follow: bool,
    },
    /// Delete a task that has not run.
    Delete {
        /// Task id.
        id: i64,
    },
}

/// `walle task create`.
#[derive(Debug, Args)]
pub struct TaskCreateArgs {
    /// Project.
    pub project: String,
    /// Version.
    #[command(flatten)]
    pub version: VersionArgs,
    /// Servers (repeat; default: all the project's servers).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// Title (default: the version).
    #[arg(long)]
    pub title: Option<String>,
}

/// `walle release ...`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCmd {
    /// Releases of a project, newest first, and the live one on each host.
    List {
        /// Project.
        project: String,
    },
}

/// `walle deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// What to create.
    #[command(flatten)]
    pub task: TaskCreateArgs,
    /// Print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send every file even when the previous release is on the host.
    #[arg(long)]
    pub full: bool,
}

/// `walle rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Project.
    pub project: String,
    /// Release to return to (default: the one before the live release).
    #[arg(long)]
    pub to: Option<String>,
    /// Print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `walle check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project.
    pub project: String,
}
