//! `ti_misp.threat`: MISP events from `/events/restSearch`.
//!
//! # Input
//!
//! - the **post-split record** Elastic's agent produces: `{"Event":{…,"Attribute":{one},
//!   "Object":{one,"Attribute":{one}}}}`, recognised by `Attribute` or `Object` being a
//!   single object rather than a list. It gives exactly Elastic's one document: when there
//!   is an object, its attribute is the indicator and the top-level attribute becomes
//!   `misp.context.attribute`;
//! - a **whole event** `{"Event":{…}}` (`Attribute` and `Object` as lists), a whole
//!   response `{"response":[{"Event":…},…]}`, or PyMISP's bare list `[{"Event":…},…]`: one
//!   document per top-level attribute and one per object attribute, each exactly once (no
//!   cross product, no `misp.context.attribute`), each with its own post-split JSON as
//!   `event.original`. An event with no attribute at all gives one document for the event;
//! - `{"response":[]}` gives no document (Elastic drops it).
//!
//! A whole response or list is mapped event by event from its text (see [`STREAMING`]):
//! one event's tree at a time, whatever the size of the response.
//!
//! Anything else (no `Event`, an event or attribute that is not an object) is an error
//! document.
//!
//! Most events take a direct path (`whole.rs`), which writes these same documents
//! without trees; this module stays their definition, and what that path does not take
//! (errors among them) comes here.
//!
//! # ECS fields set
//!
//! `@timestamp` (the event's `timestamp`, its last change), `event.kind/category/type`,
//! `threat.indicator.*` by the type table (`types.rs`), `threat.indicator.first_seen/
//! last_seen` (parsed), `threat.indicator.provider` (`misp`), `.scanner_stats` (event
//! `analysis`, as Elastic), `.marking.tlp`, `tags` (event tag names, repeats kept as
//! Elastic), `user.email/roles`; the event under `misp.event`, `misp.orgc`,
//! `misp.attribute`, `misp.object`, `misp.context.attribute`.
//!
//! # Expiration
//!
//! Elastic sets none for events. We apply the attribute rule to every document:
//! `misp.attribute.decayed` and `.decayed_at` from max(`timestamp`, `last_seen`) +
//! `ioc_expiration_duration` (see `common::expire`), so event-fed IOCs expire too.
//!
//! # References
//!
//! `../shared/reference/elastic/ti_misp/BEHAVIOUR.md` §1.1, §3, §5, §11;
//! `../shared/reference/misp/FORMAT.md` §1, §2, §5; `docs/PARITY-misp.md`.

use crate::json::{Json, Map, Value, write};

use super::common::{self, Seen};
use crate::json::Outline;
use crate::stream::{self, Items, Streaming};
use crate::{Ctx, Doc};

/// Event parts Elastic removes before mapping.
const EVENT_DROPPED: &[&str] = &["EventReport", "Galaxy", "RelatedEvent", "ShadowAttribute"];
/// Event parts mapped on their own (`Orgc`, `Tag`) or not kept (`Org`).
const EVENT_APART: &[&str] = &["Org", "Orgc", "Tag"];
/// Attribute parts Elastic removes.
const ATTRIBUTE_DROPPED: &[&str] = &["Galaxy", "ShadowAttribute"];

/// Maps one record.
pub fn map<'v>(body: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match body {
        Value::Object(mut m) => {
            if let Some(ev) = m.remove("Event") {
                event(ev, ctx, out, false);
            } else if let Some(resp) = m.remove("response") {
                match resp {
                    Value::Array(items) => list(items, "response", ctx, out),
                    Value::Object(r) if r.is_empty() => {}
                    other => out.push(failed(format!(
                        "`response` is not a list of misp events: `{}`",
                        common::quote(&other)
                    ))),
                }
            } else {
                out.push(failed(format!(
                    "record has neither `Event` nor `response`: `{}`",
                    common::quote(&Value::Object(m))
                )));
            }
        }
        Value::Array(items) => list(items, "record", ctx, out),
        other => out.push(failed(format!(
            "record is not a misp event: `{}`",
            common::quote(&other)
        ))),
    }
}

fn failed<'v>(msg: String) -> Doc<'v> {
    let mut d = Doc::new();
    common::start(&mut d);
    d.error(msg);
    d
}

/// A list of `{"Event":…}` items: each fans out on its own.
fn list<'v>(items: Vec<Value<'v>>, field: &str, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    for (i, item) in items.into_iter().enumerate() {
        list_item(i, item, field, ctx, out);
    }
}

/// Item `i` of the list at `field`: an `{"Event":…}` fans out, anything else is an error
/// document keeping the item's JSON.
fn list_item<'v>(i: usize, item: Value<'v>, field: &str, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match item {
        Value::Object(mut m) if m.contains_key("Event") => {
            if let Some(ev) = m.remove("Event") {
                event(ev, ctx, out, true);
            }
        }
        other => {
            let mut d = failed(format!(
                "`{field}[{i}]` is not a misp event: `{}`",
                common::quote(&other)
            ));
            d.original = Some(other.to_json());
            out.push(d);
        }
    }
}

