//! The benchmark corpus: realistic records generated from a fixed seed, so every run (and
//! every machine) measures the very same bytes.
//!
//! Shapes follow the vendors' documented formats and Elastic's fixtures
//! (`shared/reference/elastic/*`): ThreatStream pushes (flat indicator objects, some inside
//! Elastic's `message` envelope), ThreatStream API v2 intelligence objects, MISP
//! `/attributes/restSearch` attributes (with `Event`, `Object`, `Tag`, `decay_score`), MISP
//! post-split event records and whole MISP events. Sizes follow real feeds: most records
//! 0.3–2 KB, whole events from a handful to hundreds of attributes. Names come in the
//! vendors' orders ([`Keys`]), not sorted: a reader that sorts names pays for it here as it
//! does on real records.

use serde_json::{Value, json};

/// A small deterministic generator (SplitMix64): no external crate, same stream everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }

    /// True with probability `pct` %.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }

    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    fn word(&mut self) -> &'static str {
        self.pick(WORDS)
    }

    /// `lo..hi` words.
    fn words(&mut self, lo: u64, hi: u64) -> String {
        let n = self.range(lo, hi);
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }

    /// A coordinate in `-max..max`, three decimals.
    fn coord(&mut self, max: u64) -> f64 {
        (self.range(0, 2 * max * 1000) as f64 - (max * 1000) as f64) / 1000.0
    }

    fn ipv4(&mut self) -> String {
        let v = self.next();
        format!(
            "{}.{}.{}.{}",
            1 + (v & 0xdf) as u8,
            (v >> 8) as u8,
            (v >> 16) as u8,
            1 + (v >> 24) as u8 % 254
        )
    }

    fn domain(&mut self) -> String {
        format!(
            "{}-{}{}.{}",
            self.word(),
            self.word(),
            self.range(1, 999),
            self.pick(TLDS)
        )
    }

    fn url(&mut self) -> String {
        let host = self.domain();
        let path = (0..self.range(1, 4))
            .map(|_| self.word())
            .collect::<Vec<_>>()
            .join("/");
        match self.range(0, 4) {
            0 => format!("http://{host}/{path}"),
            1 => format!("https://{host}/{path}.php?id={}", self.range(1, 99999)),
            2 => format!("https://{host}:8443/{path}/"),
            _ => format!("http://{}/{path}.exe", self.ipv4()),
        }
    }

    fn email(&mut self) -> String {
        format!("{}.{}@{}", self.word(), self.word(), self.domain())
    }

    /// An ISO date in 2024–2025, with milliseconds and `Z`.
    fn iso(&mut self) -> String {
        format!(
            "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.range(1, 13),
            self.range(1, 29),
            self.range(0, 24),
            self.range(0, 60),
            self.range(0, 60),
            self.range(0, 1000)
        )
    }

    /// Epoch seconds in 2025, as MISP sends them (a string).
    fn epoch(&mut self) -> String {
        self.range(1_735_689_600, 1_767_225_600).to_string()
    }
}

const WORDS: &[&str] = &[
    "alpha", "bravo", "cobalt", "delta", "emotet", "falcon", "gamma", "hydra", "invoice",
    "juniper", "kestrel", "lumen", "mirai", "nimbus", "orion", "payload", "quasar", "raven",
    "stealer", "trojan", "update", "vector", "wallet", "xenon", "yellow", "zephyr", "login",
    "secure", "account", "bank", "cdn", "static", "mail", "portal", "verify", "office",
];
const TLDS: &[&str] = &[
    "com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "biz",
];
const SEVERITIES: &[&str] = &["low", "medium", "high", "very-high"];
const COUNTRIES: &[&str] = &["US", "RU", "CN", "NL", "DE", "BR", "UA", "FR", "GB", "IN"];
const SOURCES: &[&str] = &[
    "Analyst",
    "Emerging Threats - Compromised",
    "Abuse.ch Feodo",
    "Phishtank",
    "Default Organization",
    "Anomali Labs Malware Domains",
];
const MISP_TAGS: &[&str] = &[
    "tlp:white",
    "tlp:green",
    "tlp:amber",
    "type:OSINT",
    "osint:source-type=\"blog-post\"",
    "misp-galaxy:threat-actor=\"Sofacy\"",
    "misp-galaxy:mitre-attack-pattern=\"Spearphishing Link - T1566.002\"",
    "admiralty-scale:source-reliability=\"b\"",
    "estimative-language:likelihood-probability=\"likely\"",
];
const MISP_CATEGORIES: &[&str] = &[
    "Network activity",
    "Payload delivery",
    "Artifacts dropped",
    "External analysis",
];

