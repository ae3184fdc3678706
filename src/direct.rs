//! Records without trees: a vendor object read into typed, borrowed fields and its
//! document written straight from them — the frame the data sets' direct paths share.
//!
//! The general path reads a record into a value tree, maps it into a document tree
//! ([`crate::Doc`]) and writes that. Most records are one vendor object — bare, with
//! literal `_conf.<setting>` members beside its fields (Fluent Bit's `modify` adds
//! them), or in one of Elastic's envelopes, `{"message": "<the object as text>",
//! "tags": [...]}` or `{"json": {<the object>}}` — and a data set with a direct path
//! takes those: each member is read once ([`crate::json::members`]) into the field the
//! mapping reads it from (names it does not map are kept aside, borrowed), the mapping
//! works on those fields, and the document is written once, in the order the general
//! path sorts it into. No document tree, no path walks, no lookups by name. The object
//! in a `message` is read where it sits in the record, escaped
//! ([`crate::json::Quoted`]), unless it escapes more than its quotes there (then
//! it is unescaped first) or the document keeps it as `event.original` or hashes it.
//!
//! This module is what every direct path shares — the envelopes, the settings, the
//! record's identity and `event.original`, the writer's steps, the tests' harness — and
//! a data set's side (the `Mapping` trait) is its fields, its mapping and its document:
//! `sources::anomali::direct` (ThreatStream pushes and API objects) and
//! `sources::misp::direct` (MISP attributes). A MISP event, one record of many
//! documents, has a direct path of its own that writes with this module's writer
//! (`sources::misp::whole`).
//!
//! A direct path gives what the general path gives, byte for byte, or nothing: whatever
//! it does not take exactly as the general path does — another envelope, `_conf` as an
//! object, a name sent twice, any field the mapping would answer with an error, a value
//! of an unusual type, a record over a limit, a byte-order mark — it leaves to the
//! general path, which makes the document (or the error document) as before. Each data
//! set's tests hold the two paths equal on the golden inputs, Elastic's samples and
//! every field of a record set to values of every kind, under options of every kind.

use std::borrow::Cow;

use crate::dates::Stamp;
use crate::ecs::url::UrlParts;
use crate::envelope::{add_tags, is_raw_field, names_an_envelope};
use crate::json::{Json, Map, Part, Quoted, Take, Value, members, members_as, write};
use crate::options::{Limits, Options};
use crate::{Cleanup, Dataset, DatasetInfo};

/// A member of the vendor object: its name and value, borrowed from the record.
pub(crate) type Member<'t> = (Cow<'t, str>, Value<'t>);

/// What the `labels.ioc_fingerprint` of a document covers, with identity on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fingerprint {
    /// The vendor object (its names sorted, settings taken out), as the general path's
    /// `Doc::fingerprint_over` hashes it.
    Object,
    /// The text the document keeps as `event.original`.
    Original,
    /// Fields of the record, as the mapping says ([`Mapping::fingerprint`]).
    Fields,
}

/// A data set's side of the direct path.
pub(crate) trait Mapping {
    /// The data set.
    const DATASET: Dataset;
    /// Whether the vendor object's members may hold lists and objects; else they are
    /// scalars, and a record with a nested member is left to the general path.
    const NESTED: bool;
    /// What the fingerprint covers.
    const FINGERPRINT: Fingerprint;
    /// The fields the mapping reads, each as sent.
    type Fields<'t>: Default;
    /// What the mapping made of them.
    type Mapped<'t>: Default;

    /// The field the member `name` is read into; `None` for a name the mapping does
    /// not read.
    fn slot<'f, 't>(f: &'f mut Self::Fields<'t>, name: &str) -> Option<&'f mut Option<Value<'t>>>;

    /// What becomes of a member the mapping does not read: kept as sent (`true`),
    /// dropped (`false`), or the record left to the general path (`None`).
    fn unread(f: &mut Self::Fields<'_>, name: &str) -> Option<bool>;

    /// The mapping, made in `made` (a default one); what stays in the vendor object is
    /// added to `rest`. `None` where the general path would record an error, or reads a
    /// value in a way this path does not. (`made` is lent rather than returned: a return
    /// copies what the mapping made, three copies a record in the pushes' profile.)
    fn map<'t>(
        f: &mut Self::Fields<'t>,
        rest: &mut Vec<Member<'t>>,
        duration: &str,
        identity: bool,
        opts: &Options,
        made: &mut Self::Mapped<'t>,
    ) -> Option<()>;

