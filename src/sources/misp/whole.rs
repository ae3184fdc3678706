//! `ti_misp.threat` events without document trees: an event read once, what its
//! documents share written once, each document written straight from its item.
//!
//! A whole event (`{"Event":{…}}` with `Attribute` and `Object` as lists) gives one
//! document per attribute and per object attribute ([`super::event`]); Elastic's
//! post-split record (one attribute, one object with one attribute, or both) gives one. Its documents
//! share most of what they hold: the constants, `@timestamp` and `event`, `misp.event`,
//! `misp.orgc`, the tags, `user`, the event's indicator fields. The general path maps
//! the event once and copies that part into each document's tree; this path writes each
//! shared part once as JSON, writes each object once, and for each item maps only the
//! attribute (its times, numbers, indicator fields and expiry, by the general path's own
//! functions: [`common`], [`super::direct`]) and writes the document from the shared
//! bytes and the attribute.
//!
//! It takes a record that is exactly `{"Event":{…}}` — with lists (or nothing) for
//! `Attribute` and `Object` and at least one item, or post-split — within the limits,
//! and nothing the general mapping answers with an error; also each such event of a
//! whole response or list ([`listed_documents`], from `crate::stream`). Everything
//! else — an envelope, `_conf` settings, an item that is not an object, an event
//! without items, an unreadable time or number anywhere — goes the general path, which
//! gives the same documents this path would, byte for byte, and the error documents
//! this one never writes.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::common::{self, Seen};
use super::direct::{Collected, date_in_place, expire, long_in_place, seen, tag_list, user_object};
use super::event::{drop_parts, fingerprinted, kept_in_event, object_names, split_original};
use crate::dates::Stamp;
use crate::direct::{Obj, Written, write_paths};
use crate::doc::fingerprint_of;
use crate::json::{Map, Value, write};
use crate::options::Options;
use crate::{Cleanup, Dataset, dates};

/// MISP's cleanup: nulls removed.
const CLEANUP: Cleanup = Cleanup::NullsOnly;

/// A field of `threat.indicator`, by its path under it.
type Field<'t> = (Cow<'t, str>, Value<'t>);

/// The documents of `text`, a MISP event (whole or post-split), each pushed to `out`;
/// `false`, with nothing pushed, to leave the record to the general path.
pub fn documents(text: &str, opts: &Options, out: &mut Vec<Vec<u8>>) -> bool {
    event_documents(text, false, opts, out)
}

/// [`documents`] of an item of a whole response or list, `{"Event":{…}}` (a post-split
/// item's `event.original` is then its own post-split JSON, not its text).
pub fn listed_documents(text: &str, opts: &Options, out: &mut Vec<Vec<u8>>) -> bool {
    event_documents(text, true, opts, out)
}

/// The documents of `text`, a MISP event (`listed`: an item of a list), each pushed to
/// `out`; `false`, with nothing pushed, to leave it to the general path.
fn event_documents(text: &str, listed: bool, opts: &Options, out: &mut Vec<Vec<u8>>) -> bool {
    if !crate::direct::read_as_is(text, &opts.limits) {
        return false;
    }
    let Some(Value::Object(mut record)) = crate::json::read_within(text, opts.limits.max_depth)
    else {
        return false;
    };
    // `Event` alone, not the `raw_field` option's envelope
    if record.len() != 1 || crate::envelope::names_an_envelope("Event", opts) {
        return false;
    }
    let Some(Value::Object(meta)) = record.remove("Event") else {
        return false;
    };
    match event(text, listed, meta, opts) {
        Some(docs) => {
            out.extend(docs);
            true
        }
        None => false,
    }
}

/// An event's `Attribute` or `Object` as this path takes it: a list, or nothing.
fn list<'t>(v: Option<Value<'t>>) -> Option<Vec<Value<'t>>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items),
        Some(_) => None,
    }
}

