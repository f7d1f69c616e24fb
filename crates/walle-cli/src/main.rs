//! The `walle` binary: parses the command line and hands it to the library.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = walle_cli::args::Cli::parse();
    std::process::ExitCode::from(walle_cli::run(cli))
}
