//! `ti_misp.threat_attributes`: MISP attributes from `/attributes/restSearch`.
//!
//! # Input
//!
//! - one attribute as the search returns it, with `Event`, `Object`, `Tag` and
//!   `decay_score` beside its own keys (what Elastic's agent sends after splitting);
//! - a whole response `{"response":{"Attribute":[…]}}`, PyMISP's `{"Attribute":[…]}`, or a
//!   JSON array of attributes: one document per attribute, each keeping its own JSON as
//!   `event.original`;
//! - an empty response (`{"response":[]}`, `{"response":{"Attribute":[]}}`, `{"response":{}}`)
//!   gives no document, as Elastic's pipeline drops it.
//!
//! Anything else (not an object, an attribute that is not an object) is an error document.
//!
//! # ECS fields set
//!
//! `@timestamp` (attribute `timestamp`), `event.kind/category/type`, `threat.indicator.*`
//! by the type table (`types.rs`), `threat.indicator.first_seen/last_seen`,
//! `threat.indicator.provider`, `threat.indicator.scanner_stats` (event `analysis`, as
//! Elastic), `threat.indicator.marking.tlp`, `tags` (MISP tag names, without repeats),
//! `user.email/roles`, `organization.id`; the rest of the attribute under `misp.attribute`,
//! `misp.event`, `misp.object` with MISP's numbers and times converted.
//!
//! # Expiration
//!
//! `misp.attribute.decayed` and `misp.attribute.decayed_at`: the decay-score majority, else
//! max(`timestamp`, `last_seen`) + `ioc_expiration_duration` (see `common::expire`).
//!
//! # References
//!
//! `../shared/reference/elastic/ti_misp/BEHAVIOUR.md` §4, §5, §8;
//! `../shared/reference/misp/FORMAT.md` §1, §3; `docs/PARITY-misp.md`.

use crate::json::{Json, Map, Value};

use super::common::{self, Seen};
use crate::stream::{self, Items, Streaming};
use crate::{Ctx, Doc};

/// Maps one record.
pub fn map<'v>(body: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match body {
        Value::Object(mut m) => {
            if !looks_like_attribute(&m) {
                if let Some(resp) = m.remove("response") {
                    return response(resp, ctx, out);
                }
                if let Some(list) = m.remove("Attribute") {
                    return attribute_list(list, "Attribute", ctx, out);
                }
            }
            out.push(attribute(m, ctx));
        }
        Value::Array(items) => fan_out(items, "", ctx, out),
        other => out.push(not_an_attribute("record", &other)),
    }
}

/// An attribute has its own keys; a response or list wrapper has none of them.
fn looks_like_attribute<'v>(m: &Map<'v>) -> bool {
    ["type", "value", "uuid", "category"]
        .iter()
        .any(|k| m.contains_key(k))
}

fn response<'v>(resp: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match resp {
        Value::Object(mut r) => match r.remove("Attribute") {
            Some(list) => attribute_list(list, "response.Attribute", ctx, out),
            None if r.is_empty() => {}
            None => out.push(not_an_attribute("response", &Value::Object(r))),
        },
        Value::Array(items) => fan_out(items, "response", ctx, out),
        other => out.push(not_an_attribute("response", &other)),
    }
}

fn attribute_list<'v>(list: Value<'v>, field: &str, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match list {
        Value::Array(items) => fan_out(items, field, ctx, out),
        Value::Object(one) => out.push(attribute(one, ctx)),
        other => out.push(not_an_attribute(field, &other)),
    }
}

/// One document per item, each with its own JSON as `event.original`.
fn fan_out<'v>(items: Vec<Value<'v>>, field: &str, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    for (i, item) in items.into_iter().enumerate() {
        out.push(list_item(i, item, field, ctx));
    }
}

/// Item `i` of the list at `field`, keeping its own JSON as `event.original`.
fn list_item<'v>(i: usize, item: Value<'v>, field: &str, ctx: &Ctx) -> Doc<'v> {
    let own = item.to_json();
    let mut d = item_doc(i, item, field, ctx);
    d.original = Some(own);
    d
}

/// [`list_item`] for an item of a whole response, whose `text` is at hand. Kept whatever
/// happens (`preserve`), the item's JSON is written from its tree before the mapping
/// takes it, as [`list_item`] writes it; otherwise only a document that turns out to
/// read it ([`Ctx::needs_original`]: an error, identity without a key) reads the text
/// again, which gives the value (and so the JSON) the item was.
fn streamed_item<'v>(i: usize, item: Value<'v>, text: &str, field: &str, ctx: &Ctx) -> Doc<'v> {
    if ctx.preserve {
        return list_item(i, item, field, ctx);
    }
    let mut d = item_doc(i, item, field, ctx);
    if ctx.needs_original(&d) {
        d.original = Some(match crate::json::from_str(text) {
            Ok(v) => v.to_json(),
            Err(_) => text.to_string(),
        });
    }
    d
}