/// The documents of the event `meta`, the record `text`, or `None` for the general
/// path.
fn event<'t>(
    text: &'t str,
    listed: bool,
    mut meta: Map<'t>,
    opts: &Options,
) -> Option<Vec<Vec<u8>>> {
    let attrs = meta.remove("Attribute");
    let objects = meta.remove("Object");
    if matches!(attrs, Some(Value::Object(_))) || matches!(objects, Some(Value::Object(_))) {
        let original = if listed {
            Original::Split
        } else {
            Original::Record(text)
        };
        return post_split(original, &meta, attrs, objects, opts).map(|d| vec![d]);
    }
    let attrs = list(attrs)?;
    let mut objects_items = Vec::new();
    let mut count = attrs.len();
    for o in list(objects)? {
        let Value::Object(mut o) = o else {
            return None;
        };
        let items = list(o.remove("Attribute"))?;
        count += items.len();
        objects_items.push((o, items));
    }
    // an event without items is one document of its own; more than the limit, an
    // error document
    if count == 0 || count > opts.limits.max_documents {
        return None;
    }
    let preserve = crate::preserves(opts, &opts.tags);
    let shared = Shared::of(&meta, count > 1, opts)?;
    let mut docs = Vec::with_capacity(count);
    for a in attrs {
        let original = preserve.then(|| split_original(&meta, Some(&a), None, None).into());
        let Value::Object(a) = a else {
            return None;
        };
        docs.push(shared.document(Some(a), None, None, original, opts)?);
    }
    for (o, items) in objects_items {
        // as sent, for the items' `event.original`
        let sent = preserve.then(|| o.clone());
        let written = object(o)?;
        for a in items {
            let original = sent
                .as_ref()
                .map(|o| split_original(&meta, None, Some(o), Some(&a)).into());
            let Value::Object(a) = a else {
                return None;
            };
            docs.push(shared.document(Some(a), None, Some(&written), original, opts)?);
        }
    }
    Some(docs)
}

/// One of an event's `Attribute` or `Object` in Elastic's post-split record: one
/// object, or nothing (`Some(None)`); `None` for anything else.
fn single<'t>(v: Option<Value<'t>>) -> Option<Option<Map<'t>>> {
    match v {
        Some(Value::Object(m)) => Some(Some(m)),
        None | Some(Value::Null) => Some(None),
        Some(Value::Array(items)) if items.is_empty() => Some(None),
        Some(_) => None,
    }
}

/// What a post-split event's document keeps as `event.original`, when it keeps one.
#[derive(Clone, Copy)]
enum Original<'t> {
    /// The record's text.
    Record(&'t str),
    /// The event's post-split JSON (`event::split_original`): an item of a list.
    Split,
}

/// The one document of Elastic's post-split record (an event with one attribute, one
/// object with one attribute, or both), as `event::event` maps it: the object's
/// attribute, when there is an object, is the indicator and the event's attribute its
/// context. `None` for the general path.
fn post_split<'t>(
    original: Original<'t>,
    meta: &Map<'t>,
    attrs: Option<Value<'t>>,
    objects: Option<Value<'t>>,
    opts: &Options,
) -> Option<Vec<u8>> {
    if opts.limits.max_documents < 1 {
        return None;
    }
    let attr = single(attrs)?;
    let (object_sent, obj_attr) = match single(objects)? {
        Some(mut o) => {
            let oa = single(o.remove("Attribute"))?;
            (Some(o), oa)
        }
        None => (None, None),
    };
    let original = match (crate::preserves(opts, &opts.tags), original) {
        (false, _) => None,
        (true, Original::Record(text)) => Some(Cow::Borrowed(text)),
        (true, Original::Split) => {
            let (a, oa) = (
                attr.clone().map(Value::Object),
                obj_attr.clone().map(Value::Object),
            );
            Some(Cow::Owned(split_original(
                meta,
                a.as_ref(),
                object_sent.as_ref(),
                oa.as_ref(),
            )))
        }
    };
    let written = match object_sent {
        Some(o) => Some(object(o)?),
        None => None,
    };
    let shared = Shared::of(meta, false, opts)?;
    match written {
        Some(o) => shared.document(obj_attr, attr, Some(&o), original, opts),
        None => shared.document(attr, None, None, original, opts),
    }
}

