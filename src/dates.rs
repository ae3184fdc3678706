//! Reading vendor timestamps and writing ECS dates.
//!
//! Vendors send naive local times (read as UTC, as Elasticsearch does), RFC 3339 times
//! with any fraction, dates alone, and epoch numbers. ECS dates are written as UTC with
//! milliseconds (`2020-10-08T12:22:11.000Z`), the form of Elasticsearch's date processor.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc};

/// Reads an ISO 8601 / RFC 3339 timestamp. Naive values are UTC. A date alone is midnight.
/// A space may stand for `T`. Returns `None` for anything else, or an impossible date.
pub fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.len() < 10 || t.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let replaced;
    let t = if t.as_bytes().get(10) == Some(&b' ') {
        replaced = format!("{}T{}", &t[..10], &t[11..]);
        replaced.as_str()
    } else {
        t
    };
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(t, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    if t.len() == 10
        && let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
    {
        return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
    }
    None
}

/// Reads a naive ISO local date-time only (`2020-10-08T12:22:11`, optional fraction), as
/// Elastic's threatstream expiry script does; a zone suffix is refused.
pub fn parse_local(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| Utc.from_utc_datetime(&n))
}

/// Epoch seconds to a time, when in range.
pub fn from_epoch_seconds(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// Epoch microseconds to a time, when in range.
pub fn from_epoch_micros(us: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
}

/// `2020-10-08T12:22:11.000Z`: UTC, milliseconds, truncated (never rounded).
pub fn fmt_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Elasticsearch's form of an ingest-time `ZonedDateTime`: UTC, 3 to 9 fraction digits,
/// trailing zeros removed but never fewer than 3 (`2026-05-29T11:12:01.58956098Z`).
pub fn fmt_es(t: DateTime<Utc>) -> String {
    let nanos = t.nanosecond() % 1_000_000_000;
    let mut frac = format!("{nanos:09}");
    while frac.len() > 3 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}.{}Z", t.format("%Y-%m-%dT%H:%M:%S"), frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_the_vendor_forms() {
        let want = at("2020-10-08T12:22:11Z");
        for s in [
            "2020-10-08T12:22:11",
            "2020-10-08T12:22:11Z",
            "2020-10-08T12:22:11.000Z",
            "2020-10-08T14:22:11+02:00",
            "2020-10-08T14:22:11+0200",
            "2020-10-08 12:22:11",
        ] {
            assert_eq!(parse_iso(s), Some(want), "{s}");
        }
        assert_eq!(parse_iso("2020-10-08"), Some(at("2020-10-08T00:00:00Z")));
        assert_eq!(
            fmt_millis(parse_iso("2023-06-05T12:35:14.860741").unwrap()),
            "2023-06-05T12:35:14.860Z"
        );
    }

    #[test]
    fn refuses_impossible_dates() {
        for s in ["2021-13-01T00:00:00", "yesterday", "", "2021-02-30", "1e9"] {
            assert_eq!(parse_iso(s), None, "{s}");
        }
        assert_eq!(parse_local("2020-10-08T12:22:11Z"), None);
        assert!(parse_local("2020-10-08T12:22:11.5").is_some());
    }

    #[test]
    fn es_fraction_form() {
        assert_eq!(
            fmt_es(at("2026-05-29T11:12:01.589560980Z")),
            "2026-05-29T11:12:01.58956098Z"
        );
        assert_eq!(
            fmt_es(at("2020-03-17T02:13:59.830Z")),
            "2020-03-17T02:13:59.830Z"
        );
        assert_eq!(
            fmt_es(at("2020-03-17T02:13:59Z")),
            "2020-03-17T02:13:59.000Z"
        );
    }
}
