//! What the two ThreatStream data sets share: reading loosely typed vendor values,
//! severity and confidence words, geo and AS fields, ids, expiry arithmetic, fan-out.
//!
//! Vendor fields are read from `json.<field>` (Elastic's name for them, used in every
//! error message). A field that cannot be read stays in `anomali.threatstream` as sent,
//! and the document gets an error naming the field and the value.

use std::borrow::Cow;

use crate::json::{Json, Map, Value};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

use crate::options::SeverityScale;
use crate::{Ctx, Doc, dates, expiration};

/// Longest raw value quoted in an error message, in characters.
const QUOTE_MAX: usize = 200;

/// A vendor value as quoted in error messages: strings as they are, anything else as
/// compact JSON; long values are cut.
pub fn show<'v>(v: &Value<'v>) -> String {
    let s = match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    };
    if s.chars().count() > QUOTE_MAX {
        let cut: String = s.chars().take(QUOTE_MAX).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// `cannot read `json.<field>` as <what>: `<value>``.
pub fn bad<'v>(field: &str, what: &str, v: &Value<'v>) -> String {
    format!("cannot read `json.{field}` as {what}: `{}`", show(v))
}

/// Text of a scalar: strings as they are, numbers and booleans written out. `None` for
/// null, arrays and objects.
pub fn scalar_text<'v>(v: &Value<'v>) -> Option<Cow<'v, str>> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(Cow::Owned(number_text(n))),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A JSON number as an id or code is written: integers in full, integral floats without
/// exponent or fraction (`1e3` → `1000`, as Elastic's `Long.toString((long) x)`), other
/// floats as JSON writes them.
pub fn number_text(n: &serde_json::Number) -> String {
    // integers as `Number` writes them, without its formatter's growing string
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(f) = n.as_f64().filter(|_| n.is_f64())
        && f.is_finite()
        && f.fract() == 0.0
        && f.abs() < 1e21
    {
        return format!("{f:.0}");
    }
    n.to_string()
}

/// A finite number from a JSON number or a numeric string (`"48.85"`).
pub fn number<'v>(v: &Value<'v>) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

/// Takes `field` out of `j` as a non-empty string. A scalar of another type is written
/// out; an array or object is an error and stays in `j`.
pub fn take_text<'v>(j: &mut Map<'v>, d: &mut Doc<'v>, field: &str) -> Option<Cow<'v, str>> {
    let v = j.remove(field)?;
    if let Value::String(s) = v {
        // taken out: moved, not copied
        return Some(s).filter(|s| !s.is_empty());
    }
    match scalar_text(&v) {
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
        None if v.is_null() => None,
        None => {
            d.error(bad(field, "a string", &v));
            j.insert(field.to_string(), v);
            None
        }
    }
}

/// Reads `field` of `j` as a non-empty string without taking it out (errors as
/// [`take_text`], the value stays either way).
pub fn peek_text<'v>(j: &Map<'v>, d: &mut Doc<'v>, field: &str) -> Option<Cow<'v, str>> {
    let v = j.get(field)?;
    match scalar_text(v) {
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
        None if v.is_null() => None,
        None => {
            d.error(bad(field, "a string", v));
            None
        }
    }
}

/// Rewrites `field` of `j` as a string (ids, which Elastic converts to strings). An
/// array or object is an error and is left as it is.
pub fn stringify<'v>(j: &mut Map<'v>, d: &mut Doc<'v>, field: &str) {
    let Some(v) = j.get_mut(field) else { return };
    match v {
        // already a string: left in place
        Value::String(_) | Value::Null => {}
        other => match scalar_text(other) {
            Some(s) => *other = Value::String(s),
            None => d.error(bad(field, "an id", other)),
        },
    }
}

/// The IOC key of an indicator: `<data set>:<id>` from its id (a string by now, see
/// [`stringify`]), else `<data set>:value:<value>`.
pub fn key(dataset: &str, id: Option<&Value<'_>>, value: Option<&str>) -> String {
    match id.and_then(Value::as_str) {
        Some(id) => [dataset, ":", id].concat(),
        None => [dataset, ":value:", value.unwrap_or("")].concat(),
    }
}

