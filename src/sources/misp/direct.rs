//! `ti_misp.threat_attributes` without trees: one MISP attribute read into typed,
//! borrowed fields and its document written straight from them (the frame is
//! `crate::direct`'s).
//!
//! An attribute nests (`Event`, `Object`, `Tag`, `decay_score`): its members are read
//! whole, as the general path reads them; the event and the object are changed in
//! place (their times and numbers), the indicator fields come from the type table
//! through [`common::indicator_fields`], the tags through [`common::tag_names`], so the
//! rules are the general path's own. A response, a list, and anything the general
//! mapping ([`super::attribute`]) answers with an error are left to it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::attribute::{self, attribute_times, object_names};
use super::common::{self, Sink};
use crate::dates::Stamp;
use crate::direct::{Fingerprint, Mapping, Member, Obj, Written, write_paths};
use crate::doc::Path;
use crate::json::{Map, Value, write};
use crate::options::Options;
use crate::{Cleanup, Dataset, dates, expiration};

/// A MISP attribute.
pub struct Attribute;

/// The fields of an attribute the mapping reads, each as sent (`None`: not sent).
#[derive(Default)]
pub struct Fields<'a> {
    event: Option<Value<'a>>,
    object: Option<Value<'a>>,
    tag: Option<Value<'a>>,
    kind: Option<Value<'a>>,
    value: Option<Value<'a>>,
    first_seen: Option<Value<'a>>,
    last_seen: Option<Value<'a>>,
    timestamp: Option<Value<'a>>,
    distribution: Option<Value<'a>>,
    decay_score: Option<Value<'a>>,
    uuid: Option<Value<'a>>,
    id: Option<Value<'a>>,
    event_id: Option<Value<'a>>,
    event_uuid: Option<Value<'a>>,
}

/// What the mapping made of an attribute, beside `misp.attribute`.
#[derive(Default)]
pub struct Made<'a> {
    timestamp: Option<Stamp>,
    /// `misp.event` and `misp.object`, changed in place.
    event: Option<Map<'a>>,
    object: Option<Map<'a>>,
    /// `threat.indicator`'s fields, by their paths under it.
    indicator: Vec<(Cow<'a, str>, Value<'a>)>,
    tags: Vec<Cow<'a, str>>,
    organization_id: Option<Value<'a>>,
    /// `user.email`, and whether it gives `user.roles`.
    user_email: Option<Value<'a>>,
    key: Option<String>,
    fingerprint: Option<String>,
}

/// The indicator fields [`common::indicator_fields`] sets, by their paths under
/// `threat.indicator`; whether it recorded an error.
#[derive(Default)]
pub(super) struct Collected<'a> {
    pub(super) fields: Vec<(Cow<'a, str>, Value<'a>)>,
    pub(super) error: bool,
}

impl<'a> Sink<'a> for Collected<'a> {
    fn set<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'a>>) {
        let path = match path.into() {
            Path::Static(p) => Cow::Borrowed(p.strip_prefix("threat.indicator.").unwrap_or(p)),
            Path::Other(p) => {
                Cow::Owned(p.strip_prefix("threat.indicator.").unwrap_or(p).to_string())
            }
        };
        self.fields.push((path, v.into()));
    }

    fn set_under(
        &mut self,
        parent: &'static str,
        fields: impl IntoIterator<Item = (&'static str, Value<'a>)>,
    ) {
        let parent = parent.strip_prefix("threat.indicator.").unwrap_or(parent);
        for (name, v) in fields {
            self.fields
                .push((Cow::Owned([parent, ".", name].concat()), v));
        }
    }

    fn error(&mut self, _: String) {
        self.error = true;
    }
}

impl Mapping for Attribute {
    const DATASET: Dataset = Dataset::MispThreatAttributes;
    const NESTED: bool = true;
    const FINGERPRINT: Fingerprint = Fingerprint::Fields;
    type Fields<'t> = Fields<'t>;
    type Mapped<'t> = Made<'t>;

    #[inline]
    fn slot<'f, 't>(f: &'f mut Self::Fields<'t>, name: &str) -> Option<&'f mut Option<Value<'t>>> {
        Some(match name {
            "Event" => &mut f.event,
            "Object" => &mut f.object,
            "Tag" => &mut f.tag,
            "type" => &mut f.kind,
            "value" => &mut f.value,
            "first_seen" => &mut f.first_seen,
            "last_seen" => &mut f.last_seen,
            "timestamp" => &mut f.timestamp,
            "distribution" => &mut f.distribution,
            "decay_score" => &mut f.decay_score,
            "uuid" => &mut f.uuid,
            "id" => &mut f.id,
            "event_id" => &mut f.event_id,
            "event_uuid" => &mut f.event_uuid,
            _ => return None,
        })
    }

