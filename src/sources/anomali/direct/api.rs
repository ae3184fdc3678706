//! `ti_anomali.intelligence` without trees: an intelligence object of ThreatStream's
//! API read into typed, borrowed fields and its document written straight from them
//! (the frame is `crate::direct`'s, the ThreatStream document [`super`]'s).
//!
//! An intelligence object nests (`meta`, `tags`, lists of ids and locations): its
//! members are read whole, as the general path reads them, and those the mapping does
//! not read stay as read, borrowed. A response page (`objects`) and the agent's error
//! event (`error`) are left to the general path ([`super::super::intelligence`]), as
//! is anything its mapping would answer with an error.

use std::borrow::Cow;

use super::super::common::{self, scalar_text};
use super::super::intelligence::{REMOVED, indicator_type, registrant, tag_name, tlp};
use super::{Head, address, coordinate, date, ids, scalar};
use crate::Dataset;
use crate::dates::Stamp;
use crate::direct::{Fingerprint, Mapping, Member, Written};
use crate::ecs::url::UrlParts;
use crate::json::{Map, Value};
use crate::options::Options;
use crate::{dates, expiration};

/// An intelligence object.
pub struct Api;

/// The fields of an intelligence object the mapping reads, each as sent (`None`: not
/// sent).
#[derive(Default)]
pub struct Fields<'a> {
    created_ts: Option<Value<'a>>,
    modified_ts: Option<Value<'a>>,
    expiration_ts: Option<Value<'a>>,
    status: Option<Value<'a>>,
    itype: Option<Value<'a>>,
    kind: Option<Value<'a>>,
    value: Option<Value<'a>>,
    ip: Option<Value<'a>>,
    latitude: Option<Value<'a>>,
    longitude: Option<Value<'a>>,
    tlp: Option<Value<'a>>,
    is_public: Option<Value<'a>>,
    confidence: Option<Value<'a>>,
    asn: Option<Value<'a>>,
    org: Option<Value<'a>>,
    country: Option<Value<'a>>,
    subtype: Option<Value<'a>>,
    source: Option<Value<'a>>,
    description: Option<Value<'a>>,
    trusted_circle_ids: Option<Value<'a>>,
    meta: Option<Value<'a>>,
    tags: Option<Value<'a>>,
    /// `id`, `update_id`, `import_session_id`: written as strings.
    ids: [Option<Value<'a>>; 3],
}

/// The ids, in the order of [`Fields::ids`].
const IDS: [&str; 3] = ["id", "update_id", "import_session_id"];

/// The ECS side of the document, as the general path sets it.
#[derive(Default)]
pub struct Ecs<'a> {
    indicator_type: Option<&'static str>,
    modified_at: Option<Stamp>,
    as_number: Option<u32>,
    as_organization: Option<Cow<'a, str>>,
    confidence: Option<&'static str>,
    description: Option<Cow<'a, str>>,
    email: Option<Cow<'a, str>>,
    /// `file.hash.<name>`, sorted by name by the writer.
    hashes: Vec<(&'static str, Cow<'a, str>)>,
    file_path: Option<Cow<'a, str>>,
    country: Option<Cow<'a, str>>,
    location: Option<(f64, f64)>,
    ip: Option<Cow<'a, str>>,
    tlp: Option<String>,
    provider: Option<Cow<'a, str>>,
    /// The URL and its parts, when the value is one.
    url: Option<(Cow<'a, str>, UrlParts)>,
    /// `url.domain` of a domain.
    url_domain: Option<Cow<'a, str>>,
}

impl Mapping for Api {
    const DATASET: Dataset = Dataset::AnomaliIntelligence;
    const NESTED: bool = true;
    const FINGERPRINT: Fingerprint = Fingerprint::Original;
    type Fields<'t> = Fields<'t>;
    type Mapped<'t> = (Head<'t>, Ecs<'t>);