/// The document of item `i` of the list at `field`.
fn item_doc<'v>(i: usize, item: Value<'v>, field: &str, ctx: &Ctx) -> Doc<'v> {
    match item {
        Value::Object(m) => attribute(m, ctx),
        other => not_an_attribute(&format!("{field}[{i}]"), &other),
    }
}

/// Whole responses item by item (see [`crate::stream`]): the same lists [`map`] fans out.
pub const STREAMING: Streaming = Streaming {
    opens_with: &["response", "Attribute"],
    split: split_response,
    documents: |_| 1,
    item: |i, item, text, field, ctx, out| out.push(streamed_item(i, item, text, field, ctx)),
    direct: Some(crate::direct::item::<super::direct::Attribute>),
};

fn split_response(text: &str) -> Option<Items<'_>> {
    if let Some(items) = stream::list(text) {
        return Some(Items { field: "", items });
    }
    let (field, list) = match stream::only_key(text, "response") {
        Some(resp) => match stream::part_list(resp) {
            Some(items) => {
                return Some(Items {
                    field: "response",
                    items,
                });
            }
            None => (
                "response.Attribute",
                stream::part_only_key(resp, "Attribute")?,
            ),
        },
        None => ("Attribute", stream::only_key(text, "Attribute")?),
    };
    stream::part_list(list).map(|items| Items { field, items })
}

fn not_an_attribute<'v>(field: &str, v: &Value<'v>) -> Doc<'v> {
    let mut d = Doc::new();
    common::start(&mut d);
    d.error(format!(
        "`{field}` is not a misp attribute object: `{}`",
        common::quote(v)
    ));
    d
}

/// One attribute → one document (BEHAVIOUR.md §4, steps in order).
fn attribute<'v>(mut a: Map<'v>, ctx: &Ctx) -> Doc<'v> {
    let mut d = Doc::new();
    common::start(&mut d);

    let event = a.remove("Event");
    let tag = a.remove("Tag");
    let object = a.remove("Object");
    let event_obj = event.as_ref().and_then(Value::as_object);

    if ctx.opts.identity {
        let (key, fingerprint) = identity(event_obj, |name| a.get(name));
        d.key = key;
        d.fingerprint = Some(fingerprint);
    }

    d.set("misp.attribute", Value::Object(a));

    // @timestamp from the attribute's last change; kept raw until the expiry is counted.
    let timestamp = common::timestamp_from(&mut d, "misp.attribute.timestamp");

    match event {
        Some(Value::Object(e)) => d.set("misp.event", Value::Object(e)),
        None | Some(Value::Null) => {}
        Some(other) => d.error(format!(
            "`misp.attribute.Event` is not an object: `{}`",
            common::quote(&other)
        )),
    }
    match object {
        Some(Value::Object(mut o)) => {
            object_names(&mut o);
            d.set("misp.object", Value::Object(o));
        }
        None | Some(Value::Null) => {}
        Some(other) => d.error(format!(
            "`misp.attribute.Object` is not an object: `{}`",
            common::quote(&other)
        )),
    }

    let _first_seen = common::seen(
        &mut d,
        "misp.attribute.first_seen",
        "threat.indicator.first_seen",
        true,
    );
    let last_seen = common::seen(
        &mut d,
        "misp.attribute.last_seen",
        "threat.indicator.last_seen",
        true,
    );

    let mut event_ts = None;
    for path in [
        "misp.event.timestamp",
        "misp.event.publish_timestamp",
        "misp.event.sighting_timestamp",
    ] {
        let t = common::date_in_place(&mut d, path);
        if path == "misp.event.timestamp" {
            event_ts = t;
        }
    }
    common::date_in_place(&mut d, "misp.object.timestamp");

    common::expire(
        &mut d,
        ctx,
        Seen {
            timestamp,
            last_seen,
            event_timestamp: event_ts,
        },
    );
    if d.get("@timestamp").is_none() {
        // A data stream needs a time: the event's, else the time of ingest.
        let t = event_ts.unwrap_or(ctx.opts.now);
        d.set("@timestamp", crate::dates::fmt_millis(t));
    }

    common::scanner_stats(&mut d);
    common::indicator(&mut d);
    common::creator(&mut d);
    if let Some(t) = &tag {
        common::tags(&mut d, t, true);
    }
    common::rename(&mut d, "misp.event.org_id", "organization.id");
    for path in [
        "misp.attribute.distribution",
        "misp.object.distribution",
        "misp.event.distribution",
        "misp.event.attribute_count",
        "misp.event.threat_level_id",
    ] {
        common::long_in_place(&mut d, path);
    }
    object_attribute_times(&mut d);
    d.remove("misp.attribute.timestamp");
    d
}

