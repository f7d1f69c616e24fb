//! `walle check PROJECT`: tests a project for real, without deploying. SSH login and host key on
//! every server, the release and webroot directories writable, the repository reachable, and the
//! programs the hooks call present where they run.

use serde::Serialize;
use walle_core::model::{HealthProbe, Project, RepoMode, Server};
use walle_core::ports::{
    ConnectOptions, HostTarget, OutputLine, RepoHandle, RunOptions, Session, Transport,
    TransportError, Vcs as _,
};
use walle_core::shell::Command;
use walle_core::value::{HostName, Port};
use walle_rbac::{Action, Resource};

use crate::adapters::Adapters;
use crate::args::CheckArgs;
use crate::context::Ctx;
use crate::error::{EXIT_FAILED, EXIT_OK};
use crate::output::{Report, table};

/// One check.
#[derive(Debug, Serialize)]
pub struct CheckResult {
    /// `deploy host` or the server name.
    pub host: String,
    /// What was checked.
    pub check: String,
    /// Passed.
    pub ok: bool,
    /// What was found, or what to do.
    pub detail: String,
}

/// All checks of a project.
#[derive(Debug, Serialize)]
pub struct CheckView {
    /// Project name.
    pub project: String,
    /// True when every check passed.
    pub ok: bool,
    /// The checks.
    pub checks: Vec<CheckResult>,
}

/// Tests a project.
pub fn run(ctx: &Ctx, args: &CheckArgs) -> anyhow::Result<Report> {
    let who = ctx.acting()?;
    let space = ctx.space(&who)?;
    let project = ctx.project_by_name(&space, &args.project)?;
    ctx.check(
        &who,
        Action::ProjectCheck,
        &Resource::Project(ctx.project_ref(&project)?),
    )?;
    let adapters = Adapters::new(ctx)?;
    let mut checks = Vec::new();
    check_repo(&adapters, &project, &mut checks);
    check_deploy_host(&adapters, &project, &mut checks);
    for id in &project.spec.servers {
        let server = ctx.store.server(*id)?;
        check_server(&adapters, &project, &server, &mut checks);
    }
    let ok = checks.iter().all(|c| c.ok);
    let rows = checks
        .iter()
        .map(|c| {
            vec![
                if c.ok { "ok".into() } else { "FAIL".into() },
                c.host.clone(),
                c.check.clone(),
                c.detail.clone(),
            ]
        })
        .collect::<Vec<_>>();
    let text = format!(
        "{}{}",
        table(&["", "HOST", "CHECK", "DETAIL"], &rows),
        if ok {
            format!("project {} is ready to deploy", project.spec.name)
        } else {
            format!(
                "project {} has problems; fix the FAIL lines above",
                project.spec.name
            )
        }
    );
    let view = CheckView {
        project: project.spec.name.to_string(),
        ok,
        checks,
    };
    Ok(Report::new(&view, text).with_code(if ok { EXIT_OK } else { EXIT_FAILED }))
}