    /// The document's IOC key; `None` leaves the record to the general path.
    fn key(m: &mut Self::Mapped<'_>) -> Option<String>;

    /// The fingerprint of a [`Fingerprint::Fields`] data set; `None` leaves the record
    /// to the general path.
    fn fingerprint(_: &mut Self::Mapped<'_>) -> Option<String> {
        None
    }

    /// Writes the document: `vendor` is what stays of the vendor object. (`m` is lent,
    /// not moved: a move copies what the mapping made, and in the wasm guests a copy of
    /// that size is a call out to the host's `memory.copy`.)
    fn write(
        m: &mut Self::Mapped<'_>,
        vendor: Map<'_>,
        w: Written<'_>,
        opts: &Options,
        out: &mut Vec<u8>,
    );
}

/// The document of `text`, a record of the data set `M` (a bare vendor object, with
/// `_conf.<setting>` members, or in Elastic's `message` or `json` envelope), written as
/// JSON (no newline): the general path's bytes, or `None` to leave the record to it
/// (see the module's documentation).
pub(crate) fn document<M: Mapping>(text: &str, opts: &Options) -> Option<Vec<u8>> {
    if !within_limits(text, &opts.limits) {
        return None;
    }
    vendor_document::<M>(Vendor::Text(text, Place::Record), &opts.tags, opts)
        .or_else(|| in_place::<M>(text, opts))
        .or_else(
            || match envelope(text, envelope_depth::<M>(&opts.limits), opts)? {
                (Inner::Message(inner), tags) => {
                    vendor_document::<M>(Vendor::Text(&inner, Place::Envelope), &tags, opts)
                }
                (Inner::Json(object), tags) => {
                    vendor_document::<M>(Vendor::Object(object), &tags, opts)
                }
            },
        )
}

/// The document of `text` in Elastic's `message` envelope, the vendor object read where
/// it sits in the message, escaped ([`Quoted`]), and its tags as [`envelope`] reads them;
/// `None` for any other record, for a message that escapes more than its quotes (left to
/// [`envelope`], which unescapes it first), and where the document would keep the text
/// (`event.original`) or hash it.
fn in_place<M: Mapping>(text: &str, opts: &Options) -> Option<Vec<u8>> {
    if opts.raw_field.is_some()
        || crate::preserves(opts, &opts.tags)
        || (opts.identity && M::FINGERPRINT != Fingerprint::Fields)
    {
        return None;
    }
    let (mut read, mut got) = (Read::<M>::new(), false);
    let (mut tags, mut tagged) = (opts.tags.clone(), false);
    members_as(
        text,
        envelope_depth::<M>(&opts.limits),
        |name| match name {
            "message" => Some(Take::Quoted),
            "tags" => Some(Take::Read),
            _ => None,
        },
        |name, part| {
            match (&*name, part) {
                ("message", Part::Quoted(q)) if !got => {
                    read_vendor::<M>(Vendor::Quoted(q), false, opts, &mut read)?;
                    got = true;
                }
                ("tags", Part::Read(t)) if !tagged => {
                    tagged = true;
                    add_tags(&mut tags, t);
                }
                // sent twice, or of another kind
                _ => return None,
            }
            Some(())
        },
    )?;
    got.then_some(())?;
    finish::<M>(&mut read, &tags, opts)
}

/// Whether [`document`] may read `text` within `limits` ([`read_as_is`]; a flat object
/// nests one level, an envelope two; the one document is within the count).
fn within_limits(text: &str, limits: &Limits) -> bool {
    read_as_is(text, limits) && limits.max_depth >= 2 && limits.max_documents >= 1
}

/// How deep [`document`] reads an envelope of a record of `M`.
fn envelope_depth<M: Mapping>(limits: &Limits) -> usize {
    if M::NESTED { limits.max_depth } else { 2 }
}

/// How deep the vendor object of a record of `M` is read (a flat one: one level).
fn vendor_depth<M: Mapping>(limits: &Limits) -> usize {
    if M::NESTED { limits.max_depth } else { 1 }
}

/// [`document`] as a data set's [`crate::DirectFn`]: the one document pushed to `out`.
pub(crate) fn one<M: Mapping>(text: &str, opts: &Options, out: &mut Vec<Vec<u8>>) -> bool {
    document::<M>(text, opts).map(|d| out.push(d)).is_some()
}

/// The document of `text`, an item of a whole response that `crate::stream` splits, as
/// the data set's streamed item gives it: the item's members are all vendor fields (no
/// envelope, no settings), and a document that keeps `event.original` (the item's JSON
/// as the general path writes it) is left to the general path.
pub(crate) fn item<M: Mapping>(text: &str, opts: &Options, out: &mut Vec<Vec<u8>>) -> bool {
    let limits = &opts.limits;
    if crate::preserves(opts, &opts.tags) || !read_as_is(text, limits) || limits.max_depth < 2 {
        return false;
    }
    vendor_document::<M>(Vendor::Text(text, Place::Envelope), &opts.tags, opts)
        .map(|d| out.push(d))
        .is_some()
}

/// Whether the general path reads `text` as it is, within the limits it checks on its
/// own: no longer than a record or a string may be (the text is either, and every
/// string in it shorter), and without a byte-order mark (which it takes off first). A
/// direct path checks this before reading; what it reads further (depth, documents) it
/// checks itself.
pub(crate) fn read_as_is(text: &str, limits: &Limits) -> bool {
    text.len() <= limits.max_input_bytes.min(limits.max_string_bytes)
        && !text.starts_with('\u{feff}')
}

/// What an envelope holds.
enum Inner<'a> {
    /// The vendor JSON as text (`message`).
    Message(Cow<'a, str>),
    /// The vendor object, read (`json`, as Elastic's agent hands it over).
    Json(Map<'a>),
}

/// What a record in one of Elastic's envelopes holds, `{"message": "<vendor JSON>"}` or
/// `{"json": {<vendor object>}}` (read to `depth` levels, the envelope's included), and
/// its tags (the options' tags, then the envelope's `tags`, added as the general path
/// adds them); `None` for any other record, and for an envelope with anything else
/// beside them.
fn envelope<'a>(text: &'a str, depth: usize, opts: &Options) -> Option<(Inner<'a>, Vec<String>)> {
    if opts.raw_field.is_some() {
        return None;
    }
    let (mut inner, mut tags, mut tagged) = (None, opts.tags.clone(), false);
    members(
        text,
        depth,
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
enum Vendor<'r, 't> {
    /// As text, found at a place.
    Text(&'t str, Place),
    /// As text escaped in a JSON string (an envelope's `message`), read where it sits:
    /// neither kept (`event.original`) nor read again (a fingerprint of the object).
    Quoted(Quoted<'r, 't>),
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

/// The document of the vendor JSON `vendor`, with the record's tags `rec_tags`.
fn vendor_document<M: Mapping>(
    vendor: Vendor<'_, '_>,
    rec_tags: &[String],
    opts: &Options,
) -> Option<Vec<u8>> {
    let keep_object = opts.identity || crate::preserves(opts, rec_tags);
    let mut read = Read::new();
    read_vendor::<M>(vendor, keep_object, opts, &mut read)?;
    finish::<M>(&mut read, rec_tags, opts)
}

/// The vendor object read into the mapping's fields, and what [`finish`] needs of how.
struct Read<'t, M: Mapping> {
    f: M::Fields<'t>,
    /// The members the mapping does not read, kept.
    rest: Vec<Member<'t>>,
    /// The settings beside the fields (`_conf.<setting>`), their prefix taken off.
    conf: Vec<Member<'t>>,
    place: Place,
    /// The text it was read from, when it can be kept or read again.
    text: Option<&'t str>,
    /// The object as the general path holds it, when it was read already and kept.
    kept: Option<Map<'t>>,
    /// How long the vendor JSON is, about.
    size: usize,
}

impl<M: Mapping> Read<'_, M> {
    /// Nothing read yet, nothing allocated (room is made when reading starts). (Filled
    /// and used in place: the fields are most of a kilobyte, and moving them in and out
    /// of calls cost a copy each time.)
    fn new() -> Self {
        Read {
            f: M::Fields::default(),
            rest: Vec::new(),
            conf: Vec::new(),
            place: Place::Envelope,
            text: None,
            kept: None,
            size: 1024,
        }
    }
}

/// Whether `name` is a setting beside the vendor fields of a record found at `place`.
#[inline]
fn is_conf(place: Place, name: &str) -> bool {
    place == Place::Record && name.starts_with(CONF)
}

/// Whether the direct path reads a member named `name` of vendor JSON found at `place`:
/// names that are not an envelope's, and settings.
#[inline]
fn plain(place: Place, name: &str, opts: &Options) -> bool {
    !names_an_envelope(name, opts) || (is_conf(place, name) && !is_raw_field(name, opts))
}

/// `vendor` read into `r`, the fields of `M` (new); an object read already is kept
/// when `keep_object` (for `event.original` or the fingerprint).
#[inline(always)]
fn read_vendor<'t, M: Mapping>(
    vendor: Vendor<'_, 't>,
    keep_object: bool,
    opts: &Options,
    r: &mut Read<'t, M>,
) -> Option<()> {
    if let Vendor::Text(text, place) = &vendor {
        (r.place, r.size) = (*place, text.len());
    }
    let place = r.place;
    r.rest.reserve(if M::NESTED { 40 } else { 16 });
    let (f, rest, conf) = (&mut r.f, &mut r.rest, &mut r.conf);
    let plain = |name: &str| plain(place, name, opts);
    let depth = vendor_depth::<M>(&opts.limits);
    let mut take = |name: Cow<'t, str>, v: Value<'t>| {
        if is_conf(place, &name) {
            let setting = match name {
                Cow::Borrowed(n) => Cow::Borrowed(&n[CONF.len()..]),
                Cow::Owned(n) => Cow::Owned(n[CONF.len()..].to_string()),
            };
            conf.push((setting, v));
            return Some(());
        }
        match M::slot(f, &name) {
            // sent twice: the general path reads the last, left to it
            Some(slot) if slot.is_some() => None,
            Some(slot) => {
                *slot = Some(v);
                Some(())
            }
            None => {
                // kept even when the cleanup drops it: a name sent twice keeps its last
                if M::unread(f, &name)? {
                    rest.push((name, v));
                }
                Some(())
            }
        }
    };
    let (text, kept) = match vendor {
        Vendor::Text(text, _) => {
            members(text, depth, plain, take)?;
            (Some(text), None)
        }
        Vendor::Quoted(q) => {
            q.members(depth, plain, &mut take)?;
            (None, None)
        }
        Vendor::Object(object) => {
            let kept = keep_object.then(|| object.clone());
            for (name, v) in object {
                // a nested value where the data set has none, or a name the text path
                // leaves alone: left to the general path
                if (!M::NESTED && matches!(v, Value::Array(_) | Value::Object(_))) || !plain(&name)
                {
                    return None;
                }
                take(name, v)?;
            }
            (None, kept)
        }
    };
    (r.text, r.kept) = (text, kept);
    Some(())
}

/// The document of the vendor object `read`, with the record's tags `rec_tags`.
/// (This and [`read_vendor`] are inlined into their callers, as the one function they
/// were split from was: out of line, a bare push took 1 % more instructions.)
#[inline(always)]
fn finish<M: Mapping>(r: &mut Read<'_, M>, rec_tags: &[String], opts: &Options) -> Option<Vec<u8>> {
    let Read {
        f,
        rest,
        conf,
        place,
        text,
        kept,
        size,
    } = r;
    let (place, text, kept, size) = (*place, *text, kept.take(), *size);
    let conf = std::mem::take(conf);
    let preserve = crate::preserves(opts, rec_tags);
    let depth = vendor_depth::<M>(&opts.limits);
    // the settings as the general path reads them (the last of a name kept); with any,
    // `event.original` is the record without them
    let settled = !conf.is_empty();
    let (duration, identity) = crate::envelope::settings(&Map::from_entries(conf));
    let identity = identity.unwrap_or(opts.identity);
    let by_object = identity && M::FINGERPRINT == Fingerprint::Object;
    // the text `event.original` keeps (also what a fingerprint of it covers)
    let original_read = preserve || (identity && M::FINGERPRINT == Fingerprint::Original);
    // The record's object without its settings, as the general path holds it: what the
    // object's fingerprint covers, and `event.original` when settings were taken out.
    // Read again from the text only when needed.
    let whole = match (text, kept) {
        (_, Some(object)) => Some(object),
        (Some(text), None) if by_object || (original_read && settled) => {
            let mut all = Vec::with_capacity(32);
            let plain = |name: &str| plain(place, name, opts);
            members(text, depth, plain, |name, v| {
                if !is_conf(place, &name) {
                    all.push((name, v));
                }
                Some(())
            })?;
            Some(Map::from_entries(all))
        }
        _ => None,
    };
    // the record's text, else (settings taken out, or read already) its object written
    // again, as the general path writes it
    let original = match (original_read, text, &whole) {
        (false, _, _) => None,
        (true, Some(text), _) if !settled => Some(Cow::Borrowed(text)),
        (true, _, Some(whole)) => Some(Cow::Owned(whole.to_json())),
        (true, _, None) => return None,
    };
    let fingerprint = match (identity, M::FINGERPRINT) {
        (false, _) => None,
        (true, Fingerprint::Object) => Some(crate::doc::fingerprint_of([Some(whole.as_ref()?)])),
        (true, Fingerprint::Original) => {
            Some(crate::doc::sha256_hex(original.as_ref()?.as_bytes()))
        }
        // the mapping's, once it has mapped
        (true, Fingerprint::Fields) => None,
    };
    let duration = duration.as_deref().unwrap_or(&opts.ioc_expiration_duration);
    let mut mapped = M::Mapped::default();
    M::map(f, rest, duration, identity, opts, &mut mapped)?;
    let identity = match (identity, fingerprint) {
        (false, _) => None,
        (true, Some(fp)) => Some((M::key(&mut mapped)?, fp)),
        (true, None) => Some((M::key(&mut mapped)?, M::fingerprint(&mut mapped)?)),
    };
    let mut out = Vec::with_capacity(size * 2 + 1024);
    M::write(
        &mut mapped,
        Map::from_entries(std::mem::take(rest)),
        Written {
            original: original.as_deref().filter(|_| preserve),
            rec_tags,
            identity: identity.as_ref().map(|(k, fp)| (k.as_str(), fp.as_str())),
        },
        opts,
        &mut out,
    );
    // written from strings and from JSON our writer wrote: UTF-8 (checked where it is
    // read as text, `Finished::to_json`)
    Some(out)
}

/// The writer's state in one object: whether a member was written yet.
pub(crate) struct Obj<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Obj<'o> {
    #[inline]
    pub(crate) fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// An object `out` holds the opening of already, members and all: the next member
    /// follows a comma.
    #[inline]
    pub(crate) fn resume(out: &'o mut Vec<u8>) -> Self {
        Obj { out, first: false }
    }

    /// The name of the next member (a literal, nothing to escape) and its colon.
    #[inline]
    pub(crate) fn name(&mut self, name: &str) -> &mut Vec<u8> {
        self.named(name, write::plain)
    }

    /// The name of the next member, escaped as JSON needs, and its colon.
    #[inline]
    pub(crate) fn name_escaped(&mut self, name: &str) -> &mut Vec<u8> {
        self.named(name, write::string)
    }

    /// The next member's comma, then its name as `write_name` writes it, and its colon.
    #[inline]
    fn named(&mut self, name: &str, write_name: fn(&str, &mut Vec<u8>)) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        write_name(name, self.out);
        self.out.push(b':');
        self.out
    }

