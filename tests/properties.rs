//! Property tests of the core: for any bytes, any hostile-but-valid JSON and any options,
//! `ti_ecs::transform` never panics, returns JSON objects, is deterministic and accounts
//! for every record. The invariants themselves live in `fuzz/src/invariants.rs`, shared
//! with the fuzz targets and the cross-target property test in `host-tests`.
//!
//! A failure prints the shrunk record and options; keep it as a golden case
//! `host-tests/golden/<dataset>/hostile/regression-<slug>.input.json` (see
//! `docs/FUZZING.md`). Failures are not persisted to files. `PROPTEST_CASES=N` overrides
//! the case counts below, which keep the file under ~30 s in the dev profile.

#[path = "../fuzz/src/invariants.rs"]
mod invariants;

#[path = "support/proptest_config.rs"]
mod proptest_config;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest_config::config;
use serde_json::{Map, Value, json};
use ti_ecs::{Dataset, Limits, Options, SeverityScale};

const DATASETS: [Dataset; 4] = [
    Dataset::AnomaliThreatstream,
    Dataset::AnomaliIntelligence,
    Dataset::MispThreat,
    Dataset::MispThreatAttributes,
];

// ------------------------------------------------------------------ options

fn now() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        Just(DateTime::UNIX_EPOCH),
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        (-62_000_000_000i64..260_000_000_000i64, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or(DateTime::UNIX_EPOCH)),
    ]
}

fn limit(small: &'static [usize], default: usize) -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(default), 1 => proptest::sample::select(small)]
}

fn options() -> impl Strategy<Value = Options> {
    let d = Limits::default();
    let limits = (
        limit(&[0, 1, 16, 256, 4096], d.max_input_bytes),
        limit(
            &[0, 1, 2, 3, 8, 100, 127, 128, 129, 200, usize::MAX],
            d.max_depth,
        ),
        limit(&[0, 1, 2, 10], d.max_documents),
        limit(&[0, 1, 8, 64], d.max_string_bytes),
    )
        .prop_map(|(a, b, c, e)| Limits {
            max_input_bytes: a,
            max_depth: b,
            max_documents: c,
            max_string_bytes: e,
            fixed_in: None,
        });
    let duration = prop_oneof![
        3 => proptest::sample::select(invariants::DURATIONS).prop_map(str::to_string),
        1 => ".{0,6}",
    ];
    let tag = prop_oneof![
        proptest::sample::select(&["forwarded", "preserve_original_event", "", "a,b"][..])
            .prop_map(str::to_string),
        ".{0,5}",
    ];
    let raw_field = proptest::option::weighted(
        0.2,
        proptest::sample::select(&["payload", "a.b", "message", "event.original", "json", ""][..])
            .prop_map(str::to_string),
    );
    (
        now(),
        duration,
        proptest::collection::vec(tag, 0..3),
        any::<bool>(),
        raw_field,
        any::<bool>(),
        any::<bool>(),
        limits,
    )
        .prop_map(
            |(now, dur, tags, preserve, raw_field, detection, identity, limits)| {
                let mut o = Options::new(now);
                o.ioc_expiration_duration = dur;
                o.tags = tags;
                o.preserve_original_event = preserve;
                o.raw_field = raw_field;
                o.severity_scale = if detection {
                    SeverityScale::Detection
                } else {
                    SeverityScale::Fixture
                };
                o.identity = identity;
                o.limits = limits;
                o
            },
        )
}

// ------------------------------------------------------------------ hostile JSON

