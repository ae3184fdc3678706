//! `ti_anomali.intelligence`: ThreatStream REST API v2 intelligence objects.
//!
//! # Input
//!
//! One object of `GET /api/v2/intelligence/` (Elastic's agent wraps each as
//! `{"json": …}`), a whole response page `{"meta": …, "objects": […]}`, or a JSON array of
//! objects: one document per object, each keeping its own object as `event.original`.
//! A page item that is not an object becomes an error document keeping that item. A
//! page with no objects yields no documents. The error event Elastic's agent emits for a
//! failed request (`{"error": {"code", "id", "message"}}`) becomes an error document.
//!
//! # ECS fields set
//!
//! - `event.kind: enrichment`, `event.category: [threat]`, `event.type: [indicator]`,
//!   `event.severity` from `meta.severity`, `event.created` = `created_ts` (as sent).
//! - `threat.indicator.type` from `itype` (see [`super::itype`]), else from `type`;
//!   `ipv6-addr` for IPv6 addresses. `threat.indicator.name` = `value`.
//! - By `type`: `email` → `.email.address` + `related.user`; `domain` → `.url.domain` +
//!   `related.hosts`; `url` → `.url.*` (Elasticsearch `uri_parts` form); `md5` →
//!   `.file.hash.<subtype>` + `related.hash`; `ip` / `ipv6` → `.ip` when `ip` is absent.
//!   itypes ending `_ssdeep` → `.file.hash.ssdeep`, `_file_name` → `.file.path`.
//! - `.ip` + `related.ip` (`ip`), `.modified_at`, `.provider` (`source`), `.confidence`
//!   (word), `.marking.tlp` (scalar: `tlp` uppercased, else `is_public` → WHITE / AMBER),
//!   `.geo.location` (both `latitude` and `longitude`), `.geo.country_iso_code`,
//!   `.as.number`, `.as.organization.name`, `.description`.
//! - `tags`: the `tags[].name` values. `@timestamp`: the time of ingest (`now`).
//! - Everything else stays under `anomali.threatstream` (`id`, `update_id`,
//!   `import_session_id` and `trusted_circle_ids` as strings; `meta.registrant_*` moved
//!   to `meta.registrant.*`); `created_by`, `description`, `locations`, `meta.detail`,
//!   `meta.detail2`, `modified_ts`, `resource_uri`, `sort`, `source_locations`,
//!   `target_industry`, `threatscore`, `workgroups`, `ip`, `subtype` and `tags` are
//!   removed once mapped.
//!
//! # Expiration
//!
//! `anomali.threatstream.deletion_scheduled_at` = min(now + IOC duration,
//! `expiration_ts`), and now when `status` is not `active` (Elastic ignores the status).
//! A bad duration falls back to 90 days with Elastic's message.
//!
//! # References
//!
//! `shared/reference/elastic/ti_anomali/BEHAVIOUR.md` §2b, §4, §5, §6, §7, §10; the
//! differences from Elastic are listed in `docs/PARITY-anomali.md`.

use std::borrow::Cow;

use crate::json::{Map, Value};

use super::common::{self, bad, peek_text, take_text};
use super::itype;
use crate::{Ctx, Doc, dates};

/// The data-set id, which also prefixes the IOC key.
pub const DATASET: &str = "ti_anomali.intelligence";

/// Elastic's message for a bad `ioc_duration_before_deletion`.
pub const BAD_DURATION: &str = "Invalid ioc_duration_before_deletion: using default of 90 days";

const NS: &str = "anomali.threatstream";

/// Fields Elastic removes after mapping (or without mapping them).
pub(super) const REMOVED: &[&str] = &[
    "created_by",
    "locations",
    "resource_uri",
    "sort",
    "source_locations",
    "target_industry",
    "threatscore",
    "workgroups",
];

