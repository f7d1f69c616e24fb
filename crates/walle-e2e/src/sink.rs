//! The event sink of the tests: appends every event to the store and keeps it in memory.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use walle_core::TaskId;
use walle_core::model::{EventStream, NewDeployEvent, Step};
use walle_core::ports::{EventSink, EventStore};
use walle_store::DieselStore;

/// Stores each event with [`EventStore::append_events`] (as the server does) and keeps a copy for
/// assertions; tests can wait for an event to arrive.
pub struct RecordingSink {
    store: DieselStore,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    events: Vec<NewDeployEvent>,
    store_errors: Vec<String>,
}

impl RecordingSink {
    /// A sink appending to `store`.
    pub fn new(store: DieselStore) -> RecordingSink {
        RecordingSink {
            store,
            state: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every event so far, in arrival order.
    pub fn all(&self) -> Vec<NewDeployEvent> {
        self.state().events.clone()
    }

    /// The events of one task, in arrival order.
    pub fn of_task(&self, task: TaskId) -> Vec<NewDeployEvent> {
        self.state()
            .events
            .iter()
            .filter(|e| e.task == task)
            .cloned()
            .collect()
    }

    /// The lines of one task's events of `step` (any stream).
    pub fn lines(&self, task: TaskId, step: Step) -> Vec<String> {
        self.of_task(task)
            .into_iter()
            .filter(|e| e.step == step)
            .map(|e| e.line)
            .collect()
    }

    /// The lines of one task's error events.
    pub fn errors(&self, task: TaskId) -> Vec<String> {
        self.of_task(task)
            .into_iter()
            .filter(|e| e.stream == EventStream::Error)
            .map(|e| e.line)
            .collect()
    }

    /// Failures of the store while appending events (should stay empty).
    pub fn store_errors(&self) -> Vec<String> {
        self.state().store_errors.clone()
    }

    /// Waits until an event matching `pred` has arrived (earlier ones included) and returns the
    /// first such event; `None` on timeout.
    pub fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&NewDeployEvent) -> bool,
    ) -> Option<NewDeployEvent> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if let Some(e) = state.events.iter().find(|e| pred(e)) {
                return Some(e.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// One task's events as text, one per line with the milliseconds since the first, for
    /// assertion messages.
    pub fn transcript(&self, task: TaskId) -> String {
        let events = self.of_task(task);
        let start = events.first().map_or(0, |e| e.at.unix_millis());
        events
            .iter()
            .map(|e| {
                let host = e.host.map_or_else(|| "-".to_owned(), |h| h.to_string());
                format!(
                    "{:>6}ms [{host}] {} {}: {}",
                    e.at.unix_millis() - start,
                    e.step.as_str(),
                    e.stream.as_str(),
                    e.line
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl EventSink for RecordingSink {
    fn emit(&self, event: NewDeployEvent) {
        let stored = self.store.append_events(std::slice::from_ref(&event));
        let mut state = self.state();
        if let Err(e) = stored {
            state.store_errors.push(e.to_string());
        }
        state.events.push(event);
        self.changed.notify_all();
    }
}
