//! The clock port: the core never reads the time itself.

use crate::Timestamp;

/// A source of the current time (the system clock in production, a fixed or stepping clock in tests).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
    /// Blocks the calling thread for `d` (used between health-check attempts).
    fn sleep(&self, d: std::time::Duration);
}
