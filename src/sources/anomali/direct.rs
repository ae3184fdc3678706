//! `ti_anomali.threatstream` without trees: a pushed indicator read into typed,
//! borrowed fields and its document written straight from them.
//!
//! The general path ([`super::threatstream`]) reads a record into a value tree, maps it
//! into a document tree ([`crate::Doc`]) and writes that. Most pushes are one flat
//! object of strings and numbers — bare, with literal `_conf.<setting>` members beside
//! the fields (Fluent Bit's `modify` adds them), or in one of Elastic's envelopes,
//! `{"message": "<the object as text>", "tags": [...]}` or `{"json": {<the object>}}` —
//! and this path takes those: each member
//! is read once ([`crate::json::members`]) into the field the mapping reads it from
//! (names it does not map are kept aside, borrowed), the mapping works on those fields,
//! and the document is written once, in the order the general path sorts it into. No
//! document tree, no path walks, no lookups by name. With identity on, the record is
//! read a second time into the sorted object the fingerprint covers.
//!
//! It gives what the general path gives, byte for byte, or nothing: whatever it does
//! not take exactly as the general path does — another envelope, `_conf` as an object,
//! nested values, a name sent twice, any field the mapping would answer with an error,
//! a value of an unusual type, a record over a limit, a byte-order mark — it leaves to
//! the general path, which makes the document (or the error document) as before. The
//! tests hold the two paths equal on the golden inputs, Elastic's sample pushes and
//! every field of a record set to values of every kind, under options of every kind
//! (`tests` below).

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::common;
use super::itype;
use super::threatstream::{self, DATASET, split_detail};
use crate::ecs::url::UrlParts;
use crate::envelope::{add_tags, is_raw_field, names_an_envelope};
use crate::json::{Json, Map, Value, members, write};
use crate::options::Options;
use crate::{Cleanup, ECS_VERSION, dates, expiration};

/// The fields of a push the mapping reads, each as sent (`None`: not sent).
#[derive(Default)]
struct Fields<'a> {
    itype: Option<Value<'a>>,
    value_type: Option<Value<'a>>,
    srcip: Option<Value<'a>>,
    domain: Option<Value<'a>>,
    url: Option<Value<'a>>,
    email: Option<Value<'a>>,
    md5: Option<Value<'a>>,
    added_at: Option<Value<'a>>,
    deleted_at: Option<Value<'a>>,
    date_first: Option<Value<'a>>,
    date_last: Option<Value<'a>>,
    state: Option<Value<'a>>,
    lat: Option<Value<'a>>,
    lon: Option<Value<'a>>,
    classification: Option<Value<'a>>,
    confidence: Option<Value<'a>>,
    asn: Option<Value<'a>>,
    org: Option<Value<'a>>,
    country: Option<Value<'a>>,
    source: Option<Value<'a>>,
    severity: Option<Value<'a>>,
    trusted_circle_ids: Option<Value<'a>>,
    detail: Option<Value<'a>>,
    /// `id`, `source_feed_id`, `update_id`, `import_session_id`: written as strings.
    ids: [Option<Value<'a>>; 4],
    /// Whether the record has a member named `value`, which an untyped indicator's value
    /// would take the place of.
    has_value: bool,
}

/// The ids, in the order of [`Fields::ids`].
const IDS: [&str; 4] = ["id", "source_feed_id", "update_id", "import_session_id"];

impl<'a> Fields<'a> {
    /// Where the member `name` goes: one of the fields, else `None` (kept as sent).
    fn slot(&mut self, name: &str) -> Option<&mut Option<Value<'a>>> {
        Some(match name {
            "itype" => &mut self.itype,
            "value_type" => &mut self.value_type,
            "srcip" => &mut self.srcip,
            "domain" => &mut self.domain,
            "url" => &mut self.url,
            "email" => &mut self.email,
            "md5" => &mut self.md5,
            "added_at" => &mut self.added_at,
            "deleted_at" => &mut self.deleted_at,
            "date_first" => &mut self.date_first,
            "date_last" => &mut self.date_last,
            "state" => &mut self.state,
            "lat" => &mut self.lat,
            "lon" => &mut self.lon,
            "classification" => &mut self.classification,
            "confidence" => &mut self.confidence,
            "asn" => &mut self.asn,
            "org" => &mut self.org,
            "country" => &mut self.country,
            "source" => &mut self.source,
            "severity" => &mut self.severity,
            "trusted_circle_ids" => &mut self.trusted_circle_ids,
            "detail" => &mut self.detail,
            "id" => &mut self.ids[0],
            "source_feed_id" => &mut self.ids[1],
            "update_id" => &mut self.ids[2],
            "import_session_id" => &mut self.ids[3],
            _ => return None,
        })
    }

    /// Takes a member: into its field, among the settings (`_conf.<name>`, when
    /// `is_conf` says it is one) or among the names kept as sent. `None` for a field
    /// sent twice (the general path reads the last: left to it).
    #[inline(always)]
    fn take(
        &mut self,
        name: Cow<'a, str>,
        v: Value<'a>,
        is_conf: impl Fn(&str) -> bool,
        rest: &mut Vec<(Cow<'a, str>, Value<'a>)>,
        conf: &mut Vec<(Cow<'a, str>, Value<'a>)>,
    ) -> Option<()> {
        if is_conf(&name) {
            let setting = match name {
                Cow::Borrowed(n) => Cow::Borrowed(&n[CONF.len()..]),
                Cow::Owned(n) => Cow::Owned(n[CONF.len()..].to_string()),
            };
            conf.push((setting, v));
            return Some(());
        }
        match self.slot(&name) {
            Some(slot) if slot.is_some() => return None,
            Some(slot) => *slot = Some(v),
            None => {
                self.has_value |= name == "value";
                // kept even when the cleanup drops it: a name sent twice keeps its last
                rest.push((name, v));
            }
        }
        Some(())
    }

    /// The field an indicator's value is read from, by name.
    fn value_field(&self, name: &str) -> Option<&Option<Value<'a>>> {
        Some(match name {
            "srcip" => &self.srcip,
            "domain" => &self.domain,
            "url" => &self.url,
            "email" => &self.email,
            "md5" => &self.md5,
            _ => return None,
        })
    }
}

