//! Tasks (with their target servers as a join table) and per-host outcomes.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use walle_core::model::{
    HostOutcome, Page, Paged, Task, TaskKind, TaskSource, TaskSpec, TaskStatus,
};
use walle_core::ports::{NewTask, StoreResult, TaskFilter, TaskStore};
use walle_core::value::{CommitId, Name, RefName, ReleaseId};
use walle_core::{ProjectId, ServerId, TaskId, Timestamp, UserId};

use crate::codes;
use crate::conn::{AnyConnection, Db, insert_batch, last_insert_id};
use crate::error::{Result, conflict, corrupt, duplicate, not_found, valid};
use crate::schema::{event_counters, host_outcomes, projects, servers, task_servers, tasks};
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, int, like_pattern, lower};

#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Db))]
struct TaskRow {
    id: i64,
    project_id: i64,
    name: String,
    source_kind: String,
    source_ref: String,
    source_commit: Option<String>,
    kind: String,
    rollback_target: Option<String>,
    status: String,
    submitter_id: i64,
    reviewer_id: Option<i64>,
    review_comment: Option<String>,
    commit_id: Option<String>,
    release_id: Option<String>,
    parent_id: Option<i64>,
    attempts: i64,
    created_at: i64,
    updated_at: i64,
}

/// The columns a task update may change (project, submitter and creation time never change).
#[derive(AsChangeset)]
#[diesel(table_name = tasks, treat_none_as_null = true)]
struct TaskChanges<'a> {
    name: &'a str,
    source_kind: &'static str,
    source_ref: &'a str,
    source_commit: Option<&'a str>,
    kind: &'static str,
    rollback_target: Option<&'a str>,
    status: &'static str,
    reviewer_id: Option<i64>,
    review_comment: Option<&'a str>,
    commit_id: Option<&'a str>,
    release_id: Option<&'a str>,
    parent_id: Option<i64>,
    attempts: i64,
    updated_at: i64,
}

/// The stored columns of a task's spec and kind.
struct SpecColumns<'a> {
    source_kind: &'static str,
    source_ref: &'a str,
    source_commit: Option<&'a str>,
    kind: &'static str,
    rollback_target: Option<&'a str>,
}

fn spec_columns<'a>(spec: &'a TaskSpec, kind: &'a TaskKind) -> SpecColumns<'a> {
    let (source_kind, source_ref, source_commit) = match &spec.source {
        TaskSource::Branch { branch, commit } => (
            "branch",
            branch.as_str(),
            commit.as_ref().map(CommitId::as_str),
        ),
        TaskSource::Tag { tag } => ("tag", tag.as_str(), None),
    };
    let (kind, rollback_target) = match kind {
        TaskKind::Deploy => ("deploy", None),
        TaskKind::Rollback { target } => ("rollback", Some(target.as_str())),
    };
    SpecColumns {
        source_kind,
        source_ref,
        source_commit,
        kind,
        rollback_target,
    }
}