/// `misp.object` of an object's documents, written: its references dropped, its
/// `meta-category` renamed, its time and number converted (`None` where the general
/// path records an error).
fn object(mut o: Map<'_>) -> Option<Vec<u8>> {
    object_names(&mut o);
    date_in_place(&mut o, "timestamp").ok()?;
    long_in_place(&mut o, "distribution").ok()?;
    let mut out = Vec::with_capacity(256);
    write::value(&Value::Object(o), Some(CLEANUP), &mut out);
    Some(out)
}

/// What every document of an event shares, mapped and written once.
struct Shared<'t> {
    /// The event's `timestamp`, as sent: the fingerprint reads it.
    event_timestamp: Option<Value<'t>>,
    /// The event's `uuid` and `id`: the key reads them.
    event_uuid: Option<Value<'t>>,
    event_id: Option<Value<'t>>,
    /// The event's `timestamp`: the expiry's last resort.
    time: Option<DateTime<Utc>>,
    /// `@timestamp`.
    timestamp: Stamp,
    /// The opening of every document up to `event` included, when no document keeps
    /// its own `event.original`.
    head: Option<Vec<u8>>,
    /// `misp.event` and `misp.orgc`, written.
    event: Vec<u8>,
    orgc: Option<Vec<u8>>,
    /// `tags` and `user`, written; empty when the documents have none.
    tags: Vec<u8>,
    user: Vec<u8>,
    /// The event's fields of `threat.indicator`.
    indicator: Vec<Field<'t>>,
}

impl<'t> Shared<'t> {
    /// The event's part of its documents, as `event::event_part` maps it (`None` where
    /// it records an error). With `many` (the event has more than one document) and no
    /// document keeping `event.original`, their opening is written once for them all.
    fn of(meta: &Map<'t>, many: bool, opts: &Options) -> Option<Self> {
        let preserve = crate::preserves(opts, &opts.tags);
        let mut ev = meta.cloned_where(kept_in_event);
        let time = match ev.remove("timestamp") {
            None | Some(Value::Null) => None,
            Some(v) => Some(common::epoch_seconds(&v)?),
        };
        date_in_place(&mut ev, "publish_timestamp").ok()?;
        let orgc = match meta.get("Orgc") {
            Some(o @ Value::Object(_)) => {
                let mut out = Vec::with_capacity(128);
                write::value(o, Some(CLEANUP), &mut out);
                Some(out)
            }
            None | Some(Value::Null) => None,
            Some(_) => return None,
        };
        let mut indicator: Vec<Field<'t>> = Vec::with_capacity(3);
        indicator.push((Cow::Borrowed("provider"), Value::from("misp")));
        match ev.remove("analysis") {
            None | Some(Value::Null) => {}
            Some(v) => indicator.push((
                Cow::Borrowed("scanner_stats"),
                Value::from(common::long(&v)?),
            )),
        }
        long_in_place(&mut ev, "threat_level_id").ok()?;
        let email = match ev.get("event_creator_email") {
            Some(Value::String(_)) => ev.remove("event_creator_email"),
            _ => None,
        };
        let own_tags = match meta.get("Tag") {
            Some(t) => {
                let (names, tlp) = common::tag_names(t, false).ok()?;
                if !tlp.is_empty() {
                    indicator.push((
                        Cow::Borrowed("marking.tlp"),
                        Value::Array(tlp.into_iter().map(Value::from).collect()),
                    ));
                }
                names
            }
            None => Vec::new(),
        };
        long_in_place(&mut ev, "distribution").ok()?;
        long_in_place(&mut ev, "attribute_count").ok()?;

        let timestamp = Stamp::Millis(time.unwrap_or(opts.now));
        let mut event = Vec::with_capacity(1024);
        write::value(&Value::Object(ev), Some(CLEANUP), &mut event);
        // the tags as `Written::tags` orders them; what it reads of `original` is only
        // whether there is one
        let tagged = Written {
            original: preserve.then_some(""),
            rec_tags: &opts.tags,
            identity: None,
        };
        let mut tags = Vec::new();
        let names = tagged.tags(&own_tags, Dataset::MispThreat.info().unique_tags);
        if !names.is_empty() {
            tag_list(&names, &mut tags);
        }
        let mut user = Vec::new();
        if let Some(email) = &email {
            user_object(email, &mut user);
        }
        let mut shared = Shared {
            event_timestamp: meta.get("timestamp").cloned(),
            event_uuid: meta.get("uuid").cloned(),
            event_id: meta.get("id").cloned(),
            time,
            timestamp,
            head: None,
            event,
            orgc,
            tags,
            user,
            indicator,
        };
        if many && !preserve {
            let mut head = Vec::with_capacity(512);
            let w = Written {
                original: None,
                rec_tags: &opts.tags,
                identity: None,
            };
            let mut d = Obj::open(&mut head);
            shared.write_head(&mut d, &w, opts);
            shared.head = Some(head);
        }
        Some(shared)
    }