/// A field read as text the way the general path reads it with `peek_text` or
/// `take_text`: a non-empty string; `Ok(None)` for an empty one, `null` or nothing;
/// `Err` for any other kind (which the general path writes out or calls an error: left
/// to it).
fn text<'a>(v: &Option<Value<'a>>) -> Result<Option<Cow<'a, str>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
        Some(_) => Err(()),
    }
}

/// A date field as `peek_date` reads it: `Ok(None)` for nothing, `null` or `""`, `Err`
/// where it would record an error.
fn date(v: &Option<Value<'_>>) -> Result<Option<DateTime<Utc>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => dates::parse_iso(s).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

/// Whether a field was sent with a value (`null` counts as not sent).
fn sent(v: &Option<Value<'_>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_null())
}

/// The ECS side of the document, as the general path sets it.
#[derive(Default)]
struct Ecs<'a> {
    timestamp: String,
    severity: Option<i64>,
    indicator_type: Option<&'static str>,
    name: Cow<'a, str>,
    as_number: Option<u32>,
    as_organization: Option<Cow<'a, str>>,
    confidence: Option<&'static str>,
    email: Option<Cow<'a, str>>,
    hash: Option<(&'static str, Cow<'a, str>)>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    country: Option<Cow<'a, str>>,
    location: Option<(f64, f64)>,
    ip: Option<Cow<'a, str>>,
    tlp: Option<&'static str>,
    provider: Option<Cow<'a, str>>,
    /// The URL and its parts, when `url` was split.
    url: Option<(Cow<'a, str>, UrlParts)>,
    /// `url.domain` from `domain`, when the URL gave none.
    url_domain: Option<Cow<'a, str>>,
    related_hash: Option<Cow<'a, str>>,
    related_hosts: Vec<Cow<'a, str>>,
    related_ip: Option<Cow<'a, str>>,
    related_user: Option<Cow<'a, str>>,
    /// The `detail` tokens (the record's tags come before them).
    tags: Vec<Cow<'a, str>>,
    /// `id` as the vendor object keeps it (a string by now), for the IOC key (kept with
    /// identity on only).
    id: Option<Value<'a>>,
}

/// The document of `text`, a ThreatStream push (bare, with `_conf.<setting>` members,
/// or in Elastic's `message` or `json` envelope), written as JSON (no newline): the
/// general path's bytes, or `None` to leave the record to it (see the module's
/// documentation).
pub fn document(text: &str, opts: &Options) -> Option<String> {
    let limits = &opts.limits;
    // what the general path reads within the limits without checking them (a flat
    // object nests one level, an envelope two; the one document is within the count)
    if text.len() > limits.max_input_bytes.min(limits.max_string_bytes)
        || limits.max_depth < 2
        || limits.max_documents < 1
        || text.starts_with('\u{feff}')
    {
        return None;
    }
    vendor_document(Vendor::Text(text, Place::Record), &opts.tags, opts).or_else(|| match envelope(
        text, opts,
    )? {
        (Inner::Message(inner), tags) => {
            vendor_document(Vendor::Text(&inner, Place::Envelope), &tags, opts)
        }
        (Inner::Json(object), tags) => vendor_document(Vendor::Object(object), &tags, opts),
    })
}

/// What an envelope holds.
enum Inner<'a> {
    /// The vendor JSON as text (`message`).
    Message(Cow<'a, str>),
    /// The vendor object, read (`json`, as Elastic's agent hands it over).
    Json(Map<'a>),
}

/// What a record in one of Elastic's envelopes holds, `{"message": "<vendor JSON>"}` or
/// `{"json": {<vendor object>}}`, and its tags (the options' tags, then the envelope's
/// `tags`, added as the general path adds them); `None` for any other record, and for an
/// envelope with anything else beside them.
fn envelope<'a>(text: &'a str, opts: &Options) -> Option<(Inner<'a>, Vec<String>)> {
    if opts.raw_field.is_some() {
        return None;
    }
    let (mut inner, mut tags, mut tagged) = (None, opts.tags.clone(), false);
    // a message's text, an object of scalars, a list of tags: two levels
    members(
        text,
        2,
        |name| matches!(name, "message" | "json" | "tags"),
        |name, v| {
            match (&*name, v) {
                ("message", Value::String(s)) if inner.is_none() => {
                    inner = Some(Inner::Message(s));
                }
                ("json", Value::Object(m)) if inner.is_none() => inner = Some(Inner::Json(m)),
                ("tags", t) if !tagged => {
                    tagged = true;
                    add_tags(&mut tags, t);
                }
                // sent twice, both kinds, or of another kind
                _ => return None,
            }
            Some(())
        },
    )?;
    Some((inner?, tags))
}

/// The vendor JSON a document is made of.
enum Vendor<'t> {
    /// As text, found at a place.
    Text(&'t str, Place),
    /// Read already (an envelope's `json`).
    Object(Map<'t>),
}

/// Where the vendor JSON a document is made of was found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// It is the record: literal `_conf.<name>` members beside its fields are settings
    /// (as Fluent Bit's `modify` adds them), not vendor fields.
    Record,
    /// It is in an envelope, taken as it is.
    Envelope,
}

/// The prefix of the settings a shipper adds beside a record's fields.
const CONF: &str = "_conf.";

/// The document of `text`, the vendor JSON found at `place`, with the record's tags
/// `rec_tags`.
fn vendor_document<'t>(vendor: Vendor<'t>, rec_tags: &[String], opts: &Options) -> Option<String> {
    let place = match vendor {
        Vendor::Text(_, place) => place,
        Vendor::Object(_) => Place::Envelope,
    };
    let preserve = crate::preserves(opts, rec_tags);
    let mut f = Fields::default();
    let mut rest: Vec<(Cow<'t, str>, Value<'t>)> = Vec::with_capacity(16);
    let is_conf = |name: &str| place == Place::Record && name.starts_with(CONF);
    // a flat object (one level) of names that are not an envelope's, and settings
    let plain =
        |name: &str| !names_an_envelope(name, opts) || (is_conf(name) && !is_raw_field(name, opts));
    let mut conf = Vec::new();
    // the vendor object as the general path holds it, when read already: what the
    // fingerprint covers and `event.original` writes
    let (text, read) = match vendor {
        Vendor::Text(text, _) => {
            members(text, 1, plain, |name, v| {
                f.take(name, v, is_conf, &mut rest, &mut conf)
            })?;
            (Some(text), None)
        }
        Vendor::Object(object) => {
            let kept = (opts.identity || preserve).then(|| object.clone());
            for (name, v) in object {
                // a nested value, or a name the text path leaves alone: left to the
                // general path
                if matches!(v, Value::Array(_) | Value::Object(_)) || !plain(&name) {
                    return None;
                }
                f.take(name, v, is_conf, &mut rest, &mut conf)?;
            }
            (None, kept)
        }
    };
    // the settings as the general path reads them (the last of a name kept); with any,
    // `event.original` is the record without them
    let settled = !conf.is_empty();
    let (duration, identity) = crate::envelope::settings(&Map::from_entries(conf));
    let identity = identity.unwrap_or(opts.identity);
    // The record's object without its settings, as the general path holds it: what the
    // fingerprint covers, and `event.original` when settings were taken out. Read again
    // from the text only when needed.
    let whole = match (text, read) {
        (_, Some(object)) => Some(object),
        (Some(text), None) if identity || (preserve && settled) => {
            let mut all = Vec::with_capacity(32);
            members(text, 1, plain, |name, v| {
                if !is_conf(&name) {
                    all.push((name, v));
                }
                Some(())
            })?;
            Some(Map::from_entries(all))
        }
        _ => None,
    };
    let fingerprint = match (identity, &whole) {
        (false, _) => None,
        (true, Some(whole)) => {
            let mut buf = Vec::with_capacity(2048);
            whole.write_json(&mut buf);
            buf.push(0x1f);
            Some(crate::doc::sha256_hex(&buf))
        }
        (true, None) => return None,
    };
    // `event.original`: the record's text, else (settings taken out, or read already)
    // its object written again, as the general path writes it
    let original = match (preserve, text, &whole) {
        (false, _, _) => None,
        (true, Some(text), _) if !settled => Some(Cow::Borrowed(text)),
        (true, _, Some(whole)) => Some(Cow::Owned(whole.to_json())),
        (true, _, None) => return None,
    };
    let duration = duration.as_deref().unwrap_or(&opts.ioc_expiration_duration);
    let ecs = map(&mut f, &mut rest, duration, identity, opts)?;
    let identity = fingerprint.map(|fp| (key(&ecs), fp));
    let mut out = Vec::with_capacity(text.map_or(1024, str::len) * 2 + 1024);
    write_document(
        &ecs,
        Map::from_entries(rest),
        Written {
            original: original.as_deref(),
            rec_tags,
            identity: identity.as_ref().map(|(k, fp)| (k.as_str(), fp.as_str())),
        },
        opts,
        &mut out,
    );
    // written from strings and from JSON our writer wrote: UTF-8
    String::from_utf8(out).ok()
}

