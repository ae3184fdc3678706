//! The ThreatStream data sets without trees (the frame is `crate::direct`'s):
//! [`push`] for pushed indicators, [`api`] for the API's intelligence objects, and what
//! they share here — the parts of the document both set ([`Head`]), its writer, and
//! the vendor fields read as the general paths read them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::dates::Stamp;
use crate::direct::{Obj, Written};
use crate::json::{Map, Value, name_order, write};
use crate::options::Options;
use crate::{Cleanup, Dataset, dates};

pub mod api;
pub mod push;

/// The parts of a document both data sets set, beside `threat.indicator`.
#[derive(Default)]
pub struct Head<'a> {
    /// `@timestamp` (always set by the mapping).
    pub timestamp: Option<Stamp>,
    /// `event.created`.
    pub created: Option<Cow<'a, str>>,
    /// `event.severity`.
    pub severity: Option<i64>,
    pub related_hash: Option<Cow<'a, str>>,
    pub related_hosts: Vec<Cow<'a, str>>,
    pub related_ip: Option<Cow<'a, str>>,
    pub related_user: Vec<Cow<'a, str>>,
    /// The mapping's tags (the record's come before them).
    pub tags: Vec<Cow<'a, str>>,
    /// `threat.indicator.name`: the indicator's value.
    pub name: Cow<'a, str>,
    /// The id as the vendor object keeps it (a string by now), for the IOC key (kept
    /// with identity on only).
    pub id: Option<Value<'a>>,
    /// Members of `anomali.threatstream` the mapping made ([`Made`]), in no order.
    pub made: [Option<(&'static str, Made)>; MADE],
}

/// How many members of `anomali.threatstream` a mapping makes at most ([`Made`]).
const MADE: usize = 6;

/// A member of `anomali.threatstream` the mapping made, kept as what it is until the
/// document is written, where it goes in its place by name: no string is made for it.
#[derive(Clone, Copy)]
pub enum Made {
    /// An integer id, written as a string.
    Unsigned(u64),
    /// A negative integer id, written as a string.
    Signed(i64),
    /// A date.
    Date(Stamp),
}

impl Made {
    /// Writes the member's value.
    fn write(self, out: &mut Vec<u8>) {
        match self {
            Made::Unsigned(u) => {
                out.push(b'"');
                dates::decimal(u, out);
                out.push(b'"');
            }
            Made::Signed(i) => {
                // `dates::signed` written out with the opening quote: through it, the
                // corpus's pushes took 1 % more instructions (the compiler inlined
                // `write_vendor` differently)
                out.extend_from_slice(if i < 0 { b"\"-" } else { b"\"" });
                dates::decimal(i.unsigned_abs(), out);
                out.push(b'"');
            }
            Made::Date(d) => d.write(out),
        }
    }
}

impl<'a> Head<'a> {
    /// Adds a member of `anomali.threatstream` the mapping made; `None` when there is no
    /// room (`MADE` was set too low for the mapping: its tests would fail).
    pub fn make(&mut self, name: &'static str, value: Made) -> Option<()> {
        let slot = self.made.iter_mut().find(|m| m.is_none())?;
        *slot = Some((name, value));
        Some(())
    }

    /// Adds `user` to `related.user` unless there.
    pub fn related_user(&mut self, user: Cow<'a, str>) {
        if !self.related_user.contains(&user) {
            self.related_user.push(user);
        }
    }
}

/// The IOC key of a ThreatStream document: its id, else its value.
fn key(dataset: Dataset, h: &Head<'_>) -> String {
    super::common::key(dataset.id(), h.id.as_ref(), Some(&h.name))
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

/// A field read as text the way the general path reads it with `peek_text` or
/// `take_text`, numbers and booleans written out: `Ok(None)` for an empty string,
/// `null` or nothing; `Err` for a list or an object (an error there).
fn scalar<'a>(v: &Option<Value<'a>>) -> Result<Option<Cow<'a, str>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => super::common::scalar_text(v)
            .map(|s| (!s.is_empty()).then_some(s))
            .ok_or(()),
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

/// An address field as `common::set_ip` reads it: `Ok(None)` for nothing, `null` or
/// `""`, `Err` for what is not a valid address (an error there).
fn address<'a>(v: &Option<Value<'a>>) -> Result<Option<Cow<'a, str>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if crate::ecs::ip::parse(s).is_some() => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// A latitude or longitude as `set_location` reads it: `Ok(None)` for nothing or
/// `null`, `Err` for what is not a number within `limit`.
fn coordinate(v: Option<Value<'_>>, limit: f64) -> Result<Option<f64>, ()> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => super::common::number(&v)
            .filter(|n| n.abs() <= limit)
            .map(Some)
            .ok_or(()),
    }
}

