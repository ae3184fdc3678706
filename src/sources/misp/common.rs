//! What both MISP data sets do to one attribute: reading MISP's numbers and times, the
//! indicator fields from the type table, tags and TLP, expiration and identity.
//!
//! The data-set files (`attribute.rs`, `event.rs`) lay out the document; the steps here
//! work on the laid-out document by ECS path.

use chrono::{DateTime, Duration, Utc};
use std::borrow::Cow;

use crate::json::{Value, same_name};

use super::types::{self, Outcome};
use crate::dates;
use crate::doc::Path;
use crate::ecs::{ip, url};
use crate::expiration::{self, DurationError};
use crate::{Ctx, Doc};

pub const ATTR_TYPE: &str = "misp.attribute.type";
pub const ATTR_VALUE: &str = "misp.attribute.value";
pub const DECAY_SCORE: &str = "misp.attribute.decay_score";
pub const DECAYED: &str = "misp.attribute.decayed";
pub const DECAYED_AT: &str = "misp.attribute.decayed_at";
pub const INDICATOR: &str = "threat.indicator";
pub const INDICATOR_TYPE: &str = "threat.indicator.type";

/// Longest raw value quoted in an error message, in characters.
const QUOTE_MAX: usize = 200;

/// The constant event fields of every MISP document.
pub fn start<'v>(d: &mut Doc<'v>) {
    d.enrichment();
    d.set("threat.indicator.provider", "misp");
}

/// A raw value as quoted in an error message: strings as they are, other JSON as JSON,
/// cut at `QUOTE_MAX` characters.
pub fn quote<'v>(v: &Value<'v>) -> String {
    let s = match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    };
    cut(&s)
}

fn cut(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(QUOTE_MAX).collect();
    out.push('…');
    out
}

/// A scalar as text: strings, and numbers written as JSON writes them.
pub fn text<'v>(v: &Value<'v>) -> Option<Cow<'v, str>> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// Elasticsearch's `UNIX` date format: epoch seconds, a string (`"1617875568"`, a fraction
/// allowed) or a number.
pub fn epoch_seconds<'v>(v: &Value<'v>) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            let digits = int.strip_prefix('-').unwrap_or(int);
            if digits.is_empty()
                || digits.len() > 12
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || !frac.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let secs: i64 = int.parse().ok()?;
            let mut nanos: i64 = 0;
            for (i, b) in frac.bytes().take(9).enumerate() {
                nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
            }
            let nanos = if secs < 0 || int.starts_with('-') {
                -nanos
            } else {
                nanos
            };
            let whole = DateTime::from_timestamp(secs, 0)?;
            if nanos == 0 {
                // whole seconds (MISP's own form): nothing to add
                return Some(whole);
            }
            whole.checked_add_signed(Duration::nanoseconds(nanos))
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return dates::from_epoch_seconds(i);
            }
            let f = n.as_f64()?;
            if !f.is_finite() || f.abs() > 1e12 {
                return None;
            }
            let ms = (f * 1000.0).floor() as i64;
            DateTime::from_timestamp_millis(ms)
        }
        _ => None,
    }
}

/// MISP's `first_seen` / `last_seen`: ISO 8601 (what MISP serves), or epoch digits whose
/// count says the unit — up to 11 seconds, 12–14 milliseconds, 15–17 microseconds (the
/// openapi form), 18–19 nanoseconds — as a string or a number; a decimal is seconds.
pub fn seen_time<'v>(v: &Value<'v>) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                let n: i64 = t.parse().ok()?;
                return by_digits(n, digits.len());
            }
            if t.contains('.') && !t.contains('-') && !t.contains(':') {
                return epoch_seconds(v);
            }
            dates::parse_iso(t)
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let len = i.unsigned_abs().to_string().len();
                return by_digits(i, len);
            }
            epoch_seconds(v)
        }
        _ => None,
    }
}

fn by_digits(n: i64, len: usize) -> Option<DateTime<Utc>> {
    match len {
        0..=11 => dates::from_epoch_seconds(n),
        12..=14 => DateTime::from_timestamp_millis(n),
        15..=17 => dates::from_epoch_micros(n),
        18..=19 => Some(DateTime::from_timestamp_nanos(n)),
        _ => None,
    }
}

/// A `long` as Elasticsearch's `convert` makes one: an integer, a string of one, or a
/// whole float.
pub fn long<'v>(v: &Value<'v>) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Rewrites the epoch-seconds field at `path` as an ECS date. A value that is not one is
/// removed (it would not index as a date) and reported.
pub fn date_in_place<'v>(d: &mut Doc<'v>, path: &str) -> Option<DateTime<Utc>> {
    let slot = d.get_mut(path)?;
    match date_value(slot) {
        Ok(t) => t,
        Err(()) => {
            let shown = quote(slot);
            d.remove(path);
            d.error(format!("cannot parse `{path}` as epoch seconds: `{shown}`"));
            None
        }
    }
}

