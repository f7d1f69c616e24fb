//! Releases (one id for the fleet) and the per-host release ledger.

use diesel::prelude::*;
use walle_core::model::{LedgerEntry, Page, Paged, Release, ReleaseStatus};
use walle_core::ports::{ReleaseStore, StoreResult};
use walle_core::value::{CommitId, ReleaseId};
use walle_core::{ProjectId, ServerId, TaskId, Timestamp, UserId};

use crate::codes;
use crate::conn::{Db, insert_batch};
use crate::error::{Result, not_found, or_duplicate, valid};
use crate::schema::{release_ledger, releases};
use crate::store::{DieselStore, bounds, count};

#[derive(Queryable, Selectable)]
#[diesel(table_name = releases, check_for_backend(Db))]
struct ReleaseRow {
    id: String,
    project_id: i64,
    task_id: i64,
    commit_id: String,
    checksum: String,
    status: String,
    created_at: i64,
}

impl ReleaseRow {
    fn into_release(self) -> Result<Release> {
        Ok(Release {
            id: valid("release id", ReleaseId::new(&self.id))?,
            project: ProjectId(self.project_id),
            task: TaskId(self.task_id),
            commit: valid("release commit", CommitId::new(&self.commit_id))?,
            checksum: self.checksum,
            status: codes::parse_release_status(&self.status)?,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = release_ledger, check_for_backend(Db))]
struct LedgerRow {
    server_id: i64,
    release_id: String,
    commit_id: String,
    task_id: i64,
    actor_id: i64,
    status: String,
    previous_release: Option<String>,
    at: i64,
}

impl LedgerRow {
    fn into_entry(self) -> Result<LedgerEntry> {
        Ok(LedgerEntry {
            server: ServerId(self.server_id),
            release: valid("ledger release", ReleaseId::new(&self.release_id))?,
            commit: valid("ledger commit", CommitId::new(&self.commit_id))?,
            task: TaskId(self.task_id),
            actor: UserId(self.actor_id),
            status: codes::parse_ledger_status(&self.status)?,
            previous: self
                .previous_release
                .map(|p| valid("ledger previous release", ReleaseId::new(&p)))
                .transpose()?,
            at: Timestamp::from_unix_millis(self.at),
        })
    }
}

impl ReleaseStore for DieselStore {
    fn create_release(&self, release: &Release) -> StoreResult<()> {
        self.write(|conn| {
            let inserted = diesel::insert_into(releases::table)
                .values((
                    releases::id.eq(release.id.as_str()),
                    releases::project_id.eq(release.project.get()),
                    releases::task_id.eq(release.task.get()),
                    releases::commit_id.eq(release.commit.as_str()),
                    releases::checksum.eq(&release.checksum),
                    releases::status.eq(release.status.as_str()),
                    releases::created_at.eq(release.created_at.unix_millis()),
                ))
                .execute(conn);
            or_duplicate(inserted, "release", &release.id)?;
            Ok(())
        })
    }

    fn release(&self, id: &ReleaseId) -> StoreResult<Release> {
        self.read(|conn| {
            releases::table
                .filter(releases::id.eq(id.as_str()))
                .select(ReleaseRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("release", id))?
                .into_release()
        })
    }

    fn set_release_status(&self, id: &ReleaseId, status: ReleaseStatus) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(releases::table.filter(releases::id.eq(id.as_str())))
                .set(releases::status.eq(status.as_str()))
                .execute(conn)?;
            if n == 0 {
                return Err(not_found("release", id));
            }
            Ok(())
        })
    }

    fn list_releases(&self, project: ProjectId, page: Page) -> StoreResult<Paged<Release>> {
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total: i64 = releases::table
                .filter(releases::project_id.eq(project.get()))
                .count()
                .get_result(conn)?;
            let rows: Vec<ReleaseRow> = releases::table
                .filter(releases::project_id.eq(project.get()))
                .select(ReleaseRow::as_select())
                .order((releases::created_at.desc(), releases::id.desc()))
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            Ok(Paged {
                items: rows
                    .into_iter()
                    .map(ReleaseRow::into_release)
                    .collect::<Result<_>>()?,
                total: count(total),
            })
        })
    }

    fn append_ledger(&self, entries: &[LedgerEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.write(|conn| {
            let rows: Vec<_> = entries
                .iter()
                .map(|e| {
                    (
                        // The release id names its project: `{project}_{task}_{time}`.
                        release_ledger::project_id.eq(e.release.project().get()),
                        release_ledger::server_id.eq(e.server.get()),
                        release_ledger::release_id.eq(e.release.as_str()),
                        release_ledger::commit_id.eq(e.commit.as_str()),
                        release_ledger::task_id.eq(e.task.get()),
                        release_ledger::actor_id.eq(e.actor.get()),
                        release_ledger::status.eq(e.status.as_str()),
                        release_ledger::previous_release
                            .eq(e.previous.as_ref().map(ReleaseId::as_str)),
                        release_ledger::at.eq(e.at.unix_millis()),
                    )
                })
                .collect();
            insert_batch!(conn, release_ledger::table, rows)?;
            Ok(())
        })
    }

    fn ledger(&self, project: ProjectId, server: ServerId) -> StoreResult<Vec<LedgerEntry>> {
        self.read(|conn| {
            let rows: Vec<LedgerRow> = release_ledger::table
                .filter(release_ledger::project_id.eq(project.get()))
                .filter(release_ledger::server_id.eq(server.get()))
                .select(LedgerRow::as_select())
                .order(release_ledger::id.asc())
                .load(conn)?;
            rows.into_iter().map(LedgerRow::into_entry).collect()
        })
    }
}
