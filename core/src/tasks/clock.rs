//! Wall-clock time for tasks: their timestamps are shown to clients and
//! (with a shared store) compared across processes, so they are Unix
//! milliseconds, derived from core's one clock (`clock::now`) and one
//! reading of its Unix time.

use std::sync::OnceLock;

use crate::clock::Instant;

/// The wall-clock milliseconds at `now` (a reading of core's clock): the
/// wall clock read once, then moved on by the monotonic clock, so a
/// simulated clock moves task time too and the system clock stepping
/// back does not.
pub(crate) fn wall_ms(now: Instant) -> u64 {
    // A simulation's thread has its own virtual Unix time, moved with its
    // virtual now: the process-wide base would mix the two clocks.
    #[cfg(feature = "simulation")]
    if let Some(unix) = crate::clock::virtual_unix_time() {
        return unix.as_millis() as u64;
    }
    static BASE: OnceLock<(Instant, u64)> = OnceLock::new();
    let (at, ms) = *BASE.get_or_init(|| {
        let wall = crate::clock::unix_time().as_millis() as u64;
        (now, wall)
    });
    let since = now.saturating_duration_since(at).as_millis() as u64;
    ms.saturating_add(since)
}

/// `ms` (Unix milliseconds) as ISO 8601 UTC with milliseconds:
/// `2026-12-06T21:27:20.123Z`.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        ms % 1000
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day), 12:34:56.789.
        assert_eq!(iso8601(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(iso8601(1_798_761_600_000), "2027-01-01T00:00:00.000Z");
    }

    #[test]
    fn wall_time_moves_with_the_clock_given() {
        // Later than any base another test may have set.
        let now = crate::clock::now() + std::time::Duration::from_secs(3600);
        let a = wall_ms(now);
        let b = wall_ms(now + std::time::Duration::from_millis(1500));
        assert_eq!(b - a, 1500);
    }
}
