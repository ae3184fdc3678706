//! The vendor JSON as the mappings read it: a value tree whose strings and names point
//! into the record's text (copied only when they hold an escape), and whose objects are
//! vectors sorted by name.
//!
//! It reads and writes as `serde_json::Value` does — the same numbers, the last of
//! repeated names kept, objects written with their names in byte order — so a mapping
//! moved onto it gives the same documents; what it saves is the allocation of every
//! string and map node, and their frees. A record's tree lives as long as its text,
//! which the documents made from it borrow until they are written. Text is read by
//! [`from_str`]: a reader of our own (`json/read.rs`), with `serde_json` behind it for
//! whatever it leaves; it is written as text by a writer of our own (`json/write.rs`,
//! [`Json`]), which writes `serde_json`'s bytes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
pub use serde_json::Number;

/// A JSON value borrowing its strings from the text it was read from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json` reads it.
    Number(Number),
    /// A string: borrowed when the text holds it as it is, else owned.
    String(Cow<'a, str>),
    /// A list.
    Array(Vec<Value<'a>>),
    /// An object.
    Object(Map<'a>),
}

/// Objects up to this many names are searched by a scan ([`Map::position`]): a
/// ThreatStream API object's 38 too, where the scan's six instructions a name cost less
/// than a binary search's byte-by-byte compares.
const SCAN_MAX: usize = 48;

/// The names an object read from text has room for before it grows.
const OBJECT_ROOM: usize = 16;

/// A JSON object: each name once, sorted by its bytes (`serde_json`'s `Map` order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map<'a>(Vec<(Cow<'a, str>, Value<'a>)>);

impl<'a> Map<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// Where `key` is. A record's objects hold a few dozen names: up to [`SCAN_MAX`] they
    /// are scanned by length first (most differ there), which costs less than the
    /// compares of a binary search; more are searched.
    fn position(&self, key: &str) -> Option<usize> {
        if self.0.len() <= SCAN_MAX {
            self.0.iter().position(|(k, _)| same_name(k, key))
        } else {
            self.find(key).ok()
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| name_order(k, key))
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has no name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.position(key).map(|i| &self.0[i].1)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value<'a>> {
        self.position(key).map(move |i| &mut self.0[i].1)
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Takes `key` out.
    pub fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        self.position(key).map(|i| self.0.remove(i).1)
    }

    /// Sets `key` to `v`; what it held before comes back.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, v: Value<'a>) -> Option<Value<'a>> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                self.0.insert(i, (key, v));
                None
            }
        }
    }

    /// The value of `key`, set to `make()` first when absent.
    pub fn get_or_insert_with(
        &mut self,
        key: impl Into<Cow<'a, str>>,
        make: impl FnOnce() -> Value<'a>,
    ) -> &mut Value<'a> {
        let key = key.into();
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, make()));
                i
            }
        };
        &mut self.0[i].1
    }

    /// Names and values, in name order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Value<'a>)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Names and values to change, in name order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value<'a>)> {
        self.0.iter_mut().map(|(k, v)| (&**k, v))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// The values, in name order.
    pub fn values(&self) -> impl Iterator<Item = &Value<'a>> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value<'a>) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k.as_ref(), v));
    }

    /// A copy of the entries whose names `keep` says yes to (the strings borrowed from
    /// the record stay borrowed).
    pub fn cloned_where(&self, keep: impl Fn(&str) -> bool) -> Map<'a> {
        Map(self.0.iter().filter(|(k, _)| keep(k)).cloned().collect())
    }

    /// The object owning every string, free of the text it was read from.
    pub fn into_owned(self) -> Map<'static> {
        Map(self
            .0
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
            .collect())
    }

    /// The object as a `serde_json` map.
    pub fn into_serde(self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_serde()))
            .collect()
    }

    /// Entries read in text order made an object: sorted by name, the last of repeated
    /// names kept (as `serde_json` keeps it). Already sorted, nothing moves.
    pub(crate) fn from_entries(mut e: Vec<(Cow<'a, str>, Value<'a>)>) -> Self {
        if !e.windows(2).all(|w| name_order(&w[0].0, &w[1].0).is_lt()) {
            e.sort_by(|a, b| name_order(&a.0, &b.0)); // stable: repeats stay in text order
            e.dedup_by(|later, kept| {
                let same = same_name(&later.0, &kept.0);
                if same {
                    std::mem::swap(&mut later.1, &mut kept.1);
                }
                same
            });
        }
        Map(e)
    }
}

