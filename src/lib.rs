//! # ti-ecs
//!
//! Threat-intelligence records — Anomali ThreatStream indicators, MISP events and
//! attributes — into ECS documents with IOC expiration fields.
//!
//! ## The flow
//!
//! ```text
//! raw bytes ─► envelope::read ─► Record (vendor JSON, tags, _conf)
//!          ─► json::Value: the vendor JSON, its strings pointing into the record's text
//!          ─► sources::<dataset>::map ─► Doc per indicator, borrowing those strings
//!          ─► finish: constant fields, tags, errors, event.original, identity ─► Finished
//!          ─► cleanup, written as JSON with a stable key order ([`transform_to_json`]),
//!             or made a tree, a Document ([`transform`])
//! ```
//!
//! The vendor JSON is read into [`json::Value`], not `serde_json::Value`: a string without
//! escapes is not copied out of the record, and an object is one sorted vector, not a
//! `BTreeMap` of nodes; what a mapping moves into a document is moved or borrowed, not
//! copied. A `Doc` keeps the objects its dotted paths make as small vectors named by the
//! paths' literals, and the JSON is written from them directly: no `serde_json` tree of
//! the document is made on the way to its text (see [`doc`]). A document borrows its
//! record, so it is written (or made a tree, or [`Finished::into_owned`]) before the
//! record goes.
//!
//! A whole MISP attribute response takes a shorter way ([`transform_each`], [`stream`]):
//! split into the text of each attribute without building its tree, then each attribute
//! through the same mapping and `finish`, one at a time.
//!
//! [`transform`] never panics and never reads a clock: `now` comes in [`Options`].
//! A record that cannot be read or mapped becomes an error document
//! (`event.kind: pipeline_error`, `error.message`, `event.original`), never nothing.
//!
//! ## Adding a mapping
//!
//! Add a row to [`DATASETS`] and a `sources/<vendor>/<dataset>.rs` with a
//! `map(body, &Ctx, &mut Vec<Doc>)` function; its file opens with the headings Input,
//! ECS fields set, Expiration, References, and its tests sit at the bottom.

pub mod dates;
mod direct;
pub mod doc;
pub mod ecs;
pub mod envelope;
pub mod expiration;
pub mod json;
pub mod options;
pub mod sources;
pub mod stream;

pub mod bindings;

use std::borrow::Cow;
use std::cell::OnceCell;

use envelope::Raw;
use json::Value;
use serde_json::Map;

pub use doc::Doc;
use doc::Slot;
pub use options::{Limits, Options, OptionsSpec, SeverityScale};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = ecs_version!();

/// [`ECS_VERSION`] as a literal, for the constant JSON written into every document.
macro_rules! ecs_version {
    () => {
        "8.11.0"
    };
}
use ecs_version;

/// One output document: a JSON object.
pub type Document = Map<String, serde_json::Value>;

/// A data set: one kind of input record and its mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// ThreatStream indicators pushed by the Anomali "Elastic Extension".
    AnomaliThreatstream,
    /// ThreatStream REST API v2 intelligence objects and pages.
    AnomaliIntelligence,
    /// MISP `/events/restSearch` events, whole or split.
    MispThreat,
    /// MISP `/attributes/restSearch` attributes, single or whole responses.
    MispThreatAttributes,
}

/// What the mapping of one record sees besides the vendor JSON.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The call's options.
    pub opts: &'a Options,
    /// The IOC expiration duration in effect: the record's `_conf` value, else the option.
    pub duration: &'a str,
    /// Whether `duration` came from the record's `_conf`.
    pub duration_from_conf: bool,
    /// Whether every document keeps `event.original` (the option, or the record's tag
    /// `preserve_original_event`).
    pub preserve: bool,
}

impl Ctx<'_> {
    /// Whether the finished `d` reads its own `event.original`: to keep it (preserved, or
    /// the document has errors) or to hash it (identity on, and `d` has no key or no
    /// fingerprint of its own). A fan-out mapping builds an item's text only then; left
    /// unset, `finish` would fall back to the record's text, which nothing reads.
    pub fn needs_original(&self, d: &Doc) -> bool {
        self.preserve
            || !d.errors().is_empty()
            || (self.opts.identity && (d.key.is_none() || d.fingerprint.is_none()))
    }
}

/// Whether documents of a record with `rec_tags` keep `event.original` whatever happens.
pub(crate) fn preserves(opts: &Options, rec_tags: &[String]) -> bool {
    opts.preserve_original_event || rec_tags.iter().any(|t| t == "preserve_original_event")
}

/// Maps one record's vendor JSON to documents, which may borrow its strings.
pub type MapFn = for<'v> fn(Value<'v>, &Ctx<'v>, &mut Vec<Doc<'v>>);

/// What the final cleanup of a document removes (each as the Elastic pipeline does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleanup {
    /// Every `null`, `""`, `[]` and `{}`, recursively (Elastic's ThreatStream pipelines).
    AllEmpty,
    /// Only map entries that are `null`, recursively (Elastic's MISP pipelines).
    NullsOnly,
}

