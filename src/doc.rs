//! The document under construction: a JSON object addressed by dotted ECS paths, plus the
//! field-level errors and tags that the mapping collected.
//!
//! The objects a mapping makes by setting dotted paths are kept as small vectors of
//! `(name, slot)` in the order they were made, not as `serde_json` maps: a path walk
//! compares a few short names in place instead of searching `BTreeMap` nodes, and a
//! document is sorted once, when it is written. Values set whole (a vendor object kept
//! under `misp.attribute`, a list) stay vendor JSON values ([`crate::json`]), whose
//! strings may point into the record, and a path that goes on into one walks its map. Output key order is the sorted order of `serde_json`'s default map,
//! so golden files diff cleanly and both ways of finishing a document
//! ([`Fields::into_map`], [`Fields::write_json`]) give the same bytes.

use std::borrow::Cow;
use std::rc::Rc;

use crate::json::{Json, Map, Value, name_order, same_name, write};
use sha2::{Digest, Sha256};

use crate::Cleanup;

/// A field name: a name given by a literal path is kept without a copy, and written
/// without an escape check (the program's paths hold nothing to escape; debug builds
/// check).
type Name = Cow<'static, str>;

/// A dotted path given to [`Doc`]'s setters: a literal (`"threat.indicator.ip"`, whose
/// names the document keeps without copying them) or text made at run time (`&String`,
/// [`Path::Other`]; its names are copied when a field is made).
#[derive(Debug, Clone, Copy)]
pub enum Path<'p> {
    /// A literal or a constant.
    Static(&'static str),
    /// Text made at run time.
    Other(&'p str),
}

impl<'p> Path<'p> {
    fn text(&self) -> &str {
        match self {
            Path::Static(s) => s,
            Path::Other(s) => s,
        }
    }

    /// The path's text as a field name: a literal's kept as it is, other text copied.
    fn name(self) -> Name {
        match self {
            Path::Static(s) => Cow::Borrowed(s),
            Path::Other(s) => Cow::Owned(s.to_string()),
        }
    }

    /// The path cut in two by `at` (into the rest and one name), both parts of its kind.
    fn cut(self, at: for<'a> fn(&'a str) -> (Option<&'a str>, &'a str)) -> (Option<Self>, Self) {
        match self {
            Path::Static(s) => {
                let (rest, name) = at(s);
                (rest.map(Path::Static), Path::Static(name))
            }
            Path::Other(s) => {
                let (rest, name) = at(s);
                (rest.map(Path::Other), Path::Other(name))
            }
        }
    }

    /// Where the path ends: its parent, then its last name.
    fn split(self) -> (Option<Self>, Self) {
        self.cut(split_last)
    }

    /// The path's names, each of its kind.
    fn names(self) -> impl Iterator<Item = Self> {
        let mut rest = Some(self);
        std::iter::from_fn(move || {
            let (next, name) = rest?.cut(split_first);
            rest = next;
            Some(name)
        })
    }
}

impl From<&'static str> for Path<'static> {
    fn from(s: &'static str) -> Self {
        Path::Static(s)
    }
}

impl<'p> From<&'p String> for Path<'p> {
    fn from(s: &'p String) -> Self {
        Path::Other(s)
    }
}

/// The fields of an object made by dotted paths: each name once, in the order made.
#[derive(Debug, Default, PartialEq)]
pub struct Fields<'v>(Vec<(Name, Slot<'v>)>);

/// Room a copy of [`Fields`] leaves for more fields at each level.
const COPY_ROOM: usize = 8;

/// A copy is made to be added to (a whole MISP event's part of a document, copied into
/// each of the event's documents, which then get their attribute's fields): each level
/// has room for a few more fields, so they go in without growing it again.
impl Clone for Fields<'_> {
    fn clone(&self) -> Self {
        let mut f = Vec::with_capacity(self.0.len() + COPY_ROOM);
        f.extend(self.0.iter().cloned());
        Fields(f)
    }
}

/// What a name of [`Fields`] holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot<'v> {
    /// An object made by dotted paths.
    Obj(Fields<'v>),
    /// A value set whole.
    Val(Value<'v>),
    /// A string known when the program was built (the constant fields every document
    /// has): written as it is, never copied. Not a value to [`Doc::get`].
    Lit(&'static str),
    /// A list of such strings.
    Lits(&'static [&'static str]),
    /// An object of such strings, by name in name order (a data set's constant objects:
    /// `data_stream`, `threat.feed`, …), set without making an object. A path that goes
    /// into it makes it an object first ([`Slot::open`]).
    Consts(Consts),
    /// A vendor object set whole, with its JSON written once, shared by the documents
    /// it was copied into ([`Doc::freeze`]): its text is written as it is; reads see the
    /// value; a path that goes into it to change it makes it a [`Slot::Val`] again first
    /// ([`Slot::open`]).
    Frozen(Rc<Frozen<'v>>),
}

/// A value and its JSON as the data set's cleanup writes it.
#[derive(Debug, PartialEq)]
pub(crate) struct Frozen<'v> {
    value: Value<'v>,
    json: String,
}

/// Names and constant strings, in name order.
pub(crate) type Consts = &'static [(&'static str, &'static str)];

impl<'v> Slot<'v> {
    fn into_value(self) -> Value<'v> {
        match self {
            Slot::Obj(f) => Value::Object(f.into_json()),
            Slot::Val(v) => v,
            Slot::Lit(s) => Value::from(s),
            Slot::Lits(l) => Value::from(l.to_vec()),
            Slot::Consts(c) => Value::Object(c.iter().map(|&(k, v)| (k, Value::from(v))).collect()),
            Slot::Frozen(f) => Rc::try_unwrap(f).map_or_else(|f| f.value.clone(), |f| f.value),
        }
    }

    /// A [`Slot::Consts`] made an object of [`Slot::Lit`]s, and a [`Slot::Frozen`] its
    /// value again, to go into; other slots are left as they are. Every step of a
    /// path walk asks, and nearly every slot is neither: the work is out of the way.
    #[inline]
    fn open(&mut self) {
        if matches!(self, Slot::Consts(_) | Slot::Frozen(_)) {
            self.opened();
        }
    }

    #[cold]
    #[inline(never)]
    fn opened(&mut self) {
        *self = match std::mem::replace(self, Slot::Val(Value::Null)) {
            Slot::Consts(c) => {
                let fields = c.iter().map(|&(k, v)| (Cow::Borrowed(k), Slot::Lit(v)));
                Slot::Obj(Fields(fields.collect()))
            }
            other => Slot::Val(other.into_value()),
        };
    }

    /// This slot as a value set whole, turned into one if it is not (`None` cannot
    /// happen).
    fn as_value(&mut self) -> Option<&mut Value<'v>> {
        if !matches!(self, Slot::Val(_)) {
            let slot = std::mem::replace(self, Slot::Val(Value::Null));
            *self = Slot::Val(slot.into_value());
        }
        match self {
            Slot::Val(v) => Some(v),
            _ => None,
        }
    }
}

