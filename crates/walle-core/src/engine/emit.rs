//! Event emission and command execution with streamed output.

use std::collections::VecDeque;

use crate::model::{EventStream, NewDeployEvent, Step};
use crate::ports::{Clock, EventSink, OutputLine, RunOptions, Session};
use crate::shell::Command;
use crate::{ServerId, TaskId};

/// How many trailing output lines a failed command's error keeps.
const TAIL: usize = 12;

/// Emits the events of one task.
pub(crate) struct Emitter<'a> {
    pub(crate) task: TaskId,
    pub(crate) sink: &'a dyn EventSink,
    pub(crate) clock: &'a dyn Clock,
}

/// A command that failed, with enough context to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandFailed {
    pub(crate) summary: String,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(task: TaskId, sink: &'a dyn EventSink, clock: &'a dyn Clock) -> Self {
        Self { task, sink, clock }
    }

    pub(crate) fn emit(
        &self,
        host: Option<ServerId>,
        step: Step,
        stream: EventStream,
        line: impl Into<String>,
        exit_code: Option<i32>,
    ) {
        self.sink.emit(NewDeployEvent {
            task: self.task,
            host,
            step,
            stream,
            line: line.into(),
            exit_code,
            at: self.clock.now(),
        });
    }

    pub(crate) fn info(&self, host: Option<ServerId>, step: Step, line: impl Into<String>) {
        self.emit(host, step, EventStream::Info, line, None);
    }

    pub(crate) fn error(&self, host: Option<ServerId>, step: Step, line: impl Into<String>) {
        self.emit(host, step, EventStream::Error, line, None);
    }

    /// Runs a command, streaming its output as events; a non-zero exit is an error naming the
    /// command, the host, the exit status and the last output lines.
    pub(crate) fn run(
        &self,
        session: &mut dyn Session,
        host: Option<ServerId>,
        host_name: &str,
        step: Step,
        cmd: &Command,
        opts: &RunOptions,
    ) -> Result<Vec<String>, CommandFailed> {
        let shown = cmd.display();
        self.emit(host, step, EventStream::Command, shown.clone(), None);
        let started = self.clock.now();
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut stdout = Vec::new();
        let result = session.run(cmd, opts, &mut |line| {
            let (stream, text) = match line {
                OutputLine::Stdout(t) => {
                    stdout.push(t.clone());
                    (EventStream::Stdout, t)
                }
                OutputLine::Stderr(t) => (EventStream::Stderr, t),
            };
            if tail.len() == TAIL {
                tail.pop_front();
            }
            tail.push_back(text.clone());
            self.emit(host, step, stream, text, None);
        });
        let took = self.clock.now().since(started);
        match result {
            Ok(status) => {
                self.emit(
                    host,
                    step,
                    EventStream::Exit,
                    format!("{status} after {took:.1?}"),
                    status.code,
                );
                if status.success() {
                    Ok(stdout)
                } else {
                    Err(self.failed(
                        format!("`{shown}` on {host_name} ended with {status}"),
                        &tail,
                    ))
                }
            }
            Err(e) => {
                self.emit(
                    host,
                    step,
                    EventStream::Exit,
                    format!("{e} after {took:.1?}"),
                    None,
                );
                Err(self.failed(format!("`{shown}` on {host_name} failed: {e}"), &tail))
            }
        }
    }

    fn failed(&self, head: String, tail: &VecDeque<String>) -> CommandFailed {
        let mut summary = head;
        if !tail.is_empty() {
            summary.push_str("; last output:\n");
            for l in tail {
                summary.push_str("  ");
                summary.push_str(l);
                summary.push('\n');
            }
        }
        CommandFailed {
            summary: summary.trim_end().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