/// An indicator value for a ThreatStream `value_type`: (itype, value_type, value field, value).
fn ts_indicator(r: &mut Rng) -> (String, &'static str, &'static str, String) {
    let class = r.pick(&[
        "mal", "c2", "phish", "apt", "bot", "spam", "scan", "exploit",
    ]);
    match r.range(0, 10) {
        0..=3 => (format!("{class}_ip"), "ip", "srcip", r.ipv4()),
        4..=5 => (format!("{class}_domain"), "domain", "domain", r.domain()),
        6..=7 => (format!("{class}_url"), "url", "url", r.url()),
        8 => (format!("{class}_email"), "email", "email", r.email()),
        _ => (format!("{class}_md5"), "md5", "md5", r.hex(32)),
    }
}

/// The order a vendor writes an object's names in (`Elastic's fixtures` show each).
#[derive(Clone, Copy)]
pub enum Keys {
    /// By name: Elastic's agent (its post-split MISP events; Go writes a map sorted).
    Sorted,
    /// These names first, in this order, any others after them by name: MISP's and the
    /// ThreatStream API's fixed orders.
    Ranked(&'static [&'static str]),
    /// An order of its own for each object: the ThreatStream Integrator's pushes (Python
    /// dicts; no two of Elastic's sample pushes share one).
    Shuffled,
}

/// MISP's order of the names of an attribute, an event and what they hold
/// (`/attributes/restSearch`, `/events/restSearch`; Elastic's MISP fixtures).
pub const MISP_KEYS: &[&str] = &[
    "id",
    "event_id",
    "object_id",
    "object_relation",
    "orgc_id",
    "org_id",
    "category",
    "type",
    "date",
    "threat_level_id",
    "info",
    "published",
    "value",
    "to_ids",
    "uuid",
    "attribute_count",
    "analysis",
    "timestamp",
    "distribution",
    "proposal_email_lock",
    "locked",
    "publish_timestamp",
    "sharing_group_id",
    "comment",
    "deleted",
    "disable_correlation",
    "first_seen",
    "last_seen",
    "extends_uuid",
    "event_creator_email",
    "name",
    "meta-category",
    "description",
    "template_uuid",
    "template_version",
    "colour",
    "exportable",
    "user_id",
    "hide_tag",
    "numerical_value",
    "is_galaxy",
    "is_custom_galaxy",
    "local",
    "score",
    "base_score",
    "decayed",
    "DecayingModel",
    "decay_score",
    "Event",
    "Org",
    "Orgc",
    "Attribute",
    "ShadowAttribute",
    "RelatedEvent",
    "Galaxy",
    "Object",
    "EventReport",
    "Tag",
];

/// The ThreatStream API v2's order of an intelligence object's names (Elastic's
/// intelligence fixture).
pub const API_KEYS: &[&str] = &[
    "target_industry",
    "source",
    "threatscore",
    "threat_type",
    "trusted_circle_ids",
    "description",
    "workgroups",
    "sort",
    "resource_uri",
    "modified_ts",
    "update_id",
    "source_reported_confidence",
    "type",
    "uuid",
    "feed_id",
    "retina_confidence",
    "created_ts",
    "id",
    "value",
    "itype",
    "org",
    "confidence",
    "expiration_ts",
    "owner_organization_id",
    "meta",
    "is_anonymous",
    "is_public",
    "asn",
    "status",
    "tags",
    "can_add_public_tags",
    "subtype",
    "tlp",
    "created_by",
    "rdns",
    "is_editable",
    "locations",
    "source_locations",
];