/// Whole responses and lists event by event (see [`crate::stream`]): the lists [`map`]
/// fans out, `{"response":[…]}` and `[…]`.
pub const STREAMING: Streaming = Streaming {
    opens_with: &["response"],
    split: split_response,
    documents: item_documents,
    item: |i, item, _, field, ctx, out| list_item(i, item, field, ctx, out),
    direct: Some(super::whole::listed_documents),
};

fn split_response(text: &str) -> Option<Items<'_>> {
    if let Some(items) = stream::list(text) {
        return Some(Items {
            field: "record",
            items,
        });
    }
    let resp = stream::only_key(text, "response")?;
    stream::part_list(resp).map(|items| Items {
        field: "response",
        items,
    })
}

/// How many documents [`list_item`] makes of a list item, from its shape alone: the
/// counting of [`event`], step for step.
fn item_documents(item: &str) -> usize {
    let Some(ev) = stream::shape(item).get("Event") else {
        return 1;
    };
    let meta = stream::shape(ev);
    if !matches!(meta, Outline::Object(_)) {
        return 1;
    }
    let objects = meta.get("Object").map(stream::shape);
    let object_attrs = match &objects {
        Some(o @ Outline::Object(_)) => Some(Form::member(o, "Attribute")),
        _ => None,
    };
    let attrs = Form::member(&meta, "Attribute");
    if is_post_split(attrs, Form::of_shape(objects.as_ref()), object_attrs) {
        return 1;
    }
    let mut n = attrs.items();
    match &objects {
        None | Some(Outline::Null) => {}
        Some(Outline::List(items)) => {
            for o in items {
                n = n.saturating_add(object_documents(&stream::shape(o)));
            }
        }
        Some(o) => n = n.saturating_add(object_documents(o)),
    }
    n.max(1)
}

/// The documents of one item of an event's `Object`: one per attribute, one error
/// document when it is not an object.
fn object_documents(o: &Outline) -> usize {
    match o {
        Outline::Object(_) => Form::member(o, "Attribute").items(),
        _ => 1,
    }
}

/// What the fan-out reads of an event's `Attribute` or `Object`, from the tree ([`event`])
/// or from the text's shape ([`item_documents`]), so that both decide alike.
#[derive(Clone, Copy)]
enum Form {
    /// Absent or `null`.
    Nothing,
    /// A list of this many items.
    List(usize),
    Object,
    /// A string, number or boolean (or text that is not JSON).
    Scalar,
}

impl Form {
    fn of<'v>(v: Option<&Value<'v>>) -> Self {
        match v {
            None | Some(Value::Null) => Form::Nothing,
            Some(Value::Array(a)) => Form::List(a.len()),
            Some(Value::Object(_)) => Form::Object,
            Some(_) => Form::Scalar,
        }
    }

    fn of_shape(v: Option<&Outline>) -> Self {
        match v {
            None | Some(Outline::Null) => Form::Nothing,
            Some(Outline::List(a)) => Form::List(a.len()),
            Some(Outline::Object(_)) => Form::Object,
            Some(Outline::Scalar) => Form::Scalar,
        }
    }

    /// The form of the member `key` of an object's shape.
    fn member(object: &Outline, key: &str) -> Self {
        Form::of_shape(object.get(key).map(stream::shape).as_ref())
    }

    /// `Some(true)` for one object, `Some(false)` for nothing or an empty list, `None` for
    /// a list with items (or a scalar).
    fn single(self) -> Option<bool> {
        match self {
            Form::Nothing | Form::List(0) => Some(false),
            Form::Object => Some(true),
            Form::List(_) | Form::Scalar => None,
        }
    }

    /// How many items [`into_list`] makes of it.
    fn items(self) -> usize {
        match self {
            Form::Nothing => 0,
            Form::List(n) => n,
            Form::Object | Form::Scalar => 1,
        }
    }
}

/// Whether an event is Elastic's post-split record (exactly one document): at most one
/// attribute and at most one object, not lists, at least one of them, and the object's
/// own `Attribute` (`object_attrs`, when `Object` is one object) not a list either.
fn is_post_split(attrs: Form, objects: Form, object_attrs: Option<Form>) -> bool {
    let object_attr_single = object_attrs.is_none_or(|f| f.single().is_some());
    match (attrs.single(), objects.single()) {
        (Some(a), Some(o)) => (a || o) && object_attr_single,
        _ => false,
    }
}

/// The items of an `Attribute` or `Object` member: a list as it is, one value as a list of
/// one, nothing or `null` as none.
fn into_list<'v>(v: Option<Value<'v>>) -> Vec<Value<'v>> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(other) => vec![other],
    }
}