fn push(out: &mut Vec<CheckResult>, host: &str, check: &str, r: Result<String, String>) {
    let (ok, detail) = match r {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    out.push(CheckResult {
        host: host.to_owned(),
        check: check.to_owned(),
        ok,
        detail,
    });
}

fn check_repo(a: &Adapters, p: &Project, out: &mut Vec<CheckResult>) {
    let repo = RepoHandle {
        project: p.id,
        config: p.spec.repo.clone(),
    };
    let r = match p.spec.repo.mode {
        RepoMode::Branch => a
            .vcs
            .branches(&repo)
            .map(|b| format!("{} branch(es)", b.len())),
        RepoMode::Tag => a.vcs.tags(&repo).map(|t| format!("{} tag(s)", t.len())),
    };
    push(
        out,
        "deploy host",
        "repository reachable",
        r.map_err(|e| e.to_string()),
    );
}

fn check_deploy_host(a: &Adapters, p: &Project, out: &mut Vec<CheckResult>) {
    let target = HostTarget {
        server: None,
        host: HostName::new("localhost").expect("localhost is a valid host name"),
        port: Port::default(),
        user: crate::servers::current_user().unwrap_or_else(|_| {
            walle_core::value::SshUser::new("root").expect("root is a valid user name")
        }),
    };
    let hooks: Vec<&String> = p
        .spec
        .hooks
        .pre_deploy
        .iter()
        .chain(&p.spec.hooks.post_deploy)
        .collect();
    if hooks.is_empty() {
        return;
    }
    match a.local.connect(&target, &ConnectOptions::default()) {
        Ok(mut s) => check_tools(s.as_mut(), "deploy host", &hooks, out),
        Err(e) => push(out, "deploy host", "local shell", Err(e.to_string())),
    }
}

fn check_server(a: &Adapters, p: &Project, server: &Server, out: &mut Vec<CheckResult>) {
    let name = server.spec.name.to_string();
    let target = HostTarget {
        server: Some(server.id),
        host: server.spec.host.clone(),
        port: server.spec.port,
        user: server.spec.user.clone(),
    };
    let opts = ConnectOptions {
        connect_timeout: p.spec.strategy.connect_timeout,
        ..ConnectOptions::default()
    };
    let mut session = match a.transport.connect(&target, &opts) {
        Ok(s) => {
            push(
                out,
                &name,
                "login and host key",
                Ok(crate::servers::describe(server)),
            );
            s
        }
        Err(e) => {
            let mut detail = e.to_string();
            if matches!(e, TransportError::HostKeyChanged { .. }) {
                detail.push_str(&format!(
                    "; or, if it was reinstalled, `walle server forget-key {name}`"
                ));
            }
            push(out, &name, "login and host key", Err(detail));
            return;
        }
    };
    let releases = &p.spec.releases_dir;
    push(
        out,
        &name,
        "releases directory writable",
        probe(
            session.as_mut(),
            "mkdir -p -- \"$1\" && test -w \"$1\"",
            &[releases.as_str()],
            &format!("{releases} can be created and written"),
        ),
    );
    let webroot = &p.spec.webroot;
    let parent = webroot.parent().unwrap_or_else(|| webroot.clone());
    push(
        out,
        &name,
        "webroot usable",
        probe(
            session.as_mut(),
            "mkdir -p -- \"$2\" && test -w \"$2\" && { test ! -e \"$1\" || test -L \"$1\"; }",
            &[webroot.as_str(), parent.as_str()],
            &format!("{webroot} is a symlink or absent, and {parent} is writable"),
        )
        .map_err(|e| {
            format!("{e}; the webroot must be a symlink (or absent) in a writable directory")
        }),
    );
    let mut hooks: Vec<&String> = p
        .spec
        .hooks
        .pre_release
        .iter()
        .chain(&p.spec.hooks.post_release)
        .chain(&p.spec.hooks.post_rollback)
        .collect();
    let health_cmd;
    if let Some(h) = &p.spec.health_check {
        match &h.probe {
            HealthProbe::Http { .. } => {
                push(
                    out,
                    &name,
                    "health check tool",
                    probe(
                        session.as_mut(),
                        "command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1",
                        &[],
                        "curl or wget found",
                    )
                    .map_err(|_| "neither curl nor wget is installed".to_owned()),
                );
            }
            HealthProbe::Command { line } => {
                health_cmd = line.clone();
                hooks.push(&health_cmd);
            }
        }
    }
    check_tools(session.as_mut(), &name, &hooks, out);
}

/// Checks that the first program of each hook line exists on the host.
fn check_tools(s: &mut dyn Session, host: &str, lines: &[&String], out: &mut Vec<CheckResult>) {
    let mut seen = Vec::new();
    for line in lines {
        let Some(tool) = first_program(line) else {
            continue;
        };
        if seen.contains(&tool) {
            continue;
        }
        seen.push(tool.clone());
        push(
            out,
            host,
            &format!("hook tool {tool}"),
            probe(
                s,
                "command -v -- \"$1\" >/dev/null 2>&1",
                &[tool.as_str()],
                "found",
            )
            .map_err(|_| format!("`{tool}` is not installed or not in PATH (used by: {line})")),
        );
    }
}

/// The program a shell line starts with, skipping `VAR=value` assignments and `sudo`/`env`.
pub fn first_program(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|w| {
            !w.contains('=')
                && !matches!(*w, "sudo" | "env" | "exec" | "nohup" | "time")
                && !w.starts_with('-')
        })
        .map(|w| w.trim_matches(|c| c == '(' || c == '{').to_owned())
        .filter(|w| {
            !w.is_empty()
                && !matches!(
                    w.as_str(),
                    "if" | "then"
                        | "for"
                        | "while"
                        | "cd"
                        | "echo"
                        | "printf"
                        | "test"
                        | "["
                        | "true"
                        | "false"
                        | "export"
                        | "set"
                )
        })
}

fn probe(s: &mut dyn Session, script: &str, args: &[&str], ok: &str) -> Result<String, String> {
    let cmd = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("walle-check")
        .args(args.iter().copied());
    let mut lines = Vec::new();
    let r = s.run(
        &cmd,
        &RunOptions {
            timeout: std::time::Duration::from_secs(30),
            silence_timeout: None,
        },
        &mut |l| {
            let (OutputLine::Stdout(t) | OutputLine::Stderr(t)) = l;
            lines.push(t);
        },
    );
    match r {
        Ok(st) if st.success() => Ok(ok.to_owned()),
        Ok(st) => Err(if lines.is_empty() {
            st.to_string()
        } else {
            lines.join("; ")
        }),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