/// `v` as JSON text (compact, as `serde_json` writes it) with its objects' names in the
/// order `keys` says; `order` draws the shuffled orders.
pub fn text(v: &Value, keys: Keys, order: &mut Rng) -> String {
    let mut out = String::new();
    write(v, keys, order, &mut out);
    out
}

fn write(v: &Value, keys: Keys, order: &mut Rng, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut names: Vec<&String> = m.keys().collect();
            match keys {
                Keys::Sorted => {}
                // stable: names not in the list stay by name, after the others
                Keys::Ranked(list) => {
                    names.sort_by_key(|k| list.iter().position(|l| l == k).unwrap_or(list.len()))
                }
                Keys::Shuffled => {
                    for i in (1..names.len()).rev() {
                        names.swap(i, order.range(0, i as u64 + 1) as usize);
                    }
                }
            }
            out.push('{');
            for (i, k) in names.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                write(&m[k], keys, order, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, keys, order, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// One ThreatStream push record as text: the indicator's names in an order of their own,
/// a quarter of them inside Elastic's `{"message": …, "tags": […]}` envelope.
pub fn threatstream_text(r: &mut Rng, order: &mut Rng) -> String {
    let (m, wrapped) = threatstream(r);
    let indicator = text(&m, Keys::Shuffled, order);
    if wrapped {
        // as Elastic's agent ships it: the indicator as text under `message`, with tags
        return json!({"message": indicator, "tags": ["forwarded", "anomali-threatstream"]})
            .to_string();
    }
    indicator
}

/// One ThreatStream push record (what the Elastic Extension posts), ~0.5–1.5 KB, and
/// whether it comes inside Elastic's envelope.
fn threatstream(r: &mut Rng) -> (Value, bool) {
    let (itype, value_type, field, value) = ts_indicator(r);
    let mut detail: Vec<String> = (0..r.range(0, 6)).map(|_| r.word().to_string()).collect();
    if r.chance(20) {
        detail.push(format!("{}-sig-id-{}", r.word(), r.range(1000, 99_999_999)));
    }
    let mut m = json!({
        "added_at": r.iso(),
        "classification": r.pick(&["private", "public"]),
        "confidence": r.range(0, 101),
        "date_first": r.iso(),
        "date_last": r.iso(),
        "detail": detail.join(","),
        "detail2": format!("imported by user {}", r.range(1, 900)),
        "id": r.range(100_000_000, 2_000_000_000),
        "import_session_id": r.range(1, 9999),
        "itype": itype,
        "maltype": r.word(),
        "resource_uri": format!("/api/v1/intelligence/{}/", r.range(100_000, 999_999_999)),
        "severity": r.pick(SEVERITIES),
        "source": r.pick(SOURCES),
        "source_feed_id": r.range(0, 5000),
        "state": if r.chance(90) { "active" } else { "inactive" },
        "trusted_circle_ids": format!("{},{}", r.range(1, 20000), r.range(1, 20000)),
        "update_id": r.range(100_000_000, 9_000_000_000),
        "value_type": value_type,
        field: value,
    });
    if value_type == "ip" {
        m["country"] = json!(r.pick(COUNTRIES));
        m["lat"] = json!(r.coord(60));
        m["lon"] = json!(r.coord(170));
        m["asn"] = json!(r.range(1000, 65000).to_string());
        m["org"] = json!(format!("{} {} Ltd", r.word(), r.word()));
    }
    if r.chance(15) {
        m["expiration_ts"] = json!(r.iso());
    }
    let wrapped = r.chance(25);
    (m, wrapped)
}

/// One ThreatStream REST API v2 intelligence object, ~1–2 KB.
pub fn intelligence(r: &mut Rng) -> Value {
    let (itype, value_type, _, value) = ts_indicator(r);
    let kind = if value_type == "md5" {
        "hash"
    } else {
        value_type
    };
    let tags: Vec<Value> = (0..r.range(0, 5))
        .map(|_| json!({"id": r.hex(8), "name": r.word(), "org_id": r.range(1, 900), "tlp": "red"}))
        .collect();
    let mut m = json!({
        "asn": if kind == "ip" { r.range(1000, 65000).to_string() } else { String::new() },
        "can_add_public_tags": true,
        "confidence": r.range(0, 101),
        "country": if kind == "ip" { Value::from(r.pick(COUNTRIES)) } else { Value::Null },
        "created_by": Value::Null,
        "created_ts": r.iso(),
        "description": if r.chance(30) { Value::from(r.words(5, 30)) } else { Value::Null },
        "expiration_ts": r.iso(),
        "feed_id": r.range(0, 500),
        "id": r.range(100_000_000, 2_000_000_000),
        "is_anonymous": false,
        "is_editable": false,
        "is_public": r.chance(50),
        "itype": itype,
        "locations": [],
        "meta": {"detail2": format!("bifocals_deactivated_on_{}", r.iso()), "severity": r.pick(SEVERITIES)},
        "modified_ts": r.iso(),
        "org": if kind == "ip" { format!("{} Telecom", r.word()) } else { String::new() },
        "owner_organization_id": r.range(1, 900),
        "rdns": Value::Null,
        "resource_uri": format!("/api/v2/intelligence/{}/", r.range(100_000, 999_999_999)),
        "retina_confidence": -1,
        "source": r.pick(SOURCES),
        "source_locations": [],
        "source_reported_confidence": r.range(0, 101),
        "status": if r.chance(85) { "active" } else { "inactive" },
        "subtype": Value::Null,
        "tags": tags,
        "target_industry": [],
        "threat_type": r.pick(&["malware", "phish", "c2", "apt", "spam"]),
        "threatscore": r.range(0, 101),
        "tlp": r.pick(&["red", "amber", "green", "white"]),
        "trusted_circle_ids": Value::Null,
        "type": kind,
        "update_id": r.range(100_000_000, 9_000_000_000),
        "uuid": r.uuid(),
        "value": value,
        "workgroups": [],
    });
    if kind == "ip" {
        m["latitude"] = json!(r.coord(60));
        m["longitude"] = json!(r.coord(170));
    }
    m
}

/// A MISP attribute value for one of the common types: (type, category, value).
fn misp_value(r: &mut Rng) -> (&'static str, &'static str, String) {
    match r.range(0, 12) {
        0..=2 => ("ip-dst", "Network activity", r.ipv4()),
        3 => ("ip-src", "Network activity", r.ipv4()),
        4..=5 => ("domain", "Network activity", r.domain()),
        6..=7 => ("url", "Network activity", r.url()),
        8 => ("md5", "Payload delivery", r.hex(32)),
        9 => ("sha256", "Payload delivery", r.hex(64)),
        10 => ("email-src", "Payload delivery", r.email()),
        _ => (
            "filename|md5",
            "Payload delivery",
            format!("{}.exe|{}", r.word(), r.hex(32)),
        ),
    }
}

fn misp_attribute_core(r: &mut Rng, event_id: &str, object_id: u64) -> Value {
    let id = r.range(1, 9_999_999);
    let (ty, category, value) = misp_value(r);
    json!({
        "id": id.to_string(),
        "event_id": event_id,
        "object_id": object_id.to_string(),
        "object_relation": if object_id == 0 { Value::Null } else { Value::from(r.pick(&["ip", "domain", "url", "md5", "sha256"])) },
        "category": if r.chance(80) { category } else { r.pick(MISP_CATEGORIES) },
        "type": ty,
        "value": value,
        "to_ids": r.chance(70),
        "uuid": r.uuid(),
        "timestamp": r.epoch(),
        "distribution": r.range(0, 6).to_string(),
        "sharing_group_id": "0",
        "comment": if r.chance(40) { r.words(2, 12) } else { String::new() },
        "deleted": false,
        "disable_correlation": false,
        "first_seen": if r.chance(30) { Value::from(format!("{}000000", r.epoch())) } else { Value::Null },
        "last_seen": if r.chance(30) { Value::from(format!("{}000000", r.epoch())) } else { Value::Null },
    })
}

fn misp_tags(r: &mut Rng, lo: u64, hi: u64) -> Vec<Value> {
    let n = r.range(lo, hi);
    (0..n)
        .map(|i| {
            json!({"id": (i + 1).to_string(), "name": r.pick(MISP_TAGS), "colour": format!("#{}", r.hex(6)),
                   "exportable": true, "hide_tag": false, "is_galaxy": false, "local": 0})
        })
        .collect()
}

fn misp_event_head(r: &mut Rng, id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "org_id": r.range(1, 50).to_string(),
        "orgc_id": r.range(1, 50).to_string(),
        "distribution": r.range(0, 4).to_string(),
        "info": format!("{} campaign {}", r.word(), r.words(1, 6)),
        "uuid": r.uuid(),
        "date": format!("2025-{:02}-{:02}", r.range(1, 13), r.range(1, 29)),
        "published": r.chance(80),
        "analysis": r.range(0, 3).to_string(),
        "attribute_count": r.range(1, 500).to_string(),
        "timestamp": r.epoch(),
        "sharing_group_id": "0",
        "proposal_email_lock": false,
        "locked": false,
        "threat_level_id": r.range(1, 5).to_string(),
        "publish_timestamp": r.epoch(),
        "sighting_timestamp": "0",
        "disable_correlation": false,
        "extends_uuid": "",
        "event_creator_email": format!("{}@{}", r.word(), r.domain()),
        "Org": {"id": "1", "name": "ORGNAME", "uuid": r.uuid(), "local": true},
        "Orgc": {"id": "2", "name": r.pick(&["CIRCL", "ESET", "abuse.ch", "CERT-EU"]), "uuid": r.uuid(), "local": false},
    })
}