/// Names in byte order (`str`'s order), compared byte by byte in place: names mostly
/// differ in their first bytes, and a call to `memcmp` cost more than the compare (in the
/// wasm guests, whose `memcmp` goes byte by byte anyway, more again).
#[inline]
pub(crate) fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(c, d)| c != d) {
        Some((c, d)) => c.cmp(d),
        None => a.len().cmp(&b.len()),
    }
}

/// Whether two names are the same, compared eight bytes at a time in place (see
/// [`name_order`]).
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    (&mut x).zip(&mut y).all(|(p, q)| word(p) == word(q))
        && x.remainder().iter().zip(y.remainder()).all(|(c, d)| c == d)
}

/// Eight bytes as a number, in memory order.
#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_ne_bytes(b.try_into().unwrap_or_default())
}

impl<'a> IntoIterator for Map<'a> {
    type Item = (Cow<'a, str>, Value<'a>);
    type IntoIter = std::vec::IntoIter<(Cow<'a, str>, Value<'a>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, K: Into<Cow<'a, str>>> FromIterator<(K, Value<'a>)> for Map<'a> {
    fn from_iter<I: IntoIterator<Item = (K, Value<'a>)>>(iter: I) -> Self {
        Map::from_entries(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<'a> Value<'a> {
    /// The string, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, when it is one.
    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object to change, when it is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The list, when it is one.
    pub fn as_array(&self) -> Option<&Vec<Value<'a>>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The number as a float, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The number as a signed integer, when it is one that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as an unsigned integer, when it is one that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The boolean, when it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether it is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether it is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether it is a list.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Whether it is a number held as a float.
    pub fn is_f64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_f64())
    }

    /// The value of `key`, when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?.get(key)
    }

    /// The value of `key` to change, when this is an object that has it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value<'a>> {
        self.as_object_mut()?.get_mut(key)
    }

    /// Takes the value out, leaving `null`.
    pub fn take(&mut self) -> Value<'a> {
        std::mem::take(self)
    }

    /// The value owning every string, free of the text it was read from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(n),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(a) => Value::Array(a.into_iter().map(Value::into_owned).collect()),
            Value::Object(m) => Value::Object(m.into_owned()),
        }
    }

    /// The value as a `serde_json` value.
    pub fn into_serde(self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Number(n) => serde_json::Value::Number(n),
            Value::String(s) => serde_json::Value::String(s.into_owned()),
            Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(Value::into_serde).collect())
            }
            Value::Object(m) => serde_json::Value::Object(m.into_serde()),
        }
    }
}

/// Reads `text` as one JSON value, borrowing its strings.
///
/// A reader of our own takes the text first (`json/read.rs`): one pass, strings found eight
/// bytes at a time, names and values borrowed. Whatever it does not take as it is — a
/// text that is not JSON, a number other than a short integer, an escape it does not
/// know, nesting past 100 levels — is read again by `serde_json`, whose answer
/// (the value, or the error and its position) is then the answer: the reader only ever
/// says yes to what `serde_json` reads to the same value (`tests/json.rs` checks it).
pub fn from_str(text: &str) -> serde_json::Result<Value<'_>> {
    match read::value(text) {
        Some(v) => Ok(v),
        None => serde_json::from_str(text),
    }
}

