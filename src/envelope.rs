//! Reading one record: limits, JSON, and the envelope that log shippers put around it.
//!
//! A record arrives either as the vendor's JSON itself, or wrapped the way Elastic's agent
//! and log shippers wrap it: an object whose `message` (or `log`, `event.original`, the
//! `raw_field` option; or `json` holding the parsed object) carries the vendor JSON, with
//! `tags` and `_conf.*` settings beside it.

use std::borrow::Cow;

use crate::json::{Json, Map, Value};

use crate::options::{Limits, Options};

/// Envelope fields that hold the raw vendor text, in the order they are tried (after the
/// `raw_field` option). `log` and `exec` are the keys of Fluent Bit's `tail` and `exec`
/// inputs when no parser is set.
const TEXT_FIELDS: &[&str] = &["message", "log", "exec"];

/// A record after the envelope is taken off.
#[derive(Debug)]
pub struct Record<'a> {
    /// The vendor JSON, read; `None` when the envelope holds it as text, which is then
    /// `original`, still to read ([`body_text`]).
    pub body: Option<Value<'a>>,
    /// The vendor JSON as text, for `event.original` ([`Record::original`]).
    original: Original<'a>,
    /// The envelope field that held the vendor text, as error messages name it.
    text_field: Option<String>,
    /// Tags from the options, then the envelope's `tags`, without repeats.
    pub tags: Vec<String>,
    /// `_conf.ioc_expiration_duration` (or `_conf.ioc_duration_before_deletion`) from the
    /// envelope, which overrides the option.
    pub conf_duration: Option<String>,
    /// `_conf.identity` (`true`/`false`, as a boolean or a string): overrides the option,
    /// for hosts such as Fluent Bit whose filter interface carries no options.
    pub conf_identity: Option<bool>,
}

/// Where a record's `event.original` comes from.
#[derive(Debug)]
enum Original<'a> {
    /// This text: the record's own when that is what it is (no copy), or the envelope's.
    Text(Cow<'a, str>),
    /// The JSON, written again, of a part of this record text (the record without its
    /// BOM): written only when asked for, as most documents never keep it.
    Written(&'a str, Part),
}

/// The part of a record [`Original::Written`] writes.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// The object under `json` (Elastic's inputs write it compact, keys sorted).
    Json,
    /// The record without its `_conf` settings.
    WithoutConf,
}

impl Record<'_> {
    /// The vendor JSON as text, for `event.original`: the record's own text when that is
    /// what it is, the envelope's text, or the JSON written again, as Elastic's inputs
    /// write parsed JSON (compact, keys sorted).
    pub fn original(&self) -> Cow<'_, str> {
        match &self.original {
            Original::Text(t) => Cow::Borrowed(t),
            Original::Written(text, part) => Cow::Owned(written(text, *part)),
        }
    }
}

/// Whether every document of a record surely reads its `event.original`: kept (by the
/// option or the record's tag) or hashed (identity on; a mapping may fingerprint its own
/// values, but not every one does). A text to write again is then written at once from
/// the tree at hand; otherwise only when a document reads it, from the record read again.
fn reads_original(opts: &Options, tags: &[String], conf_identity: Option<bool>) -> bool {
    crate::preserves(opts, tags) || conf_identity.unwrap_or(opts.identity)
}

/// [`Original::Written`]'s text: the record read again (it was read whole before, so it
/// reads the same), the part taken and written.
fn written(text: &str, part: Part) -> String {
    let Ok(Value::Object(mut outer)) = crate::json::from_str(text) else {
        // cannot happen (it was read before); then the text as it is, as a streamed item
        // keeps it, rather than nothing
        return text.to_string();
    };
    match part {
        Part::Json => outer.remove("json").unwrap_or(Value::Null).to_json(),
        Part::WithoutConf => {
            take_conf(&mut outer);
            outer.to_json()
        }
    }
}

/// A record that cannot be read: the message for `error.message`, and the text to keep.
#[derive(Debug)]
pub struct Unreadable {
    /// What is wrong, naming the limit or the position.
    pub message: String,
    /// The record text as received (invalid UTF-8 replaced by U+FFFD).
    pub original: String,
    /// Tags found in an envelope that could be read.
    pub tags: Vec<String>,
}

