//! The project deploy lease and its heartbeat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::model::{LeaseToken, LockKey};
use crate::ports::{Acquire, Clock, Store, StoreError};

/// How long a lease lives without renewal. A crashed deploy's lease lapses after this.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(60);

/// Takes the lease or reports who holds it.
pub(crate) fn acquire(
    store: &dyn Store,
    key: &LockKey,
    token: &LeaseToken,
    holder: &str,
    clock: &dyn Clock,
) -> Result<(), StoreError> {
    match store.acquire_lease(key, token, holder, clock.now(), LEASE_TTL)? {
        Acquire::Acquired(_) => Ok(()),
        Acquire::Held(l) => Err(StoreError::Locked {
            key: key.to_string(),
            holder: l.holder,
            expires_at: l.expires_at,
        }),
    }
}

/// Renews the lease every third of its lifetime until `stop` is set. Sets `lost` if renewal fails
/// (someone force-unlocked it): the deploy then stops before switching anything more.
pub(crate) fn heartbeat(
    store: &dyn Store,
    key: &LockKey,
    token: &LeaseToken,
    clock: &dyn Clock,
    stop: &AtomicBool,
    lost: &AtomicBool,
) {
    // Short ticks: the deploy waits for this thread to notice `stop` before it returns.
    let tick = Duration::from_millis(20);
    let every = LEASE_TTL / 3;
    let mut waited = Duration::ZERO;
    while !stop.load(Ordering::SeqCst) {
        clock.sleep(tick);
        waited += tick;
        if waited < every {
            continue;
        }
        waited = Duration::ZERO;
        if store
            .renew_lease(key, token, clock.now(), LEASE_TTL)
            .is_err()
        {
            lost.store(true, Ordering::SeqCst);
            return;
        }
    }
}