/// [`from_str`]'s own reader alone, for a text nesting at most `max_depth` deep: `None`
/// for a text it leaves to `serde_json` or that nests deeper.
pub(crate) fn read_within(text: &str, max_depth: usize) -> Option<Value<'_>> {
    read::value_within(text, max_depth)
}

/// The high bit of each byte of `x` that JSON escapes in a string (a control character,
/// `"` or `\`); the lowest bit set is exact — the first such byte of a word read
/// little-endian — while bits above it may be set for bytes that are not (the borrow of
/// the subtraction runs on), which is all that is asked of it.
pub(crate) fn special_mask(x: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // the bytes of `x` below `n` (n <= 0x80)
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    below(x, 0x20) | below(x ^ (ONES * 0x22), 1) | below(x ^ (ONES * 0x5c), 1)
}

/// Whether `b` is a byte JSON escapes in a string.
pub(crate) fn special_byte(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Where the bytes from `from` on that JSON does not escape in a string end: at the first
/// byte it escapes, or at the end of `bytes`. Eight bytes at a time (in the first word
/// that holds one, the lowest bit of its [`special_mask`] says where), the last few one at
/// a time. The reader steps over a string's plain bytes with it, the writer over the
/// runs between escapes.
#[inline]
pub(crate) fn plain_run_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(w) = bytes.get(at..at + 8) {
        let m = special_mask(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        if m != 0 {
            return at + (m.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes.get(at).is_some_and(|&b| !special_byte(b)) {
        at += 1;
    }
    at
}

mod read;
pub use read::{Outline, Part, Quoted, Take, members, members_as, outline, outline_checked};
pub(crate) mod write;
pub use write::Json;

impl From<serde_json::Value> for Value<'static> {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(Cow::Owned(s)),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => {
                // a serde_json map is sorted and unique already
                Value::Object(Map(m
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Value::from(v)))
                    .collect()))
            }
        }
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::String(Cow::Owned(s))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::String(Cow::Borrowed(s))
    }
}