/// Strings that mappings trip over: dates, numbers, IPs, URLs, types, separators, control
/// and bidi characters.
const NASTY: &[&str] = &[
    "",
    " ",
    "null",
    "NaN",
    "inf",
    "-Infinity",
    "-0",
    "1e400",
    "0x10",
    "18446744073709551616",
    "-1",
    "1.5",
    "2020-10-08T12:22:11",
    "2020-10-08T12:22:11.860741",
    "2020-10-08T12:22:11+14:00",
    "0000-01-01T00:00:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T00:00:00.000Z",
    "+275760-09-13T00:00:00Z",
    "2021-13-01",
    "1503930272",
    "1581984000000000",
    "99999999999999999999",
    "89.160.20.156",
    "10.0.0.0/8",
    "[2001:db8::1]:443",
    "2001:db8::1",
    "fe80::1%eth0",
    "89.160.20.156:8080",
    "999.1.1.1",
    "http://bücher.例え.テスト/€/a b?q=ü#f",
    "http://xn--bcher-kva.example/%E2%82%AC/%2e%2e/%00?x=%zz",
    "http://[::1:80/",
    "//host/x.exe",
    "javascript:alert(1)",
    "http://u:p@h:99999/",
    "a@b@c",
    "f2679bdabe46e10edc6352fff3c829bc",
    "zz",
    "a|b",
    "|",
    "a||b|",
    "HKLM\\x|",
    "example.com|89.160.20.156",
    "89.160.20.156|99999",
    "tlp:white",
    "tlp:",
    ",,1,,x,",
    "\u{0}\u{1b}[31m\u{7f}",
    "\u{202e}evil",
    "\u{2028}",
    "é",
    "very-high",
    "private",
    "active",
];

/// Type words of both vendors, so the hostile records reach the per-type code.
const TYPES: &[&str] = &[
    "mal_ip",
    "mal_ipv6",
    "mal_domain",
    "mal_url",
    "mal_email",
    "mal_md5",
    "apt_ssdeep",
    "mal_file_name",
    "apt_mta",
    "suppress",
    "apt_subject",
    "crypto_pool",
    "ip",
    "ipv6",
    "domain",
    "url",
    "email",
    "md5",
    "string",
    "ip-src",
    "ip-dst",
    "ip-dst|port",
    "domain|ip",
    "hostname|port",
    "filename|md5",
    "filename|sha256",
    "md5",
    "sha1",
    "sha256",
    "ssdeep",
    "link",
    "uri",
    "email-src",
    "email-dst",
    "regkey",
    "regkey|value",
    "AS",
    "mutex",
    "filename",
    "x509-fingerprint-sha1",
    "btc",
    "text",
    "not-a-type",
];

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        proptest::sample::select(&[0.0, -0.0, 1e308, -1e308, 29.5, 69.5, 100.5, 5e-324][..])
            .prop_map(Value::from),
        (-200i64..200).prop_map(Value::from),
        (1_000_000_000i64..2_000_000_000).prop_map(Value::from),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        proptest::sample::select(NASTY).prop_map(Value::from),
        proptest::sample::select(TYPES).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        (1usize..400).prop_map(|n| Value::from("x".repeat(n))),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        proptest::sample::select(&["name", "id", "score", "decayed", "a", ""][..])
                            .prop_map(str::to_string),
                        ".{0,4}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// An object with some of `fields`, each holding a hostile value, a type word or a nested value.
fn record(fields: &'static [&'static str]) -> BoxedStrategy<Map<String, Value>> {
    proptest::collection::vec(
        (proptest::sample::select(fields), value()),
        0..fields.len().min(12),
    )
    .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    .boxed()
}

