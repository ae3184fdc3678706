//! `ti_anomali.threatstream` without trees: a pushed indicator read into typed,
//! borrowed fields and its document written straight from them (the frame is
//! `crate::direct`'s, the ThreatStream document [`super`]'s).
//!
//! A push is one flat object of strings and numbers: a record with a nested member is
//! left to the general path ([`super::super::threatstream`]). With identity on, the
//! record is read a second time into the sorted object the fingerprint covers.

use std::borrow::Cow;

use super::super::common;
use super::super::itype;
use super::super::threatstream::{self, split_detail};
use super::{Head, Made, address, coordinate, date, ids, sent, text};
use crate::Dataset;
use crate::dates::Stamp;
use crate::direct::{Fingerprint, Mapping, Member, Written};
use crate::ecs::url::UrlParts;
use crate::expiration;
use crate::json::{Map, Value};
use crate::options::Options;

/// A ThreatStream push.
pub struct Push;

impl Mapping for Push {
    const DATASET: Dataset = Dataset::AnomaliThreatstream;
    const NESTED: bool = false;
    const FINGERPRINT: Fingerprint = Fingerprint::Object;
    type Fields<'t> = Fields<'t>;
    type Mapped<'t> = (Head<'t>, Ecs<'t>);

    #[inline]
    fn slot<'f, 't>(f: &'f mut Self::Fields<'t>, name: &str) -> Option<&'f mut Option<Value<'t>>> {
        Some(match name {
            "itype" => &mut f.itype,
            "value_type" => &mut f.value_type,
            "srcip" => &mut f.srcip,
            "domain" => &mut f.domain,
            "url" => &mut f.url,
            "email" => &mut f.email,
            "md5" => &mut f.md5,
            "added_at" => &mut f.added_at,
            "deleted_at" => &mut f.deleted_at,
            "date_first" => &mut f.date_first,
            "date_last" => &mut f.date_last,
            "state" => &mut f.state,
            "lat" => &mut f.lat,
            "lon" => &mut f.lon,
            "classification" => &mut f.classification,
            "confidence" => &mut f.confidence,
            "asn" => &mut f.asn,
            "org" => &mut f.org,
            "country" => &mut f.country,
            "source" => &mut f.source,
            "severity" => &mut f.severity,
            "trusted_circle_ids" => &mut f.trusted_circle_ids,
            "detail" => &mut f.detail,
            "id" => &mut f.ids[0],
            "source_feed_id" => &mut f.ids[1],
            "update_id" => &mut f.ids[2],
            "import_session_id" => &mut f.ids[3],
            _ => return None,
        })
    }

    #[inline]
    fn unread(f: &mut Fields<'_>, name: &str) -> Option<bool> {
        f.has_value |= name == "value";
        Some(true)
    }

    /// The mapping of `indicator` in [`super::threatstream`], on the fields; what stays in
    /// `anomali.threatstream` is added to `rest`. `None` where the general path would record
    /// an error, or reads a value in a way this path does not.
    fn map<'t>(
        f: &mut Fields<'t>,
        rest: &mut Vec<Member<'t>>,
        duration: &str,
        identity: bool,
        opts: &Options,
        (h, e): &mut (Head<'t>, Ecs<'t>),
    ) -> Option<()> {
        let now = opts.now;
        let keep = |rest: &mut Vec<Member<'t>>, name: &'static str, v: Value<'t>| {
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
        h.name = value;

        // Dates and @timestamp.
        let added = date(&f.added_at).ok()?;
        let vendor_deleted = date(&f.deleted_at).ok()?;
        if let Some(t) = added {
            h.make("added_at", Made::Date(Stamp::Millis(t)))?;
        }
        e.first_seen = date(&f.date_first).ok()?.map(Stamp::Millis);
        e.last_seen = date(&f.date_last).ok()?.map(Stamp::Millis);
        h.timestamp = Some(match added.or(vendor_deleted) {
            Some(t) => Stamp::Millis(t),
            None => Stamp::Es(now),
        });

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
        h.make("deleted_at", Made::Date(Stamp::Millis(deleted)))?;
        if let Some(state) = f.state.take() {
            keep(rest, "state", state);
        }

        // Geo, TLP, confidence, AS.
        let lat = coordinate(f.lat.take(), 90.0).ok()?;
        let lon = coordinate(f.lon.take(), 180.0).ok()?;
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
            h.related_user.push(email.clone());
        }
        if let Some(ip) = address(&f.srcip).ok()? {
            e.ip = Some(ip.clone());
            h.related_ip = Some(ip);
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
            h.related_hosts.push(domain);
        } else if let Some(domain) = f.domain.take() {
            keep(rest, "domain", domain);
        }
        if let Some(host) = url_host.filter(|h| threatstream::is_host_name(h))
            && !h.related_hosts.iter().any(|d| *d == host)
        {
            h.related_hosts.push(Cow::Owned(host));
        }
        e.country = text(&f.country).ok()?;
        if let Some(hash) = text(&f.md5).ok()? {
            match threatstream::hash_field(itype_text.as_deref(), &hash) {
                Some(field) => e.hash = Some((field, hash.clone())),
                None => keep(rest, "md5", Value::String(hash.clone())),
            }
            h.related_hash = Some(hash);
        }
        e.provider = text(&f.source).ok()?;

        // Severity, circles, tags, ids.
        match &f.severity {
            Some(Value::String(s)) => h.severity = common::severity(s, opts.severity_scale),
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
            Some(Value::String(Cow::Borrowed(s))) => h.tags.extend(
                split_detail(s)
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .map(Cow::Borrowed),
            ),
            Some(Value::String(Cow::Owned(s))) => h.tags.extend(
                split_detail(&s)
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .map(|t| Cow::Owned(t.to_string())),
            ),
            Some(_) => return None,
        }
        ids(&IDS, &mut f.ids, identity, h, |name, id| {
            keep(rest, name, id)
        })?;
        for (name, v) in [
            ("itype", f.itype.take()),
            ("value_type", f.value_type.take()),
        ] {
            if let Some(v) = v {
                keep(rest, name, v);
            }
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
            i.email(e.email.as_deref());
            if let Some((field, hash)) = &e.hash {
                i.object("file", |f| {
                    f.object("hash", |h| h.string(field, Some(hash)));
                });
            }
            i.date("first_seen", e.first_seen);
            i.geo(e.country.as_deref(), e.location);
            i.string("ip", e.ip.as_deref());
            i.date("last_seen", e.last_seen);
            if let Some(tlp) = e.tlp {
                i.object("marking", |m| m.strings("tlp", [tlp]));
            }
            i.string("name", Some(&h.name));
            i.string("provider", e.provider.as_deref());
            i.string("type", e.indicator_type);
            i.url(e.url.as_ref(), e.url_domain.as_deref());
        });
    }
}

