//! The reader [`super::from_str`] tries first: JSON text into a [`Value`] in one pass,
//! without serde's visitor machinery.
//!
//! It answers `None` for anything it does not read exactly as `serde_json` would, and
//! the text then goes to `serde_json`: every text that is not JSON (so every error
//! message is `serde_json`'s own), a number other than an integer of up to 18 digits
//! (other numbers are read by `serde_json`'s own number parser, so floats keep its
//! rounding), an escape other than the standard ones or a lone surrogate, nesting deeper
//! than [`DEPTH`]. Strings without escapes are slices of the text, found eight bytes
//! at a time.
//!
//! JSON text sent as a string (the `message` of Elastic's envelope) can be read where it
//! sits, escaped, without being unescaped first ([`Quoted`]), when the only
//! escapes there are its quotes.
//!
//! The same reader also outlines a text without building it ([`outline`]): where an
//! object's members or a list's items sit, each value stepped over as `serde_json` steps
//! over a `RawValue`. Whole responses are split by it ([`crate::stream`]), and the parts
//! of a text it checked are outlined again without a second check ([`outline_checked`]).

use std::borrow::Cow;

use super::{Map, Number, Value, plain_run_end, special_byte, special_mask};

/// Nesting the reader goes into; deeper texts go to `serde_json` (which stops at 128).
pub const DEPTH: usize = 100;

/// Most room an escaped string is given at first beyond its text before the first escape
/// (more is made as it grows): the size a record's text sent as a string mostly fits.
const ESCAPED_ROOM: usize = 1024;

/// `text` as one value, or `None` to leave it to `serde_json`.
pub fn value(text: &str) -> Option<Value<'_>> {
    value_within(text, DEPTH)
}

/// [`value`], `None` also for a text nesting deeper than `max_depth` (counted as the
/// record limits count it: each object or list inside another one level more).
pub fn value_within(text: &str, max_depth: usize) -> Option<Value<'_>> {
    let mut r: Reader<'_> = Reader::new(text, max_depth, false);
    let v = r.value()?;
    r.ended(v)
}

/// The members of `text`, a JSON object, handed to `each` in text order (repeats
/// included) as this reader reads them into a tree, without the object: each name is
/// first shown to `accept`, and its value read only when accepted. `None` for any other
/// text, for a member not accepted or nesting deeper than `max_depth` (the object itself
/// is one level), for text the reader leaves to `serde_json`, or when `each` answers
/// `None`; `each` may have seen some members by then.
pub fn members<'a>(
    text: &'a str,
    max_depth: usize,
    accept: impl Fn(&str) -> bool,
    each: impl FnMut(Cow<'a, str>, Value<'a>) -> Option<()>,
) -> Option<()> {
    let mut r: Reader<'_> = Reader::new(text, max_depth, false);
    r.object_members(accept, each)?;
    r.ended(())
}

/// What [`members_as`] does with a member's value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Reads it.
    Read,
    /// Hands a string over to be read where it sits ([`Quoted`]); a value of another
    /// kind is read.
    Quoted,
}

/// What [`members_as`] hands over of a member's value.
pub enum Part<'r, 'a> {
    /// The value, read.
    Read(Value<'a>),
    /// A string, to be read where it sits.
    Quoted(Quoted<'r, 'a>),
}

/// A string whose text is a JSON object (such as the `message` of Elastic's envelope),
/// to be read where it sits, escaped, without undoing the escapes first: the values are
/// borrowed from the text. Only the escape of a quote is read (`\"`, each of the
/// object's own quotes); [`Quoted::members`] answers `None` for any other escape (white
/// space sent as `\n`, an escape inside one of the object's strings), which is left to
/// [`members`] of the string read. Where it answers, that answers the same.
pub struct Quoted<'r, 'a> {
    /// The reader of the text the string is in, at its opening quote.
    outer: &'r mut Reader<'a>,
    /// Set once the string is read, the outer reader past it.
    read: &'r mut bool,
}

impl<'a> Quoted<'_, 'a> {
    /// The members of the object the string holds, as [`members`] gives them (`max_depth`
    /// counted from the object); `None` also for a string that holds more than one
    /// object, or escapes more than its quotes.
    pub fn members(
        self,
        max_depth: usize,
        accept: impl Fn(&str) -> bool,
        each: impl FnMut(Cow<'a, str>, Value<'a>) -> Option<()>,
    ) -> Option<()> {
        let outer = self.outer;
        let mut r: Reader<'a, true> = Reader::new(outer.text, max_depth, false);
        r.at = outer.at + 1;
        r.object_members(accept, each)?;
        r.skip_space();
        if r.peek()? != b'"' {
            return None;
        }
        outer.at = r.at + 1;
        *self.read = true;
        Some(())
    }
}

