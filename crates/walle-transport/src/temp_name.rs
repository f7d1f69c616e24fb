//! Names for temporary files next to the file they will replace.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use walle_core::value::AbsPath;

/// A path in the same directory as `path`, hidden and unique: `/dir/.name.walle-tmp-<16 hex digits>`.
///
/// Same directory, so a `rename` onto `path` stays on one file system and is atomic.
pub(crate) fn temp_sibling(path: &AbsPath) -> String {
    let dir = path.parent().map_or_else(String::new, |p| {
        if p.as_str() == "/" {
            String::new()
        } else {
            p.as_str().to_owned()
        }
    });
    let name = path.file_name().unwrap_or("root");
    format!("{dir}/.{name}.walle-tmp-{}", random_hex())
}

/// 64 random-looking bits as hex. `RandomState` is seeded from the OS once per process; the
/// counter, the clock and the pid make every call in every process different.
fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests;
