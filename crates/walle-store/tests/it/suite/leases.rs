//! The deploy lease: exactly one winner among racing threads and store instances, stale
//! takeover, token-checked renew and release, audited forced unlock.

use std::collections::HashSet;
use std::sync::Barrier;
use std::time::Duration;

use walle_core::model::{LeaseToken, LockKey, Page};
use walle_core::ports::{Acquire, Store, StoreError};
use walle_core::{EnvironmentId, ProjectId, Timestamp};

use crate::fixtures::*;

const TTL: Duration = Duration::from_secs(30);

/// `n` contenders (spread over `stores`) try to take `key` at the same moment; returns the
/// winners' tokens and checks that every loser was shown one and the same holder, the winner
/// when there is one.
fn race<S: Store>(
    stores: &[S],
    key: &LockKey,
    round: &str,
    n: usize,
    now: Timestamp,
) -> Vec<LeaseToken> {
    let barrier = Barrier::new(n);
    let outcomes: Vec<(LeaseToken, Acquire)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let store = &stores[i % stores.len()];
                let barrier = &barrier;
                s.spawn(move || {
                    let token = LeaseToken::new(format!("{round}-{i}"));
                    barrier.wait();
                    let got = store
                        .acquire_lease(key, &token, &format!("worker {i}"), now, TTL)
                        .expect("acquire");
                    (token, got)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut winners = Vec::new();
    let mut shown = HashSet::new();
    for (token, a) in &outcomes {
        match a {
            Acquire::Acquired(l) => {
                assert_eq!((&l.token, l.expires_at), (token, now.plus(TTL)));
                winners.push(token.clone());
            }
            Acquire::Held(l) => {
                assert!(!l.is_expired(now), "a loser was shown a lapsed lease");
                shown.insert(l.token.clone());
            }
        }
    }
    assert!(shown.len() <= 1, "losers saw different holders: {shown:?}");
    if let (Some(w), Some(s)) = (winners.first(), shown.iter().next()) {
        assert_eq!(w, s, "losers see the winner");
    }
    winners
}

pub(crate) fn lease_race_between_threads<S: Store>(make: &dyn Fn() -> S) {
    let stores = [make()];
    for round in 0..5 {
        let key = LockKey::project(ProjectId(round));
        let winners = race(&stores, &key, &format!("r{round}"), 8, T0);
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one winner, got {winners:?}"
        );
        let current = stores[0].current_lease(&key, T0).unwrap().expect("held");
        assert_eq!(current.token, winners[0]);
    }
}

pub(crate) fn lease_race_between_instances<S: Store>(make: &dyn Fn() -> S) {
    let stores = [make(), make(), make()];
    let key = LockKey::environment(EnvironmentId(7));
    let winners = race(&stores, &key, "fresh", 9, T0);
    assert_eq!(winners.len(), 1, "one winner for a free lock: {winners:?}");

    // While it is held, nobody else gets it.
    let again = race(&stores, &key, "busy", 6, at(10));
    assert_eq!(again, Vec::<LeaseToken>::new());

    // Once it has lapsed, exactly one contender takes it over.
    let later = at(TTL.as_secs() + 1);
    let takeover = race(&stores, &key, "stale", 9, later);
    assert_eq!(
        takeover.len(),
        1,
        "one winner for a stale lock: {takeover:?}"
    );
    assert_ne!(takeover[0], winners[0]);
    let current = stores[1].current_lease(&key, later).unwrap().expect("held");
    assert_eq!(current.token, takeover[0]);
    assert_eq!(current.acquired_at, later);
    // The old holder can neither renew nor release it.
    assert!(matches!(
        stores[0].renew_lease(&key, &winners[0], later, TTL),
        Err(StoreError::Locked { .. })
    ));
    assert!(!stores[2].release_lease(&key, &winners[0]).unwrap());
    assert!(stores[2].release_lease(&key, &takeover[0]).unwrap());
    assert_eq!(stores[0].current_lease(&key, later).unwrap(), None);
}

pub(crate) fn lease_expiry_tokens_and_forced_unlock<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let admin = user(&store, "Admin");
    let key = LockKey::project(ProjectId(1));
    let mine = LeaseToken::new("mine");
    let theirs = LeaseToken::new("theirs");

    let Acquire::Acquired(lease) = store
        .acquire_lease(&key, &mine, "task 1 (alice)", T0, TTL)
        .unwrap()
    else {
        panic!("a free lock is acquired");
    };
    assert_eq!(lease.holder, "task 1 (alice)");
    assert_eq!(store.current_lease(&key, T0).unwrap(), Some(lease.clone()));
    // Held: the other token sees the holder; renewing with it is refused.
    match store
        .acquire_lease(&key, &theirs, "task 2 (bob)", at(1), TTL)
        .unwrap()
    {
        Acquire::Held(l) => assert_eq!(l, lease),
        other => panic!("expected Held, got {other:?}"),
    }
    match store.renew_lease(&key, &theirs, at(1), TTL) {
        Err(StoreError::Locked {
            holder, expires_at, ..
        }) => {
            assert_eq!(holder, "task 1 (alice)");
            assert_eq!(expires_at, lease.expires_at);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(!store.release_lease(&key, &theirs).unwrap());

    // Renewing pushes the expiry; the lease lapses exactly at expires_at.
    let renewed = store.renew_lease(&key, &mine, at(20), TTL).unwrap();
    assert_eq!(renewed.expires_at, at(50));
    assert_eq!(renewed.acquired_at, T0);
    assert!(store.current_lease(&key, at(49)).unwrap().is_some());
    assert_eq!(store.current_lease(&key, at(50)).unwrap(), None);
    // A lapsed lease nobody took can still be released by its holder.
    assert!(store.release_lease(&key, &mine).unwrap());
    assert!(!store.release_lease(&key, &mine).unwrap());
    assert!(matches!(
        store.renew_lease(&key, &mine, at(60), TTL),
        Err(StoreError::Locked { .. })
    ));

    // Forced unlock: the lease goes, the audit log says who broke whose lock.
    let Acquire::Acquired(held) = store
        .acquire_lease(&key, &theirs, "task 2 (bob)", at(100), TTL)
        .unwrap()
    else {
        panic!("free again");
    };
    assert_eq!(
        store.force_release(&key, admin.id, at(101)).unwrap(),
        Some(held)
    );
    assert_eq!(store.current_lease(&key, at(101)).unwrap(), None);
    assert_eq!(store.force_release(&key, admin.id, at(102)).unwrap(), None);
    let audit = store.list_audit(Some("force_unlock"), Page::all()).unwrap();
    assert_eq!(audit.total, 1, "only the real break is recorded");
    let e = &audit.items[0].entry;
    assert_eq!(e.actor, Some(admin.id));
    assert_eq!(e.target, key.to_string());
    assert_eq!(e.at, at(101));
    assert!(e.details.contains("task 2 (bob)"), "{}", e.details);
    assert!(
        !e.details.contains("theirs"),
        "the token is not written to the log"
    );
}