/// `misp.object.attribute[].timestamp` as dates; a value that is not one stays as it is
/// (Elastic's `ignore_failure`).
fn object_attribute_times<'v>(d: &mut Doc<'v>) {
    let Some(Value::Array(mut list)) = d.remove("misp.object.attribute") else {
        return;
    };
    attribute_times(&mut list);
    d.set("misp.object.attribute", list);
}

/// The identity of an attribute's document, from its values as sent (`event`, its
/// `Event`; `field`, its own fields by name): its key, and its fingerprint over the raw
/// values Elastic fingerprints (field names in sorted order: `Event.uuid`, `first_seen`,
/// `timestamp`, `uuid`). The general path and the direct one both call it.
pub(super) fn identity<'a, 'v: 'a>(
    event: Option<&'a Map<'v>>,
    field: impl Fn(&str) -> Option<&'a Value<'v>>,
) -> (Option<String>, String) {
    let event_uuid = event.and_then(|e| e.get("uuid"));
    let fingerprint = crate::doc::fingerprint_of([
        event_uuid,
        field("first_seen"),
        field("timestamp"),
        field("uuid"),
    ]);
    let key = common::key(
        event_uuid.or_else(|| field("event_uuid")),
        event
            .and_then(|e| e.get("id"))
            .or_else(|| field("event_id")),
        field("uuid"),
        field("id"),
    );
    (key, fingerprint)
}

