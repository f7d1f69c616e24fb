//! The event-sink port: where the live console's events go as they happen.

use crate::model::NewDeployEvent;

/// Receives deploy events as they happen (the server stores them and pushes them to consoles;
/// the CLI draws progress bars). Must not block for long: called from deploy threads.
pub trait EventSink: Send + Sync {
    /// One event.
    fn emit(&self, event: NewDeployEvent);
}

/// A sink that drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: NewDeployEvent) {}
}

impl<T: EventSink + ?Sized> EventSink for &T {
    fn emit(&self, event: NewDeployEvent) {
        (**self).emit(event);
    }
}

impl<T: EventSink + ?Sized> EventSink for std::sync::Arc<T> {
    fn emit(&self, event: NewDeployEvent) {
        (**self).emit(event);
    }
}
