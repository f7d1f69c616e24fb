//! Deploy leases: atomic, token-owned, expiring locks, portable across the three backends.
//!
//! Acquire never holds a transaction open and needs no `SELECT … FOR UPDATE` or upsert syntax:
//! 1. `UPDATE leases SET <ours> WHERE lock_key = ? AND expires_at <= now` takes over a lapsed
//!    lease. The database re-checks the condition on the locked row, so of two instances racing for
//!    the same stale lease exactly one sees one affected row.
//! 2. Otherwise `INSERT` a fresh row; the primary key on `lock_key` lets exactly one racer in.
//! 3. Otherwise read the holder: unexpired means `Held`; a row that lapsed or vanished meanwhile
//!    means go round again.
//!
//! Renew and release match the token in their `WHERE` clause; a forced release deletes the row
//! and writes the audit entry in one transaction.

use std::time::Duration;

use diesel::prelude::*;
use walle_core::model::{Lease, LeaseToken, LockKey, NewAuditEntry};
use walle_core::ports::{Acquire, LeaseStore, StoreError, StoreResult};
use walle_core::{Timestamp, UserId};

use crate::conn::{AnyConnection, Db};
use crate::error::{Error, Result, conflict};
use crate::events::insert_audit;
use crate::schema::leases;
use crate::store::DieselStore;

/// Rounds of update / insert / read before giving up (each round loses only to a real change).
const ACQUIRE_ROUNDS: u32 = 50;

#[derive(Queryable, Selectable)]
#[diesel(table_name = leases, check_for_backend(Db))]
struct LeaseRow {
    lock_key: String,
    token: String,
    holder: String,
    acquired_at: i64,
    expires_at: i64,
}

impl From<LeaseRow> for Lease {
    fn from(r: LeaseRow) -> Self {
        Lease {
            key: LockKey::from_stored(r.lock_key),
            token: LeaseToken::new(r.token),
            holder: r.holder,
            acquired_at: Timestamp::from_unix_millis(r.acquired_at),
            expires_at: Timestamp::from_unix_millis(r.expires_at),
        }
    }
}

fn load(conn: &mut AnyConnection, key: &LockKey) -> Result<Option<Lease>> {
    Ok(leases::table
        .filter(leases::lock_key.eq(key.as_str()))
        .select(LeaseRow::as_select())
        .first(conn)
        .optional()?
        .map(Lease::from))
}

fn locked(key: &LockKey, current: Option<Lease>, now: Timestamp) -> Error {
    let (holder, expires_at) = match current {
        Some(l) => (l.holder, l.expires_at),
        None => ("nobody".to_owned(), now),
    };
    Error::Store(StoreError::Locked {
        key: key.to_string(),
        holder,
        expires_at,
    })
}

impl LeaseStore for DieselStore {
    fn acquire_lease(
        &self,
        key: &LockKey,
        token: &LeaseToken,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> StoreResult<Acquire> {
        let ours = Lease {
            key: key.clone(),
            token: token.clone(),
            holder: holder.to_owned(),
            acquired_at: now,
            expires_at: now.plus(ttl),
        };
        self.read(|conn| {
            for _ in 0..ACQUIRE_ROUNDS {
                let taken_over = diesel::update(
                    leases::table
                        .filter(leases::lock_key.eq(key.as_str()))
                        .filter(leases::expires_at.le(now.unix_millis())),
                )
                .set((
                    leases::token.eq(token.as_str()),
                    leases::holder.eq(holder),
                    leases::acquired_at.eq(now.unix_millis()),
                    leases::expires_at.eq(ours.expires_at.unix_millis()),
                ))
                .execute(conn);
                match taken_over.map_err(Error::from) {
                    Ok(1) => return Ok(Acquire::Acquired(ours)),
                    Ok(_) => {}
                    Err(e) if e.is_transient() => continue,
                    Err(e) => return Err(e),
                }
                let inserted = diesel::insert_into(leases::table)
                    .values((
                        leases::lock_key.eq(key.as_str()),
                        leases::token.eq(token.as_str()),
                        leases::holder.eq(holder),
                        leases::acquired_at.eq(now.unix_millis()),
                        leases::expires_at.eq(ours.expires_at.unix_millis()),
                    ))
                    .execute(conn);
                match inserted.map_err(Error::from) {
                    Ok(_) => return Ok(Acquire::Acquired(ours)),
                    Err(e) if e.is_unique_violation() || e.is_transient() => {}
                    Err(e) => return Err(e),
                }
                match load(conn, key)? {
                    Some(current) if !current.is_expired(now) => return Ok(Acquire::Held(current)),
                    // Lapsed or released between our statements: try again.
                    _ => continue,
                }
            }
            Err(conflict(format!("lock {key} changes too fast to be taken")))
        })
    }

    fn renew_lease(
        &self,
        key: &LockKey,
        token: &LeaseToken,
        now: Timestamp,
        ttl: Duration,
    ) -> StoreResult<Lease> {
        self.write(|conn| {
            let n = diesel::update(
                leases::table
                    .filter(leases::lock_key.eq(key.as_str()))
                    .filter(leases::token.eq(token.as_str())),
            )
            .set(leases::expires_at.eq(now.plus(ttl).unix_millis()))
            .execute(conn)?;
            let current = load(conn, key)?;
            match current {
                Some(lease) if n == 1 => Ok(lease),
                other => Err(locked(key, other, now)),
            }
        })
    }

    fn release_lease(&self, key: &LockKey, token: &LeaseToken) -> StoreResult<bool> {
        self.read(|conn| {
            let n = diesel::delete(
                leases::table
                    .filter(leases::lock_key.eq(key.as_str()))
                    .filter(leases::token.eq(token.as_str())),
            )
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    fn current_lease(&self, key: &LockKey, now: Timestamp) -> StoreResult<Option<Lease>> {
        self.read(|conn| Ok(load(conn, key)?.filter(|l| !l.is_expired(now))))
    }

    fn force_release(
        &self,
        key: &LockKey,
        actor: UserId,
        now: Timestamp,
    ) -> StoreResult<Option<Lease>> {
        self.write(|conn| {
            let Some(lease) = load(conn, key)? else {
                return Ok(None);
            };
            let n = diesel::delete(
                leases::table
                    .filter(leases::lock_key.eq(key.as_str()))
                    .filter(leases::token.eq(lease.token.as_str())),
            )
            .execute(conn)?;
            if n == 0 {
                // Changed hands between the read and the delete: read again.
                return Err(Error::Retry);
            }
            let state = if lease.is_expired(now) {
                "expired"
            } else {
                "live"
            };
            insert_audit(
                conn,
                &NewAuditEntry {
                    actor: Some(actor),
                    action: "lock.force_unlock".to_owned(),
                    target: key.to_string(),
                    details: format!(
                        "broke the {state} lease of {} (acquired {}, expiring {})",
                        lease.holder, lease.acquired_at, lease.expires_at
                    ),
                    at: now,
                },
            )?;
            Ok(Some(lease))
        })
    }
}