    #[inline]
    fn unread(_: &mut Fields<'_>, name: &str) -> Option<bool> {
        match name {
            // a response or a list of attributes: left to the general path
            "response" | "Attribute" => None,
            _ => Some(true),
        }
    }

    /// The mapping of `attribute` in [`super::attribute`], on the fields; what stays in
    /// `misp.attribute` is added to `rest`.
    fn map<'t>(
        f: &mut Fields<'t>,
        rest: &mut Vec<Member<'t>>,
        duration: &str,
        identity: bool,
        opts: &Options,
        m: &mut Made<'t>,
    ) -> Option<()> {
        let now = opts.now;
        let mut keep = |name: &'static str, v: Option<Value<'t>>| {
            if let Some(v) = v {
                rest.push((Cow::Borrowed(name), v));
            }
        };
        // Identity, over the values as sent.
        if identity {
            let event = f.event.as_ref().and_then(Value::as_object);
            let (key, fingerprint) = attribute::identity(event, |name| {
                match name {
                    "first_seen" => &f.first_seen,
                    "timestamp" => &f.timestamp,
                    "uuid" => &f.uuid,
                    "id" => &f.id,
                    "event_uuid" => &f.event_uuid,
                    "event_id" => &f.event_id,
                    _ => &None,
                }
                .as_ref()
            });
            (m.key, m.fingerprint) = (key, Some(fingerprint));
        }

        // @timestamp from the attribute's last change.
        let timestamp = match f.timestamp.take() {
            None | Some(Value::Null) => None,
            Some(v) => Some(common::epoch_seconds(&v)?),
        };

        let mut event = match f.event.take() {
            Some(Value::Object(e)) => Some(e),
            None | Some(Value::Null) => None,
            Some(_) => return None,
        };
        let mut object = match f.object.take() {
            Some(Value::Object(mut o)) => {
                object_names(&mut o);
                Some(o)
            }
            None | Some(Value::Null) => None,
            Some(_) => return None,
        };

        // Seen times, in place and in the indicator.
        let mut indicator = Vec::with_capacity(8);
        let _first_seen = seen(f.first_seen.take()).ok()?.inspect(|t| {
            let s = dates::fmt_millis(*t);
            keep("first_seen", Some(Value::from(s.clone())));
            indicator.push((Cow::Borrowed("first_seen"), Value::from(s)));
        });
        let last_seen = seen(f.last_seen.take()).ok()?.inspect(|t| {
            let s = dates::fmt_millis(*t);
            keep("last_seen", Some(Value::from(s.clone())));
            indicator.push((Cow::Borrowed("last_seen"), Value::from(s)));
        });

        // The event's and the object's times.
        let mut event_ts = None;
        if let Some(e) = &mut event {
            event_ts = date_in_place(e, "timestamp").ok()?;
            date_in_place(e, "publish_timestamp").ok()?;
            date_in_place(e, "sighting_timestamp").ok()?;
        }
        if let Some(o) = &mut object {
            date_in_place(o, "timestamp").ok()?;
        }

        // Expiration.
        let (decayed, decayed_at) = expire(
            f.decay_score.as_ref(),
            duration,
            opts,
            common::Seen {
                timestamp,
                last_seen,
                event_timestamp: event_ts,
            },
        )?;
        m.timestamp = Some(Stamp::Millis(timestamp.or(event_ts).unwrap_or(now)));

        // The event's analysis, the indicator, the creator, the tags, the organization.
        if let Some(e) = &mut event {
            match e.remove("analysis") {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let n = common::long(&v)?;
                    indicator.push((Cow::Borrowed("scanner_stats"), Value::from(n)));
                }
            }
        }
        let kind = match &f.kind {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t),
            // a type of another kind: an error
            Some(_) => return None,
        };
        let mapped = match (kind, &f.value) {
            (None, _) | (_, None | Some(Value::Null)) => false,
            (Some(t), Some(v)) => {
                let mut c = Collected::default();
                let mapped = common::indicator_fields(t, common::text(v)?, &mut c);
                if c.error {
                    return None;
                }
                indicator.extend(c.fields);
                mapped
            }
        };
        keep("type", f.kind.take());
        if !mapped {
            keep("value", f.value.take());
        }
        if let Some(e) = &mut event
            && let Some(Value::String(_)) = e.get("event_creator_email")
        {
            m.user_email = e.remove("event_creator_email");
        }
        if let Some(t) = &f.tag {
            let (names, tlp) = common::tag_names(t, true).ok()?;
            m.tags = names;
            if !tlp.is_empty() {
                indicator.push((
                    Cow::Borrowed("marking.tlp"),
                    Value::Array(tlp.into_iter().map(Value::from).collect()),
                ));
            }
        }
        if let Some(e) = &mut event
            && let Some(Value::String(_)) = e.get("org_id")
        {
            m.organization_id = e.remove("org_id");
        }

        // Numbers.
        match f.distribution.take() {
            Some(v) if !v.is_null() => keep("distribution", Some(Value::from(common::long(&v)?))),
            other => keep("distribution", other),
        }
        if let Some(o) = &mut object {
            long_in_place(o, "distribution").ok()?;
        }
        if let Some(e) = &mut event {
            for name in ["distribution", "attribute_count", "threat_level_id"] {
                long_in_place(e, name).ok()?;
            }
        }
        if let Some(o) = &mut object {
            // anything but a list is dropped, as the general path drops it
            if let Some(Value::Array(mut list)) = o.remove("attribute") {
                attribute_times(&mut list);
                o.insert("attribute", Value::Array(list));
            }
        }
        keep("decay_score", f.decay_score.take());
        for (name, v) in [
            ("uuid", f.uuid.take()),
            ("id", f.id.take()),
            ("event_id", f.event_id.take()),
            ("event_uuid", f.event_uuid.take()),
        ] {
            keep(name, v);
        }
        keep("decayed", Some(Value::Bool(decayed)));
        keep("decayed_at", Some(Value::from(decayed_at)));
        indicator.push((Cow::Borrowed("provider"), Value::from("misp")));
        m.indicator = indicator;
        m.event = event;
        m.object = object;
        Some(())
    }

    fn key(m: &mut Made<'_>) -> Option<String> {
        m.key.take()
    }

    fn fingerprint(m: &mut Made<'_>) -> Option<String> {
        m.fingerprint.take()
    }

    fn write(m: &mut Made<'_>, vendor: Map<'_>, w: Written<'_>, opts: &Options, out: &mut Vec<u8>) {
        write_document(m, vendor, w, opts, out);
    }
}

