//! End-to-end tests of the deploy engine on the real adapters and the test world.
//!
//! Each test builds a [`walle_e2e::World`] (store, adapters, servers for `wl1..wl3`) and checks the
//! result on the hosts themselves: where `current` points, what it serves, which releases exist and
//! what the ledger says, besides the task status and the report.

// Sorts first, so that nextest starts it before the others take their shared host leases: an
// exclusive `flock` waits for every shared holder, and would starve behind a queue of them.
mod a_frozen_host;
mod cancel;
mod cleanup;
mod deploy;
mod failures;
mod lease;
mod local;
mod retry;
mod svn;

use walle_core::engine::DeployReport;
use walle_core::model::{HostOutcome, HostState};
use walle_core::value::ReleaseId;
use walle_e2e::World;

/// The outcome of server `index` of the world in `report`.
#[track_caller]
fn outcome<'r>(w: &World, report: &'r DeployReport, index: usize) -> &'r HostOutcome {
    let id = w.servers[index].id;
    report
        .hosts
        .iter()
        .find(|o| o.server == id)
        .unwrap_or_else(|| {
            panic!(
                "no outcome for {} in {:#?}",
                w.hosts()[index].name,
                report.hosts
            )
        })
}

/// Asserts the state, previous and live release of server `index` in `report`.
#[track_caller]
fn assert_outcome(
    w: &World,
    report: &DeployReport,
    index: usize,
    state: HostState,
    previous: Option<&ReleaseId>,
    live: Option<&ReleaseId>,
) {
    let o = outcome(w, report, index);
    let name = &w.hosts()[index].name;
    assert_eq!(o.state, state, "state of {name}: {o:#?}");
    assert_eq!(o.previous.as_ref(), previous, "previous release of {name}");
    assert_eq!(o.live.as_ref(), live, "live release of {name}");
}