/// Maps one record: an intelligence object, a response page, or a list of objects.
pub fn map<'v>(body: Value<'v>, ctx: &Ctx, out: &mut Vec<Doc<'v>>) {
    match body {
        Value::Object(mut page) if page.contains_key("objects") => match page.remove("objects") {
            Some(Value::Array(items)) => common::fan_out(items, "json.objects", ctx, out, object),
            Some(other) => {
                let mut d = Doc::new();
                d.error(bad("objects", "a list of intelligence objects", &other));
                out.push(d);
            }
            None => {}
        },
        Value::Object(j) if is_api_error(&j) => {
            let mut d = Doc::new();
            let e = j.get("error").map(common::show).unwrap_or_default();
            d.error(format!(
                "threatstream api request failed: `json.error` is `{e}`"
            ));
            out.push(d);
        }
        Value::Object(j) => out.push(object(j, ctx)),
        Value::Array(items) => common::fan_out(items, "json", ctx, out, object),
        other => out.push(common::not_an_object("json", &other)),
    }
}

/// The agent's error event: an `error` object and no indicator fields.
fn is_api_error<'v>(j: &Map<'v>) -> bool {
    j.get("error").is_some_and(Value::is_object)
        && !j.contains_key("value")
        && !j.contains_key("itype")
}