    #[inline]
    fn slot<'f, 't>(f: &'f mut Self::Fields<'t>, name: &str) -> Option<&'f mut Option<Value<'t>>> {
        Some(match name {
            "created_ts" => &mut f.created_ts,
            "modified_ts" => &mut f.modified_ts,
            "expiration_ts" => &mut f.expiration_ts,
            "status" => &mut f.status,
            "itype" => &mut f.itype,
            "type" => &mut f.kind,
            "value" => &mut f.value,
            "ip" => &mut f.ip,
            "latitude" => &mut f.latitude,
            "longitude" => &mut f.longitude,
            "tlp" => &mut f.tlp,
            "is_public" => &mut f.is_public,
            "confidence" => &mut f.confidence,
            "asn" => &mut f.asn,
            "org" => &mut f.org,
            "country" => &mut f.country,
            "subtype" => &mut f.subtype,
            "source" => &mut f.source,
            "description" => &mut f.description,
            "trusted_circle_ids" => &mut f.trusted_circle_ids,
            "meta" => &mut f.meta,
            "tags" => &mut f.tags,
            "id" => &mut f.ids[0],
            "update_id" => &mut f.ids[1],
            "import_session_id" => &mut f.ids[2],
            _ => return None,
        })
    }

    #[inline]
    fn unread(_: &mut Fields<'_>, name: &str) -> Option<bool> {
        match name {
            // a response page and the agent's error event: left to the general path
            "objects" | "error" => None,
            _ => Some(!REMOVED.contains(&name)),
        }
    }

