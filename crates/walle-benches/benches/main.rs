//! Benchmarks of Walle against baselines measured in the same run (see docs/BENCHMARKS.md).
//!
//! Run with `cargo bench -p walle-benches`; benchmarks that talk to servers need the test
//! infrastructure (`sudo scripts/infra up`).

mod store;

fn main() {
    divan::main();
    store::teardown();
}
