//! Deploy events (the durable live console) and the audit log.
//!
//! Sequence numbers are per task, gap-free and unique under concurrent appenders: each task has a
//! counter row (`event_counters`, created with the task). An append first moves the counter by the
//! batch size with one `UPDATE … SET last_seq = last_seq + n` (which row-locks it until commit, so
//! appenders of one task queue up there), reads it back in the same transaction, and inserts the
//! events numbered from the old value. The primary key (task, seq) backs this up.

use std::collections::BTreeMap;

use diesel::prelude::*;
use walle_core::model::{AuditEntry, DeployEvent, NewAuditEntry, NewDeployEvent, Page, Paged};
use walle_core::ports::{AuditStore, EventStore, StoreResult};
use walle_core::{ServerId, TaskId, Timestamp, UserId};

use crate::codes;
use crate::conn::{AnyConnection, Db, insert_batch, last_insert_id};
use crate::error::{Error, Result, corrupt, not_found};
use crate::schema::{audit_log, deploy_events, event_counters};
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, like_pattern, lower};
use crate::tasks::task_is_live;

#[derive(Queryable, Selectable)]
#[diesel(table_name = deploy_events, check_for_backend(Db))]
struct EventRow {
    task_id: i64,
    seq: i64,
    server_id: Option<i64>,
    step: String,
    stream: String,
    line: String,
    exit_code: Option<i32>,
    at: i64,
}

impl EventRow {
    fn into_event(self) -> Result<DeployEvent> {
        Ok(DeployEvent {
            seq: u64::try_from(self.seq).map_err(|_| corrupt("event sequence", self.seq))?,
            event: NewDeployEvent {
                task: TaskId(self.task_id),
                host: self.server_id.map(ServerId),
                step: codes::parse_step(&self.step)?,
                stream: codes::parse_stream(&self.stream)?,
                line: self.line,
                exit_code: self.exit_code,
                at: Timestamp::from_unix_millis(self.at),
            },
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(Db))]
struct AuditRow {
    id: i64,
    actor_id: Option<i64>,
    action: String,
    target: String,
    details: String,
    at: i64,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            entry: NewAuditEntry {
                actor: r.actor_id.map(UserId),
                action: r.action,
                target: r.target,
                details: r.details,
                at: Timestamp::from_unix_millis(r.at),
            },
        }
    }
}

/// Reserves `n` sequence numbers of `task`; returns the last one used before them.
fn reserve(conn: &mut AnyConnection, task: TaskId, n: usize) -> Result<i64> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let counter = event_counters::table.filter(event_counters::task_id.eq(task.get()));
    let moved = diesel::update(counter)
        .set(event_counters::last_seq.eq(event_counters::last_seq + n))
        .execute(conn)?;
    if moved == 0 {
        if !task_is_live(conn, task)? {
            return Err(not_found("task", task));
        }
        // A task from before the counter existed: create it (a lost race retries the transaction).
        let inserted = diesel::insert_into(event_counters::table)
            .values((
                event_counters::task_id.eq(task.get()),
                event_counters::last_seq.eq(n),
            ))
            .execute(conn);
        return match inserted {
            Ok(_) => Ok(0),
            Err(e) => {
                let e = Error::from(e);
                Err(if e.is_unique_violation() {
                    Error::Retry
                } else {
                    e
                })
            }
        };
    }
    let last: i64 = counter.select(event_counters::last_seq).first(conn)?;
    Ok(last - n)
}

/// Inserts one audit entry; returns its id.
pub(crate) fn insert_audit(conn: &mut AnyConnection, entry: &NewAuditEntry) -> Result<i64> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(entry.actor.map(UserId::get)),
            audit_log::action.eq(&entry.action),
            audit_log::target.eq(&entry.target),
            audit_log::details.eq(&entry.details),
            audit_log::at.eq(entry.at.unix_millis()),
        ))
        .execute(conn)?;
    Ok(last_insert_id(conn)?)
}

impl EventStore for DieselStore {
    fn append_events(&self, events: &[NewDeployEvent]) -> StoreResult<Vec<u64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Group by task; counters are locked in task-id order so that two batches spanning the
        // same tasks cannot deadlock.
        let mut per_task: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            per_task.entry(e.task.get()).or_default().push(i);
        }
        self.write(|conn| {
            let mut seqs = vec![0_i64; events.len()];
            for (task, idx) in &per_task {
                let base = reserve(conn, TaskId(*task), idx.len())?;
                for (k, i) in idx.iter().enumerate() {
                    seqs[*i] = base + 1 + i64::try_from(k).unwrap_or(i64::MAX);
                }
            }
            let rows: Vec<_> = events
                .iter()
                .zip(&seqs)
                .map(|(e, seq)| {
                    (
                        deploy_events::task_id.eq(e.task.get()),
                        deploy_events::seq.eq(*seq),
                        deploy_events::server_id.eq(e.host.map(ServerId::get)),
                        deploy_events::step.eq(e.step.as_str()),
                        deploy_events::stream.eq(e.stream.as_str()),
                        deploy_events::line.eq(e.line.as_str()),
                        deploy_events::exit_code.eq(e.exit_code),
                        deploy_events::at.eq(e.at.unix_millis()),
                    )
                })
                .collect();
            insert_batch!(conn, deploy_events::table, rows)?;
            Ok(seqs
                .iter()
                .map(|s| u64::try_from(*s).unwrap_or(0))
                .collect())
        })
    }

    fn events_after(&self, task: TaskId, after: u64, limit: u64) -> StoreResult<Vec<DeployEvent>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let rows: Vec<EventRow> = deploy_events::table
                .filter(deploy_events::task_id.eq(task.get()))
                .filter(deploy_events::seq.gt(after))
                .select(EventRow::as_select())
                .order(deploy_events::seq.asc())
                .limit(limit)
                .load(conn)?;
            rows.into_iter().map(EventRow::into_event).collect()
        })
    }
}

impl AuditStore for DieselStore {
    fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<AuditEntry> {
        self.write(|conn| {
            let id = insert_audit(conn, entry)?;
            Ok(AuditEntry {
                id,
                entry: entry.clone(),
            })
        })
    }

    fn list_audit(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<AuditEntry>> {
        let pattern = like_pattern(keyword);
        let filtered = || {
            let q = audit_log::table.into_boxed::<Db>();
            match &pattern {
                Some(p) => q.filter(
                    lower(audit_log::action)
                        .like(p.clone())
                        .escape(LIKE_ESCAPE)
                        .or(lower(audit_log::target).like(p.clone()).escape(LIKE_ESCAPE)),
                ),
                None => q,
            }
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows: Vec<AuditRow> = filtered()
                .select(AuditRow::as_select())
                .order(audit_log::id.desc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            Ok(Paged {
                items: rows.into_iter().map(AuditEntry::from).collect(),
                total: count(total),
            })
        })
    }
}
