//! Target servers, their labels (groups) and trusted host keys.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use walle_core::model::{HostKey, Page, Paged, Server, ServerSpec};
use walle_core::ports::{ServerStore, StoreResult};
use walle_core::value::{HostName, Label, Name, Port, SshUser};
use walle_core::{ServerId, SpaceId};

use crate::conn::{AnyConnection, Db, insert_batch, last_insert_id};
use crate::error::{Result, corrupt, duplicate, not_found, or_duplicate, valid};
use crate::schema::{project_servers, server_labels, servers};
use crate::spaces::load_space;
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, int, like_pattern, lower, name_key};

#[derive(Queryable, Selectable)]
#[diesel(table_name = servers, check_for_backend(Db))]
struct ServerRow {
    id: i64,
    space_id: i64,
    name: String,
    host: String,
    port: i32,
    ssh_user: String,
    host_key_algorithm: Option<String>,
    host_key_base64: Option<String>,
}

impl ServerRow {
    fn into_server(self, labels: Vec<Label>) -> Result<Server> {
        let port = u16::try_from(self.port)
            .map_err(|_| corrupt("server port", self.port))
            .and_then(|p| valid("server port", Port::new(p)))?;
        let host_key = match (self.host_key_algorithm, self.host_key_base64) {
            (Some(algorithm), Some(key_base64)) => Some(HostKey {
                algorithm,
                key_base64,
            }),
            (None, None) => None,
            _ => {
                return Err(corrupt(
                    "host key",
                    "algorithm and key must be set together",
                ));
            }
        };
        Ok(Server {
            id: ServerId(self.id),
            space: SpaceId(self.space_id),
            spec: ServerSpec {
                name: valid("server name", Name::new(&self.name))?,
                host: valid("server host", HostName::new(&self.host))?,
                port,
                user: valid("server user", SshUser::new(&self.ssh_user))?,
                labels,
            },
            host_key,
        })
    }
}

/// The labels of the given servers, in their stored order.
fn labels_of(conn: &mut AnyConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<Label>>> {
    let rows: Vec<(i64, String)> = server_labels::table
        .filter(server_labels::server_id.eq_any(ids))
        .select((server_labels::server_id, server_labels::label))
        .order((
            server_labels::server_id.asc(),
            server_labels::position.asc(),
        ))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<Label>> = HashMap::new();
    for (id, label) in rows {
        map.entry(id)
            .or_default()
            .push(valid("server label", Label::new(&label))?);
    }
    Ok(map)
}

fn load_server(conn: &mut AnyConnection, id: ServerId) -> Result<Server> {
    let row = servers::table
        .filter(servers::id.eq(id.get()))
        .filter(servers::deleted_token.eq(0))
        .select(ServerRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("server", id))?;
    let labels = labels_of(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    row.into_server(labels)
}

fn check_spec(
    conn: &mut AnyConnection,
    space: SpaceId,
    spec: &ServerSpec,
    except: i64,
) -> Result<()> {
    let mut seen = HashSet::new();
    if let Some(l) = spec.labels.iter().find(|l| !seen.insert(*l)) {
        return Err(duplicate("server label", l));
    }
    let n: i64 = servers::table
        .filter(servers::space_id.eq(space.get()))
        .filter(servers::name_key.eq(name_key(&spec.name)))
        .filter(servers::deleted_token.eq(0))
        .filter(servers::id.ne(except))
        .count()
        .get_result(conn)?;
    if n > 0 {
        return Err(duplicate("server", &spec.name));
    }
    Ok(())
}

fn replace_labels(conn: &mut AnyConnection, id: i64, labels: &[Label]) -> Result<()> {
    diesel::delete(server_labels::table.filter(server_labels::server_id.eq(id))).execute(conn)?;
    let rows: Vec<_> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                server_labels::server_id.eq(id),
                server_labels::label.eq(l.as_str()),
                server_labels::position.eq(int(i)),
            )
        })
        .collect();
    if !rows.is_empty() {
        insert_batch!(conn, server_labels::table, rows)?;
    }
    Ok(())
}

