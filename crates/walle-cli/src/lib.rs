#![doc = include_str!("../README.md")]

pub mod adapters;
pub mod args;
pub mod check;
pub mod context;
pub mod deploy;
pub mod error;
pub mod init;
pub mod logs;
pub mod members;
pub mod output;
pub mod password;
pub mod project_file;
pub mod projects;
pub mod quickstart;
pub mod releases;
pub mod servers;
pub mod spaces;
pub mod store;
pub mod tasks;
pub mod users;

use args::{Cli, Command, ProjectCmd};
use context::Ctx;
use output::{Mode, Report};

/// Runs a parsed command line: dispatches, prints the result or the error, returns the exit code.
pub fn run(cli: Cli) -> u8 {
    let mode = Mode::detect(cli.global.json);
    match dispatch(&cli, mode) {
        Ok(report) => {
            output::emit(mode, &report);
            report.code()
        }
        Err(err) => {
            let code = error::exit_code(&err);
            output::emit_error(mode, &err, code);
            code
        }
    }
}

/// Runs a command and returns its result, printing nothing but live progress.
pub fn dispatch(cli: &Cli, mode: Mode) -> anyhow::Result<Report> {
    let g = &cli.global;
    match &cli.command {
        Command::Init(a) => init::init(g, a),
        Command::Migrate => init::migrate(g),
        Command::Quickstart(a) => quickstart::run(g, a, mode),
        Command::Project(ProjectCmd::Example) => Ok(Report::new(
            &serde_json::json!({ "example": project_file::EXAMPLE }),
            project_file::EXAMPLE,
        )),
        Command::Serve(a) => Err(error::CliError::Failed(format!(
            "the HTTP server is not part of this build yet (asked to listen on {}); use the CLI commands",
            a.listen
        ))
        .into()),
        cmd => {
            let ctx = Ctx::open(g)?;
            match cmd {
                Command::User(c) => users::run(&ctx, c),
                Command::Space(c) => spaces::run(&ctx, c),
                Command::Member(c) => members::run(&ctx, c),
                Command::Env(c) => spaces::run_env(&ctx, c),
                Command::Server(c) => servers::run(&ctx, c),
                Command::Project(c) => projects::run(&ctx, c),
                Command::Task(c) => tasks::run(&ctx, c, mode),
                Command::Release(c) => releases::run(&ctx, c),
                Command::Deploy(a) => deploy::shortcut(&ctx, a, mode),
                Command::Rollback(a) => deploy::rollback(&ctx, a, mode),
                Command::Check(a) => check::run(&ctx, a),
                Command::Init(_)
                | Command::Migrate
                | Command::Quickstart(_)
                | Command::Serve(_) => Err(error::usage("handled above")),
            }
        }
    }
}
