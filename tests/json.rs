//! Property tests of `ti_ecs::json`, the borrowed value the mappings read records into,
//! against `serde_json::Value`, which it stands in for: any JSON text reads to the same
//! value and writes to the same bytes (names unsorted and repeated, escapes, numbers at
//! their limits, objects small enough to be scanned and large enough to be searched);
//! and the object's inserts, removals and lookups agree with a `BTreeMap`. Whole responses
//! are split into the parts `serde_json`'s `RawValue` finds (`json::outline`, and
//! `ti_ecs::stream` over it).
//!
//! `PROPTEST_CASES=N` overrides the case counts below.

#[path = "support/proptest_config.rs"]
mod proptest_config;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest_config::config;
use serde_json::value::RawValue;
use ti_ecs::json::{self, Json, Map, Outline, Value};
use ti_ecs::stream;

/// An object's members as `serde_json` keeps them (each name once, the last one).
type Members<'a> = BTreeMap<String, &'a str>;

/// The parts `serde_json` finds in `t`: members, items, or `None` when it refuses `t`
/// (`Some(None)`: a scalar).
fn serde_parts(t: &str) -> Option<Option<Result<Members<'_>, Vec<&str>>>> {
    match t.trim_start().as_bytes().first() {
        Some(b'{') => {
            let m: BTreeMap<String, &RawValue> = serde_json::from_str(t).ok()?;
            Some(Some(Ok(m.into_iter().map(|(k, v)| (k, v.get())).collect())))
        }
        Some(b'[') => {
            let l: Vec<&RawValue> = serde_json::from_str(t).ok()?;
            Some(Some(Err(l.into_iter().map(RawValue::get).collect())))
        }
        _ => serde_json::from_str::<&RawValue>(t).ok().map(|_| None),
    }
}

/// [`serde_parts`] of an outline.
fn parts(o: Outline<'_>) -> Option<Result<Members<'_>, Vec<&str>>> {
    match o {
        // repeated names: the last one, as serde_json keeps it
        Outline::Object(m) => Some(Ok(m
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v))
            .collect())),
        Outline::List(l) => Some(Err(l)),
        Outline::Null | Outline::Scalar => None,
    }
}

/// `t` is split as `serde_json` splits it: by [`json::outline`] (which may leave a text
/// to `serde_json`, but never reads one differently), by `ti_ecs::stream` (which always
/// answers as `serde_json`), and, once checked, by [`json::outline_checked`].
fn splits_as_serde_json(t: &str) -> Result<(), TestCaseError> {
    let theirs = serde_parts(t);
    let ours = json::outline(t);
    if let Some(o) = ours {
        prop_assert_eq!(Some(parts(o)), theirs.clone(), "{:?}", t);
        let checked = json::outline_checked(t).map(parts);
        prop_assert_eq!(checked, theirs.clone(), "checked {:?}", t);
    }
    let list = theirs.clone().and_then(|p| p.and_then(Result::err));
    prop_assert_eq!(stream::list(t), list, "{:?}", t);
    if let Some(Some(Ok(m))) = &theirs {
        // `only_key` answers for a text whose first name is the key, written plainly
        let first = t.trim_start().strip_prefix('{').map(str::trim_start);
        for k in m.keys() {
            if first.is_some_and(|f| f.starts_with(&format!("\"{k}\""))) {
                let only = if m.len() == 1 {
                    m.get(k).copied()
                } else {
                    None
                };
                prop_assert_eq!(stream::only_key(t, k), only, "{:?} {:?}", t, k);
            }
        }
    }
    Ok(())
}

/// Names: a few short ones that repeat, some with escapes or beyond ASCII, and enough
/// distinct ones (`k0`…`k47`) to make objects past the scan's 32 names.
fn name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(&["a", "b", "ab", "ba", "id", "", "é", "a\"b", "\u{0}"][..])
            .prop_map(str::to_string),
        2 => (0..48u8).prop_map(|i| format!("k{i}")),
    ]
    .boxed()
}

