//! What every transform output must satisfy, whatever the input: the checks shared by the
//! fuzz targets (`fuzz/`), the native property tests (`tests/properties.rs`) and the
//! cross-target property tests (`host-tests/tests/properties.rs`), which include this file
//! by path. It depends on `ti_ecs` and `serde_json` only.
//!
//! For one record and one options value:
//!
//! 1. every document is a JSON object;
//! 2. the data set's cleanup ran: no `null`, `""`, `{}` or `[]` anywhere
//!    (`Cleanup::AllEmpty`), or no member that is `null` (`Cleanup::NullsOnly`);
//! 3. the constant fields are there: `event.dataset`, `ecs.version`, `event.ingested = now`;
//! 4. the record is accounted for: at least one document, at most
//!    `max(1, limits.max_documents)`, or none only for a documented drop (an empty MISP
//!    response, `{"response":[]}`);
//! 5. an error document (`event.kind: pipeline_error`) has a non-empty `error.message`
//!    list, the tag `preserve_original_event` and `event.original` (unless the text it
//!    would keep is empty); `error.message` never appears without `pipeline_error`;
//! 6. an unreadable record (bad UTF-8, bad JSON, a limit) gives exactly one error document
//!    that keeps the text as received; when the input is valid UTF-8 and not JSON at all,
//!    even after a leading byte-order mark (so cannot be an envelope), `event.original` is
//!    the input itself. A whole response mapped item by item (`ti_ecs::streamed`) is read
//!    an item at a time: one that cannot be read as a whole (a number out of range, which
//!    splitting does not evaluate) gives a document per item, each keeping its item's
//!    JSON (9.), the item that cannot be read an error document;
//! 7. `preserve_original_event` (option) puts `event.original` on every document;
//! 8. every non-empty option tag is on every document;
//! 9. `event.original`, when it is not the record's text, is JSON (a fan-out item; in
//!    syntax, for an item kept because it could not be read, 6.).
//!
//! Determinism (two runs give the same bytes) is checked by [`check_call`].

#![allow(dead_code)]

/// Expiration durations the fuzz targets and property tests try as options: valid ones,
/// every kind of invalid one, and ones that overflow.
pub const DURATIONS: &[&str] = &[
    "90d",
    "5d",
    "0d",
    "1h",
    "30m",
    "10s",
    "2w",
    "85d",
    "",
    "d",
    "10y",
    "-1d",
    "1.5d",
    " 7d ",
    "1D",
    "99999999999999999999d",
    "9999999999999w",
    "3153600000000s",
    "1000000d",
    "300000000d",
    "٣d",
    "1é",
];

use serde_json::Value;
use ti_ecs::{Cleanup, Dataset, Options, envelope};

/// Runs the core twice on `raw` and checks both runs are equal and keep every invariant.
/// Returns the documents as JSON texts.
pub fn check_call(dataset: Dataset, raw: &[u8], opts: &Options) -> Result<Vec<String>, String> {
    let docs = ti_ecs::transform_to_json(dataset, raw, opts);
    let again = ti_ecs::transform_to_json(dataset, raw, opts);
    if docs != again {
        return Err(format!(
            "{dataset}: two runs over the same input differ:\n{docs:?}\n{again:?}"
        ));
    }
    check(dataset, raw, opts, &docs)?;
    Ok(docs)
}