/// An epoch-seconds value rewritten as an ECS date in place ([`date_in_place`]):
/// `Ok(None)` for null, `Err` (left as it is) for what is not one.
pub(crate) fn date_value(slot: &mut Value<'_>) -> Result<Option<DateTime<Utc>>, ()> {
    if slot.is_null() {
        return Ok(None);
    }
    let t = epoch_seconds(slot).ok_or(())?;
    *slot = Value::from(dates::fmt_millis(t));
    Ok(Some(t))
}

/// Converts the field at `path` to a long in place; a value that is not one is removed
/// and reported.
pub fn long_in_place<'v>(d: &mut Doc<'v>, path: &str) {
    let Some(slot) = d.get_mut(path) else {
        return;
    };
    if long_value(slot).is_err() {
        let shown = quote(slot);
        d.remove(path);
        d.error(format!("cannot parse `{path}` as a long: `{shown}`"));
    }
}

/// A value converted to a long in place ([`long_in_place`]): null stays; `Err` (left as
/// it is) for what is not one.
pub(crate) fn long_value(slot: &mut Value<'_>) -> Result<(), ()> {
    if !slot.is_null() {
        *slot = Value::from(long(slot).ok_or(())?);
    }
    Ok(())
}

/// Moves a string field to `to` (Elastic's `rename`); other values stay where they are.
pub fn rename<'v>(d: &mut Doc<'v>, from: &str, to: &'static str) {
    if let Some(Value::String(_)) = d.get(from)
        && let Some(v) = d.remove(from)
    {
        d.set(to, v);
    }
}

/// `first_seen` / `last_seen` of `misp.attribute` at `path`: parsed; written to `target`
/// (`threat.indicator.<name>`) and, when `keep` is set, back in place. An unreadable value
/// is removed and reported. Returns the time.
pub fn seen<'v>(
    d: &mut Doc<'v>,
    path: &'static str,
    target: &'static str,
    keep: bool,
) -> Option<DateTime<Utc>> {
    let v = d.remove(path)?;
    if v.is_null() {
        return None;
    }
    match seen_time(&v) {
        Some(t) => {
            let s = dates::fmt_millis(t);
            if keep {
                d.set(path, s.clone());
            }
            d.set(target, s);
            Some(t)
        }
        None => {
            d.error(format!("cannot parse `{path}` as a date: `{}`", quote(&v)));
            None
        }
    }
}

/// `threat.indicator.scanner_stats` from `misp.event.analysis` (as Elastic does), which
/// is then removed.
pub fn scanner_stats<'v>(d: &mut Doc<'v>) {
    let Some(v) = d.remove("misp.event.analysis") else {
        return;
    };
    if v.is_null() {
        return;
    }
    match long(&v) {
        Some(n) => d.set("threat.indicator.scanner_stats", n),
        None => d.error(format!(
            "cannot parse `misp.event.analysis` as a long: `{}`",
            quote(&v)
        )),
    }
}

/// `user.email` and `user.roles` from `misp.event.event_creator_email`.
pub fn creator<'v>(d: &mut Doc<'v>) {
    rename(d, "misp.event.event_creator_email", "user.email");
    if d.get_str("user.email").is_some_and(|s| !s.is_empty()) {
        d.push("user.roles", "reporting_user");
    }
}

/// MISP tags: their cleaned names (`\` and `"` deleted) become document tags — without
/// repeats when `unique` — and `tlp:` tags (any case) `threat.indicator.marking.tlp`.
pub fn tags<'v>(d: &mut Doc<'v>, tags: &Value<'v>, unique: bool) {
    match tag_names(tags, unique) {
        Ok((names, tlp)) => {
            for name in names {
                d.tag(name);
            }
            if !tlp.is_empty() {
                d.set("threat.indicator.marking.tlp", tlp);
            }
        }
        Err(message) => d.error(message),
    }
}

/// The document tags of MISP tags `tags` and their TLP levels ([`tags`]); `Err` with the
/// message for a value that is not a list of tags.
#[allow(clippy::type_complexity)]
pub fn tag_names<'v>(
    tags: &Value<'v>,
    unique: bool,
) -> Result<(Vec<Cow<'v, str>>, Vec<String>), String> {
    let items: Vec<&Value> = match tags {
        Value::Array(a) => a.iter().collect(),
        // A PHP list with holes arrives as an object with numeric keys.
        Value::Object(m) => m.values().collect(),
        Value::Null => return Ok((Vec::new(), Vec::new())),
        other => {
            return Err(format!(
                "`misp.tag` is not a list of tags: `{}`",
                quote(other)
            ));
        }
    };
    let mut tlp: Vec<String> = Vec::new();
    let mut names: Vec<Cow<'v, str>> = Vec::with_capacity(items.len());
    for item in items {
        let name = match item {
            Value::Object(m) => m.get("name").and_then(text),
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        let Some(name) = name else { continue };
        let clean: Cow<'v, str> = if name.contains(['\\', '"']) {
            // the pieces between them, copied whole
            Cow::Owned(name.split(['\\', '"']).collect())
        } else {
            name
        };
        if clean.is_empty() {
            continue;
        }
        if clean
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("tlp:"))
        {
            let level = clean
                .get(4..)
                .unwrap_or("")
                .replace("tlp:", "")
                .to_uppercase();
            if !level.is_empty() && !tlp.contains(&level) {
                tlp.push(level);
            }
        }
        // compared in place
        if unique && names.iter().any(|t| same_name(t, &clean)) {
            continue;
        }
        names.push(clean);
    }
    Ok((names, tlp))
}

