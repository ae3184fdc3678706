//! The document under construction: a JSON object addressed by dotted ECS paths, plus the
//! field-level errors and tags that the mapping collected.
//!
//! Keys are kept in serde_json's default ordered map, so output key order is stable and
//! golden files diff cleanly.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One output document being built by a mapping.
#[derive(Debug, Default, Clone)]
pub struct Doc {
    fields: Map<String, Value>,
    errors: Vec<String>,
    tags: Vec<String>,
    /// `event.original` for this document when it differs from the record's text (one
    /// document of a fan-out keeps the JSON of its own item).
    pub original: Option<String>,
    /// The IOC key (same indicator → same key across polls), e.g. `misp:<event>:<attribute>`.
    pub key: Option<String>,
    /// The version fingerprint (identical re-fetch → same fingerprint), set with
    /// [`Doc::fingerprint_over`]; without one it is the hash of `event.original`.
    pub fingerprint: Option<String>,
}

impl Doc {
    /// An empty document.
    pub fn new() -> Self {
        Doc::default()
    }

    /// A document holding `fields` (nested objects, not dotted keys).
    pub fn from_fields(fields: Map<String, Value>) -> Self {
        Doc {
            fields,
            ..Doc::default()
        }
    }

    /// Sets `path` (dotted) to `v`, creating objects on the way. A non-object met on the
    /// way is replaced by an object (the later, more specific field wins).
    pub fn set(&mut self, path: &str, v: impl Into<Value>) {
        let (parent, leaf) = split_last(path);
        if let Some(obj) = object_at(&mut self.fields, parent) {
            obj.insert(leaf.to_string(), v.into());
        }
    }

    /// Sets each `(name, value)` under the object at `parent` (dotted), walking to it once:
    /// the same as a [`Doc::set`] of `parent.name` for each.
    pub fn set_under<const N: usize>(&mut self, parent: &str, fields: [(&str, Value); N]) {
        if let Some(obj) = object_at(&mut self.fields, Some(parent)) {
            for (name, v) in fields {
                obj.insert(name.to_string(), v);
            }
        }
    }

    /// The event fields every indicator document opens with: `event.kind: enrichment`,
    /// `event.category: [threat]`, `event.type: [indicator]`.
    pub fn enrichment(&mut self) {
        self.set_under(
            "event",
            [
                ("kind", "enrichment".into()),
                ("category", vec!["threat"].into()),
                ("type", vec!["indicator"].into()),
            ],
        );
    }

    /// Sets `path` only when it holds nothing yet.
    pub fn set_if_absent(&mut self, path: &str, v: impl Into<Value>) {
        if self.get(path).is_none() {
            self.set(path, v);
        }
    }