    /// The mapping of `object` in [`super::super::intelligence`], on the fields; what stays
    /// in `anomali.threatstream` is added to `rest`.
    fn map<'t>(
        f: &mut Fields<'t>,
        rest: &mut Vec<Member<'t>>,
        duration: &str,
        identity: bool,
        opts: &Options,
        (h, e): &mut (Head<'t>, Ecs<'t>),
    ) -> Option<()> {
        let now = opts.now;
        let mut keep = |name: &'static str, v: Option<Value<'t>>| {
            if let Some(v) = v.filter(|v| !v.is_null()) {
                rest.push((Cow::Borrowed(name), v));
            }
        };
        h.timestamp = Some(Stamp::Es(now));

        // Times.
        if date(&f.created_ts).ok()?.is_some() {
            match f.created_ts.take() {
                Some(Value::String(created)) => h.created = Some(created),
                _ => return None,
            }
        }
        keep("created_ts", f.created_ts.take());
        e.modified_at = date(&f.modified_ts).ok()?.map(Stamp::Millis);

        // Expiration.
        let dur = expiration::parse_duration(duration).ok()?;
        let mut deletion = common::expiry(now, dur);
        if let Some(t) = date(&f.expiration_ts).ok()? {
            deletion = deletion.min(t);
        }
        if common::inactive(f.status.as_ref()) {
            deletion = deletion.min(now);
        }
        keep("expiration_ts", f.expiration_ts.take());
        keep("status", f.status.take());
        keep(
            "deletion_scheduled_at",
            Some(Value::from(dates::fmt_es(deletion))),
        );

        // Type and value.
        let itype_text = scalar(&f.itype).ok()?;
        let kind = scalar(&f.kind).ok()?;
        let value = f
            .value
            .as_ref()
            .and_then(scalar_text)
            .filter(|s| !s.is_empty())?;
        e.indicator_type = indicator_type(
            itype_text.as_deref(),
            kind.as_deref(),
            Some(&value),
            f.ip.as_ref(),
        );

        // Geo, TLP, confidence, AS.
        let lat = coordinate(f.latitude.take(), 90.0).ok()?;
        let lon = coordinate(f.longitude.take(), 180.0).ok()?;
        e.location = lat.zip(lon);
        // a `tlp` that is not text, or an `is_public` not a boolean: an error
        e.tlp = tlp(f.tlp.take().as_ref(), f.is_public.as_ref()).ok()?;
        keep("is_public", f.is_public.take());
        if let Some(c) = f.confidence.take().filter(|v| !v.is_null()) {
            e.confidence = Some(common::confidence_word(common::number(&c)?));
            keep("confidence", Some(c));
        }
        if let Some(asn) = &f.asn {
            e.as_number = common::as_number(asn).ok()?;
        }
        e.as_organization = scalar(&f.org).ok()?;
        e.country = scalar(&f.country).ok()?;
        if let Some(ip) = address(&f.ip).ok()? {
            e.ip = Some(ip.clone());
            h.related_ip = Some(ip);
        }

        // The observable, by `type`.
        let subtype = scalar(&f.subtype).ok()?;
        match kind.as_deref() {
            Some("email") => {
                e.email = Some(value.clone());
                h.related_user(value.clone());
            }
            Some("domain") => {
                e.url_domain = Some(value.clone());
                h.related_hosts.push(value.clone());
            }
            Some("url") => {
                let parts = crate::ecs::url::parse(&value).ok()?;
                match parts.domain.as_deref() {
                    // an empty host: left to the general path
                    Some("") => return None,
                    Some(host)
                        if !host.starts_with('[') && crate::ecs::ip::parse(host).is_none() =>
                    {
                        h.related_hosts.push(Cow::Owned(host.to_string()));
                    }
                    _ => {}
                }
                e.url = Some((value.clone(), parts));
            }
            Some("md5") => {
                let field = subtype
                    .as_deref()
                    .and_then(crate::ecs::hash::field_by_name)
                    .or_else(|| crate::ecs::hash::field_by_length(&value));
                if let Some(field) = field {
                    e.hashes.push((field, value.clone()));
                }
                h.related_hash = Some(value.clone());
            }
            Some("ip" | "ipv6") if e.ip.is_none() && crate::ecs::ip::parse(&value).is_some() => {
                e.ip = Some(value.clone());
                h.related_ip = Some(value.clone());
            }
            _ => {}
        }
        if let Some(t) = itype_text.as_deref() {
            if t.ends_with("_ssdeep") {
                e.hashes.retain(|(field, _)| *field != "ssdeep");
                e.hashes.push(("ssdeep", value.clone()));
                h.related_hash = Some(value.clone());
            } else if t.ends_with("_file_name") {
                e.file_path = Some(value.clone());
            }
        }
        e.hashes.sort_by_key(|(field, _)| *field);
        h.name = value;
        keep("itype", f.itype.take());
        keep("type", f.kind.take());
        keep("value", f.value.take());
        e.provider = scalar(&f.source).ok()?;
        e.description = scalar(&f.description).ok()?;

        // Ids, circles, severity, tags.
        ids(&IDS, &mut f.ids, identity, h, |name, id| {
            keep(name, Some(id))
        })?;
        let circles = match f.trusted_circle_ids.take() {
            None => Vec::new(),
            Some(Value::Array(items)) => match common::id_list_items(&items) {
                (ids, 0) => ids,
                // an item that is a list or an object: an error
                _ => return None,
            },
            Some(ids) => common::scalar_ids(&ids)?,
        };
        if !circles.is_empty() {
            keep("trusted_circle_ids", Some(Value::Array(circles)));
        }
        match f.tags.take() {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, t) in items.iter().enumerate() {
                    h.tags.extend(tag_name(i, t).ok()?);
                }
            }
            Some(_) => return None,
        }
        match f.meta.take() {
            None => {}
            Some(Value::Object(mut m)) => {
                match m.get("severity") {
                    Some(Value::String(s)) => {
                        h.severity = common::severity(s, opts.severity_scale);
                    }
                    None | Some(Value::Null) => {}
                    Some(_) => return None,
                }
                if let Some(email) = registrant(&mut m) {
                    h.related_user(email);
                }
                keep("meta", Some(Value::Object(m)));
            }
            Some(Value::Null) => {}
            Some(_) => return None,
        }
        Some(())
    }

    fn key((h, _): &mut Self::Mapped<'_>) -> Option<String> {
        Some(super::key(Self::DATASET, h))
    }

    fn write(
        (h, e): &mut Self::Mapped<'_>,
        vendor: Map<'_>,
        w: Written<'_>,
        opts: &Options,
        out: &mut Vec<u8>,
    ) {
        super::write_document(Self::DATASET, h, vendor, w, opts, out, |i| {
            i.autonomous_system(e.as_number, e.as_organization.as_deref());
            i.string("confidence", e.confidence);
            i.string("description", e.description.as_deref());
            i.email(e.email.as_deref());
            if !e.hashes.is_empty() || e.file_path.is_some() {
                i.object("file", |f| {
                    if !e.hashes.is_empty() {
                        f.object("hash", |h| {
                            for (field, hash) in &e.hashes {
                                h.string(field, Some(hash));
                            }
                        });
                    }
                    f.string("path", e.file_path.as_deref());
                });
            }
            i.geo(e.country.as_deref(), e.location);
            i.string("ip", e.ip.as_deref());
            if let Some(tlp) = &e.tlp {
                i.object("marking", |m| m.string("tlp", Some(tlp)));
            }
            i.date("modified_at", e.modified_at);
            i.string("name", Some(&h.name));
            i.string("provider", e.provider.as_deref());
            i.string("type", e.indicator_type);
            i.url(e.url.as_ref(), e.url_domain.as_deref());
        });
    }
}