/// Sets `threat.indicator.type` and the indicator fields from `misp.attribute.type` and
/// `.value` by the type table. `misp.attribute.value` is removed only when the value went
/// whole into indicator fields; otherwise it stays, so no value is lost.
pub fn indicator<'v>(d: &mut Doc<'v>) {
    let t = match d.get(ATTR_TYPE) {
        None | Some(Value::Null) => return,
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            let msg = format!("`{ATTR_TYPE}` is not a string: `{}`", quote(other));
            d.error(msg);
            return;
        }
    };
    let value = match d.get(ATTR_VALUE) {
        None | Some(Value::Null) => return,
        Some(v) => match text(v) {
            Some(s) => s,
            None => {
                let msg = format!(
                    "`{ATTR_VALUE}` of type `{t}` is not a string: `{}`",
                    quote(v)
                );
                d.error(msg);
                return;
            }
        },
    };
    if indicator_fields(&t, value, d) {
        d.remove(ATTR_VALUE);
    }
}

/// Where an attribute's indicator fields go: its document (the general path), or the
/// fields the direct path writes.
pub trait Sink<'v> {
    /// Sets the field at `path`.
    fn set<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>);
    /// Sets the fields of the object at `parent`.
    fn set_under(
        &mut self,
        parent: &'static str,
        fields: impl IntoIterator<Item = (&'static str, Value<'v>)>,
    );
    /// Records an error.
    fn error(&mut self, message: String);
}

impl<'v> Sink<'v> for Doc<'v> {
    fn set<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>) {
        Doc::set(self, path, v);
    }

    fn set_under(
        &mut self,
        parent: &'static str,
        fields: impl IntoIterator<Item = (&'static str, Value<'v>)>,
    ) {
        Doc::set_under(self, parent, fields);
    }

    fn error(&mut self, message: String) {
        Doc::error(self, message);
    }
}