    /// A member named `name` (escaped as JSON needs) written by `body`, an object of
    /// its own.
    #[inline]
    pub(crate) fn object_escaped(&mut self, name: &str, body: impl FnOnce(&mut Obj<'_>)) {
        Obj::nested(self.name_escaped(name), body);
    }

    /// A string member, left out when empty (the cleanup's rule).
    #[inline]
    pub(crate) fn string(&mut self, name: &str, v: Option<&str>) {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            let out = self.name(name);
            write::string(v, out);
        }
    }

    /// A date member, left out when `None`.
    #[inline]
    pub(crate) fn date(&mut self, name: &str, v: Option<Stamp>) {
        if let Some(v) = v {
            v.write(self.name(name));
        }
    }

    /// A literal string member.
    #[inline]
    pub(crate) fn lit(&mut self, name: &str, v: &str) {
        let out = self.name(name);
        write::plain(v, out);
    }

    /// A list of strings, left out when nothing of it is written.
    #[inline]
    pub(crate) fn strings<'s>(&mut self, name: &str, items: impl IntoIterator<Item = &'s str>) {
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

    /// A number member.
    #[inline]
    pub(crate) fn number(&mut self, name: &str, n: impl serde::Serialize) {
        // writing a number into a vector cannot fail
        let _ = serde_json::to_writer(&mut *self.name(name), &n);
    }

    /// A member written by `body`, an object of its own.
    #[inline]
    pub(crate) fn object(&mut self, name: &str, body: impl FnOnce(&mut Obj<'_>)) {
        Obj::nested(self.name(name), body);
    }

    /// An object written by `body` into `out`, after a member's name.
    #[inline]
    fn nested(out: &mut Vec<u8>, body: impl FnOnce(&mut Obj<'_>)) {
        let mut inner = Obj::open(out);
        body(&mut inner);
        inner.close();
    }

    #[inline]
    pub(crate) fn close(self) {
        self.out.push(b'}');
    }

    /// `data_stream` and `ecs`, the constants of every document of `info`'s data set.
    pub(crate) fn constants(&mut self, info: &DatasetInfo) {
        self.members_json(info.constants_json);
    }

    /// `event` of an indicator document of `info`'s data set: `created` and `severity`
    /// when known, `original` when kept.
    pub(crate) fn event(
        &mut self,
        info: &DatasetInfo,
        opts: &Options,
        w: &Written<'_>,
        created: Option<&str>,
        severity: Option<i64>,
    ) {
        self.object("event", |ev| {
            ev.json("category", r#"["threat"]"#);
            ev.string("created", created);
            ev.lit("dataset", info.id);
            ev.date("ingested", Some(Stamp::Es(opts.now)));
            ev.lit("kind", "enrichment");
            ev.lit("module", info.module);
            ev.string("original", w.original);
            if let Some(s) = severity {
                ev.number("severity", s);
            }
            ev.json("type", r#"["indicator"]"#);
        });
    }

    /// `labels`: the identity, when on, and the transform's mark.
    pub(crate) fn labels(&mut self, w: &Written<'_>) {
        let Some((key, fingerprint)) = w.identity else {
            // without identity, the same in every document
            return self.members_json(r#""labels":{"is_ioc_transform_source":"true"}"#);
        };
        self.object("labels", |l| {
            l.string("ioc_fingerprint", Some(fingerprint));
            l.string("ioc_key", Some(key));
            l.lit("is_ioc_transform_source", "true");
        });
    }

    /// `feed`, the constants of `threat.feed`.
    pub(crate) fn feed(&mut self, info: &DatasetInfo) {
        self.members_json(info.feed_json);
    }

    /// Members written already as JSON text (`"a":1,"b":{…}`), in one copy.
    #[inline]
    fn members_json(&mut self, json: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.out.extend_from_slice(json.as_bytes());
    }

    /// A member whose value is JSON text written already (a constant list).
    #[inline]
    fn json(&mut self, name: &str, json: &str) {
        self.name(name).extend_from_slice(json.as_bytes());
    }

    /// `as`: the AS number and its organization's name, when either is known.
    pub(crate) fn autonomous_system(&mut self, number: Option<u32>, organization: Option<&str>) {
        if number.is_none() && organization.is_none() {
            return;
        }
        self.object("as", |a| {
            if let Some(n) = number {
                a.number("number", n);
            }
            if let Some(org) = organization {
                a.object("organization", |o| o.string("name", Some(org)));
            }
        });
    }

    /// `url`: a URL's parts (`url`, with the URL as sent), else only the domain
    /// `domain`; nothing when neither is known.
    pub(crate) fn url(&mut self, url: Option<&(Cow<'_, str>, UrlParts)>, domain: Option<&str>) {
        if url.is_none() && domain.is_none() {
            return;
        }
        let none = UrlParts::default();
        let (original, p) = match url {
            Some((original, p)) => (Some(original.as_ref()), p),
            None => (None, &none),
        };
        self.object("url", |u| {
            u.string("domain", p.domain.as_deref().or(domain));
            u.string("extension", p.extension.as_deref());
            u.string("fragment", p.fragment.as_deref());
            u.string("full", original);
            u.string("original", original);
            u.string("password", p.password.as_deref());
            u.string("path", p.path.as_deref());
            if let Some(port) = p.port {
                u.number("port", port);
            }
            u.string("query", p.query.as_deref());
            u.string("scheme", p.scheme.as_deref());
            u.string("user_info", p.user_info.as_deref());
            u.string("username", p.username.as_deref());
        });
    }

    /// `email.address`, when known.
    pub(crate) fn email(&mut self, address: Option<&str>) {
        if let Some(address) = address {
            self.object("email", |m| m.string("address", Some(address)));
        }
    }

    /// `geo`: the country's code and the location, when either is known.
    pub(crate) fn geo(&mut self, country: Option<&str>, location: Option<(f64, f64)>) {
        if country.is_none() && location.is_none() {
            return;
        }
        self.object("geo", |g| {
            g.string("country_iso_code", country);
            if let Some((lat, lon)) = location {
                g.object("location", |l| {
                    l.number("lat", lat);
                    l.number("lon", lon);
                });
            }
        });
    }
}

/// Writes `fields` — dotted paths and their values — as the members of one JSON object,
/// nested at the dots, the names at every level in byte order as the general path sorts
/// them; of a path set twice, the last value. Values are written with `cleanup`.
pub(crate) fn write_paths(
    fields: &mut Vec<(Cow<'_, str>, Value<'_>)>,
    cleanup: Cleanup,
    o: &mut Obj<'_>,
) {
    // stable: of a path set twice, the later is kept
    fields.sort_by(|a, b| path_order(&a.0, &b.0));
    fields.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
    members(fields, 0, cleanup, o);

    /// The members of `fields`, whose paths share their first `at` bytes.
    fn members(fields: &[(Cow<'_, str>, Value<'_>)], at: usize, cleanup: Cleanup, o: &mut Obj<'_>) {
        let mut i = 0;
        while i < fields.len() {
            let rest = &fields[i].0[at..];
            match rest.bytes().position(|c| c == b'.') {
                None => {
                    let v = &fields[i].1;
                    if !(v.is_null() && cleanup == Cleanup::NullsOnly) {
                        let out = o.name_escaped(rest);
                        write::value(v, Some(cleanup), out);
                    }
                    i += 1;
                }
                Some(dot) => {
                    let head = &rest[..=dot];
                    let end = i + fields[i..]
                        .iter()
                        .take_while(|(p, _)| p[at..].starts_with(head))
                        .count();
                    o.object_escaped(&rest[..dot], |inner| {
                        members(&fields[i..end], at + dot + 1, cleanup, inner)
                    });
                    i = end;
                }
            }
        }
    }
}

/// Dotted paths in the order of their nested objects' names: segment by segment, each
/// in byte order — the byte order of the paths with each dot counted below every other
/// byte (a segment ends before any longer one it begins).
fn path_order(a: &str, b: &str) -> std::cmp::Ordering {
    let rank = |c: u8| if c == b'.' { 0 } else { u16::from(c) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(c, d)| c != d) {
        Some((c, d)) => rank(*c).cmp(&rank(*d)),
        None => a.len().cmp(&b.len()),
    }
}

/// What a document carries beside its mapping.
pub(crate) struct Written<'w> {
    /// `event.original`, when kept.
    pub original: Option<&'w str>,
    /// The record's tags, before the mapping's.
    pub rec_tags: &'w [String],
    /// `labels.ioc_key` and `labels.ioc_fingerprint`, with identity on.
    pub identity: Option<(&'w str, &'w str)>,
}

impl<'w> Written<'w> {
    /// The document's tags, as the general path's `finish_with` orders them: the
    /// record's, then the mapping's `own` (without those the record has, when
    /// `unique`), and `preserve_original_event` first when the document keeps
    /// `event.original` and no tag says so already.
    pub(crate) fn tags<'s>(&'s self, own: &'s [Cow<'_, str>], unique: bool) -> Vec<&'s str> {
        let mut tags: Vec<&str> = self.rec_tags.iter().map(String::as_str).collect();
        for t in own {
            if !(unique && self.rec_tags.iter().any(|r| r == t)) {
                tags.push(t);
            }
        }
        if self.original.is_some() && !tags.contains(&"preserve_original_event") {
            tags.insert(0, "preserve_original_event");
        }
        tags
    }
}

/// What the tests of every direct path share.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::OptionsSpec;

    /// Values of every kind the mappings tell apart.
    pub const VALUES: &[&str] = &[
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
        "18446744073709551615",
        "-9223372036854775808",
        "123456789012345678901",
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
        "\" amber \"",
        "\"SHA256\"",
        "\"mal_file_name\"",
        "[1,\"2\",null,\"\"]",
        "[{\"name\":\"t\"},{\"name\":5},null,\"s\"]",
        "[{\"x\":1}]",
        "[[1]]",
        "{\"severity\":\"low\",\"registrant\":{\"email\":\"e@x.example\"},\"registrant_org\":\"O\"}",
        "{\"severity\":3,\"detail\":\"d\"}",
        "{\"registrant\":\"r\",\"registrant_email\":\"q@x.example\"}",
        "{\"registrant\":null,\"registrant_email\":\"\"}",
        "{\"error\":{\"code\":401}}",
    ];

    /// Options made from `spec`'s JSON (`now` fixed).
    pub fn opts(spec: &str) -> Options {
        let mut spec: serde_json::Value = serde_json::from_str(spec).unwrap();
        spec["now"] = "2026-12-01T00:00:00Z".into();
        serde_json::from_value::<OptionsSpec>(spec)
            .unwrap()
            .into_options()
            .unwrap()
    }

    /// The option sets every record is tried under.
    pub fn option_sets() -> Vec<Options> {
        [
            r#"{}"#,
            r#"{"preserve_original_event": true}"#,
            r#"{"tags": ["a", "", "preserve_original_event"], "severity_scale": "detection"}"#,
            r#"{"ioc_expiration_duration": "5h", "raw_field": "url"}"#,
            r#"{"raw_field": "detail.x"}"#,
            r#"{"identity": true}"#,
            r#"{"identity": true, "preserve_original_event": true}"#,
            r#"{"limits": {"max_depth": 1}}"#,
            r#"{"limits": {"max_depth": 2}}"#,
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

    /// Whether the direct path of `M` took `text` under `o`; when it did, its document
    /// is the general path's, byte for byte.
    pub fn same_as_general<M: Mapping>(text: &str, o: &Options) -> bool {
        let direct = document::<M>(text, o).map(|d| String::from_utf8(d).unwrap());
        if let Some(doc) = &direct {
            let general = crate::general_json(M::DATASET, text, o);
            if general.len() == 1 && general[0] != *doc {
                show_difference(&general[0], doc);
            }
            assert_eq!(
                general,
                std::slice::from_ref(doc),
                "record: {text}\noptions: {o:?}"
            );
        }
        direct.is_some()
    }

    /// Prints where two documents part, and what follows.
    pub fn show_difference(general: &str, direct: &str) {
        let at = general
            .bytes()
            .zip(direct.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        eprintln!(
            "DIFF general {}\nDIFF direct  {}",
            &general[at.saturating_sub(60)..],
            &direct[at.saturating_sub(60)..]
        );
    }

    /// `record` with `name` set to `value` (its own member replaced, else added last).
    pub fn with(record: &str, name: &str, value: &str) -> String {
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
    pub fn without(record: &str, name: &str) -> String {
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(record).unwrap();
        let kept: Vec<String> = v
            .iter()
            .filter(|(k, _)| *k != name)
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", kept.join(","))
    }

    /// Each of `bases` with each of `names` left out and set to each of `values`,
    /// under every option set: how many records were tried, and how many the direct
    /// path of `M` took (each giving the general path's document).
    pub fn every_field<M: Mapping>(
        bases: &[String],
        names: &str,
        values: &[&str],
    ) -> (usize, usize) {
        let sets = option_sets();
        let (mut tried, mut taken) = (0, 0);
        for base in bases {
            for name in names.split(' ') {
                let mut records = vec![without(base, name)];
                records.extend(values.iter().map(|v| with(base, name, v)));
                for r in &records {
                    for o in &sets {
                        tried += 1;
                        taken += usize::from(same_as_general::<M>(r, o));
                    }
                }
            }
        }
        (tried, taken)
    }

    /// 3 000 records made of `bases` with one to four of `names` left out or set to one
    /// of `values`, a third of them in an envelope, each under one option set: how many
    /// the direct path of `M` took (each giving the general path's document).
    pub fn random<M: Mapping>(bases: &[String], names: &str, values: &[&str]) -> usize {
        let mut next = sequence();
        let sets = option_sets();
        let names: Vec<&str> = names.split(' ').collect();
        let mut taken = 0;
        for _ in 0..3000 {
            let mut r = bases[next(bases.len())].clone();
            for _ in 0..1 + next(4) {
                let name = names[next(names.len())];
                r = match next(values.len() + 2) {
                    i if i < values.len() => with(&r, name, values[i]),
                    _ => without(&r, name),
                };
            }
            if next(3) == 0 {
                r = in_envelope(&r, &mut next);
            }
            let o = &sets[next(sets.len())];
            taken += usize::from(same_as_general::<M>(&r, o));
        }
        taken
    }

    /// How many of `records`, each under every option set, the direct path of `M` took
    /// (each giving the general path's document).
    pub fn taken<M: Mapping>(records: &[String]) -> usize {
        let sets = option_sets();
        records
            .iter()
            .flat_map(|r| sets.iter().map(move |o| (r, o)))
            .filter(|(r, o)| same_as_general::<M>(r, o))
            .count()
    }

    /// The lines of `path`, a file under `../shared/reference/elastic/`.
    pub fn reference_lines(path: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/elastic")
            .join(path);
        let text = std::fs::read_to_string(&path).unwrap();
        text.lines().map(str::to_string).collect()
    }

    /// A fixed sequence of numbers below `n` (xorshift).
    pub fn sequence() -> impl FnMut(usize) -> usize {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        }
    }

    /// Of `records` (those that are objects), each in the `message` envelope under
    /// every option set: how many the reading of the message where it sits, escaped
    /// (`in_place`), took (each giving the general path's document), and how many
    /// it could have (the message escapes nothing but quotes; the options need no
    /// `event.original` or fingerprint of it).
    fn read_where_they_sit<M: Mapping>(records: &[String]) -> (usize, usize) {
        let sets = option_sets();
        let (mut taken, mut could) = (0, 0);
        for r in records {
            let Ok(serde_json::Value::Object(_)) = serde_json::from_str(r) else {
                continue;
            };
            let message = serde_json::to_string(r).unwrap();
            let record = format!(r#"{{"message":{message},"tags":["t"]}}"#);
            let only_quotes = !message.replace("\\\"", "").contains('\\');
            for o in &sets {
                if !within_limits(&record, &o.limits) {
                    continue;
                }
                let Some(doc) = in_place::<M>(&record, o) else {
                    let refused = crate::preserves(o, &o.tags)
                        || (o.identity && M::FINGERPRINT != Fingerprint::Fields);
                    could +=
                        usize::from(only_quotes && !refused && same_as_general::<M>(&record, o));
                    continue;
                };
                assert!(only_quotes, "read with escapes: {record}");
                let general = crate::general_json(M::DATASET, &record, o);
                assert_eq!(
                    general,
                    [String::from_utf8(doc).unwrap()],
                    "{record}\n{o:?}"
                );
                taken += 1;
                could += 1;
            }
        }
        (taken, could)
    }

    /// A record in the `message` envelope is read where it sits, escaped, when only its
    /// quotes are escaped there (the other envelope tests may pass by the text unescaped
    /// first: this one holds that reading to the general path).
    #[test]
    fn messages_escaping_only_quotes_are_read_where_they_sit() {
        use crate::sources::{anomali::direct::api::Api, anomali::direct::push::Push};
        let mut pushes = crate::tests::golden_inputs(Dataset::AnomaliThreatstream);
        pushes.extend(reference_lines(
            "ti_anomali/_dev/deploy/docker/sample_logs/test-threatstream-ndjson.log",
        ));
        let counts = [
            read_where_they_sit::<Push>(&pushes),
            read_where_they_sit::<Api>(&crate::tests::golden_inputs(Dataset::AnomaliIntelligence)),
            read_where_they_sit::<crate::sources::misp::direct::Attribute>(
                &crate::tests::golden_inputs(Dataset::MispThreatAttributes),
            ),
        ];
        for (taken, could) in counts {
            // (most golden API pages and MISP attributes are not one object, or
            // escape more than quotes)
            assert!(taken >= 10 && taken == could, "{taken} of {could}");
        }
    }

    /// `record` in one of Elastic's envelopes, as text (`message`) or read (`json`),
    /// with envelope tags of one of several kinds, chosen by `next`.
    fn in_envelope(record: &str, next: &mut impl FnMut(usize) -> usize) -> String {
        let tags = [
            r#","tags":[]"#,
            r#","tags":["a","","a","preserve_original_event"]"#,
            r#","tags":["forwarded",null]"#,
            r#","tags":[1]"#,
            "",
            r#","tags":["b"],"other":1"#,
        ];
        let inner = if next(2) == 0 {
            format!(r#""message":{}"#, serde_json::to_string(record).unwrap())
        } else {
            format!(r#""json":{record}"#)
        };
        format!(r#"{{{inner}{}}}"#, tags[next(tags.len())])
    }
}