/// The document of `text`, a MISP attribute, or `None` to leave it to the general path.
pub fn document(text: &str, opts: &Options) -> Option<Vec<u8>> {
    crate::direct::document::<Attribute>(text, opts)
}

/// An epoch-seconds field of an object rewritten as a date in place, as
/// `common::date_in_place` does: `Ok(None)` when absent or null, `Err` where it records
/// an error.
pub(super) fn date_in_place(m: &mut Map<'_>, name: &str) -> Result<Option<DateTime<Utc>>, ()> {
    m.get_mut(name).map_or(Ok(None), common::date_value)
}

/// A field of an object rewritten as a long in place, as `common::long_in_place` does:
/// `Err` where it records an error.
pub(super) fn long_in_place(m: &mut Map<'_>, name: &str) -> Result<(), ()> {
    m.get_mut(name).map_or(Ok(()), common::long_value)
}

/// `first_seen` or `last_seen` as `common::seen` reads it: `Ok(None)` when absent or
/// null (and then removed), `Err` where it records an error.
pub(super) fn seen(v: Option<Value<'_>>) -> Result<Option<DateTime<Utc>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => common::seen_time(&v).map(Some).ok_or(()),
    }
}

/// `misp.attribute.decayed` and `decayed_at` as `common::expire` sets them, from the
/// attribute's decay scores and the times in `seen`; `None` where it records an error.
pub(super) fn expire(
    scores: Option<&Value<'_>>,
    duration: &str,
    opts: &Options,
    seen: common::Seen,
) -> Option<(bool, String)> {
    let now = opts.now;
    if common::scores_decayed(scores) == Some(true) {
        return Some((true, dates::fmt_millis(common::decayed_by_scores_at(now))));
    }
    let text = if duration.trim().is_empty() {
        opts.ioc_expiration_duration.as_str()
    } else {
        duration
    };
    let lifetime = expiration::parse_duration(text).ok()?;
    let at = expiration::add(seen.base(now), lifetime)?;
    Some((at < now, dates::fmt_millis(at)))
}

