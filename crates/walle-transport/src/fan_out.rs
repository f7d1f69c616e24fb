//! Running one closure per host on a bounded number of threads.
//!
//! Each host's work runs on its own worker thread and owns its own session, so a host that hangs
//! holds up one worker until its own timeouts fire while the other workers carry on with the
//! remaining hosts.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Mutex, PoisonError};

use walle_core::ports::HostTarget;

/// Runs `work` once per target, at most `concurrency` at a time (at least one), and returns one
/// result per target in the order of `targets`.
///
/// If `work` panics for a host, the other hosts still finish; then the first panic is resumed.
pub fn fan_out<R, F>(targets: &[HostTarget], concurrency: usize, work: F) -> Vec<(HostTarget, R)>
where
    R: Send,
    F: Fn(&HostTarget) -> R + Sync,
{
    let mut refs: Vec<&HostTarget> = targets.iter().collect();
    let results = fan_out_mut(&mut refs, concurrency, |t| work(t));
    targets.iter().cloned().zip(results).collect()
}

/// Runs `work` once per item with mutable access (for example on each host's open session), at
/// most `concurrency` at a time, and returns the results in the order of `items`.
///
/// Panics are handled as in [`fan_out`].
pub fn fan_out_mut<T, R, F>(items: &mut [T], concurrency: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(&mut T) -> R + Sync,
{
    let n = items.len();
    if n == 0 {
        return Vec::new();
    }
    let workers = concurrency.clamp(1, n);
    let queue = Mutex::new(items.iter_mut().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    let first_panic: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some((index, item)) = next else { break };
                    match catch_unwind(AssertUnwindSafe(|| work(item))) {
                        Ok(result) => {
                            results.lock().unwrap_or_else(PoisonError::into_inner)[index] =
                                Some(result);
                        }
                        Err(payload) => {
                            first_panic
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .get_or_insert(payload);
                        }
                    }
                }
            });
        }
    });
    if let Some(payload) = first_panic
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        resume_unwind(payload);
    }
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every item was processed by a worker and none panicked"))
        .collect()
}

#[cfg(test)]
mod tests;
