//! `walle server ...`: target servers. A server whose host is `local` is this host itself.

use serde::Serialize;
use walle_core::model::{Page, Server, ServerSpec};
use walle_core::value::{HostName, Label, Name, Port, SshUser};
use walle_rbac::{Action, Resource};

use crate::args::{ServerCmd, ServerSettings};
use crate::context::Ctx;
use crate::error::usage;
use crate::output::{Report, table};

/// The host name that means "this host, without SSH".
pub const LOCAL_HOST: &str = "local";

/// A server as shown.
#[derive(Debug, Serialize)]
pub struct ServerView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// SSH user.
    pub user: String,
    /// Labels.
    pub labels: Vec<String>,
    /// The trusted host key, `<algorithm> <base64>`, if any.
    pub host_key: Option<String>,
}

/// Runs a `walle server` command.
pub fn run(ctx: &Ctx, cmd: &ServerCmd) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let res = Resource::Space(space.id);
    match cmd {
        ServerCmd::Create { name, settings } => {
            ctx.check(&who, Action::ServerCreate, &res)?;
            let host = settings
                .host
                .as_deref()
                .ok_or_else(|| usage("--host is required (use `--host local` for this host)"))?;
            let spec = ServerSpec {
                name: Name::new(name)?,
                host: HostName::new(host)?,
                port: Port::new(settings.port.unwrap_or(22))?,
                user: match &settings.user {
                    Some(u) => SshUser::new(u)?,
                    None => current_user()?,
                },
                labels: labels(&settings.labels)?,
            };
            let server = ctx.store.create_server(space.id, &spec)?;
            ctx.audit(
                &who,
                Action::ServerCreate,
                format!("server:{}", server.id),
                server.spec.name.to_string(),
            );
            let v = view(&server);
            let text = format!(
                "created server {} (id {}): {}",
                v.name,
                v.id,
                describe(&server)
            );
            Ok(Report::new(&v, text))
        }
        ServerCmd::List { label } => {
            ctx.check(&who, Action::ServerView, &res)?;
            let label = label.as_deref().map(Label::new).transpose()?;
            let servers = ctx
                .store
                .list_servers(space.id, None, label.as_ref(), Page::all())?;
            let views: Vec<ServerView> = servers.items.iter().map(view).collect();
            let rows = servers
                .items
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.spec.name.to_string(),
                        describe(s),
                        s.spec
                            .labels
                            .iter()
                            .map(|l| l.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Report::new(
                &views,
                table(&["ID", "NAME", "TARGET", "LABELS"], &rows),
            ))
        }
        ServerCmd::Show { name } => {
            ctx.check(&who, Action::ServerView, &res)?;
            let s = ctx.server_by_name(&space, name)?;
            let v = view(&s);
            let text = format!(
                "server {}\n  id        {}\n  target    {}\n  labels    {}\n  host key  {}",
                v.name,
                v.id,
                describe(&s),
                v.labels.join(", "),
                v.host_key.as_deref().unwrap_or("(not yet trusted)")
            );
            Ok(Report::new(&v, text))
        }
        ServerCmd::Update {
            name,
            rename,
            settings,
        } => {
            ctx.check(&who, Action::ServerUpdate, &res)?;
            let s = ctx.server_by_name(&space, name)?;
            let mut spec = s.spec.clone();
            apply(&mut spec, rename.as_deref(), settings)?;
            let s = ctx.store.update_server(s.id, &spec)?;
            ctx.audit(
                &who,
                Action::ServerUpdate,
                format!("server:{}", s.id),
                String::new(),
            );
            let v = view(&s);
            let text = format!("updated server {}: {}", v.name, describe(&s));
            Ok(Report::new(&v, text))
        }
        ServerCmd::ForgetKey { name } => {
            ctx.check(&who, Action::ServerTrustHostKey, &res)?;
            let s = ctx.server_by_name(&space, name)?;
            ctx.store.set_host_key(s.id, None)?;
            crate::adapters::forget_host_key(&ctx.paths, &s)?;
            ctx.audit(
                &who,
                Action::ServerTrustHostKey,
                format!("server:{}", s.id),
                "forgot".into(),
            );
            Ok(Report::new(
                &view(&s),
                format!(
                    "forgot the host key of {}; the next connection trusts the key it is shown",
                    s.spec.name
                ),
            ))
        }
        ServerCmd::Delete { name } => {
            ctx.check(&who, Action::ServerDelete, &res)?;
            let s = ctx.server_by_name(&space, name)?;
            ctx.store.delete_server(s.id)?;
            ctx.audit(
                &who,
                Action::ServerDelete,
                format!("server:{}", s.id),
                s.spec.name.to_string(),
            );
            Ok(Report::new(
                &view(&s),
                format!("deleted server {}", s.spec.name),
            ))
        }
    }
}

/// True when the server is this host itself (local transport).
pub fn is_local(s: &Server) -> bool {
    s.spec.host.as_str() == LOCAL_HOST
}

/// `user@host:port`, or `this host (local)`.
pub fn describe(s: &Server) -> String {
    if is_local(s) {
        "this host (local transport)".to_owned()
    } else if s.spec.port.get() == 22 {
        format!("{}@{}", s.spec.user, s.spec.host)
    } else {
        format!("{}@{}:{}", s.spec.user, s.spec.host, s.spec.port)
    }
}

/// The shown form of a server.
pub fn view(s: &Server) -> ServerView {
    ServerView {
        id: s.id.get(),
        name: s.spec.name.to_string(),
        host: s.spec.host.to_string(),
        port: s.spec.port.get(),
        user: s.spec.user.to_string(),
        labels: s.spec.labels.iter().map(|l| l.to_string()).collect(),
        host_key: s.host_key.as_ref().map(|k| k.known_hosts_entry()),
    }
}

/// The login name of the user running walle, as an SSH user.
pub fn current_user() -> anyhow::Result<SshUser> {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_owned());
    SshUser::new(&name).map_err(|e| usage(format!("{e}; pass --user")))
}

fn apply(spec: &mut ServerSpec, rename: Option<&str>, s: &ServerSettings) -> anyhow::Result<()> {
    if let Some(n) = rename {
        spec.name = Name::new(n)?;
    }
    if let Some(h) = &s.host {
        spec.host = HostName::new(h)?;
    }
    if let Some(p) = s.port {
        spec.port = Port::new(p)?;
    }
    if let Some(u) = &s.user {
        spec.user = SshUser::new(u)?;
    }
    if !s.labels.is_empty() {
        spec.labels = labels(&s.labels)?;
    }
    Ok(())
}

fn labels(raw: &[String]) -> anyhow::Result<Vec<Label>> {
    Ok(raw
        .iter()
        .map(|l| Label::new(l))
        .collect::<Result<_, _>>()?)
}