    /// The value at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.fields;
        let mut parts = segments(path).peekable();
        while let Some(p) = parts.next() {
            let v = cur.get(p)?;
            if parts.peek().is_none() {
                return Some(v);
            }
            cur = v.as_object()?;
        }
        None
    }

    /// The value at `path`, to change in place (no second walk, no key copied).
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Value> {
        let (parent, leaf) = split_last(path);
        let mut cur = &mut self.fields;
        if let Some(parent) = parent {
            for p in segments(parent) {
                cur = cur.get_mut(p)?.as_object_mut()?;
            }
        }
        cur.get_mut(leaf)
    }

    /// The string at `path`, if it is one.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// Removes and returns the value at `path`.
    pub fn remove(&mut self, path: &str) -> Option<Value> {
        let (parent, leaf) = split_last(path);
        let mut cur = &mut self.fields;
        if let Some(parent) = parent {
            for p in segments(parent) {
                cur = cur.get_mut(p)?.as_object_mut()?;
            }
        }
        cur.remove(leaf)
    }

    /// Appends `v` to the array at `path` (making one, or wrapping a scalar found there).
    pub fn push(&mut self, path: &str, v: impl Into<Value>) {
        let (parent, leaf) = split_last(path);
        let Some(obj) = object_at(&mut self.fields, parent) else {
            return;
        };
        let slot = obj
            .entry(leaf.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            let old = slot.take();
            *slot = Value::Array(if old.is_null() { vec![] } else { vec![old] });
        }
        if let Value::Array(a) = slot {
            a.push(v.into());
        }
    }

    /// Appends `v` to the array at `path` unless an equal value is there already.
    pub fn push_unique(&mut self, path: &str, v: impl Into<Value>) {
        let v = v.into();
        if let Some(Value::Array(a)) = self.get(path)
            && a.contains(&v)
        {
            return;
        }
        self.push(path, v);
    }

    /// Sets the version fingerprint: SHA-256, as lowercase hex, over each value serialised
    /// as JSON and followed by the byte 0x1f (an absent value counts as `null`). The values
    /// are serialised where they lie: no tree is copied.
    pub fn fingerprint_over<'v, T: serde::Serialize + 'v>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'v T>>,
    ) {
        // serialised into one buffer, hashed once: the serialiser writes in small pieces
        let mut buf = Vec::with_capacity(1024);
        for v in values {
            // a JSON value always serialises into a Vec
            let _ = match v {
                Some(v) => serde_json::to_writer(&mut buf, v),
                None => serde_json::to_writer(&mut buf, &Value::Null),
            };
            buf.push(0x1f);
        }
        self.fingerprint = Some(sha256_hex(&buf));
    }

    /// Records a field-level error: the document is kept and marked `pipeline_error`.
    /// Say which field and which raw value, lowercase, no trailing period.
    pub fn error(&mut self, msg: impl Into<String>) {
        self.errors.push(msg.into());
    }

    /// Appends a tag (after the record's and the options' tags); duplicates are kept, as
    /// Elastic appends them.
    pub fn tag(&mut self, t: impl Into<String>) {
        self.tags.push(t.into());
    }

    /// The errors recorded so far.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The mapping's tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Takes the built fields out.
    pub fn into_parts(self) -> (Map<String, Value>, Vec<String>, Vec<String>) {
        (self.fields, self.errors, self.tags)
    }
}

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// The segments of a dotted path. Paths are a few short names: a byte loop finds the
/// dots sooner than `str::split`'s searcher, which dominated the path walks.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == b'.') {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn split_last(path: &str) -> (Option<&str>, &str) {
    match path.bytes().rposition(|b| b == b'.') {
        Some(i) => (path.get(..i), path.get(i + 1..).unwrap_or_default()),
        None => (None, path),
    }
}

/// The object at `path`, made on the way (a non-object met there is replaced by an
/// object). `None` cannot happen: each step looks up the object it has just ensured.
fn object_at<'a>(
    root: &'a mut Map<String, Value>,
    path: Option<&str>,
) -> Option<&'a mut Map<String, Value>> {
    let Some(path) = path else {
        return Some(root);
    };
    let mut cur = root;
    for p in segments(path) {
        // Look before inserting: the key is allocated only when the object is new.
        if !cur.get(p).is_some_and(Value::is_object) {
            cur.insert(p.to_string(), Value::Object(Map::new()));
        }
        cur = cur.get_mut(p)?.as_object_mut()?;
    }
    Some(cur)
}

/// Removes every `null`, `""`, empty object and empty array, recursively, also inside
/// arrays (Elastic's cleanup script). Depth is bounded by the input depth limit.
pub fn remove_empty(map: &mut Map<String, Value>) {
    map.retain(|_, v| {
        clean_value(v);
        !is_empty(v)
    });
}

/// Removes every map entry whose value is `null`, recursively, also inside arrays; keeps
/// `""`, `[]`, `{}` and `null` array elements (Elastic's MISP null scrub).
pub fn remove_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| {
        nulls_within(v);
        !v.is_null()
    });
}

/// [`remove_nulls`] on every map inside `v`, through arrays at any depth (an array of
/// arrays of objects too); the depth is bounded by the input depth limit.
fn nulls_within(v: &mut Value) {
    match v {
        Value::Object(m) => remove_nulls(m),
        Value::Array(a) => a.iter_mut().for_each(nulls_within),
        _ => {}
    }
}