/// Checks that every id names a live server of `space`; the first missing one is `NotFound`.
pub(crate) fn check_servers_in_space(
    conn: &mut AnyConnection,
    space: SpaceId,
    ids: &[ServerId],
) -> Result<()> {
    let raw: Vec<i64> = ids.iter().map(|s| s.get()).collect();
    let found: HashSet<i64> = servers::table
        .filter(servers::id.eq_any(&raw))
        .filter(servers::space_id.eq(space.get()))
        .filter(servers::deleted_token.eq(0))
        .select(servers::id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    match ids.iter().find(|id| !found.contains(&id.get())) {
        Some(missing) => Err(not_found("server", missing)),
        None => Ok(()),
    }
}

impl ServerStore for DieselStore {
    fn create_server(&self, space: SpaceId, spec: &ServerSpec) -> StoreResult<Server> {
        self.write(|conn| {
            load_space(conn, space)?;
            check_spec(conn, space, spec, 0)?;
            let inserted = diesel::insert_into(servers::table)
                .values((
                    servers::space_id.eq(space.get()),
                    servers::name.eq(spec.name.as_str()),
                    servers::name_key.eq(name_key(&spec.name)),
                    servers::host.eq(spec.host.as_str()),
                    servers::port.eq(i32::from(spec.port.get())),
                    servers::ssh_user.eq(spec.user.as_str()),
                    servers::deleted_token.eq(0),
                ))
                .execute(conn);
            or_duplicate(inserted, "server", &spec.name)?;
            let id = last_insert_id(conn)?;
            replace_labels(conn, id, &spec.labels)?;
            Ok(Server {
                id: ServerId(id),
                space,
                spec: spec.clone(),
                host_key: None,
            })
        })
    }

    fn server(&self, id: ServerId) -> StoreResult<Server> {
        self.read(|conn| load_server(conn, id))
    }

    fn list_servers(
        &self,
        space: SpaceId,
        keyword: Option<&str>,
        label: Option<&Label>,
        page: Page,
    ) -> StoreResult<Paged<Server>> {
        let pattern = like_pattern(keyword);
        let filtered = || {
            let mut q = servers::table
                .filter(servers::space_id.eq(space.get()))
                .filter(servers::deleted_token.eq(0))
                .into_boxed::<Db>();
            if let Some(p) = &pattern {
                q = q.filter(
                    lower(servers::name)
                        .like(p.clone())
                        .escape(LIKE_ESCAPE)
                        .or(lower(servers::host).like(p.clone()).escape(LIKE_ESCAPE)),
                );
            }
            if let Some(l) = label {
                q = q.filter(
                    servers::id.eq_any(
                        server_labels::table
                            .filter(server_labels::label.eq(l.as_str().to_owned()))
                            .select(server_labels::server_id),
                    ),
                );
            }
            q
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows: Vec<ServerRow> = filtered()
                .select(ServerRow::as_select())
                .order(servers::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut labels = labels_of(conn, &ids)?;
            let items = rows
                .into_iter()
                .map(|r| {
                    let l = labels.remove(&r.id).unwrap_or_default();
                    r.into_server(l)
                })
                .collect::<Result<_>>()?;
            Ok(Paged {
                items,
                total: count(total),
            })
        })
    }

    fn update_server(&self, id: ServerId, spec: &ServerSpec) -> StoreResult<Server> {
        self.write(|conn| {
            let old = load_server(conn, id)?;
            check_spec(conn, old.space, spec, id.get())?;
            let moved = old.spec.host != spec.host || old.spec.port != spec.port;
            let n = diesel::update(servers::table.filter(servers::id.eq(id.get())))
                .set((
                    servers::name.eq(spec.name.as_str()),
                    servers::name_key.eq(name_key(&spec.name)),
                    servers::host.eq(spec.host.as_str()),
                    servers::port.eq(i32::from(spec.port.get())),
                    servers::ssh_user.eq(spec.user.as_str()),
                ))
                .execute(conn);
            or_duplicate(n, "server", &spec.name)?;
            if moved {
                // A new address is a new machine: its key must be trusted afresh.
                diesel::update(servers::table.filter(servers::id.eq(id.get())))
                    .set((
                        servers::host_key_algorithm.eq(None::<String>),
                        servers::host_key_base64.eq(None::<String>),
                    ))
                    .execute(conn)?;
            }
            replace_labels(conn, id.get(), &spec.labels)?;
            load_server(conn, id)
        })
    }

    fn set_host_key(&self, id: ServerId, key: Option<&HostKey>) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                servers::table
                    .filter(servers::id.eq(id.get()))
                    .filter(servers::deleted_token.eq(0)),
            )
            .set((
                servers::host_key_algorithm.eq(key.map(|k| k.algorithm.as_str())),
                servers::host_key_base64.eq(key.map(|k| k.key_base64.as_str())),
            ))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("server", id));
            }
            Ok(())
        })
    }

    fn delete_server(&self, id: ServerId) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                servers::table
                    .filter(servers::id.eq(id.get()))
                    .filter(servers::deleted_token.eq(0)),
            )
            .set(servers::deleted_token.eq(servers::id))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("server", id));
            }
            diesel::delete(project_servers::table.filter(project_servers::server_id.eq(id.get())))
                .execute(conn)?;
            Ok(())
        })
    }
}