/// The IOC key of a document: its `id`, written as a string, else its value.
fn key(e: &Ecs<'_>) -> String {
    common::key(DATASET, e.id.as_ref(), Some(&e.name))
}

/// The mapping of `indicator` in [`super::threatstream`], on the fields; what stays in
/// `anomali.threatstream` is added to `rest`. `None` where the general path would record
/// an error, or reads a value in a way this path does not.
fn map<'a>(
    f: &mut Fields<'a>,
    rest: &mut Vec<(Cow<'a, str>, Value<'a>)>,
    duration: &str,
    identity: bool,
    opts: &Options,
) -> Option<Ecs<'a>> {
    let now = opts.now;
    let mut e = Ecs::default();
    let keep = |rest: &mut Vec<(Cow<'a, str>, Value<'a>)>, name: &'static str, v: Value<'a>| {
        if !v.is_null() && v.as_str() != Some("") {
            rest.push((Cow::Borrowed(name), v));
        }
    };

    // Type and value.
    let itype_text = text(&f.itype).ok()?;
    let kind = text(&f.value_type).ok()?;
    let mut ti_type = itype_text
        .as_deref()
        .and_then(itype::indicator_type)
        .or_else(|| kind.as_deref().and_then(itype::type_of_value_kind));
    let value_field = threatstream::value_field(ti_type, kind.as_deref(), |name| {
        f.value_field(name).is_some_and(sent)
    })?;
    let value = match f.value_field(value_field)? {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        // a number written out, or no value (an error): left to the general path
        _ => return None,
    };
    if matches!(ti_type, Some("ipv4-addr" | "ipv6-addr"))
        && let Some(Value::String(ip)) = &f.srcip
    {
        ti_type = Some(crate::ecs::ip::indicator_type(ip));
    }
    match ti_type {
        Some(t) => e.indicator_type = Some(t),
        // the value takes the place of a member named `value`: left to the general path
        None if f.has_value => return None,
        None => rest.push((Cow::Borrowed("value"), Value::String(value.clone()))),
    }
    e.name = value;

    // Dates and @timestamp.
    let added = date(&f.added_at).ok()?;
    let vendor_deleted = date(&f.deleted_at).ok()?;
    if let Some(t) = added {
        keep(rest, "added_at", Value::from(dates::fmt_millis(t)));
    }
    e.first_seen = date(&f.date_first).ok()?.map(dates::fmt_millis);
    e.last_seen = date(&f.date_last).ok()?.map(dates::fmt_millis);
    e.timestamp = match added.or(vendor_deleted) {
        Some(t) => dates::fmt_millis(t),
        None => dates::fmt_es(now),
    };

    // Expiration.
    let mut deleted = match vendor_deleted {
        Some(t) => t,
        None => {
            let dur = expiration::parse_duration(duration).ok()?;
            common::expiry(added.unwrap_or(now), dur)
        }
    };
    if common::inactive(f.state.as_ref()) && deleted > now {
        deleted = now;
    }
    keep(rest, "deleted_at", Value::from(dates::fmt_millis(deleted)));
    if let Some(state) = f.state.take() {
        keep(rest, "state", state);
    }

    // Geo, TLP, confidence, AS.
    let lat = f.lat.take().filter(|v| !v.is_null());
    let lon = f.lon.take().filter(|v| !v.is_null());
    let coordinate = |v: Option<Value<'a>>, limit: f64| -> Result<Option<f64>, ()> {
        match v {
            None => Ok(None),
            Some(v) => common::number(&v)
                .filter(|n| n.abs() <= limit)
                .map(Some)
                .ok_or(()),
        }
    };
    let (lat, lon) = (coordinate(lat, 90.0).ok()?, coordinate(lon, 180.0).ok()?);
    e.location = lat.zip(lon);
    if let Some(c) = f.classification.take() {
        e.tlp = threatstream::tlp(&c).ok()?;
        keep(rest, "classification", c);
    }
    if let Some(c) = f.confidence.take().filter(|v| !v.is_null()) {
        e.confidence = Some(common::confidence_word(common::number(&c)?));
        keep(rest, "confidence", c);
    }
    if let Some(asn) = &f.asn {
        e.as_number = common::as_number(asn).ok()?;
    }
    e.as_organization = text(&f.org).ok()?;

    // The observables.
    e.email = text(&f.email).ok()?;
    if let Some(email) = &e.email
        && email.contains('@')
    {
        e.related_user = Some(email.clone());
    }
    match &f.srcip {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::String(s)) if crate::ecs::ip::parse(s).is_some() => {
            e.ip = Some(s.clone());
            e.related_ip = Some(s.clone());
        }
        Some(_) => return None,
    }
    let mut url_host = None;
    if let Some(url) = text(&f.url).ok()? {
        let parts = crate::ecs::url::parse(&url).ok()?;
        // a URL with an empty host is tagged with it and keeps `domain`: left to the
        // general path
        if parts.domain.as_deref() == Some("") {
            return None;
        }
        url_host.clone_from(&parts.domain);
        e.url = Some((url, parts));
    }
    if let Some(domain) = text(&f.domain).ok()? {
        let url_has_domain = e.url.as_ref().is_some_and(|(_, p)| p.domain.is_some());
        if url_has_domain {
            keep(rest, "domain", Value::String(domain.clone()));
        } else {
            e.url_domain = Some(domain.clone());
        }
        e.related_hosts.push(domain);
    } else if let Some(domain) = f.domain.take() {
        keep(rest, "domain", domain);
    }
    if let Some(host) = url_host.filter(|h| threatstream::is_host_name(h))
        && !e.related_hosts.iter().any(|d| *d == host)
    {
        e.related_hosts.push(Cow::Owned(host));
    }
    e.country = text(&f.country).ok()?;
    if let Some(hash) = text(&f.md5).ok()? {
        match threatstream::hash_field(itype_text.as_deref(), &hash) {
            Some(field) => e.hash = Some((field, hash.clone())),
            None => keep(rest, "md5", Value::String(hash.clone())),
        }
        e.related_hash = Some(hash);
    }
    e.provider = text(&f.source).ok()?;

    // Severity, circles, tags, ids.
    match &f.severity {
        Some(Value::String(s)) => e.severity = common::severity(s, opts.severity_scale),
        None | Some(Value::Null) => {}
        Some(_) => return None,
    }
    if let Some(s) = f.severity.take() {
        keep(rest, "severity", s);
    }
    let circles = match &f.trusted_circle_ids {
        None => Vec::new(),
        // a list is a nested value: never here
        Some(ids) => common::scalar_ids(ids)?,
    };
    if !circles.is_empty() {
        rest.push((Cow::Borrowed("trusted_circle_ids"), Value::Array(circles)));
    }
    match f.detail.take() {
        None | Some(Value::Null) => {}
        Some(Value::String(Cow::Borrowed(s))) => e.tags.extend(
            split_detail(s)
                .into_iter()
                .filter(|t| !t.is_empty())
                .map(Cow::Borrowed),
        ),
        Some(Value::String(Cow::Owned(s))) => e.tags.extend(
            split_detail(&s)
                .into_iter()
                .filter(|t| !t.is_empty())
                .map(|t| Cow::Owned(t.to_string())),
        ),
        Some(_) => return None,
    }
    for (name, id) in IDS.into_iter().zip(&mut f.ids) {
        let id = match id.take() {
            None => continue,
            Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => Value::String(s),
            Some(other) => Value::String(common::scalar_text(&other)?),
        };
        if identity && name == "id" {
            e.id = Some(id.clone());
        }
        keep(rest, name, id);
    }
    for (name, v) in [
        ("itype", f.itype.take()),
        ("value_type", f.value_type.take()),
    ] {
        if let Some(v) = v {
            keep(rest, name, v);
        }
    }
    Some(e)
}

