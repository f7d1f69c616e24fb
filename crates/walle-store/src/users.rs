//! Users, login sessions and API tokens.

use diesel::prelude::*;
use walle_core::model::{Page, Paged, User, UserStatus};
use walle_core::ports::{ApiToken, NewUser, SessionStore, StoreResult, UserStore};
use walle_core::value::{Email, Name};
use walle_core::{SpaceId, Timestamp, UserId};

use crate::codes;
use crate::conn::{AnyConnection, Db, last_insert_id};
use crate::error::{Result, duplicate, not_found, or_duplicate, valid};
use crate::schema::{api_tokens, memberships, sessions, users};
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, like_pattern, lower, name_key};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Db))]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    email: String,
    password_hash: String,
    is_super: bool,
    status: String,
    last_space_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User> {
        Ok(User {
            id: UserId(self.id),
            username: valid("user name", Name::new(&self.username))?,
            email: valid("user e-mail", Email::new(&self.email))?,
            password_hash: self.password_hash,
            is_super: self.is_super,
            status: codes::parse_user_status(&self.status)?,
            last_space: self.last_space_id.map(SpaceId),
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    username: &'a str,
    username_key: String,
    email: &'a str,
    password_hash: &'a str,
    is_super: bool,
    status: &'static str,
    last_space_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
    deleted_token: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(Db))]
struct ApiTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id,
            user: UserId(r.user_id),
            name: r.name,
            created_at: Timestamp::from_unix_millis(r.created_at),
            last_used_at: r.last_used_at.map(Timestamp::from_unix_millis),
        }
    }
}

/// The live user `id`, or `NotFound`.
pub(crate) fn load_user(conn: &mut AnyConnection, id: UserId) -> Result<User> {
    users::table
        .filter(users::id.eq(id.get()))
        .filter(users::deleted_token.eq(0))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("user", id))?
        .into_user()
}

/// Refuses a name or e-mail taken by another live user.
fn check_unique(
    conn: &mut AnyConnection,
    username: &Name,
    email: &Email,
    except: Option<UserId>,
) -> Result<()> {
    let except = except.map_or(0, UserId::get);
    let taken = |conn: &mut AnyConnection, by_email: bool| -> Result<bool> {
        let q = users::table
            .filter(users::deleted_token.eq(0))
            .filter(users::id.ne(except))
            .into_boxed();
        let q = if by_email {
            q.filter(users::email.eq(email.as_str()))
        } else {
            q.filter(users::username_key.eq(name_key(username)))
        };
        Ok(q.count().get_result::<i64>(conn)? > 0)
    };
    if taken(conn, true)? {
        return Err(duplicate("user", email));
    }
    if taken(conn, false)? {
        return Err(duplicate("user", username));
    }
    Ok(())
}

impl UserStore for DieselStore {
    fn create_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User> {
        self.write(|conn| {
            check_unique(conn, &new.username, &new.email, None)?;
            let inserted = diesel::insert_into(users::table)
                .values(NewUserRow {
                    username: new.username.as_str(),
                    username_key: name_key(&new.username),
                    email: new.email.as_str(),
                    password_hash: &new.password_hash,
                    is_super: new.is_super,
                    status: codes::user_status(UserStatus::Active),
                    last_space_id: None,
                    created_at: now.unix_millis(),
                    updated_at: now.unix_millis(),
                    deleted_token: 0,
                })
                .execute(conn);
            or_duplicate(inserted, "user", &new.email)?;
            let id = UserId(last_insert_id(conn)?);
            Ok(User {
                id,
                username: new.username.clone(),
                email: new.email.clone(),
                password_hash: new.password_hash.clone(),
                is_super: new.is_super,
                status: UserStatus::Active,
                last_space: None,
                created_at: now,
                updated_at: now,
            })
        })
    }

    fn user(&self, id: UserId) -> StoreResult<User> {
        self.read(|conn| load_user(conn, id))
    }

    fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        self.read(|conn| {
            users::table
                .filter(users::email.eq(email.as_str()))
                .filter(users::deleted_token.eq(0))
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .map(UserRow::into_user)
                .transpose()
        })
    }

    fn list_users(&self, keyword: Option<&str>, page: Page) -> StoreResult<Paged<User>> {
        let pattern = like_pattern(keyword);
        let filtered = || {
            let q = users::table
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
            let rows = filtered()
                .select(UserRow::as_select())
                .order(users::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            Ok(Paged {
                items: rows
                    .into_iter()
                    .map(UserRow::into_user)
                    .collect::<Result<_>>()?,
                total: count(total),
            })
        })
    }

    fn update_user(&self, user: &User, now: Timestamp) -> StoreResult<User> {
        self.write(|conn| {
            load_user(conn, user.id)?;
            check_unique(conn, &user.username, &user.email, Some(user.id))?;
            diesel::update(users::table.filter(users::id.eq(user.id.get())))
                .set((
                    users::username.eq(user.username.as_str()),
                    users::username_key.eq(name_key(&user.username)),
                    users::email.eq(user.email.as_str()),
                    users::password_hash.eq(&user.password_hash),
                    users::is_super.eq(user.is_super),
                    users::status.eq(codes::user_status(user.status)),
                    users::last_space_id.eq(user.last_space.map(SpaceId::get)),
                    users::updated_at.eq(now.unix_millis()),
                ))
                .execute(conn)?;
            load_user(conn, user.id)
        })
    }

    fn delete_user(&self, id: UserId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                users::table
                    .filter(users::id.eq(id.get()))
                    .filter(users::deleted_token.eq(0)),
            )
            .set((
                users::deleted_token.eq(users::id),
                users::deleted_at.eq(Some(now.unix_millis())),
            ))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("user", id));
            }
            diesel::delete(memberships::table.filter(memberships::user_id.eq(id.get())))
                .execute(conn)?;
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id.get()))).execute(conn)?;
            diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(id.get())))
                .execute(conn)?;
            Ok(())
        })
    }
}

/// The filter "the user is live and may log in".
macro_rules! active_user {
    () => {
        users::deleted_token
            .eq(0)
            .and(users::status.eq(codes::user_status(UserStatus::Active)))
    };
}

impl SessionStore for DieselStore {
    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.write(|conn| {
            load_user(conn, user)?;
            // Forget this user's lapsed sessions while we are here.
            diesel::delete(
                sessions::table
                    .filter(sessions::user_id.eq(user.get()))
                    .filter(sessions::expires_at.le(now.unix_millis())),
            )
            .execute(conn)?;
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(token_hash),
                    sessions::user_id.eq(user.get()),
                    sessions::created_at.eq(now.unix_millis()),
                    sessions::expires_at.eq(expires_at.unix_millis()),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn session_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<UserId>> {
        self.read(|conn| {
            let id = sessions::table
                .inner_join(users::table)
                .filter(sessions::token_hash.eq(token_hash))
                .filter(sessions::expires_at.gt(now.unix_millis()))
                .filter(active_user!())
                .select(users::id)
                .first::<i64>(conn)
                .optional()?;
            Ok(id.map(UserId))
        })
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.read(|conn| {
            diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
                .execute(conn)?;
            Ok(())
        })
    }

    fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<ApiToken> {
        self.write(|conn| {
            load_user(conn, user)?;
            diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::user_id.eq(user.get()),
                    api_tokens::name.eq(name),
                    api_tokens::token_hash.eq(token_hash),
                    api_tokens::created_at.eq(now.unix_millis()),
                ))
                .execute(conn)?;
            Ok(ApiToken {
                id: last_insert_id(conn)?,
                user,
                name: name.to_owned(),
                created_at: now,
                last_used_at: None,
            })
        })
    }

    fn api_token_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<UserId>> {
        self.read(|conn| {
            let found = api_tokens::table
                .inner_join(users::table)
                .filter(api_tokens::token_hash.eq(token_hash))
                .filter(active_user!())
                .select((api_tokens::id, users::id))
                .first::<(i64, i64)>(conn)
                .optional()?;
            let Some((token_id, user_id)) = found else {
                return Ok(None);
            };
            diesel::update(api_tokens::table.filter(api_tokens::id.eq(token_id)))
                .set(api_tokens::last_used_at.eq(Some(now.unix_millis())))
                .execute(conn)?;
            Ok(Some(UserId(user_id)))
        })
    }

    fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        self.read(|conn| {
            let rows = api_tokens::table
                .filter(api_tokens::user_id.eq(user.get()))
                .select(ApiTokenRow::as_select())
                .order(api_tokens::id.asc())
                .load(conn)?;
            Ok(rows.into_iter().map(ApiToken::from).collect())
        })
    }

    fn revoke_api_token(&self, user: UserId, id: i64) -> StoreResult<()> {
        self.read(|conn| {
            let n = diesel::delete(
                api_tokens::table
                    .filter(api_tokens::id.eq(id))
                    .filter(api_tokens::user_id.eq(user.get())),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("api token", id));
            }
            Ok(())
        })
    }
}