fn clean_value(v: &mut Value) {
    match v {
        Value::Object(m) => remove_empty(m),
        Value::Array(a) => {
            a.iter_mut().for_each(clean_value);
            a.retain(|x| !is_empty(x));
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_get_remove_by_path() {
        let mut d = Doc::new();
        d.set("threat.indicator.type", "url");
        d.set("threat.indicator.url.domain", "x.test");
        assert_eq!(d.get_str("threat.indicator.type"), Some("url"));
        assert_eq!(
            d.get("threat.indicator.url"),
            Some(&json!({"domain": "x.test"}))
        );
        assert_eq!(d.remove("threat.indicator.type"), Some(json!("url")));
        assert_eq!(d.get("threat.indicator.type"), None);
        assert_eq!(d.remove("no.such.path"), None);
        d.set_if_absent("threat.indicator.url.domain", "y.test");
        assert_eq!(d.get_str("threat.indicator.url.domain"), Some("x.test"));
        if let Some(v) = d.get_mut("threat.indicator.url.domain") {
            *v = json!("z.test");
        }
        assert_eq!(d.get_str("threat.indicator.url.domain"), Some("z.test"));
        assert!(d.get_mut("threat.indicator.url.domain.deeper").is_none());
        assert!(d.get_mut("no.such").is_none());
    }

    #[test]
    fn paths_split_at_every_dot() {
        fn all(p: &str) -> Vec<&str> {
            segments(p).collect()
        }
        assert_eq!(all("a"), ["a"]);
        assert_eq!(all("threat.indicator.ip"), ["threat", "indicator", "ip"]);
        assert_eq!(all("a..b."), ["a", "", "b", ""]);
        assert_eq!(all(""), [""]);
        assert_eq!(all("é.ü"), ["é", "ü"]);
        for p in ["a", "a.b.c", "a..b.", "", ".", "é.ü"] {
            assert_eq!(all(p), p.split('.').collect::<Vec<_>>(), "{p}");
            assert_eq!(
                split_last(p),
                p.rsplit_once('.').map_or((None, p), |(a, b)| (Some(a), b)),
                "{p}"
            );
        }
    }

    #[test]
    fn set_through_a_scalar_replaces_it() {
        let mut d = Doc::new();
        d.set("a", 1);
        d.set("a.b", 2);
        assert_eq!(d.get("a"), Some(&json!({"b": 2})));
    }

    #[test]
    fn push_and_push_unique() {
        let mut d = Doc::new();
        d.push_unique("related.ip", "1.2.3.4");
        d.push_unique("related.ip", "1.2.3.4");
        d.push("related.ip", "1.2.3.4");
        assert_eq!(d.get("related.ip"), Some(&json!(["1.2.3.4", "1.2.3.4"])));
        d.set("x", "scalar");
        d.push("x", "more");
        assert_eq!(d.get("x"), Some(&json!(["scalar", "more"])));
    }

    #[test]
    fn null_scrub_keeps_empty_strings_and_collections() {
        let mut m =
            json!({"a": null, "b": "", "c": {"d": null, "e": []}, "f": [null, {"g": null}]});
        remove_nulls(m.as_object_mut().unwrap());
        assert_eq!(m, json!({"b": "", "c": {"e": []}, "f": [null, {}]}));
        // through nested arrays too (found by the property tests)
        let mut m = json!({"a": [[{"name": null, "x": 1}], [null]]});
        remove_nulls(m.as_object_mut().unwrap());
        assert_eq!(m, json!({"a": [[{"x": 1}], [null]]}));
    }

    #[test]
    fn cleanup_removes_every_empty_value() {
        let mut m = json!({
            "a": null, "b": "", "c": {}, "d": [], "e": {"f": {"g": null}},
            "h": ["", null, {}, [], "x", {"i": ""}], "k": 0, "l": false
        });
        remove_empty(m.as_object_mut().unwrap());
        assert_eq!(m, json!({"h": ["x"], "k": 0, "l": false}));
    }
}