/// The ids named `names` among the fields `ids`, as the general path keeps them
/// (`common::stringify`: numbers and booleans written out as strings), each handed to
/// `keep`; `id` also to the head with identity on (for the IOC key). `None` for an id
/// that is a list or an object (an error there).
fn ids<'a>(
    names: &[&'static str],
    ids: &mut [Option<Value<'a>>],
    identity: bool,
    h: &mut Head<'a>,
    mut keep: impl FnMut(&'static str, Value<'a>),
) -> Option<()> {
    for (name, id) in names.iter().zip(ids) {
        let id = match id.take() {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => Value::String(s),
            // an integer is written out where the document is written (unless the IOC
            // key needs the id as text)
            Some(Value::Number(n)) if !(identity && *name == "id") && integer(&n).is_some() => {
                h.make(name, integer(&n)?)?;
                continue;
            }
            Some(other) => Value::String(super::common::scalar_text(&other)?),
        };
        if identity && *name == "id" {
            h.id = Some(id.clone());
        }
        keep(name, id);
    }
    Some(())
}

/// An integer id as a [`Made`] member; `None` for a float.
#[inline]
fn integer(n: &serde_json::Number) -> Option<Made> {
    n.as_u64()
        .map(Made::Unsigned)
        .or_else(|| n.as_i64().map(Made::Signed))
}

/// Writes `anomali.threatstream`: the members of `vendor` (sorted by name) and those the
/// mapping made, in name order, as if all were in `vendor` (written with the same
/// cleanup).
fn write_vendor(vendor: Map<'_>, made: &[Option<(&'static str, Made)>; MADE], out: &mut Vec<u8>) {
    if made[0].is_none() {
        // nothing made (filled from the first place on)
        write::value(&Value::Object(vendor), Some(Cleanup::AllEmpty), out);
        return;
    }
    let mut made = *made;
    made.sort_unstable_by(|a, b| match (a, b) {
        (Some(a), Some(b)) => name_order(a.0, b.0),
        // the empty places last
        (a, b) => b.is_some().cmp(&a.is_some()),
    });
    let mut made = made.into_iter().flatten().peekable();
    let mut first = true;
    out.push(b'{');
    for (name, v) in vendor.iter() {
        while let Some((m, value)) = made.next_if(|(m, _)| name_order(m, name).is_lt()) {
            write::key(m, &mut first, out);
            value.write(out);
        }
        write::member(name, v, Some(Cleanup::AllEmpty), &mut first, out);
    }
    for (m, value) in made {
        write::key(m, &mut first, out);
        value.write(out);
    }
    out.push(b'}');
}

/// Writes the document: the names of every object in byte order, as the general path
/// sorts them, and nothing its cleanup would drop.
fn write_document(
    dataset: Dataset,
    h: &Head<'_>,
    vendor: Map<'_>,
    w: Written<'_>,
    opts: &Options,
    out: &mut Vec<u8>,
    indicator: impl FnOnce(&mut Obj<'_>),
) {
    let info = dataset.info();
    let tags = w.tags(&h.tags, info.unique_tags);
    let mut d = Obj::open(out);
    d.date("@timestamp", h.timestamp);
    d.object("anomali", |a| {
        let out = a.name("threatstream");
        write_vendor(vendor, &h.made, out);
    });
    d.constants(info);
    d.event(info, opts, &w, h.created.as_deref(), h.severity);
    d.labels(&w);
    let related = h.related_hash.is_some()
        || !h.related_hosts.is_empty()
        || h.related_ip.is_some()
        || !h.related_user.is_empty();
    if related {
        d.object("related", |r| {
            r.strings("hash", h.related_hash.as_deref());
            r.strings("hosts", h.related_hosts.iter().map(|h| h.as_ref()));
            r.strings("ip", h.related_ip.as_deref());
            r.strings("user", h.related_user.iter().map(|u| u.as_ref()));
        });
    }
    d.strings("tags", tags);
    d.object("threat", |t| {
        t.feed(info);
        t.object("indicator", indicator);
    });
    d.close();
}