/// A row of the data-set registry.
#[derive(Debug)]
pub struct DatasetInfo {
    /// The data set.
    pub dataset: Dataset,
    /// Its id in options and on the command line, as Elastic names it.
    pub id: &'static str,
    /// Its name in the WIT `dataset` enum.
    pub wit_name: &'static str,
    /// `event.module`.
    pub module: &'static str,
    /// `threat.feed`: its `dashboard_id` and `name`.
    pub feed: &'static [(&'static str, &'static str)],
    /// `data_stream`: its `dataset` (the id), `namespace` and `type`.
    pub data_stream: &'static [(&'static str, &'static str)],
    /// `data_stream` and `ecs` as the JSON members a direct path writes into every
    /// document at once (the same values; a test holds them equal).
    pub constants_json: &'static str,
    /// `feed` (`threat.feed`) as a JSON member, likewise.
    pub feed_json: &'static str,
    /// The mapping.
    pub map: MapFn,
    /// The final cleanup.
    pub cleanup: Cleanup,
    /// Whether the mapping's tags skip those the record already carries (MISP de-duplicates
    /// tags; ThreatStream appends `detail` tokens as they come).
    pub unique_tags: bool,
    /// How whole responses are split and mapped item by item, when the data set can.
    pub streaming: Option<&'static stream::Streaming>,
    /// The document of a record written straight from its text, without trees, when the
    /// data set has such a path and the record is one it takes (else `None`, and the
    /// record goes the general way: read into a tree, mapped, written).
    pub direct: Option<DirectFn>,
}

/// A data set's path from a record's text to its documents' JSON, each pushed to the
/// list; `false`, with nothing pushed, leaves the record to the general path (see
/// `crate::direct`).
pub type DirectFn = fn(&str, &Options, &mut Vec<Vec<u8>>) -> bool;

/// Each `threat.feed`'s dashboard and name, written once and handed to `$make`: the table
/// the general path writes from (`feed_pairs!`) and the JSON member a direct path copies
/// into each document (`feed_json!`).
macro_rules! anomali_feed {
    ($make:ident) => {
        $make!(
            "ti_anomali-96fe1e60-4261-11ec-b7be-d3026acdf1cf",
            "Anomali ThreatStream"
        )
    };
}
macro_rules! misp_feed {
    ($make:ident) => {
        $make!("ti_misp-56ed8040-6c7d-11ec-9bce-f7a4dc94c294", "MISP")
    };
}
macro_rules! feed_pairs {
    ($dashboard:literal, $name:literal) => {
        &[("dashboard_id", $dashboard), ("name", $name)]
    };
}
macro_rules! feed_json {
    ($dashboard:literal, $name:literal) => {
        concat!(
            r#""feed":{"dashboard_id":""#,
            $dashboard,
            r#"","name":""#,
            $name,
            r#""}"#
        )
    };
}
const ANOMALI_FEED: &[(&str, &str)] = anomali_feed!(feed_pairs);
const MISP_FEED: &[(&str, &str)] = misp_feed!(feed_pairs);
const ANOMALI_FEED_JSON: &str = anomali_feed!(feed_json);
const MISP_FEED_JSON: &str = misp_feed!(feed_json);

/// A data set's `data_stream` and `ecs` as JSON members.
macro_rules! constants_json {
    ($id:literal) => {
        concat!(
            r#""data_stream":{"dataset":""#,
            $id,
            r#"","namespace":"default","type":"logs"},"ecs":{"version":""#,
            ecs_version!(),
            r#""}"#
        )
    };
}

/// A data set's `data_stream` object (`logs-<id>-default`).
macro_rules! data_stream {
    ($id:literal) => {
        &[("dataset", $id), ("namespace", "default"), ("type", "logs")]
    };
}

/// Every data set, in one list.
#[rustfmt::skip]
pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo { dataset: Dataset::AnomaliThreatstream, id: "ti_anomali.threatstream", wit_name: "anomali-threatstream", module: "ti_anomali", feed: ANOMALI_FEED, data_stream: data_stream!("ti_anomali.threatstream"), constants_json: constants_json!("ti_anomali.threatstream"), feed_json: ANOMALI_FEED_JSON, map: sources::anomali::threatstream::map, cleanup: Cleanup::AllEmpty, unique_tags: false, streaming: None, direct: Some(direct::one::<sources::anomali::direct::push::Push>) },
    DatasetInfo { dataset: Dataset::AnomaliIntelligence, id: "ti_anomali.intelligence", wit_name: "anomali-intelligence", module: "ti_anomali", feed: ANOMALI_FEED, data_stream: data_stream!("ti_anomali.intelligence"), constants_json: constants_json!("ti_anomali.intelligence"), feed_json: ANOMALI_FEED_JSON, map: sources::anomali::intelligence::map, cleanup: Cleanup::AllEmpty, unique_tags: false, streaming: None, direct: Some(direct::one::<sources::anomali::direct::api::Api>) },
    DatasetInfo { dataset: Dataset::MispThreat, id: "ti_misp.threat", wit_name: "misp-threat", module: "ti_misp", feed: MISP_FEED, data_stream: data_stream!("ti_misp.threat"), constants_json: constants_json!("ti_misp.threat"), feed_json: MISP_FEED_JSON, map: sources::misp::event::map, cleanup: Cleanup::NullsOnly, unique_tags: true, streaming: Some(&sources::misp::event::STREAMING), direct: Some(sources::misp::whole::documents) },
    DatasetInfo { dataset: Dataset::MispThreatAttributes, id: "ti_misp.threat_attributes", wit_name: "misp-threat-attributes", module: "ti_misp", feed: MISP_FEED, data_stream: data_stream!("ti_misp.threat_attributes"), constants_json: constants_json!("ti_misp.threat_attributes"), feed_json: MISP_FEED_JSON, map: sources::misp::attribute::map, cleanup: Cleanup::NullsOnly, unique_tags: true, streaming: Some(&sources::misp::attribute::STREAMING), direct: Some(direct::one::<sources::misp::direct::Attribute>) },
];

