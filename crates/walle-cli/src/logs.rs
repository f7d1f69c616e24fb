//! `walle task logs [--follow]`: a task's stored deploy events, optionally followed live.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use walle_core::ServerId;
use walle_core::model::DeployEvent;
use walle_rbac::Action;

use crate::context::{Acting, Ctx};
use crate::output::{self, Mode, Report};

/// One log line as shown.
#[derive(Debug, Serialize)]
pub struct LogLine {
    /// Sequence number.
    pub seq: u64,
    /// When (RFC 3339).
    pub at: String,
    /// Server name, or `deploy host`.
    pub host: String,
    /// Step.
    pub step: &'static str,
    /// Stream.
    pub stream: &'static str,
    /// Text.
    pub line: String,
    /// Exit code (exit events).
    pub exit_code: Option<i32>,
}

/// Prints a task's log; with `follow`, waits for new lines until the task is no longer deploying.
pub fn run(ctx: &Ctx, who: &Acting, id: i64, follow: bool, mode: Mode) -> anyhow::Result<Report> {
    let task = ctx.task(id)?;
    let (_, res) = ctx.task_resource(&task)?;
    ctx.check(who, Action::TaskViewLogs, &res)?;
    let mut names: BTreeMap<ServerId, String> = BTreeMap::new();
    let mut after = 0;
    let mut all = Vec::new();
    loop {
        let batch = ctx.store.events_after(task.id, after, 500)?;
        for e in &batch {
            after = e.seq;
            let line = render(ctx, &mut names, e);
            if follow {
                output::log_line(mode, &text(&line));
            }
            all.push(line);
        }
        if batch.len() == 500 {
            continue;
        }
        if !follow
            || !ctx
                .store
                .task(task.id)?
                .status
                .eq(&walle_core::model::TaskStatus::Deploying)
        {
            // One more read after the status changed, so the last lines are not lost.
            let tail = ctx.store.events_after(task.id, after, u64::MAX / 2)?;
            for e in &tail {
                let line = render(ctx, &mut names, e);
                if follow {
                    output::log_line(mode, &text(&line));
                }
                all.push(line);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let body = if follow {
        String::new()
    } else {
        all.iter().map(text).collect::<Vec<_>>().join("\n")
    };
    Ok(Report::new(&all, body))
}

fn render(ctx: &Ctx, names: &mut BTreeMap<ServerId, String>, e: &DeployEvent) -> LogLine {
    let host = match e.event.host {
        None => "deploy host".to_owned(),
        Some(id) => names
            .entry(id)
            .or_insert_with(|| {
                crate::projects::server_names(ctx, &[id])
                    .pop()
                    .unwrap_or_default()
            })
            .clone(),
    };
    LogLine {
        seq: e.seq,
        at: e.event.at.to_string(),
        host,
        step: e.event.step.as_str(),
        stream: e.event.stream.as_str(),
        line: e.event.line.clone(),
        exit_code: e.event.exit_code,
    }
}

fn text(l: &LogLine) -> String {
    let body = match (l.stream, l.exit_code) {
        ("command", _) => format!("$ {}", l.line),
        ("exit", _) if l.line.starts_with("exit status") => l.line.clone(),
        ("exit", Some(c)) => format!("exit status {c} ({})", l.line),
        ("error", _) => format!("error: {}", l.line),
        _ => l.line.clone(),
    };
    format!("{} [{}] {}: {body}", l.at, l.host, l.step)
}