/// `threat.indicator.type` and the indicator fields of an attribute of type `t` with
/// the value `value`, by the type table, into `d`; whether the value went whole into
/// indicator fields (and so leaves `misp.attribute.value`).
pub fn indicator_fields<'v>(t: &str, value: Cow<'v, str>, d: &mut impl Sink<'v>) -> bool {
    let outcome = types::outcome(t);
    let hash_key = match outcome {
        Outcome::FilenameHash(h) => Some(h),
        Outcome::Typed("file") => types::unknown_filename_hash(t),
        _ => None,
    };
    if let Some(h) = hash_key {
        return filename_hash(d, t, value, h);
    }
    if outcome == Outcome::Unmapped {
        return false;
    }
    match outcome {
        Outcome::Hash => {
            d.set(INDICATOR_TYPE, "file");
            d.set(&[INDICATOR, ".file.hash.", t].concat(), value);
            true
        }
        Outcome::FileName => {
            d.set(INDICATOR_TYPE, "file");
            d.set("threat.indicator.file.name", value);
            true
        }
        Outcome::Url => {
            d.set(INDICATOR_TYPE, "url");
            match url::parse(&value) {
                Ok(p) => d.set_under("threat.indicator.url", url::fields(&value, p)),
                // Relative or malformed: the value is still the indicator, as written.
                Err(_) => d.set("threat.indicator.url.original", value),
            }
            true
        }
        Outcome::RegKey => {
            d.set(INDICATOR_TYPE, "windows-registry-key");
            d.set("threat.indicator.registry.key", value);
            true
        }
        Outcome::RegKeyValue => {
            d.set(INDICATOR_TYPE, "windows-registry-key");
            match split_once(&value, '|') {
                Some((k, v)) => {
                    d.set("threat.indicator.registry.key", k);
                    d.set("threat.indicator.registry.value", v);
                }
                None => d.set("threat.indicator.registry.key", value),
            }
            true
        }
        Outcome::AsNumber => {
            d.set(INDICATOR_TYPE, "autonomous-system");
            match as_number(&value) {
                Some(n) => {
                    d.set("threat.indicator.as.number", n);
                    true
                }
                None => {
                    d.error(format!(
                        "cannot parse `{ATTR_VALUE}` of type `AS` as an autonomous system number: `{}`",
                        cut(&value)
                    ));
                    false
                }
            }
        }
        Outcome::Domain => {
            d.set(INDICATOR_TYPE, "domain-name");
            d.set("threat.indicator.url.domain", value);
            true
        }
        Outcome::DomainIp => {
            d.set(INDICATOR_TYPE, "domain-name");
            let (host, addr) =
                split_once(&value, '|').unwrap_or_else(|| (value.clone(), Cow::Borrowed("")));
            d.set("threat.indicator.url.domain", host);
            match ip::parse(addr.trim()) {
                Some(a) => {
                    d.set("threat.indicator.ip", a.to_string());
                    true
                }
                None => {
                    d.error(split_error(t, &value, "a domain and an ip address"));
                    false
                }
            }
        }
        Outcome::HostnamePort => {
            d.set(INDICATOR_TYPE, "domain-name");
            let (host, port_text) =
                split_once(&value, '|').unwrap_or_else(|| (value.clone(), Cow::Borrowed("")));
            d.set("threat.indicator.url.domain", host);
            match port(&port_text) {
                Some(p) => {
                    d.set("threat.indicator.port", p);
                    true
                }
                None => {
                    d.error(split_error(t, &value, "a host name and a port"));
                    false
                }
            }
        }
        Outcome::Ip => match ip::parse(value.trim()) {
            Some(a) => {
                d.set(
                    INDICATOR_TYPE,
                    if a.is_ipv6() {
                        "ipv6-addr"
                    } else {
                        "ipv4-addr"
                    },
                );
                d.set("threat.indicator.ip", a.to_string());
                true
            }
            None => match cidr(value.trim()) {
                // A range is not an `ip` value: typed, kept in misp.attribute.value.
                Some(v6) => {
                    d.set(INDICATOR_TYPE, if v6 { "ipv6-addr" } else { "ipv4-addr" });
                    false
                }
                None => {
                    d.error(format!(
                        "cannot parse `{ATTR_VALUE}` of type `{t}` as an ip address: `{}`",
                        cut(&value)
                    ));
                    false
                }
            },
        },
        Outcome::IpPort => {
            let (addr, port_text) =
                split_once(&value, '|').unwrap_or_else(|| (value.clone(), Cow::Borrowed("")));
            match (ip::parse(addr.trim()), port(&port_text)) {
                (Some(a), Some(p)) => {
                    d.set(
                        INDICATOR_TYPE,
                        if a.is_ipv6() {
                            "ipv6-addr"
                        } else {
                            "ipv4-addr"
                        },
                    );
                    d.set("threat.indicator.ip", a.to_string());
                    d.set("threat.indicator.port", p);
                    true
                }
                _ => {
                    d.error(split_error(t, &value, "an ip address and a port"));
                    false
                }
            }
        }
        Outcome::EmailAddress => {
            d.set(INDICATOR_TYPE, "email-addr");
            d.set("threat.indicator.email.address", value);
            true
        }
        Outcome::EmailSubject => {
            d.set(INDICATOR_TYPE, "email-addr");
            d.set("threat.indicator.email.subject", value);
            true
        }
        Outcome::Mac => {
            d.set(INDICATOR_TYPE, "mac-addr");
            d.set("threat.indicator.mac", value);
            true
        }
        Outcome::MimeType => {
            d.set(INDICATOR_TYPE, "artifact");
            d.set("threat.indicator.file.mime_type", value);
            true
        }
        Outcome::Port => {
            d.set(INDICATOR_TYPE, "port");
            match port(&value) {
                Some(p) => {
                    d.set("threat.indicator.port", p);
                    true
                }
                None => {
                    d.error(format!(
                        "cannot parse `{ATTR_VALUE}` of type `port` as a port: `{}`",
                        cut(&value)
                    ));
                    false
                }
            }
        }
        Outcome::Typed(indicator_type) => {
            d.set(INDICATOR_TYPE, indicator_type);
            false
        }
        Outcome::FilenameHash(_) | Outcome::Unmapped => false,
    }
}

/// `value` cut at the first `sep`, each part borrowed from the record when `value` is.
fn split_once<'v>(value: &Cow<'v, str>, sep: char) -> Option<(Cow<'v, str>, Cow<'v, str>)> {
    match value {
        Cow::Borrowed(s) => s.split_once(sep).map(|(a, b)| (a.into(), b.into())),
        Cow::Owned(s) => s
            .split_once(sep)
            .map(|(a, b)| (a.to_string().into(), b.to_string().into())),
    }
}

/// `<name>|<hash>` into `file.name` and `file.hash.<key>`; false (value kept, error
/// recorded) when there is no `|`.
fn filename_hash<'v>(d: &mut impl Sink<'v>, t: &str, value: Cow<'v, str>, key: &str) -> bool {
    d.set(INDICATOR_TYPE, "file");
    match split_once(&value, '|') {
        Some((name, hash)) => {
            d.set("threat.indicator.file.name", name);
            d.set(&[INDICATOR, ".file.hash.", key].concat(), hash);
            true
        }
        None => {
            d.error(split_error(t, &value, "a file name and a hash"));
            false
        }
    }
}