impl Dataset {
    /// The registry row of this data set.
    pub fn info(self) -> &'static DatasetInfo {
        // DATASETS holds one row per variant (checked by a test), in variant order.
        &DATASETS[self as usize]
    }

    /// The data-set id, e.g. `ti_misp.threat`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Every data set.
    pub fn all() -> impl Iterator<Item = Dataset> {
        DATASETS.iter().map(|d| d.dataset)
    }
}

impl std::str::FromStr for Dataset {
    type Err = String;

    /// Accepts the id (`ti_misp.threat`) or the WIT name (`misp-threat`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DATASETS
            .iter()
            .find(|d| d.id == s || d.wit_name == s)
            .map(|d| d.dataset)
            .ok_or_else(|| {
                let ids: Vec<_> = DATASETS.iter().map(|d| d.id).collect();
                format!("unknown dataset `{s}`: expected one of {}", ids.join(", "))
            })
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Transforms one record into documents. Never panics; a record that cannot be read or
/// mapped yields an error document that keeps it.
pub fn transform(dataset: Dataset, raw: &[u8], opts: &Options) -> Vec<Document> {
    let mut docs = Vec::new();
    transform_each(dataset, raw, opts, &mut |d| docs.push(d));
    docs
}

/// [`transform`], handing each document to `emit` as soon as it is made: a whole response
/// of a data set that streams (see [`stream`]) is never held as one tree, nor are its
/// documents collected.
pub fn transform_each(
    dataset: Dataset,
    raw: &[u8],
    opts: &Options,
    emit: &mut dyn FnMut(Document),
) {
    transform_finished(dataset, raw, opts, &mut |d| emit(d.into_document()));
}

/// [`transform_each`], each document handed over [`Finished`]: written as JSON straight
/// from what the mapping built ([`Finished::write_json`]), or made a tree.
pub fn transform_finished(
    dataset: Dataset,
    raw: &[u8],
    opts: &Options,
    emit: &mut dyn FnMut(Finished<'_>),
) {
    transform_raw(dataset, Raw::Bytes(raw), opts, emit);
}

/// [`transform_finished`] for a record the caller holds as text (a WIT `string`, a JS
/// string): the same documents, its UTF-8 not checked again.
pub fn transform_text_finished(
    dataset: Dataset,
    text: &str,
    opts: &Options,
    emit: &mut dyn FnMut(Finished<'_>),
) {
    transform_raw(dataset, Raw::Text(text), opts, emit);
}

fn transform_raw(
    dataset: Dataset,
    raw: Raw<'_>,
    opts: &Options,
    emit: &mut dyn FnMut(Finished<'_>),
) {
    let info = dataset.info();
    if let Some((s, text, list)) = streamed_raw(dataset, raw, opts) {
        let ctx = Ctx {
            opts,
            duration: &opts.ioc_expiration_duration,
            duration_from_conf: false,
            preserve: preserves(opts, &opts.tags),
        };
        let count = list
            .items
            .iter()
            .fold(0usize, |n, item| n.saturating_add((s.documents)(item)));
        if count > opts.limits.max_documents {
            return emit(too_many(info, count, text, &opts.tags, opts));
        }
        let (mut docs, mut written) = (Vec::new(), Vec::new());
        for (i, item) in list.items.iter().enumerate() {
            if let Some(direct) = s.direct
                && direct(item, opts, &mut written)
            {
                emit_written(written.drain(..), emit);
                continue;
            }
            stream::map_item(s, i, item, list.field, &ctx, &mut docs);
            for d in docs.drain(..) {
                emit(finish(info, d, text, &opts.tags, opts));
            }
        }
        return;
    }
    if let Some(direct) = info.direct
        && let Ok(text) = raw.text()
    {
        let mut written = Vec::new();
        if direct(text, opts, &mut written) {
            return emit_written(written, emit);
        }
    }
    transform_tree(info, raw, opts, emit);
}

/// Hands on the documents a direct path wrote.
fn emit_written(written: impl IntoIterator<Item = Vec<u8>>, emit: &mut dyn FnMut(Finished<'_>)) {
    for json in written {
        emit(Finished {
            body: Body::Written(json),
            error: false,
        });
    }
}

/// The documents of `text` made the general way (never a data set's direct path), as
/// JSON lines: for the tests and the fuzz target that hold a direct path equal to it.
#[doc(hidden)]
pub fn general_json(dataset: Dataset, text: &str, opts: &Options) -> Vec<String> {
    let mut out = Vec::new();
    transform_tree(dataset.info(), Raw::Text(text), opts, &mut |d| {
        out.push(d.to_json())
    });
    out
}

/// When `raw` is a whole response that `dataset` maps item by item (see [`stream`]): how
/// it streams, the record's text and its items. `None` for every other record, which is
/// read into one tree.
pub fn streamed<'a>(
    dataset: Dataset,
    raw: &'a [u8],
    opts: &Options,
) -> Option<(&'static stream::Streaming, &'a str, stream::Items<'a>)> {
    streamed_raw(dataset, Raw::Bytes(raw), opts)
}

fn streamed_raw<'a>(
    dataset: Dataset,
    raw: Raw<'a>,
    opts: &Options,
) -> Option<(&'static stream::Streaming, &'a str, stream::Items<'a>)> {
    let s = dataset.info().streaming?;
    if !stream::may_split(raw.bytes(), s.opens_with) {
        return None;
    }
    let (text, json) = envelope::checked_text(raw, &opts.limits)?;
    (s.split)(json).map(|items| (s, text, items))
}

/// The general path: the record read into one tree, mapped, then each document finished.
fn transform_tree(
    info: &DatasetInfo,
    raw: Raw<'_>,
    opts: &Options,
    emit: &mut dyn FnMut(Finished<'_>),
) {
    let mut rec = match envelope::read(raw, opts) {
        Ok(r) => r,
        Err(u) => {
            let mut d = Doc::new();
            d.error(u.message);
            return emit(finish(info, d, &u.original, &u.tags, opts));
        }
    };
    let body = match rec
        .body
        .take()
        .map_or_else(|| envelope::body_text(&rec, opts), Ok)
    {
        Ok(body) => body,
        Err(message) => {
            let mut d = Doc::new();
            d.error(message);
            return emit(finish(info, d, &rec.original(), &rec.tags, opts));
        }
    };
    let opts = &*with_conf_identity(opts, rec.conf_identity);
    let (duration, from_conf) = match &rec.conf_duration {
        Some(d) => (d.as_str(), true),
        None => (opts.ioc_expiration_duration.as_str(), false),
    };
    let ctx = Ctx {
        opts,
        duration,
        duration_from_conf: from_conf,
        preserve: preserves(opts, &rec.tags),
    };
    let mut docs = Vec::new();
    (info.map)(body, &ctx, &mut docs);
    if docs.len() > opts.limits.max_documents {
        return emit(too_many(info, docs.len(), &rec.original(), &rec.tags, opts));
    }
    // the record's text (written again when its envelope held parsed JSON) is made once,
    // and only if a document reads it: most keep no `event.original`
    let original = OnceCell::new();
    let text = || Cow::Borrowed(original.get_or_init(|| rec.original()).as_ref());
    for d in docs {
        emit(finish_with(info, d, &text, &rec.tags, opts));
    }
}

/// The message of the error document that answers a record with nothing to map, where a
/// host must get one document for every record (the Fluent Bit filter).
pub const NOTHING_TO_MAP: &str = "record holds no indicator (an empty list, misp response or api page): it gives no document, and a fluent bit filter cannot drop a record without a trace, so it is answered with this one";

/// An error document for `raw` with `message`: what an adapter answers when its host
/// cannot take what the core made of a record (the Fluent Bit filter, which must answer
/// every record with exactly one). It keeps what a document of the record would keep: the
/// vendor text as `event.original`, the envelope's tags and `_conf.identity`.
pub fn error_document(
    dataset: Dataset,
    raw: &[u8],
    message: String,
    opts: &Options,
) -> Finished<'static> {
    let info = dataset.info();
    match envelope::read(raw, opts) {
        // as `transform` answers a record whose envelope's text cannot be read: without
        // its `_conf`
        Ok(rec) if rec.body.is_none() && envelope::body_text(&rec, opts).is_err() => {
            error_doc(info, message, &rec.original(), &rec.tags, opts).into_owned()
        }
        Ok(rec) => {
            let opts = with_conf_identity(opts, rec.conf_identity);
            error_doc(info, message, &rec.original(), &rec.tags, &opts).into_owned()
        }
        Err(u) => error_doc(info, message, &u.original, &u.tags, opts).into_owned(),
    }
}

/// The options with the envelope's `_conf.identity`, when it has one.
fn with_conf_identity(opts: &Options, identity: Option<bool>) -> Cow<'_, Options> {
    match identity {
        Some(identity) if identity != opts.identity => Cow::Owned(Options {
            identity,
            ..opts.clone()
        }),
        _ => Cow::Borrowed(opts),
    }
}

/// A document holding only `message` as its error, keeping `original`.
fn error_doc<'v>(
    info: &DatasetInfo,
    message: String,
    original: &'v str,
    rec_tags: &'v [String],
    opts: &Options,
) -> Finished<'v> {
    let mut d = Doc::new();
    d.error(message);
    finish(info, d, original, rec_tags, opts)
}