/// Checks the documents `docs` (JSON texts) that one call returned for `raw`.
pub fn check(dataset: Dataset, raw: &[u8], opts: &Options, docs: &[String]) -> Result<(), String> {
    let fail = |what: String| {
        Err(format!(
            "{dataset}: {what}\ninput: {:?}\noutput: {docs:#?}",
            String::from_utf8_lossy(raw)
        ))
    };
    let read = envelope::read(raw, opts);
    // a whole response read item by item (6.)
    let streams = ti_ecs::streamed(dataset, raw, opts).is_some();
    // 4. every record accounted for
    let most = opts.limits.max_documents.max(1);
    if docs.is_empty() {
        let dropped = read.as_ref().is_ok_and(|rec| {
            let body = match &rec.body {
                Some(b) => Ok(b.clone()),
                None => envelope::body_text(rec, opts),
            };
            body.is_ok_and(|b| is_documented_drop(dataset, &b.into_serde()))
        });
        if !dropped {
            return fail("no document for a record that is not a documented drop".into());
        }
    }
    if docs.len() > most {
        return fail(format!(
            "{} documents, over max(1, max_documents) = {most}",
            docs.len()
        ));
    }
    let record_original: Option<String> = match &read {
        Ok(rec) => Some(rec.original().into_owned()),
        Err(u) => Some(u.original.clone()),
    };
    // 6. unreadable records
    if let Err(u) = &read
        && !streams
    {
        if docs.len() != 1 {
            return fail(format!(
                "unreadable record ({}) gave {} documents",
                u.message,
                docs.len()
            ));
        }
        // The reader skips a leading byte-order mark, so a record that is JSON after one is
        // an envelope like any other.
        if let Ok(text) = std::str::from_utf8(raw)
            && serde_json::from_str::<Value>(text.strip_prefix('\u{feff}').unwrap_or(text)).is_err()
            && u.original != text
        {
            return fail(format!(
                "unreadable non-json record kept {:?}, not the input",
                u.original
            ));
        }
    }
    let ingested = ti_ecs::dates::fmt_es(opts.now);
    for text in docs {
        // 1. a JSON object (its text is not compared after a round trip: serde_json's
        // default float parsing may move a number by one unit in the last place)
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return fail(format!("document is not json ({e}): {text}")),
        };
        let Value::Object(doc) = &v else {
            return fail(format!("document is not an object: {text}"));
        };
        // 2. cleanup
        let left = match dataset.info().cleanup {
            Cleanup::AllEmpty => empty_value(&v, String::new(), true),
            Cleanup::NullsOnly => empty_value(&v, String::new(), false),
        };
        if let Some(path) = left {
            return fail(format!("value the cleanup removes left at `{path}`"));
        }
        // 3. constant fields
        if at(&v, "event.dataset").and_then(Value::as_str) != Some(dataset.id()) {
            return fail("`event.dataset` is not the data set".into());
        }
        if at(&v, "ecs.version").and_then(Value::as_str) != Some(ti_ecs::ECS_VERSION) {
            return fail("`ecs.version` missing".into());
        }
        if at(&v, "event.ingested").and_then(Value::as_str) != Some(ingested.as_str()) {
            return fail(format!("`event.ingested` is not now ({ingested})"));
        }
        let tags: Vec<&str> = match doc.get("tags") {
            None => Vec::new(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(other) => return fail(format!("`tags` is not a list: {other}")),
        };
        let original = at(&v, "event.original");
        let original_text = original.and_then(Value::as_str);
        if original.is_some() && original_text.is_none() {
            return fail("`event.original` is not a string".into());
        }
        // 5. error documents
        let is_error = at(&v, "event.kind").and_then(Value::as_str) == Some("pipeline_error");
        let messages = at(&v, "error.message");
        if is_error {
            let ok = matches!(messages, Some(Value::Array(m))
                if !m.is_empty() && m.iter().all(|x| x.as_str().is_some_and(|s| !s.is_empty())));
            if !ok {
                return fail(format!("error document without a list of messages: {text}"));
            }
            if !tags.contains(&"preserve_original_event") {
                return fail("error document without the tag `preserve_original_event`".into());
            }
            let kept_is_empty = record_original.as_deref() == Some("") && docs.len() == 1;
            if original_text.is_none() && !kept_is_empty {
                return fail(format!("error document without `event.original`: {text}"));
            }
        } else if messages.is_some() {
            return fail("`error.message` without `event.kind: pipeline_error`".into());
        }
        if read.is_err() && !streams && !is_error {
            return fail("unreadable record gave a document that is not an error".into());
        }
        if let (Err(u), Some(o)) = (&read, original_text)
            && !streams
            && o != u.original
        {
            return fail(format!(
                "unreadable record kept {o:?}, not {:?}",
                u.original
            ));
        }
        // 7. preserve_original_event
        if opts.preserve_original_event
            && original_text.is_none()
            && record_original.as_deref() != Some("")
        {
            return fail("`preserve_original_event` set but no `event.original`".into());
        }
        // 8. option tags
        for t in opts.tags.iter().filter(|t| !t.is_empty()) {
            if !tags.contains(&t.as_str()) {
                return fail(format!("option tag `{t}` missing"));
            }
        }
        // 9. a fan-out item's own original is JSON (in syntax: a streamed item that could
        // not be read as a whole, 6., keeps its text, numbers out of range and all)
        if let Some(o) = original_text
            && Some(o) != record_original.as_deref()
            && serde_json::from_str::<Box<serde_json::value::RawValue>>(o).is_err()
        {
            return fail(format!(
                "`event.original` is neither the record nor json: {o:?}"
            ));
        }
    }
    Ok(())
}