/// The writer's state in one object: whether a member was written yet.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// The name of the next member (a literal, nothing to escape) and its colon.
    fn name(&mut self, name: &str) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        write::plain(name, self.out);
        self.out.push(b':');
        self.out
    }

    /// A string member, left out when empty (the cleanup's rule).
    fn string(&mut self, name: &str, v: Option<&str>) {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            let out = self.name(name);
            write::string(v, out);
        }
    }

    /// A literal string member.
    fn lit(&mut self, name: &str, v: &str) {
        let out = self.name(name);
        write::plain(v, out);
    }

    /// A list of strings, left out when nothing of it is written.
    fn strings<'s>(&mut self, name: &str, items: impl IntoIterator<Item = &'s str>) {
        let mut items = items.into_iter().filter(|s| !s.is_empty()).peekable();
        if items.peek().is_none() {
            return;
        }
        let out = self.name(name);
        out.push(b'[');
        for (i, s) in items.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write::string(s, out);
        }
        out.push(b']');
    }

    /// A member written by `body`, an object of its own.
    fn object(&mut self, name: &str, body: impl FnOnce(&mut Obj<'_>)) {
        let out = self.name(name);
        let mut inner = Obj::open(out);
        body(&mut inner);
        inner.close();
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON number as `serde_json` writes it.
fn number(out: &mut Vec<u8>, n: impl serde::Serialize) {
    // writing a number into a vector cannot fail
    let _ = serde_json::to_writer(&mut *out, &n);
}

/// Writes the document: the names of every object in byte order, as the general path
/// sorts them, and nothing its cleanup would drop.
/// What a document carries beside its mapping.
struct Written<'w> {
    /// `event.original`, when kept.
    original: Option<&'w str>,
    /// The record's tags, before the mapping's.
    rec_tags: &'w [String],
    /// `labels.ioc_key` and `labels.ioc_fingerprint`, with identity on.
    identity: Option<(&'w str, &'w str)>,
}

fn write_document(e: &Ecs<'_>, vendor: Map<'_>, w: Written<'_>, opts: &Options, out: &mut Vec<u8>) {
    let info = crate::Dataset::AnomaliThreatstream.info();
    let mut tags: Vec<&str> = w
        .rec_tags
        .iter()
        .map(String::as_str)
        .chain(e.tags.iter().map(|t| t.as_ref()))
        .collect();
    if w.original.is_some() && !tags.contains(&"preserve_original_event") {
        tags.insert(0, "preserve_original_event");
    }
    let mut d = Obj::open(out);
    d.string("@timestamp", Some(&e.timestamp));
    d.object("anomali", |a| {
        let out = a.name("threatstream");
        write::value(&Value::Object(vendor), Some(Cleanup::AllEmpty), out);
    });
    d.object("data_stream", |s| {
        for (k, v) in info.data_stream {
            s.lit(k, v);
        }
    });
    d.object("ecs", |s| s.lit("version", ECS_VERSION));
    d.object("event", |ev| {
        ev.strings("category", ["threat"]);
        ev.lit("dataset", DATASET);
        ev.string("ingested", Some(&dates::fmt_es(opts.now)));
        ev.lit("kind", "enrichment");
        ev.lit("module", info.module);
        ev.string("original", w.original);
        if let Some(s) = e.severity {
            number(ev.name("severity"), s);
        }
        ev.strings("type", ["indicator"]);
    });
    d.object("labels", |l| {
        if let Some((key, fingerprint)) = w.identity {
            l.string("ioc_fingerprint", Some(fingerprint));
            l.string("ioc_key", Some(key));
        }
        l.lit("is_ioc_transform_source", "true");
    });
    let related = e.related_hash.is_some()
        || !e.related_hosts.is_empty()
        || e.related_ip.is_some()
        || e.related_user.is_some();
    if related {
        d.object("related", |r| {
            r.strings("hash", e.related_hash.as_deref());
            r.strings("hosts", e.related_hosts.iter().map(|h| h.as_ref()));
            r.strings("ip", e.related_ip.as_deref());
            r.strings("user", e.related_user.as_deref());
        });
    }
    d.strings("tags", tags);
    d.object("threat", |t| {
        t.object("feed", |feed| {
            for (k, v) in info.feed {
                feed.lit(k, v);
            }
        });
        t.object("indicator", |i| indicator(e, i));
    });
    d.close();
}

/// `threat.indicator`'s members.
fn indicator(e: &Ecs<'_>, i: &mut Obj<'_>) {
    if e.as_number.is_some() || e.as_organization.is_some() {
        i.object("as", |a| {
            if let Some(n) = e.as_number {
                number(a.name("number"), n);
            }
            if let Some(org) = &e.as_organization {
                a.object("organization", |o| o.string("name", Some(org)));
            }
        });
    }
    i.string("confidence", e.confidence);
    if let Some(email) = &e.email {
        i.object("email", |m| m.string("address", Some(email)));
    }
    if let Some((field, hash)) = &e.hash {
        i.object("file", |f| {
            f.object("hash", |h| h.string(field, Some(hash)));
        });
    }
    i.string("first_seen", e.first_seen.as_deref());
    if e.country.is_some() || e.location.is_some() {
        i.object("geo", |g| {
            g.string("country_iso_code", e.country.as_deref());
            if let Some((lat, lon)) = e.location {
                g.object("location", |l| {
                    number(l.name("lat"), lat);
                    number(l.name("lon"), lon);
                });
            }
        });
    }
    i.string("ip", e.ip.as_deref());
    i.string("last_seen", e.last_seen.as_deref());
    if let Some(tlp) = e.tlp {
        i.object("marking", |m| m.strings("tlp", [tlp]));
    }
    i.string("name", Some(&e.name));
    i.string("provider", e.provider.as_deref());
    i.string("type", e.indicator_type);
    if e.url.is_some() || e.url_domain.is_some() {
        i.object("url", |u| url(e, u));
    }
}

/// `threat.indicator.url`'s members, in byte order.
fn url(e: &Ecs<'_>, u: &mut Obj<'_>) {
    let none = UrlParts::default();
    let (original, p) = match &e.url {
        Some((original, p)) => (Some(original.as_ref()), p),
        None => (None, &none),
    };
    u.string("domain", p.domain.as_deref().or(e.url_domain.as_deref()));
    u.string("extension", p.extension.as_deref());
    u.string("fragment", p.fragment.as_deref());
    u.string("full", original);
    u.string("original", original);
    u.string("password", p.password.as_deref());
    u.string("path", p.path.as_deref());
    if let Some(port) = p.port {
        number(u.name("port"), port);
    }
    u.string("query", p.query.as_deref());
    u.string("scheme", p.scheme.as_deref());
    u.string("user_info", p.user_info.as_deref());
    u.string("username", p.username.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, OptionsSpec};

    /// Options made from `spec`'s JSON (`now` fixed).
    fn opts(spec: &str) -> Options {
        let mut spec: serde_json::Value = serde_json::from_str(spec).unwrap();
        spec["now"] = "2026-12-01T00:00:00Z".into();
        serde_json::from_value::<OptionsSpec>(spec)
            .unwrap()
            .into_options()
            .unwrap()
    }

    /// The option sets every record is tried under.
    fn option_sets() -> Vec<Options> {
        [
            r#"{}"#,
            r#"{"preserve_original_event": true}"#,
            r#"{"tags": ["a", "", "preserve_original_event"], "severity_scale": "detection"}"#,
            r#"{"ioc_expiration_duration": "5h", "raw_field": "url"}"#,
            r#"{"raw_field": "detail.x"}"#,
            r#"{"identity": true}"#,
            r#"{"limits": {"max_depth": 1}}"#,
            r#"{"limits": {"max_documents": 0}}"#,
            r#"{"limits": {"max_string_bytes": 600}}"#,
        ]
        .iter()
        .map(|s| opts(s))
        .chain([Options {
            // a duration options checked would refuse, set directly: the general path
            // falls back to 90 days with an error
            ioc_expiration_duration: "5x".into(),
            ..opts("{}")
        }])
        .collect()
    }

    /// Whether the direct path took `text` under `o`; when it did, its document is the
    /// general path's, byte for byte.
    fn same_as_general(text: &str, o: &Options) -> bool {
        let direct = document(text, o);
        if let Some(doc) = &direct {
            let general = crate::general_json(Dataset::AnomaliThreatstream, text, o);
            if general.len() == 1 && general[0] != *doc {
                let g = &general[0];
                let at = g
                    .bytes()
                    .zip(doc.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                eprintln!(
                    "DIFF general {}\nDIFF direct  {}",
                    &g[at.saturating_sub(60)..],
                    &doc[at.saturating_sub(60)..]
                );
            }
            assert_eq!(
                general,
                std::slice::from_ref(doc),
                "record: {text}\noptions: {o:?}"
            );
        }
        direct.is_some()
    }

    /// A push with every field the mapping reads.
    const FULL: &str = r#"{"added_at":"2023-06-05T12:35:14.860741","asn":"AS45102","classification":"private","confidence":92,"country":"US","date_first":"2020-10-09T18:45:23.000Z","date_last":"2020-10-09T18:45:23Z","deleted_at":null,"detail":"phish-kit,Microsoft\\,Inc,,x","detail2":"imported by user 1","domain":"example.appspot.com","email":"a@b.example","id":185029228,"import_session_id":"77","itype":"phish_url","lat":37.751,"lon":-97.822,"maltype":"kit","md5":"d41d8cd98f00b204e9800998ecf8427e","org":"Example Org","resource_uri":"/api/v1/intelligence/22222/","severity":"very-high","source":"Default Organization","source_feed_id":0,"srcip":"81.2.69.142","state":"active","trusted_circle_ids":",10015,","update_id":376590230,"url":"https://user:pw@example.appspot.com:8443/2/a.php?q=1#frag","value_type":"url"}"#;

    /// The names the mapping reads, and a few it does not (one string, split).
    const NAMES: &str = "itype value_type srcip domain url email md5 added_at deleted_at date_first date_last state lat lon classification confidence asn org country source severity trusted_circle_ids detail id source_feed_id update_id import_session_id value maltype message _conf json tags _conf.identity _conf.ioc_expiration_duration _conf.ioc_duration_before_deletion _confx";

    /// Values of every kind the mapping tells apart.
    const VALUES: &[&str] = &[
        "\"5d\"",
        "\"12h\"",
        "\"TRUE\"",
        "false",
        "null",
        "\"\"",
        "true",
        "0",
        "12",
        "-1",
        "1.5",
        "1e3",
        "4294967296",
        "\"0\"",
        "\"48.85\"",
        "\"abc\"",
        "\" private \"",
        "\"PUBLIC\"",
        "\"AS123\"",
        "\"as9\"",
        "\"  \"",
        "\"2020-10-08T12:22:11.123Z\"",
        "\"2020-10-08 12:22:11\"",
        "\"2020-10-08T12:22:11+02:00\"",
        "\"2999-01-01T00:00:00Z\"",
        "\"2020-13-45\"",
        "\"1.2.3.4\"",
        "\"::1\"",
        "\"fe80::1%eth0\"",
        "\"10.0.0.0/8\"",
        "\"http://x.example.com/a/b.php?q=1#f\"",
        "\"http://[::1]:8080/\"",
        "\"http://1.2.3.4/x\"",
        "\"http:///nohost\"",
        "\"not a url %zz\"",
        "\"example.com\"",
        "\"a,b\\\\,c,,d\"",
        "\",10015, 7,\"",
        "\"very-high\"",
        "\"LOW\"",
        "\"inactive\"",
        "\"active\"",
        "\"x@y.example\"",
        "\"subject line\"",
        "\"d41d8cd98f00b204e9800998ecf8427e\"",
        "\"da39a3ee5e68b6b0d3255bfef95601890afd8070\"",
        "\"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C\"",
        "\"é\\\"\\\\\\n\\u2028\\ud83d\\ude00\"",
        "\"ip\"",
        "\"ipv6\"",
        "\"domain\"",
        "\"url\"",
        "\"email\"",
        "\"md5\"",
        "\"hash\"",
        "\"mal_ip\"",
        "\"phish_url\"",
        "\"mal_md5\"",
        "\"mal_ssdeep\"",
        "\"apt_email\"",
        "\"spam_domain\"",
        "\"c2_domain\"",
        "\"unknown_itype\"",
        "[]",
        "{}",
        "[\"a\"]",
        "{\"a\":1}",
    ];

    /// `record` with `name` set to `value` (its own member replaced, else added last).
    fn with(record: &str, name: &str, value: &str) -> String {
        let mut members: Vec<(String, String)> = Vec::new();
        crate::json::outline(record)
            .and_then(|o| match o {
                crate::json::Outline::Object(m) => Some(m),
                _ => None,
            })
            .unwrap()
            .into_iter()
            .for_each(|(k, v)| members.push((k.into_owned(), v.to_string())));
        match members.iter_mut().find(|(k, _)| k == name) {
            Some(m) => m.1 = value.to_string(),
            None => members.push((name.to_string(), value.to_string())),
        }
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// `record` without the member `name`.
    fn without(record: &str, name: &str) -> String {
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(record).unwrap();
        let kept: Vec<String> = v
            .iter()
            .filter(|(k, _)| *k != name)
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", kept.join(","))
    }

    #[test]
    fn every_field_set_to_every_kind_of_value_gives_the_general_paths_document() {
        let sets = option_sets();
        let (mut tried, mut taken) = (0, 0);
        for base in [
            FULL.to_string(),
            without(FULL, "url"),
            without(&without(FULL, "url"), "itype"),
        ] {
            for name in NAMES.split(' ') {
                let mut records = vec![without(&base, name)];
                records.extend(VALUES.iter().map(|v| with(&base, name, v)));
                for r in &records {
                    for o in &sets {
                        tried += 1;
                        taken += usize::from(same_as_general(r, o));
                    }
                }
            }
        }
        // six of the eleven option sets leave every record here to the general path (a
        // bad duration, a `raw_field` the record has, limits): of the rest, most are
        // taken, so the comparison is not empty
        assert!(taken * 6 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn random_records_give_the_general_paths_document() {
        // a fixed sequence (xorshift): one to four fields changed at once
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        };
        let sets = option_sets();
        let (mut tried, mut taken) = (0, 0);
        for _ in 0..3000 {
            let mut r = FULL.to_string();
            for _ in 0..1 + next(4) {
                let names: Vec<&str> = NAMES.split(' ').collect();
                let name = names[next(names.len())];
                r = match next(VALUES.len() + 2) {
                    i if i < VALUES.len() => with(&r, name, VALUES[i]),
                    _ => without(&r, name),
                };
            }
            // one in three in an envelope (one in two of those as text, the others read),
            // with tags of every kind
            if next(3) == 0 {
                let as_text = next(2) == 0;
                let tags = [
                    r#","tags":[]"#,
                    r#","tags":["a","","a","preserve_original_event"]"#,
                    r#","tags":["forwarded",null]"#,
                    r#","tags":[1]"#,
                    "",
                    r#","tags":["b"],"other":1"#,
                ];
                let inner = if as_text {
                    format!(r#""message":{}"#, serde_json::to_string(&r).unwrap())
                } else {
                    format!(r#""json":{r}"#)
                };
                r = format!(r#"{{{inner}{}}}"#, tags[next(tags.len())]);
            }
            let o = &sets[next(sets.len())];
            tried += 1;
            taken += usize::from(same_as_general(&r, o));
        }
        assert!(taken * 20 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn elastic_and_golden_pushes_give_the_general_paths_documents() {
        let mut records = crate::tests::golden_inputs(Dataset::AnomaliThreatstream);
        // Elastic's sample pushes, one a line
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../shared/reference/elastic/ti_anomali/_dev/deploy/docker/sample_logs/test-threatstream-ndjson.log",
        );
        let sample = std::fs::read_to_string(&sample).unwrap();
        records.extend(sample.lines().map(str::to_string));
        assert!(records.len() > 150, "{} records", records.len());
        let mut taken = 0;
        for r in &records {
            for o in option_sets() {
                taken += usize::from(same_as_general(r, &o));
            }
        }
        assert!(taken > 300, "{taken} taken");
    }

    #[test]
    fn records_the_general_path_must_read_are_left_to_it() {
        let o = opts("{}");
        assert!(document(FULL, &o).is_some());
        let envelope = |rest: &str| {
            format!(
                r#"{{"message":{}{rest}}}"#,
                serde_json::to_string(FULL).unwrap()
            )
        };
        // the envelope's tags in every form the general path adds them from
        for tags in [
            r#","tags":["t"]"#,
            r#","tags":"a, b,,a""#,
            r#","tags":[null,1,"",true]"#,
        ] {
            assert!(same_as_general(&envelope(tags), &o), "{tags}");
        }
        for o in option_sets().iter().take(3) {
            let read = format!(r#"{{"json":{FULL},"tags":["t"]}}"#);
            assert!(same_as_general(&read, o), "{o:?}");
        }
        for left in [
            // envelopes with more than tags beside the message
            envelope(r#","tags":["t"],"_conf":{"identity":true}"#),
            envelope(r#","log":"x""#),
            envelope(r#","tags":["a"],"tags":["b"]"#),
            envelope(r#","tags":[{"x":true}]"#),
            envelope(&format!(r#","json":{FULL}"#)),
            format!(r#"{{"json":[{FULL}]}}"#),
            // settings as an object or under another name, a name sent twice, nesting, a
            // byte-order mark
            with(FULL, "_conf", r#"{"identity":true}"#),
            with(FULL, "_confx", "1"),
            format!("{}{}", &FULL[..FULL.len() - 1], r#","id":1}"#),
            with(FULL, "maltype", "[1]"),
            format!("\u{feff}{FULL}"),
            // not an object, not JSON
            format!("[{FULL}]"),
            FULL[..FULL.len() - 1].to_string(),
        ] {
            assert_eq!(document(&left, &o), None, "{left}");
        }
        // identity, limits the text is over
        // identity, and settings beside the fields (Fluent Bit's `modify`), are taken
        let conf = with(FULL, "_conf.identity", r#""true""#);
        assert!(same_as_general(&conf, &o));
        assert!(same_as_general(FULL, &opts(r#"{"identity": true}"#)));
        assert_eq!(
            document(FULL, &opts(r#"{"limits": {"max_string_bytes": 100}}"#)),
            None
        );
        assert_eq!(
            document(FULL, &opts(r#"{"limits": {"max_depth": 0}}"#)),
            None
        );
        assert_eq!(
            document(FULL, &opts(r#"{"limits": {"max_documents": 0}}"#)),
            None
        );
    }
}
