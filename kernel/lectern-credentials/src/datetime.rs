//! `dateTimeStamp` values (`validFrom`, `validUntil`, `created`): RFC 3339 with a mandatory offset.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// UTC, whole seconds, `Z`: `2024-05-01T12:00:00Z`. Sub-second precision is dropped so issued
/// documents are short and stable; nothing in a credential needs it.
pub(crate) fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    // Formatting a UTC time with a four-digit year cannot fail; fall back to the Debug form if the
    // year is outside RFC 3339's range rather than panicking.
    t.format(&Rfc3339).unwrap_or_else(|_| format!("{t}"))
}

/// Parses an RFC 3339 date-time; the offset (`Z` or `±hh:mm`) is required, as in `xsd:dateTimeStamp`.
pub(crate) fn parse(value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|e| format!("{value:?} is not an RFC 3339 date-time with a time zone ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_as_utc_whole_seconds() {
        assert_eq!(format(datetime!(2024-05-01 12:00:00.987 UTC)), "2024-05-01T12:00:00Z");
        assert_eq!(format(datetime!(2024-05-01 14:30:00 +02:00)), "2024-05-01T12:30:00Z");
    }

    #[test]
    fn parses_offsets_and_rejects_local_times() {
        let cases = [
            ("2023-01-01T00:00:00Z", Some(datetime!(2023-01-01 00:00:00 UTC))),
            ("2023-01-01T02:00:00+02:00", Some(datetime!(2023-01-01 00:00:00 UTC))),
            ("2023-01-01T00:00:00.5Z", Some(datetime!(2023-01-01 00:00:00.5 UTC))),
            ("2023-01-01T00:00:00", None),
            ("2023-01-01", None),
            ("yesterday", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn round_trips() {
        let t = datetime!(2030-12-31 23:59:59 UTC);
        assert_eq!(parse(&format(t)).unwrap(), t);
    }
}
