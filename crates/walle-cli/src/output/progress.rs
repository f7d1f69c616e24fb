//! Live deploy progress: one bar per host and the deploy host on a terminal, plain lines when
//! piped, nothing with `--json`.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use walle_core::ServerId;
use walle_core::model::{EventStream, HostOutcome, HostState, NewDeployEvent, Step};
use walle_core::ports::EventSink;

use super::Mode;

/// The steps a target host goes through, in order (the bar's position).
const HOST_STEPS: [Step; 12] = [
    Step::Connect,
    Step::Lock,
    Step::Prepare,
    Step::Upload,
    Step::LinkShared,
    Step::PreRelease,
    Step::Barrier,
    Step::Switch,
    Step::HealthCheck,
    Step::PostRelease,
    Step::Ledger,
    Step::Unlock,
];

/// An event sink that shows a deploy as it happens.
pub struct Progress {
    mode: Mode,
    names: HashMap<ServerId, String>,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    local: ProgressBar,
    hosts: HashMap<ServerId, ProgressBar>,
}

impl Progress {
    /// Progress for a deploy to `hosts` (id and display name).
    pub fn new(mode: Mode, hosts: &[(ServerId, String)]) -> Progress {
        let names: HashMap<ServerId, String> = hosts.iter().cloned().collect();
        let bars = (mode == Mode::Terminal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let width = hosts
                .iter()
                .map(|(_, n)| n.chars().count())
                .chain([11])
                .max()
                .unwrap_or(11);
            let spin = ProgressStyle::with_template(&format!(
                "{{spinner:.cyan}} {{prefix:<{width}}} {{wide_msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = ProgressStyle::with_template(&format!(
                "{{spinner:.cyan}} {{prefix:<{width}}} [{{bar:20.green/white}}] {{wide_msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let local = multi.add(ProgressBar::new_spinner().with_style(spin));
            local.set_prefix("deploy host");
            local.enable_steady_tick(Duration::from_millis(120));
            let hosts = hosts
                .iter()
                .map(|(id, name)| {
                    let pb = multi
                        .add(ProgressBar::new(HOST_STEPS.len() as u64).with_style(bar.clone()));
                    pb.set_prefix(name.clone());
                    pb.set_message("waiting");
                    pb.enable_steady_tick(Duration::from_millis(120));
                    (*id, pb)
                })
                .collect();
            Bars {
                multi,
                local,
                hosts,
            }
        });
        Progress { mode, names, bars }
    }

    /// Stops the bars, leaving their last position and message on screen; hosts with a known
    /// outcome show it (a switched host's bar is full).
    pub fn finish(&self, outcomes: &[HostOutcome]) {
        if let Some(b) = &self.bars {
            b.local.abandon();
            for (id, pb) in &b.hosts {
                match outcomes.iter().find(|o| o.server == *id) {
                    Some(o) if o.state == HostState::Switched => {
                        let live = o.live.as_ref().map(|r| r.to_string()).unwrap_or_default();
                        pb.finish_with_message(format!("switched, live {live}"));
                    }
                    Some(o) => pb.abandon_with_message(o.state.as_str().replace('_', " ")),
                    None => pb.abandon(),
                }
            }
        }
    }

    fn who(&self, host: Option<ServerId>) -> String {
        match host {
            None => "deploy host".to_owned(),
            Some(id) => self
                .names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("server {id}")),
        }
    }
}

impl EventSink for Progress {
    fn emit(&self, e: NewDeployEvent) {
        let who = self.who(e.host);
        let step = e.step.as_str();
        let text = match e.stream {
            EventStream::Exit => match e.exit_code {
                Some(0) => format!("done ({})", e.line),
                Some(c) => format!("exit status {c} ({})", e.line),
                None => format!("ended ({})", e.line),
            },
            EventStream::Command => format!("$ {}", e.line),
            EventStream::Error => format!("error: {}", e.line),
            _ => e.line.clone(),
        };
        match (&self.bars, self.mode) {
            (_, Mode::Json) => {}
            (Some(b), _) => {
                let pb = e.host.and_then(|h| b.hosts.get(&h)).unwrap_or(&b.local);
                if let Some(pos) = HOST_STEPS.iter().position(|s| *s == e.step)
                    && e.host.is_some()
                {
                    pb.set_position(pos as u64 + 1);
                }
                pb.set_message(format!("{step}: {text}"));
                // Problems scroll above the bars; the summary at the end is the command's result.
                let loud = matches!(e.stream, EventStream::Error | EventStream::Stderr)
                    || (e.stream == EventStream::Exit && e.exit_code.is_some_and(|c| c != 0));
                if loud && e.step != Step::Finish {
                    let _ = b.multi.println(format!("[{who}] {step}: {text}"));
                }
            }
            (None, _) => {
                let _ = writeln!(std::io::stderr().lock(), "[{who}] {step}: {text}");
            }
        }
    }
}