/// The error document of a record that yields more documents than `max_documents`.
fn too_many<'v>(
    info: &DatasetInfo,
    count: usize,
    original: &'v str,
    rec_tags: &'v [String],
    opts: &Options,
) -> Finished<'v> {
    let message = format!(
        "record yields {count} document(s), over the limit max_documents = {}; {}",
        opts.limits.max_documents,
        opts.limits.how_to_raise("max_documents")
    );
    error_doc(info, message, original, rec_tags, opts)
}

/// [`transform`], each document serialised as one line of JSON.
pub fn transform_to_json(dataset: Dataset, raw: &[u8], opts: &Options) -> Vec<String> {
    let mut out = Vec::new();
    // each document written and dropped as soon as it is made
    transform_finished(dataset, raw, opts, &mut |d| out.push(d.to_json()));
    out
}

/// [`transform_to_json`] for a record the caller holds as text: the same lines, its UTF-8
/// not checked again.
pub fn transform_text_to_json(dataset: Dataset, text: &str, opts: &Options) -> Vec<String> {
    let mut out = Vec::new();
    transform_text_finished(dataset, text, opts, &mut |d| out.push(d.to_json()));
    out
}

/// A document as the mapping built it and `finish` completed it, before the data set's
/// cleanup: written as JSON ([`Finished::write_json`]) or made a tree
/// ([`Finished::into_document`]), which serialises to the same bytes.
#[derive(Debug, Clone)]
pub struct Finished<'v> {
    body: Body<'v>,
    error: bool,
}