/// A record as it arrived: bytes, whose UTF-8 is checked when read, or text the caller
/// already holds as a `str` (a WIT `string`, a JS string), which needs no check.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// Bytes as received.
    Bytes(&'a [u8]),
    /// Text known to be UTF-8.
    Text(&'a str),
}

impl<'a> Raw<'a> {
    /// The record's bytes.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            Raw::Bytes(b) => b,
            Raw::Text(t) => t.as_bytes(),
        }
    }

    /// The record as text, if it is UTF-8.
    pub fn text(self) -> Result<&'a str, std::str::Utf8Error> {
        match self {
            Raw::Bytes(b) => std::str::from_utf8(b),
            Raw::Text(t) => Ok(t),
        }
    }
}

impl<'a> From<&'a [u8]> for Raw<'a> {
    fn from(b: &'a [u8]) -> Self {
        Raw::Bytes(b)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Raw<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Raw::Bytes(b)
    }
}

impl<'a> From<&'a str> for Raw<'a> {
    fn from(t: &'a str) -> Self {
        Raw::Text(t)
    }
}

/// Reads `raw` as one record. A UTF-8 byte-order mark before the JSON is skipped when
/// parsing; `event.original` keeps the record as received. When the envelope holds the
/// vendor JSON as text, that text is read by [`body_text`] (the vendor JSON borrows its
/// strings from it, so the record must own it first).
pub fn read<'a>(raw: impl Into<Raw<'a>>, opts: &Options) -> Result<Record<'a>, Box<Unreadable>> {
    let raw = raw.into();
    let fail = |message: String, tags: Vec<String>| {
        Box::new(Unreadable {
            message,
            original: String::from_utf8_lossy(raw.bytes()).into_owned(),
            tags,
        })
    };
    let text = raw.text().map_err(|e| {
        fail(
            format!(
                "record is not valid utf-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
            opts.tags.clone(),
        )
    })?;
    let json = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value =
        parse_limited(json, &opts.limits, "record").map_err(|m| fail(m, opts.tags.clone()))?;
    let Value::Object(mut outer) = value else {
        return Ok(Record {
            body: Some(value),
            original: Original::Text(Cow::Borrowed(text)),
            text_field: None,
            tags: opts.tags.clone(),
            conf_duration: None,
            conf_identity: None,
        });
    };
    let mut tags = opts.tags.clone();
    if plain(&outer, opts) {
        return Ok(Record {
            body: Some(Value::Object(outer)),
            original: Original::Text(Cow::Borrowed(text)),
            text_field: None,
            tags,
            conf_duration: None,
            conf_identity: None,
        });
    }
    let envelope_field = find_envelope(&outer, opts);
    if envelope_field.is_none() {
        // Plain vendor JSON; a shipper may still have put `_conf` settings beside the data
        // (Fluent Bit's `modify` on a record its `http` input parsed). They are settings,
        // not vendor data: `event.original` (and the fingerprint over it) is then the
        // record without them, written as Elastic writes parsed JSON (compact, keys sorted).
        let keys = outer.len();
        let (conf_duration, conf_identity) = take_conf(&mut outer);
        let original = if outer.len() == keys {
            Original::Text(Cow::Borrowed(text))
        } else if reads_original(opts, &tags, conf_identity) {
            Original::Text(Cow::Owned(outer.to_json()))
        } else {
            Original::Written(json, Part::WithoutConf)
        };
        return Ok(Record {
            body: Some(Value::Object(outer)),
            original,
            text_field: None,
            tags,
            conf_duration,
            conf_identity,
        });
    }
    if let Some(t) = outer.remove("tags") {
        add_tags(&mut tags, t);
    }
    let (conf_duration, conf_identity) = take_conf(&mut outer);
    match envelope_field {
        Some(Envelope::Text(key)) => {
            // read by `body_text`, from the record's `original`, which it borrows
            let inner = take_text(&mut outer, &key).unwrap_or_default();
            Ok(Record {
                body: None,
                original: Original::Text(inner),
                text_field: Some(key),
                tags,
                conf_duration,
                conf_identity,
            })
        }
        Some(Envelope::Parsed) => {
            let body = outer.remove("json").unwrap_or(Value::Null);
            let original = if reads_original(opts, &tags, conf_identity) {
                Original::Text(Cow::Owned(body.to_json()))
            } else {
                Original::Written(json, Part::Json)
            };
            Ok(Record {
                body: Some(body),
                original,
                text_field: None,
                tags,
                conf_duration,
                conf_identity,
            })
        }
        None => Err(fail("record envelope could not be read".to_string(), tags)),
    }
}