/// Maps one intelligence object.
fn object<'v>(mut j: Map<'v>, ctx: &Ctx) -> Doc<'v> {
    let mut d = Doc::new();
    let now = ctx.opts.now;
    d.enrichment();
    d.set("@timestamp", dates::fmt_es(now));

    // Times.
    if common::peek_date(&j, &mut d, "created_ts").is_some()
        && let Some(created) = j.remove("created_ts")
    {
        d.set("event.created", created);
    }
    common::move_date(
        &mut d,
        &mut j,
        "modified_ts",
        "threat.indicator.modified_at",
    );

    // Expiration.
    let dur = common::duration(ctx, &mut d, BAD_DURATION);
    let mut deletion = common::expiry(now, dur);
    if let Some(exp) = common::peek_date(&j, &mut d, "expiration_ts") {
        deletion = deletion.min(exp);
    }
    if common::inactive(j.get("status")) {
        deletion = deletion.min(now);
    }
    j.insert(
        "deletion_scheduled_at",
        Value::from(dates::fmt_es(deletion)),
    );

    // Type and value.
    let itype_text = peek_text(&j, &mut d, "itype");
    let kind = peek_text(&j, &mut d, "type");
    let value = j
        .get("value")
        .and_then(common::scalar_text)
        .filter(|s| !s.is_empty());
    if let Some(t) = indicator_type(
        itype_text.as_deref(),
        kind.as_deref(),
        value.as_deref(),
        j.get("ip"),
    ) {
        d.set("threat.indicator.type", t);
    }

    // Geo, TLP, confidence, AS.
    common::set_location(&mut d, &mut j, "latitude", "longitude");
    let tlp_sent = j.remove("tlp");
    match tlp(tlp_sent.as_ref(), j.get("is_public")) {
        Ok(Some(t)) => d.set("threat.indicator.marking.tlp", t),
        Ok(None) => {}
        Err(message) => d.error(message),
    }
    // a `tlp` that is not text stays as sent
    if let Some(t) = tlp_sent.filter(|t| !t.is_null() && !t.is_string()) {
        j.insert("tlp", t);
    }
    common::set_confidence(&mut d, &j, "confidence");
    common::set_asn(&mut d, &mut j, "asn");
    if let Some(org) = take_text(&mut j, &mut d, "org") {
        d.set("threat.indicator.as.organization.name", org);
    }
    if let Some(country) = take_text(&mut j, &mut d, "country") {
        d.set("threat.indicator.geo.country_iso_code", country);
    }
    common::set_ip(&mut d, &mut j, "ip");

    // The observable, by `type`.
    let subtype = take_text(&mut j, &mut d, "subtype");
    if value.is_none() {
        d.error(match j.get("value") {
            Some(v) => format!(
                "record has no indicator value: `json.value` is `{}`",
                common::show(v)
            ),
            None => "record has no indicator value: `json.value` is missing".to_string(),
        });
    }
    if let Some(v) = &value {
        match kind.as_deref() {
            Some("email") => {
                d.set("threat.indicator.email.address", v.clone());
                d.push_unique("related.user", v.clone());
            }
            Some("domain") => {
                d.set("threat.indicator.url.domain", v.clone());
                d.push_unique("related.hosts", v.clone());
            }
            Some("url") => {
                match crate::ecs::url::set_url_parts(&mut d, "threat.indicator.url", v) {
                    Ok(()) => {
                        let host = d.get_str("threat.indicator.url.domain").map(str::to_string);
                        if let Some(h) = host
                            .filter(|h| !h.starts_with('[') && crate::ecs::ip::parse(h).is_none())
                        {
                            d.push_unique("related.hosts", h);
                        }
                    }
                    Err(_) => d.error(format!(
                        "cannot parse `json.value` as a url: `{}`",
                        common::show(&Value::from(v.clone()))
                    )),
                }
            }
            Some("md5") => {
                let field = subtype
                    .as_deref()
                    .and_then(crate::ecs::hash::field_by_name)
                    .or_else(|| crate::ecs::hash::field_by_length(v));
                if let Some(f) = field {
                    d.set(&["threat.indicator.file.hash.", f].concat(), v.clone());
                }
                d.push_unique("related.hash", v.clone());
            }
            Some("ip" | "ipv6")
                if d.get("threat.indicator.ip").is_none() && crate::ecs::ip::parse(v).is_some() =>
            {
                d.set("threat.indicator.ip", v.clone());
                d.push_unique("related.ip", v.clone());
            }
            _ => {}
        }
        d.set("threat.indicator.name", v.clone());
        if let Some(t) = itype_text.as_deref() {
            if t.ends_with("_ssdeep") {
                d.set("threat.indicator.file.hash.ssdeep", v.clone());
                d.push_unique("related.hash", v.clone());
            } else if t.ends_with("_file_name") {
                d.set("threat.indicator.file.path", v.clone());
            }
        }
    }

    if let Some(source) = take_text(&mut j, &mut d, "source") {
        d.set("threat.indicator.provider", source);
    }
    if let Some(desc) = take_text(&mut j, &mut d, "description") {
        d.set("threat.indicator.description", desc);
    }
    common::stringify(&mut j, &mut d, "import_session_id");
    common::circle_ids(&mut j, &mut d, "trusted_circle_ids");
    let severity = j.get("meta").and_then(|m| m.get("severity"));
    common::set_severity(&mut d, severity, "meta.severity", ctx.opts.severity_scale);
    tags(&mut d, &mut j);
    common::stringify(&mut j, &mut d, "id");
    common::stringify(&mut j, &mut d, "update_id");
    d.key = Some(common::key(DATASET, j.get("id"), value.as_deref()));
    meta(&mut d, &mut j);
    for f in REMOVED {
        j.remove(f);
    }
    d.set(NS, Value::Object(j));
    d
}

/// `threat.indicator.type` of an object: from its `itype`, else its `type`; for an
/// address, the family of its `value`, else of its `ip`.
pub(super) fn indicator_type(
    itype_text: Option<&str>,
    kind: Option<&str>,
    value: Option<&str>,
    ip: Option<&Value<'_>>,
) -> Option<&'static str> {
    let ti_type = itype_text
        .and_then(itype::indicator_type)
        .or_else(|| kind.and_then(itype::type_of_value_kind));
    if !matches!(ti_type, Some("ipv4-addr" | "ipv6-addr")) {
        return ti_type;
    }
    let address = value
        .filter(|v| crate::ecs::ip::parse(v).is_some())
        .or_else(|| ip.and_then(Value::as_str));
    address.map(crate::ecs::ip::indicator_type).or(ti_type)
}