/// One attribute as `/attributes/restSearch` returns it, ~0.8–2 KB.
pub fn misp_attribute(r: &mut Rng) -> Value {
    let event_id = r.range(1, 99_999).to_string();
    let in_object = r.chance(30);
    let object_id = if in_object { r.range(1, 99_999) } else { 0 };
    let mut a = misp_attribute_core(r, &event_id, object_id);
    a["Event"] = json!({
        "id": event_id, "org_id": "1", "distribution": "3", "info": r.words(2, 8),
        "orgc_id": "2", "uuid": r.uuid(), "publish_timestamp": r.epoch(),
    });
    if in_object {
        a["Object"] = json!({"id": object_id.to_string(), "distribution": "5", "sharing_group_id": "0",
            "name": r.pick(&["file", "domain-ip", "url", "email"]), "meta-category": "network"});
    }
    let tags = misp_tags(r, 0, 5);
    if !tags.is_empty() {
        a["Tag"] = Value::from(tags);
    }
    let models = r.range(0, 3);
    if models > 0 {
        a["decay_score"] = (0..models)
            .map(|_| {
                json!({"score": r.range(0, 10000) as f64 / 100.0, "base_score": r.range(20, 100),
                       "decayed": r.chance(20),
                       "DecayingModel": {"id": r.range(1, 20).to_string(), "name": format!("{} model", r.word())}})
            })
            .collect::<Vec<_>>()
            .into();
    }
    a
}