const TS_FIELDS: &[&str] = &[
    "added_at",
    "asn",
    "classification",
    "confidence",
    "country",
    "date_first",
    "date_last",
    "deleted_at",
    "detail",
    "detail2",
    "domain",
    "email",
    "id",
    "import_session_id",
    "itype",
    "lat",
    "lon",
    "maltype",
    "md5",
    "org",
    "resource_uri",
    "severity",
    "source",
    "source_feed_id",
    "srcip",
    "state",
    "trusted_circle_ids",
    "update_id",
    "url",
    "value_type",
];
const IN_FIELDS: &[&str] = &[
    "asn",
    "confidence",
    "country",
    "created_ts",
    "expiration_ts",
    "id",
    "import_session_id",
    "ip",
    "is_public",
    "itype",
    "latitude",
    "longitude",
    "meta",
    "modified_ts",
    "org",
    "source",
    "status",
    "subtype",
    "tags",
    "tlp",
    "trusted_circle_ids",
    "type",
    "update_id",
    "value",
    "threat_type",
    "uuid",
];
const ATTR_FIELDS: &[&str] = &[
    "category",
    "comment",
    "first_seen",
    "id",
    "last_seen",
    "object_relation",
    "timestamp",
    "to_ids",
    "type",
    "uuid",
    "value",
    "Tag",
    "event_id",
    "object_id",
    "decay_score",
    "Event",
    "Object",
    "distribution",
];
const EVENT_FIELDS: &[&str] = &[
    "analysis",
    "date",
    "id",
    "info",
    "Orgc",
    "Org",
    "publish_timestamp",
    "threat_level_id",
    "timestamp",
    "uuid",
    "Tag",
    "Attribute",
    "Object",
    "published",
    "distribution",
];

/// A ThreatStream indicator: the type pair always set from the type words, the rest hostile.
fn threatstream() -> BoxedStrategy<Value> {
    (
        record(TS_FIELDS),
        proptest::sample::select(TYPES),
        proptest::sample::select(TYPES),
    )
        .prop_map(|(mut m, it, vt)| {
            m.entry("itype").or_insert(Value::from(it));
            m.entry("value_type").or_insert(Value::from(vt));
            Value::Object(m)
        })
        .boxed()
}

fn intelligence_object() -> BoxedStrategy<Value> {
    (
        record(IN_FIELDS),
        proptest::sample::select(TYPES),
        proptest::sample::select(TYPES),
    )
        .prop_map(|(mut m, it, t)| {
            m.entry("itype").or_insert(Value::from(it));
            m.entry("type").or_insert(Value::from(t));
            Value::Object(m)
        })
        .boxed()
}

fn intelligence() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => intelligence_object(),
        1 => (proptest::collection::vec(intelligence_object(), 0..4), value())
            .prop_map(|(objects, meta)| json!({"meta": meta, "objects": objects})),
    ]
    .boxed()
}

fn attribute() -> BoxedStrategy<Value> {
    (
        record(ATTR_FIELDS),
        proptest::sample::select(TYPES),
        proptest::sample::select(NASTY),
    )
        .prop_map(|(mut m, t, v)| {
            m.entry("type").or_insert(Value::from(t));
            m.entry("value").or_insert(Value::from(v));
            Value::Object(m)
        })
        .boxed()
}

fn one_or_many(s: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![
        s.clone(),
        proptest::collection::vec(s, 0..3).prop_map(Value::Array),
        value(),
    ]
    .boxed()
}

fn misp_event() -> BoxedStrategy<Value> {
    let object = (
        record(&[
            "id",
            "name",
            "uuid",
            "timestamp",
            "meta-category",
            "comment",
        ]),
        one_or_many(attribute()),
    )
        .prop_map(|(mut m, a)| {
            m.insert("Attribute".into(), a);
            Value::Object(m)
        })
        .boxed();
    (
        record(EVENT_FIELDS),
        one_or_many(attribute()),
        one_or_many(object),
    )
        .prop_map(|(mut m, a, o)| {
            m.entry("Attribute").or_insert(a);
            m.entry("Object").or_insert(o);
            json!({"Event": m})
        })
        .boxed()
}

fn misp_threat() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => misp_event(),
        1 => proptest::collection::vec(misp_event(), 0..3).prop_map(|r| json!({"response": r})),
    ]
    .boxed()
}

fn misp_attributes() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => attribute(),
        1 => proptest::collection::vec(attribute(), 0..3).prop_map(|a| json!({"response": {"Attribute": a}})),
        1 => Just(json!({"response": []})),
    ]
    .boxed()
}