/// What a [`Finished`] document is made of.
#[derive(Debug, Clone)]
enum Body<'v> {
    /// The fields the mapping built, cleaned by `cleanup` when written.
    Fields {
        fields: doc::Fields<'v>,
        cleanup: Cleanup,
    },
    /// The JSON a data set's direct path wrote (clean already).
    Written(Vec<u8>),
}

impl Finished<'_> {
    /// Whether it is an error document (`event.kind: pipeline_error`).
    pub fn is_error(&self) -> bool {
        self.error
    }

    /// The document as a tree, cleaned.
    pub fn into_document(self) -> Document {
        let (fields, cleanup) = match self.body {
            Body::Fields { fields, cleanup } => (fields, cleanup),
            // our own JSON of an object: always read back (an empty object otherwise
            // keeps this total)
            Body::Written(json) => return serde_json::from_slice(&json).unwrap_or_default(),
        };
        let mut out = fields.into_map();
        match cleanup {
            Cleanup::AllEmpty => doc::remove_empty(&mut out),
            Cleanup::NullsOnly => {
                doc::remove_nulls(&mut out);
                // a record without tags: no empty `tags` list
                if out
                    .get("tags")
                    .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
                {
                    out.remove("tags");
                }
            }
        }
        out
    }

    /// Appends the document's JSON, cleaned, to `out` (no newline): the bytes
    /// [`to_json`] gives for [`Finished::into_document`], without making that tree.
    pub fn write_json(self, out: &mut Vec<u8>) {
        match self.body {
            Body::Fields {
                mut fields,
                cleanup,
            } => fields.write_json(cleanup, out),
            Body::Written(json) => out.extend_from_slice(&json),
        }
    }

    /// The document owning every string, free of the record it was made from.
    pub fn into_owned(self) -> Finished<'static> {
        Finished {
            body: match self.body {
                Body::Fields { fields, cleanup } => Body::Fields {
                    fields: fields.into_owned(),
                    cleanup,
                },
                Body::Written(json) => Body::Written(json),
            },
            error: self.error,
        }
    }

    /// The document's JSON, cleaned.
    pub fn to_json(self) -> String {
        if let Body::Written(json) = self.body {
            // written from strings and from JSON our writer wrote: UTF-8
            return String::from_utf8(json).unwrap_or_else(|_| String::from("{}"));
        }
        // Documents are 1–3 KB: start at 2 KB rather than growing from a few bytes.
        let mut out = Vec::with_capacity(2048);
        self.write_json(&mut out);
        // what `write_json` writes is JSON text made of strings: always UTF-8
        String::from_utf8(out).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Serialises a document. A map of JSON values always serialises; the fallback is never
/// taken but keeps this total.
pub fn to_json(doc: &Document) -> String {
    // Documents are 1–3 KB: start at 2 KB rather than growing from a few bytes.
    let mut out = Vec::with_capacity(2048);
    match serde_json::to_writer(&mut out, doc) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| String::from("{}")),
        Err(_) => String::from("{}"),
    }
}

/// Adds what every document carries and turns the collected errors into Elastic's
/// `pipeline_error` shape.
fn finish<'v>(
    info: &DatasetInfo,
    doc: Doc<'v>,
    original: &'v str,
    rec_tags: &'v [String],
    opts: &Options,
) -> Finished<'v> {
    finish_with(info, doc, &|| Cow::Borrowed(original), rec_tags, opts)
}