/// `threat.indicator.marking.tlp` of an object: its `tlp` trimmed and uppercased, else
/// from `is_public` (`WHITE` when true, `AMBER` when false); `Err` with the message for
/// a `tlp` or an `is_public` of another kind.
pub(super) fn tlp(
    tlp: Option<&Value<'_>>,
    is_public: Option<&Value<'_>>,
) -> Result<Option<String>, String> {
    match tlp {
        Some(Value::String(t)) if !t.trim().is_empty() => Ok(Some(t.trim().to_uppercase())),
        None | Some(Value::Null) | Some(Value::String(_)) => match is_public {
            Some(Value::Bool(true)) => Ok(Some("WHITE".into())),
            Some(Value::Bool(false)) => Ok(Some("AMBER".into())),
            None | Some(Value::Null) => Ok(None),
            Some(other) => Err(bad("is_public", "a boolean", other)),
        },
        Some(other) => Err(bad("tlp", "a tlp colour", other)),
    }
}

/// The name of tag `i` of `tags` (an object's `name`, or a string); `Ok(None)` for
/// `null`, `Err` with the message for anything else.
pub(super) fn tag_name<'v>(i: usize, t: &Value<'v>) -> Result<Option<Cow<'v, str>>, String> {
    let name = match t {
        Value::Object(o) => o.get("name").and_then(common::scalar_text),
        Value::String(s) => Some(s.clone()),
        Value::Null => return Ok(None),
        _ => None,
    };
    name.map(Some).ok_or_else(|| {
        format!(
            "cannot read a tag name in `json.tags[{i}]`: `{}`",
            common::show(t)
        )
    })
}

/// `tags[].name` → `tags`; the field leaves `j` unless unreadable.
fn tags<'v>(d: &mut Doc<'v>, j: &mut Map<'v>) {
    match j.remove("tags") {
        Some(Value::Array(items)) => {
            for (i, t) in items.iter().enumerate() {
                match tag_name(i, t) {
                    Ok(Some(name)) => d.tag(name),
                    Ok(None) => {}
                    Err(message) => d.error(message),
                }
            }
        }
        None | Some(Value::Null) => {}
        Some(other) => {
            d.error(bad("tags", "a list of tags", &other));
            j.insert("tags", other);
        }
    }
}

/// `meta.registrant_*` → `meta.registrant.*` (email also to `related.user`); drops
/// `meta.detail` and `meta.detail2`.
fn meta<'v>(d: &mut Doc<'v>, j: &mut Map<'v>) {
    let Some(meta) = j.get_mut("meta") else {
        return;
    };
    let Value::Object(m) = meta else {
        if !meta.is_null() {
            d.error(bad("meta", "an object", meta));
        }
        return;
    };
    if let Some(email) = registrant(m) {
        d.push_unique("related.user", email);
    }
}