/// Writes the document: the names of every object in byte order, as the general path
/// sorts them, and nothing its cleanup would drop.
fn write_document(
    m: &mut Made<'_>,
    attribute: Map<'_>,
    w: Written<'_>,
    opts: &Options,
    out: &mut Vec<u8>,
) {
    let info = Attribute::DATASET.info();
    let cleanup = Cleanup::NullsOnly;
    let tags = w.tags(&m.tags, info.unique_tags);
    let mut d = Obj::open(out);
    d.date("@timestamp", m.timestamp);
    d.constants(info);
    d.event(info, opts, &w, None, None);
    d.labels(&w);
    d.object("misp", |misp| {
        write::value(
            &Value::Object(attribute),
            Some(cleanup),
            misp.name("attribute"),
        );
        for (name, part) in [("event", m.event.take()), ("object", m.object.take())] {
            if let Some(part) = part {
                write::value(&Value::Object(part), Some(cleanup), misp.name(name));
            }
        }
    });
    if let Some(id) = m.organization_id.as_ref().filter(|v| !v.is_null()) {
        d.object("organization", |o| {
            write::value(id, Some(cleanup), o.name("id"))
        });
    }
    if !tags.is_empty() {
        tag_list(&tags, d.name("tags"));
    }
    d.object("threat", |t| {
        t.feed(info);
        t.object("indicator", |i| write_paths(&mut m.indicator, cleanup, i));
    });
    if let Some(email) = &m.user_email {
        user_object(email, d.name("user"));
    }
    d.close();
}

/// A MISP document's `tags`, written as they are (the cleanup keeps empty strings).
pub(super) fn tag_list(tags: &[&str], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write::string(t, out);
    }
    out.push(b']');
}