/// Trusted circle ids as a list of strings: from a comma-separated string (`",10015,"`
/// → `["10015"]`), a list, or a single number. Empty results remove the field.
pub fn circle_ids<'v>(j: &mut Map<'v>, d: &mut Doc<'v>, field: &str) {
    let Some(v) = j.get_mut(field) else { return };
    let ids: Vec<Value<'v>> = match &*v {
        Value::Array(a) => {
            let (ids, unread) = id_list_items(a);
            for _ in 0..unread {
                d.error(bad(field, "a list of ids", v));
            }
            ids
        }
        other => match scalar_ids(other) {
            Some(ids) => ids,
            None => {
                // left as it is
                d.error(bad(field, "a list of ids", other));
                return;
            }
        },
    };
    if ids.is_empty() {
        j.remove(field);
    } else {
        *v = Value::Array(ids);
    }
}

/// The ids of a list of circle ids, each item's text (empty ones and nulls left out),
/// and how many items were lists or objects, which give none.
pub fn id_list_items<'v>(items: &[Value<'v>]) -> (Vec<Value<'v>>, usize) {
    let (mut ids, mut unread) = (Vec::with_capacity(items.len()), 0);
    for item in items {
        match scalar_text(item) {
            Some(s) if !s.is_empty() => ids.push(Value::from(s)),
            Some(_) => {}
            None if item.is_null() => {}
            None => unread += 1,
        }
    }
    (ids, unread)
}

/// The ids of a circle-id value that is not a list: a comma-separated string's (slices
/// of a string read from the record stay slices of it), a number's, none for `null`;
/// `None` for anything else.
pub fn scalar_ids<'v>(v: &Value<'v>) -> Option<Vec<Value<'v>>> {
    Some(match v {
        Value::String(Cow::Borrowed(s)) => id_list(s).map(Value::from).collect(),
        Value::String(Cow::Owned(s)) => id_list(s).map(|t| Value::from(t.to_string())).collect(),
        Value::Number(n) => vec![Value::from(number_text(n))],
        Value::Null => Vec::new(),
        _ => return None,
    })
}

/// The ids of a comma-separated list.
fn id_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// `event.severity` for ThreatStream's severity words; other words give nothing.
pub fn severity(word: &str, scale: SeverityScale) -> Option<i64> {
    // the words in any case, compared in place (every push has one)
    const RANKS: [(&str, usize); 6] = [
        ("low", 0),
        ("medium", 1),
        ("high", 2),
        ("very-high", 3),
        ("very_high", 3),
        ("veryhigh", 3),
    ];
    let word = word.trim();
    let rank = RANKS
        .iter()
        .find(|(w, _)| word.eq_ignore_ascii_case(w))
        .map(|&(_, rank)| rank)?;
    let values = match scale {
        SeverityScale::Fixture => [3, 5, 7, 9],
        SeverityScale::Detection => [21, 47, 73, 99],
    };
    values.get(rank).copied()
}

/// Sets `event.severity` from the word at `field` (kept in place).
pub fn set_severity<'v>(d: &mut Doc<'v>, v: Option<&Value<'v>>, field: &str, scale: SeverityScale) {
    match v {
        Some(Value::String(s)) => {
            if let Some(n) = severity(s, scale) {
                d.set("event.severity", n);
            }
        }
        None | Some(Value::Null) => {}
        Some(other) => d.error(bad(field, "a severity word", other)),
    }
}

/// `threat.indicator.confidence` for a 0–100 score: ≤ 0 or > 100 is `None`, then
/// < 30 `Low`, < 70 `Medium`, else `High`.
///
/// Elastic's intelligence pipeline uses these half-open ranges; its threatstream pipeline
/// uses closed ones (1–29, 30–69, 70–100), which agree on every integer but leave
/// fractions such as 29.5 or 0.5 without a word. We give those a word too (see
/// `docs/PARITY-anomali.md`).
pub fn confidence_word(score: f64) -> &'static str {
    if score <= 0.0 || score > 100.0 {
        "None"
    } else if score < 30.0 {
        "Low"
    } else if score < 70.0 {
        "Medium"
    } else {
        "High"
    }
}

/// Sets `threat.indicator.confidence` from `field` of `j` (kept in place).
pub fn set_confidence<'v>(d: &mut Doc<'v>, j: &Map<'v>, field: &str) {
    let Some(v) = j.get(field).filter(|v| !v.is_null()) else {
        return;
    };
    match number(v) {
        Some(n) => d.set("threat.indicator.confidence", confidence_word(n)),
        None => d.error(bad(field, "a confidence score", v)),
    }
}