fn event<'v>(ev: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>, in_list: bool) {
    let Value::Object(mut meta) = ev else {
        let mut d = failed(format!(
            "`Event` is not an object: `{}`",
            common::quote(&ev)
        ));
        if in_list {
            d.original = Some(serde_json::json!({ "Event": ev }).to_string());
        }
        out.push(d);
        return;
    };
    let attrs = meta.remove("Attribute");
    let objects = meta.remove("Object");
    let object_attrs = match &objects {
        Some(Value::Object(o)) => Some(Form::of(o.get("Attribute"))),
        _ => None,
    };
    let post_split = is_post_split(
        Form::of(attrs.as_ref()),
        Form::of(objects.as_ref()),
        object_attrs,
    );

    if post_split {
        // Elastic's split record: exactly its one document.
        let attr = match attrs {
            Some(Value::Object(a)) => Some(Value::Object(a)),
            _ => None,
        };
        let (object, obj_attr) = match objects {
            Some(Value::Object(mut o)) => {
                let oa = match o.remove("Attribute") {
                    Some(Value::Object(a)) => Some(Value::Object(a)),
                    _ => None,
                };
                (Some(o), oa)
            }
            _ => (None, None),
        };
        let original = in_list
            .then(|| split_original(&meta, attr.as_ref(), object.as_ref(), obj_attr.as_ref()));
        let promote = object.is_some();
        // the event is this one document's: its fields are moved into it, not copied
        let ids = EventIds::of(&meta);
        let mut d = split_doc(
            event_part_owned(meta),
            &ids,
            attr,
            object,
            obj_attr,
            promote,
            ctx,
        );
        d.original = original;
        out.push(d);
        return;
    }

    // A whole event: each attribute once, each document starting from the event's part,
    // mapped once for all of them, its event and `Orgc` written once for all of them.
    let ids = EventIds::of(&meta);
    let mut part = event_part(&meta);
    for path in ["misp.event", "misp.orgc"] {
        part.doc
            .freeze(path, crate::Dataset::MispThreat.info().cleanup);
    }
    let mut n = 0usize;
    for a in into_list(attrs) {
        out.push(item_doc(&part, &meta, &ids, Some(&a), None, None, ctx));
        n += 1;
    }
    for (i, o) in into_list(objects).into_iter().enumerate() {
        let Value::Object(mut o) = o else {
            let mut d = failed(format!(
                "`Event.Object[{i}]` is not an object: `{}`",
                common::quote(&o)
            ));
            d.original = Some(split_original(&meta, None, None, None));
            out.push(d);
            n += 1;
            continue;
        };
        let obj_attrs = into_list(o.remove("Attribute"));
        for oa in obj_attrs {
            out.push(item_doc(&part, &meta, &ids, None, Some(&o), Some(&oa), ctx));
            n += 1;
        }
    }
    if n == 0 {
        // No indicator: one document for the event, as Elastic's split gives.
        let original = split_original(&meta, None, None, None);
        let mut d = split_doc(part, &ids, None, None, None, false, ctx);
        d.original = Some(original);
        out.push(d);
    }
}

/// The document of one item of a whole event (an attribute, or an object with one of its
/// attributes, promoted), with the item's post-split text only when the document reads it
/// (`Ctx::needs_original`): copying the item costs less than writing the event around it
/// for every document.
fn item_doc<'v>(
    part: &EventPart<'v>,
    meta: &Map<'v>,
    ids: &EventIds<'v>,
    attr: Option<&Value<'v>>,
    object: Option<&Map<'v>>,
    obj_attr: Option<&Value<'v>>,
    ctx: &Ctx,
) -> Doc<'v> {
    let promote = object.is_some();
    let mut d = split_doc(
        part.clone(),
        ids,
        attr.cloned(),
        object.cloned(),
        obj_attr.cloned(),
        promote,
        ctx,
    );
    if ctx.needs_original(&d) {
        d.original = Some(split_original(meta, attr, object, obj_attr));
    }
    d
}

/// The post-split JSON of one document, as Elastic's agent would have sent it:
/// `{"Event":{…meta, "Attribute": attr or [], "Object": object + its attribute, or []}}`,
/// keys sorted. Written straight from the parts (no copy of the event per document).
pub(super) fn split_original<'v>(
    meta: &Map<'v>,
    attr: Option<&Value<'v>>,
    object: Option<&Map<'v>>,
    obj_attr: Option<&Value<'v>>,
) -> String {
    let obj_extra = [("Attribute", obj_attr.map_or(Part::EmptyList, Part::Value))];
    let object = match object {
        Some(o) => Part::Merged(Merged {
            base: o,
            extra: &obj_extra,
        }),
        None => Part::EmptyList,
    };
    let event_extra = [
        ("Attribute", attr.map_or(Part::EmptyList, Part::Value)),
        ("Object", object),
    ];
    let no_fields = Map::new();
    let rec_extra = [(
        "Event",
        Part::Merged(Merged {
            base: meta,
            extra: &event_extra,
        }),
    )];
    let rec = Merged {
        base: &no_fields,
        extra: &rec_extra,
    };
    rec.to_json()
}

