//! `cargo run -p xtask -- <command>`: project automation.

fn main() -> anyhow::Result<()> {
    Ok(())
}