/// An object on a path: made by paths, or a vendor JSON object set whole.
enum ObjMut<'a, 'v> {
    Fields(&'a mut Fields<'v>),
    Map(&'a mut Map<'v>),
}

/// A step of a read-only walk.
enum At<'a, 'v> {
    Fields(&'a Fields<'v>),
    Value(&'a Value<'v>),
    /// A [`Slot::Lit`] or [`Slot::Lits`].
    Lit,
    /// A [`Slot::Consts`].
    Consts(Consts),
}

impl<'v> Fields<'v> {
    /// A new object, with room for the few fields most ECS objects have: growing a
    /// vector from empty costs a reallocation at 4 and at 8.
    fn object() -> Self {
        Fields(Vec::with_capacity(8))
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| same_name(k, name))
    }

    fn slot(&self, name: &str) -> Option<&Slot<'v>> {
        self.0
            .iter()
            .find(|(k, _)| same_name(k, name))
            .map(|(_, s)| s)
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Slot<'v>> {
        self.0
            .iter_mut()
            .find(|(k, _)| same_name(k, name))
            .map(|(_, s)| s)
    }

    /// Sets `name` to `slot`, replacing what it held.
    fn put(&mut self, name: Path<'_>, slot: Slot<'v>) {
        match self.slot_mut(name.text()) {
            Some(s) => *s = slot,
            None => self.0.push((name.name(), slot)),
        }
    }

    /// The object at `name`, made (or made of a non-object found there) on the way.
    fn child(&mut self, name: Path<'_>) -> Option<ObjMut<'_, 'v>> {
        let i = match self.position(name.text()) {
            Some(i) => i,
            None => {
                self.0.push((name.name(), Slot::Obj(Fields::object())));
                self.0.len() - 1
            }
        };
        let slot = &mut self.0.get_mut(i)?.1;
        slot.open();
        if !matches!(slot, Slot::Obj(_) | Slot::Val(Value::Object(_))) {
            *slot = Slot::Obj(Fields::object());
        }
        match slot {
            Slot::Obj(f) => Some(ObjMut::Fields(f)),
            Slot::Val(Value::Object(m)) => Some(ObjMut::Map(m)),
            _ => None,
        }
    }

    /// The fields as a `serde_json` map (sorted by name).
    pub fn into_map(self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .into_iter()
            .map(|(k, s)| (k.into_owned(), s.into_value().into_serde()))
            .collect()
    }

    /// The fields owning every string.
    pub(crate) fn into_owned(self) -> Fields<'static> {
        let slot = |s: Slot<'v>| match s {
            Slot::Obj(f) => Slot::Obj(f.into_owned()),
            Slot::Val(v) => Slot::Val(v.into_owned()),
            Slot::Lit(l) => Slot::Lit(l),
            Slot::Lits(l) => Slot::Lits(l),
            Slot::Consts(c) => Slot::Consts(c),
            Slot::Frozen(f) => Slot::Frozen(Rc::new(Frozen {
                value: f.value.clone().into_owned(),
                json: f.json.clone(),
            })),
        };
        Fields(self.0.into_iter().map(|(k, s)| (k, slot(s))).collect())
    }

    /// The fields as an object of vendor JSON's kind (sorted by name).
    fn into_json(self) -> Map<'v> {
        self.0
            .into_iter()
            .map(|(k, s)| (k, s.into_value()))
            .collect()
    }

    /// Removes `name` from this object, if there.
    fn remove(&mut self, name: &str) -> Option<Value<'v>> {
        let i = self.position(name)?;
        Some(self.0.swap_remove(i).1.into_value())
    }
}

