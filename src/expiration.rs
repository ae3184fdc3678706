//! IOC lifetimes: the `ioc_expiration_duration` grammar and the arithmetic on it.
//!
//! A duration is `<integer><unit>`. Elastic accepts the units `d`, `h` and `m`; we also
//! accept `s` and `w`. Anything else falls back to 90 days, and the caller records why in
//! `error.message`, as Elastic's pipelines do.

use chrono::{DateTime, Duration, Utc};

/// The fallback lifetime when a duration cannot be read.
pub const FALLBACK_DAYS: i64 = 90;

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// The text does not end in one of `d h m s w`.
    BadUnit(String),
    /// The part before the unit is not a non-negative integer, or it overflows.
    BadNumber(String),
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::BadUnit(v) => {
                write!(f, "`{v}` does not end in one of the units d, h, m, s, w")
            }
            DurationError::BadNumber(v) => {
                write!(
                    f,
                    "`{v}` does not start with a whole number of units in range"
                )
            }
        }
    }
}

/// Parses `<integer><unit>`, unit one of `d h m s w`; surrounding blanks are ignored.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let Some(unit) = t.chars().last() else {
        return Err(DurationError::BadUnit(text.to_string()));
    };
    let seconds_per_unit: i64 = match unit {
        'w' => 7 * 86_400,
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(DurationError::BadUnit(text.to_string())),
    };
    let number = &t[..t.len() - unit.len_utf8()];
    let bad_number = || DurationError::BadNumber(text.to_string());
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_number());
    }
    let n: i64 = number.parse().map_err(|_| bad_number())?;
    let secs = n.checked_mul(seconds_per_unit).ok_or_else(bad_number)?;
    // chrono's Duration range is about ±292 billion years in ms; keep well inside it.
    if secs > 100 * 365 * 86_400 * 10_000 {
        return Err(bad_number());
    }
    Ok(Duration::seconds(secs))
}

/// The fallback lifetime.
pub fn fallback() -> Duration {
    Duration::days(FALLBACK_DAYS)
}

/// `t + d`, or `None` when the result leaves chrono's (and ECS's) date range.
pub fn add(t: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    t.checked_add_signed(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_duration("5h"), Ok(Duration::hours(5)));
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("10s"), Ok(Duration::seconds(10)));
        assert_eq!(parse_duration("2w"), Ok(Duration::days(14)));
        assert_eq!(parse_duration(" 1d "), Ok(Duration::days(1)));
        assert_eq!(parse_duration("0d"), Ok(Duration::zero()));
    }

    #[test]
    fn bad_units_and_numbers() {
        assert!(matches!(
            parse_duration("10y"),
            Err(DurationError::BadUnit(_))
        ));
        assert!(matches!(parse_duration(""), Err(DurationError::BadUnit(_))));
        assert!(matches!(
            parse_duration("10é"),
            Err(DurationError::BadUnit(_))
        ));
        assert!(matches!(
            parse_duration("d"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("-1d"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1.5d"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("9999999999999w"),
            Err(DurationError::BadNumber(_))
        ));
    }

    #[test]
    fn errors_name_the_value() {
        let e = parse_duration("10y").unwrap_err().to_string();
        assert!(e.contains("`10y`"), "{e}");
    }
}