/// [`members`], where `take` says of each name what is done with its value, or `None`
/// to refuse it. A string handed over ([`Take::Quoted`]) must be read by `each`, else
/// this answers `None`.
pub fn members_as<'a>(
    text: &'a str,
    max_depth: usize,
    take: impl Fn(&str) -> Option<Take>,
    mut each: impl FnMut(Cow<'a, str>, Part<'_, 'a>) -> Option<()>,
) -> Option<()> {
    let mut r: Reader<'_> = Reader::new(text, max_depth, false);
    if r.next_token()? != b'{' {
        return None;
    }
    r.each(b'}', |r| {
        let name = r.name(Reader::string)?;
        let part = match take(&name)? {
            Take::Quoted if r.next_token()? == b'"' => {
                let mut read = false;
                each(
                    name,
                    Part::Quoted(Quoted {
                        outer: r,
                        read: &mut read,
                    }),
                )?;
                return read.then_some(());
            }
            _ => Part::Read(r.value()?),
        };
        each(name, part)
    })?;
    r.ended(())
}

/// Where the parts of a JSON text sit, found without building them: an object's members
/// (names read, values as their text) or a list's items (as their text).
#[derive(Debug)]
pub enum Outline<'a> {
    /// `null`.
    Null,
    /// The members in text order, repeats included.
    Object(Vec<(Cow<'a, str>, &'a str)>),
    /// The items.
    List(Vec<&'a str>),
    /// A string, number or boolean.
    Scalar,
}

impl<'a> Outline<'a> {
    /// The value of the member `name` of an object (a repeated name: the last one, as
    /// in the tree).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        match self {
            Outline::Object(m) => m.iter().rev().find(|(k, _)| k == name).map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// The outline of `text`, when it is one JSON value (white space around it allowed):
/// every part stepped over is checked as `serde_json` checks a `RawValue` (a number by
/// its grammar alone, a `\u` escape by its four hex digits). `None` for text that is not
/// JSON, and for what this reader leaves to `serde_json` (nesting past 100 levels, a
/// member name holding a lone surrogate).
pub fn outline(text: &str) -> Option<Outline<'_>> {
    outline_of(text, false)
}

/// [`outline`] of a part of a text [`outline`] checked (a member's value, a list's item):
/// the values inside its parts are stepped over by their brackets and quotes alone, not
/// checked again. Total on any text; on text that is not JSON the parts it finds are
/// wrong, or `None`.
pub fn outline_checked(text: &str) -> Option<Outline<'_>> {
    outline_of(text, true)
}

fn outline_of(text: &str, checked: bool) -> Option<Outline<'_>> {
    let mut r: Reader<'_> = Reader::new(text, DEPTH, checked);
    let o = match r.next_token()? {
        b'n' => r.word(b"null", Outline::Null)?,
        b'{' => Outline::Object(r.members()?),
        b'[' => Outline::List(r.items()?),
        _ => {
            r.skip()?;
            Outline::Scalar
        }
    };
    r.ended(o)
}

