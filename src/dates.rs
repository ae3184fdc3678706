//! Reading vendor timestamps and writing ECS dates.
//!
//! Vendors send naive local times (read as UTC, as Elasticsearch does), RFC 3339 times
//! with any fraction, dates alone, and epoch numbers. ECS dates are written as UTC with
//! milliseconds (`2020-10-08T12:22:11.000Z`), the form of Elasticsearch's date processor.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Timelike, Utc};

/// Reads an ISO 8601 / RFC 3339 timestamp. Naive values are UTC. A date alone is midnight.
/// A space may stand for `T`. Returns `None` for anything else, or an impossible date.
pub fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.len() < 10 || t.len() > 64 {
        return None;
    }
    scan(t.as_bytes(), true).or_else(|| {
        // what the scanner leaves (a leap second, say) goes to chrono's RFC 3339 reader
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    })
}

/// Reads a naive ISO local date-time only (`2020-10-08T12:22:11`, optional fraction), as
/// Elastic's threatstream expiry script does; a zone suffix is refused.
pub fn parse_local(text: &str) -> Option<DateTime<Utc>> {
    let b = text.trim().as_bytes();
    // seconds are required: `YYYY-MM-DDTHH:MM:SS` at least
    if b.len() < 19 || b.get(10) != Some(&b'T') {
        return None;
    }
    scan(b, false)
}

/// The hand-written reader behind [`parse_iso`] and [`parse_local`]:
/// `YYYY-MM-DD[(T|t|' ')HH:MM[:SS[(.|,)fraction]]][Z|z|(+|-)HH[[:]MM]]`, all of it, with
/// the zone only when `zone` is allowed. Chrono's format-string parsers cost more than the
/// rest of a mapping, so the common forms are read here.
fn scan(b: &[u8], zone: bool) -> Option<DateTime<Utc>> {
    let num = |at: usize, len: usize| -> Option<u32> {
        let digits = b.get(at..at + len)?;
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, num(5, 2)?, num(8, 2)?)?;
    let mut i = 10;
    let (mut h, mut mi, mut sec, mut nanos) = (0, 0, 0, 0);
    if matches!(b.get(i), Some(b'T' | b't' | b' ')) {
        h = num(i + 1, 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        mi = num(i + 4, 2)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1, 2)?;
            i += 3;
            if matches!(b.get(i), Some(b'.' | b',')) {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    if i - start < 9 {
                        nanos = nanos * 10 + u32::from(b[i] - b'0');
                    }
                    i += 1;
                }
                let digits = i - start;
                if digits == 0 {
                    return None;
                }
                for _ in digits..9 {
                    nanos *= 10;
                }
            }
        }
    } else if i != b.len() {
        return None;
    }
    let naive = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    let offset_secs: i64 = match b.get(i) {
        None => 0,
        Some(_) if !zone => return None,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)?;
            let rest = &b[i + 3..];
            let om = match rest {
                [] => 0,
                [b':', _, _] => num(i + 4, 2)?,
                [_, _] => num(i + 3, 2)?,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -secs } else { secs }
        }
        Some(_) => return None,
    };
    let utc = Utc.from_utc_datetime(&naive);
    if offset_secs == 0 {
        // UTC already (most vendor times): nothing to move
        return Some(utc);
    }
    utc.checked_sub_signed(chrono::Duration::seconds(offset_secs))
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
    Stamp::Millis(t).text()
}

/// Elasticsearch's form of an ingest-time `ZonedDateTime`: UTC, 3 to 9 fraction digits,
/// trailing zeros removed but never fewer than 3 (`2026-05-29T11:12:01.58956098Z`).
pub fn fmt_es(t: DateTime<Utc>) -> String {
    Stamp::Es(t).text()
}

