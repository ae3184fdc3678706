//! `ti_anomali.threatstream`: indicators pushed by the ThreatStream "Elastic Extension".
//!
//! # Input
//!
//! One flat indicator object per record, as the Anomali Integrator's Elastic Extension
//! posts it (one NDJSON line; Elastic's agent wraps it as `{"json": …}`), or a JSON array
//! of such objects (one document each, each keeping its own item as `event.original`).
//! An array item that is not an object becomes an error document. The value sits in a
//! field named by `value_type`: `srcip`, `domain`, `url`, `email` or `md5`.
//!
//! # ECS fields set
//!
//! - `event.kind: enrichment`, `event.category: [threat]`, `event.type: [indicator]`,
//!   `event.severity` from `severity` (scale from the options).
//! - `threat.indicator.type` from `itype` (see [`super::itype`]), else from `value_type`;
//!   `ipv6-addr` when `srcip` is IPv6. `threat.indicator.name` is the value.
//! - `threat.indicator.ip` + `related.ip` (`srcip`), `.url.*` (`url`, split as
//!   Elasticsearch's `uri_parts`; `domain` fills `.url.domain` when the URL gave none),
//!   `.email.address` + `related.user`, `.file.hash.*` by digest length + `related.hash`,
//!   `related.hosts` (domains), `.first_seen` / `.last_seen`, `.provider` (`source`),
//!   `.confidence` (word), `.marking.tlp` (list: `private` → AMBER, `public` → WHITE),
//!   `.geo.location` (only when both `lat` and `lon`), `.geo.country_iso_code`,
//!   `.as.number` / `.as.organization.name`.
//! - `tags`: the `detail` tokens (split on commas not preceded by a backslash).
//! - `@timestamp`: `added_at`, else `deleted_at`, else now.
//! - Everything else stays under `anomali.threatstream` (ids as strings,
//!   `trusted_circle_ids` as a list); `asn`, `date_first`, `date_last`, `detail`, `lat`,
//!   `lon`, `srcip` and `country` are removed once mapped.
//!
//! # Expiration
//!
//! `anomali.threatstream.deleted_at`: the vendor's `deleted_at` when sent; otherwise
//! `added_at` (or now, without one) + the IOC expiration duration. Unlike Elastic, which
//! computes it only when the agent passes `_conf`, every indicator gets one. A `state`
//! other than `active` expires the indicator now (`deleted_at` = min(that, now)).
//! A bad duration falls back to 90 days with Elastic's message.
//!
//! # References
//!
//! `shared/reference/elastic/ti_anomali/BEHAVIOUR.md` §2a, §3, §5, §6, §7; the differences
//! from Elastic are listed in `docs/PARITY-anomali.md`.

use std::borrow::Cow;

use crate::json::{Map, Value};

use super::common::{self, bad, peek_text, take_text};
use super::itype;
use crate::{Ctx, Doc, dates};

/// The data-set id, which also prefixes the IOC key.
pub const DATASET: &str = "ti_anomali.threatstream";

/// Elastic's message for a bad `ioc_expiration_duration`.
pub const BAD_DURATION: &str = "invalid ioc_expiration_duration: using default 90 days";

const NS: &str = "anomali.threatstream";

/// The start of the error for a record without an indicator value.
pub const NO_VALUE: &str = "record has no indicator value";

/// Maps one record: an indicator object or a list of them.
pub fn map<'v>(body: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match body {
        Value::Object(j) => out.push(indicator(j, ctx)),
        Value::Array(items) => common::fan_out(items, "json", ctx, out, indicator),
        other => out.push(common::not_an_object("json", &other)),
    }
}

/// The field an indicator's value is read from: the one its type names, else the one
/// its `value_type` names, else the first of `url`, `domain`, `email`, `md5`, `srcip`;
/// each only when `sent` (present and not `null`).
pub(super) fn value_field(
    ti_type: Option<&str>,
    kind: Option<&str>,
    sent: impl Fn(&str) -> bool,
) -> Option<&'static str> {
    [
        ti_type.and_then(value_field_of_type),
        kind.and_then(value_field_of_kind),
    ]
    .into_iter()
    .flatten()
    .chain(["url", "domain", "email", "md5", "srcip"])
    .find(|f| sent(f))
}