fn split_error(t: &str, value: &str, what: &str) -> String {
    format!(
        "cannot split `{ATTR_VALUE}` of type `{t}` into {what} at `|`: `{}`",
        cut(value)
    )
}

/// `174`, `AS174`, `as 174` or asdot `1.10` (= 65546), within 32 bits.
pub fn as_number(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = if t.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("as")) {
        t.get(2..)?.trim_start()
    } else {
        t
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let n: u64 = match t.split_once('.') {
        None => t.parse().ok()?,
        Some((hi, lo)) => {
            let hi: u64 = hi.parse().ok()?;
            let lo: u64 = lo.parse().ok()?;
            if hi > 65_535 || lo > 65_535 {
                return None;
            }
            hi * 65_536 + lo
        }
    };
    (n <= u64::from(u32::MAX)).then_some(n as i64)
}

/// A TCP/UDP port, 0–65535.
pub fn port(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u16>().ok().map(i64::from)
}

/// `Some(is_v6)` when `text` is an address with a prefix length (`10.0.0.0/8`).
fn cidr(text: &str) -> Option<bool> {
    let (addr, len) = text.split_once('/')?;
    let a = ip::parse(addr)?;
    let len: u8 = len.parse().ok()?;
    let max = if a.is_ipv6() { 128 } else { 32 };
    (len <= max).then_some(a.is_ipv6())
}

/// The times the expiry is counted from.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    /// The attribute's `timestamp` (last change).
    pub timestamp: Option<DateTime<Utc>>,
    /// The attribute's `last_seen`.
    pub last_seen: Option<DateTime<Utc>>,
    /// Used when neither is known: the event's `timestamp`.
    pub event_timestamp: Option<DateTime<Utc>>,
}

/// `misp.attribute.decayed` and `misp.attribute.decayed_at` (Elastic's rule, applied to
/// every MISP document):
///
/// 1. a non-empty `decay_score` list: decayed when at least half of the models say so,
///    and then `decayed_at` = now − 2 minutes;
/// 2. otherwise `decayed_at` = max(`timestamp`, `last_seen`) + the expiration duration
///    (the event's timestamp, else now, when the attribute has neither), and `decayed` =
///    `decayed_at` < now.
pub fn expire<'v>(d: &mut Doc<'v>, ctx: &Ctx, seen: Seen) {
    let now = ctx.opts.now;
    if let Some(decayed) = scores_decayed(d.get(DECAY_SCORE)) {
        d.set(DECAYED, decayed);
        if decayed {
            d.set(DECAYED_AT, dates::fmt_millis(decayed_by_scores_at(now)));
            return;
        }
    }
    let lifetime = duration(d, ctx);
    let base = seen.base(now);
    let at = match expiration::add(base, lifetime) {
        Some(at) => at,
        None => {
            d.error(format!(
                "`ioc_expiration_duration` `{}` after `{}` is out of the date range: using default 90 days",
                cut(ctx.duration),
                dates::fmt_millis(base)
            ));
            match expiration::add(base, expiration::fallback()) {
                Some(at) => at,
                None => return,
            }
        }
    };
    d.set(DECAYED_AT, dates::fmt_millis(at));
    d.set(DECAYED, at < now);
}

/// What a non-empty `decay_score` list says: decayed when at least half of the models
/// say so; `None` without one.
pub fn scores_decayed(scores: Option<&Value<'_>>) -> Option<bool> {
    let Some(Value::Array(scores)) = scores else {
        return None;
    };
    if scores.is_empty() {
        return None;
    }
    let n = scores
        .iter()
        .filter(|s| s.get("decayed") == Some(&Value::Bool(true)))
        .count();
    Some(n as f64 >= scores.len() as f64 / 2.0)
}

/// `decayed_at` of an attribute its decay scores call decayed: two minutes before now.
pub fn decayed_by_scores_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_signed(Duration::minutes(2)).unwrap_or(now)
}

impl Seen {
    /// The time the expiry is counted from: the later of the attribute's `timestamp`
    /// and `last_seen`, else the event's timestamp, else `now`.
    pub fn base(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match (self.timestamp, self.last_seen) {
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => self.event_timestamp.unwrap_or(now),
        }
    }
}

/// The expiration duration in effect: the record's `_conf` value (an empty one counts as
/// absent), else the option; an unreadable one is reported and 90 days used.
fn duration<'v>(d: &mut Doc<'v>, ctx: &Ctx) -> Duration {
    let (text, field) = if ctx.duration.trim().is_empty() {
        (
            ctx.opts.ioc_expiration_duration.as_str(),
            "ioc_expiration_duration",
        )
    } else if ctx.duration_from_conf {
        (ctx.duration, "_conf.ioc_expiration_duration")
    } else {
        (ctx.duration, "ioc_expiration_duration")
    };
    match expiration::parse_duration(text) {
        Ok(dur) => dur,
        Err(e) => {
            let why = match e {
                DurationError::BadUnit(_) => "does not end in one of the units d, h, m, s, w",
                DurationError::BadNumber(_) => {
                    "does not start with a whole number of units in range"
                }
            };
            d.error(format!(
                "invalid ioc_expiration_duration: using default 90 days: `{field}` `{}` {why}",
                cut(text)
            ));
            expiration::fallback()
        }
    }
}