/// A time in one of the two forms ECS dates are written in here, kept as the time until
/// it is written: a document's dates go straight into its text ([`Stamp::write`]), no
/// string made for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// [`fmt_millis`]'s form.
    Millis(DateTime<Utc>),
    /// [`fmt_es`]'s form.
    Es(DateTime<Utc>),
}

impl Stamp {
    /// The date's text.
    pub fn text(self) -> String {
        let mut out = Vec::with_capacity(32);
        self.written(&mut out);
        // ASCII digits and punctuation, or chrono's own text
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the date as a JSON string (its text needs no escape).
    pub fn write(self, out: &mut Vec<u8>) {
        out.push(b'"');
        self.written(out);
        out.push(b'"');
    }

    /// Appends the date's text.
    fn written(self, out: &mut Vec<u8>) {
        match self {
            Stamp::Millis(t) => {
                let millis = (t.timestamp_subsec_nanos() % 1_000_000_000) / 1_000_000;
                let mut frac = [0u8; 3];
                digits(&mut frac, millis);
                with_fraction(t, &frac, out);
            }
            Stamp::Es(t) => {
                let mut frac = [0u8; 9];
                digits(&mut frac, t.timestamp_subsec_nanos() % 1_000_000_000);
                let mut len = frac.len();
                while len > 3 && frac.get(len - 1) == Some(&b'0') {
                    len -= 1;
                }
                with_fraction(t, frac.get(..len).unwrap_or(&frac), out);
            }
        }
    }
}

/// Appends `YYYY-MM-DDTHH:MM:SS.<frac>Z`, written digit by digit (dates are written for
/// every document: no format machinery); years outside 0..=9999 take chrono's RFC 3339
/// form (`+10000-…`). `frac` holds ASCII digits.
fn with_fraction(t: DateTime<Utc>, frac: &[u8], out: &mut Vec<u8>) {
    // the fields of the UTC time itself: `DateTime`'s own accessors add the offset (zero)
    // again for each
    let n = t.naive_utc();
    let y = n.year();
    if !(0..=9999).contains(&y) {
        let whole = t.to_rfc3339_opts(SecondsFormat::Secs, true);
        out.extend_from_slice(whole.trim_end_matches('Z').as_bytes());
        out.push(b'.');
        out.extend_from_slice(frac);
        out.push(b'Z');
        return;
    }
    let mut b = *b"0000-00-00T00:00:00.000000000Z";
    let fields = [
        (0..4, y.unsigned_abs()),
        (5..7, n.month()),
        (8..10, n.day()),
        (11..13, n.hour()),
        (14..16, n.minute()),
        (17..19, n.second() % 60),
    ];
    for (range, v) in fields {
        if let Some(slot) = b.get_mut(range) {
            digits(slot, v);
        }
    }
    let end = 20 + frac.len().min(9);
    if let (Some(slot), Some(digits)) = (b.get_mut(20..end), frac.get(..end - 20)) {
        slot.copy_from_slice(digits);
    }
    if let Some(z) = b.get_mut(end) {
        *z = b'Z';
    }
    crate::json::write::append(out, b.get(..=end).unwrap_or_default());
}

/// Writes `v` as decimal digits filling `out`, zero-padded (high digits beyond the width
/// are dropped; callers pass values that fit).
fn digits(out: &mut [u8], mut v: u32) {
    let mut pairs = out.rchunks_exact_mut(2);
    for slot in &mut pairs {
        slot.copy_from_slice(&PAIRS[(v % 100) as usize]);
        v /= 100;
    }
    if let [first] = pairs.into_remainder() {
        *first = b'0' + (v % 10) as u8;
    }
}

/// Two digits a step, from "00"…"99" (half the divisions).
const PAIRS: [[u8; 2]; 100] = {
    let mut p = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        p[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    p
};

/// Appends `n` as `i64`'s `Display` writes it: a `-` when negative, then [`decimal`].
#[inline]
pub(crate) fn signed(n: i64, out: &mut Vec<u8>) {
    if n < 0 {
        out.push(b'-');
    }
    decimal(n.unsigned_abs(), out);
}

/// Appends the decimal digits of `n`, as `u64`'s `Display` writes them, two a step.
pub(crate) fn decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while n >= 100 {
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[(n % 100) as usize]);
        n /= 100;
    }
    if n >= 10 {
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[n as usize]);
    } else {
        at -= 1;
        // a digit
        buf[at] = b'0' + n as u8;
    }
    crate::json::write::append(out, &buf[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        let mut values = vec![0, u64::MAX, u64::MAX - 1];
        for p in 0..20 {
            let ten = 10u64.pow(p);
            values.extend([
                ten - 1,
                ten,
                ten + 1,
                ten.saturating_mul(7).saturating_add(3),
            ]);
        }
        for n in values {
            let mut out = b"x".to_vec();
            decimal(n, &mut out);
            assert_eq!(out, format!("x{n}").as_bytes(), "{n}");
        }
    }

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
    fn more_forms_and_refusals() {
        let want = at("2020-10-08T12:22:11.5Z");
        for s in [
            "2020-10-08T12:22:11,5",
            "2020-10-08t12:22:11.500z",
            "2020-10-08T13:22:11.5+01",
            "2020-10-08T10:52:11.5-01:30",
        ] {
            assert_eq!(parse_iso(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_iso("2020-10-08T12:22"),
            Some(at("2020-10-08T12:22:00Z"))
        );
        assert_eq!(
            parse_iso("2020-10-08T12:22:11.1234567891234"),
            Some(at("2020-10-08T12:22:11.123456789Z"))
        );
        for s in [
            "2020-10-08T",
            "2020-10-08T12",
            "2020-10-08T12:22:11.",
            "2020-10-08T12:22:11+2",
            "2020-10-08T12:22:11Zx",
            "2020-10-08T25:00:00",
            "2020-1-08",
            "+2020-10-08",
            "2020-10-08T12:22:11+24:00",
        ] {
            assert_eq!(parse_iso(s), None, "{s}");
        }
        assert_eq!(parse_local("2020-10-08T12:22"), None);
        assert_eq!(parse_local("2020-10-08 12:22:11"), None);
    }

    #[test]
    fn formats_extreme_years() {
        let t = DateTime::from_timestamp(253_402_300_799, 0).unwrap();
        assert_eq!(fmt_millis(t), "9999-12-31T23:59:59.000Z");
        let t = DateTime::from_timestamp(253_402_300_800, 0).unwrap();
        assert_eq!(fmt_millis(t), "+10000-01-01T00:00:00.000Z");
        // written into a document: the same text, quoted
        let mut out = b"x".to_vec();
        Stamp::Millis(t).write(&mut out);
        Stamp::Es(t).write(&mut out);
        assert_eq!(
            out,
            br#"x"+10000-01-01T00:00:00.000Z""+10000-01-01T00:00:00.000Z""#
        );
    }

    #[test]
    fn dates_are_written_as_chrono_formats_them() {
        // seconds across the years 0..=9999 (a prime step) with fractions of every length
        let first = NaiveDate::from_ymd_opt(0, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let (mut secs, last) = (first.and_utc().timestamp(), 253_402_300_799);
        let mut nanos = 0u32;
        while secs <= last {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            assert_eq!(
                fmt_millis(t),
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            );
            let es = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
            let trimmed = es.trim_end_matches('0');
            let keep = trimmed.len().max(es.len() - 6);
            assert_eq!(fmt_es(t), format!("{}Z", &es[..keep]));
            secs += 7_919_993;
            nanos = (nanos + 123_456_789) % 1_000_000_000;
        }
        // a leap second is written as the second before it, with its fraction
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert_eq!(fmt_millis(leap), "2016-12-31T23:59:59.500Z");
        assert_eq!(fmt_es(leap), "2016-12-31T23:59:59.500Z");
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