/// The vendor JSON of a record whose envelope held it as text (`rec.body` is `None`),
/// read from `rec.original`; the message says why it cannot be read. Such a record is
/// then answered as one that cannot be read: its text and tags kept, its `_conf` not
/// applied.
pub fn body_text<'r>(rec: &'r Record<'_>, opts: &Options) -> Result<Value<'r>, String> {
    let key = rec.text_field.as_deref().unwrap_or("message");
    let Original::Text(text) = &rec.original else {
        // a record whose vendor JSON is read already has no text to read
        return Err(format!("`{key}` holds no text"));
    };
    parse_limited(text, &opts.limits, &format!("`{key}`"))
}

enum Envelope {
    /// The vendor JSON is text in this field.
    Text(String),
    /// The vendor JSON is the object under `json`.
    Parsed,
}

/// Whether `outer` is plain vendor JSON: no name an envelope ([`find_envelope`]) or
/// `_conf` settings ([`take_conf`]) would be found under. Most records are; one look at
/// their names tells, where the lookups of each such name scanned them all, one by one.
fn plain(outer: &Map<'_>, opts: &Options) -> bool {
    !outer.keys().any(|k| names_an_envelope(k, opts))
}

/// Whether a record's member named `name` makes it something other than plain vendor
/// JSON: a name an envelope ([`find_envelope`]) or `_conf` settings ([`take_conf`]) are
/// found under, or the `raw_field` option's field (or the object holding it).
pub(crate) fn names_an_envelope(name: &str, opts: &Options) -> bool {
    // told by the first byte for most names
    let envelope = match name.as_bytes().first() {
        Some(b'm' | b'l' | b'e' | b'j') => matches!(
            name,
            "message" | "log" | "exec" | "event.original" | "event" | "json"
        ),
        Some(b'_') => name.starts_with("_conf"),
        _ => false,
    };
    envelope || is_raw_field(name, opts)
}

/// Whether `name` is the `raw_field` option's field, or the object holding it.
pub(crate) fn is_raw_field(name: &str, opts: &Options) -> bool {
    opts.raw_field
        .as_deref()
        .is_some_and(|raw| name == raw || raw.split_once('.').is_some_and(|(head, _)| name == head))
}

fn find_envelope(outer: &Map<'_>, opts: &Options) -> Option<Envelope> {
    if let Some(f) = &opts.raw_field
        && lookup_text(outer, f).is_some()
    {
        return Some(Envelope::Text(f.clone()));
    }
    for f in TEXT_FIELDS {
        if outer.get(f).is_some_and(Value::is_string) {
            return Some(Envelope::Text((*f).to_string()));
        }
    }
    if lookup_text(outer, "event.original").is_some() {
        return Some(Envelope::Text("event.original".to_string()));
    }
    if outer
        .get("json")
        .is_some_and(|v| v.is_object() || v.is_array())
    {
        return Some(Envelope::Parsed);
    }
    None
}

/// A string at a dotted key, either literally (`"event.original": …`) or nested.
fn lookup_text<'a>(outer: &'a Map<'_>, key: &str) -> Option<&'a str> {
    if let Some(Value::String(s)) = outer.get(key) {
        return Some(s);
    }
    let (head, rest) = key.split_once('.')?;
    lookup_text(outer.get(head)?.as_object()?, rest)
}

fn take_text<'a>(outer: &mut Map<'a>, key: &str) -> Option<Cow<'a, str>> {
    if let Some(Value::String(_)) = outer.get(key) {
        return match outer.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
    }
    let (head, rest) = key.split_once('.')?;
    take_text(outer.get_mut(head)?.as_object_mut()?, rest)
}