impl TaskRow {
    fn into_task(self, servers: Vec<ServerId>) -> Result<Task> {
        let commit =
            |what, c: Option<String>| c.map(|c| valid(what, CommitId::new(&c))).transpose();
        let release =
            |what, r: Option<String>| r.map(|r| valid(what, ReleaseId::new(&r))).transpose();
        let source = match self.source_kind.as_str() {
            "branch" => TaskSource::Branch {
                branch: valid("task branch", RefName::new(&self.source_ref))?,
                commit: commit("task source commit", self.source_commit)?,
            },
            "tag" => TaskSource::Tag {
                tag: valid("task tag", RefName::new(&self.source_ref))?,
            },
            other => return Err(corrupt("task source", format!("unknown kind {other:?}"))),
        };
        let kind = match (self.kind.as_str(), self.rollback_target) {
            ("deploy", _) => TaskKind::Deploy,
            ("rollback", Some(t)) => TaskKind::Rollback {
                target: valid("rollback target", ReleaseId::new(&t))?,
            },
            (other, _) => return Err(corrupt("task kind", format!("{other:?} without a target"))),
        };
        let reviewer = match (self.reviewer_id, self.review_comment) {
            (Some(id), comment) => Some((UserId(id), comment.unwrap_or_default())),
            (None, _) => None,
        };
        Ok(Task {
            id: TaskId(self.id),
            project: ProjectId(self.project_id),
            spec: TaskSpec {
                name: valid("task name", Name::new(&self.name))?,
                source,
                servers,
            },
            kind,
            status: codes::parse_task_status(&self.status)?,
            submitter: UserId(self.submitter_id),
            reviewer,
            commit: commit("task commit", self.commit_id)?,
            release: release("task release", self.release_id)?,
            parent: self.parent_id.map(TaskId),
            attempts: u32::try_from(self.attempts)
                .map_err(|_| corrupt("task attempts", self.attempts))?,
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

/// The target servers of the given tasks, in their order.
fn servers_of(conn: &mut AnyConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<ServerId>>> {
    let rows: Vec<(i64, i64)> = task_servers::table
        .filter(task_servers::task_id.eq_any(ids))
        .select((task_servers::task_id, task_servers::server_id))
        .order((task_servers::task_id.asc(), task_servers::position.asc()))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<ServerId>> = HashMap::new();
    for (task, server) in rows {
        map.entry(task).or_default().push(ServerId(server));
    }
    Ok(map)
}

fn load_task(conn: &mut AnyConnection, id: TaskId) -> Result<Task> {
    let row = tasks::table
        .filter(tasks::id.eq(id.get()))
        .filter(tasks::deleted_at.is_null())
        .select(TaskRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("task", id))?;
    let servers = servers_of(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    row.into_task(servers)
}

/// True when the task exists and is not deleted.
pub(crate) fn task_is_live(conn: &mut AnyConnection, id: TaskId) -> Result<bool> {
    let n: i64 = tasks::table
        .filter(tasks::id.eq(id.get()))
        .filter(tasks::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Refuses a server listed twice or one that does not exist (deleted servers still exist: a task
/// records where it went).
fn check_servers(conn: &mut AnyConnection, what: &'static str, ids: &[ServerId]) -> Result<()> {
    let mut seen = HashSet::new();
    if let Some(s) = ids.iter().find(|s| !seen.insert(**s)) {
        return Err(duplicate(what, s));
    }
    let raw: Vec<i64> = ids.iter().map(|s| s.get()).collect();
    let found: HashSet<i64> = servers::table
        .filter(servers::id.eq_any(&raw))
        .select(servers::id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    match ids.iter().find(|s| !found.contains(&s.get())) {
        Some(missing) => Err(not_found("server", missing)),
        None => Ok(()),
    }
}

fn replace_servers(conn: &mut AnyConnection, task: i64, servers: &[ServerId]) -> Result<()> {
    diesel::delete(task_servers::table.filter(task_servers::task_id.eq(task))).execute(conn)?;
    let rows: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                task_servers::task_id.eq(task),
                task_servers::server_id.eq(s.get()),
                task_servers::position.eq(int(i)),
            )
        })
        .collect();
    if !rows.is_empty() {
        insert_batch!(conn, task_servers::table, rows)?;
    }
    Ok(())
}

impl TaskStore for DieselStore {
    fn create_task(&self, new: &NewTask) -> StoreResult<Task> {
        self.write(|conn| {
            let live: i64 = projects::table
                .filter(projects::id.eq(new.project.get()))
                .filter(projects::deleted_token.eq(0))
                .count()
                .get_result(conn)?;
            if live == 0 {
                return Err(not_found("project", new.project));
            }
            check_servers(conn, "task server", &new.spec.servers)?;
            let c = spec_columns(&new.spec, &new.kind);
            diesel::insert_into(tasks::table)
                .values((
                    tasks::project_id.eq(new.project.get()),
                    tasks::name.eq(new.spec.name.as_str()),
                    tasks::source_kind.eq(c.source_kind),
                    tasks::source_ref.eq(c.source_ref),
                    tasks::source_commit.eq(c.source_commit),
                    tasks::kind.eq(c.kind),
                    tasks::rollback_target.eq(c.rollback_target),
                    tasks::status.eq(new.status.as_str()),
                    tasks::submitter_id.eq(new.submitter.get()),
                    tasks::parent_id.eq(new.parent.map(TaskId::get)),
                    tasks::attempts.eq(0),
                    tasks::created_at.eq(new.created_at.unix_millis()),
                    tasks::updated_at.eq(new.created_at.unix_millis()),
                ))
                .execute(conn)?;
            let id = last_insert_id(conn)?;
            replace_servers(conn, id, &new.spec.servers)?;
            diesel::insert_into(event_counters::table)
                .values((
                    event_counters::task_id.eq(id),
                    event_counters::last_seq.eq(0),
                ))
                .execute(conn)?;
            Ok(Task {
                id: TaskId(id),
                project: new.project,
                spec: new.spec.clone(),
                kind: new.kind.clone(),
                status: new.status,
                submitter: new.submitter,
                reviewer: None,
                commit: None,
                release: None,
                parent: new.parent,
                attempts: 0,
                created_at: new.created_at,
                updated_at: new.created_at,
            })
        })
    }

    fn task(&self, id: TaskId) -> StoreResult<Task> {
        self.read(|conn| load_task(conn, id))
    }

    fn list_tasks(&self, filter: &TaskFilter, page: Page) -> StoreResult<Paged<Task>> {
        let pattern = like_pattern(filter.keyword.as_deref());
        let statuses: Vec<&'static str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        let filtered = || {
            let mut q = tasks::table
                .inner_join(projects::table)
                .filter(tasks::deleted_at.is_null())
                .filter(projects::deleted_token.eq(0))
                .into_boxed::<Db>();
            if let Some(space) = filter.space {
                q = q.filter(projects::space_id.eq(space.get()));
            }
            if let Some(project) = filter.project {
                q = q.filter(tasks::project_id.eq(project.get()));
            }
            if let Some(env) = filter.environment {
                q = q.filter(projects::environment_id.eq(env.get()));
            }
            if let Some(user) = filter.submitter {
                q = q.filter(tasks::submitter_id.eq(user.get()));
            }
            if !statuses.is_empty() {
                q = q.filter(tasks::status.eq_any(statuses.clone()));
            }
            if let Some(p) = &pattern {
                q = q.filter(lower(tasks::name).like(p.clone()).escape(LIKE_ESCAPE));
            }
            q
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows: Vec<TaskRow> = filtered()
                .select(TaskRow::as_select())
                .order(tasks::id.desc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut servers = servers_of(conn, &ids)?;
            let items = rows
                .into_iter()
                .map(|r| {
                    let s = servers.remove(&r.id).unwrap_or_default();
                    r.into_task(s)
                })
                .collect::<Result<_>>()?;
            Ok(Paged {
                items,
                total: count(total),
            })
        })
    }

    fn update_task(&self, task: &Task, expected: TaskStatus) -> StoreResult<Task> {
        self.write(|conn| {
            let c = spec_columns(&task.spec, &task.kind);
            let changes = TaskChanges {
                name: task.spec.name.as_str(),
                source_kind: c.source_kind,
                source_ref: c.source_ref,
                source_commit: c.source_commit,
                kind: c.kind,
                rollback_target: c.rollback_target,
                status: task.status.as_str(),
                reviewer_id: task.reviewer.as_ref().map(|(u, _)| u.get()),
                review_comment: task.reviewer.as_ref().map(|(_, c)| c.as_str()),
                commit_id: task.commit.as_ref().map(CommitId::as_str),
                release_id: task.release.as_ref().map(ReleaseId::as_str),
                parent_id: task.parent.map(TaskId::get),
                attempts: i64::from(task.attempts),
                updated_at: task.updated_at.unix_millis(),
            };
            // Compare-and-set: the row changes only if its status is still the expected one.
            let n = diesel::update(
                tasks::table
                    .filter(tasks::id.eq(task.id.get()))
                    .filter(tasks::deleted_at.is_null())
                    .filter(tasks::status.eq(expected.as_str())),
            )
            .set(changes)
            .execute(conn)?;
            if n == 0 {
                let now = tasks::table
                    .filter(tasks::id.eq(task.id.get()))
                    .filter(tasks::deleted_at.is_null())
                    .select(tasks::status)
                    .first::<String>(conn)
                    .optional()?;
                return Err(match now {
                    None => not_found("task", task.id),
                    Some(status) => conflict(format!(
                        "task {} is {status}, not {expected} as expected",
                        task.id
                    )),
                });
            }
            let stored = servers_of(conn, &[task.id.get()])?
                .remove(&task.id.get())
                .unwrap_or_default();
            if stored != task.spec.servers {
                check_servers(conn, "task server", &task.spec.servers)?;
                replace_servers(conn, task.id.get(), &task.spec.servers)?;
            }
            load_task(conn, task.id)
        })
    }

    fn delete_task(&self, id: TaskId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                tasks::table
                    .filter(tasks::id.eq(id.get()))
                    .filter(tasks::deleted_at.is_null()),
            )
            .set(tasks::deleted_at.eq(Some(now.unix_millis())))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("task", id));
            }
            Ok(())
        })
    }

    fn set_host_outcomes(&self, task: TaskId, outcomes: &[HostOutcome]) -> StoreResult<()> {
        self.write(|conn| {
            if !task_is_live(conn, task)? {
                return Err(not_found("task", task));
            }
            let servers: Vec<ServerId> = outcomes.iter().map(|o| o.server).collect();
            check_servers(conn, "host outcome", &servers)?;
            diesel::delete(host_outcomes::table.filter(host_outcomes::task_id.eq(task.get())))
                .execute(conn)?;
            let rows: Vec<_> = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    (
                        host_outcomes::task_id.eq(task.get()),
                        host_outcomes::server_id.eq(o.server.get()),
                        host_outcomes::position.eq(int(i)),
                        host_outcomes::state.eq(o.state.as_str()),
                        host_outcomes::previous_release
                            .eq(o.previous.as_ref().map(ReleaseId::as_str)),
                        host_outcomes::live_release.eq(o.live.as_ref().map(ReleaseId::as_str)),
                        host_outcomes::error.eq(o.error.as_deref()),
                    )
                })
                .collect();
            if !rows.is_empty() {
                insert_batch!(conn, host_outcomes::table, rows)?;
            }
            Ok(())
        })
    }

    fn host_outcomes(&self, task: TaskId) -> StoreResult<Vec<HostOutcome>> {
        self.read(|conn| {
            if !task_is_live(conn, task)? {
                return Err(not_found("task", task));
            }
            type Row = (i64, String, Option<String>, Option<String>, Option<String>);
            let rows: Vec<Row> = host_outcomes::table
                .filter(host_outcomes::task_id.eq(task.get()))
                .select((
                    host_outcomes::server_id,
                    host_outcomes::state,
                    host_outcomes::previous_release,
                    host_outcomes::live_release,
                    host_outcomes::error,
                ))
                .order(host_outcomes::position.asc())
                .load(conn)?;
            let release = |r: Option<String>| {
                r.map(|r| valid("host outcome release", ReleaseId::new(&r)))
                    .transpose()
            };
            rows.into_iter()
                .map(|(server, state, previous, live, error)| {
                    Ok(HostOutcome {
                        server: ServerId(server),
                        state: codes::parse_host_state(&state)?,
                        previous: release(previous)?,
                        live: release(live)?,
                        error,
                    })
                })
                .collect()
        })
    }
}
