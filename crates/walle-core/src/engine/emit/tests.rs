use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::ports::{ExitStatus, HostTarget, TransportError, UnpackSummary};
use crate::value::{AbsPath, HostName, Port, SshUser};
use crate::{Timestamp, shell::Command};

/// A clock that advances 5 ms every time it is read.
struct StepClock(Mutex<i64>);

impl Clock for StepClock {
    fn now(&self) -> Timestamp {
        let mut t = self.0.lock().unwrap();
        *t += 5;
        Timestamp::from_unix_millis(*t)
    }
    fn sleep(&self, _: Duration) {}
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl EventSink for Recorder {
    fn emit(&self, e: NewDeployEvent) {
        let host = e.host.map_or("-".to_owned(), |h| h.to_string());
        let code = e.exit_code.map_or(String::new(), |c| format!(" [{c}]"));
        self.0.lock().unwrap().push(format!(
            "{host} {} {} {}{code}",
            e.step.as_str(),
            e.stream.as_str(),
            e.line
        ));
    }
}

/// A session that replays scripted output and an exit status for every command.
struct Scripted {
    target: HostTarget,
    lines: Vec<OutputLine>,
    result: Result<ExitStatus, TransportError>,
}

impl Session for Scripted {
    fn target(&self) -> &HostTarget {
        &self.target
    }
    fn run(
        &mut self,
        _: &Command,
        _: &RunOptions,
        on_line: &mut dyn FnMut(OutputLine),
    ) -> Result<ExitStatus, TransportError> {
        for l in &self.lines {
            on_line(l.clone());
        }
        self.result.clone()
    }
    fn upload(&mut self, _: &mut dyn Read, _: &AbsPath, _: u32) -> Result<u64, TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn unpack(&mut self, _: &mut dyn Read, _: &AbsPath) -> Result<UnpackSummary, TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn switch_symlink(&mut self, _: &AbsPath, _: &AbsPath) -> Result<(), TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn read_link(&mut self, _: &AbsPath) -> Result<Option<String>, TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn read_file(&mut self, _: &AbsPath) -> Result<Option<Vec<u8>>, TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn write_file(&mut self, _: &AbsPath, _: &[u8]) -> Result<(), TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn create_exclusive(&mut self, _: &AbsPath, _: &[u8]) -> Result<bool, TransportError> {
        unreachable!("not used by Emitter::run")
    }
    fn remove_file(&mut self, _: &AbsPath) -> Result<(), TransportError> {
        unreachable!("not used by Emitter::run")
    }
}

fn session(lines: Vec<OutputLine>, result: Result<ExitStatus, TransportError>) -> Scripted {
    let target = HostTarget {
        server: Some(ServerId(3)),
        host: HostName::new("10.0.0.3").unwrap(),
        port: Port::default(),
        user: SshUser::new("deploy").unwrap(),
    };
    Scripted {
        target,
        lines,
        result,
    }
}

#[test]
fn streams_every_line_and_the_exit_in_order() {
    let (sink, clock) = (Recorder::default(), StepClock(Mutex::new(0)));
    let emit = Emitter::new(TaskId(7), &sink, &clock);
    let mut s = session(
        vec![
            OutputLine::Stdout("a".into()),
            OutputLine::Stderr("b".into()),
        ],
        Ok(ExitStatus::code(0)),
    );
    let out = emit.run(
        &mut s,
        Some(ServerId(3)),
        "web3",
        Step::PreRelease,
        &Command::shell("make"),
        &RunOptions::default(),
    );
    assert_eq!(out, Ok(vec!["a".to_owned()]));
    expect_test::expect![[r#"
        3 pre_release command make
        3 pre_release stdout a
        3 pre_release stderr b
        3 pre_release exit exit status 0 after 15.0ms [0]"#]]
    .assert_eq(&sink.0.lock().unwrap().join("\n"));
}

#[test]
fn a_failing_hook_names_command_host_status_and_last_lines() {
    let (sink, clock) = (Recorder::default(), StepClock(Mutex::new(0)));
    let emit = Emitter::new(TaskId(7), &sink, &clock);
    let lines = (1..=20)
        .map(|i| OutputLine::Stdout(format!("line {i}")))
        .collect();
    let mut s = session(lines, Ok(ExitStatus::code(2)));
    let err = emit
        .run(
            &mut s,
            Some(ServerId(3)),
            "web3",
            Step::PreRelease,
            &Command::shell("./migrate"),
            &RunOptions::default(),
        )
        .unwrap_err();
    assert!(
        err.summary
            .starts_with("`./migrate` on web3 ended with exit status 2; last output:\n"),
        "{}",
        err.summary
    );
    assert!(
        err.summary.contains("  line 9\n") && err.summary.ends_with("  line 20"),
        "{}",
        err.summary
    );
    assert!(
        !err.summary.contains("line 8\n"),
        "only the last lines are kept: {}",
        err.summary
    );
}

#[test]
fn a_transport_error_is_a_failure_with_its_message() {
    let (sink, clock) = (Recorder::default(), StepClock(Mutex::new(0)));
    let emit = Emitter::new(TaskId(7), &sink, &clock);
    let timeout = TransportError::Timeout {
        host: "deploy@10.0.0.3:22".into(),
        what: "./slow".into(),
        after: Duration::from_secs(5),
    };
    let mut s = session(vec![], Err(timeout));
    let err = emit
        .run(
            &mut s,
            Some(ServerId(3)),
            "web3",
            Step::PostRelease,
            &Command::shell("./slow"),
            &RunOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        err.summary,
        "`./slow` on web3 failed: ./slow on deploy@10.0.0.3:22 timed out after 5s"
    );
    let events = sink.0.lock().unwrap();
    assert!(
        events.last().unwrap().starts_with(
            "3 post_release exit ./slow on deploy@10.0.0.3:22 timed out after 5s after"
        ),
        "{events:?}"
    );
}
