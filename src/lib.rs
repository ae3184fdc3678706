//! # ti-ecs
//!
//! Threat-intelligence records — Anomali ThreatStream indicators, MISP events and
//! attributes — into ECS documents with IOC expiration fields.
//!
//! ## The flow
//!
//! ```text
//! raw bytes ─► envelope::read ─► Record (vendor JSON, tags, _conf)
//!          ─► sources::<dataset>::map ─► Doc per indicator
//!          ─► finish: constant fields, tags, errors, event.original, identity, cleanup
//!          ─► Document (a JSON object with a stable key order)
//! ```
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
pub mod doc;
pub mod ecs;
pub mod envelope;
pub mod expiration;
pub mod options;
pub mod sources;

pub mod bindings;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use doc::Doc;
pub use options::{Limits, Options, OptionsSpec, SeverityScale};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// One output document: a JSON object.
pub type Document = Map<String, Value>;

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
    /// The record's raw vendor text.
    pub original: &'a str,
}

/// Maps one record's vendor JSON to documents.
pub type MapFn = fn(Value, &Ctx, &mut Vec<Doc>);

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
    /// `threat.feed.name`.
    pub feed_name: &'static str,
    /// `threat.feed.dashboard_id`.
    pub dashboard_id: &'static str,
    /// The mapping.
    pub map: MapFn,
    /// The final cleanup.
    pub cleanup: Cleanup,
    /// Whether the mapping's tags skip those the record already carries (MISP de-duplicates
    /// tags; ThreatStream appends `detail` tokens as they come).
    pub unique_tags: bool,
}

const ANOMALI_DASHBOARD: &str = "ti_anomali-96fe1e60-4261-11ec-b7be-d3026acdf1cf";
const MISP_DASHBOARD: &str = "ti_misp-56ed8040-6c7d-11ec-9bce-f7a4dc94c294";

/// Every data set, in one list.
#[rustfmt::skip]
pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo { dataset: Dataset::AnomaliThreatstream, id: "ti_anomali.threatstream", wit_name: "anomali-threatstream", module: "ti_anomali", feed_name: "Anomali ThreatStream", dashboard_id: ANOMALI_DASHBOARD, map: sources::anomali::threatstream::map, cleanup: Cleanup::AllEmpty, unique_tags: false },
    DatasetInfo { dataset: Dataset::AnomaliIntelligence, id: "ti_anomali.intelligence", wit_name: "anomali-intelligence", module: "ti_anomali", feed_name: "Anomali ThreatStream", dashboard_id: ANOMALI_DASHBOARD, map: sources::anomali::intelligence::map, cleanup: Cleanup::AllEmpty, unique_tags: false },
    DatasetInfo { dataset: Dataset::MispThreat, id: "ti_misp.threat", wit_name: "misp-threat", module: "ti_misp", feed_name: "MISP", dashboard_id: MISP_DASHBOARD, map: sources::misp::event::map, cleanup: Cleanup::NullsOnly, unique_tags: true },
    DatasetInfo { dataset: Dataset::MispThreatAttributes, id: "ti_misp.threat_attributes", wit_name: "misp-threat-attributes", module: "ti_misp", feed_name: "MISP", dashboard_id: MISP_DASHBOARD, map: sources::misp::attribute::map, cleanup: Cleanup::NullsOnly, unique_tags: true },
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
    let info = dataset.info();
    let rec = match envelope::read(raw, opts) {
        Ok(r) => r,
        Err(u) => {
            let mut d = Doc::new();
            d.error(u.message);
            d.original = Some(u.original);
            return vec![finish(info, d, "", &u.tags, opts)];
        }
    };
    let with_conf;
    let opts = match rec.conf_identity {
        Some(identity) if identity != opts.identity => {
            with_conf = Options {
                identity,
                ..opts.clone()
            };
            &with_conf
        }
        _ => opts,
    };
    let (duration, from_conf) = match &rec.conf_duration {
        Some(d) => (d.as_str(), true),
        None => (opts.ioc_expiration_duration.as_str(), false),
    };
    let ctx = Ctx {
        opts,
        duration,
        duration_from_conf: from_conf,
        original: &rec.original,
    };
    let mut docs = Vec::new();
    (info.map)(rec.body, &ctx, &mut docs);
    if docs.len() > opts.limits.max_documents {
        let mut d = Doc::new();
        d.error(format!(
            "record yields {} document(s), over the limit max_documents = {}; raise limits.max_documents to accept it",
            docs.len(),
            opts.limits.max_documents
        ));
        return vec![finish(info, d, &rec.original, &rec.tags, opts)];
    }
    docs.into_iter()
        .map(|d| finish(info, d, &rec.original, &rec.tags, opts))
        .collect()
}

/// [`transform`], each document serialised as one line of JSON.
pub fn transform_to_json(dataset: Dataset, raw: &[u8], opts: &Options) -> Vec<String> {
    transform(dataset, raw, opts).iter().map(to_json).collect()
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
fn finish(
    info: &DatasetInfo,
    mut doc: Doc,
    original: &str,
    rec_tags: &[String],
    opts: &Options,
) -> Document {
    let own_original = doc.original.take();
    let key = doc.key.take();
    let fp_values = std::mem::take(&mut doc.fingerprint);
    let (fields, errors, doc_tags) = doc.into_parts();
    let mut d = Doc::from_fields(fields);
    d.set("ecs.version", ECS_VERSION);
    d.set("event.module", info.module);
    d.set("event.dataset", info.id);
    d.set("event.ingested", dates::fmt_es(opts.now));
    d.set("data_stream.type", "logs");
    d.set("data_stream.dataset", info.id);
    d.set("data_stream.namespace", "default");
    d.set("threat.feed.name", info.feed_name);
    d.set("threat.feed.dashboard_id", info.dashboard_id);
    d.set("labels.is_ioc_transform_source", "true");
    let original = own_original.as_deref().unwrap_or(original);
    if opts.identity {
        if let Some(k) = key {
            d.set("labels.ioc_key", k);
        }
        let mut h = Sha256::new();
        if fp_values.is_empty() {
            h.update(original.as_bytes());
        } else {
            for v in &fp_values {
                h.update(serde_json::to_string(v).unwrap_or_default().as_bytes());
                h.update([0x1f]);
            }
        }
        let digest = h.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        d.set("labels.ioc_fingerprint", hex);
    }
    let mut tags: Vec<Value> = rec_tags.iter().map(|t| Value::from(t.as_str())).collect();
    for t in doc_tags {
        if !(info.unique_tags && rec_tags.contains(&t)) {
            tags.push(Value::from(t));
        }
    }
    let preserve =
        opts.preserve_original_event || rec_tags.iter().any(|t| t == "preserve_original_event");
    if preserve && !tags.iter().any(|t| t == "preserve_original_event") {
        tags.insert(0, Value::from("preserve_original_event"));
    }
    d.set("tags", tags);
    if preserve || !errors.is_empty() {
        d.set("event.original", original);
    }
    if !errors.is_empty() {
        d.set("event.kind", "pipeline_error");
        d.set(
            "error.message",
            errors.into_iter().map(Value::from).collect::<Vec<_>>(),
        );
        d.push_unique("tags", "preserve_original_event");
    }
    let (mut out, _, _) = d.into_parts();
    match info.cleanup {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

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
        }
        let e = "nope".parse::<Dataset>().unwrap_err();
        assert!(e.contains("`nope`") && e.contains("ti_misp.threat"), "{e}");
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