/// `threat.indicator.marking.tlp` for a `classification`: `private` → AMBER, `public`
/// → WHITE (case and blanks ignored), nothing for another word or `null`; `Err` for a
/// value that is not a string.
pub(super) fn tlp(classification: &Value<'_>) -> Result<Option<&'static str>, ()> {
    match classification {
        Value::String(c) if c.trim().eq_ignore_ascii_case("private") => Ok(Some("AMBER")),
        Value::String(c) if c.trim().eq_ignore_ascii_case("public") => Ok(Some("WHITE")),
        Value::String(_) | Value::Null => Ok(None),
        _ => Err(()),
    }
}

/// The field holding the value for an indicator type.
fn value_field_of_type(t: &str) -> Option<&'static str> {
    match t {
        "ipv4-addr" | "ipv6-addr" => Some("srcip"),
        "domain-name" => Some("domain"),
        "url" => Some("url"),
        "email-addr" | "email" => Some("email"),
        "file" => Some("md5"),
        _ => None,
    }
}

/// The field holding the value for a `value_type`.
fn value_field_of_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "ip" | "ipv6" => Some("srcip"),
        "domain" => Some("domain"),
        "url" => Some("url"),
        "email" => Some("email"),
        "md5" | "hash" => Some("md5"),
        _ => None,
    }
}

/// Splits `detail` on commas not preceded by a backslash (the backslash is kept).
pub fn split_detail(detail: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev = None;
    for (i, c) in detail.char_indices() {
        if c == ',' && prev != Some('\\') {
            out.push(detail.get(start..i).unwrap_or(""));
            start = i + 1;
        }
        prev = Some(c);
    }
    out.push(detail.get(start..).unwrap_or(""));
    out
}

/// The `file.hash.*` field of the digest in `md5`: `ssdeep` for an `_ssdeep` itype, else
/// by its length.
pub(super) fn hash_field(itype: Option<&str>, hash: &str) -> Option<&'static str> {
    if itype.is_some_and(|t| t.ends_with("_ssdeep")) {
        Some("ssdeep")
    } else {
        crate::ecs::hash::field_by_length(hash)
    }
}

/// Whether a URL's host is a name (for `related.hosts`), not an IP address.
pub(super) fn is_host_name(host: &str) -> bool {
    !host.starts_with('[') && crate::ecs::ip::parse(host).is_none()
}

/// Tags the non-empty `detail` tokens, in order.
fn tag_tokens<'v, T>(d: &mut Doc<'v>, tokens: impl IntoIterator<Item = T>)
where
    T: AsRef<str> + Into<Cow<'v, str>>,
{
    for t in tokens {
        if !t.as_ref().is_empty() {
            d.tag(t);
        }
    }
}