impl<'v> ObjMut<'_, 'v> {
    /// Sets `name` to `slot` (in a map set whole, as a value).
    fn insert(&mut self, name: Path<'_>, slot: Slot<'v>) {
        match self {
            ObjMut::Fields(f) => f.put(name, slot),
            ObjMut::Map(m) => {
                m.insert(name.text().to_string(), slot.into_value());
            }
        }
    }

    fn child(self, name: Path<'_>) -> Option<Self> {
        match self {
            ObjMut::Fields(f) => f.child(name),
            ObjMut::Map(m) => {
                let name = name.text();
                // Look before inserting: the key is allocated only when the object is new.
                if !m.get(name).is_some_and(Value::is_object) {
                    m.insert(name.to_string(), Value::Object(Map::new()));
                }
                m.get_mut(name)?.as_object_mut().map(ObjMut::Map)
            }
        }
    }
}

/// One output document being built by a mapping.
#[derive(Debug, Default, Clone)]
pub struct Doc<'v> {
    fields: Fields<'v>,
    errors: Vec<String>,
    /// The mapping's tags: borrowed from the record where it holds them as they are.
    tags: Vec<Cow<'v, str>>,
    /// `event.original` for this document when it differs from the record's text (one
    /// document of a fan-out keeps the JSON of its own item).
    pub original: Option<String>,
    /// The IOC key (same indicator → same key across polls), e.g. `misp:<event>:<attribute>`.
    pub key: Option<String>,
    /// The version fingerprint (identical re-fetch → same fingerprint), set with
    /// [`Doc::fingerprint_over`]; without one it is the hash of `event.original`.
    pub fingerprint: Option<String>,
}

impl<'v> Doc<'v> {
    /// An empty document (with room for the dozen top-level fields a document has).
    pub fn new() -> Self {
        Doc {
            fields: Fields(Vec::with_capacity(16)),
            ..Doc::default()
        }
    }

    /// The object at `parent` (dotted; `None`: the document), made on the way: a
    /// non-object met there is replaced by an object.
    fn object_at(&mut self, parent: Option<Path<'_>>) -> Option<ObjMut<'_, 'v>> {
        let mut cur = ObjMut::Fields(&mut self.fields);
        if let Some(parent) = parent {
            for p in parent.names() {
                cur = cur.child(p)?;
            }
        }
        Some(cur)
    }

    /// The object at `parent` if there is one, made of nothing on the way.
    fn find_object(&mut self, parent: Option<&str>) -> Option<ObjMut<'_, 'v>> {
        let mut cur = ObjMut::Fields(&mut self.fields);
        if let Some(parent) = parent {
            for p in segments(parent) {
                cur = match cur {
                    ObjMut::Fields(f) => {
                        let slot = f.slot_mut(p)?;
                        slot.open();
                        match slot {
                            Slot::Obj(g) => ObjMut::Fields(g),
                            Slot::Val(v) => ObjMut::Map(v.as_object_mut()?),
                            // opened above: not frozen any more
                            Slot::Lit(_) | Slot::Lits(_) | Slot::Consts(_) | Slot::Frozen(_) => {
                                return None;
                            }
                        }
                    }
                    ObjMut::Map(m) => ObjMut::Map(m.get_mut(p)?.as_object_mut()?),
                };
            }
        }
        Some(cur)
    }

