//! Whole responses item by item: a response holding thousands of records is split into the
//! text of each item, without reading the response into one tree, and each item is mapped
//! and handed on before the next is read. Memory stays near the size of the input text
//! however large the response, and the documents are the ones the tree path gives.
//!
//! A data set opts in with a [`Streaming`] row in its registry entry. Only records that are
//! the bare response (no envelope, no `tags` or `_conf` beside it), within the limits and
//! valid UTF-8, take this path; anything else goes through [`crate::envelope::read`] as
//! before.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::json::{Outline, Value};
use serde_json::value::RawValue;

use crate::{Ctx, Doc};

/// The items of a whole response, unparsed, and the field they sit in (for messages).
#[derive(Debug)]
pub struct Items<'a> {
    /// Where the list sits, e.g. `response.Attribute` (empty for a top-level array).
    pub field: &'static str,
    /// Each item's JSON text.
    pub items: Vec<&'a str>,
}

/// How a data set splits its whole responses and maps one item.
#[derive(Debug)]
pub struct Streaming {
    /// The keys a whole response opens with (besides a top-level array): a record that
    /// opens otherwise is not split, without any scan of it.
    pub opens_with: &'static [&'static str],
    /// The items of `text` when it is a whole response; `None` to take the tree path.
    pub split: fn(&str) -> Option<Items<'_>>,
    /// How many documents an item gives, read off its text without mapping it: the
    /// response is checked against `max_documents` before its first document is handed
    /// on, as the tree path checks it. An item [`map_item`] cannot parse gives one error
    /// document; this may count it as more (its shape is all it looks at).
    pub documents: fn(&str) -> usize,
    /// Maps item `index` of the list at `field` into `out` (what the tree path does for
    /// each item), given the item read and its text.
    pub item: for<'v> fn(usize, Value<'v>, &str, &str, &Ctx<'v>, &mut Vec<Doc<'v>>),
    /// An item's documents written straight from its text, when the data set has such a
    /// path and the item is one it takes (else `false`, and [`Streaming::item`] maps
    /// it): the documents [`Streaming::item`] gives, byte for byte.
    pub direct: Option<crate::DirectFn>,
}

/// Whether `raw` opens (after a byte-order mark and white space) with `[`, or with `{`
/// and one of `keys` as its first key: the only records [`Streaming::split`] can split.
pub fn may_split(raw: &[u8], keys: &[&str]) -> bool {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    raw.trim_ascii_start().starts_with(b"[") || keys.iter().any(|k| first_key_is(raw, k))
}

/// Whether `text` is an object (after white space) whose first key is `key`, written
/// without escapes: a look at the opening bytes, no parsing.
fn first_key_is(text: &[u8], key: &str) -> bool {
    text.trim_ascii_start()
        .strip_prefix(b"{")
        .map(<[u8]>::trim_ascii_start)
        .and_then(|r| r.strip_prefix(b"\""))
        .and_then(|r| r.strip_prefix(key.as_bytes()))
        .is_some_and(|r| r.starts_with(b"\""))
}

/// The outline of `text` ([`crate::json::outline`]; `checked`: a part of a text outlined
/// before, [`crate::json::outline_checked`]), read by `serde_json` when our reader leaves
/// it (nesting past its depth, a lone surrogate in a name): every response `serde_json`
/// can split is split, as before our reader did it. `None`: not JSON.
fn outline(text: &str, checked: bool) -> Option<Outline<'_>> {
    let ours = if checked {
        crate::json::outline_checked(text)
    } else {
        crate::json::outline(text)
    };
    if let Some(o) = ours {
        return Some(o);
    }
    match text.trim_start().as_bytes().first() {
        Some(b'{') => {
            // repeated names: the last one, which is where the tree keeps it too
            let map: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
            Some(Outline::Object(
                map.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), v.get()))
                    .collect(),
            ))
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            Some(Outline::List(
                items.into_iter().map(RawValue::get).collect(),
            ))
        }
        _ => serde_json::from_str::<&RawValue>(text)
            .ok()
            .map(|v| match v.get() {
                "null" => Outline::Null,
                _ => Outline::Scalar,
            }),
    }
}