/// Adds an envelope's `tags` (a list, or a comma-separated string) to `tags`: none
/// empty, none twice.
pub(crate) fn add_tags(tags: &mut Vec<String>, v: Value<'_>) {
    let mut add = |t: String| {
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    };
    match v {
        Value::Array(a) => a.into_iter().for_each(|t| match t {
            Value::String(s) => add(s.into_owned()),
            Value::Null => {}
            other => add(other.to_string()),
        }),
        Value::String(s) => s.split(',').for_each(|t| add(t.trim().to_string())),
        Value::Null => {}
        other => add(other.to_string()),
    }
}

/// Takes `_conf` (an object, or literal `_conf.x` keys as Fluent Bit's `modify` writes
/// them) out of the record and returns the expiration duration and identity switch found.
fn take_conf(outer: &mut Map<'_>) -> (Option<String>, Option<bool>) {
    let mut conf = match outer.remove("_conf") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let dotted: Vec<String> = outer
        .keys()
        .filter(|k| k.starts_with("_conf."))
        .map(str::to_string)
        .collect();
    for k in dotted {
        if let Some(v) = outer.remove(&k) {
            let name = k["_conf.".len()..].to_string();
            if !conf.contains_key(&name) {
                conf.insert(name, v);
            }
        }
    }
    settings(&conf)
}

/// What `_conf` settings (their names without the prefix) say: the IOC duration, if any,
/// and identity on or off, if set.
pub(crate) fn settings(conf: &Map<'_>) -> (Option<String>, Option<bool>) {
    const DURATION_KEYS: [&str; 2] = ["ioc_expiration_duration", "ioc_duration_before_deletion"];
    // A value that is not a string (`5`, `true`) is passed on as its JSON text, so the
    // mapping's duration check reports it instead of the option silently taking over.
    let duration = DURATION_KEYS.iter().find_map(|k| match conf.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.to_string()),
        Some(other) => Some(other.to_string()),
    });
    let identity = match conf.get("identity") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    };
    (duration, identity)
}

/// Parses JSON text within the limits on size, nesting depth and string length, so
/// hostile input cannot exhaust a small guest stack: the reader goes at most
/// `max_depth` + 1 levels deep before it gives up, and any text it gives up on is checked
/// without recursion before `serde_json` sees it.
pub fn parse_limited<'t>(text: &'t str, limits: &Limits, what: &str) -> Result<Value<'t>, String> {
    // A text within the size limits that the reader reads whole within the depth limit
    // is within every limit (no string is longer than the text): the check's pass over
    // it, a cost of its own in the guests, is not needed. Any other text is checked
    // first, so a text over a limit is answered by the limit, not by its JSON.
    if text.len() <= limits.max_input_bytes.min(limits.max_string_bytes)
        && let Some(v) = crate::json::read_within(text, limits.max_depth)
    {
        return Ok(v);
    }
    check_limits(text, limits, what)?;
    crate::json::from_str(text).map_err(|e| {
        let snippet: String = text.chars().take(64).collect();
        format!("cannot parse {what} as json: {e}: `{snippet}`")
    })
}

/// Checks size, nesting depth and string length, without parsing.
pub fn check_limits(text: &str, limits: &Limits, what: &str) -> Result<(), String> {
    if text.len() > limits.max_input_bytes {
        return Err(format!(
            "{what} is {} bytes, over the limit max_input_bytes = {}; {}",
            text.len(),
            limits.max_input_bytes,
            limits.how_to_raise("max_input_bytes")
        ));
    }
    check_shape(text.as_bytes(), limits).map_err(|m| format!("{what} {m}"))
}

/// The text of a record within the limits, as received and without its byte-order mark;
/// `None` when [`read`] would find anything to say about it (not UTF-8, over a limit).
/// Used to split whole responses without reading them into one tree.
pub fn checked_text<'a>(raw: impl Into<Raw<'a>>, limits: &Limits) -> Option<(&'a str, &'a str)> {
    let text = raw.into().text().ok()?;
    let json = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_limits(json, limits, "record").ok()?;
    Some((text, json))
}

fn check_shape(b: &[u8], limits: &Limits) -> Result<(), String> {
    if within_at_a_glance(b, limits) {
        return Ok(());
    }
    walk_shape(b, limits)
}