    /// `@timestamp`, the constants and `event`: the opening of a document.
    fn write_head(&self, d: &mut Obj<'_>, w: &Written<'_>, opts: &Options) {
        let info = Dataset::MispThreat.info();
        d.date("@timestamp", Some(self.timestamp));
        d.constants(info);
        d.event(info, opts, w, None, None);
    }

    /// The document of one item: the attribute `a` that is its indicator, and the
    /// attribute `context` beside it, of the object written as `object` when it is an
    /// object's (its indicator is then the object's attribute: `misp.attribute`, and
    /// the event's attribute `misp.context.attribute`), keeping `original` when the
    /// documents keep theirs — as `event::split_doc` maps it (`None` where it records an
    /// error).
    fn document(
        &self,
        a: Option<Map<'t>>,
        context: Option<Map<'t>>,
        object: Option<&[u8]>,
        original: Option<Cow<'_, str>>,
        opts: &Options,
    ) -> Option<Vec<u8>> {
        let clean = |mut m: Map<'t>| {
            drop_parts(&mut m);
            m
        };
        let a = a.map(clean);
        let mut context = context.map(clean);
        let identity = if opts.identity {
            // an object's document: its attribute is the indicator, the event's the
            // context
            let (event_attr, object_attr) = match object {
                None => (a.as_ref(), None),
                Some(_) => (context.as_ref(), a.as_ref()),
            };
            let fingerprint = fingerprint_of(fingerprinted(
                event_attr,
                object_attr,
                self.event_timestamp.as_ref(),
            ));
            let key = common::key(
                self.event_uuid.as_ref(),
                self.event_id.as_ref(),
                a.as_ref().and_then(|m| m.get("uuid")),
                a.as_ref().and_then(|m| m.get("id")),
            )?;
            Some((key, fingerprint))
        } else {
            None
        };
        if let Some(c) = &mut context {
            date_in_place(c, "timestamp").ok()?;
            long_in_place(c, "distribution").ok()?;
        }
        // an object without its attribute: `misp.attribute` holds only the expiry
        let mut a = a.unwrap_or_default();
        let attr_time = date_in_place(&mut a, "timestamp").ok()?;
        let mut indicator = self.indicator.clone();
        let mut seen_at = |name: &'static str, a: &mut Map<'t>| -> Option<_> {
            let t = seen(a.remove(name)).ok()?;
            if let Some(t) = t {
                indicator.push((Cow::Borrowed(name), Value::from(dates::fmt_millis(t))));
            }
            Some(t)
        };
        seen_at("first_seen", &mut a)?;
        let last_seen = seen_at("last_seen", &mut a)?;
        let kind = match a.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(_) => return None,
        };
        if let Some(t) = kind
            && let Some(v) = a.get("value").filter(|v| !v.is_null())
        {
            let mut c = Collected::default();
            let mapped = common::indicator_fields(&t, common::text(v)?, &mut c);
            if c.error {
                return None;
            }
            indicator.extend(c.fields);
            if mapped {
                a.remove("value");
            }
        }
        long_in_place(&mut a, "distribution").ok()?;
        let (decayed, decayed_at) = expire(
            a.get("decay_score"),
            &opts.ioc_expiration_duration,
            opts,
            Seen {
                timestamp: attr_time,
                last_seen,
                event_timestamp: self.time,
            },
        )?;
        a.insert("decayed", Value::Bool(decayed));
        a.insert("decayed_at", Value::from(decayed_at));

        let w = Written {
            original: original.as_deref(),
            rec_tags: &opts.tags,
            identity: identity.as_ref().map(|(k, fp)| (k.as_str(), fp.as_str())),
        };
        let mut out = Vec::with_capacity(
            self.head.as_ref().map_or(1024, Vec::len)
                + self.event.len()
                + object.map_or(0, <[u8]>::len)
                + 2048,
        );
        self.write(a, context, object, &mut indicator, &w, opts, &mut out);
        Some(out)
    }

    /// Writes a document: the shared parts as they were written, the item's between
    /// them, every object's names in byte order as the general path sorts them.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        attribute: Map<'_>,
        context: Option<Map<'_>>,
        object: Option<&[u8]>,
        indicator: &mut Vec<Field<'_>>,
        w: &Written<'_>,
        opts: &Options,
        out: &mut Vec<u8>,
    ) {
        let mut d = match &self.head {
            Some(head) => {
                out.extend_from_slice(head);
                Obj::resume(out)
            }
            _ => {
                let mut d = Obj::open(out);
                self.write_head(&mut d, w, opts);
                d
            }
        };
        d.labels(w);
        d.object("misp", |misp| {
            write::value(
                &Value::Object(attribute),
                Some(CLEANUP),
                misp.name("attribute"),
            );
            if let Some(c) = context {
                misp.object("context", |c2| {
                    write::value(&Value::Object(c), Some(CLEANUP), c2.name("attribute"))
                });
            }
            misp.name("event").extend_from_slice(&self.event);
            if let Some(o) = object {
                misp.name("object").extend_from_slice(o);
            }
            if let Some(o) = &self.orgc {
                misp.name("orgc").extend_from_slice(o);
            }
        });
        if !self.tags.is_empty() {
            d.name("tags").extend_from_slice(&self.tags);
        }
        d.object("threat", |t| {
            t.feed(Dataset::MispThreat.info());
            t.object("indicator", |i| write_paths(indicator, CLEANUP, i));
        });
        if !self.user.is_empty() {
            d.name("user").extend_from_slice(&self.user);
        }
        d.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::testing::{
        VALUES, option_sets, opts, reference_lines, sequence, show_difference, with, without,
    };
    use crate::sources::misp::direct::tests::MISP_VALUES;

    /// Whether this path took `text` under `o`; when it did, its documents are the
    /// general path's, byte for byte.
    fn same_as_general(text: &str, o: &Options) -> bool {
        let mut out = Vec::new();
        if !documents(text, o, &mut out) {
            assert!(out.is_empty(), "{text}");
            return false;
        }
        let direct: Vec<String> = out
            .into_iter()
            .map(|d| String::from_utf8(d).unwrap())
            .collect();
        let general = crate::general_json(Dataset::MispThreat, text, o);
        if let Some((g, d)) = general.iter().zip(&direct).find(|(g, d)| g != d) {
            show_difference(g, d);
        }
        assert_eq!(general, direct, "record: {text}\noptions: {o:?}");
        true
    }

    /// An attribute of an event with every field the mapping reads.
    const ATTR: &str = r##"{"id":"8069380","event_id":"15052","object_id":"0","object_relation":null,"category":"Network activity","type":"ip-dst|port","value":"203.0.113.9|8443","to_ids":true,"uuid":"6ddaa79b-755e-4f04-89ac-729c5a32cd69","timestamp":"1740242244","distribution":"3","sharing_group_id":"0","comment":"a comment","deleted":false,"disable_correlation":false,"first_seen":"2025-01-02T03:04:05.678901+00:00","last_seen":"1740242244000000","decay_score":[{"score":61.41,"base_score":78,"decayed":false}],"Galaxy":[{"name":"g"}],"ShadowAttribute":[],"Tag":[{"name":"tlp:red"}]}"##;

    /// Another, with fewer fields.
    const ATTR2: &str = r#"{"id":"2","uuid":"c1d2","type":"url","value":"https://u:p@a.example:8080/x/y.php?q=1#f","timestamp":"1740242000","distribution":"5","category":"Network activity","first_seen":null,"last_seen":null}"#;

    /// An object's attribute.
    const OBJ_ATTR: &str = r#"{"id":"31","uuid":"0b1c","object_id":"7","object_relation":"md5","type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","timestamp":"1740242100","distribution":"5","category":"Payload delivery","first_seen":"1581984000000000"}"#;

    /// An object with its attributes.
    fn object(attrs: &str) -> String {
        format!(
            r#"{{"id":"7","name":"file","meta-category":"file","description":"a file","template_uuid":"t","distribution":"5","timestamp":"1740242244","uuid":"o-7","ObjectReference":[{{"id":"1"}}],"Attribute":{attrs}}}"#
        )
    }

    /// An event's own fields, then its items.
    fn event(attrs: &str, objects: &str) -> String {
        format!(
            r##"{{"id":"15052","orgc_id":"2","org_id":"1","date":"2025-02-22","info":"an event","uuid":"a2f272f0-325d-4f71-8a39-75b88114dbbd","distribution":"3","publish_timestamp":"1767221164","timestamp":"1740242000","sighting_timestamp":"0","analysis":"2","threat_level_id":"1","attribute_count":"12","published":true,"event_creator_email":"admin@example.org","Org":{{"id":"1","name":"ORG"}},"Orgc":{{"id":"2","name":"CIRCL","local":false,"x":null}},"Tag":[{{"id":"1","name":"tlp:amber","colour":"#ffc000"}},{{"name":"misp-galaxy:threat-actor=\"Sofacy\""}},{{"name":"tlp:amber"}},"loose"],"Galaxy":[{{"name":"g"}}],"RelatedEvent":[],"EventReport":[],"ShadowAttribute":[],"Attribute":{attrs},"Object":{objects}}}"##
        )
    }

    fn record(event: &str) -> String {
        format!(r#"{{"Event":{event}}}"#)
    }

    fn full_event() -> String {
        event(
            &format!("[{ATTR},{ATTR2}]"),
            &format!(
                "[{},{}]",
                object(&format!("[{OBJ_ATTR},{ATTR2}]")),
                object("[]")
            ),
        )
    }

    fn values() -> Vec<&'static str> {
        VALUES.iter().chain(MISP_VALUES).copied().collect()
    }

    /// Each of `names` of `part` left out and set to each value, put back by `place`,
    /// under every option set: how many records were tried and how many taken.
    fn every_field(part: &str, names: &str, place: impl Fn(&str) -> String) -> (usize, usize) {
        let sets = option_sets();
        let values = values();
        let (mut tried, mut taken) = (0, 0);
        for name in names.split(' ') {
            let mut parts = vec![without(part, name)];
            parts.extend(values.iter().map(|v| with(part, name, v)));
            for p in &parts {
                let r = place(p);
                for o in &sets {
                    tried += 1;
                    taken += usize::from(same_as_general(&r, o));
                }
            }
        }
        (tried, taken)
    }

    #[test]
    fn every_field_of_the_event_set_to_every_kind_of_value_gives_the_general_paths_documents() {
        let names = "id uuid timestamp publish_timestamp analysis threat_level_id distribution attribute_count event_creator_email sighting_timestamp info Orgc Org Tag Galaxy Attribute Object";
        // (a post-split event's part is mapped by the same code: the random events)
        let (tried, taken) = every_field(&full_event(), names, record);
        // the limits and the bad duration leave every record to the general path
        assert!(taken * 4 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn every_field_of_an_attribute_set_to_every_kind_of_value_gives_the_general_paths_documents() {
        let names = "id uuid type value timestamp first_seen last_seen distribution decay_score Galaxy ShadowAttribute Tag object_relation";
        let objects = format!("[{}]", object(&format!("[{OBJ_ATTR}]")));
        let (tried, taken) = every_field(ATTR, names, |a| {
            record(&event(&format!("[{a},{ATTR2}]"), &objects))
        });
        assert!(taken * 5 > tried, "{taken} of {tried} taken");
        let (tried, taken) = every_field(OBJ_ATTR, names, |a| {
            record(&event(
                &format!("[{ATTR2}]"),
                &format!("[{}]", object(&format!("[{a}]"))),
            ))
        });
        assert!(taken * 5 > tried, "{taken} of {tried} taken");
        // post-split with an object: the object's attribute is the indicator and the
        // event's its context (without an object: Elastic's samples)
        let (tried, taken) = every_field(ATTR, names, |a| record(&event(a, &object(OBJ_ATTR))));
        assert!(taken * 5 > tried, "{taken} of {tried} taken");
        let (tried, taken) = every_field(OBJ_ATTR, names, |a| record(&event(ATTR2, &object(a))));
        assert!(taken * 5 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn every_field_of_an_object_set_to_every_kind_of_value_gives_the_general_paths_documents() {
        let names = "id timestamp distribution meta-category ObjectReference Attribute name";
        let (tried, taken) = every_field(&object(&format!("[{OBJ_ATTR},{ATTR}]")), names, |o| {
            record(&event(&format!("[{ATTR2}]"), &format!("[{o}]")))
        });
        assert!(taken * 4 > tried, "{taken} of {tried} taken");
        // post-split
        let (tried, taken) = every_field(&object(OBJ_ATTR), names, |o| record(&event(ATTR, o)));
        assert!(taken * 4 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn golden_and_elastic_events_give_the_general_paths_documents() {
        let mut records = crate::tests::golden_inputs(Dataset::MispThreat);
        records.extend(reference_lines(
            "ti_misp/data_stream/threat/_dev/test/pipeline/test-misp-sample-ndjson.log",
        ));
        records.push(record(&full_event()));
        let sets = option_sets();
        let taken = records
            .iter()
            .flat_map(|r| sets.iter().map(move |o| (r, o)))
            .filter(|(r, o)| same_as_general(r, o))
            .count();
        assert!(taken > 200, "{taken} taken");
    }

    #[test]
    fn records_the_general_path_must_read_are_left_to_it() {
        let o = opts("{}");
        let whole = record(&full_event());
        assert!(same_as_general(&whole, &o));
        assert!(same_as_general(
            &whole,
            &opts(r#"{"identity": true, "preserve_original_event": true}"#)
        ));
        for post_split in [
            record(&event(ATTR, "[]")),
            record(&event(ATTR, &object(OBJ_ATTR))),
            record(&event("[]", &object(OBJ_ATTR))),
            record(&event(ATTR, &object("[]"))),
            record(&event("[]", &object("[]"))),
        ] {
            for o in [
                &o,
                &opts(r#"{"identity": true, "preserve_original_event": true}"#),
            ] {
                assert!(same_as_general(&post_split, o), "{post_split}");
            }
        }
        for left in [
            record(&event("[]", "[]")),
            record(&event(ATTR, &object(&format!("[{OBJ_ATTR}]")))),
            record(&event(ATTR, &object("\"x\""))),
            record(&event("[]", "null")),
            record(&event(&format!("[{ATTR},null]"), "[]")),
            record(&event(&format!("[{ATTR}]"), "[1]")),
            record(&event(
                ATTR,
                &format!("[{}]", object(&format!("[{ATTR2}]"))),
            )),
            format!(r#"{{"response":[{whole}]}}"#),
            format!("[{whole}]"),
            format!(r#"{{"Event":{},"_conf.identity":"true"}}"#, full_event()),
            format!(
                r#"{{"message":{}}}"#,
                serde_json::to_string(&whole).unwrap()
            ),
            format!("\u{feff}{whole}"),
            record(&with(&full_event(), "timestamp", r#""yesterday""#)),
        ] {
            let mut out = Vec::new();
            assert!(!documents(&left, &o, &mut out), "{left}");
        }
        // the `raw_field` option naming the event or a field in it: an envelope
        for raw in ["Event", "Event.info"] {
            let o = opts(&format!(r#"{{"raw_field": "{raw}"}}"#));
            assert!(!documents(&whole, &o, &mut Vec::new()), "{raw}");
        }
        assert!(same_as_general(&whole, &opts(r#"{"raw_field": "Events"}"#)));
    }

    #[test]
    fn random_events_give_the_general_paths_documents() {
        // 1 500 events, whole and post-split, each with one to four fields of the
        // event, its attributes, its objects and their attributes changed, under one
        // option set each
        let mut next = sequence();
        let sets = option_sets();
        let values = values();
        let names = "id uuid type value timestamp first_seen last_seen distribution decay_score analysis threat_level_id publish_timestamp Orgc Tag Galaxy meta-category ObjectReference";
        let names: Vec<&str> = names.split(' ').collect();
        let change = |part: &str, next: &mut dyn FnMut(usize) -> usize| {
            let name = names[next(names.len())];
            match next(values.len() + 2) {
                i if i < values.len() => with(part, name, values[i]),
                _ => without(part, name),
            }
        };
        let mut taken = 0;
        for _ in 0..1500 {
            let mut parts = [
                event("[]", "[]"),
                ATTR.to_string(),
                ATTR2.to_string(),
                object("[]"),
                OBJ_ATTR.to_string(),
            ];
            for _ in 0..1 + next(4) {
                let i = next(parts.len());
                parts[i] = change(&parts[i], &mut next);
            }
            let [ev, a1, a2, ob, oa] = parts;
            // a third post-split, with an object or without
            let (attrs, ob, objects) = match next(6) {
                0 => (a1, with(&ob, "Attribute", &oa), None),
                1 => (a1, ob, Some("[]".to_string())),
                _ => (
                    format!("[{a1},{a2}]"),
                    with(&ob, "Attribute", &format!("[{oa},{a2}]")),
                    None,
                ),
            };
            let objects = objects.unwrap_or_else(|| {
                if attrs.starts_with('[') {
                    format!("[{ob}]")
                } else {
                    ob
                }
            });
            let ev = with(&with(&ev, "Attribute", &attrs), "Object", &objects);
            let o = &sets[next(sets.len())];
            taken += usize::from(same_as_general(&record(&ev), o));
            // in a whole response, item by item
            if next(4) == 0 {
                let response = format!(
                    r#"{{"response":[{},{}]}}"#,
                    record(&ev),
                    record(&full_event())
                );
                assert_eq!(
                    crate::transform_text_to_json(Dataset::MispThreat, &response, o),
                    crate::general_json(Dataset::MispThreat, &response, o),
                    "{response}\n{o:?}"
                );
            }
        }
        assert!(taken * 5 > 1500, "{taken} of 1500 taken");
    }
}