/// The list in `text` when it is a JSON array.
pub fn list(text: &str) -> Option<Vec<&str>> {
    list_of(text, false)
}

/// [`list`] of a part of a text split before (the value [`only_key`] gave), which is not
/// checked again.
pub fn part_list(part: &str) -> Option<Vec<&str>> {
    list_of(part, true)
}

fn list_of(text: &str, checked: bool) -> Option<Vec<&str>> {
    if !text.trim_start().starts_with('[') {
        return None;
    }
    match outline(text, checked)? {
        Outline::List(items) => Some(items),
        _ => None,
    }
}

/// The value of `key` when `text` is an object with that one key and nothing else
/// (repeats of the key count as one; the last one wins, as in the tree).
pub fn only_key<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    only_key_of(text, key, false)
}

/// [`only_key`] of a part of a text split before, which is not checked again.
pub fn part_only_key<'a>(part: &'a str, key: &str) -> Option<&'a str> {
    only_key_of(part, key, true)
}

fn only_key_of<'a>(text: &'a str, key: &str, checked: bool) -> Option<&'a str> {
    // cheap refusal before any parsing: the first key must be the one asked for
    if !first_key_is(text.as_bytes(), key) {
        return None;
    }
    let o = outline(text, checked)?;
    match &o {
        Outline::Object(members) if members.iter().all(|(k, _)| k == key) => o.get(key),
        _ => None,
    }
}

/// Maps one item into `out`: parsed on its own; an item that cannot be parsed (a number
/// out of range, which the splitting scan does not evaluate) becomes an error document of
/// its own, keeping its text.
pub fn map_item<'v>(
    s: &Streaming,
    index: usize,
    raw: &'v str,
    field: &str,
    ctx: &Ctx<'v>,
    out: &mut Vec<Doc<'v>>,
) {
    match crate::json::from_str(raw) {
        Ok(v) => (s.item)(index, v, raw, field, ctx, out),
        Err(e) => {
            let mut d = Doc::new();
            d.error(format!("cannot parse `{field}[{index}]` as json: {e}"));
            d.original = Some(raw.to_string());
            out.push(d);
        }
    }
}

/// The outline of `part`, a part of a text split before (an item, a member's value),
/// which is not checked again: what a document count reads. Text that is not JSON reads
/// as a scalar.
pub fn shape(part: &str) -> Outline<'_> {
    outline(part, true).unwrap_or(Outline::Scalar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_key_wants_exactly_that_key() {
        let v = only_key(r#" { "response" : [1, 2] }"#, "response").unwrap();
        assert_eq!(v, "[1, 2]");
        assert!(only_key(r#"{"response":[1],"tags":["x"]}"#, "response").is_none());
        assert!(only_key(r#"{"tags":["x"],"response":[1]}"#, "response").is_none());
        assert!(only_key(r#"{"responses":[1]}"#, "response").is_none());
        assert!(only_key(r#"{"response":[1]"#, "response").is_none());
        assert!(only_key(r#"[{"response":[1]}]"#, "response").is_none());
        let last = only_key(r#"{"response":1,"response":2}"#, "response").unwrap();
        assert_eq!(last, "2");
    }

    #[test]
    fn may_split_looks_at_the_opening_only() {
        let keys = &["response", "Attribute"];
        for yes in [
            &b"[1]"[..],
            b" \n[",
            b"\xEF\xBB\xBF[]",
            b"{\"response\":",
            b"{ \"Attribute\" :[]}",
        ] {
            assert!(may_split(yes, keys), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b""[..],
            b"{}",
            b"{\"id\":\"1\",\"response\":[]}",
            b"{\"responses\":[]}",
            b"\"[\"",
            b"{\"response",
        ] {
            assert!(!may_split(no, keys), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn list_takes_arrays_only() {
        assert_eq!(list(" [1, {\"a\": 2}]").unwrap().len(), 2);
        assert!(list("{\"a\": [1]}").is_none());
        assert!(list("[1, 2").is_none());
        assert_eq!(list("[]").unwrap().len(), 0);
    }
}