/// The document of `text`, a push, or `None` to leave it to the general path.
pub fn document(text: &str, opts: &Options) -> Option<Vec<u8>> {
    crate::direct::document::<Push>(text, opts)
}

/// The fields of a push the mapping reads, each as sent (`None`: not sent).
#[derive(Default)]
pub struct Fields<'a> {
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

/// The ECS side of the document, as the general path sets it.
#[derive(Default)]
pub struct Ecs<'a> {
    indicator_type: Option<&'static str>,
    as_number: Option<u32>,
    as_organization: Option<Cow<'a, str>>,
    confidence: Option<&'static str>,
    email: Option<Cow<'a, str>>,
    hash: Option<(&'static str, Cow<'a, str>)>,
    first_seen: Option<Stamp>,
    last_seen: Option<Stamp>,
    country: Option<Cow<'a, str>>,
    location: Option<(f64, f64)>,
    ip: Option<Cow<'a, str>>,
    tlp: Option<&'static str>,
    provider: Option<Cow<'a, str>>,
    /// The URL and its parts, when `url` was split.
    url: Option<(Cow<'a, str>, UrlParts)>,
    /// `url.domain` from `domain`, when the URL gave none.
    url_domain: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::testing::*;

    fn same_as_general(text: &str, o: &Options) -> bool {
        crate::direct::testing::same_as_general::<Push>(text, o)
    }

    /// A push with every field the mapping reads.
    const FULL: &str = r#"{"added_at":"2023-06-05T12:35:14.860741","asn":"AS45102","classification":"private","confidence":92,"country":"US","date_first":"2020-10-09T18:45:23.000Z","date_last":"2020-10-09T18:45:23Z","deleted_at":null,"detail":"phish-kit,Microsoft\\,Inc,,x","detail2":"imported by user 1","domain":"example.appspot.com","email":"a@b.example","id":185029228,"import_session_id":"77","itype":"phish_url","lat":37.751,"lon":-97.822,"maltype":"kit","md5":"d41d8cd98f00b204e9800998ecf8427e","org":"Example Org","resource_uri":"/api/v1/intelligence/22222/","severity":"very-high","source":"Default Organization","source_feed_id":0,"srcip":"81.2.69.142","state":"active","trusted_circle_ids":",10015,","update_id":376590230,"url":"https://user:pw@example.appspot.com:8443/2/a.php?q=1#frag","value_type":"url"}"#;

    /// The names the mapping reads, and a few it does not (one string, split).
    const NAMES: &str = "itype value_type srcip domain url email md5 added_at deleted_at date_first date_last state lat lon classification confidence asn org country source severity trusted_circle_ids detail id source_feed_id update_id import_session_id value maltype message _conf json tags _conf.identity _conf.ioc_expiration_duration _conf.ioc_duration_before_deletion _confx";

    #[test]
    fn every_field_set_to_every_kind_of_value_gives_the_general_paths_document() {
        let (tried, taken) = every_field::<Push>(
            &[
                FULL.to_string(),
                without(FULL, "url"),
                without(&without(FULL, "url"), "itype"),
            ],
            NAMES,
            VALUES,
        );
        // six of the twelve option sets leave every record here to the general path (a
        // bad duration, a `raw_field` the record has, limits): of the rest, most are
        // taken, so the comparison is not empty
        assert!(taken * 6 > tried, "{taken} of {tried} taken");
    }

    #[test]
    fn random_records_give_the_general_paths_document() {
        let taken = random::<Push>(
            &[
                FULL.to_string(),
                without(FULL, "url"),
                without(&without(FULL, "url"), "itype"),
            ],
            NAMES,
            VALUES,
        );
        // one to four fields changed, often to a value the general path calls an error
        assert!(taken * 20 > 3000, "{taken} of 3000 taken");
    }

    #[test]
    fn elastic_and_golden_pushes_give_the_general_paths_documents() {
        let mut records = crate::tests::golden_inputs(Dataset::AnomaliThreatstream);
        // Elastic's sample pushes, one a line
        records.extend(reference_lines(
            "ti_anomali/_dev/deploy/docker/sample_logs/test-threatstream-ndjson.log",
        ));
        assert!(records.len() > 150, "{} records", records.len());
        let taken = taken::<Push>(&records);
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
            // a message that is not JSON once unescaped: a value opened by `\n`, not `\"`
            r#"{"message":"{\"value_type\":\"ip\",\"srcip\":\n1.2.3.4\"}"}"#.to_string(),
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