impl<'a> From<Cow<'a, str>> for Value<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Number> for Value<'_> {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<f64> for Value<'_> {
    /// As `serde_json`: a float that is not finite is `null`.
    fn from(f: f64) -> Self {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

macro_rules! from_integer {
    ($($t:ty)*) => {$(
        impl From<$t> for Value<'_> {
            fn from(n: $t) -> Self {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
from_integer!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

impl<'a> From<Map<'a>> for Value<'a> {
    fn from(m: Map<'a>) -> Self {
        Value::Object(m)
    }
}

impl<'a, T: Into<Value<'a>>> From<Vec<T>> for Value<'a> {
    fn from(v: Vec<T>) -> Self {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl PartialEq<str> for Value<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

macro_rules! eq_number {
    ($($t:ty: $as:ident)*) => {$(
        impl PartialEq<$t> for Value<'_> {
            fn eq(&self, other: &$t) -> bool {
                self.$as() == Some(<_>::from(*other))
            }
        }
    )*};
}
eq_number!(i32: as_i64 i64: as_i64 u16: as_u64 u32: as_u64 u64: as_u64 f64: as_f64);

impl PartialEq<bool> for Value<'_> {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

/// What indexing finds where nothing is.
static NULL: Value<'static> = Value::Null;

impl<'a> std::ops::Index<&str> for Value<'a> {
    type Output = Value<'a>;

    /// As `serde_json`: the value of `key`, `null` when this is no object or has no `key`.
    fn index(&self, key: &str) -> &Value<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::Index<usize> for Value<'a> {
    type Output = Value<'a>;

    /// As `serde_json`: item `i`, `null` when this is no list or is shorter.
    fn index(&self, i: usize) -> &Value<'a> {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::Index<&str> for Map<'a> {
    type Output = Value<'a>;

    fn index(&self, key: &str) -> &Value<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

/// `json!` for tests, making a [`Value`].
#[cfg(test)]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::json::Value::from(serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use json;

impl fmt::Display for Value<'_> {
    /// Compact JSON, as `serde_json::Value` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(t) => s.serialize_str(t),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(m) => m.serialize(s),
        }
    }
}

impl Serialize for Map<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

/// A string read borrowed when it can be.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value<'de>, E> {
        Ok(Value::from(f))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut a = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            a.push(v);
        }
        Ok(Value::Array(a))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        // serde_json gives no size: room for the names of most vendor objects at once
        // rather than growing through 4, 8 and 16
        let mut e = Vec::with_capacity(map.size_hint().unwrap_or(OBJECT_ROOM).min(64));
        while let Some(Text(k)) = map.next_key()? {
            let v = map.next_value()?;
            e.push((k, v));
        }
        Ok(Value::Object(Map::from_entries(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads and writes as serde_json's `Value` does, on texts with every kind of value,
    /// escapes, repeated names and names out of order.
    #[test]
    fn reads_and_writes_as_serde_json_does() {
        let texts = [
            r#"{"b":1,"a":[true,null,-3,1.5e300,18446744073709551615],"c":{"z":"\u00e9\"x","y":{}}}"#,
            r#"{"k":1,"k":2,"a":0,"k":3}"#,
            r#"[1e300, 0.1, -0, "a\\b", "plain", {"é":1,"e":2,"":3}]"#,
            r#""just a string""#,
            "12",
        ];
        for t in texts {
            let ours: Value = from_str(t).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(t).unwrap();
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
            assert_eq!(ours.clone().into_serde(), theirs, "{t}");
            assert_eq!(Value::from(theirs), ours.into_owned(), "{t}");
        }
    }

    /// Strings with escapes read as serde_json reads them: every sequence of up to three
    /// pieces (escapes of each kind, runs of plain bytes shorter and longer than a word,
    /// non-ASCII text) after plain runs of 0 to 9 bytes, and the same with a control
    /// character or the text cut short inside, which neither reads.
    #[test]
    fn escaped_strings_read_as_serde_json_reads_them() {
        let pieces = [
            "a",
            "é",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b\\f\\n\\r\\t",
            "\\u00e9",
            "\\ud83d\\ude00",
            "😀",
            "abcdefghij",
            "\\x",
            "\\ud800",
            "\u{1}",
        ];
        let mut bodies = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = bodies
                .iter()
                .flat_map(|b| pieces.iter().map(move |p| format!("{b}{p}")))
                .collect();
            bodies.extend(longer);
        }
        bodies.sort();
        bodies.dedup();
        let mut read = 0;
        for body in &bodies {
            for lead in 0..10 {
                let text = format!("\"{}{body}\"", "x".repeat(lead));
                let theirs = serde_json::from_str::<serde_json::Value>(&text).ok();
                // `None`: left to serde_json, which then answers (a lone surrogate, an
                // unknown escape, a control character, a text cut short)
                if let Some(ours) = read::value(&text) {
                    assert_eq!(Some(ours.into_serde()), theirs, "{text}");
                    read += 1;
                }
                let cut = &text[..text.len() - 1];
                assert!(read::value(cut).is_none(), "{cut}");
            }
        }
        assert!(read > 10_000, "{read} read");
    }

    /// The mask's lowest bit is the first byte JSON escapes, over words made of the bytes
    /// around the special ones (a deterministic walk through 200 000 words).
    /// `name_order` and `same_name` answer as `str`'s own order and equality: every pair
    /// of names made of a few letters (prefixes, equal first bytes, lengths across eight),
    /// the empty name and non-ASCII ones.
    #[test]
    fn names_compare_as_strs_do() {
        let mut names: Vec<String> = vec![
            String::new(),
            "é".into(),
            "e\u{301}".into(),
            "\u{7f}".into(),
        ];
        for len in 1..=3 {
            for n in 0..3usize.pow(len) {
                let mut k = n;
                let stem: String = (0..len)
                    .map(|_| {
                        let c = ['a', 'b', '_'][k % 3];
                        k /= 3;
                        c
                    })
                    .collect();
                names.push(stem.clone());
                names.push(format!("distributio{stem}"));
                names.push(format!("{stem}{}", "x".repeat(7)));
            }
        }
        for a in &names {
            for b in &names {
                assert_eq!(name_order(a, b), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(same_name(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn the_mask_finds_the_first_special_byte() {
        const BYTES: [u8; 16] = [
            0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
            b'a', b'0',
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let word: [u8; 8] =
                std::array::from_fn(|i| BYTES[((seed >> (i * 4 + 20)) & 15) as usize]);
            let first = word.iter().position(|&b| special_byte(b));
            let m = special_mask(u64::from_le_bytes(word));
            let found = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
            assert_eq!(found, first, "{word:02x?}");
        }
    }

    /// The reader takes records itself (what it leaves to serde_json is checked against
    /// serde_json in `tests/json.rs`).
    #[test]
    fn the_reader_takes_json_itself_and_leaves_the_rest() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let taken = [
            r#"{"a":"x","b":[1,-2,3.5e1,true,null,false],"c":{"d":"\u00e9\n\/"},"a":0}"#,
            " [ ] ",
            r#""\ud83d\ude00""#,
            "-999999999999999999",
            "18446744073709551616",
            "-0",
            &nest(read::DEPTH),
        ];
        for t in taken {
            assert!(read::value(t).is_some(), "{t}");
        }
        let left = [
            "01",
            "[1,]",
            "{,}",
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\x""#,
            "-",
            "1.",
            ".5",
            "1e",
            r#"{"a" 1}"#,
            "\u{feff}{}",
            "[1] x",
            "\"\u{1}\"",
            "1e400",
            &nest(read::DEPTH + 1),
        ];
        for t in left {
            assert!(read::value(t).is_none(), "{t}");
        }
    }

    /// `members` gives an object's members in text order, each as the reader reads it
    /// into a tree, and nothing for what it must not take.
    #[test]
    fn members_are_read_one_by_one_as_the_tree_reads_them() {
        let text = r#" {"a":"x","b\u0062":[1,{"c":null}],"a":-0,"d":"\u00e9\n","e":1.5e3} "#;
        let mut seen = Vec::new();
        let all = |_: &str| true;
        members(text, 3, all, |k, v| {
            seen.push((k, v));
            Some(())
        })
        .unwrap();
        let names: Vec<&str> = seen.iter().map(|(k, _)| &**k).collect();
        assert_eq!(names, ["a", "bb", "a", "d", "e"]);
        // the last of each name is the tree's
        let tree = read::value(text).unwrap();
        for (k, v) in &seen[1..] {
            assert_eq!(tree.get(k), Some(v), "{k}");
        }
        // a name refused, nesting past the limit, `each` stopping, other texts
        assert!(members(text, 3, |k| k != "d", |_, _| Some(())).is_none());
        assert!(members(text, 2, all, |_, _| Some(())).is_none());
        assert!(members(text, 3, all, |k, _| (k != "e").then_some(())).is_none());
        for other in [
            "[1]",
            "1",
            r#"{"a":1} x"#,
            r#"{"a":1,}"#,
            r#"{"a":"\ud800"}"#,
            "",
        ] {
            assert!(members(other, 3, all, |_, _| Some(())).is_none(), "{other}");
        }
        assert!(members("{}", 1, all, |_, _| None).is_some());
    }

    /// The members of the object `quoted` holds escaped, as it would sit between the
    /// quotes of a JSON string, read where it sits ([`Quoted`]).
    fn read_quoted(quoted: &str, depth: usize) -> Option<Vec<(String, Value<'static>)>> {
        let record = format!(r#"{{"m":"{quoted}"}}"#);
        let mut seen = Vec::new();
        members_as(
            &record,
            2,
            |_| Some(Take::Quoted),
            |_, part| match part {
                Part::Quoted(q) => q.members(
                    depth,
                    |_| true,
                    |k, v| {
                        seen.push((k.into_owned(), v.into_owned()));
                        Some(())
                    },
                ),
                Part::Read(_) => None,
            },
        )
        .map(|()| seen)
    }

    /// What `members` reads of a text, and what [`Quoted`] reads of the same text as it
    /// sits escaped in a JSON string: `None`, or the same members.
    fn both_readings(text: &str, depth: usize) -> (Option<Vec<(String, Value<'_>)>>, bool) {
        let json = serde_json::to_string(text).unwrap();
        let mut plain = Vec::new();
        let plain = members(
            text,
            depth,
            |_| true,
            |k, v| {
                plain.push((k.into_owned(), v.into_owned()));
                Some(())
            },
        )
        .map(|()| plain);
        let quoted = read_quoted(&json[1..json.len() - 1], depth);
        if let Some(q) = &quoted {
            assert_eq!(plain.as_ref(), Some(q), "{text}");
        }
        (plain, quoted.is_some())
    }

    /// `members_as` reads on after a string read where it sits, reads values of other
    /// kinds, and answers `None` when a string handed over is not read.
    #[test]
    fn members_as_reads_on_after_a_quoted_string() {
        let text = r#"{"m":"{\"a\":[1,\"x\"]} ","n":"{}","t":["u"],"k":{"a":1}}"#;
        let mut seen = Vec::new();
        let quoted = |name: &str| {
            Some(if name == "t" {
                Take::Read
            } else {
                Take::Quoted
            })
        };
        members_as(text, 3, quoted, |name, part| {
            match part {
                Part::Quoted(q) => q.members(
                    2,
                    |_| true,
                    |k, v| {
                        seen.push(format!("{name}.{k}={}", v.to_json()));
                        Some(())
                    },
                )?,
                Part::Read(v) => seen.push(format!("{name}={}", v.to_json())),
            }
            Some(())
        })
        .unwrap();
        assert_eq!(seen, [r#"m.a=[1,"x"]"#, r#"t=["u"]"#, r#"k={"a":1}"#]);
        // depth counted from the string's object; a string not read; a name refused
        let read_all = |depth: usize| {
            members_as(text, 3, quoted, |_, part| match part {
                Part::Quoted(q) => q.members(depth, |_| true, |_, _| Some(())),
                Part::Read(_) => Some(()),
            })
        };
        assert!(read_all(2).is_some() && read_all(1).is_none());
        assert!(members_as(text, 3, quoted, |_, _| Some(())).is_none());
        assert!(
            members_as(
                text,
                3,
                |n| (n != "k").then_some(Take::Read),
                |_, _| Some(())
            )
            .is_none()
        );
    }

    /// [`Quoted`] reads a text escaped in a JSON string as `members` reads the
    /// text, or leaves it: it reads every text whose only escapes there are its quotes,
    /// and leaves every other (white space but spaces, escapes in its strings).
    #[test]
    fn quoted_strings_are_read_as_members_reads_the_text_unescaped() {
        let names = [
            r#""a""#,
            r#""b c""#,
            r#""é""#,
            r#""""#,
            r#""q\"x""#,
            r#""t\n""#,
        ];
        let values = [
            "1",
            "-0",
            "1.5e3",
            "true",
            "null",
            r#""s""#,
            r#""""#,
            r#"[1,"x",[]]"#,
            r#"{"k":"v","n":{}}"#,
            r#""a\/b""#,
            r#""\u00e9""#,
            r#""é""#,
            "[",
            "tru",
            "01",
        ];
        let spaces = ["", " ", "  ", "\n", "\t"];
        let (mut read, mut both) = (0, 0);
        for n in names {
            for v in values {
                for (i, sp) in spaces.iter().enumerate() {
                    let one = format!("{{{sp}{n}{sp}:{sp}{v}{sp}}}");
                    let two = format!(r#"{{"z":{v},{n}:{}}}{sp}"#, values[i]);
                    for text in [one, two] {
                        let (plain, quoted) = both_readings(&text, 3);
                        let only_quotes = !serde_json::to_string(&text).unwrap()[1..]
                            .trim_end_matches('"')
                            .replace("\\\"", "")
                            .contains('\\');
                        if plain.is_some() && only_quotes {
                            assert!(quoted, "left: {text}");
                        }
                        assert!(!quoted || only_quotes, "read with escapes: {text}");
                        read += usize::from(quoted);
                        both += usize::from(plain.is_some());
                    }
                }
            }
        }
        assert!(read > 100 && both > read, "{read} of {both}");
        // depth counted as `members` counts it; texts that are not one object
        for (text, depth) in [
            (r#"{"a":[{"b":1}]}"#, 3),
            (r#"{"a":[{"b":1}]}"#, 2),
            ("[1]", 3),
            ("1", 3),
            (r#"{"a":1} x"#, 3),
            (r#"{"a":1,}"#, 3),
            ("", 3),
        ] {
            let (plain, quoted) = both_readings(text, depth);
            assert_eq!(plain.is_some(), quoted, "{text} {depth}");
        }
        // an unescaped quote, a lone backslash, or white space JSON escapes in a string,
        // raw, in what should be escaped text (the reader of plain text steps over it)
        assert!(read_quoted(r#"{\"a\": 1 }"#, 3).is_some());
        for q in [
            "{\\\"a\\\":\n1}",
            "{\\\"a\\\":\t1}",
            "{\\\"a\\\":1}\r",
            // an escape other than a quote where a value starts (`\n` here), which
            // must not be taken for one
            r#"{\"a\":\nx\"}"#,
            r#"{\"a\":[\tx\"]}"#,
            r#"{"a":1}"#,
            r#"{\"a\":"1"}"#,
            r#"{\"a\":1\}"#,
            r#"{\"a\":\"1\"#,
            r#"{\"a\"\:1}"#,
        ] {
            assert!(read_quoted(q, 3).is_none(), "{q}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let v = from_str(r#"{"a":"plain","b":"esc\n"}"#).unwrap();
        assert!(matches!(
            v.get("a"),
            Some(Value::String(Cow::Borrowed("plain")))
        ));
        assert!(matches!(v.get("b"), Some(Value::String(Cow::Owned(_)))));
    }

    #[test]
    fn names_are_found_in_objects_of_every_size() {
        // scanned up to SCAN_MAX names, searched beyond: every name found, and names of
        // the same lengths and first bytes that are not there not found
        for n in 0..=2 * SCAN_MAX + 2 {
            let names: Vec<String> = (0..n).map(|i| format!("k{:03}", i * 2)).collect();
            let m: Map = names
                .iter()
                .rev()
                .map(|k| (k.clone(), Value::from(k.clone())))
                .collect();
            for k in &names {
                assert_eq!(m.get(k).and_then(Value::as_str), Some(k.as_str()), "{n}");
            }
            for i in 0..=n {
                let absent = format!("k{:03}", i * 2 + 1);
                assert!(
                    m.get(&absent).is_none() && m.get(&absent[..3]).is_none(),
                    "{n}"
                );
            }
        }
    }

    #[test]
    fn objects_stay_sorted_through_insert_and_remove() {
        let mut m = Map::new();
        for k in ["m", "a", "z", "b", "a"] {
            m.insert(k, Value::from(k));
        }
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "m", "z"]);
        assert_eq!(m.remove("b"), Some(Value::from("b")));
        assert_eq!(m.remove("b"), None);
        assert!(m.contains_key("z") && !m.contains_key("b"));
        *m.get_or_insert_with("c", || Value::from(1)) = Value::from(2);
        assert_eq!(
            Value::Object(m).to_string(),
            r#"{"a":"a","c":2,"m":"m","z":"z"}"#
        );
    }
}
