//! Benchmarks of Walle against baselines measured in the same run (see docs/BENCHMARKS.md).
//!
//! Run with `cargo bench -p walle-benches`; benchmarks that talk to servers need the test
//! infrastructure (`sudo scripts/infra up`).

mod deploy;
mod store;
mod transport_fanout;
mod vcs_export;

fn main() {
    divan::main();
    store::teardown();
    vcs_export::teardown();
    transport_fanout::teardown();
    deploy::teardown();
}