    /// Sets `path` (dotted) to `v`, creating objects on the way. A non-object met on the
    /// way is replaced by an object (the later, more specific field wins).
    pub fn set<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>) {
        let (parent, leaf) = path.into().split();
        if let Some(mut obj) = self.object_at(parent) {
            obj.insert(leaf, Slot::Val(v.into()));
        }
    }

    /// Sets each `(name, value)` under the object at `parent` (dotted), walking to it once:
    /// the same as a [`Doc::set`] of `parent.name` for each.
    pub fn set_under(
        &mut self,
        parent: &'static str,
        fields: impl IntoIterator<Item = (&'static str, Value<'v>)>,
    ) {
        self.put_under(parent, fields.into_iter().map(|(n, v)| (n, Slot::Val(v))));
    }

    /// [`Doc::set_under`] for slots: the constant fields, as [`Slot::Lit`]s, without a
    /// copy.
    pub(crate) fn put_under(
        &mut self,
        parent: &'static str,
        fields: impl IntoIterator<Item = (&'static str, Slot<'v>)>,
    ) {
        if let Some(mut obj) = self.object_at(Some(Path::Static(parent))) {
            for (name, slot) in fields {
                obj.insert(Path::Static(name), slot);
            }
        }
    }

    /// Sets the object at `path` (dotted) to the constant strings `consts` (in name order),
    /// as [`Doc::put_under`] of each would, without making an object when there is none
    /// yet: the constant objects every document gets.
    pub(crate) fn put_consts(&mut self, path: &'static str, consts: Consts) {
        debug_assert!(
            consts.is_sorted_by(|a, b| name_order(a.0, b.0).is_lt()),
            "{consts:?}"
        );
        let (parent, leaf) = Path::Static(path).split();
        if let Some(ObjMut::Fields(f)) = self.object_at(parent)
            && f.position(leaf.text()).is_none()
        {
            f.0.push((leaf.name(), Slot::Consts(consts)));
            return;
        }
        self.put_under(path, consts.iter().map(|&(k, v)| (k, Slot::Lit(v))));
    }

    /// The event fields every indicator document opens with: `event.kind: enrichment`,
    /// `event.category: [threat]`, `event.type: [indicator]`.
    pub fn enrichment(&mut self) {
        self.put_under(
            "event",
            [
                ("kind", Slot::Lit("enrichment")),
                ("category", Slot::Lits(&["threat"])),
                ("type", Slot::Lits(&["indicator"])),
            ],
        );
    }

    /// Sets `path` only when it holds nothing yet.
    pub fn set_if_absent<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>) {
        let path = path.into();
        if !self.has(path.text()) {
            self.set(path, v);
        }
    }

    /// Whether `path` holds anything: a value, or an object made by paths.
    pub fn has(&self, path: &str) -> bool {
        self.at(path).is_some()
    }

    fn at(&self, path: &str) -> Option<At<'_, 'v>> {
        let mut at = At::Fields(&self.fields);
        for p in segments(path) {
            at = match at {
                At::Fields(f) => match f.slot(p)? {
                    Slot::Obj(g) => At::Fields(g),
                    Slot::Val(v) => At::Value(v),
                    Slot::Frozen(f) => At::Value(&f.value),
                    Slot::Lit(_) | Slot::Lits(_) => At::Lit,
                    Slot::Consts(c) => At::Consts(c),
                },
                At::Consts(c) => {
                    c.iter().find(|(k, _)| *k == p)?;
                    At::Lit
                }
                At::Value(v) => At::Value(v.as_object()?.get(p)?),
                At::Lit => return None,
            };
        }
        Some(at)
    }

    /// Writes the vendor object set whole at `path` as JSON once, as `cleanup` writes
    /// it, and keeps that text beside it (a `Slot::Frozen`): copies of the document
    /// share both and write the text without walking the object again. Reads see the
    /// object as before; a path set or removed under it, or [`Doc::get_mut`] of it, makes
    /// it an object of the document's own again. Anything else at `path` is left as it
    /// is.
    pub fn freeze(&mut self, path: &str, cleanup: Cleanup) {
        let (parent, leaf) = split_last(path);
        let Some(ObjMut::Fields(f)) = self.find_object(parent) else {
            return;
        };
        let Some(slot) = f.slot_mut(leaf) else {
            return;
        };
        if let Slot::Val(v @ Value::Object(_)) = slot {
            let mut out = Vec::with_capacity(512);
            write::value(v, Some(cleanup), &mut out);
            // what the writer writes is JSON text made of strings: always UTF-8
            if let Ok(json) = String::from_utf8(out) {
                let value = v.take();
                *slot = Slot::Frozen(Rc::new(Frozen { value, json }));
            }
        }
    }

    /// The value at `path`, if any. An object made by setting paths under it is not a
    /// value: [`Doc::has`] tells it is there, [`Doc::remove`] takes it as one.
    pub fn get(&self, path: &str) -> Option<&Value<'v>> {
        match self.at(path)? {
            At::Value(v) => Some(v),
            At::Fields(_) | At::Lit | At::Consts(_) => None,
        }
    }

    /// The value at `path`, to change in place (no second walk, no key copied); as
    /// [`Doc::get`], not an object made by paths.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Value<'v>> {
        let (parent, leaf) = split_last(path);
        match self.find_object(parent)? {
            ObjMut::Fields(f) => {
                let slot = f.slot_mut(leaf)?;
                if matches!(slot, Slot::Frozen(_)) {
                    // to change it, the document's own value again
                    slot.opened();
                }
                match slot {
                    Slot::Val(v) => Some(v),
                    _ => None,
                }
            }
            ObjMut::Map(m) => m.get_mut(leaf),
        }
    }

    /// A copy of what `path` holds, an object made by paths included (for tests).
    #[cfg(test)]
    pub(crate) fn tree_at(&self, path: &str) -> Option<serde_json::Value> {
        let mut v = serde_json::Value::Object(self.fields.clone().into_map());
        for p in segments(path) {
            v = v.as_object_mut()?.remove(p)?;
        }
        Some(v)
    }

    /// The string at `path`, if it is one.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// Removes and returns the value at `path` (an object made by paths as an object).
    pub fn remove(&mut self, path: &str) -> Option<Value<'v>> {
        let (parent, leaf) = split_last(path);
        match self.find_object(parent)? {
            ObjMut::Fields(f) => f.remove(leaf),
            ObjMut::Map(m) => m.remove(leaf),
        }
    }

    /// Appends `v` to the array at `path` (making one, or wrapping a scalar found there).
    pub fn push<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>) {
        let (parent, leaf) = path.into().split();
        let slot = match self.object_at(parent) {
            Some(ObjMut::Fields(f)) => {
                let i = match f.position(leaf.text()) {
                    Some(i) => i,
                    None => {
                        f.0.push((leaf.name(), Slot::Val(Value::Array(Vec::new()))));
                        f.0.len() - 1
                    }
                };
                let Some(slot) = f.0.get_mut(i).and_then(|(_, s)| s.as_value()) else {
                    return;
                };
                slot
            }
            Some(ObjMut::Map(m)) => {
                m.get_or_insert_with(leaf.text().to_string(), || Value::Array(Vec::new()))
            }
            None => return,
        };
        if !slot.is_array() {
            let old = slot.take();
            *slot = Value::Array(if old.is_null() { vec![] } else { vec![old] });
        }
        if let Value::Array(a) = slot {
            a.push(v.into());
        }
    }

    /// Appends `v` to the array at `path` unless an equal value is there already.
    pub fn push_unique<'p>(&mut self, path: impl Into<Path<'p>>, v: impl Into<Value<'v>>) {
        let (path, v) = (path.into(), v.into());
        if let Some(Value::Array(a)) = self.get(path.text())
            && a.contains(&v)
        {
            return;
        }
        self.push(path, v);
    }

    /// Sets the version fingerprint: SHA-256, as lowercase hex, over each value serialised
    /// as JSON and followed by the byte 0x1f (an absent value counts as `null`). The values
    /// are serialised where they lie: no tree is copied.
    pub fn fingerprint_over<'x, T: Json + ?Sized + 'x>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'x T>>,
    ) {
        self.fingerprint = Some(fingerprint_of(values));
    }

    /// Records a field-level error: the document is kept and marked `pipeline_error`.
    /// Say which field and which raw value, lowercase, no trailing period.
    pub fn error(&mut self, msg: impl Into<String>) {
        self.errors.push(msg.into());
    }

    /// Appends a tag (after the record's and the options' tags); duplicates are kept, as
    /// Elastic appends them.
    pub fn tag(&mut self, t: impl Into<Cow<'v, str>>) {
        self.tags.push(t.into());
    }

    /// The errors recorded so far.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The mapping's tags.
    pub fn tags(&self) -> &[Cow<'v, str>] {
        &self.tags
    }

    /// Takes the built fields out, as a `serde_json` map.
    pub fn into_parts(
        self,
    ) -> (
        serde_json::Map<String, serde_json::Value>,
        Vec<String>,
        Vec<String>,
    ) {
        let tags = self.tags.into_iter().map(Cow::into_owned).collect();
        (self.fields.into_map(), self.errors, tags)
    }

    /// Takes the errors and the tags out, leaving the fields to finish.
    pub(crate) fn take_notes(&mut self) -> (Vec<String>, Vec<Cow<'v, str>>) {
        (
            std::mem::take(&mut self.errors),
            std::mem::take(&mut self.tags),
        )
    }

    /// The built fields.
    pub(crate) fn into_fields(self) -> Fields<'v> {
        self.fields
    }
}