/// Moves `meta.registrant_*` to `meta.registrant.*` (unless `registrant` is there and
/// not an object) and drops `meta.detail` and `meta.detail2`, in `m`, the `meta`
/// object; the registrant's email, for `related.user`.
pub(super) fn registrant<'v>(m: &mut Map<'v>) -> Option<Cow<'v, str>> {
    m.remove("detail");
    m.remove("detail2");
    let mut registrant = match m.remove("registrant") {
        Some(Value::Object(r)) => r,
        Some(other) if !other.is_null() => {
            m.insert("registrant", other);
            return None;
        }
        _ => Map::new(),
    };
    for (field, part) in [
        ("registrant_address", "address"),
        ("registrant_email", "email"),
        ("registrant_name", "name"),
        ("registrant_org", "org"),
        ("registrant_phone", "phone"),
    ] {
        if let Some(v) = m.remove(field) {
            registrant.insert(part, v);
        }
    }
    let email = match registrant.get("email") {
        Some(Value::String(email)) if !email.is_empty() => Some(email.clone()),
        _ => None,
    };
    if !registrant.is_empty() {
        m.insert("registrant", Value::Object(registrant));
    }
    email
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

    fn run_with(v: Value, duration: &str) -> Vec<Value> {
        let o = opts();
        let ctx = Ctx {
            opts: &o,
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
                let original = d.original.clone();
                let key = d.key.clone();
                let (mut m, _, _) = d.into_parts();
                crate::doc::remove_empty(&mut m);
                m.insert("_errors".into(), json!(errors));
                m.insert("_tags".into(), json!(tags));
                m.insert("_original".into(), json!(original));
                m.insert("_key".into(), json!(key));
                Value::Object(m)
            })
            .collect()
    }

    fn v(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn one(v: Value) -> Value {
        run_with(v, "85d").remove(0)
    }

    fn mal_domain() -> Value {
        v(
            r#"{"target_industry": [], "source": "Analyst", "threatscore": 52, "threat_type": "malware",
            "trusted_circle_ids": null, "description": null, "workgroups": [], "sort": [358590378],
            "resource_uri": "/api/v2/intelligence/172122186/", "modified_ts": "2020-04-01T12:57:02.865Z",
            "update_id": 358590378, "country": "CN", "source_reported_confidence": 50, "latitude": 22.25,
            "import_session_id": 245, "type": "domain", "uuid": "90cb701f-7011-4583-bb88-bed24edb1b72",
            "feed_id": 0, "retina_confidence": 64, "created_ts": "2019-12-18T02:16:06.921Z", "id": 172122186,
            "value": "51web8.net", "itype": "mal_domain", "longitude": 114.1667, "org": "Alicloud-hk",
            "ip": "89.160.20.112", "confidence": 64, "expiration_ts": "2020-03-17T02:13:59.830Z",
            "owner_organization_id": 1, "meta": {"severity": "very-high",
                "registration_updated": "2019-06-23T04:32:13+00:00", "registrant_address": "hu bei",
                "registrant_name": "Registry Registrant ID: Not Available From Registry",
                "detail2": "bifocals_deactivated_on_2020-04-01_12:56:09.793344",
                "registration_created": "2013-05-16T03:52:08+00:00"},
            "is_anonymous": false, "is_public": true, "asn": "45102", "status": "inactive", "tags": null,
            "can_add_public_tags": true, "subtype": null, "tlp": null, "created_by": null, "rdns": null,
            "is_editable": false, "locations": [], "source_locations": []}"#,
        )
    }

    #[test]
    fn elastic_fixture_object() {
        let d = one(mal_domain());
        assert_eq!(
            d,
            v(r#"{
                "@timestamp": "2026-01-01T00:00:00.000Z",
                "anomali": {"threatstream": {
                    "can_add_public_tags": true, "confidence": 64,
                    "deletion_scheduled_at": "2020-03-17T02:13:59.830Z",
                    "expiration_ts": "2020-03-17T02:13:59.830Z", "feed_id": 0, "id": "172122186",
                    "import_session_id": "245", "is_anonymous": false, "is_editable": false, "is_public": true,
                    "itype": "mal_domain",
                    "meta": {"registrant": {"address": "hu bei",
                            "name": "Registry Registrant ID: Not Available From Registry"},
                        "registration_created": "2013-05-16T03:52:08+00:00",
                        "registration_updated": "2019-06-23T04:32:13+00:00", "severity": "very-high"},
                    "owner_organization_id": 1, "retina_confidence": 64, "source_reported_confidence": 50,
                    "status": "inactive", "threat_type": "malware", "type": "domain", "update_id": "358590378",
                    "uuid": "90cb701f-7011-4583-bb88-bed24edb1b72", "value": "51web8.net"}},
                "event": {"category": ["threat"], "created": "2019-12-18T02:16:06.921Z", "kind": "enrichment",
                    "severity": 9, "type": ["indicator"]},
                "related": {"hosts": ["51web8.net"], "ip": ["89.160.20.112"]},
                "threat": {"indicator": {
                    "as": {"number": 45102, "organization": {"name": "Alicloud-hk"}},
                    "confidence": "Medium",
                    "geo": {"country_iso_code": "CN", "location": {"lat": 22.25, "lon": 114.1667}},
                    "ip": "89.160.20.112", "marking": {"tlp": "WHITE"},
                    "modified_at": "2020-04-01T12:57:02.865Z", "name": "51web8.net", "provider": "Analyst",
                    "type": "domain-name", "url": {"domain": "51web8.net"}}},
                "_errors": [], "_tags": [], "_original": null, "_key": "ti_anomali.intelligence:172122186"
            }"#)
        );
    }

    #[test]
    fn deletion_schedule() {
        let base = json!({"id": 1, "value": "1.2.3.4", "type": "ip", "itype": "mal_ip", "status": "active"});
        let d = one(base.clone());
        assert_eq!(
            d["anomali"]["threatstream"]["deletion_scheduled_at"],
            "2026-03-27T00:00:00.000Z"
        );
        let mut far = base.clone();
        far["expiration_ts"] = json!("9999-12-31T00:00:00.000Z");
        assert_eq!(
            one(far)["anomali"]["threatstream"]["deletion_scheduled_at"],
            "2026-03-27T00:00:00.000Z"
        );
        let mut soon = base.clone();
        soon["expiration_ts"] = json!("2026-01-02T00:00:00Z");
        assert_eq!(
            one(soon)["anomali"]["threatstream"]["deletion_scheduled_at"],
            "2026-01-02T00:00:00.000Z"
        );
        let mut falsepos = base.clone();
        falsepos["status"] = json!("falsepos");
        assert_eq!(
            one(falsepos)["anomali"]["threatstream"]["deletion_scheduled_at"],
            "2026-01-01T00:00:00.000Z"
        );
        let d = run_with(base.clone(), "3x").remove(0);
        assert_eq!(
            d["anomali"]["threatstream"]["deletion_scheduled_at"],
            "2026-04-01T00:00:00.000Z"
        );
        let e = d["_errors"][0].as_str().unwrap();
        assert!(e.starts_with(BAD_DURATION) && e.contains("`3x`"), "{e}");
        let mut bad_exp = base;
        bad_exp["expiration_ts"] = json!("soon");
        assert_eq!(
            one(bad_exp)["_errors"],
            json!(["cannot parse `json.expiration_ts` as a date: `soon`"])
        );
    }

    #[test]
    fn pages_fan_out() {
        let page = json!({"meta": {"next": null, "limit": 3}, "objects": [
            {"id": 1, "value": "a.test", "type": "domain", "itype": "mal_domain"},
            "oops",
            {"id": 2, "value": "b@c.test", "type": "email", "itype": "phish_email"}
        ]});
        let docs = run_with(page, "90d");
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["threat"]["indicator"]["type"], "domain-name");
        assert_eq!(
            docs[0]["_original"],
            r#"{"id":1,"itype":"mal_domain","type":"domain","value":"a.test"}"#
        );
        assert_eq!(
            docs[1]["_errors"],
            json!(["cannot read json.objects[1] as an indicator object: `oops`"])
        );
        assert_eq!(docs[1]["_original"], "\"oops\"");
        assert_eq!(docs[2]["related"]["user"], json!(["b@c.test"]));
        assert_eq!(docs[2]["_key"], "ti_anomali.intelligence:2");
        assert!(run_with(json!({"meta": {}, "objects": []}), "90d").is_empty());
        let d = run_with(json!({"objects": {"a": 1}}), "90d").remove(0);
        assert_eq!(
            d["_errors"],
            json!(["cannot read `json.objects` as a list of intelligence objects: `{\"a\":1}`"])
        );
        // a null list is not an empty page: an error document, nothing dropped
        let d = run_with(json!({"meta": {}, "objects": null}), "90d").remove(0);
        assert_eq!(
            d["_errors"],
            json!(["cannot read `json.objects` as a list of intelligence objects: `null`"])
        );
        let arr = run_with(json!([{"id": 5}, {"id": 6}]), "90d");
        assert_eq!(arr.len(), 2);
    }

    #[test]
    fn api_error_event() {
        let d = run_with(
            json!({"error": {"code": "401", "id": "401 Unauthorized", "message": "GET x: denied"}}),
            "90d",
        )
        .remove(0);
        assert!(
            d["_errors"][0]
                .as_str()
                .unwrap()
                .starts_with("threatstream api request failed"),
            "{d}"
        );
    }

    #[test]
    fn types_tlp_and_hashes() {
        let d = one(
            json!({"id": 1, "type": "ipv6", "itype": "mal_ipv6", "value": "::e", "tlp": "amber", "is_public": true}),
        );
        assert_eq!(d["threat"]["indicator"]["type"], "ipv6-addr");
        assert_eq!(d["threat"]["indicator"]["marking"]["tlp"], "AMBER");
        assert_eq!(d["threat"]["indicator"]["ip"], "::e");
        let d = one(
            json!({"id": 1, "type": "md5", "itype": "mal_md5", "subtype": "SHA1",
            "value": "b97d099e6c132d19a47cf7e72840cac6c3ddd6dc", "is_public": false}),
        );
        assert_eq!(
            d["threat"]["indicator"]["file"]["hash"]["sha1"],
            "b97d099e6c132d19a47cf7e72840cac6c3ddd6dc"
        );
        assert_eq!(
            d["related"]["hash"],
            json!(["b97d099e6c132d19a47cf7e72840cac6c3ddd6dc"])
        );
        assert_eq!(d["threat"]["indicator"]["marking"]["tlp"], "AMBER");
        assert_eq!(d["anomali"]["threatstream"].get("subtype"), None);
        let d = one(
            json!({"id": 1, "type": "md5", "itype": "mal_md5", "subtype": null, "value": "a".repeat(64)}),
        );
        assert_eq!(
            d["threat"]["indicator"]["file"]["hash"]["sha256"],
            "a".repeat(64)
        );
        let d =
            one(json!({"id": 1, "type": "string", "itype": "mal_ssdeep", "value": "384:abc:def"}));
        assert_eq!(
            d["threat"]["indicator"]["file"]["hash"]["ssdeep"],
            "384:abc:def"
        );
        let d =
            one(json!({"id": 1, "type": "string", "itype": "mal_file_name", "value": "evil.exe"}));
        assert_eq!(d["threat"]["indicator"]["file"]["path"], "evil.exe");
        let d = one(
            json!({"id": 1, "type": "url", "itype": "c2_url", "value": "http://89.160.20.149/", "tlp": "clear"}),
        );
        assert_eq!(d["threat"]["indicator"]["url"]["domain"], "89.160.20.149");
        assert_eq!(d["threat"]["indicator"]["marking"]["tlp"], "CLEAR");
        assert_eq!(
            d["anomali"]["threatstream"]["value"],
            "http://89.160.20.149/"
        );
        assert_eq!(d.get("related"), None);
    }

    #[test]
    fn untyped_itypes_are_kept_without_error() {
        let d = one(json!({"id": 1, "type": "string", "itype": "apt_mta", "value": "mta.example"}));
        assert_eq!(d["threat"]["indicator"].get("type"), None);
        assert_eq!(d["threat"]["indicator"]["name"], "mta.example");
        assert_eq!(d["anomali"]["threatstream"]["value"], "mta.example");
        assert_eq!(d["_errors"], json!([]));
        let d =
            one(json!({"id": 1, "type": "domain", "itype": "future_domain", "value": "f.example"}));
        assert_eq!(d["threat"]["indicator"]["type"], "domain-name");
    }

    #[test]
    fn a_record_without_a_value_is_an_error() {
        let d = one(json!({"id": 1, "itype": "mal_ip", "type": "ip"}));
        assert_eq!(
            d["_errors"],
            json!(["record has no indicator value: `json.value` is missing"])
        );
        let d = one(json!({"id": 1, "itype": "mal_ip", "type": "ip", "value": {"a": 1}}));
        assert_eq!(
            d["_errors"],
            json!(["record has no indicator value: `json.value` is `{\"a\":1}`"])
        );
    }

    #[test]
    fn tags_and_registrant() {
        let d = one(
            json!({"id": 1, "value": "v", "tags": [{"id": "a", "name": "MalSpam"}, {"id": "b"}, "plain", 3],
            "meta": {"registrant_email": "r@x.test", "detail": "d", "severity": "low"}}),
        );
        assert_eq!(d["_tags"], json!(["MalSpam", "plain"]));
        assert_eq!(
            d["_errors"],
            json!([
                "cannot read a tag name in `json.tags[1]`: `{\"id\":\"b\"}`",
                "cannot read a tag name in `json.tags[3]`: `3`"
            ])
        );
        assert_eq!(
            d["anomali"]["threatstream"]["meta"],
            json!({"registrant": {"email": "r@x.test"}, "severity": "low"})
        );
        assert_eq!(d["related"]["user"], json!(["r@x.test"]));
        assert_eq!(d["event"]["severity"], 3);
    }

    #[test]
    fn bad_values_are_errors_and_stay() {
        let d = one(
            json!({"id": 1, "ip": "1.2.3.4:80", "created_ts": "never", "modified_ts": 17,
            "tlp": 3, "is_public": "yes", "latitude": 100, "longitude": 1, "asn": "?", "type": "url",
            "itype": "mal_url", "value": "custom:{x}", "meta": "m"}),
        );
        let errors: Vec<&str> = d["_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        for want in [
            "cannot parse `json.created_ts` as a date: `never`",
            "cannot parse `json.modified_ts` as a date: `17`",
            "cannot read `json.tlp` as a tlp colour: `3`",
            "cannot read `json.latitude` as a latitude: `100`",
            "cannot read `json.asn` as an as number: `?`",
            "cannot parse `json.ip` as an ip address: `1.2.3.4:80` (an address with a port)",
            "cannot parse `json.value` as a url: `custom:{x}`",
            "cannot read `json.meta` as an object: `m`",
        ] {
            assert!(errors.contains(&want), "missing {want:?} in {errors:#?}");
        }
        for f in [
            "ip",
            "created_ts",
            "modified_ts",
            "tlp",
            "latitude",
            "asn",
            "value",
        ] {
            assert!(
                d["anomali"]["threatstream"].get(f).is_some(),
                "{f} should stay"
            );
        }
    }

    #[test]
    fn nulls_and_odd_scalars_never_panic() {
        let fields = [
            "id",
            "itype",
            "type",
            "value",
            "subtype",
            "ip",
            "created_ts",
            "modified_ts",
            "expiration_ts",
            "latitude",
            "longitude",
            "tlp",
            "is_public",
            "confidence",
            "asn",
            "org",
            "country",
            "source",
            "meta",
            "tags",
            "trusted_circle_ids",
            "import_session_id",
            "update_id",
            "status",
            "description",
        ];
        let odd = [
            json!(null),
            json!(""),
            json!(1e308),
            json!(-1),
            json!(true),
            json!([]),
            json!({}),
            json!([{}]),
            json!(u64::MAX),
        ];
        for f in fields {
            for v in &odd {
                let mut o = Map::new();
                o.insert(f.to_string(), v.clone());
                o.insert("type".into(), json!("md5"));
                o.insert("value".into(), json!("x"));
                let _ = one(Value::Object(o));
            }
        }
        let _ = run_with(json!(42), "90d");
        let _ = run_with(json!(null), "90d");
    }
}
