//! Points in time, passed into the core as arguments (the core never reads a clock).

use std::fmt;
use std::time::Duration;

/// A point in time in UTC, with millisecond precision, as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A calendar date and time of day in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// A timestamp from whole seconds since the Unix epoch.
    pub const fn from_unix_secs(s: i64) -> Self {
        Self(s * 1000)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant plus a duration (saturating).
    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    /// The calendar date and time of day (UTC).
    pub fn civil(self) -> Civil {
        let secs = self.unix_secs();
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let rem = u32::try_from(rem).expect("rem_euclid(86400) is within u32");
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
        }
    }

    /// A timestamp from a calendar date and time (UTC). `None` when a field is out of range.
    pub fn from_civil(c: Civil) -> Option<Self> {
        let valid = (1..=12).contains(&c.month)
            && c.day >= 1
            && c.day <= days_in_month(c.year, c.month)
            && c.hour < 24
            && c.minute < 60
            && c.second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(c.year, c.month, c.day);
        let secs = days * 86_400 + i64::from(c.hour * 3600 + c.minute * 60 + c.second);
        Some(Self::from_unix_secs(secs))
    }

    /// `YYYYmmdd_HHMMSS`, the suffix of walle release ids.
    pub fn compact(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}_{:02}{:02}{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// `YYYYmmdd-HH:MM:SS`, the format of walle's `DEPLOY_TIME` hook variable.
    pub fn deploy_time(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}-{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with seconds, e.g. `2026-11-25T13:39:37Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).expect("day is 1..=31");
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).expect("month is 1..=12");
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        // 2019-02-25 19:04:22 UTC, the release id from walle's docs.
        let t = Timestamp::from_unix_secs(1_551_121_462);
        assert_eq!(t.compact(), "20190225_190422");
        assert_eq!(t.deploy_time(), "20190225-19:04:22");
        assert_eq!(t.to_string(), "2019-02-25T19:04:22Z");
    }

    #[test]
    fn civil_round_trip() {
        for secs in [0, 951_782_400, 1_709_164_800, 4_102_444_799, -86_400] {
            let t = Timestamp::from_unix_secs(secs);
            assert_eq!(Timestamp::from_civil(t.civil()), Some(t), "{secs}");
        }
        let bad = Civil {
            year: 2023,
            month: 2,
            day: 29,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(Timestamp::from_civil(bad), None);
    }
}
