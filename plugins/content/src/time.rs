//! Dates for messages, without a date-time dependency: the plugin only ever
//! formats one kind of instant (UTC, to the minute), which is a few lines of
//! arithmetic.

/// `ms` since the Unix epoch as "2026-12-01 09:00 UTC".
///
/// Rounded *up* to the minute: a reason must never name a time at which the
/// item is still closed (09:00:30 is shown as 09:01, not 09:00).
pub fn format_utc_minute(ms: u64) -> String {
    let minutes = ms.div_ceil(60_000);
    let (days, minute_of_day) = (minutes / 1440, minutes % 1440);
    // Days since 1970 fit i64 for every u64 of milliseconds.
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", minute_of_day / 60, minute_of_day % 60)
}

/// Proleptic Gregorian (year, month, day) of a day number counted from
/// 1970-01-01, after Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>).
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

    fn check(ms: u64, expected: &str) {
        assert_eq!(format_utc_minute(ms), expected, "{ms} ms");
    }

    #[test]
    fn formats_utc() {
        check(0, "1970-01-01 00:00 UTC");
        check(951_782_400_000, "2000-02-29 00:00 UTC"); // leap day of a leap century
        check(1_796_115_600_000, "2026-12-01 09:00 UTC");
        check(1_796_115_600_001, "2026-12-01 09:01 UTC"); // rounded up
        check(1_798_761_599_000, "2027-01-01 00:00 UTC"); // 23:59:59 rounds into the new year
        check(4_102_444_800_000, "2100-01-01 00:00 UTC"); // 2100 is not a leap year…
        check(4_107_456_000_000, "2100-02-28 00:00 UTC"); // …
        check(4_107_542_400_000, "2100-03-01 00:00 UTC"); // …so March follows Feb 28
    }
}