/// The IOC key: `misp:<event uuid>:<attribute uuid>`, each part falling back to
/// `id-<id>` when the uuid is missing, and the event part to `-` when unknown.
pub fn key<'v>(
    event_uuid: Option<&Value<'v>>,
    event_id: Option<&Value<'v>>,
    attr_uuid: Option<&Value<'v>>,
    attr_id: Option<&Value<'v>>,
) -> Option<String> {
    let part = |uuid: Option<&Value<'v>>, id: Option<&Value<'v>>| {
        uuid.and_then(text).filter(|s| !s.is_empty()).or_else(|| {
            id.and_then(text)
                .filter(|s| !s.is_empty())
                .map(|i| Cow::Owned(["id-", &i].concat()))
        })
    };
    let ev = part(event_uuid, event_id);
    let at = part(attr_uuid, attr_id);
    match (ev, at) {
        (Some(e), Some(a)) => Some(["misp:", &e, ":", &a].concat()),
        (None, Some(a)) => Some(["misp:-:", &a].concat()),
        (Some(e), None) => Some(["misp:", &e].concat()),
        (None, None) => None,
    }
}

/// `@timestamp` from the epoch-seconds field at `path` (MISP's last-change time), which is
/// left in place; an unreadable value is reported by field and value. Returns the time.
pub fn timestamp_from<'v>(d: &mut Doc<'v>, path: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = d.get(path).filter(|v| !v.is_null()).cloned()?;
    match epoch_seconds(&raw) {
        Some(t) => {
            d.set("@timestamp", crate::dates::fmt_millis(t));
            Some(t)
        }
        None => {
            d.error(format!(
                "cannot parse `{path}` as epoch seconds: `{}`",
                quote(&raw)
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use crate::json::json;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn doc_with(t: &'static str, v: Value<'static>) -> Doc<'static> {
        let mut d = Doc::new();
        d.set(ATTR_TYPE, t);
        d.set(ATTR_VALUE, v);
        indicator(&mut d);
        d
    }

    #[test]
    fn epoch_seconds_forms() {
        let want = at("2021-04-08T09:52:48Z");
        assert_eq!(epoch_seconds(&json!("1617875568")), Some(want));
        assert_eq!(epoch_seconds(&json!(1617875568)), Some(want));
        assert_eq!(epoch_seconds(&json!(" 1617875568 ")), Some(want));
        assert_eq!(
            epoch_seconds(&json!("1617875568.5")),
            Some(at("2021-04-08T09:52:48.5Z"))
        );
        assert_eq!(epoch_seconds(&json!("0")), Some(at("1970-01-01T00:00:00Z")));
        assert_eq!(
            epoch_seconds(&json!(1.5)),
            Some(at("1970-01-01T00:00:01.5Z"))
        );
        for bad in [
            json!("abc"),
            json!(""),
            json!("12a"),
            json!(null),
            json!(true),
            json!("99999999999999999999"),
            json!(1e300),
            json!("-"),
            json!("1.2.3"),
        ] {
            assert_eq!(epoch_seconds(&bad), None, "{bad}");
        }
    }

    #[test]
    fn seen_times_in_every_unit() {
        let want = at("2020-02-18T00:00:00Z");
        for v in [
            json!("1581984000"),
            json!("1581984000000"),
            json!("1581984000000000"),
            json!("1581984000000000000"),
            json!(1581984000),
            json!(1581984000000i64),
            json!(1581984000000000i64),
            json!("2020-02-18T00:00:00.000000+00:00"),
            json!("2020-02-18T01:00:00+01:00"),
            json!("2020-02-18T00:00:00Z"),
            json!("2020-02-18"),
        ] {
            assert_eq!(seen_time(&v), Some(want), "{v}");
        }
        assert_eq!(
            seen_time(&json!("1581984000.25")),
            Some(at("2020-02-18T00:00:00.25Z"))
        );
        for bad in [
            json!("soon"),
            json!("99999999999999999999"),
            json!({}),
            json!(null),
            json!(f64::MAX),
        ] {
            assert_eq!(seen_time(&bad), None, "{bad}");
        }
    }

    #[test]
    fn longs() {
        assert_eq!(long(&json!("5")), Some(5));
        assert_eq!(long(&json!(5)), Some(5));
        assert_eq!(long(&json!(5.0)), Some(5));
        assert_eq!(long(&json!(5.5)), None);
        assert_eq!(long(&json!("x")), None);
        assert_eq!(long(&json!(1e300)), None);
        let mut d = Doc::new();
        d.set("misp.event.distribution", "three");
        long_in_place(&mut d, "misp.event.distribution");
        assert_eq!(d.get("misp.event.distribution"), None);
        assert_eq!(
            d.errors(),
            ["cannot parse `misp.event.distribution` as a long: `three`"]
        );
    }

    #[test]
    fn hashes_and_files() {
        let d = doc_with("sha512/256", json!("ab"));
        assert_eq!(
            d.get("threat.indicator.file.hash.sha512/256"),
            Some(&json!("ab"))
        );
        assert_eq!(d.get(ATTR_VALUE), None);
        let d = doc_with("filename|sha3-256", json!("a.exe|cd"));
        assert_eq!(
            d.tree_at("threat.indicator.file"),
            Some(serde_json::json!({"name": "a.exe", "hash": {"sha3-256": "cd"}}))
        );
        let d = doc_with("malware-sample", json!("x.zip|00ff"));
        assert_eq!(
            d.get("threat.indicator.file.hash.md5"),
            Some(&json!("00ff"))
        );
        let d = doc_with("filename|md5", json!("nohash"));
        assert_eq!(d.get(ATTR_VALUE), Some(&json!("nohash")));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("file"));
        assert!(d.errors()[0].contains("`nohash`"), "{:?}", d.errors());
        let d = doc_with("filename|sha3-999", json!("n|h"));
        assert_eq!(
            d.get("threat.indicator.file.hash.sha3-999"),
            Some(&json!("h"))
        );
        let d = doc_with("filename|we.ird", json!("n|h"));
        assert_eq!(d.get(ATTR_VALUE), Some(&json!("n|h")));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("file"));
        let d = doc_with("filename-pattern", json!("*.exe"));
        assert_eq!(d.get(ATTR_VALUE), Some(&json!("*.exe")));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("file"));
    }

    #[test]
    fn network_values() {
        let d = doc_with("ip-dst", json!("2001:db8::1"));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("ipv6-addr"));
        assert_eq!(d.get_str("threat.indicator.ip"), Some("2001:db8::1"));
        let d = doc_with("ip-src", json!("10.0.0.0/8"));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("ipv4-addr"));
        assert_eq!(d.get_str(ATTR_VALUE), Some("10.0.0.0/8"));
        assert!(d.errors().is_empty());
        let d = doc_with("ip-src", json!("nope"));
        assert_eq!(d.get(INDICATOR_TYPE), None);
        assert_eq!(d.get_str(ATTR_VALUE), Some("nope"));
        assert_eq!(d.errors().len(), 1);
        let d = doc_with("ip-dst|port", json!("2001:db8::1|443"));
        assert_eq!(d.get("threat.indicator.port"), Some(&json!(443)));
        assert_eq!(d.get_str(INDICATOR_TYPE), Some("ipv6-addr"));
        let d = doc_with("ip-dst|port", json!("1.2.3.4|99999"));
        assert_eq!(d.get_str(ATTR_VALUE), Some("1.2.3.4|99999"));
        assert_eq!(d.errors().len(), 1);
        let d = doc_with("domain|ip", json!("x.test|1.2.3.4"));
        assert_eq!(d.get_str("threat.indicator.url.domain"), Some("x.test"));
        assert_eq!(d.get_str("threat.indicator.ip"), Some("1.2.3.4"));
        assert_eq!(d.get(ATTR_VALUE), None);
        let d = doc_with("hostname|port", json!("x.test|8080"));
        assert_eq!(d.get("threat.indicator.port"), Some(&json!(8080)));
        let d = doc_with("AS", json!("AS174"));
        assert_eq!(d.get("threat.indicator.as.number"), Some(&json!(174)));
        let d = doc_with("AS", json!(48031));
        assert_eq!(d.get("threat.indicator.as.number"), Some(&json!(48031)));
        let d = doc_with("AS", json!("asx"));
        assert_eq!(d.get_str(ATTR_VALUE), Some("asx"));
        assert_eq!(d.errors().len(), 1);
        assert_eq!(as_number("1.10"), Some(65546));
        assert_eq!(as_number("4294967296"), None);
        assert_eq!(as_number("-1"), None);
        let d = doc_with("port", json!("8080"));
        assert_eq!(d.get("threat.indicator.port"), Some(&json!(8080)));
    }

    #[test]
    fn kept_values() {
        for t in [
            "mutex",
            "cpe",
            "email-body",
            "x509-fingerprint-sha1",
            "text",
            "email-cc",
        ] {
            let d = doc_with(t, json!("v"));
            assert_eq!(d.get_str(ATTR_VALUE), Some("v"), "{t}");
            assert!(d.errors().is_empty(), "{t}");
        }
        let d = doc_with("regkey|value", json!("HKLM\\Run|evil.exe"));
        assert_eq!(
            d.tree_at("threat.indicator.registry"),
            Some(serde_json::json!({"key": "HKLM\\Run", "value": "evil.exe"}))
        );
        let d = doc_with("md5", json!({"x": 1}));
        assert_eq!(d.get(ATTR_VALUE), Some(&json!({"x": 1})));
        assert_eq!(d.errors().len(), 1);
        let mut d = Doc::new();
        d.set(ATTR_TYPE, 7);
        d.set(ATTR_VALUE, "v");
        indicator(&mut d);
        assert_eq!(d.errors(), ["`misp.attribute.type` is not a string: `7`"]);
    }

    #[test]
    fn tags_and_tlp() {
        let mut d = Doc::new();
        let t = json!([{"name": "tlp:white"}, {"name": "misp-galaxy:x=\"Y\\\""}, {"name": "TLP:amber+strict"}, {"name": "tlp:white"}, {"nope": 1}, 5]);
        tags(&mut d, &t, true);
        assert_eq!(
            d.tags(),
            ["tlp:white", "misp-galaxy:x=Y", "TLP:amber+strict"]
        );
        assert_eq!(
            d.get("threat.indicator.marking.tlp"),
            Some(&json!(["WHITE", "AMBER+STRICT"]))
        );
        let mut d = Doc::new();
        tags(&mut d, &json!([{"name": "a"}, {"name": "a"}]), false);
        assert_eq!(d.tags(), ["a", "a"]);
        let mut d = Doc::new();
        tags(&mut d, &json!("x"), false);
        assert_eq!(d.errors().len(), 1);
    }

    fn ctx_run(duration: &str, from_conf: bool, f: impl FnOnce(&Ctx)) {
        let opts = Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let ctx = Ctx {
            opts: &opts,
            duration,
            duration_from_conf: from_conf,
            preserve: false,
        };
        f(&ctx);
    }

    #[test]
    fn expiry_rules() {
        ctx_run("5d", true, |ctx| {
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2021-04-08T09:52:48Z")),
                    last_seen: Some(at("2020-02-18T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2021-04-13T09:52:48.000Z"));
            assert_eq!(d.get(DECAYED), Some(&json!(true)));
            // last_seen later than timestamp wins; the result is in the future.
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2021-04-08T09:52:48Z")),
                    last_seen: Some(at("2025-12-30T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-01-04T00:00:00.000Z"));
            assert_eq!(d.get(DECAYED), Some(&json!(false)));
            // One model of two says decayed: decayed now.
            let mut d = Doc::new();
            d.set(DECAY_SCORE, json!([{"decayed": true}, {"decayed": false}]));
            expire(&mut d, ctx, Seen::default());
            assert_eq!(d.get_str(DECAYED_AT), Some("2025-12-31T23:58:00.000Z"));
            assert_eq!(d.get(DECAYED), Some(&json!(true)));
            // One of three: the score says no, the duration rule decides.
            let mut d = Doc::new();
            d.set(
                DECAY_SCORE,
                json!([{"decayed": true}, {"decayed": false}, {"decayed": "true"}]),
            );
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2025-12-31T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-01-05T00:00:00.000Z"));
            assert_eq!(d.get(DECAYED), Some(&json!(false)));
            // Nothing known: counted from now.
            let mut d = Doc::new();
            expire(&mut d, ctx, Seen::default());
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-01-06T00:00:00.000Z"));
        });
        ctx_run("10y", true, |ctx| {
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2025-12-01T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-03-01T00:00:00.000Z"));
            assert!(
                d.errors()[0].starts_with("invalid ioc_expiration_duration: using default 90 days")
            );
            assert!(
                d.errors()[0].contains("`_conf.ioc_expiration_duration` `10y`"),
                "{:?}",
                d.errors()
            );
        });
        ctx_run("1.5d", false, |ctx| {
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2025-12-01T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-03-01T00:00:00.000Z"));
            assert_eq!(d.errors().len(), 1);
        });
        ctx_run("", true, |ctx| {
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2025-12-01T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-03-01T00:00:00.000Z"));
            assert!(d.errors().is_empty());
        });
        ctx_run("9999999999999d", true, |ctx| {
            let mut d = Doc::new();
            expire(
                &mut d,
                ctx,
                Seen {
                    timestamp: Some(at("2025-12-01T00:00:00Z")),
                    ..Seen::default()
                },
            );
            assert_eq!(d.get_str(DECAYED_AT), Some("2026-03-01T00:00:00.000Z"));
            assert_eq!(d.errors().len(), 1);
        });
    }

    #[test]
    fn keys() {
        let (e, a) = (json!("E"), json!("A"));
        assert_eq!(
            key(Some(&e), None, Some(&a), None).as_deref(),
            Some("misp:E:A")
        );
        assert_eq!(
            key(None, Some(&json!(7)), None, Some(&json!("9"))).as_deref(),
            Some("misp:id-7:id-9")
        );
        assert_eq!(key(None, None, Some(&a), None).as_deref(), Some("misp:-:A"));
        assert_eq!(key(Some(&e), None, None, None).as_deref(), Some("misp:E"));
        assert_eq!(key(Some(&json!("")), None, None, None), None);
    }
}