/// A MISP document's `user`: the event creator's `email`, and the role a non-empty one
/// gives.
pub(super) fn user_object(email: &Value<'_>, out: &mut Vec<u8>) {
    let mut u = Obj::open(out);
    write::value(email, Some(Cleanup::NullsOnly), u.name("email"));
    if email.as_str().is_some_and(|s| !s.is_empty()) {
        u.strings("roles", ["reporting_user"]);
    }
    u.close();
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::direct::testing::*;

    fn same_as_general(text: &str, o: &Options) -> bool {
        crate::direct::testing::same_as_general::<Attribute>(text, o)
    }

    /// An attribute with every field the mapping reads.
    const FULL: &str = r##"{"id":"8069380","event_id":"15052","object_id":"7","object_relation":"ip","category":"Network activity","type":"ip-dst|port","value":"203.0.113.9|8443","to_ids":true,"uuid":"6ddaa79b-755e-4f04-89ac-729c5a32cd69","timestamp":"1740242244","distribution":"3","sharing_group_id":"0","comment":"a comment","deleted":false,"disable_correlation":false,"first_seen":"2025-01-02T03:04:05.678901+00:00","last_seen":"1740242244000000","event_uuid":"a2f272f0-325d-4f71-8a39-75b88114dbbd","decay_score":[{"score":61.41,"base_score":78,"decayed":false,"DecayingModel":{"id":"5","name":"bravo model"}}],"Event":{"id":"15052","orgc_id":"2","org_id":"1","info":"an event","uuid":"a2f272f0-325d-4f71-8a39-75b88114dbbd","distribution":"3","publish_timestamp":"1767221164","timestamp":"1740242000","sighting_timestamp":"0","analysis":"2","threat_level_id":"1","attribute_count":"12","event_creator_email":"admin@example.org"},"Object":{"id":"7","name":"ip-port","meta-category":"network","distribution":"5","timestamp":"1740242244","Attribute":[{"id":"1","type":"ip-dst","timestamp":"1740242244"},{"id":"2","timestamp":"x"}]},"Tag":[{"id":"1","name":"tlp:amber","colour":"#ffc000"},{"name":"misp-galaxy:threat-actor=\"Sofacy\""},{"name":"TLP:CLEAR"},"loose",{"name":"tlp:amber"}]}"##;

    /// The names the mapping reads, and a few it does not (one string, split).
    const NAMES: &str = "type value first_seen last_seen timestamp distribution decay_score uuid id event_id event_uuid Event Object Tag decayed decayed_at comment response Attribute message json _conf.ioc_expiration_duration _conf.identity";

    /// Values of MISP's own kinds, beside [`VALUES`].
    pub(crate) const MISP_VALUES: &[&str] = &[
        "\"1617875568\"",
        "\"1617875568.25\"",
        "1617875568",
        "\"-5\"",
        "\"1581984000000000\"",
        "\"1581984000000\"",
        "\"2021-04-08\"",
        "\"md5\"",
        "\"sha256\"",
        "\"filename|md5\"",
        "\"filename|sha256\"",
        "\"ip-src\"",
        "\"ip-dst|port\"",
        "\"domain|ip\"",
        "\"hostname|port\"",
        "\"AS\"",
        "\"regkey|value\"",
        "\"email-src\"",
        "\"link\"",
        "\"mac-address\"",
        "\"port\"",
        "\"text\"",
        "\"x|y\"",
        "\"a.example|1.2.3.4\"",
        "\"AS64500\"",
        "\"HKLM\\\\Run|evil\"",
        "\"10.0.0.0/8\"",
        "\"x.exe|d41d8cd98f00b204e9800998ecf8427e\"",
        "[{\"decayed\":true},{\"decayed\":false}]",
        "[{\"decayed\":false}]",
        "[1,null]",
        "{\"uuid\":\"u\",\"id\":\"9\",\"timestamp\":\"12\",\"analysis\":null,\"org_id\":3}",
        "{\"timestamp\":\"bad\"}",
        "{\"analysis\":\"x\"}",
        "{\"distribution\":\"x\"}",
        "{\"event_creator_email\":\"\",\"org_id\":\"\"}",
        "{\"Attribute\":{\"a\":1},\"meta-category\":\"m\",\"attribute\":[]}",
        "{\"timestamp\":null,\"distribution\":null}",
        "[{\"name\":\"tlp:red\"},{\"name\":\"a\\\\\\\"b\"},{\"name\":5},{\"x\":1},null,\"\"]",
        "{\"0\":{\"name\":\"t\"},\"2\":\"u\"}",
    ];

    /// The records every field is changed in: the full attribute and attributes of
    /// other types.
    fn bases() -> Vec<String> {
        let mut bases = vec![FULL.to_string()];
        for (t, v) in [
            ("md5", "\"d41d8cd98f00b204e9800998ecf8427e\""),
            ("url", "\"https://u:p@a.example:8080/x/y.php?q=1#f\""),
            (
                "filename|sha1",
                "\"a.exe|da39a3ee5e68b6b0d3255bfef95601890afd8070\"",
            ),
            ("domain", "\"a.example\""),
        ] {
            bases.push(with(
                &with(&without(FULL, "Object"), "type", &format!("\"{t}\"")),
                "value",
                v,
            ));
        }
        bases
    }

    fn values() -> Vec<&'static str> {
        VALUES.iter().chain(MISP_VALUES).copied().collect()
    }

    #[test]
    fn every_field_set_to_every_kind_of_value_gives_the_general_paths_document() {
        let (tried, taken) = every_field::<Attribute>(&bases(), NAMES, &values());
        // five of the twelve option sets leave every record here to the general path
        // (a bad duration, limits), and many values are an error in many fields
        assert!(taken * 4 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn random_records_give_the_general_paths_document() {
        let taken = random::<Attribute>(&bases(), NAMES, &values());
        // one to four fields changed, most often to a value the general path calls an
        // error
        assert!(taken * 10 > 3000, "{taken} of 3000 taken");
    }

    #[test]
    fn elastic_and_golden_attributes_give_the_general_paths_documents() {
        let mut records = crate::tests::golden_inputs(Dataset::MispThreatAttributes);
        records.extend(reference_lines(
            "ti_misp/data_stream/threat_attributes/_dev/test/pipeline/test-misp-sample-ndjson.log",
        ));
        let taken = taken::<Attribute>(&records);
        assert!(taken > 100, "{taken} taken of {} records", records.len());
    }

    #[test]
    fn records_the_general_path_must_read_are_left_to_it() {
        let o = opts("{}");
        assert!(same_as_general(FULL, &o));
        assert!(same_as_general(FULL, &opts(r#"{"identity": true}"#)));
        for left in [
            format!(r#"{{"response":{{"Attribute":[{FULL}]}}}}"#),
            format!(r#"{{"Attribute":[{FULL}]}}"#),
            format!("[{FULL}]"),
            format!("{}{}", &FULL[..FULL.len() - 1], r#","id":"1"}"#),
            with(FULL, "timestamp", r#""yesterday""#),
            with(FULL, "Event", "[]"),
            with(FULL, "Tag", "\"t\""),
            with(FULL, "type", "1"),
            format!("\u{feff}{FULL}"),
        ] {
            assert_eq!(document(&left, &o), None, "{left}");
        }
    }
}