impl Fields<'_> {
    /// Writes the fields as one JSON object after `cleanup`: the bytes `serde_json` writes
    /// for [`Fields::into_map`] cleaned by [`remove_empty`] or [`remove_nulls`] (and, with
    /// the latter, without an empty top-level `tags` list), without making that map.
    pub fn write_json(&mut self, cleanup: Cleanup, out: &mut Vec<u8>) {
        write_fields(self, cleanup, true, out);
    }
}

/// Sorts the fields by name, in `serde_json`'s map order (bytewise, as a record's objects
/// are sorted: [`name_order`]).
fn sort(f: &mut Fields<'_>) {
    f.0.sort_unstable_by(|(a, _), (b, _)| name_order(a, b));
}

fn write_fields(f: &mut Fields<'_>, cleanup: Cleanup, top: bool, out: &mut Vec<u8>) {
    sort(f);
    out.push(b'{');
    let mut first = true;
    for (name, slot) in &mut f.0 {
        if let Slot::Val(v) = slot {
            let dropped = match v {
                Value::Null => true,
                Value::String(s) => cleanup == Cleanup::AllEmpty && s.is_empty(),
                // a record without tags: no empty `tags` list
                Value::Array(a) => top && a.is_empty() && name == "tags",
                _ => false,
            };
            if dropped {
                continue;
            }
        }
        // written, then taken back if the cleanup left nothing of it (`write::field`)
        let (mark, was_first) = (out.len(), first);
        match name {
            // a name the program spells (a literal path's) holds nothing to escape
            Cow::Borrowed(name) => {
                write::comma(&mut first, out);
                write::plain(name, out);
                out.push(b':');
            }
            Cow::Owned(name) => write::key(name, &mut first, out),
        }
        let start = out.len();
        write_slot(slot, cleanup, out);
        if cleanup == Cleanup::AllEmpty && write::wrote_blank(&out[start..]) {
            out.truncate(mark);
            first = was_first;
        }
    }
    out.push(b'}');
}

fn write_slot(slot: &mut Slot<'_>, cleanup: Cleanup, out: &mut Vec<u8>) {
    match slot {
        Slot::Obj(g) => write_fields(g, cleanup, false, out),
        Slot::Val(v) => write::value(v, Some(cleanup), out),
        Slot::Lit(s) => write::string(s, out),
        Slot::Frozen(f) => out.extend_from_slice(f.json.as_bytes()),
        Slot::Lits(l) => {
            out.push(b'[');
            let kept = l
                .iter()
                .filter(|s| cleanup == Cleanup::NullsOnly || !s.is_empty());
            for (i, s) in kept.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write::string(s, out);
            }
            out.push(b']');
        }
        Slot::Consts(c) => {
            out.push(b'{');
            let kept = c
                .iter()
                .filter(|(_, v)| cleanup == Cleanup::NullsOnly || !v.is_empty());
            for (i, (k, v)) in kept.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write::plain(k, out);
                out.push(b':');
                write::string(v, out);
            }
            out.push(b'}');
        }
    }
}

/// The fingerprint of `values` ([`Doc::fingerprint_over`]): each written as JSON
/// (`null` when absent) and followed by a unit separator, the whole hashed once.
pub fn fingerprint_of<'x, T: Json + ?Sized + 'x>(
    values: impl IntoIterator<Item = Option<&'x T>>,
) -> String {
    let mut buf = Vec::with_capacity(1024);
    for v in values {
        match v {
            Some(v) => v.write_json(&mut buf),
            None => buf.extend_from_slice(b"null"),
        }
        buf.push(0x1f);
    }
    sha256_hex(&buf)
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

/// The segments of a dotted path.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    Path::Other(path).names().map(|p| match p {
        Path::Static(s) | Path::Other(s) => s,
    })
}

