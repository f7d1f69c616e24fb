//! Projects: every setting, the credentials (secrets sealed), and the project's servers (a join
//! table that keeps their order).

mod settings;

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use walle_core::model::{
    FileFilter, NotifySettings, Page, Paged, Project, ProjectSpec, RepoConfig, RepoCredentials,
};
use walle_core::ports::{ProjectStore, StoreResult};
use walle_core::value::{AbsPath, Name};
use walle_core::{EnvironmentId, ProjectId, ServerId, SpaceId, Timestamp, UserId};

use self::settings::{
    ChannelJson, HealthCheckJson, HooksJson, SharedJson, StrategyJson, from_json, to_json,
    variables_from_json, variables_to_json,
};
use crate::codes;
use crate::conn::{AnyConnection, Db, insert_batch, last_insert_id};
use crate::crypto::Sealer;
use crate::error::{Result, corrupt, duplicate, not_found, or_duplicate, valid};
use crate::schema::{environments, project_servers, projects};
use crate::servers::check_servers_in_space;
use crate::spaces::load_space;
use crate::store::{DieselStore, LIKE_ESCAPE, bounds, count, int, like_pattern, lower, name_key};
use crate::users::load_user;

/// The associated data of the sealed repository secret (password, token or key passphrase).
const REPO_SECRET_FIELD: &str = "project.repo.secret";

#[derive(Queryable, Selectable)]
#[diesel(table_name = projects, check_for_backend(Db))]
struct ProjectRow {
    id: i64,
    space_id: i64,
    environment_id: i64,
    name: String,
    repo_kind: String,
    repo_url: String,
    repo_mode: String,
    cred_kind: String,
    cred_username: Option<String>,
    cred_key_path: Option<String>,
    cred_secret: Option<String>,
    webroot: String,
    releases_dir: String,
    keep_releases: i64,
    filter_mode: String,
    filter_patterns: String,
    shared_paths: String,
    hooks: String,
    variables: String,
    health_check: Option<String>,
    strategy: String,
    require_approval: bool,
    separate_approver: bool,
    notify_channels: String,
    created_by: i64,
    created_at: i64,
    updated_at: i64,
}

/// The settings columns, written on create and on update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = projects, treat_none_as_null = true)]
struct SettingsValues {
    environment_id: i64,
    name: String,
    name_key: String,
    repo_kind: &'static str,
    repo_url: String,
    repo_mode: &'static str,
    cred_kind: &'static str,
    cred_username: Option<String>,
    cred_key_path: Option<String>,
    cred_secret: Option<String>,
    webroot: String,
    releases_dir: String,
    keep_releases: i64,
    filter_mode: &'static str,
    filter_patterns: String,
    shared_paths: String,
    hooks: String,
    variables: String,
    health_check: Option<String>,
    strategy: String,
    require_approval: bool,
    separate_approver: bool,
    notify_channels: String,
    updated_at: i64,
}

impl SettingsValues {
    fn new(spec: &ProjectSpec, sealer: &Sealer, now: Timestamp) -> Result<SettingsValues> {
        let seal = |s| sealer.seal(REPO_SECRET_FIELD, s);
        let (cred_kind, cred_username, cred_key_path, cred_secret) = match &spec.repo.credentials {
            RepoCredentials::None => ("none", None, None, None),
            RepoCredentials::SshKey {
                key_path,
                passphrase,
            } => (
                "ssh_key",
                None,
                Some(key_path.as_str().to_owned()),
                passphrase.as_ref().map(seal).transpose()?,
            ),
            RepoCredentials::Password { username, password } => (
                "password",
                Some(username.clone()),
                None,
                Some(seal(password)?),
            ),
        };
        let channels = spec
            .notify
            .channels
            .iter()
            .map(|c| ChannelJson::from_domain(c, sealer))
            .collect::<Result<Vec<_>>>()?;
        Ok(SettingsValues {
            environment_id: spec.environment.get(),
            name: spec.name.as_str().to_owned(),
            name_key: name_key(&spec.name),
            repo_kind: codes::repo_kind(spec.repo.kind),
            repo_url: spec.repo.url.clone(),
            repo_mode: codes::repo_mode(spec.repo.mode),
            cred_kind,
            cred_username,
            cred_key_path,
            cred_secret,
            webroot: spec.webroot.as_str().to_owned(),
            releases_dir: spec.releases_dir.as_str().to_owned(),
            keep_releases: i64::from(spec.keep_releases),
            filter_mode: codes::filter_mode(spec.filter.mode),
            filter_patterns: to_json("filter patterns", &spec.filter.patterns)?,
            shared_paths: to_json("shared paths", &SharedJson::from_domain(&spec.shared))?,
            hooks: to_json("hooks", &HooksJson::from_domain(&spec.hooks))?,
            variables: to_json("variables", &variables_to_json(&spec.variables))?,
            health_check: spec
                .health_check
                .as_ref()
                .map(|h| to_json("health check", &HealthCheckJson::from_domain(h)))
                .transpose()?,
            strategy: to_json("strategy", &StrategyJson::from_domain(&spec.strategy))?,
            require_approval: spec.require_approval,
            separate_approver: spec.separate_approver,
            notify_channels: to_json("notify channels", &channels)?,
            updated_at: now.unix_millis(),
        })
    }
}

