//! `cargo run -p xtask -- <command>`: project automation.
//!
//! Commands:
//! - `layering`: the pure crates (walle-core, walle-rbac) depend on no runtime, database, VCS, SSH,
//!   HTTP or TLS crate and their code does no I/O (also run as a test);
//! - `tidy`: module docs, no `#[should_panic]`/`#[ignore]`, no `todo!()` in shipping code,
//!   mirrored migration trees (also run as a test).

mod layering;
mod source;
mod tidy;

use std::process::ExitCode;

use anyhow::format_err;

const USAGE: &str = "usage: cargo run -p xtask -- <layering|tidy>";

fn main() -> ExitCode {
    match run(std::env::args().nth(1).as_deref()) {
        Ok(report) => {
            say(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            complain(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(command: Option<&str>) -> anyhow::Result<String> {
    let root = source::workspace_root();
    match command {
        Some("layering") => Ok(format!("{}layering: ok", layering::check(&root)?)),
        Some("tidy") => {
            let offences = tidy::check(&root)?;
            if offences.is_empty() {
                Ok("tidy: ok".to_owned())
            } else {
                Err(format_err!(
                    "tidy check failed:\n{}",
                    tidy::report(&offences)
                ))
            }
        }
        Some("help" | "-h" | "--help") => Ok(USAGE.to_owned()),
        _ => Err(format_err!("{USAGE}")),
    }
}

// Printing the result is what a command-line task is for.
#[allow(clippy::print_stdout)]
fn say(text: &str) {
    println!("{text}");
}

// Printing the failure is what a command-line task is for.
#[allow(clippy::print_stderr)]
fn complain(text: &str) {
    eprintln!("{text}");
}