/// A value of [`split_original`]'s record.
enum Part<'a> {
    Value(&'a Value<'a>),
    EmptyList,
    Merged(Merged<'a>),
}

/// An object: `base`'s entries with the `extra` ones (sorted by key) set over them, in
/// key order — what inserting `extra` into a copy of `base` would be written as.
struct Merged<'a> {
    base: &'a Map<'a>,
    extra: &'a [(&'static str, Part<'a>)],
}

impl Json for Part<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Part::Value(v) => v.write_json(out),
            Part::EmptyList => out.extend_from_slice(b"[]"),
            Part::Merged(m) => m.write_json(out),
        }
    }
}

impl Json for Merged<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut first = true;
        let mut entry = |k: &str, v: &dyn Json, out: &mut Vec<u8>| {
            write::key(k, &mut first, out);
            v.write_json(out);
        };
        out.push(b'{');
        let mut extra = self.extra.iter().peekable();
        for (k, v) in self.base.iter() {
            while let Some((ek, ev)) = extra.next_if(|(ek, _)| *ek <= k) {
                entry(ek, ev, out);
            }
            if !self.extra.iter().any(|(ek, _)| *ek == k) {
                entry(k, v, out);
            }
        }
        for (ek, ev) in extra {
            entry(ek, ev, out);
        }
        out.push(b'}');
    }
}

/// A MISP attribute as an object, without the parts Elastic drops; or an error.
fn clean_attribute<'v>(v: Option<Value<'v>>, field: &str, d: &mut Doc<'v>) -> Option<Map<'v>> {
    match v? {
        Value::Object(mut m) => {
            drop_parts(&mut m);
            Some(m)
        }
        Value::Null => None,
        other => {
            d.error(format!(
                "`{field}` is not an object: `{}`",
                common::quote(&other)
            ));
            None
        }
    }
}

/// An attribute without the parts Elastic drops.
pub(super) fn drop_parts(attribute: &mut Map<'_>) {
    for k in ATTRIBUTE_DROPPED {
        attribute.remove(k);
    }
}

/// An event's object as its documents keep it: its references dropped, `meta-category`
/// renamed `meta_category`.
pub(super) fn object_names(o: &mut Map<'_>) {
    o.remove("ObjectReference");
    if let Some(mc) = o.remove("meta-category") {
        o.insert("meta_category", mc);
    }
}

/// The raw values Elastic fingerprints a document of an event by (field names in sorted
/// order: `Attribute.first_seen`, `Attribute.uuid`, `Object.Attribute.uuid`,
/// `Event.timestamp`), from the event's attribute, the object's attribute and the event's
/// `timestamp`, each as sent.
pub(super) fn fingerprinted<'a, 'v>(
    attr: Option<&'a Map<'v>>,
    obj_attr: Option<&'a Map<'v>>,
    event_timestamp: Option<&'a Value<'v>>,
) -> [Option<&'a Value<'v>>; 4] {
    [
        attr.and_then(|m| m.get("first_seen")),
        attr.and_then(|m| m.get("uuid")),
        obj_attr.and_then(|m| m.get("uuid")),
        event_timestamp,
    ]
}

/// The event's own values a document's identity reads, as the event has them (before its
/// mapping converts its `timestamp`): taken apart first, so that a post-split event's
/// fields can be moved into its document.
struct EventIds<'v> {
    timestamp: Option<Value<'v>>,
    uuid: Option<Value<'v>>,
    id: Option<Value<'v>>,
}

impl<'v> EventIds<'v> {
    fn of(meta: &Map<'v>) -> Self {
        EventIds {
            timestamp: meta.get("timestamp").cloned(),
            uuid: meta.get("uuid").cloned(),
            id: meta.get("id").cloned(),
        }
    }
}

/// What an event gives each of its documents, whatever the attribute: the constant
/// fields, the event under `misp.event` (times and numbers converted), `misp.orgc`,
/// `threat.indicator.scanner_stats`, `user.*`, the event's tags and TLP marking, and the
/// errors met making them (BEHAVIOUR.md §3, the event's steps). A whole event maps it
/// once and starts each document from a copy.
#[derive(Clone)]
struct EventPart<'v> {
    doc: Doc<'v>,
    /// The event's `timestamp`: `@timestamp`, and the expiry's last resort.
    time: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether an event's field is kept under `misp.event`: not dropped, not mapped apart.