/// Maps one indicator object.
fn indicator<'v>(mut j: Map<'v>, ctx: &Ctx) -> Doc<'v> {
    let mut d = Doc::new();
    if ctx.opts.identity {
        // The fingerprint covers the indicator object itself, not the text it came in:
        // a re-push of the same indicator matches whatever re-formatted it on the way
        // (Fluent Bit's `http` input re-serialises every pushed object).
        d.fingerprint_over([Some(&j)]);
    }
    let now = ctx.opts.now;
    d.enrichment();

    // Type and value.
    let itype_text = peek_text(&j, &mut d, "itype");
    let kind = peek_text(&j, &mut d, "value_type");
    let mut ti_type = itype_text
        .as_deref()
        .and_then(itype::indicator_type)
        .or_else(|| kind.as_deref().and_then(itype::type_of_value_kind));
    let value_field = value_field(ti_type, kind.as_deref(), |f| {
        j.get(f).is_some_and(|v| !v.is_null())
    });
    let value = value_field
        .and_then(|f| j.get(f))
        .and_then(common::scalar_text)
        .filter(|s| !s.is_empty());
    if matches!(ti_type, Some("ipv4-addr" | "ipv6-addr"))
        && let Some(Value::String(ip)) = j.get("srcip")
    {
        ti_type = Some(crate::ecs::ip::indicator_type(ip));
    }
    match ti_type {
        Some(t) => d.set("threat.indicator.type", t),
        // Kept as enrichment, untyped, without an error; the value stays findable.
        None => {
            if let Some(v) = &value {
                j.insert("value", Value::from(v.clone()));
            }
        }
    }
    match &value {
        Some(v) => d.set("threat.indicator.name", v.clone()),
        None => d.error(format!("{NO_VALUE}: none of `json.srcip`, `json.domain`, `json.url`, `json.email`, `json.md5` holds one")),
    }

    // Dates and @timestamp.
    let added = common::peek_date(&j, &mut d, "added_at");
    if let Some(t) = added {
        j.insert("added_at", Value::from(dates::fmt_millis(t)));
    }
    let vendor_deleted = common::peek_date(&j, &mut d, "deleted_at");
    common::move_date(&mut d, &mut j, "date_first", "threat.indicator.first_seen");
    common::move_date(&mut d, &mut j, "date_last", "threat.indicator.last_seen");
    match added.or(vendor_deleted) {
        Some(t) => d.set("@timestamp", dates::fmt_millis(t)),
        None => d.set("@timestamp", dates::fmt_es(now)),
    }

    // Expiration.
    let mut deleted = match vendor_deleted {
        Some(t) => t,
        None => {
            let dur = common::duration(ctx, &mut d, BAD_DURATION);
            common::expiry(added.unwrap_or(now), dur)
        }
    };
    if common::inactive(j.get("state")) && deleted > now {
        deleted = now;
    }
    j.insert("deleted_at", Value::from(dates::fmt_millis(deleted)));

    // Geo, TLP, confidence, AS.
    common::set_location(&mut d, &mut j, "lat", "lon");
    if let Some(c) = j.get("classification") {
        match tlp(c) {
            Ok(Some(tlp)) => d.push("threat.indicator.marking.tlp", tlp),
            Ok(None) => {}
            Err(()) => d.error(bad("classification", "a classification", c)),
        }
    }
    common::set_confidence(&mut d, &j, "confidence");
    common::set_asn(&mut d, &mut j, "asn");
    if let Some(org) = take_text(&mut j, &mut d, "org") {
        d.set("threat.indicator.as.organization.name", org);
    }

    // The observables.
    if let Some(email) = take_text(&mut j, &mut d, "email") {
        d.set("threat.indicator.email.address", email.clone());
        // `apt_subject` records carry a subject line here, not a user
        if email.contains('@') {
            d.push_unique("related.user", email);
        }
    }
    common::set_ip(&mut d, &mut j, "srcip");
    let mut url_host = None;
    if let Some(url) = peek_text(&j, &mut d, "url") {
        match crate::ecs::url::set_url_parts(&mut d, "threat.indicator.url", &url) {
            Ok(()) => {
                j.remove("url");
                url_host = d.get_str("threat.indicator.url.domain").map(str::to_string);
            }
            Err(_) => d.error(format!(
                "cannot parse `json.url` as a url: `{}`",
                common::show(&Value::from(url))
            )),
        }
    } else if j
        .get("url")
        .is_some_and(|v| v.is_null() || v.as_str() == Some(""))
    {
        j.remove("url");
    }
    if let Some(domain) = peek_text(&j, &mut d, "domain") {
        if d.get("threat.indicator.url.domain").is_none() {
            j.remove("domain");
            d.set("threat.indicator.url.domain", domain.clone());
        }
        d.push_unique("related.hosts", domain);
    }
    if let Some(host) = url_host.filter(|h| is_host_name(h)) {
        d.push_unique("related.hosts", host);
    }
    if let Some(country) = take_text(&mut j, &mut d, "country") {
        d.set("threat.indicator.geo.country_iso_code", country);
    }
    if let Some(hash) = peek_text(&j, &mut d, "md5") {
        if let Some(f) = hash_field(itype_text.as_deref(), &hash) {
            j.remove("md5");
            d.set(&["threat.indicator.file.hash.", f].concat(), hash.clone());
        }
        d.push_unique("related.hash", hash);
    }
    if let Some(source) = take_text(&mut j, &mut d, "source") {
        d.set("threat.indicator.provider", source);
    }

    // Severity, circles, tags, ids.
    common::set_severity(
        &mut d,
        j.get("severity"),
        "severity",
        ctx.opts.severity_scale,
    );
    common::circle_ids(&mut j, &mut d, "trusted_circle_ids");
    match j.remove("detail") {
        // tokens of text the record holds as it is are borrowed from it
        Some(Value::String(Cow::Borrowed(s))) => tag_tokens(&mut d, split_detail(s)),
        Some(Value::String(Cow::Owned(s))) => {
            tag_tokens(&mut d, split_detail(&s).into_iter().map(str::to_string))
        }
        Some(Value::Array(a)) if a.iter().all(|t| t.is_string() || t.is_null()) => tag_tokens(
            &mut d,
            a.into_iter().filter_map(|t| match t {
                Value::String(t) => Some(t),
                _ => None,
            }),
        ),
        None | Some(Value::Null) => {}
        Some(other) => {
            d.error(bad("detail", "a list of tags", &other));
            j.insert("detail", other);
        }
    }
    for f in ["id", "source_feed_id", "update_id", "import_session_id"] {
        common::stringify(&mut j, &mut d, f);
    }
    d.key = Some(common::key(DATASET, j.get("id"), value.as_deref()));

    d.set(NS, Value::Object(j));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use chrono::{TimeZone, Utc};
    use serde_json::{Map, Value, json};

    fn opts() -> Options {
        Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    }

    fn run_with(v: Value, duration: &str, o: &Options) -> Vec<Value> {
        let ctx = Ctx {
            opts: o,
            duration,
            duration_from_conf: true,
            preserve: false,
        };
        let mut out = Vec::new();
        map(v.into(), &ctx, &mut out);
        out.into_iter()
            .map(|d| {
                let errors = d.errors().to_vec();
                let tags = d.tags().to_vec();
                let (mut m, _, _) = d.into_parts();
                crate::doc::remove_empty(&mut m);
                m.insert("_errors".into(), json!(errors));
                m.insert("_tags".into(), json!(tags));
                Value::Object(m)
            })
            .collect()
    }

    fn v(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn one(v: Value) -> Value {
        run_with(v, "90d", &opts()).remove(0)
    }

    #[test]
    fn the_fingerprint_covers_the_object_not_its_formatting() {
        let mut o = opts();
        o.identity = true;
        let fp = |raw: &str| {
            let d = &crate::transform(crate::Dataset::AnomaliThreatstream, raw.as_bytes(), &o)[0];
            d["labels"]["ioc_fingerprint"].as_str().unwrap().to_string()
        };
        let a = fp(r#"{"id":1,"value_type":"ip","srcip":"10.0.0.1","itype":"bot_ip"}"#);
        // the same object re-serialised (key order, spacing), or with shipper settings beside it
        assert_eq!(
            a,
            fp(r#"{ "srcip": "10.0.0.1", "itype": "bot_ip", "id": 1, "value_type": "ip" }"#)
        );
        assert_eq!(
            a,
            fp(
                r#"{"id":1,"value_type":"ip","srcip":"10.0.0.1","itype":"bot_ip","_conf.identity":"true"}"#
            )
        );
        // a changed indicator
        assert_ne!(
            a,
            fp(r#"{"id":1,"value_type":"ip","srcip":"10.0.0.2","itype":"bot_ip"}"#)
        );
    }

    fn fixture() -> Value {
        v(
            r#"{"added_at": "2023-06-05T12:35:14.860741", "classification": "private", "confidence": 92,
            "country": "US", "date_first": "2020-10-09T18:45:23.000Z", "date_last": "2020-10-09T18:45:23.000Z",
            "detail": "phish-kit-sig-id-43111996,Microsoft", "detail2": "imported by user 1", "id": 185029228,
            "itype": "phish_url", "lat": 37.751, "maltype": "phish-kit-sig-id-43111996",
            "resource_uri": "/api/v1/intelligence/22222/", "severity": "very-high", "source": "Default Organization",
            "source_feed_id": 0, "srcip": "81.2.69.142", "state": "active", "trusted_circle_ids": ",10015,",
            "update_id": 376590230, "url": "https://example.appspot.com/2/https%40securelogin-example.bp.poste.it",
            "value_type": "url"}"#,
        )
    }

    #[test]
    fn elastic_fixture_record() {
        let d = one(fixture());
        assert_eq!(
            d,
            v(r#"{
                "@timestamp": "2023-06-05T12:35:14.860Z",
                "anomali": {"threatstream": {
                    "added_at": "2023-06-05T12:35:14.860Z", "classification": "private", "confidence": 92,
                    "deleted_at": "2023-09-03T12:35:14.860Z", "detail2": "imported by user 1",
                    "id": "185029228", "itype": "phish_url", "maltype": "phish-kit-sig-id-43111996",
                    "resource_uri": "/api/v1/intelligence/22222/", "severity": "very-high",
                    "source_feed_id": "0", "state": "active", "trusted_circle_ids": ["10015"],
                    "update_id": "376590230", "value_type": "url"}},
                "event": {"category": ["threat"], "kind": "enrichment", "severity": 9, "type": ["indicator"]},
                "related": {"hosts": ["example.appspot.com"], "ip": ["81.2.69.142"]},
                "threat": {"indicator": {
                    "confidence": "High", "first_seen": "2020-10-09T18:45:23.000Z",
                    "geo": {"country_iso_code": "US"}, "ip": "81.2.69.142",
                    "last_seen": "2020-10-09T18:45:23.000Z", "marking": {"tlp": ["AMBER"]},
                    "name": "https://example.appspot.com/2/https%40securelogin-example.bp.poste.it",
                    "provider": "Default Organization", "type": "url",
                    "url": {"domain": "example.appspot.com", "extension": "it",
                        "full": "https://example.appspot.com/2/https%40securelogin-example.bp.poste.it",
                        "original": "https://example.appspot.com/2/https%40securelogin-example.bp.poste.it",
                        "path": "/2/https@securelogin-example.bp.poste.it", "scheme": "https"}}},
                "_errors": [], "_tags": ["phish-kit-sig-id-43111996", "Microsoft"]
            }"#)
        );
    }

    #[test]
    fn detail_split_keeps_escaped_commas() {
        assert_eq!(split_detail("a,b\\,c,,d"), vec!["a", "b\\,c", "", "d"]);
        assert_eq!(split_detail(""), vec![""]);
        assert_eq!(split_detail("é,ü"), vec!["é", "ü"]);
    }

    #[test]
    fn ip_records_and_ipv6() {
        let d = one(
            json!({"itype": "mal_ip", "value_type": "ip", "srcip": "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "id": 1}),
        );
        assert_eq!(d["threat"]["indicator"]["type"], "ipv6-addr");
        assert_eq!(
            d["threat"]["indicator"]["name"],
            "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"
        );
        let d = one(json!({"itype": "mal_ipv6", "value_type": "ip", "srcip": "1.2.3.4", "id": 1}));
        assert_eq!(d["threat"]["indicator"]["type"], "ipv4-addr");
    }

    #[test]
    fn hashes_by_length_and_related_hash() {
        for (h, f) in [
            ("a".repeat(32), "md5"),
            ("b".repeat(40), "sha1"),
            ("c".repeat(64), "sha256"),
            ("d".repeat(128), "sha512"),
        ] {
            let d = one(json!({"itype": "mal_md5", "value_type": "md5", "md5": h, "id": 1}));
            assert_eq!(d["threat"]["indicator"]["file"]["hash"][f], h.as_str());
            assert_eq!(d["related"]["hash"], json!([h]));
            assert_eq!(d["anomali"]["threatstream"].get("md5"), None);
        }
        let d = one(json!({"itype": "mal_md5", "value_type": "md5", "md5": "6466e2", "id": 1}));
        assert_eq!(d["anomali"]["threatstream"]["md5"], "6466e2");
        assert_eq!(d["related"]["hash"], json!(["6466e2"]));
        assert_eq!(d["threat"]["indicator"].get("file"), None);
    }

    #[test]
    fn domains_emails_fill_related() {
        let d = one(
            json!({"itype": "mal_domain", "value_type": "domain", "domain": "x.test", "id": 1}),
        );
        assert_eq!(d["threat"]["indicator"]["url"]["domain"], "x.test");
        assert_eq!(d["related"]["hosts"], json!(["x.test"]));
        let d = one(
            json!({"itype": "phish_url", "value_type": "url", "url": "http://a.test/x", "domain": "b.test", "id": 1}),
        );
        assert_eq!(d["threat"]["indicator"]["url"]["domain"], "a.test");
        assert_eq!(d["anomali"]["threatstream"]["domain"], "b.test");
        assert_eq!(d["related"]["hosts"], json!(["b.test", "a.test"]));
        let d = one(
            json!({"itype": "phish_email", "value_type": "email", "email": "a@b.test", "id": 1}),
        );
        assert_eq!(d["threat"]["indicator"]["email"]["address"], "a@b.test");
        assert_eq!(d["threat"]["indicator"]["type"], "email-addr");
        assert_eq!(d["related"]["user"], json!(["a@b.test"]));
    }

    #[test]
    fn unknown_itypes_are_typed_by_value_type_or_kept_untyped() {
        let d =
            one(json!({"itype": "brand_new_ip", "value_type": "ip", "srcip": "1.2.3.4", "id": 1}));
        assert_eq!(d["threat"]["indicator"]["type"], "ipv4-addr");
        assert_eq!(d["_errors"], json!([]));
        let d =
            one(json!({"itype": "apt_mta", "value_type": "string", "domain": "mta.test", "id": 1}));
        assert_eq!(d["threat"]["indicator"].get("type"), None);
        assert_eq!(d["threat"]["indicator"]["name"], "mta.test");
        assert_eq!(d["anomali"]["threatstream"]["value"], "mta.test");
        assert_eq!(d["_errors"], json!([]));
        // an itype only the intelligence table knows is typed too
        let d = one(json!({"itype": "bot_domain", "domain": "bot.test", "id": 1}));
        assert_eq!(d["threat"]["indicator"]["type"], "domain-name");
    }

    #[test]
    fn expiration_rules() {
        // vendor value wins
        let d = one(json!({"deleted_at": "2020-10-08T12:22:11", "id": 1, "srcip": "192.0.2.1"}));
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2020-10-08T12:22:11.000Z"
        );
        assert_eq!(d["@timestamp"], "2020-10-08T12:22:11.000Z");
        // added_at + duration
        let d = run_with(
            json!({"added_at": "2020-10-08T12:22:11", "id": 1, "srcip": "192.0.2.1"}),
            "5d",
            &opts(),
        )
        .remove(0);
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2020-10-13T12:22:11.000Z"
        );
        // no date at all: now + duration, @timestamp now
        let d = one(json!({"id": 1}));
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2026-04-01T00:00:00.000Z"
        );
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z");
        // an added_at with a zone is fine (Elastic's script fails on it)
        let d = run_with(
            json!({"added_at": "2020-10-08T12:22:11Z", "id": 1, "srcip": "192.0.2.1"}),
            "1h",
            &opts(),
        )
        .remove(0);
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2020-10-08T13:22:11.000Z"
        );
        // bad unit: 90 days and Elastic's message
        let d = run_with(
            json!({"added_at": "2020-10-08T12:22:11", "id": 1, "srcip": "192.0.2.1"}),
            "10y",
            &opts(),
        )
        .remove(0);
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2021-01-06T12:22:11.000Z"
        );
        let e = d["_errors"][0].as_str().unwrap();
        assert!(e.starts_with(BAD_DURATION) && e.contains("`10y`"), "{e}");
        // inactive states expire now; an earlier vendor value is kept
        let d = one(json!({"added_at": "2025-12-30T00:00:00", "state": "falsepos", "id": 1}));
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2026-01-01T00:00:00.000Z"
        );
        let d = one(json!({"deleted_at": "2020-01-01T00:00:00", "state": "deleted", "id": 1}));
        assert_eq!(
            d["anomali"]["threatstream"]["deleted_at"],
            "2020-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn arrays_fan_out_and_keep_their_items() {
        let ctx_opts = opts();
        let ctx = Ctx {
            opts: &ctx_opts,
            duration: "90d",
            duration_from_conf: false,
            preserve: false,
        };
        let mut out = Vec::new();
        map(
            json!([{"id": 2, "b": 1, "a": 2}, 7, {"id": 3}]).into(),
            &ctx,
            &mut out,
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].original.as_deref(), Some(r#"{"a":2,"b":1,"id":2}"#));
        assert_eq!(
            out[1].errors(),
            ["cannot read json[1] as an indicator object: `7`"]
        );
        assert_eq!(out[1].original.as_deref(), Some("7"));
        assert_eq!(out[2].key.as_deref(), Some("ti_anomali.threatstream:3"));
        let mut out = Vec::new();
        map(json!("text").into(), &ctx, &mut out);
        assert_eq!(
            out[0].errors(),
            ["cannot read json as an indicator object: `text`"]
        );
    }

    #[test]
    fn bad_values_are_errors_and_stay() {
        let d = one(json!({
            "id": {"x": 1}, "srcip": "10.0.0.0/8", "itype": "mal_ip", "value_type": "ip",
            "added_at": "yesterday", "date_first": 5, "confidence": "high", "lat": "NaN", "lon": 2,
            "asn": "n/a", "org": ["o"], "url": "foo://a b", "detail": {"a": 1}, "classification": 1,
            "severity": 7, "trusted_circle_ids": {"x": 1}
        }));
        let errors: Vec<&str> = d["_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        for want in [
            "cannot parse `json.added_at` as a date: `yesterday`",
            "cannot parse `json.date_first` as a date: `5`",
            "cannot read `json.confidence` as a confidence score: `high`",
            "cannot read `json.lat` as a latitude: `NaN`",
            "cannot read `json.asn` as an as number: `n/a`",
            "cannot read `json.org` as a string: `[\"o\"]`",
            "cannot parse `json.srcip` as an ip address: `10.0.0.0/8` (a network range, not an address)",
            "cannot parse `json.url` as a url: `foo://a b`",
            "cannot read `json.detail` as a list of tags: `{\"a\":1}`",
            "cannot read `json.classification` as a classification: `1`",
            "cannot read `json.severity` as a severity word: `7`",
            "cannot read `json.trusted_circle_ids` as a list of ids: `{\"x\":1}`",
            "cannot read `json.id` as an id: `{\"x\":1}`",
        ] {
            assert!(errors.contains(&want), "missing {want:?} in {errors:#?}");
        }
        let kept = &d["anomali"]["threatstream"];
        for f in [
            "srcip",
            "added_at",
            "date_first",
            "lat",
            "asn",
            "org",
            "url",
            "detail",
            "id",
        ] {
            assert!(
                kept.get(f).is_some(),
                "{f} should stay in anomali.threatstream: {kept}"
            );
        }
        assert_eq!(d["threat"]["indicator"]["type"], "ipv4-addr");
    }

    #[test]
    fn nulls_and_odd_scalars_never_panic() {
        let fields = [
            "id",
            "itype",
            "value_type",
            "srcip",
            "domain",
            "url",
            "email",
            "md5",
            "added_at",
            "deleted_at",
            "date_first",
            "date_last",
            "lat",
            "lon",
            "classification",
            "confidence",
            "asn",
            "org",
            "country",
            "source",
            "severity",
            "trusted_circle_ids",
            "detail",
            "state",
            "source_feed_id",
            "update_id",
            "import_session_id",
        ];
        let odd = [
            json!(null),
            json!(""),
            json!(1e308),
            json!(-1),
            json!(true),
            json!([]),
            json!({}),
            json!("[::1]:80"),
            json!(u64::MAX),
        ];
        for f in fields {
            for v in &odd {
                let mut o = Map::new();
                o.insert(f.to_string(), v.clone());
                let _ = one(Value::Object(o));
            }
        }
    }

    #[test]
    fn a_record_without_a_value_is_an_error() {
        let d = one(json!({"id": 1, "itype": "mal_ip", "value_type": "ip"}));
        assert_eq!(
            d["_errors"],
            json!([format!(
                "{NO_VALUE}: none of `json.srcip`, `json.domain`, `json.url`, `json.email`, `json.md5` holds one"
            )])
        );
        assert_eq!(d["threat"]["indicator"]["type"], "ipv4-addr");
    }

    #[test]
    fn subject_lines_are_not_users() {
        let d = one(
            json!({"id": 1, "itype": "apt_subject", "value_type": "email", "email": "Invoice due"}),
        );
        assert_eq!(d["threat"]["indicator"]["type"], "email");
        assert_eq!(d["threat"]["indicator"]["email"]["address"], "Invoice due");
        assert_eq!(d.get("related"), None);
    }

    #[test]
    fn severity_scale_option() {
        let mut o = opts();
        o.severity_scale = crate::SeverityScale::Detection;
        let d = run_with(json!({"severity": "high", "id": 1}), "90d", &o).remove(0);
        assert_eq!(d["event"]["severity"], 73);
    }

    #[test]
    fn key_falls_back_to_the_value() {
        let ctx_opts = opts();
        let ctx = Ctx {
            opts: &ctx_opts,
            duration: "90d",
            duration_from_conf: false,
            preserve: false,
        };
        let mut out = Vec::new();
        map(
            json!({"value_type": "domain", "domain": "k.test"}).into(),
            &ctx,
            &mut out,
        );
        assert_eq!(
            out[0].key.as_deref(),
            Some("ti_anomali.threatstream:value:k.test")
        );
    }
}