/// Checks one Fluent Bit filter answer for `raw` against the core: `None` means the
/// filter returned `""`, which drops the record and must never happen. `opts` are the
/// options the filter used (`Options::fluent_bit`).
pub fn check_fluent_bit(
    dataset: Dataset,
    raw: &[u8],
    opts: &Options,
    answer: Option<&str>,
) -> Result<(), String> {
    let core = ti_ecs::transform_to_json(dataset, raw, opts);
    let fail = |what: String| {
        Err(format!(
            "{dataset} (fluent bit): {what}\ninput: {:?}\ncore: {core:#?}\nfilter: {answer:?}",
            String::from_utf8_lossy(raw)
        ))
    };
    let Some(answer) = answer else {
        return fail("the filter dropped the record (answered \"\")".into());
    };
    let v: Value = match serde_json::from_str(answer) {
        Ok(v) => v,
        Err(e) => return fail(format!("answer is not json: {e}")),
    };
    if !v.is_object() {
        return fail("answer is not an object".into());
    }
    match core.len() {
        // nothing to map: one error document keeping the record, never a silent drop
        0 => {
            let expected =
                ti_ecs::error_document(dataset, raw, ti_ecs::NOTHING_TO_MAP.to_string(), opts)
                    .to_json();
            if answer == expected {
                Ok(())
            } else {
                fail("a record with nothing to map is not answered by its error document".into())
            }
        }
        1 if core[0] != answer => fail("answer differs from the core's document".into()),
        1 => Ok(()),
        _ => {
            check(
                dataset,
                raw,
                &Options {
                    limits: ti_ecs::Limits {
                        max_documents: 1,
                        ..opts.limits
                    },
                    ..opts.clone()
                },
                &[answer.to_string()],
            )?;
            if at(&v, "event.kind").and_then(Value::as_str) != Some("pipeline_error") {
                return fail("a fan-out record is not answered by an error document".into());
            }
            Ok(())
        }
    }
}

/// Whether a record that yields no document is one the design lets go: a record with no
/// item in it. An empty MISP response (`{"response":[]}`, `{"response":{}}`,
/// `{"response":{"Attribute":[]}}`, which Elastic's pipeline drops too), an empty
/// ThreatStream API page (`{"objects":[]}`), PyMISP's empty `{"Attribute":[]}`, or an
/// empty list of items (`[]`).
pub fn is_documented_drop(dataset: Dataset, body: &Value) -> bool {
    if body.as_array().is_some_and(Vec::is_empty) {
        return true;
    }
    match dataset {
        Dataset::MispThreatAttributes
            if body
                .get("Attribute")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty) =>
        {
            true
        }
        Dataset::MispThreat | Dataset::MispThreatAttributes => match body.get("response") {
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => match o.get("Attribute") {
                None => o.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                Some(_) => false,
            },
            _ => false,
        },
        Dataset::AnomaliIntelligence => body
            .get("objects")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty),
        Dataset::AnomaliThreatstream => false,
    }
}

/// The value at a dotted path.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k))
}

/// The path of the first value the cleanup removes: with `all`, any `null`, `""`, `{}`
/// or `[]`; otherwise a member that is `null` (array elements may be anything).
fn empty_value(v: &Value, path: String, all: bool) -> Option<String> {
    let empty = match v {
        Value::Null => true,
        Value::String(s) => all && s.is_empty(),
        Value::Array(a) => all && a.is_empty(),
        Value::Object(m) => all && m.is_empty(),
        _ => false,
    };
    if empty && (all || !path.ends_with(']')) {
        return Some(if path.is_empty() {
            "(root)".to_string()
        } else {
            path
        });
    }
    match v {
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            empty_value(x, p, all)
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| empty_value(x, format!("{path}[{i}]"), all)),
        _ => None,
    }
}