pub(super) fn kept_in_event(name: &str) -> bool {
    !EVENT_DROPPED.contains(&name) && !EVENT_APART.contains(&name)
}

/// The part of a whole event, which each of its documents starts from a copy of: the
/// event stays whole for the documents' `event.original`.
fn event_part<'v>(meta: &Map<'v>) -> EventPart<'v> {
    event_part_of(
        meta.cloned_where(kept_in_event),
        meta.get("Orgc").cloned(),
        meta.get("Tag"),
    )
}

/// The part of an event of one document (Elastic's post-split record), its fields moved.
fn event_part_owned<'v>(mut meta: Map<'v>) -> EventPart<'v> {
    let orgc = meta.remove("Orgc");
    let tag = meta.remove("Tag");
    meta.retain(|k, _| kept_in_event(k));
    event_part_of(meta, orgc, tag.as_ref())
}

/// An event's part from its kept fields (`ev`), its `Orgc` and its `Tag`.
fn event_part_of<'v>(
    ev: Map<'v>,
    orgc: Option<Value<'v>>,
    tag: Option<&Value<'v>>,
) -> EventPart<'v> {
    let mut d = Doc::new();
    common::start(&mut d);
    d.set("misp.event", Value::Object(ev));

    let time = common::timestamp_from(&mut d, "misp.event.timestamp");
    d.remove("misp.event.timestamp");
    common::date_in_place(&mut d, "misp.event.publish_timestamp");

    match orgc {
        Some(Value::Object(o)) => d.set("misp.orgc", Value::Object(o)),
        None | Some(Value::Null) => {}
        Some(other) => d.error(format!(
            "`misp.event.Orgc` is not an object: `{}`",
            common::quote(&other)
        )),
    }

    common::scanner_stats(&mut d);
    common::long_in_place(&mut d, "misp.event.threat_level_id");
    common::creator(&mut d);
    if let Some(t) = tag {
        common::tags(&mut d, t, false);
    }
    common::long_in_place(&mut d, "misp.event.distribution");
    common::long_in_place(&mut d, "misp.event.attribute_count");
    EventPart { doc: d, time }
}