/// [`finish`] with the record's text made by `record_text`, called only if the document
/// reads it (it keeps or hashes its `event.original`, and has no text of its own).
fn finish_with<'v>(
    info: &DatasetInfo,
    mut doc: Doc<'v>,
    record_text: &dyn Fn() -> Cow<'v, str>,
    rec_tags: &'v [String],
    opts: &Options,
) -> Finished<'v> {
    let own_original = doc.original.take();
    let key = doc.key.take();
    let fingerprint = doc.fingerprint.take();
    let (errors, doc_tags) = doc.take_notes();
    let mut d = doc;
    // the constant fields are written as they are, not copied into each document, and
    // the constant objects set whole, not made field by field
    d.put_consts("ecs", &[("version", ECS_VERSION)]);
    d.put_under(
        "event",
        [
            ("module", Slot::Lit(info.module)),
            ("dataset", Slot::Lit(info.id)),
            ("ingested", Slot::Val(dates::fmt_es(opts.now).into())),
        ],
    );
    d.put_consts("data_stream", info.data_stream);
    d.put_consts("threat.feed", info.feed);
    d.put_consts("labels", &[("is_ioc_transform_source", "true")]);
    // the document's own text, else the record's, made when first read
    let original = own_original.map_or_else(OnceCell::new, |own| OnceCell::from(Cow::Owned(own)));
    let text = || original.get_or_init(record_text);
    if opts.identity {
        // A document without an indicator identity (an error document, a record without
        // ids) is keyed by its own text: the same record sent again replaces its document
        // instead of adding one, and a sink that uses the key as `_id` always has one.
        // Without fingerprint values, the fingerprint is the hash of the text too.
        let (key, fingerprint) = match (key, fingerprint) {
            (Some(k), Some(f)) => (k, f),
            (key, fingerprint) => {
                let h = doc::sha256_hex(text().as_bytes());
                let key = key.unwrap_or_else(|| format!("{}:original:{h}", info.id));
                (key, fingerprint.unwrap_or(h))
            }
        };
        d.set_under(
            "labels",
            [
                ("ioc_key", key.into()),
                ("ioc_fingerprint", fingerprint.into()),
            ],
        );
    }
    let mut tags: Vec<Value> = rec_tags.iter().map(|t| Value::from(t.as_str())).collect();
    for t in doc_tags {
        if !(info.unique_tags && rec_tags.iter().any(|r| *r == t)) {
            tags.push(Value::from(t));
        }
    }
    let preserve = preserves(opts, rec_tags);
    if preserve && !tags.iter().any(|t| t == "preserve_original_event") {
        tags.insert(0, Value::from("preserve_original_event"));
    }
    d.set("tags", tags);
    let error = !errors.is_empty();
    if preserve || error {
        d.set(
            "event.original",
            original.into_inner().unwrap_or_else(record_text),
        );
    }
    if error {
        d.set("event.kind", "pipeline_error");
        d.set(
            "error.message",
            errors.into_iter().map(Value::from).collect::<Vec<_>>(),
        );
        d.push_unique("tags", "preserve_original_event");
    }
    Finished {
        body: Body::Fields {
            fields: d.into_fields(),
            cleanup: info.cleanup,
        },
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::Value;

    fn opts() -> Options {
        Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    #[test]
    fn registry_rows_follow_variant_order() {
        for (i, row) in DATASETS.iter().enumerate() {
            assert_eq!(row.dataset as usize, i, "{} is out of place", row.id);
            assert_eq!(row.dataset.info().id, row.id);
            assert_eq!(row.id.parse::<Dataset>(), Ok(row.dataset));
            assert_eq!(row.wit_name.parse::<Dataset>(), Ok(row.dataset));
            // the constant objects, written as they are: named in order, the id in place
            assert_eq!(row.data_stream.first(), Some(&("dataset", row.id)));
            for obj in [row.data_stream, row.feed] {
                assert!(obj.is_sorted_by(|a, b| a.0 < b.0), "{}: {obj:?}", row.id);
            }
            // the same constants as the JSON the direct paths copy into each document
            let object = |pairs: &[(&str, &str)]| {
                serde_json::Value::Object(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                        .collect(),
                )
            };
            let constants = serde_json::json!({
                "data_stream": object(row.data_stream),
                "ecs": {"version": ECS_VERSION},
            });
            assert_eq!(
                format!("{{{}}}", row.constants_json),
                constants.to_string(),
                "{}",
                row.id
            );
            let feed = serde_json::json!({ "feed": object(row.feed) });
            assert_eq!(
                format!("{{{}}}", row.feed_json),
                feed.to_string(),
                "{}",
                row.id
            );
        }
        let e = "nope".parse::<Dataset>().unwrap_err();
        assert!(e.contains("`nope`") && e.contains("ti_misp.threat"), "{e}");
    }

    /// A record whose `event.original` is JSON written again (a `json` envelope's object,
    /// a record less its `_conf` settings) is written when a document reads it, whether
    /// that is known before the mapping (kept, or hashed with identity on) or only after
    /// (an error): the text is the part written as Elastic writes parsed JSON, and the
    /// identity fields are the ones of a run that keeps the text.
    #[test]
    fn a_written_original_is_written_whenever_a_document_reads_it() {
        /// What `event.original` is, written as Elastic writes parsed JSON.
        type Part = fn(&str) -> String;
        fn json_part(rec: &str) -> String {
            let v: Value = serde_json::from_str(rec).unwrap();
            serde_json::to_string(&v["json"]).unwrap()
        }
        fn without_conf(rec: &str) -> String {
            let mut v: Value = serde_json::from_str(rec).unwrap();
            if let Some(m) = v.as_object_mut() {
                m.retain(|k, _| k != "_conf" && !k.starts_with("_conf."));
            }
            serde_json::to_string(&v).unwrap()
        }
        let cases: [(Dataset, &str, Part, bool); 4] = [
            (
                Dataset::AnomaliIntelligence,
                r#"{"json":{"value":"1.2.3.4","itype":"mal_ip","id":5,"z":{"b":1,"a":2}}}"#,
                json_part,
                false,
            ),
            (
                Dataset::AnomaliIntelligence,
                r#"{"json":{"value":"1.2.3.4","itype":"mal_ip","created_ts":"then"}}"#,
                json_part,
                true,
            ),
            (
                Dataset::AnomaliThreatstream,
                r#"{"srcip":"1.2.3.4","itype":"mal_ip","_conf.ioc_expiration_duration":"5d","id":1}"#,
                without_conf,
                false,
            ),
            (
                Dataset::AnomaliThreatstream,
                r#"{"itype":"mal_ip","z":1,"_conf":{"ioc_expiration_duration":"5d"}}"#,
                without_conf,
                true,
            ),
        ];
        for (ds, rec, part, error) in cases {
            let doc = |preserve: bool, identity: bool| {
                let mut o = opts();
                o.preserve_original_event = preserve;
                o.identity = identity;
                let out = transform_to_json(ds, rec.as_bytes(), &o);
                assert_eq!(out.len(), 1, "{rec}");
                serde_json::from_str::<Value>(&out[0]).unwrap()
            };
            for identity in [false, true] {
                let kept = doc(true, identity);
                for preserve in [false, true] {
                    let d = doc(preserve, identity);
                    let original = d.pointer("/event/original").and_then(Value::as_str);
                    assert_eq!(original.is_some(), preserve || error, "{rec} {d}");
                    if let Some(o) = original {
                        assert_eq!(o, part(rec), "{rec}");
                    }
                    assert_eq!(d["labels"], kept["labels"], "{rec}");
                    assert_eq!(d["event"]["kind"] == "pipeline_error", error, "{rec}");
                }
            }
        }
    }

    #[test]
    fn unreadable_record_becomes_an_error_document() {
        for ds in Dataset::all() {
            let docs = transform(ds, b"{not json", &opts());
            assert_eq!(docs.len(), 1);
            let d = Value::Object(docs[0].clone());
            assert_eq!(d["event"]["kind"], "pipeline_error");
            assert_eq!(d["event"]["original"], "{not json");
            assert_eq!(d["event"]["dataset"], ds.id());
            assert_eq!(d["tags"], serde_json::json!(["preserve_original_event"]));
            assert!(
                d["error"]["message"][0]
                    .as_str()
                    .unwrap()
                    .contains("cannot parse record as json")
            );
        }
    }

    /// Every `*.input.json` under the data set's golden directory, at any depth.
    pub(crate) fn golden_inputs(ds: Dataset) -> Vec<String> {
        let mut dirs = vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("host-tests/golden")
                .join(ds.id()),
        ];
        let mut out = Vec::new();
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.to_string_lossy().ends_with(".input.json") {
                    out.push(String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
                }
            }
        }
        assert!(out.len() > 20, "{}: {} golden inputs", ds.id(), out.len());
        out
    }

    /// Checks that each record gives the tree path's documents, byte for byte, under
    /// `max_documents` of 1 to 6 (so a streamed count off by one shows; with and without
    /// identity, one with `event.original` kept) and the default;
    /// returns how many records took the streamed path. A response the tree cannot read
    /// (a number out of range, which the streamed path meets item by item) is where the two
    /// part by design: left out (`an_item_out_of_range_is_its_own_error_document`).
    fn streams_like_the_tree(ds: Dataset, records: &[String]) -> usize {
        let info = ds.info();
        let mut count = 0;
        for rec in records {
            let streams = streamed(ds, rec.as_bytes(), &opts()).is_some();
            if streams && envelope::read(rec.as_bytes(), &opts()).is_err() {
                continue;
            }
            let mut all = vec![opts()];
            for max in 1..=6 {
                let mut o = opts();
                o.identity = max % 2 == 0;
                o.limits.max_documents = max;
                o.tags = vec!["t".into()];
                // an item's own text is written only when a document reads it
                o.preserve_original_event = max == 3;
                all.push(o);
            }
            for o in all {
                let mut tree = Vec::new();
                transform_tree(info, Raw::Bytes(rec.as_bytes()), &o, &mut |d| {
                    tree.push(d.to_json())
                });
                assert_eq!(
                    transform_to_json(ds, rec.as_bytes(), &o),
                    tree,
                    "{}, max_documents {}: {rec}",
                    ds.id(),
                    o.limits.max_documents
                );
            }
            if streams {
                count += 1;
            }
        }
        count
    }

    /// The streamed path gives the documents of the tree path, byte for byte.
    #[test]
    fn whole_attribute_responses_stream_to_the_same_documents() {
        let attr = |id: u32, extra: &str| {
            format!(
                r#"{{"id":"{id}","event_id":"7","type":"ip-dst","category":"Network activity","value":"10.0.0.{id}","uuid":"u-{id}","timestamp":"1600000000","to_ids":true{extra},"Event":{{"id":"7","uuid":"e-7","info":"x","orgc_id":"1"}},"Tag":[{{"name":"tlp:green"}}]}}"#
            )
        };
        let items = [
            attr(1, ""),
            attr(2, r#","comment":"b","last_seen":"2021-01-01T00:00:00Z""#),
            attr(3, r#","value":"dup-later-wins""#),
            "42".to_string(),
            "{}".to_string(),
            attr(4, r#","first_seen":"not a date""#),
            // names a record's direct path reads as settings or envelopes: an item's
            // are vendor fields
            attr(
                5,
                r#","_conf.identity":"true","_conf.ioc_expiration_duration":"1d""#,
            ),
            r#"{"message":"{\"type\":\"md5\",\"value\":\"aa\"}","tags":["t"]}"#.to_string(),
            r#"{"json":{"type":"md5","value":"aa"}}"#.to_string(),
            // pretty-printed, as MISP writes a response
            attr(6, "").replace(',', ",\n    "),
        ];
        let list = items.join(",");
        let mut records = vec![
            format!(r#"{{"response":{{"Attribute":[{list}]}}}}"#),
            format!(r#" {{ "response" : [{list}] }}"#),
            format!(r#"{{"Attribute":[{list}]}}"#),
            format!("[{list}]"),
            format!("\u{feff}[{list}]"),
            r#"{"response":[]}"#.to_string(),
            r#"{"response":{"Attribute":[]}}"#.to_string(),
        ];
        let made = records.len();
        records.extend(golden_inputs(Dataset::MispThreatAttributes));
        let streamed = streams_like_the_tree(Dataset::MispThreatAttributes, &records);
        assert!(
            streamed > made,
            "only {streamed} records took the streamed path"
        );
    }

    /// The same for whole event responses, whose items give any number of documents: the
    /// count read off their shapes is checked against the tree's at every limit.
    #[test]
    fn whole_event_responses_stream_to_the_same_documents() {
        let attr = |id: u32| {
            format!(
                r#"{{"id":"{id}","type":"ip-dst","category":"Network activity","value":"10.0.0.{id}","uuid":"u-{id}","timestamp":"1600000000","to_ids":true}}"#
            )
        };
        let event = |id: u32, rest: &str| {
            format!(
                r#"{{"Event":{{"id":"{id}","uuid":"e-{id}","info":"x","timestamp":"1600000000","Orgc":{{"name":"o"}},"Tag":[{{"name":"tlp:green"}}]{rest}}}}}"#
            )
        };
        let (a1, a2, a3) = (attr(1), attr(2), attr(3));
        let items = [
            event(1, &format!(r#","Attribute":[{a1},{a2}]"#)),
            event(
                2,
                &format!(
                    r#","Attribute":[{a1}],"Object":[{{"name":"o","Attribute":[{a2},{a3}]}},7,{{"name":"empty","Attribute":[]}}]"#
                ),
            ),
            // post-split: one attribute, one object with one attribute
            event(
                3,
                &format!(r#","Attribute":{a1},"Object":{{"name":"o","Attribute":{a2}}}"#),
            ),
            event(
                4,
                &format!(r#","Object":{{"name":"o","Attribute":[{a1},{a2}]}}"#),
            ),
            event(5, r#","Attribute":[],"Object":[]"#),
            event(6, r#","Attribute":null,"Object":null"#),
            event(
                7,
                &format!(r#","Attribute":"scalar","Object":{{"name":"o","Attribute":{a3}}}"#),
            ),
            event(
                8,
                &format!(r#","Attribute":[{a1}],"Attribute":[{a1},{a2},{a3}]"#),
            ),
            r#"{"Event":5}"#.to_string(),
            r#"{"Event":null}"#.to_string(),
            "42".to_string(),
            "{}".to_string(),
            r#"{"event":{}}"#.to_string(),
        ];
        let mut records = Vec::new();
        for i in 0..items.len() {
            // each item alone, then with the items around it
            let list = items[i..(i + 3).min(items.len())].join(",");
            records.push(format!(r#"{{"response":[{}]}}"#, items[i]));
            records.push(format!(r#" {{ "response" : [{list}] }}"#));
            records.push(format!("[{list}]"));
        }
        let all = items.join(",");
        records.extend([
            format!(r#"{{"response":[{all}]}}"#),
            format!("\u{feff}[{all}]"),
            format!(r#"{{"response":[{all}],"response":[{}]}}"#, items[0]),
            r#"{"response":[]}"#.to_string(),
            "[]".to_string(),
        ]);
        let made = records.len();
        records.extend(golden_inputs(Dataset::MispThreat));
        let streamed = streams_like_the_tree(Dataset::MispThreat, &records);
        assert!(
            streamed > made,
            "only {streamed} of {} records took the streamed path",
            records.len()
        );
    }

    #[test]
    fn an_item_out_of_range_is_its_own_error_document() {
        let raw = br#"{"response":{"Attribute":[{"type":"ip-dst","value":"10.0.0.1","timestamp":"1600000000"},{"type":"ip-dst","value":"1e400","x":1e400}]}}"#;
        let docs = transform(Dataset::MispThreatAttributes, raw, &opts());
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["threat"]["indicator"]["ip"], "10.0.0.1");
        let e = &docs[1];
        assert_eq!(e["event"]["kind"], "pipeline_error");
        let msg = e["error"]["message"][0].as_str().unwrap();
        assert!(
            msg.starts_with("cannot parse `response.Attribute[1]` as json"),
            "{msg}"
        );
        assert_eq!(
            e["event"]["original"],
            r#"{"type":"ip-dst","value":"1e400","x":1e400}"#
        );
    }

    #[test]
    fn documents_without_an_indicator_identity_are_keyed_by_their_text() {
        let mut o = opts();
        o.identity = true;
        let key = |raw: &[u8]| {
            let d = Value::Object(transform(Dataset::MispThreatAttributes, raw, &o).remove(0));
            d["labels"]["ioc_key"].as_str().unwrap().to_string()
        };
        let bad = key(b"{not json");
        assert!(
            bad.starts_with("ti_misp.threat_attributes:original:") && bad.len() == 35 + 64,
            "{bad}"
        );
        assert_eq!(bad, key(b"{not json"));
        assert_ne!(bad, key(b"{not json either"));
        assert_ne!(key(b"{}"), key(br#"{"comment":"x"}"#));
        // an attribute with ids keeps its own key
        let ok =
            key(br#"{"type":"ip-dst","value":"10.0.0.1","uuid":"u-1","Event":{"uuid":"e-1"}}"#);
        assert_eq!(ok, "misp:e-1:u-1");
    }

    #[test]
    fn output_is_deterministic() {
        let raw = br#"{"message":"{\"a\":1}","tags":["t"]}"#;
        for ds in Dataset::all() {
            assert_eq!(
                transform_to_json(ds, raw, &opts()),
                transform_to_json(ds, raw, &opts())
            );
        }
    }
}