/// One post-split `ti_misp.threat` record, as Elastic's agent produces it (one attribute,
/// maybe one object), ~1.5–3 KB.
pub fn misp_event_split(r: &mut Rng) -> Value {
    let id = r.range(1, 99_999);
    let mut ev = misp_event_head(r, id);
    let eid = id.to_string();
    ev["Tag"] = Value::from(misp_tags(r, 1, 5));
    ev["Attribute"] = misp_attribute_core(r, &eid, 0);
    if r.chance(30) {
        let oid = r.range(1, 99_999);
        ev["Object"] = json!({
            "id": oid.to_string(), "name": "file", "meta-category": "file",
            "description": "File object describing a file with meta-information",
            "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215", "template_version": "22",
            "event_id": eid, "uuid": r.uuid(), "timestamp": r.epoch(), "distribution": "5",
            "sharing_group_id": "0", "comment": "", "deleted": false,
            "first_seen": Value::Null, "last_seen": Value::Null,
            "Attribute": misp_attribute_core(r, &eid, oid),
        });
    }
    json!({ "Event": ev })
}

/// One whole MISP event (`{"Event":{…}}`) with `attributes` top-level attributes and about
/// a fifth as many objects of three attributes each.
pub fn misp_event_whole(r: &mut Rng, attributes: u64) -> Value {
    let id = r.range(1, 99_999);
    let mut ev = misp_event_head(r, id);
    let eid = id.to_string();
    ev["Tag"] = Value::from(misp_tags(r, 1, 6));
    ev["Galaxy"] = json!([]);
    ev["Attribute"] = (0..attributes)
        .map(|_| misp_attribute_core(r, &eid, 0))
        .collect::<Vec<_>>()
        .into();
    ev["Object"] = (0..attributes / 5)
        .map(|_| {
            let oid = r.range(1, 99_999);
            json!({
                "id": oid.to_string(), "name": "domain-ip", "meta-category": "network",
                "template_version": "9", "event_id": eid, "uuid": r.uuid(), "timestamp": r.epoch(),
                "distribution": "5", "sharing_group_id": "0", "comment": "", "deleted": false,
                "Attribute": (0..3).map(|_| misp_attribute_core(r, &eid, oid)).collect::<Vec<_>>(),
            })
        })
        .collect::<Vec<_>>()
        .into();
    json!({ "Event": ev })
}

