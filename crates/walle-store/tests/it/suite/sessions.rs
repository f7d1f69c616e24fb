//! Login sessions and API tokens: expiry, blocked and deleted users, revocation.

use walle_core::UserId;
use walle_core::model::{User, UserStatus};
use walle_core::ports::Store;

use crate::fixtures::*;
use crate::suite::assert_not_found;

pub(crate) fn sessions_tokens_and_blocked_users<S: Store>(make: &dyn Fn() -> S) {
    let store = make();
    let hal = user(&store, "Hal");
    let ivy = user(&store, "Ivy");

    // Sessions last until their expiry, exclusive.
    store.create_session("h1", hal.id, T0, at(3600)).unwrap();
    store.create_session("h2", hal.id, T0, at(60)).unwrap();
    assert_eq!(store.session_user("h1", at(3599)).unwrap(), Some(hal.id));
    assert_eq!(store.session_user("h1", at(3600)).unwrap(), None);
    assert_eq!(store.session_user("nope", T0).unwrap(), None);
    store.delete_session("h1").unwrap();
    store.delete_session("h1").unwrap();
    assert_eq!(store.session_user("h1", T0).unwrap(), None);
    assert_eq!(store.session_user("h2", at(1)).unwrap(), Some(hal.id));
    assert_not_found(
        store.create_session("x", UserId(999_999), T0, at(1)),
        "user",
    );

    // API tokens: found by hash, use recorded, listed per user, revoked by their owner only.
    let t1 = store.create_api_token(hal.id, "ci", "hash-ci", T0).unwrap();
    let t2 = store
        .create_api_token(hal.id, "laptop", "hash-laptop", T0)
        .unwrap();
    let t3 = store
        .create_api_token(ivy.id, "ci", "hash-ivy", T0)
        .unwrap();
    assert_eq!(t1.last_used_at, None);
    assert_eq!(
        store.api_token_user("hash-ci", at(5)).unwrap(),
        Some(hal.id)
    );
    assert_eq!(store.api_token_user("hash-nope", at(5)).unwrap(), None);
    let tokens = store.list_api_tokens(hal.id).unwrap();
    assert_eq!(
        tokens.iter().map(|t| t.id).collect::<Vec<_>>(),
        [t1.id, t2.id]
    );
    assert_eq!(tokens[0].last_used_at, Some(at(5)));
    assert_eq!(tokens[1], t2);
    assert_not_found(store.revoke_api_token(ivy.id, t1.id), "api token");
    store.revoke_api_token(hal.id, t2.id).unwrap();
    assert_eq!(store.api_token_user("hash-laptop", at(6)).unwrap(), None);

    // A blocked user's sessions and tokens stop working, and work again once unblocked.
    let block = |u: &User, status| {
        store
            .update_user(
                &User {
                    status,
                    ..u.clone()
                },
                at(7),
            )
            .unwrap()
    };
    block(&hal, UserStatus::Blocked);
    assert_eq!(store.session_user("h2", at(8)).unwrap(), None);
    assert_eq!(store.api_token_user("hash-ci", at(8)).unwrap(), None);
    block(&hal, UserStatus::Active);
    assert_eq!(store.session_user("h2", at(8)).unwrap(), Some(hal.id));
    assert_eq!(
        store.api_token_user("hash-ci", at(8)).unwrap(),
        Some(hal.id)
    );

    // Deleting a user removes their sessions and tokens; others keep theirs.
    store.create_session("i1", ivy.id, T0, at(3600)).unwrap();
    store.delete_user(hal.id, at(9)).unwrap();
    assert_eq!(store.session_user("h2", at(10)).unwrap(), None);
    assert_eq!(store.api_token_user("hash-ci", at(10)).unwrap(), None);
    assert_eq!(store.list_api_tokens(hal.id).unwrap(), []);
    assert_eq!(store.session_user("i1", at(10)).unwrap(), Some(ivy.id));
    assert_eq!(store.list_api_tokens(ivy.id).unwrap(), [t3]);
}