/// `threat.indicator.geo.location` from the feed's latitude and longitude, only when both
/// are present and valid; both fields leave `j` unless unreadable.
pub fn set_location<'v>(d: &mut Doc<'v>, j: &mut Map<'v>, lat_field: &str, lon_field: &str) {
    let lat = j.remove(lat_field).filter(|v| !v.is_null());
    let lon = j.remove(lon_field).filter(|v| !v.is_null());
    let mut read = |field: &str, v: Option<Value<'v>>, limit: f64| -> Option<f64> {
        let v = v?;
        match number(&v).filter(|n| n.abs() <= limit) {
            Some(n) => Some(n),
            None => {
                let what = if field == lat_field {
                    "a latitude"
                } else {
                    "a longitude"
                };
                d.error(bad(field, what, &v));
                j.insert(field.to_string(), v);
                None
            }
        }
    };
    let lat = read(lat_field, lat, 90.0);
    let lon = read(lon_field, lon, 180.0);
    if let (Some(lat), Some(lon)) = (lat, lon) {
        d.set("threat.indicator.geo.location.lat", lat);
        d.set("threat.indicator.geo.location.lon", lon);
    }
}

/// `threat.indicator.as.number` from `field` (`"45102"`, `45102`, `"AS45102"`); an empty
/// string is skipped. The field leaves `j` unless unreadable.
pub fn set_asn<'v>(d: &mut Doc<'v>, j: &mut Map<'v>, field: &str) {
    let Some(v) = j.remove(field) else { return };
    match as_number(&v) {
        Ok(Some(n)) => d.set("threat.indicator.as.number", n),
        Ok(None) => {}
        Err(()) => {
            d.error(bad(field, "an as number", &v));
            j.insert(field.to_string(), v);
        }
    }
}

/// An AS number as [`set_asn`] reads it: `None` for `null` or a blank string, `Err`
/// for what is not one.
pub fn as_number(v: &Value<'_>) -> Result<Option<u32>, ()> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => {
            let t = s.trim();
            let t = t
                .strip_prefix("AS")
                .or_else(|| t.strip_prefix("as"))
                .unwrap_or(t);
            t.parse::<u32>().ok()
        }
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    n.map(Some).ok_or(())
}

/// Sets `threat.indicator.ip` and `related.ip` from `field`; an invalid address is an
/// error and stays in `j`. Returns the address text when valid.
pub fn set_ip<'v>(d: &mut Doc<'v>, j: &mut Map<'v>, field: &str) -> Option<Cow<'v, str>> {
    let v = j.remove(field)?;
    match &v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) if crate::ecs::ip::parse(s).is_some() => {
            d.set("threat.indicator.ip", s.clone());
            d.push_unique("related.ip", s.clone());
            Some(s.clone())
        }
        Value::String(s) => {
            d.error(crate::ecs::ip::invalid(&format!("json.{field}"), s));
            j.insert(field.to_string(), v);
            None
        }
        other => {
            d.error(bad(field, "an ip address", other));
            j.insert(field.to_string(), v);
            None
        }
    }
}

/// Reads `field` of `j` as a date; an unreadable value is an error (the value stays).
pub fn peek_date<'v>(j: &Map<'v>, d: &mut Doc<'v>, field: &str) -> Option<DateTime<Utc>> {
    let v = j.get(field).filter(|v| !v.is_null())?;
    match v.as_str().filter(|s| !s.is_empty()) {
        Some(s) => match dates::parse_iso(s) {
            Some(t) => Some(t),
            None => {
                d.error(format!(
                    "cannot parse `json.{field}` as a date: `{}`",
                    show(v)
                ));
                None
            }
        },
        None if v.as_str() == Some("") => None,
        None => {
            d.error(format!(
                "cannot parse `json.{field}` as a date: `{}`",
                show(v)
            ));
            None
        }
    }
}

/// Moves the date at `field` to `target` in `.SSSZ` form; an unreadable value is an
/// error and stays in `j`.
pub fn move_date<'v>(
    d: &mut Doc<'v>,
    j: &mut Map<'v>,
    field: &str,
    target: &'static str,
) -> Option<DateTime<Utc>> {
    let t = peek_date(j, d, field);
    if let Some(t) = t {
        j.remove(field);
        d.set(target, dates::fmt_millis(t));
    } else if j
        .get(field)
        .is_some_and(|v| v.is_null() || v.as_str() == Some(""))
    {
        j.remove(field);
    }
    t
}