/// A JSON string literal: its text written by serde_json (escapes included), or one
/// written with `\u` escapes that serde_json never writes.
fn string_literal() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z\"\\\\/\u{0}-\u{1f}é€😀 ]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        proptest::sample::select(&[r#""\u00e9\ud83d\ude00""#, r#""\/\b\f\n\r\t""#, r#""""#][..])
            .prop_map(str::to_string),
    ]
    .boxed()
}

/// A JSON text, objects written in any order and with repeated names.
fn text() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        proptest::sample::select(&["-0", "1e308", "5e-324", "0.1", "1E+2", "-1.5e-7"][..])
            .prop_map(str::to_string),
        string_literal(),
    ];
    leaf.prop_recursive(4, 96, 40, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((name(), inner), 0..40).prop_map(|members| {
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
    .boxed()
}

/// Pieces of JSON text and of near-JSON, strung together at random.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "{", "}", "[", "]", ",", ":", " ", "\n", "\"a\"", "\"b\"", "\"\\u00e9\\n\"",
    "\"\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\x\"", "\"", "\"\u{1}\"", "1", "-0", "01", "-",
    "0.5", "1.", ".5", "1e5", "1e", "-1E-2", "18446744073709551616", "-9223372036854775809",
    "true", "tru", "null", "nul", "false", "\u{feff}",
];

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn reads_and_writes_as_serde_json(t in text()) {
        let theirs: serde_json::Value = serde_json::from_str(&t).unwrap();
        let ours = json::from_str(&t).unwrap();
        // Display is our writer (`Json::to_json`)
        prop_assert_eq!(ours.to_string(), theirs.to_string());
        prop_assert_eq!(serde_json::to_string_pretty(&ours).unwrap(), serde_json::to_string_pretty(&theirs).unwrap());
        // every name is found where serde_json has it, whichever way the object is searched
        if let (Value::Object(m), serde_json::Value::Object(n)) = (&ours, &theirs) {
            prop_assert_eq!(m.len(), n.len());
            prop_assert_eq!(m.to_json(), serde_json::to_string(n).unwrap());
            for (k, v) in n {
                let found = m.get(k).cloned().map(Value::into_serde);
                prop_assert_eq!(found.as_ref(), Some(v));
            }
            prop_assert!(m.get("no such name").is_none());
        }
        prop_assert_eq!(ours.clone().into_serde(), theirs.clone());
        prop_assert_eq!(Value::from(theirs), ours.into_owned());
    }

    #[test]
    fn any_string_of_tokens_reads_as_serde_json_reads_it(
        tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..14)
    ) {
        // mostly not JSON: whatever serde_json refuses is refused, the rest reads the same
        let t = tokens.concat();
        let theirs = serde_json::from_str::<serde_json::Value>(&t);
        let ours = json::from_str(&t);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", t);
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            prop_assert_eq!(ours.into_serde(), theirs);
        }
    }

    #[test]
    fn objects_change_as_a_btree_map_does(
        ops in proptest::collection::vec((0..3u8, name(), any::<i32>()), 0..120)
    ) {
        let mut ours = Map::new();
        let mut model: BTreeMap<String, i32> = BTreeMap::new();
        for (op, k, v) in ops {
            match op {
                0 => prop_assert_eq!(
                    ours.insert(k.clone(), Value::from(v)).and_then(|v| v.as_i64()),
                    model.insert(k, v).map(i64::from)
                ),
                1 => prop_assert_eq!(
                    ours.remove(&k).and_then(|v| v.as_i64()),
                    model.remove(&k).map(i64::from)
                ),
                _ => {
                    prop_assert_eq!(ours.get(&k).and_then(Value::as_i64), model.get(&k).map(|v| i64::from(*v)));
                    prop_assert_eq!(ours.contains_key(&k), model.contains_key(&k));
                }
            }
        }
        prop_assert!(ours.keys().eq(model.keys().map(String::as_str)));
        prop_assert_eq!(ours.len(), model.len());
    }
}

proptest! {
    // each case reads its text ~14 times per byte: fewer cases
    #![proptest_config(config(48))]

    #[test]
    fn texts_changed_by_a_byte_read_as_serde_json_reads_them(t in text()) {
        // every byte of the text dropped, or replaced by each of a few: refused exactly
        // when serde_json refuses it, else the same value
        const WITH: &[Option<u8>] = &[None, Some(b']'), Some(b'}'), Some(b','), Some(b':'),
            Some(b'"'), Some(b'['), Some(b'{'), Some(b' '), Some(b'\\'), Some(b'0'), Some(b'-'),
            Some(b'.'), Some(b'e')];
        for at in 0..t.len() {
            for with in WITH {
                let mut b = t.clone().into_bytes();
                match with {
                    None => {
                        b.remove(at);
                    }
                    Some(c) => b[at] = *c,
                }
                let Ok(t) = String::from_utf8(b) else { continue };
                let theirs = serde_json::from_str::<serde_json::Value>(&t);
                let ours = json::from_str(&t);
                prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", t);
                if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                    prop_assert_eq!(ours.into_serde(), theirs);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn texts_split_as_serde_json_splits_them(t in text()) {
        // our reader takes every such text itself: no part left to serde_json
        prop_assert!(json::outline(&t).is_some(), "{:?}", t);
        splits_as_serde_json(&t)?;
        // the same with white space around every part
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) {
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            prop_assert!(json::outline(&pretty).is_some(), "{:?}", pretty);
            splits_as_serde_json(&format!(" {pretty}\n"))?;
        }
    }

    #[test]
    fn any_string_of_tokens_splits_as_serde_json_splits_it(
        tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..14)
    ) {
        splits_as_serde_json(&tokens.concat())?;
    }
}