/// The document of `text`, an intelligence object, or `None` to leave it to the general
/// path.
pub fn document(text: &str, opts: &Options) -> Option<Vec<u8>> {
    crate::direct::document::<Api>(text, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::testing::*;

    fn same_as_general(text: &str, o: &Options) -> bool {
        crate::direct::testing::same_as_general::<Api>(text, o)
    }

    /// An intelligence object with every field the mapping reads.
    const FULL: &str = r#"{"asn":"AS45102","can_add_public_tags":true,"confidence":77,"country":"US","created_by":null,"created_ts":"2020-02-27T06:03:43.707Z","description":"a description","expiration_ts":"2030-05-27T06:03:43.658Z","feed_id":0,"id":180654566,"import_session_id":12,"ip":"81.2.69.142","is_public":true,"itype":"mal_url","latitude":37.751,"locations":[],"longitude":-97.822,"meta":{"detail2":"bifocals","severity":"very-high","registrant_email":"r@example.net","registrant_name":"Reg","detail":"x"},"modified_ts":"2020-06-03T18:17:05.603Z","org":"Example Org","owner_organization_id":67,"resource_uri":"/api/v2/intelligence/180654566/","sort":[367733906],"source":"Analyst","status":"active","subtype":null,"tags":[{"id":"a1","name":"phish"},{"name":"kit"},"loose"],"target_industry":[],"threat_type":"malware","threatscore":62,"tlp":"amber","trusted_circle_ids":[146,"7",""],"type":"url","update_id":367733906,"uuid":"3211fe22-c9f4-458e-b8d3-3f94aba136bf","value":"http://user:pw@authibnab.com:8080/a/b.php?q=1#f","workgroups":[]}"#;

    /// The names the mapping reads, and a few it does not (one string, split).
    const NAMES: &str = "created_ts modified_ts expiration_ts status itype type value ip latitude longitude tlp is_public confidence asn org country subtype source description trusted_circle_ids meta tags id update_id import_session_id deletion_scheduled_at sort uuid objects error message json _conf _conf.identity _conf.ioc_expiration_duration";

    /// The records every field is changed in: the full object, one of a domain, an
    /// email address, an md5 hash and an address, and Elastic's pipeline-test objects.
    fn bases() -> Vec<String> {
        let mut bases = vec![
            FULL.to_string(),
            with(
                &with(&without(FULL, "tlp"), "type", "\"domain\""),
                "value",
                "\"a.example.com\"",
            ),
            with(
                &with(&without(FULL, "ip"), "type", "\"email\""),
                "value",
                "\"a@b.example\"",
            ),
            with(
                &with(&with(FULL, "type", "\"md5\""), "itype", "\"mal_md5\""),
                "value",
                "\"d41d8cd98f00b204e9800998ecf8427e\"",
            ),
            with(
                &with(&without(FULL, "ip"), "type", "\"ip\""),
                "itype",
                "\"mal_ip\"",
            ),
        ];
        bases[4] = with(&bases[4], "value", "\"2001:db8::1\"");
        bases
    }

    #[test]
    fn every_field_set_to_every_kind_of_value_gives_the_general_paths_document() {
        let (tried, taken) = every_field::<Api>(&bases(), NAMES, VALUES);
        // five of the twelve option sets leave every record here to the general path
        // (a bad duration, limits), and most values are an error in most fields: over a
        // quarter is taken, so the comparison is not empty
        assert!(taken * 4 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn random_records_give_the_general_paths_document() {
        let taken = random::<Api>(&bases(), NAMES, VALUES);
        // one to four fields changed, most often to a value the general path calls an
        // error
        assert!(taken * 10 > 3000, "{taken} of 3000 taken");
    }

    #[test]
    fn elastic_and_golden_objects_give_the_general_paths_documents() {
        let mut records = crate::tests::golden_inputs(Dataset::AnomaliIntelligence);
        // Elastic's pipeline-test events, each a record as the agent sends it
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../shared/reference/elastic/ti_anomali/data_stream/intelligence/_dev/test/pipeline",
        );
        let mut events = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with("-expected.json")
            {
                let test: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                for event in test["events"].as_array().unwrap() {
                    records.push(event.to_string());
                    records.push(event["json"].to_string());
                    events += 1;
                }
            }
        }
        assert!(events > 20, "{events} events");
        let taken = taken::<Api>(&records);
        assert!(taken > 4 * events, "{taken} taken");
    }

    #[test]
    fn records_the_general_path_must_read_are_left_to_it() {
        let o = opts("{}");
        assert!(same_as_general(FULL, &o));
        assert!(same_as_general(FULL, &opts(r#"{"identity": true}"#)));
        let conf = with(FULL, "_conf.identity", r#""true""#);
        assert!(same_as_general(&conf, &o));
        for o in option_sets().iter().take(3) {
            let read = format!(r#"{{"json":{FULL},"tags":["t"]}}"#);
            assert!(same_as_general(&read, o), "{o:?}");
        }
        for left in [
            // a page, a list, the agent's error event
            format!(r#"{{"meta":{{}},"objects":[{FULL}]}}"#),
            format!("[{FULL}]"),
            format!(r#"{{"json":[{FULL}]}}"#),
            r#"{"error":{"code":"401","id":"401 Unauthorized"}}"#.to_string(),
            // a name sent twice, a value the mapping calls an error
            format!("{}{}", &FULL[..FULL.len() - 1], r#","id":1}"#),
            with(FULL, "meta", "[]"),
            with(FULL, "tags", r#"[{"x":1}]"#),
            with(FULL, "value", "null"),
            with(FULL, "_conf", r#"{"identity":true}"#),
            format!("\u{feff}{FULL}"),
            FULL[..FULL.len() - 1].to_string(),
        ] {
            assert_eq!(document(&left, &o), None, "{left}");
        }
        for limits in [
            r#"{"limits": {"max_depth": 2}}"#,
            r#"{"limits": {"max_string_bytes": 100}}"#,
            r#"{"limits": {"max_documents": 0}}"#,
        ] {
            assert_eq!(document(FULL, &opts(limits)), None, "{limits}");
        }
    }
}