impl ProjectRow {
    fn into_project(self, servers: Vec<ServerId>, sealer: &Sealer) -> Result<Project> {
        let open = |s: &str| sealer.open(REPO_SECRET_FIELD, s);
        let credentials = match self.cred_kind.as_str() {
            "none" => RepoCredentials::None,
            "ssh_key" => RepoCredentials::SshKey {
                key_path: valid(
                    "repository key path",
                    AbsPath::new(self.cred_key_path.as_deref().unwrap_or_default()),
                )?,
                passphrase: self.cred_secret.as_deref().map(open).transpose()?,
            },
            "password" => RepoCredentials::Password {
                username: self.cred_username.unwrap_or_default(),
                password: open(
                    self.cred_secret
                        .as_deref()
                        .ok_or_else(|| corrupt("repository credentials", "password missing"))?,
                )?,
            },
            other => {
                return Err(corrupt(
                    "repository credentials",
                    format!("unknown kind {other:?}"),
                ));
            }
        };
        let channels: Vec<ChannelJson> = from_json("notify channels", &self.notify_channels)?;
        Ok(Project {
            id: ProjectId(self.id),
            space: SpaceId(self.space_id),
            spec: ProjectSpec {
                name: valid("project name", Name::new(&self.name))?,
                environment: EnvironmentId(self.environment_id),
                repo: RepoConfig {
                    kind: codes::parse_repo_kind(&self.repo_kind)?,
                    url: self.repo_url,
                    mode: codes::parse_repo_mode(&self.repo_mode)?,
                    credentials,
                },
                webroot: valid("webroot", AbsPath::new(&self.webroot))?,
                releases_dir: valid("releases directory", AbsPath::new(&self.releases_dir))?,
                keep_releases: u32::try_from(self.keep_releases)
                    .map_err(|_| corrupt("keep releases", self.keep_releases))?,
                filter: FileFilter {
                    mode: codes::parse_filter_mode(&self.filter_mode)?,
                    patterns: from_json("filter patterns", &self.filter_patterns)?,
                },
                shared: from_json::<SharedJson>("shared paths", &self.shared_paths)?
                    .into_domain()?,
                hooks: from_json::<HooksJson>("hooks", &self.hooks)?.into_domain(),
                variables: variables_from_json(from_json("variables", &self.variables)?)?,
                servers,
                health_check: self
                    .health_check
                    .as_deref()
                    .map(|h| from_json::<HealthCheckJson>("health check", h))
                    .transpose()?
                    .map(HealthCheckJson::into_domain),
                strategy: from_json::<StrategyJson>("strategy", &self.strategy)?.into_domain(),
                require_approval: self.require_approval,
                separate_approver: self.separate_approver,
                notify: NotifySettings {
                    channels: channels
                        .into_iter()
                        .map(|c| c.into_domain(sealer))
                        .collect::<Result<_>>()?,
                },
            },
            created_by: UserId(self.created_by),
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

/// The servers of the given projects, in their configured order.
fn servers_of(conn: &mut AnyConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<ServerId>>> {
    let rows: Vec<(i64, i64)> = project_servers::table
        .filter(project_servers::project_id.eq_any(ids))
        .select((project_servers::project_id, project_servers::server_id))
        .order((
            project_servers::project_id.asc(),
            project_servers::position.asc(),
        ))
        .load(conn)?;
    let mut map: HashMap<i64, Vec<ServerId>> = HashMap::new();
    for (project, server) in rows {
        map.entry(project).or_default().push(ServerId(server));
    }
    Ok(map)
}

fn load_project(conn: &mut AnyConnection, id: ProjectId, sealer: &Sealer) -> Result<Project> {
    let row = projects::table
        .filter(projects::id.eq(id.get()))
        .filter(projects::deleted_token.eq(0))
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("project", id))?;
    let servers = servers_of(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    row.into_project(servers, sealer)
}

/// Checks what a spec refers to: a live environment and live servers of the same space, no
/// server twice, and a name free among the space's live projects.
fn check_spec(
    conn: &mut AnyConnection,
    space: SpaceId,
    spec: &ProjectSpec,
    except: i64,
) -> Result<()> {
    let env_ok: i64 = environments::table
        .filter(environments::id.eq(spec.environment.get()))
        .filter(environments::space_id.eq(space.get()))
        .filter(environments::deleted_token.eq(0))
        .count()
        .get_result(conn)?;
    if env_ok == 0 {
        return Err(not_found("environment", spec.environment));
    }
    let mut seen = HashSet::new();
    if let Some(s) = spec.servers.iter().find(|s| !seen.insert(**s)) {
        return Err(duplicate("project server", s));
    }
    check_servers_in_space(conn, space, &spec.servers)?;
    let taken: i64 = projects::table
        .filter(projects::space_id.eq(space.get()))
        .filter(projects::name_key.eq(name_key(&spec.name)))
        .filter(projects::deleted_token.eq(0))
        .filter(projects::id.ne(except))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(duplicate("project", &spec.name));
    }
    Ok(())
}

fn replace_servers(conn: &mut AnyConnection, project: i64, servers: &[ServerId]) -> Result<()> {
    diesel::delete(project_servers::table.filter(project_servers::project_id.eq(project)))
        .execute(conn)?;
    let rows: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                project_servers::project_id.eq(project),
                project_servers::server_id.eq(s.get()),
                project_servers::position.eq(int(i)),
            )
        })
        .collect();
    if !rows.is_empty() {
        insert_batch!(conn, project_servers::table, rows)?;
    }
    Ok(())
}

impl ProjectStore for DieselStore {
    fn create_project(
        &self,
        space: SpaceId,
        spec: &ProjectSpec,
        by: UserId,
        now: Timestamp,
    ) -> StoreResult<Project> {
        self.write(|conn| {
            load_space(conn, space)?;
            load_user(conn, by)?;
            check_spec(conn, space, spec, 0)?;
            let values = SettingsValues::new(spec, &self.sealer, now)?;
            let inserted = diesel::insert_into(projects::table)
                .values((
                    values,
                    projects::space_id.eq(space.get()),
                    projects::created_by.eq(by.get()),
                    projects::created_at.eq(now.unix_millis()),
                    projects::deleted_token.eq(0),
                ))
                .execute(conn);
            or_duplicate(inserted, "project", &spec.name)?;
            let id = last_insert_id(conn)?;
            replace_servers(conn, id, &spec.servers)?;
            Ok(Project {
                id: ProjectId(id),
                space,
                spec: spec.clone(),
                created_by: by,
                created_at: now,
                updated_at: now,
            })
        })
    }