/// Number of attributes of the `i`-th whole event: mostly small, some with hundreds.
pub fn event_size(r: &mut Rng) -> u64 {
    match r.range(0, 20) {
        0..=11 => r.range(1, 20),
        12..=17 => r.range(20, 100),
        _ => r.range(100, 800),
    }
}

/// A whole `/attributes/restSearch` response of at least `bytes` bytes, written in pieces.
/// Returns the documents it gives (one per attribute).
pub fn attribute_response(
    r: &mut Rng,
    bytes: usize,
    out: &mut impl std::io::Write,
) -> std::io::Result<usize> {
    response(
        r,
        bytes,
        out,
        ("{\"response\":{\"Attribute\":[", "]}}"),
        |r| (text(&misp_attribute(r), Keys::Ranked(MISP_KEYS), r), 1),
    )
}

/// A whole `/events/restSearch` response (`{"response":[{"Event":…},…]}`) of at least
/// `bytes` bytes, written in pieces: events sized as [`event_size`] draws them. Returns
/// the documents it gives (one per attribute, object attributes included).
pub fn event_response(
    r: &mut Rng,
    bytes: usize,
    out: &mut impl std::io::Write,
) -> std::io::Result<usize> {
    response(r, bytes, out, ("{\"response\":[", "]}"), |r| {
        let size = event_size(r);
        let docs = usize::try_from(size + size / 5 * 3).unwrap_or(usize::MAX);
        (
            text(&misp_event_whole(r, size), Keys::Ranked(MISP_KEYS), r),
            docs,
        )
    })
}

/// Items from `item` (its JSON and the documents it gives) written between `open` and
/// `close`, comma-separated, until at least `bytes` bytes; returns the documents.
fn response(
    r: &mut Rng,
    bytes: usize,
    out: &mut impl std::io::Write,
    (open, close): (&str, &str),
    mut item: impl FnMut(&mut Rng) -> (String, usize),
) -> std::io::Result<usize> {
    out.write_all(open.as_bytes())?;
    let (mut written, mut docs) = (0, 0usize);
    while written < bytes {
        if written > 0 {
            out.write_all(b",")?;
        }
        let (json, n) = item(r);
        out.write_all(json.as_bytes())?;
        written += json.len() + 1;
        docs = docs.saturating_add(n);
    }
    out.write_all(close.as_bytes())?;
    Ok(docs)
}
