//! Times and durations for evidence lines, without a date-time dependency:
//! the plugin only ever formats UTC instants to the second and short
//! durations, which is a few lines of arithmetic.
//!
//! Evidence is read by students and instructors in a dispute, so it names
//! the second (`2026-12-01 09:14:03 UTC`), truncated rather than rounded:
//! the time shown is never later than the signal.

/// `ms` since the Unix epoch as `2026-12-01 09:14:03 UTC`.
pub fn format_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, sec_of_day) = (secs / 86_400, secs % 86_400);
    // Days since 1970 fit i64 for every u64 of milliseconds.
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        sec_of_day / 3600,
        sec_of_day / 60 % 60,
        sec_of_day % 60
    )
}

/// A duration for people: `850 ms`, `42 s`, `2 min 7 s`, `1 h 3 min`.
/// Truncated to the unit shown, like [`format_utc`].
pub fn format_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..60 => format!("{s} s"),
        60..3600 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Proleptic Gregorian (year, month, day) of a day number counted from
/// 1970-01-01, after Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>); the same
/// function as `plugins/content/src/time.rs`, copied so that each plugin
/// stays a self-contained example.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // March-based month, 0..=11
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        let check = |ms: u64, expected: &str| assert_eq!(format_utc(ms), expected, "{ms} ms");
        check(0, "1970-01-01 00:00:00 UTC");
        check(951_782_400_000, "2000-02-29 00:00:00 UTC"); // leap day of a leap century
        check(1_796_115_600_000, "2026-12-01 09:00:00 UTC");
        check(1_796_116_443_999, "2026-12-01 09:14:03 UTC"); // truncated, never later
        check(4_107_542_400_000, "2100-03-01 00:00:00 UTC"); // 2100 is not a leap year
    }

    #[test]
    fn formats_durations() {
        let check = |ms: u64, expected: &str| assert_eq!(format_duration(ms), expected, "{ms} ms");
        check(0, "0 ms");
        check(850, "850 ms");
        check(42_900, "42 s");
        check(120_000, "2 min");
        check(127_000, "2 min 7 s");
        check(3_600_000, "1 h");
        check(3_780_000, "1 h 3 min");
    }
}