/// One document from its event's part and at most one attribute and one object attribute
/// (BEHAVIOUR.md §3, the attribute's steps in order; the event's errors come first). With
/// `promote`, the object attribute is the indicator and the top-level attribute is
/// context.
fn split_doc<'v>(
    event: EventPart<'v>,
    ids: &EventIds<'v>,
    attr: Option<Value<'v>>,
    object: Option<Map<'v>>,
    obj_attr: Option<Value<'v>>,
    promote: bool,
    ctx: &Ctx,
) -> Doc<'v> {
    let mut d = event.doc;
    let attr = clean_attribute(attr, "Event.Attribute", &mut d);
    let obj_attr = clean_attribute(obj_attr, "Event.Object.Attribute", &mut d);

    if ctx.opts.identity {
        d.fingerprint_over(fingerprinted(
            attr.as_ref(),
            obj_attr.as_ref(),
            ids.timestamp.as_ref(),
        ));
    }
    let indicator = if promote {
        obj_attr.as_ref()
    } else {
        attr.as_ref()
    };
    d.key = common::key(
        ids.uuid.as_ref(),
        ids.id.as_ref(),
        indicator.and_then(|m| m.get("uuid")),
        indicator.and_then(|m| m.get("id")),
    );

    let object = object.map(|mut o| {
        object_names(&mut o);
        o
    });
    if promote {
        if let Some(a) = attr {
            d.set("misp.context.attribute", Value::Object(a));
        }
        if let Some(a) = obj_attr {
            d.set("misp.attribute", Value::Object(a));
        }
    } else if let Some(a) = attr {
        d.set("misp.attribute", Value::Object(a));
    }
    if let Some(o) = object {
        d.set("misp.object", Value::Object(o));
    }

    let attr_time = common::date_in_place(&mut d, "misp.attribute.timestamp");
    common::date_in_place(&mut d, "misp.context.attribute.timestamp");
    common::date_in_place(&mut d, "misp.object.timestamp");

    common::seen(
        &mut d,
        "misp.attribute.first_seen",
        "threat.indicator.first_seen",
        false,
    );
    let last_seen = common::seen(
        &mut d,
        "misp.attribute.last_seen",
        "threat.indicator.last_seen",
        false,
    );

    common::indicator(&mut d);
    for path in [
        "misp.object.distribution",
        "misp.attribute.distribution",
        "misp.context.attribute.distribution",
    ] {
        common::long_in_place(&mut d, path);
    }

    common::expire(
        &mut d,
        ctx,
        Seen {
            timestamp: attr_time,
            last_seen,
            event_timestamp: event.time,
        },
    );
    if d.get("@timestamp").is_none() {
        d.set("@timestamp", crate::dates::fmt_millis(ctx.opts.now));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, Options, transform};
    use chrono::{TimeZone, Utc};
    use serde_json::{Map, Value, json};

    fn opts() -> Options {
        Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    fn run(v: &Value) -> Vec<Value> {
        transform(Dataset::MispThreat, v.to_string().as_bytes(), &opts())
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    fn attr(id: &str, t: &str, v: &str) -> Value {
        json!({"id": id, "uuid": format!("a-{id}"), "type": t, "value": v, "timestamp": "1622200249", "distribution": "5"})
    }

    fn event(attrs: Value, objects: Value) -> Value {
        json!({"Event": {"id": "3636", "uuid": "ev", "timestamp": "1622200781", "analysis": "0", "distribution": "0",
                         "publish_timestamp": "0", "Orgc": {"name": "ORG"}, "Org": {"name": "x"},
                         "Tag": [{"name": "tlp:green"}, {"name": "type:OSINT"}], "Galaxy": [],
                         "Attribute": attrs, "Object": objects}})
    }

    fn object(id: &str, attrs: Value) -> Value {
        json!({"id": id, "name": "file", "meta-category": "file", "timestamp": "1622200348", "ObjectReference": [], "Attribute": attrs})
    }

    #[test]
    fn post_split_record_promotes_the_object_attribute() {
        let rec = event(
            attr("1", "windows-service-name", "svc"),
            object("9", attr("2", "md5", "00ff")),
        );
        let docs = run(&rec);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["misp"]["attribute"]["uuid"], "a-2");
        assert_eq!(d["misp"]["context"]["attribute"]["value"], "svc");
        assert_eq!(d["misp"]["object"]["meta_category"], "file");
        assert_eq!(d["misp"]["object"].get("ObjectReference"), None);
        assert_eq!(d["threat"]["indicator"]["file"]["hash"]["md5"], "00ff");
        assert_eq!(d["@timestamp"], "2021-05-28T11:19:41.000Z");
        assert_eq!(
            d["misp"]["event"]["publish_timestamp"],
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(d["misp"]["event"].get("timestamp"), None);
        assert_eq!(d["misp"]["orgc"]["name"], "ORG");
        assert_eq!(d["misp"].get("org"), None);
        assert_eq!(d["tags"], json!(["tlp:green", "type:OSINT"]));
        assert_eq!(d["threat"]["indicator"]["marking"]["tlp"], json!(["GREEN"]));
        assert_eq!(
            d["misp"]["attribute"]["decayed_at"],
            "2021-08-26T11:10:49.000Z"
        );
        assert_eq!(d["misp"]["attribute"]["decayed"], true);
    }

    #[test]
    fn split_original_is_the_event_with_its_parts_inserted() {
        let meta =
            json!({"id": "1", "Attribute": "stale", "Orgc": {"name": "x"}, "uuid": "u", "zz": 1});
        let meta = meta.as_object().unwrap();
        let a = json!({"id": "7", "value": "1.2.3.4"});
        let o = json!({"id": "9", "name": "file", "Attribute": "stale"});
        let oa = json!({"id": "8"});
        for (attr, object, obj_attr) in [
            (Some(&a), None, None),
            (None, o.as_object(), Some(&oa)),
            (Some(&a), o.as_object(), None),
            (None, None, None),
        ] {
            // what inserting the parts into copies gives, key order included
            let mut e = meta.clone();
            e.insert("Attribute".into(), attr.cloned().unwrap_or(json!([])));
            let obj = object.map_or(json!([]), |o| {
                let mut o = o.clone();
                o.insert("Attribute".into(), obj_attr.cloned().unwrap_or(json!([])));
                Value::Object(o)
            });
            e.insert("Object".into(), obj);
            let want = json!({ "Event": e }).to_string();
            // the same parts, read as the mapping reads them
            let ours = |v: Option<&Value>| v.cloned().map(crate::json::Value::from);
            let meta_j = crate::json::Value::from(Value::Object(meta.clone()));
            let object_j = ours(object.cloned().map(Value::Object).as_ref());
            let got = split_original(
                meta_j.as_object().unwrap(),
                ours(attr).as_ref(),
                object_j.as_ref().and_then(|o| o.as_object()),
                ours(obj_attr).as_ref(),
            );
            assert_eq!(got, want);
        }
    }

    #[test]
    fn post_split_without_object() {
        let docs = run(&event(attr("1", "ip-dst", "1.2.3.4"), json!([])));
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["threat"]["indicator"]["ip"], "1.2.3.4");
        assert_eq!(docs[0]["misp"].get("context"), None);
        assert_eq!(docs[0]["misp"].get("object"), None);
    }

    #[test]
    fn whole_event_gives_each_attribute_once() {
        let rec = event(
            json!([
                attr("1", "ip-dst", "1.2.3.4"),
                attr("2", "domain", "x.test")
            ]),
            json!([
                object(
                    "9",
                    json!([attr("3", "md5", "aa"), attr("4", "sha1", "bb")])
                ),
                object("8", json!([attr("5", "float", "1.5")]))
            ]),
        );
        let docs = run(&rec);
        let uuids: Vec<&str> = docs
            .iter()
            .map(|d| d["misp"]["attribute"]["uuid"].as_str().unwrap())
            .collect();
        assert_eq!(uuids, ["a-1", "a-2", "a-3", "a-4", "a-5"]);
        assert!(docs.iter().all(|d| d["misp"].get("context").is_none()));
        assert_eq!(docs[2]["misp"]["object"]["id"], "9");
        assert_eq!(docs[4]["misp"]["attribute"]["value"], "1.5");
        let mut o = opts();
        o.preserve_original_event = true;
        let d = transform(Dataset::MispThreat, rec.to_string().as_bytes(), &o);
        let orig: Value =
            serde_json::from_str(d[2]["event"]["original"].as_str().unwrap()).unwrap();
        assert_eq!(orig["Event"]["Object"]["Attribute"]["uuid"], "a-3");
        assert_eq!(orig["Event"]["Attribute"], json!([]));
    }

    #[test]
    fn whole_event_documents_are_its_items_post_split() {
        // The event's part is mapped once and copied into every document of a whole
        // event: each document must be the one its item gives sent alone, post-split (its
        // `event.original`), errors of the event's part and of the item's included, in
        // the same order.
        let mut bad_time = attr("2", "domain", "x.test");
        bad_time["timestamp"] = json!("soon");
        bad_time["distribution"] = json!("far");
        let mut rec = event(
            json!([attr("1", "ip-dst", "1.2.3.4"), bad_time, "not an attribute"]),
            json!([
                object(
                    "9",
                    json!([attr("3", "md5", "aa"), attr("4", "sha1", "bb")])
                ),
                object("8", json!([]))
            ]),
        );
        let ev = rec["Event"].as_object_mut().unwrap();
        ev.insert("publish_timestamp".into(), json!("never"));
        ev.insert("threat_level_id".into(), json!("high"));
        ev.insert("Orgc".into(), json!("ORG"));
        ev.insert("event_creator_email".into(), json!("a@b.test"));
        ev.insert(
            "Tag".into(),
            json!([{"name": "tlp:amber"}, {"name": "tlp:amber"}, {"name": "x\\y"}]),
        );
        let mut o = opts();
        o.preserve_original_event = true;
        o.identity = true;
        let docs = transform(Dataset::MispThreat, rec.to_string().as_bytes(), &o);
        assert_eq!(docs.len(), 5);
        for (i, d) in docs.iter().enumerate() {
            let item = d["event"]["original"].as_str().unwrap();
            let alone = transform(Dataset::MispThreat, item.as_bytes(), &o);
            assert_eq!(alone.len(), 1, "item {i}");
            assert_eq!(&alone[0], d, "item {i}");
            let errors = d["error"]["message"].as_array().unwrap();
            assert!(errors.len() >= 3, "item {i}: {errors:?}");
        }
        // the event's errors first, then the item's
        let errors = docs[1]["error"]["message"].as_array().unwrap();
        assert!(
            errors[0]
                .as_str()
                .unwrap()
                .contains("misp.event.publish_timestamp")
        );
        assert!(
            errors
                .last()
                .unwrap()
                .as_str()
                .unwrap()
                .contains("misp.attribute.distribution")
        );
        assert_eq!(docs[0]["user"]["email"], "a@b.test");
        assert_eq!(
            docs[3]["threat"]["indicator"]["marking"]["tlp"],
            json!(["AMBER"])
        );
        assert_eq!(
            docs[4]["tags"],
            json!(["preserve_original_event", "tlp:amber", "tlp:amber", "xy"])
        );
    }

    #[test]
    fn an_item_text_is_written_only_for_the_documents_that_read_it() {
        // item 1 is fine, item 2 has an unreadable timestamp, item 3 has no ids
        let mut bad = attr("2", "domain", "x.test");
        bad["timestamp"] = json!("soon");
        let mut anonymous = attr("3", "md5", "aa");
        anonymous.as_object_mut().unwrap().remove("uuid");
        anonymous.as_object_mut().unwrap().remove("id");
        let mut rec = event(
            json!([attr("1", "ip-dst", "1.2.3.4"), bad, anonymous]),
            json!([]),
        );
        rec["Event"].as_object_mut().unwrap().remove("uuid");
        rec["Event"].as_object_mut().unwrap().remove("id");
        let text = rec.to_string();
        let item_text = |d: &Map<String, Value>| -> Value {
            serde_json::from_str(d["event"]["original"].as_str().unwrap()).unwrap()
        };

        let docs = transform(Dataset::MispThreat, text.as_bytes(), &opts());
        assert!(docs[0]["event"].get("original").is_none());
        assert_eq!(docs[1]["event"]["kind"], "pipeline_error");
        // the erroneous document keeps its own item, not the whole event
        let own = item_text(&docs[1]);
        assert_eq!(own["Event"]["Attribute"]["timestamp"], "soon");
        assert_eq!(own["Event"]["Object"], json!([]));
        assert!(docs[2]["event"].get("original").is_none());

        // with identity on, a document without ids is keyed by its own item's text
        let mut o = opts();
        o.identity = true;
        let keyed = transform(Dataset::MispThreat, text.as_bytes(), &o);
        let key = keyed[2]["labels"]["ioc_key"].as_str().unwrap();
        let mut with_text = o.clone();
        with_text.preserve_original_event = true;
        let kept = transform(Dataset::MispThreat, text.as_bytes(), &with_text);
        let own = kept[2]["event"]["original"].as_str().unwrap();
        assert_eq!(item_text(&kept[2])["Event"]["Attribute"]["type"], "md5");
        assert_eq!(
            key,
            format!(
                "ti_misp.threat:original:{}",
                crate::doc::sha256_hex(own.as_bytes())
            )
        );
        assert_eq!(keyed[2]["labels"], kept[2]["labels"]);
    }

    #[test]
    fn whole_response_and_bare_list() {
        let e1 = event(json!([attr("1", "ip-dst", "1.2.3.4")]), json!([]));
        let e2 = event(
            json!([attr("2", "md5", "aa"), attr("3", "md5", "bb")]),
            json!([object("9", json!([attr("4", "md5", "cc")]))]),
        );
        assert_eq!(run(&json!({"response": [e1, e2]})).len(), 4);
        assert_eq!(run(&json!([e1, e2])).len(), 4);
        assert!(run(&json!({"response": []})).is_empty());
        // a null list is not an empty response: an error document, nothing dropped
        let d = run(&json!({"response": null}));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["event"]["kind"], "pipeline_error");
    }

    #[test]
    fn event_without_attributes_is_one_document() {
        let docs = run(&event(json!([]), json!([])));
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["misp"]["event"]["id"], "3636");
        assert_eq!(
            docs[0]["misp"]["attribute"]["decayed_at"],
            "2021-08-26T11:19:41.000Z"
        );
    }

    #[test]
    fn wrong_shapes_are_error_documents() {
        for body in [
            json!(1),
            json!({"x": 1}),
            json!({"Event": "x"}),
            json!({"response": 3}),
            json!([1]),
            json!({"response": [{"y": 1}]}),
        ] {
            let docs = run(&body);
            assert_eq!(docs.len(), 1, "{body}");
            assert_eq!(docs[0]["event"]["kind"], "pipeline_error", "{body}");
        }
        let docs = run(&event(json!(["str", attr("1", "md5", "a")]), json!([5])));
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["event"]["kind"], "pipeline_error");
        assert_eq!(docs[1]["event"]["kind"], "enrichment");
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
        ];
        for j in &junk {
            for k in [
                "timestamp",
                "publish_timestamp",
                "analysis",
                "Tag",
                "Orgc",
                "distribution",
                "threat_level_id",
                "uuid",
                "attribute_count",
                "event_creator_email",
            ] {
                let mut rec = event(json!([attr("1", "AS", "AS12")]), json!([]));
                rec["Event"][k] = j.clone();
                assert_eq!(run(&rec).len(), 1);
            }
            for k in [
                "timestamp",
                "first_seen",
                "last_seen",
                "type",
                "value",
                "distribution",
                "uuid",
                "decay_score",
            ] {
                let mut a = attr("1", "ip-src|port", "1.2.3.4|5");
                a[k] = j.clone();
                let rec = event(a.clone(), object("2", a));
                assert_eq!(run(&rec).len(), 1);
            }
        }
    }

    #[test]
    fn uri_is_parsed_or_kept() {
        let docs = run(&event(attr("1", "uri", "/index.php?x=1"), json!([])));
        let i = &docs[0]["threat"]["indicator"];
        assert_eq!(i["type"], "url");
        assert_eq!(i["url"]["original"], "/index.php?x=1");
    }

    #[test]
    fn identity_per_attribute() {
        let mut o = opts();
        o.identity = true;
        let rec = event(
            json!([attr("1", "md5", "a")]),
            json!([object("9", json!([attr("2", "md5", "b")]))]),
        );
        let docs = transform(Dataset::MispThreat, rec.to_string().as_bytes(), &o);
        assert_eq!(docs[0]["labels"]["ioc_key"], "misp:ev:a-1");
        assert_eq!(docs[1]["labels"]["ioc_key"], "misp:ev:a-2");
        assert_ne!(
            docs[0]["labels"]["ioc_fingerprint"],
            docs[1]["labels"]["ioc_fingerprint"]
        );
    }
}