/// A reader of JSON text, or (`QUOTED`) of JSON text as it sits escaped between the
/// quotes of a JSON string, where each of its quotes is `\"` and nothing else is
/// escaped ([`Quoted`]).
struct Reader<'a, const QUOTED: bool = false> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    max_depth: usize,
    /// The text is known to be JSON: [`Reader::skip`] only finds where a value ends.
    checked: bool,
}

impl<'a, const QUOTED: bool> Reader<'a, QUOTED> {
    /// A reader at the start of `text`, going at most `max_depth` levels deep (and never
    /// past [`DEPTH`]).
    fn new(text: &'a str, max_depth: usize, checked: bool) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
            max_depth: max_depth.min(DEPTH),
            checked,
        }
    }

    /// `what` was read, when only white space is left after it.
    fn ended<T>(&mut self, what: T) -> Option<T> {
        self.skip_space();
        (self.at == self.bytes.len()).then_some(what)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        if QUOTED {
            // the other white space is escaped there
            while let Some(b' ') = self.peek() {
                self.at += 1;
            }
            return;
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// Whether the reader is at a string's opening quote: `"`, or `\"` in quoted text.
    #[inline]
    fn at_quote(&mut self) -> Option<bool> {
        Some(match self.next_token()? {
            b'"' => !QUOTED,
            b'\\' => QUOTED && self.bytes.get(self.at + 1) == Some(&b'"'),
            _ => false,
        })
    }

    /// The members of the object here (`each` and `accept` as [`members`]).
    #[inline(always)]
    fn object_members(
        &mut self,
        accept: impl Fn(&str) -> bool,
        mut each: impl FnMut(Cow<'a, str>, Value<'a>) -> Option<()>,
    ) -> Option<()> {
        if self.next_token()? != b'{' {
            return None;
        }
        self.each(b'}', |r| {
            let name = r.name(Self::string)?;
            if !accept(&name) {
                return None;
            }
            let value = r.value()?;
            each(name, value)
        })
    }

    /// The byte after white space, not taken.
    fn next_token(&mut self) -> Option<u8> {
        self.skip_space();
        self.peek()
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.next_token()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' if !QUOTED => self.string().map(Value::String),
            // a string's opening `\"`, not another escape
            b'\\' if QUOTED && self.bytes.get(self.at + 1) == Some(&b'"') => {
                self.string().map(Value::String)
            }
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word<T>(&mut self, w: &[u8], v: T) -> Option<T> {
        let end = self.at + w.len();
        (self.bytes.get(self.at..end)? == w).then(|| {
            self.at = end;
            v
        })
    }

    /// Enters an object or a list (its opening byte taken).
    fn enter(&mut self) -> Option<()> {
        self.at += 1;
        self.depth += 1;
        (self.depth <= self.max_depth).then_some(())
    }

    fn object(&mut self) -> Option<Value<'a>> {
        // written out rather than through `each` and `name`, which the compiler did not
        // inline here: 1 % more instructions per record on this, the hottest path
        self.enter()?;
        let mut entries = Vec::with_capacity(super::OBJECT_ROOM);
        if self.next_token()? == b'}' {
            self.at += 1;
        } else {
            loop {
                if !self.at_quote()? {
                    return None;
                }
                let name = self.string()?;
                if self.next_token()? != b':' {
                    return None;
                }
                self.at += 1;
                entries.push((name, self.value()?));
                if self.after_item(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(Value::Object(Map::from_entries(entries)))
    }

    fn array(&mut self) -> Option<Value<'a>> {
        let mut items = Vec::new();
        self.each(b']', |r| {
            items.push(r.value()?);
            Some(())
        })?;
        Some(Value::Array(items))
    }

    /// Steps through an object or a list (at its opening byte; `close`, its closing one),
    /// `part` reading each member or item.
    fn each(&mut self, close: u8, mut part: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        if self.next_token()? == close {
            self.at += 1;
        } else {
            loop {
                part(self)?;
                if self.after_item(close)? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// A member's name, read by `read` (at its opening quote), and the colon after it.
    fn name<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if !self.at_quote()? {
            return None;
        }
        let name = read(self)?;
        if self.next_token()? != b':' {
            return None;
        }
        self.at += 1;
        Some(name)
    }

    /// After an item of an object or a list: a comma (`false`: more follow) or `close`
    /// (`true`, taken); anything else is not JSON.
    fn after_item(&mut self, close: u8) -> Option<bool> {
        let b = self.next_token()?;
        if b != b',' && b != close {
            return None;
        }
        self.at += 1;
        Some(b == close)
    }

    /// A string (at its opening quote): borrowed from the text when it holds no escape.
    /// In quoted text (opening quote `\"`), only one without escapes is read.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.at += 1 + usize::from(QUOTED);
        let start = self.at;
        self.skip_plain();
        match self.peek()? {
            b'"' if !QUOTED => {
                let s = self.text.get(start..self.at)?;
                self.at += 1;
                Some(Cow::Borrowed(s))
            }
            b'\\' if QUOTED => {
                // the closing quote, or an escape inside the string: left to the reader
                // of the text unescaped
                let s = self.text.get(start..self.at)?;
                (self.bytes.get(self.at + 1) == Some(&b'"')).then(|| {
                    self.at += 2;
                    Cow::Borrowed(s)
                })
            }
            b'\\' => self.escaped(start).map(Cow::Owned),
            // a control character, which JSON does not allow in a string
            _ => None,
        }
    }

    /// Steps over bytes that need no escape ([`plain_run_end`]).
    fn skip_plain(&mut self) {
        self.at = plain_run_end(self.bytes, self.at);
    }

    /// The rest of a string from its first escape; `start` is where its text began.
    /// Made as bytes and checked as UTF-8 once, at the end (the text between escapes is
    /// the record's own, each escape adds whole characters): the runs between escapes are
    /// copied a word at a time as they are scanned ([`Reader::copy_plain`]), where a copy
    /// of each run cost a call. JSON sent as a string, such as the `message` of Elastic's
    /// envelope, has an escape every few bytes. Not inlined: [`Reader::string`]'s path
    /// without escapes, taken by most strings, then saves fewer registers.
    #[inline(never)]
    fn escaped(&mut self, start: usize) -> Option<String> {
        // room for the rest of the text (the string is no longer), up to a bound: growing
        // by doubling from a small start cost several reallocations per string sent as
        // JSON, a quarter of its unescaping
        let rest = (self.bytes.len() - self.at).min(ESCAPED_ROOM);
        let mut out = Vec::with_capacity(self.at - start + rest);
        out.extend_from_slice(self.bytes.get(start..self.at)?);
        loop {
            self.copy_plain(&mut out);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    let e = self.bytes.get(self.at + 1).copied()?;
                    self.at += 2;
                    let byte = match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let c = self.unicode_escape()?;
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(byte);
                }
                // a control character, which JSON does not allow in a string
                _ => return None,
            }
        }
    }

    /// Copies to `out` the bytes from the reader's place on that need no escape, and
    /// steps over them ([`plain_run_end`]'s scan, each word copied whole as it is read and
    /// the bytes past the run taken back).
    fn copy_plain(&mut self, out: &mut Vec<u8>) {
        while let Some(w) = self.bytes.get(self.at..self.at + 8) {
            let w: [u8; 8] = w.try_into().unwrap_or_default();
            out.extend_from_slice(&w);
            let m = special_mask(u64::from_le_bytes(w));
            if m != 0 {
                let plain = (m.trailing_zeros() / 8) as usize;
                out.truncate(out.len() - 8 + plain);
                self.at += plain;
                return;
            }
            self.at += 8;
        }
        while let Some(&b) = self.bytes.get(self.at).filter(|&&b| !special_byte(b)) {
            out.push(b);
            self.at += 1;
        }
    }

    /// The character of a `\u` escape (after the `\u`), a surrogate pair read whole; a
    /// lone surrogate is left to `serde_json`.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return None,
            _ => hi,
        };
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.at += 4;
        Some(n)
    }

    /// A number by JSON's grammar. An integer of up to 18 digits (which fits either
    /// kind of `Number` without overflow), `-0` aside, is made here; any other number is
    /// read by `serde_json`'s own parser, so that floats round as it rounds them.
    fn number(&mut self) -> Option<Value<'a>> {
        let start = self.at;
        let integer = self.skip_number()?;
        let token = self.text.get(start..self.at)?;
        let (negative, digits) = match token.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, token),
        };
        if integer && digits.len() <= 18 && !(negative && digits == "0") {
            let n = digits
                .bytes()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            return Some(Value::Number(if negative {
                // at most 18 digits: within i64
                Number::from(-i64::try_from(n).ok()?)
            } else {
                Number::from(n)
            }));
        }
        token.parse::<Number>().ok().map(Value::Number)
    }

    /// Steps over a number (at its first byte), checking JSON's grammar only; whether it
    /// is an integer (no fraction, no exponent).
    fn skip_number(&mut self) -> Option<bool> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            if !self.digits() {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !self.digits() {
                return None;
            }
        }
        Some(integer)
    }

    /// Steps over one value, building nothing (see [`outline`] for what is checked).
    fn skip(&mut self) -> Option<()> {
        if self.checked {
            return self.skip_checked();
        }
        match self.next_token()? {
            b'{' => self.each(b'}', |r| {
                r.name(Self::skip_string::<false>)?;
                r.skip()
            }),
            b'[' => self.each(b']', Self::skip),
            b'"' => self.skip_string::<false>(),
            b't' => self.word(b"true", ()),
            b'f' => self.word(b"false", ()),
            b'n' => self.word(b"null", ()),
            b'-' | b'0'..=b'9' => self.skip_number().map(drop),
            _ => None,
        }
    }

    /// Steps over one value of a text known to be JSON: a list or an object to its
    /// matching bracket (strings stepped over whole, so that brackets in them do not
    /// count), a number or a word to the byte that ends it.
    fn skip_checked(&mut self) -> Option<()> {
        match self.next_token()? {
            b'"' => self.skip_string::<true>(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.skip_string::<true>()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.at += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while self.peek().is_some_and(|c| {
                    !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                }) {
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    /// Steps over a string (at its opening quote); in a text `KNOWN` to be JSON, its
    /// escapes are not checked (a constant, not `self.checked`: a test per escape cost
    /// the split of a whole response 5 % of its instructions).
    fn skip_string<const KNOWN: bool>(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            self.skip_plain();
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' if KNOWN => self.at += 2,
                b'\\' => {
                    let e = self.bytes.get(self.at + 1).copied()?;
                    self.at += 2;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => drop(self.hex4()?),
                        _ => return None,
                    }
                }
                // a control character
                _ if KNOWN => self.at += 1,
                _ => return None,
            }
        }
    }

    /// The text of the value that starts after white space here, stepped over.
    fn skipped(&mut self) -> Option<&'a str> {
        self.skip_space();
        let start = self.at;
        self.skip()?;
        self.text.get(start..self.at)
    }

    /// An object's members (at its `{`): names read, values stepped over.
    fn members(&mut self) -> Option<Vec<(Cow<'a, str>, &'a str)>> {
        let mut members = Vec::new();
        self.each(b'}', |r| {
            let name = r.name(Self::string)?;
            members.push((name, r.skipped()?));
            Some(())
        })?;
        Some(members)
    }

    /// A list's items (at its `[`), stepped over.
    fn items(&mut self) -> Option<Vec<&'a str>> {
        let mut items = Vec::new();
        self.each(b']', |r| {
            items.push(r.skipped()?);
            Some(())
        })?;
        Some(items)
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    /// Steps over one or more digits; false when there is none.
    fn digits(&mut self) -> bool {
        let from = self.at;
        self.skip_digits();
        self.at > from
    }
}