/// Whether `b` is within the depth and string limits without walking it, as most records
/// are: no string is longer than the text, and nothing nests deeper than the text has `{`
/// and `[` (counted inside strings too, so never fewer). `false` says only "walk it".
fn within_at_a_glance(b: &[u8], limits: &Limits) -> bool {
    b.len() <= limits.max_string_bytes
        && memchr::memchr2_iter(b'{', b'[', b)
            .take(limits.max_depth.saturating_add(1))
            .count()
            <= limits.max_depth
}

/// The depth and string limits, checked by walking `b` (strings skipped with memchr).
fn walk_shape(b: &[u8], limits: &Limits) -> Result<(), String> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                // skip the string with memchr: find its closing quote, stepping over escapes
                let start = i + 1;
                let mut j = start;
                loop {
                    match memchr::memchr2(b'"', b'\\', &b[j..]) {
                        Some(k) if b[j + k] == b'\\' => j = (j + k + 2).min(b.len()),
                        Some(k) => {
                            j += k;
                            break;
                        }
                        None => {
                            j = b.len();
                            break;
                        }
                    }
                }
                let len = j.min(b.len()) - start;
                if len > limits.max_string_bytes {
                    return Err(format!(
                        "holds a string of {len} bytes at offset {start}, over the limit max_string_bytes = {}; {}",
                        limits.max_string_bytes,
                        limits.how_to_raise("max_string_bytes")
                    ));
                }
                i = j + 1;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(format!(
                        "nests deeper than the limit max_depth = {} at offset {i}; {}",
                        limits.max_depth,
                        limits.how_to_raise("max_depth")
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;
    use chrono::{TimeZone, Utc};

    /// A record told plain has nothing an envelope or `_conf` settings would be found
    /// under: every set of up to three names from near misses and hits, with values of
    /// every kind the lookups tell apart, under every kind of `raw_field`.
    #[test]
    fn plain_records_have_no_envelope_and_no_settings() {
        let names = [
            "message",
            "messages",
            "log",
            "exec",
            "json",
            "jsonx",
            "event",
            "Event",
            "event.original",
            "event.origina",
            "_conf",
            "_conf.identity",
            "_con",
            "a",
            "a.b",
            "b",
        ];
        let values = [
            json!("text"),
            json!({"original": "text", "b": "x"}),
            json!({"identity": true}),
            json!([1]),
            json!(null),
        ];
        let mut told_plain = 0;
        for raw_field in [None, Some("a"), Some("a.b"), Some("event.original")] {
            let mut o = opts();
            o.raw_field = raw_field.map(str::to_string);
            for i in 0..names.len() {
                for j in i..names.len() {
                    for k in j..names.len() {
                        for v in &values {
                            let outer: Map = [names[i], names[j], names[k]]
                                .into_iter()
                                .map(|n| (n, v.clone()))
                                .collect();
                            if !plain(&outer, &o) {
                                continue;
                            }
                            told_plain += 1;
                            assert!(
                                find_envelope(&outer, &o).is_none(),
                                "{outer:?} {raw_field:?}"
                            );
                            let mut after = outer.clone();
                            assert_eq!(take_conf(&mut after), (None, None), "{outer:?}");
                            assert_eq!(after, outer);
                        }
                    }
                }
            }
        }
        assert!(told_plain > 1000, "{told_plain}");
    }

    /// The record's vendor JSON, read from the envelope's text when it held it so.
    fn body<'r>(r: &'r Record<'_>) -> Value<'r> {
        match &r.body {
            Some(b) => b.clone(),
            None => body_text(r, &opts()).unwrap(),
        }
    }

    fn opts() -> Options {
        Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    #[test]
    fn plain_vendor_json() {
        let r = read(
            br#"{"a":1,"_conf":{"ioc_expiration_duration":"5d"}}"#,
            &opts(),
        )
        .unwrap();
        assert_eq!(body(&r), json!({"a": 1}));
        assert_eq!(r.conf_duration.as_deref(), Some("5d"));
        assert!(r.tags.is_empty());
        // the settings are not vendor data: event.original is the record without them
        assert_eq!(r.original(), r#"{"a":1}"#);
        // as Fluent Bit's `modify` writes them, beside a record its http input parsed
        let raw =
            br#"{"z": 2, "a": 1, "_conf.identity": "true", "_conf.ioc_expiration_duration": "5d"}"#;
        let r = read(raw, &opts()).unwrap();
        assert_eq!(r.original(), r#"{"a":1,"z":2}"#);
        assert_eq!(r.conf_identity, Some(true));
        // without settings the text is kept as received
        let raw = br#"{"z": 2, "a": 1}"#;
        assert_eq!(
            read(raw, &opts()).unwrap().original(),
            r#"{"z": 2, "a": 1}"#
        );
    }

    #[test]
    fn conf_duration_of_another_type_is_passed_on_as_text() {
        let r = read(br#"{"a":1,"_conf":{"ioc_expiration_duration":5}}"#, &opts()).unwrap();
        assert_eq!(r.conf_duration.as_deref(), Some("5"));
        let r = read(
            br#"{"a":1,"_conf":{"ioc_expiration_duration":null}}"#,
            &opts(),
        )
        .unwrap();
        assert_eq!(r.conf_duration, None);
    }

    #[test]
    fn message_envelope_with_tags_and_conf() {
        let raw = br#"{"message":"{\"b\":2}","tags":["x","preserve_original_event","x"],"_conf":{"ioc_duration_before_deletion":"85d"}}"#;
        let mut o = opts();
        o.tags = vec!["forwarded".into()];
        let r = read(raw, &o).unwrap();
        assert_eq!(body(&r), json!({"b": 2}));
        assert_eq!(r.original(), r#"{"b":2}"#);
        assert_eq!(r.tags, vec!["forwarded", "x", "preserve_original_event"]);
        assert_eq!(r.conf_duration.as_deref(), Some("85d"));
    }

    #[test]
    fn other_envelopes() {
        let r = read(br#"{"json":{"z":1,"a":2}}"#, &opts()).unwrap();
        assert_eq!(r.original(), r#"{"a":2,"z":1}"#);
        let r = read(br#"{"event":{"original":"[1]"}}"#, &opts()).unwrap();
        assert_eq!(body(&r), json!([1]));
        let r = read(
            br#"{"log":"{}","_conf.ioc_expiration_duration":"1h","tags":"a, b"}"#,
            &opts(),
        )
        .unwrap();
        assert_eq!(r.conf_duration.as_deref(), Some("1h"));
        assert_eq!(r.tags, vec!["a", "b"]);
        let r = read(br#"{"_conf.identity":"true","x":1}"#, &opts()).unwrap();
        assert_eq!(r.conf_identity, Some(true));
        assert_eq!(body(&r), json!({"x": 1}));
        let mut o = opts();
        o.raw_field = Some("payload.text".into());
        let r = read(br#"{"payload":{"text":"{\"q\":1}"}}"#, &o).unwrap();
        assert_eq!(body(&r), json!({"q": 1}));
    }

    #[test]
    fn unreadable_records_keep_their_text() {
        let e = read(b"{\"a\":", &opts()).unwrap_err();
        assert!(
            e.message.starts_with("cannot parse record as json"),
            "{}",
            e.message
        );
        assert_eq!(e.original, "{\"a\":");
        // an envelope's text is read after the envelope: its record keeps text and tags
        let r = read(br#"{"message":"{nope","tags":["t"]}"#, &opts()).unwrap();
        let m = body_text(&r, &opts()).unwrap_err();
        assert!(m.starts_with("cannot parse `message` as json"), "{m}");
        assert_eq!(r.original(), "{nope");
        assert_eq!(r.tags, vec!["t"]);
        let e = read(b"{\"a\":\"\xff\"}", &opts()).unwrap_err();
        assert!(e.message.contains("utf-8"), "{}", e.message);
        assert!(e.original.contains('\u{fffd}'));
    }

    #[test]
    fn limits_name_themselves() {
        let mut o = opts();
        o.limits.max_depth = 3;
        let e = read(b"[[[[1]]]]", &o).unwrap_err();
        assert!(e.message.contains("max_depth = 3"), "{}", e.message);
        // brackets inside strings do not count
        assert!(read(br#"["[[[[[["]"#, &o).is_ok());
        o.limits.max_string_bytes = 4;
        let e = read(br#"["abcdef"]"#, &o).unwrap_err();
        assert!(e.message.contains("max_string_bytes = 4"), "{}", e.message);
        o.limits.max_input_bytes = 2;
        let e = read(b"[1, 2]", &o).unwrap_err();
        assert!(e.message.contains("max_input_bytes = 2"), "{}", e.message);
    }

    /// The glance never passes a text the walk refuses: every text of brackets, quotes,
    /// escapes and letters up to 6 bytes, under a few small limits.
    #[test]
    fn the_glance_agrees_with_the_walk() {
        let alphabet = b"[]{}\\\"a";
        let mut glanced = 0;
        for len in 0..=6u32 {
            for n in 0..7usize.pow(len) {
                let mut text = Vec::new();
                let mut k = n;
                for _ in 0..len {
                    text.push(alphabet[k % 7]);
                    k /= 7;
                }
                for (depth, string) in [(0, 0), (1, 1), (2, 3), (3, 0), (0, 7), (2, 2)] {
                    let l = Limits {
                        max_depth: depth,
                        max_string_bytes: string,
                        ..Limits::default()
                    };
                    if within_at_a_glance(&text, &l) {
                        glanced += 1;
                        assert!(
                            walk_shape(&text, &l).is_ok(),
                            "{:?} under depth {depth}, string {string}",
                            String::from_utf8_lossy(&text)
                        );
                    }
                }
            }
        }
        assert!(glanced > 10_000, "the glance passed only {glanced} texts");
    }

    /// `parse_limited` answers every text as checking the limits and then parsing does
    /// (its reader skips the check only where the check passes): every text of JSON's
    /// tokens up to 5 bytes and some deeper ones, under a few small limits.
    #[test]
    fn parsing_within_limits_answers_as_checking_first() {
        let checked_then_parsed = |t: &str, l: &Limits| {
            check_limits(t, l, "record")?;
            crate::json::from_str(t)
                .map(Value::into_owned)
                .map_err(|e| {
                    let snippet: String = t.chars().take(64).collect();
                    format!("cannot parse record as json: {e}: `{snippet}`")
                })
        };
        let alphabet = b"[]{}\":,1a";
        let mut texts: Vec<String> = vec![
            "[[[[1]]]]".into(),
            r#"{"a":{"b":[{"c":"dddd"}]}}"#.into(),
            r#"["[[[[[["]"#.into(),
        ];
        for len in 0..=5u32 {
            for n in 0..alphabet.len().pow(len) {
                let mut k = n;
                let text = (0..len)
                    .map(|_| {
                        let c = alphabet[k % alphabet.len()];
                        k /= alphabet.len();
                        char::from(c)
                    })
                    .collect();
                texts.push(text);
            }
        }
        let mut read = 0;
        for (depth, string, input) in [
            (0, 9, 99),
            (1, 99, 99),
            (2, 3, 99),
            (3, 99, 6),
            (64, 99, 99),
        ] {
            let l = Limits {
                max_depth: depth,
                max_string_bytes: string,
                max_input_bytes: input,
                ..Limits::default()
            };
            for t in &texts {
                let ours = parse_limited(t, &l, "record").map(Value::into_owned);
                let theirs = checked_then_parsed(t, &l);
                assert_eq!(ours, theirs, "{t:?} under {depth}/{string}/{input}");
                read += usize::from(ours.is_ok());
            }
        }
        assert!(read > 1_000, "only {read} texts read");
    }

    #[test]
    fn unterminated_strings_and_trailing_escapes_are_scanned_safely() {
        for raw in [
            &b"\"abc\\"[..],
            b"\"",
            b"[\"\\",
            b"\"\\\"",
            b"{\"a\":\"\\\\\"}",
        ] {
            let _ = read(raw, &opts());
        }
        assert!(read(br#"{"a":"x\\"}"#, &opts()).is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let r = read(b"\xEF\xBB\xBF{\"a\":1}", &opts()).unwrap();
        assert_eq!(body(&r), json!({"a": 1}));
        assert_eq!(r.original(), "\u{feff}{\"a\":1}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = "[".repeat(100_000);
        let e = read(deep.as_bytes(), &opts()).unwrap_err();
        assert!(e.message.contains("max_depth"), "{}", e.message);
    }
}