/// The expiration duration in effect; a bad one falls back to 90 days and records
/// `message` (Elastic's wording) followed by the reason.
pub fn duration<'v>(ctx: &Ctx, d: &mut Doc<'v>, message: &str) -> Duration {
    match expiration::parse_duration(ctx.duration) {
        Ok(x) => x,
        Err(e) => {
            d.error(format!("{message}: {e}"));
            expiration::fallback()
        }
    }
}

/// The latest expiry we write: ThreatStream's own "never" date.
fn never() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t + d`, kept within four-digit years (ECS dates), ThreatStream's 9999-12-31 at most.
pub fn expiry(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match expiration::add(t, d) {
        Some(x) if x.year() <= 9999 => x,
        _ => never(),
    }
}

/// Whether a `status` / `state` value means the indicator is no longer live: anything
/// but `active` (case and blanks ignored). A missing or empty status is live.
pub fn inactive<'v>(status: Option<&Value<'v>>) -> bool {
    match status {
        Some(Value::String(s)) => {
            let s = s.trim();
            !s.is_empty() && !s.eq_ignore_ascii_case("active")
        }
        _ => false,
    }
}

/// A document for an item that is not an indicator object.
pub fn not_an_object<'v>(what: &str, item: &Value<'v>) -> Doc<'v> {
    let mut d = Doc::new();
    d.error(format!(
        "cannot read {what} as an indicator object: `{}`",
        show(item)
    ));
    d
}

/// Maps each item of a list: objects through `one`, anything else to an error document;
/// every document keeps its own item as `event.original`.
pub fn fan_out<'v>(
    items: Vec<Value<'v>>,
    what: &str,
    ctx: &Ctx,
    out: &mut Vec<Doc<'v>>,
    one: fn(Map<'v>, &Ctx) -> Doc<'v>,
) {
    for (i, item) in items.into_iter().enumerate() {
        let original = item.to_json();
        let mut d = match item {
            Value::Object(j) => one(j, ctx),
            other => not_an_object(&format!("{what}[{i}]"), &other),
        };
        d.original = Some(original);
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;

    #[test]
    fn severity_scales() {
        for (w, f, det) in [
            ("low", 3, 21),
            ("medium", 5, 47),
            ("high", 7, 73),
            ("very-high", 9, 99),
        ] {
            assert_eq!(severity(w, SeverityScale::Fixture), Some(f), "{w}");
            assert_eq!(severity(w, SeverityScale::Detection), Some(det), "{w}");
        }
        assert_eq!(severity("High", SeverityScale::Fixture), Some(7));
        assert_eq!(severity("critical", SeverityScale::Fixture), None);
        assert_eq!(severity("", SeverityScale::Detection), None);
    }

    #[test]
    fn confidence_ranges() {
        {
            for (s, w) in [
                (-1.0, "None"),
                (0.0, "None"),
                (1.0, "Low"),
                (29.0, "Low"),
                (30.0, "Medium"),
                (69.0, "Medium"),
                (70.0, "High"),
                (100.0, "High"),
                (101.0, "None"),
            ] {
                assert_eq!(confidence_word(s), w, "{s}");
            }
        }
        // Elastic's closed ranges leave 29.5 and 0.5 empty; we fill them
        assert_eq!(confidence_word(29.5), "Low");
        assert_eq!(confidence_word(0.5), "Low");
        assert_eq!(confidence_word(69.9), "Medium");
        assert_eq!(confidence_word(100.5), "None");
    }

    #[test]
    fn numbers_and_texts() {
        assert_eq!(number(&json!(48.85)), Some(48.85));
        assert_eq!(number(&json!(" 48.85 ")), Some(48.85));
        for bad in [
            json!("NaN"),
            json!("inf"),
            json!("-Infinity"),
            json!("x"),
            json!(null),
            json!([1]),
            json!(true),
        ] {
            assert_eq!(number(&bad), None, "{bad}");
        }
        assert_eq!(
            scalar_text(&json!(3135167627u64)),
            Some("3135167627".into())
        );
        assert_eq!(scalar_text(&json!(1.0e3)), Some("1000".into()));
        assert_eq!(
            scalar_text(&json!(18446744073709551616.0)),
            Some("18446744073709551616".into())
        );
        assert_eq!(scalar_text(&json!(1.5)), Some("1.5".into()));
        assert_eq!(scalar_text(&json!(1e300)), Some("1e+300".into()));
        assert_eq!(scalar_text(&json!(-7)), Some("-7".into()));
        assert_eq!(scalar_text(&json!({})), None);
        assert_eq!(show(&json!("x".repeat(500))).chars().count(), QUOTE_MAX + 1);
    }

    #[test]
    fn circle_id_shapes() {
        let run = |v: Value<'static>| {
            let mut j = Map::new();
            j.insert("t", v);
            let mut d = Doc::new();
            circle_ids(&mut j, &mut d, "t");
            (j.get("t").cloned(), d.errors().len())
        };
        assert_eq!(run(json!(",10015,")), (Some(json!(["10015"])), 0));
        assert_eq!(
            run(json!("355, 386,461")),
            (Some(json!(["355", "386", "461"])), 0)
        );
        assert_eq!(
            run(json!([10015, "7", null])),
            (Some(json!(["10015", "7"])), 0)
        );
        assert_eq!(run(json!(12)), (Some(json!(["12"])), 0));
        assert_eq!(run(json!(",")), (None, 0));
        // a string read from the record: the same ids, slices of it
        let borrowed = run(Value::String(Cow::Borrowed(" 355,,386 ")));
        assert_eq!(borrowed, (Some(json!(["355", "386"])), 0));
        assert!(matches!(&borrowed.0, Some(Value::Array(a))
            if a.iter().all(|v| matches!(v, Value::String(Cow::Borrowed(_))))));
        assert_eq!(run(json!({"a": 1})), (Some(json!({"a": 1})), 1));
        assert_eq!(run(json!([[1]])).1, 1);
    }

    #[test]
    fn asn_shapes() {
        let run = |v: Value<'static>| {
            let mut j = Map::new();
            j.insert("asn", v);
            let mut d = Doc::new();
            set_asn(&mut d, &mut j, "asn");
            (
                d.get("threat.indicator.as.number").cloned(),
                j.get("asn").cloned(),
                d.errors().to_vec(),
            )
        };
        assert_eq!(run(json!("45102")).0, Some(json!(45102)));
        assert_eq!(run(json!("AS45102")).0, Some(json!(45102)));
        assert_eq!(run(json!(45102)).0, Some(json!(45102)));
        assert_eq!(run(json!("")), (None, None, vec![]));
        let (n, kept, e) = run(json!("n/a"));
        assert_eq!((n, kept), (None, Some(json!("n/a"))));
        assert_eq!(e, vec!["cannot read `json.asn` as an as number: `n/a`"]);
        assert_eq!(run(json!(-1)).2.len(), 1);
        assert_eq!(run(json!(99999999999u64)).2.len(), 1);
    }

    #[test]
    fn location_needs_both_valid() {
        let run = |lat: Value, lon: Value| {
            let mut j = Map::new();
            j.insert("lat", lat);
            j.insert("lon", lon);
            let mut d = Doc::new();
            set_location(&mut d, &mut j, "lat", "lon");
            (
                d.tree_at("threat.indicator.geo.location"),
                j.len(),
                d.errors().len(),
            )
        };
        assert_eq!(
            run(json!(1.5), json!("2.5")),
            (Some(serde_json::json!({"lat": 1.5, "lon": 2.5})), 0, 0)
        );
        assert_eq!(run(json!(1.5), json!(null)), (None, 0, 0));
        assert_eq!(run(json!(91), json!(0)), (None, 1, 1));
        assert_eq!(run(json!("NaN"), json!(0)), (None, 1, 1));
        assert_eq!(run(json!({}), json!([])), (None, 2, 2));
    }

    #[test]
    fn expiry_stays_in_four_digit_years() {
        let t = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            expiry(t, Duration::days(1)),
            Utc.with_ymd_and_hms(2020, 1, 2, 0, 0, 0).unwrap()
        );
        assert_eq!(
            dates::fmt_millis(expiry(t, Duration::days(4_000_000))),
            "9999-12-31T23:59:59.000Z"
        );
        assert_eq!(
            dates::fmt_millis(expiry(DateTime::<Utc>::MAX_UTC, Duration::days(1))),
            "9999-12-31T23:59:59.000Z"
        );
    }

    #[test]
    fn statuses() {
        assert!(!inactive(Some(&json!("active"))));
        assert!(!inactive(Some(&json!(" Active "))));
        assert!(!inactive(None));
        assert!(!inactive(Some(&json!(""))));
        assert!(!inactive(Some(&json!(1))));
        for s in ["inactive", "falsepos", "deleted", "expired"] {
            assert!(inactive(Some(&json!(s))), "{s}");
        }
    }
}