/// The `timestamp` of each of an object's attributes as a date; a value that is not one
/// stays as it is (Elastic's `ignore_failure`).
pub(super) fn attribute_times(list: &mut [Value<'_>]) {
    for item in list {
        if let Some(ts) = item.get_mut("timestamp")
            && let Some(t) = common::epoch_seconds(ts)
        {
            *ts = Value::from(crate::dates::fmt_millis(t));
        }
    }
}

/// An attribute's `Object` with its names as Elastic renames them: `Attribute` →
/// `attribute`, `meta-category` → `meta_category`.
pub(super) fn object_names(o: &mut Map<'_>) {
    if let Some(list) = o.remove("Attribute") {
        o.insert("attribute", list);
    }
    if let Some(mc) = o.remove("meta-category") {
        o.insert("meta_category", mc);
    }
}

#[cfg(test)]
mod tests {
    use crate::{Dataset, Options, transform};
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};

    fn opts() -> Options {
        Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    fn run(v: Value) -> Vec<Value> {
        transform(
            Dataset::MispThreatAttributes,
            v.to_string().as_bytes(),
            &opts(),
        )
        .into_iter()
        .map(Value::Object)
        .collect()
    }

    fn attr(id: &str, t: &str, v: &str) -> Value {
        json!({"id": id, "uuid": format!("u-{id}"), "type": t, "value": v, "timestamp": "1617875568",
               "Event": {"uuid": "ev", "id": "1", "org_id": "3", "distribution": "3"}})
    }

    #[test]
    fn one_attribute_one_document() {
        let docs = run(attr("1", "md5", "f2679bdabe46e10edc6352fff3c829bc"));
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["@timestamp"], "2021-04-08T09:52:48.000Z");
        assert_eq!(
            d["threat"]["indicator"]["file"]["hash"]["md5"],
            "f2679bdabe46e10edc6352fff3c829bc"
        );
        assert_eq!(d["threat"]["indicator"]["type"], "file");
        assert_eq!(d["misp"]["attribute"].get("value"), None);
        assert_eq!(d["misp"]["attribute"].get("timestamp"), None);
        assert_eq!(d["misp"]["event"]["distribution"], 3);
        assert_eq!(d["organization"]["id"], "3");
        assert_eq!(
            d["misp"]["attribute"]["decayed_at"],
            "2021-07-07T09:52:48.000Z"
        );
        assert_eq!(d["misp"]["attribute"]["decayed"], true);
        assert_eq!(d["event"]["kind"], "enrichment");
    }

    #[test]
    fn whole_responses_fan_out_once_per_attribute() {
        let body = json!({"response": {"Attribute": [attr("1", "ip-src", "1.2.3.4"), attr("2", "domain", "x.test"), attr("3", "text", "hi")]}});
        let docs = run(body);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["threat"]["indicator"]["ip"], "1.2.3.4");
        assert_eq!(docs[1]["threat"]["indicator"]["url"]["domain"], "x.test");
        assert_eq!(docs[2]["misp"]["attribute"]["value"], "hi");
        let mut o = opts();
        o.preserve_original_event = true;
        let raw = json!({"Attribute": [attr("1", "ip-src", "1.2.3.4")]}).to_string();
        let docs = transform(Dataset::MispThreatAttributes, raw.as_bytes(), &o);
        let orig: Value =
            serde_json::from_str(docs[0]["event"]["original"].as_str().unwrap()).unwrap();
        assert_eq!(orig, attr("1", "ip-src", "1.2.3.4"));
        assert_eq!(
            run(json!([attr("1", "md5", "a"), attr("2", "md5", "b")])).len(),
            2
        );
    }

    #[test]
    fn empty_responses_give_nothing() {
        for body in [
            json!({"response": []}),
            json!({"response": {"Attribute": []}}),
            json!({"response": {}}),
            json!({"Attribute": []}),
            json!([]),
        ] {
            assert!(run(body.clone()).is_empty(), "{body}");
        }
    }

    #[test]
    fn wrong_shapes_are_error_documents() {
        for body in [
            json!("x"),
            json!(5),
            json!({"response": "x"}),
            json!({"response": {"Attribute": 5}}),
            json!([1]),
            // a list that is null: not an empty response, nothing dropped
            json!({"response": null}),
            json!({"response": {"Attribute": null}}),
            json!({"Attribute": null}),
        ] {
            let docs = run(body.clone());
            assert_eq!(docs.len(), 1, "{body}");
            assert_eq!(docs[0]["event"]["kind"], "pipeline_error", "{body}");
        }
    }

    #[test]
    fn wrong_types_everywhere_do_not_panic() {
        let junk = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1e308),
            json!("x"),
            json!([]),
            json!({}),
            json!([null]),
            json!({"a": {"b": []}}),
        ];
        let keys = [
            "id",
            "uuid",
            "type",
            "value",
            "timestamp",
            "first_seen",
            "last_seen",
            "distribution",
            "decay_score",
            "Event",
            "Object",
            "Tag",
            "event_uuid",
        ];
        for k in keys {
            for j in &junk {
                let mut a = attr("1", "ip-dst|port", "1.2.3.4|80");
                a[k] = j.clone();
                let docs = run(a);
                assert_eq!(docs.len(), 1);
                let mut a = attr("1", "AS", "AS1");
                a["Event"] = json!({"timestamp": j, "analysis": j, "org_id": j, "event_creator_email": j, "distribution": j});
                a["Object"] = json!({"timestamp": j, "Attribute": j, "distribution": j});
                assert_eq!(run(a).len(), 1);
            }
        }
    }

    #[test]
    fn bad_dates_are_reported_and_removed() {
        let mut a = attr("1", "md5", "a");
        a["timestamp"] = json!("yesterday");
        a["first_seen"] = json!("not a date");
        let docs = run(a);
        let d = &docs[0];
        assert_eq!(d["event"]["kind"], "pipeline_error");
        let errs = d["error"]["message"].as_array().unwrap();
        assert!(
            errs.iter().any(|e| e
                .as_str()
                .unwrap()
                .contains("`misp.attribute.timestamp` as epoch seconds: `yesterday`")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e
                .as_str()
                .unwrap()
                .contains("`misp.attribute.first_seen` as a date: `not a date`")),
            "{errs:?}"
        );
        assert_eq!(d["misp"]["attribute"].get("first_seen"), None);
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn identity() {
        let mut o = opts();
        o.identity = true;
        let raw = attr("1", "md5", "a").to_string();
        let a = transform(Dataset::MispThreatAttributes, raw.as_bytes(), &o);
        let b = transform(Dataset::MispThreatAttributes, raw.as_bytes(), &o);
        assert_eq!(a[0]["labels"]["ioc_key"], "misp:ev:u-1");
        assert_eq!(
            a[0]["labels"]["ioc_fingerprint"],
            b[0]["labels"]["ioc_fingerprint"]
        );
        let mut changed = attr("1", "md5", "a");
        changed["timestamp"] = json!("1617875569");
        let c = transform(
            Dataset::MispThreatAttributes,
            changed.to_string().as_bytes(),
            &o,
        );
        assert_eq!(c[0]["labels"]["ioc_key"], a[0]["labels"]["ioc_key"]);
        assert_ne!(
            c[0]["labels"]["ioc_fingerprint"],
            a[0]["labels"]["ioc_fingerprint"]
        );
    }
}
