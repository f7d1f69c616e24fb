//! Spaces, memberships (one row per user and space or project) and environments.

use diesel::prelude::*;
use walle_core::model::{
    Environment, MemberScope, Membership, OpenStatus, Page, Paged, Role, Space, User,
};
use walle_core::ports::{EnvironmentStore, MemberStore, SpaceStore, StoreResult};
use walle_core::value::Name;
use walle_core::{EnvironmentId, SpaceId, Timestamp, UserId};

use crate::codes;
use crate::conn::{AnyConnection, Db, last_insert_id};
use crate::error::{Error, Result, conflict, duplicate, not_found, or_duplicate, valid};
use crate::schema::{environments, memberships, projects, spaces, users};
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, like_pattern, lower, name_key};
use crate::users::{UserRow, load_user};

#[derive(Queryable, Selectable)]
#[diesel(table_name = spaces, check_for_backend(Db))]
struct SpaceRow {
    id: i64,
    name: String,
    owner_id: i64,
    status: String,
    created_at: i64,
}

impl SpaceRow {
    fn into_space(self) -> Result<Space> {
        Ok(Space {
            id: SpaceId(self.id),
            name: valid("space name", Name::new(&self.name))?,
            owner: UserId(self.owner_id),
            status: codes::parse_open_status(&self.status)?,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = environments, check_for_backend(Db))]
struct EnvironmentRow {
    id: i64,
    space_id: i64,
    name: String,
    status: String,
}

impl EnvironmentRow {
    fn into_environment(self) -> Result<Environment> {
        Ok(Environment {
            id: EnvironmentId(self.id),
            space: SpaceId(self.space_id),
            name: valid("environment name", Name::new(&self.name))?,
            status: codes::parse_open_status(&self.status)?,
        })
    }
}

/// The live space `id`, or `NotFound`.
pub(crate) fn load_space(conn: &mut AnyConnection, id: SpaceId) -> Result<Space> {
    spaces::table
        .filter(spaces::id.eq(id.get()))
        .filter(spaces::deleted_token.eq(0))
        .select(SpaceRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("space", id))?
        .into_space()
}

/// The live environment `id`, or `NotFound`.
pub(crate) fn load_environment(conn: &mut AnyConnection, id: EnvironmentId) -> Result<Environment> {
    environments::table
        .filter(environments::id.eq(id.get()))
        .filter(environments::deleted_token.eq(0))
        .select(EnvironmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("environment", id))?
        .into_environment()
}

fn space_name_taken(conn: &mut AnyConnection, name: &Name, except: i64) -> Result<bool> {
    let n: i64 = spaces::table
        .filter(spaces::name_key.eq(name_key(name)))
        .filter(spaces::deleted_token.eq(0))
        .filter(spaces::id.ne(except))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn env_name_taken(
    conn: &mut AnyConnection,
    space: SpaceId,
    name: &Name,
    except: i64,
) -> Result<bool> {
    let n: i64 = environments::table
        .filter(environments::space_id.eq(space.get()))
        .filter(environments::name_key.eq(name_key(name)))
        .filter(environments::deleted_token.eq(0))
        .filter(environments::id.ne(except))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Inserts or changes one membership row (portable upsert: UPDATE, else INSERT; a lost insert
/// race asks the caller's transaction to run again).
pub(crate) fn upsert_membership(
    conn: &mut AnyConnection,
    user: UserId,
    scope: MemberScope,
    role: Role,
) -> Result<()> {
    let (kind, scope_id) = codes::scope(scope);
    let key = memberships::table
        .filter(memberships::user_id.eq(user.get()))
        .filter(memberships::scope_kind.eq(kind))
        .filter(memberships::scope_id.eq(scope_id));
    let n = diesel::update(key)
        .set(memberships::role.eq(role.as_str()))
        .execute(conn)?;
    if n > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(memberships::table)
        .values((
            memberships::user_id.eq(user.get()),
            memberships::scope_kind.eq(kind),
            memberships::scope_id.eq(scope_id),
            memberships::role.eq(role.as_str()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = Error::from(e);
            Err(if e.is_unique_violation() {
                Error::Retry
            } else {
                e
            })
        }
    }
}

/// Checks that the scope of a membership is live.
fn check_scope(conn: &mut AnyConnection, scope: MemberScope) -> Result<()> {
    match scope {
        MemberScope::Space(id) => load_space(conn, id).map(|_| ()),
        MemberScope::Project(id) => {
            let n: i64 = projects::table
                .filter(projects::id.eq(id.get()))
                .filter(projects::deleted_token.eq(0))
                .count()
                .get_result(conn)?;
            if n == 0 {
                return Err(not_found("project", id));
            }
            Ok(())
        }
    }
}

impl SpaceStore for DieselStore {
    fn create_space(&self, name: &Name, owner: UserId, now: Timestamp) -> StoreResult<Space> {
        self.write(|conn| {
            load_user(conn, owner)?;
            if space_name_taken(conn, name, 0)? {
                return Err(duplicate("space", name));
            }
            let inserted = diesel::insert_into(spaces::table)
                .values((
                    spaces::name.eq(name.as_str()),
                    spaces::name_key.eq(name_key(name)),
                    spaces::owner_id.eq(owner.get()),
                    spaces::status.eq(codes::open_status(OpenStatus::Open)),
                    spaces::created_at.eq(now.unix_millis()),
                    spaces::deleted_token.eq(0),
                ))
                .execute(conn);
            or_duplicate(inserted, "space", name)?;
            let id = SpaceId(last_insert_id(conn)?);
            upsert_membership(conn, owner, MemberScope::Space(id), Role::Owner)?;
            Ok(Space {
                id,
                name: name.clone(),
                owner,
                status: OpenStatus::Open,
                created_at: now,
            })
        })
    }

    fn space(&self, id: SpaceId) -> StoreResult<Space> {
        self.read(|conn| load_space(conn, id))
    }

    fn list_spaces(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<Space>> {
        let pattern = like_pattern(keyword);
        let filtered = || {
            let q = spaces::table
                .filter(spaces::deleted_token.eq(0))
                .into_boxed::<Db>();
            match &pattern {
                Some(p) => q.filter(lower(spaces::name).like(p.clone()).escape(LIKE_ESCAPE)),
                None => q,
            }
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows = filtered()
                .select(SpaceRow::as_select())
                .order(spaces::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            Ok(Paged {
                items: rows
                    .into_iter()
                    .map(SpaceRow::into_space)
                    .collect::<Result<_>>()?,
                total: count(total),
            })
        })
    }

    fn update_space(&self, space: &Space) -> StoreResult<Space> {
        self.write(|conn| {
            let old = load_space(conn, space.id)?;
            if space_name_taken(conn, &space.name, space.id.get())? {
                return Err(duplicate("space", &space.name));
            }
            if space.owner != old.owner {
                load_user(conn, space.owner)?;
            }
            let n = diesel::update(spaces::table.filter(spaces::id.eq(space.id.get())))
                .set((
                    spaces::name.eq(space.name.as_str()),
                    spaces::name_key.eq(name_key(&space.name)),
                    spaces::owner_id.eq(space.owner.get()),
                    spaces::status.eq(codes::open_status(space.status)),
                ))
                .execute(conn);
            or_duplicate(n, "space", &space.name)?;
            if space.owner != old.owner {
                let scope = MemberScope::Space(space.id);
                upsert_membership(conn, space.owner, scope, Role::Owner)?;
                upsert_membership(conn, old.owner, scope, Role::Master)?;
            }
            load_space(conn, space.id)
        })
    }

    fn delete_space(&self, id: SpaceId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                spaces::table
                    .filter(spaces::id.eq(id.get()))
                    .filter(spaces::deleted_token.eq(0)),
            )
            .set((
                spaces::deleted_token.eq(spaces::id),
                spaces::deleted_at.eq(Some(now.unix_millis())),
            ))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("space", id));
            }
            Ok(())
        })
    }
}

impl MemberStore for DieselStore {
    fn set_membership(&self, m: &Membership) -> StoreResult<()> {
        if m.role == Role::Super {
            return Err(conflict(
                "SUPER is a platform role and cannot be held in a space or project",
            )
            .into());
        }
        self.write(|conn| {
            load_user(conn, m.user)?;
            check_scope(conn, m.scope)?;
            upsert_membership(conn, m.user, m.scope, m.role)
        })
    }

    fn remove_membership(&self, user: UserId, scope: MemberScope) -> StoreResult<()> {
        let (kind, scope_id) = codes::scope(scope);
        self.write(|conn| {
            let n = diesel::delete(
                memberships::table
                    .filter(memberships::user_id.eq(user.get()))
                    .filter(memberships::scope_kind.eq(kind))
                    .filter(memberships::scope_id.eq(scope_id)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(not_found(
                    "membership",
                    format!("of user {user} in {kind} {scope_id}"),
                ));
            }
            Ok(())
        })
    }

    fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        self.read(|conn| {
            let live_spaces = spaces::table
                .filter(spaces::deleted_token.eq(0))
                .select(spaces::id);
            let live_projects = projects::table
                .filter(projects::deleted_token.eq(0))
                .select(projects::id);
            let rows: Vec<(String, i64, String)> = memberships::table
                .filter(memberships::user_id.eq(user.get()))
                .filter(
                    memberships::scope_kind
                        .eq("space")
                        .and(memberships::scope_id.eq_any(live_spaces))
                        .or(memberships::scope_kind
                            .eq("project")
                            .and(memberships::scope_id.eq_any(live_projects))),
                )
                .select((
                    memberships::scope_kind,
                    memberships::scope_id,
                    memberships::role,
                ))
                .order((memberships::scope_kind.desc(), memberships::scope_id.asc()))
                .load(conn)?;
            rows.into_iter()
                .map(|(kind, id, role)| {
                    Ok(Membership {
                        user,
                        scope: codes::parse_scope(&kind, id)?,
                        role: codes::parse_role(&role)?,
                    })
                })
                .collect()
        })
    }

    fn members(
        &self,
        scope: MemberScope,
        keyword: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<(User, Role)>> {
        let (kind, scope_id) = codes::scope(scope);
        let pattern = like_pattern(keyword);
        let filtered = || {
            let q = memberships::table
                .inner_join(users::table)
                .filter(memberships::scope_kind.eq(kind))
                .filter(memberships::scope_id.eq(scope_id))
                .filter(users::deleted_token.eq(0))
                .into_boxed::<Db>();
            match &pattern {
                Some(p) => q.filter(
                    lower(users::username)
                        .like(p.clone())
                        .escape(LIKE_ESCAPE)
                        .or(lower(users::email).like(p.clone()).escape(LIKE_ESCAPE)),
                ),
                None => q,
            }
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows: Vec<(UserRow, String)> = filtered()
                .select((UserRow::as_select(), memberships::role))
                .order(users::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            let items = rows
                .into_iter()
                .map(|(u, role)| Ok((u.into_user()?, codes::parse_role(&role)?)))
                .collect::<Result<_>>()?;
            Ok(Paged {
                items,
                total: count(total),
            })
        })
    }
}

impl EnvironmentStore for DieselStore {
    fn create_environment(&self, space: SpaceId, name: &Name) -> StoreResult<Environment> {
        self.write(|conn| {
            load_space(conn, space)?;
            if env_name_taken(conn, space, name, 0)? {
                return Err(duplicate("environment", name));
            }
            let inserted = diesel::insert_into(environments::table)
                .values((
                    environments::space_id.eq(space.get()),
                    environments::name.eq(name.as_str()),
                    environments::name_key.eq(name_key(name)),
                    environments::status.eq(codes::open_status(OpenStatus::Open)),
                    environments::deleted_token.eq(0),
                ))
                .execute(conn);
            or_duplicate(inserted, "environment", name)?;
            Ok(Environment {
                id: EnvironmentId(last_insert_id(conn)?),
                space,
                name: name.clone(),
                status: OpenStatus::Open,
            })
        })
    }

    fn environment(&self, id: EnvironmentId) -> StoreResult<Environment> {
        self.read(|conn| load_environment(conn, id))
    }

    fn list_environments(&self, space: SpaceId, page: Page) -> StoreResult<Paged<Environment>> {
        let filtered = || {
            environments::table
                .filter(environments::space_id.eq(space.get()))
                .filter(environments::deleted_token.eq(0))
                .into_boxed::<Db>()
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows = filtered()
                .select(EnvironmentRow::as_select())
                .order(environments::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            Ok(Paged {
                items: rows
                    .into_iter()
                    .map(EnvironmentRow::into_environment)
                    .collect::<Result<_>>()?,
                total: count(total),
            })
        })
    }

    fn update_environment(&self, env: &Environment) -> StoreResult<Environment> {
        self.write(|conn| {
            let old = load_environment(conn, env.id)?;
            if env_name_taken(conn, old.space, &env.name, env.id.get())? {
                return Err(duplicate("environment", &env.name));
            }
            let n = diesel::update(environments::table.filter(environments::id.eq(env.id.get())))
                .set((
                    environments::name.eq(env.name.as_str()),
                    environments::name_key.eq(name_key(&env.name)),
                    environments::status.eq(codes::open_status(env.status)),
                ))
                .execute(conn);
            or_duplicate(n, "environment", &env.name)?;
            load_environment(conn, env.id)
        })
    }

    fn delete_environment(&self, id: EnvironmentId) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                environments::table
                    .filter(environments::id.eq(id.get()))
                    .filter(environments::deleted_token.eq(0)),
            )
            .set(environments::deleted_token.eq(environments::id))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("environment", id));
            }
            Ok(())
        })
    }
}