/// The record as bytes: plain, in a `message` or `json` envelope with tags and `_conf`,
/// sometimes damaged (cut, BOM in front, one byte changed).
fn encode(body: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<u8>> {
    let tags = prop_oneof![
        Just(Value::Null),
        value(),
        Just(json!(["preserve_original_event", "t"]))
    ];
    let conf = prop_oneof![
        Just(Value::Null),
        proptest::sample::select(invariants::DURATIONS)
            .prop_map(|d| json!({"ioc_expiration_duration": d, "ioc_duration_before_deletion": d})),
        value(),
    ];
    (
        body,
        0u8..10,
        tags,
        conf,
        any::<prop::sample::Index>(),
        any::<u8>(),
    )
        .prop_map(|(body, how, tags, conf, at, byte)| {
            let text = serde_json::to_string(&body).unwrap();
            let mut raw = match how {
                0..=3 => text.into_bytes(),
                4 | 5 => serde_json::to_vec(&json!({"message": text, "tags": tags, "_conf": conf}))
                    .unwrap(),
                6 => {
                    serde_json::to_vec(&json!({"json": body, "tags": tags, "_conf": conf})).unwrap()
                }
                7 => text.as_bytes()[..at.index(text.len() + 1)].to_vec(),
                8 => [&b"\xef\xbb\xbf"[..], text.as_bytes()].concat(),
                _ => text.into_bytes(),
            };
            if how == 9 && !raw.is_empty() {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
            raw
        })
}

fn check(dataset: Dataset, raw: &[u8], opts: &Options) -> Result<(), TestCaseError> {
    invariants::check_call(dataset, raw, opts)
        .map(drop)
        .map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(config(1500))]

    /// Any bytes, any options, every data set.
    #[test]
    fn any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..200), opts in options()) {
        for ds in DATASETS {
            check(ds, &raw, &opts)?;
        }
    }

    /// Text that is nearly JSON: JSON punctuation, quotes, escapes and digits.
    #[test]
    fn json_like_text(raw in r#"[\[\]{}":,0-9a-z\\ .eE+-]{0,80}"#, opts in options()) {
        for ds in DATASETS {
            check(ds, raw.as_bytes(), &opts)?;
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn hostile_threatstream(raw in encode(prop_oneof![
        3 => threatstream(),
        1 => proptest::collection::vec(threatstream(), 0..4).prop_map(Value::Array),
    ]), opts in options()) {
        check(Dataset::AnomaliThreatstream, &raw, &opts)?;
    }

    #[test]
    fn hostile_intelligence(raw in encode(intelligence()), opts in options()) {
        check(Dataset::AnomaliIntelligence, &raw, &opts)?;
    }

    #[test]
    fn hostile_misp_threat(raw in encode(misp_threat()), opts in options()) {
        check(Dataset::MispThreat, &raw, &opts)?;
    }

    #[test]
    fn hostile_misp_attributes(raw in encode(misp_attributes()), opts in options()) {
        check(Dataset::MispThreatAttributes, &raw, &opts)?;
    }

    /// Records of one data set through the others' mappings.
    #[test]
    fn records_of_another_data_set(raw in encode(prop_oneof![threatstream(), intelligence(), misp_threat(), misp_attributes()]),
                                   opts in options()) {
        for ds in DATASETS {
            check(ds, &raw, &opts)?;
        }
    }
}

/// An unreadable record that is valid UTF-8 and no envelope keeps exactly its text. (A
/// byte-order mark before valid JSON is readable: see `envelope::tests`.)
#[test]
fn unreadable_text_is_kept_verbatim() {
    let opts = Options::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    for raw in ["{", "nope", "{\"a\":1", "[1,,2]", "{\"a\":1e400}", "{} {}"] {
        for ds in DATASETS {
            let docs = ti_ecs::transform(ds, raw.as_bytes(), &opts);
            assert_eq!(docs.len(), 1, "{ds} {raw:?}");
            let d = Value::Object(docs[0].clone());
            assert_eq!(d["event"]["kind"], "pipeline_error", "{ds} {raw:?}");
            assert_eq!(d["event"]["original"], raw, "{ds} {raw:?}");
        }
    }
}