    fn project(&self, id: ProjectId) -> StoreResult<Project> {
        self.read(|conn| load_project(conn, id, &self.sealer))
    }

    fn list_projects(
        &self,
        space: SpaceId,
        environment: Option<EnvironmentId>,
        keyword: Option<&str>,
        page: Page,
    ) -> StoreResult<Paged<Project>> {
        let pattern = like_pattern(keyword);
        let filtered = || {
            let mut q = projects::table
                .filter(projects::space_id.eq(space.get()))
                .filter(projects::deleted_token.eq(0))
                .into_boxed::<Db>();
            if let Some(env) = environment {
                q = q.filter(projects::environment_id.eq(env.get()));
            }
            if let Some(p) = &pattern {
                q = q.filter(lower(projects::name).like(p.clone()).escape(LIKE_ESCAPE));
            }
            q
        };
        let (offset, limit) = bounds(page);
        self.read(|conn| {
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows: Vec<ProjectRow> = filtered()
                .select(ProjectRow::as_select())
                .order(projects::id.asc())
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut servers = servers_of(conn, &ids)?;
            let items = rows
                .into_iter()
                .map(|r| {
                    let s = servers.remove(&r.id).unwrap_or_default();
                    r.into_project(s, &self.sealer)
                })
                .collect::<Result<_>>()?;
            Ok(Paged {
                items,
                total: count(total),
            })
        })
    }

    fn update_project(
        &self,
        id: ProjectId,
        spec: &ProjectSpec,
        now: Timestamp,
    ) -> StoreResult<Project> {
        self.write(|conn| {
            let old = load_project(conn, id, &self.sealer)?;
            check_spec(conn, old.space, spec, id.get())?;
            let values = SettingsValues::new(spec, &self.sealer, now)?;
            let n = diesel::update(projects::table.filter(projects::id.eq(id.get())))
                .set(values)
                .execute(conn);
            or_duplicate(n, "project", &spec.name)?;
            replace_servers(conn, id.get(), &spec.servers)?;
            load_project(conn, id, &self.sealer)
        })
    }

    fn delete_project(&self, id: ProjectId, now: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            let n = diesel::update(
                projects::table
                    .filter(projects::id.eq(id.get()))
                    .filter(projects::deleted_token.eq(0)),
            )
            .set((
                projects::deleted_token.eq(projects::id),
                projects::deleted_at.eq(Some(now.unix_millis())),
            ))
            .execute(conn)?;
            if n == 0 {
                return Err(not_found("project", id));
            }
            Ok(())
        })
    }
}