/// The first name of a dotted path, and what follows its dot. Paths are a few short
/// names: a byte loop finds the dot sooner than `str::split`'s searcher, which dominated
/// the path walks.
/// The bytes of `w` (eight of a path, little-endian) that are dots: the high bit of each,
/// exactly (no carry between bytes).
#[inline]
fn dots(w: [u8; 8]) -> u64 {
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let x = u64::from_le_bytes(w) ^ u64::from_ne_bytes([b'.'; 8]);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Where the first dot of `b` is: eight bytes at a time.
#[inline]
fn first_dot(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(w) = b.get(at..at + 8) {
        let m = dots(w.try_into().unwrap_or_default());
        if m != 0 {
            return Some(at + m.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = b.get(at..).unwrap_or_default();
    rest.iter().position(|&c| c == b'.').map(|i| at + i)
}

/// Where the last dot of `b` is: eight bytes at a time, from the end.
#[inline]
fn last_dot(b: &[u8]) -> Option<usize> {
    let mut end = b.len();
    while end >= 8 {
        let m = dots(b[end - 8..end].try_into().unwrap_or_default());
        if m != 0 {
            return Some(end - 8 + (63 - m.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    b[..end].iter().rposition(|&c| c == b'.')
}

fn split_first(path: &str) -> (Option<&str>, &str) {
    match first_dot(path.as_bytes()) {
        Some(i) => (path.get(i + 1..), path.get(..i).unwrap_or_default()),
        None => (None, path),
    }
}

/// A dotted path's parent, and its last name.
fn split_last(path: &str) -> (Option<&str>, &str) {
    match last_dot(path.as_bytes()) {
        Some(i) => (path.get(..i), path.get(i + 1..).unwrap_or_default()),
        None => (None, path),
    }
}

/// Removes every `null`, `""`, empty object and empty array, recursively, also inside
/// arrays (Elastic's cleanup script). Depth is bounded by the input depth limit.
pub fn remove_empty(map: &mut serde_json::Map<String, serde_json::Value>) {
    map.retain(|_, v| {
        clean_value(v);
        !is_empty(v)
    });
}

/// Removes every map entry whose value is `null`, recursively, also inside arrays; keeps
/// `""`, `[]`, `{}` and `null` array elements (Elastic's MISP null scrub).
pub fn remove_nulls(map: &mut serde_json::Map<String, serde_json::Value>) {
    map.retain(|_, v| {
        nulls_within(v);
        !v.is_null()
    });
}

/// [`remove_nulls`] on every map inside `v`, through arrays at any depth (an array of
/// arrays of objects too); the depth is bounded by the input depth limit.
fn nulls_within(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => remove_nulls(m),
        serde_json::Value::Array(a) => a.iter_mut().for_each(nulls_within),
        _ => {}
    }
}

fn clean_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => remove_empty(m),
        serde_json::Value::Array(a) => {
            a.iter_mut().for_each(clean_value);
            a.retain(|x| !is_empty(x));
        }
        _ => {}
    }
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;

    /// What a document writes with `cleanup`, and its tree cleaned the same way.
    fn written_and_cleaned(
        d: &Doc,
        cleanup: Cleanup,
    ) -> (String, serde_json::Map<String, serde_json::Value>) {
        let mut bytes = Vec::new();
        d.clone().into_fields().write_json(cleanup, &mut bytes);
        let mut map = d.clone().into_fields().into_map();
        match cleanup {
            Cleanup::AllEmpty => remove_empty(&mut map),
            Cleanup::NullsOnly => remove_nulls(&mut map),
        }
        (String::from_utf8(bytes).unwrap(), map)
    }

    #[test]
    fn a_frozen_object_is_written_and_read_as_before_and_thawed_to_change() {
        let cleaned = written_and_cleaned;
        for cleanup in [Cleanup::AllEmpty, Cleanup::NullsOnly] {
            let mut d = Doc::new();
            d.set(
                "misp.event",
                json!({"z": null, "y": "", "x": [], "w": {"v": 1.5, "u": null}, "t": "é\"\n"}),
            );
            d.set("misp.attribute.id", "7");
            d.set("misp.list", json!([1, 2]));
            let mut frozen = d.clone();
            for path in ["misp.event", "misp.list", "misp.attribute", "misp.none"] {
                frozen.freeze(path, cleanup);
            }
            // only the vendor object set whole is frozen
            fn slot<'v>(d: &Doc<'v>, name: &str) -> Option<Slot<'v>> {
                match d.fields.slot("misp") {
                    Some(Slot::Obj(f)) => f.slot(name).cloned(),
                    _ => None,
                }
            }
            assert!(matches!(slot(&frozen, "event"), Some(Slot::Frozen(_))));
            assert!(matches!(slot(&frozen, "list"), Some(Slot::Val(_))));
            assert!(matches!(slot(&frozen, "attribute"), Some(Slot::Obj(_))));
            assert_eq!(cleaned(&frozen, cleanup), cleaned(&d, cleanup));
            // copies share the text
            let copy = frozen.clone();
            match (slot(&frozen, "event"), slot(&copy, "event")) {
                (Some(Slot::Frozen(a)), Some(Slot::Frozen(b))) => assert!(Rc::ptr_eq(&a, &b)),
                other => panic!("{other:?}"),
            }
            // read as before, the raw value (nulls and all) included
            for path in [
                "misp.event",
                "misp.event.w",
                "misp.event.w.u",
                "misp.event.t",
            ] {
                assert!(frozen.has(path), "{path}");
                assert_eq!(frozen.get(path), d.get(path), "{path}");
            }
            // a path set under it, or a change in place, makes it a value again first
            let mut changed = frozen.clone();
            changed.set("misp.event.w.s", "new");
            d.set("misp.event.w.s", "new");
            assert!(matches!(slot(&changed, "event"), Some(Slot::Val(_))));
            assert_eq!(cleaned(&changed, cleanup), cleaned(&d, cleanup));
            if let Some(v) = frozen.get_mut("misp.event") {
                *v = json!({"w": {"s": "new"}});
            }
            assert!(matches!(slot(&frozen, "event"), Some(Slot::Val(_))));
            assert_eq!(frozen.get("misp.event.w.s"), d.get("misp.event.w.s"));
            assert_eq!(frozen.get("misp.event.t"), None);
            // the copy that shared its text keeps it
            assert!(matches!(slot(&copy, "event"), Some(Slot::Frozen(_))));
            assert_eq!(cleaned(&copy, cleanup).1["misp"]["event"]["t"], "é\"\n");
        }
    }

    #[test]
    fn set_get_remove_by_path() {
        let mut d = Doc::new();
        d.set("threat.indicator.type", "url");
        d.set("threat.indicator.url.domain", "x.test");
        assert_eq!(d.get_str("threat.indicator.type"), Some("url"));
        assert_eq!(
            d.tree_at("threat.indicator.url"),
            Some(serde_json::json!({"domain": "x.test"}))
        );
        // an object made by paths is there, but is not a value
        assert!(d.has("threat.indicator.url") && d.get("threat.indicator.url").is_none());
        assert!(!d.has("threat.indicator.port"));
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
    fn written_fields_are_the_cleaned_map() {
        let mut d = Doc::new();
        d.set("z", "last");
        d.set("a.empty", "");
        d.set("a.none", Value::Null);
        d.set(
            "b.list",
            json!(["", null, {}, [], "x", {"i": ""}, {"k": [null]}]),
        );
        d.set(
            "b.kept",
            json!({"n": null, "e": "", "o": {}, "l": [], "v": 0, "f": false}),
        );
        d.push("tags", "t");
        d.set("m.z", 1);
        d.set("m.a", json!({"q\"": "\u{1}"}));
        d.set("misp.x", json!({"y": {"z": null}}));
        d.set("misp.x.w", 2);
        d.put_under(
            "c",
            [
                ("lit", Slot::Lit("x\"")),
                ("empty", Slot::Lit("")),
                ("lits", Slot::Lits(&["", "y"])),
                ("blank", Slot::Lits(&[""])),
                ("none", Slot::Lits(&[])),
            ],
        );
        d.put_consts("k", &[("e", ""), ("v", "x\"")]);
        d.put_consts("z2", &[("e", "")]);
        for cleanup in [Cleanup::AllEmpty, Cleanup::NullsOnly] {
            for tags in [json!(["t"]), json!([])] {
                let mut d = d.clone();
                d.set("tags", tags.clone());
                let mut written = Vec::new();
                d.clone().into_fields().write_json(cleanup, &mut written);
                let mut map = d.into_fields().into_map();
                match cleanup {
                    Cleanup::AllEmpty => remove_empty(&mut map),
                    Cleanup::NullsOnly => {
                        remove_nulls(&mut map);
                        if map.get("tags") == Some(&serde_json::json!([])) {
                            map.remove("tags");
                        }
                    }
                }
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    serde_json::to_string(&map).unwrap(),
                    "{cleanup:?} {tags}"
                );
            }
        }
    }

    /// Blank values (null, `""`, `[]`, `{}`, and lists and objects of only those), nested
    /// among others, as values set whole and as objects made by paths.
    fn blankish() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value as J;
        let leaf = prop_oneof![
            Just(J::Null),
            Just(J::from("")),
            Just(J::Array(vec![])),
            Just(J::Object(Default::default())),
            Just(J::from("x")),
            Just(J::from(0)),
            Just(J::from(false)),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                proptest::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The writer leaves out what the cleanup removes as it writes (a list or an object
        /// written, then taken back when nothing of it was left): the bytes of the map
        /// cleaned first, at any depth, for both cleanups.
        #[test]
        fn one_pass_cleanup_is_the_cleaned_map(
            fields in proptest::collection::vec(("[a-c](\\.[a-c]){0,2}", blankish()), 0..6),
        ) {
            let mut d = Doc::new();
            for (path, v) in &fields {
                d.set(path, Value::from(v.clone()));
            }
            for cleanup in [Cleanup::AllEmpty, Cleanup::NullsOnly] {
                let (written, map) = written_and_cleaned(&d, cleanup);
                proptest::prop_assert_eq!(
                    written,
                    serde_json::to_string(&map).unwrap(),
                    "{:?}", cleanup
                );
            }
        }
    }

    #[test]
    fn names_are_found_and_ordered_as_serde_json_orders_them() {
        let names = [
            "",
            "a",
            "a\u{0}",
            "a\u{0}b",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "abcdefgh\u{0}",
            "abcdefghij",
            "abcdefghik",
            "abcdefgz",
            "indicator",
            "indicators",
            "é",
            "\u{7f}",
            "Z",
            "tags",
        ];
        let mut d = Doc::new();
        for (i, n) in names.iter().enumerate() {
            let path = format!("o.{n}");
            d.set(&path, i);
            // found again: replaced, not added
            d.set(&path, i);
            assert_eq!(d.get(&path), Some(&json!(i)), "{n:?}");
        }
        let mut written = Vec::new();
        d.clone()
            .into_fields()
            .write_json(Cleanup::NullsOnly, &mut written);
        let map = d.into_fields().into_map();
        assert_eq!(
            map["o"].as_object().map(serde_json::Map::len),
            Some(names.len())
        );
        assert_eq!(
            String::from_utf8(written).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
    }

    #[test]
    fn constant_strings_are_fields_but_not_values() {
        let mut d = Doc::new();
        d.enrichment();
        // there, but not a value to read or change in place
        assert!(d.has("event.kind") && d.get("event.kind").is_none());
        assert!(d.get_mut("event.kind").is_none() && !d.has("event.kind.deeper"));
        assert_eq!(
            d.tree_at("event.category"),
            Some(serde_json::json!(["threat"]))
        );
        // pushed to, set over, set through and taken out as values
        d.push("event.category", "more");
        assert_eq!(d.get("event.category"), Some(&json!(["threat", "more"])));
        d.set("event.kind", "pipeline_error");
        assert_eq!(d.get_str("event.kind"), Some("pipeline_error"));
        d.set("event.type.x", 1);
        assert_eq!(d.get("event.type.x"), Some(&json!(1)));
        d.put_under("labels", [("a", Slot::Lit("b"))]);
        assert_eq!(d.remove("labels.a"), Some(json!("b")));
        // under a value set whole, they are values
        d.set("v", json!({}));
        d.put_under("v", [("s", Slot::Lit("t"))]);
        assert_eq!(d.get("v.s"), Some(&json!("t")));
    }

    #[test]
    fn constant_objects_are_set_whole_until_a_path_goes_in() {
        const C: Consts = &[("a", "1"), ("b", "2")];
        let written = |d: &Doc| {
            let mut out = Vec::new();
            d.clone()
                .into_fields()
                .write_json(Cleanup::NullsOnly, &mut out);
            String::from_utf8(out).unwrap()
        };
        let mut d = Doc::new();
        d.put_consts("x.c", C);
        assert!(
            matches!(d.fields.slot("x"), Some(Slot::Obj(f)) if matches!(f.slot("c"), Some(Slot::Consts(_))))
        );
        // there, as constant strings are: not values
        assert!(d.has("x.c") && d.has("x.c.a") && !d.has("x.c.z") && !d.has("x.c.a.b"));
        assert!(d.get("x.c").is_none() && d.get("x.c.a").is_none());
        assert_eq!(written(&d), r#"{"x":{"c":{"a":"1","b":"2"}}}"#);
        // onto an object that is there: field by field
        let mut e = Doc::new();
        e.set("x.c.z", 0);
        e.put_consts("x.c", C);
        assert_eq!(written(&e), r#"{"x":{"c":{"a":"1","b":"2","z":0}}}"#);
        // a path into it makes it an object first, keeping every constant
        let mut f = d.clone();
        f.set("x.c.d", 3);
        assert_eq!(written(&f), r#"{"x":{"c":{"a":"1","b":"2","d":3}}}"#);
        let mut g = d.clone();
        assert_eq!(g.remove("x.c.a"), Some(json!("1")));
        assert_eq!(written(&g), r#"{"x":{"c":{"b":"2"}}}"#);
        assert_eq!(d.remove("x.c"), Some(json!({"a": "1", "b": "2"})));
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
    fn dots_are_found_as_a_byte_search_finds_them() {
        // every length to 40, a dot and another byte (a dot, or one a bit or a borrow away
        // from one) at every two places, among ASCII and non-ASCII bytes
        let near = [b'.', b'/', b'-', 0xae, 0x2e ^ 0x01, 0x00, 0xff];
        for len in 0..40 {
            for (i, j) in (0..len).flat_map(|i| (0..len).map(move |j| (i, j))) {
                for &x in &near {
                    for fill in [b'a', 0x80, 0xff, 0x00] {
                        let mut b = vec![fill; len];
                        b[i] = x;
                        b[j] = b'.';
                        assert_eq!(first_dot(&b), b.iter().position(|&c| c == b'.'), "{b:?}");
                        assert_eq!(last_dot(&b), b.iter().rposition(|&c| c == b'.'), "{b:?}");
                    }
                }
            }
            let none = vec![b'a'; len];
            assert_eq!((first_dot(&none), last_dot(&none)), (None, None));
        }
    }

    #[test]
    fn set_through_a_scalar_replaces_it() {
        let mut d = Doc::new();
        d.set("a", 1);
        d.set("a.b", 2);
        assert_eq!(d.tree_at("a"), Some(serde_json::json!({"b": 2})));
        // and a value set whole is replaced by it
        d.set("a", 3);
        assert_eq!(d.tree_at("a"), Some(serde_json::json!(3)));
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
        let mut m = serde_json::json!({"a": null, "b": "", "c": {"d": null, "e": []}, "f": [null, {"g": null}]});
        remove_nulls(m.as_object_mut().unwrap());
        assert_eq!(
            m,
            serde_json::json!({"b": "", "c": {"e": []}, "f": [null, {}]})
        );
        // through nested arrays too (found by the property tests)
        let mut m = serde_json::json!({"a": [[{"name": null, "x": 1}], [null]]});
        remove_nulls(m.as_object_mut().unwrap());
        assert_eq!(m, serde_json::json!({"a": [[{"x": 1}], [null]]}));
    }

    #[test]
    fn cleanup_removes_every_empty_value() {
        let mut m = serde_json::json!({
            "a": null, "b": "", "c": {}, "d": [], "e": {"f": {"g": null}},
            "h": ["", null, {}, [], "x", {"i": ""}], "k": 0, "l": false
        });
        remove_empty(m.as_object_mut().unwrap());
        assert_eq!(m, serde_json::json!({"h": ["x"], "k": 0, "l": false}));
    }
}
