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

use std::borrow::Cow;

use super::{Map, Number, Value, plain_run_end};

/// Nesting the reader goes into; deeper texts go to `serde_json` (which stops at 128).
pub const DEPTH: usize = 100;

/// `text` as one value, or `None` to leave it to `serde_json`.
pub fn value(text: &str) -> Option<Value<'_>> {
    value_within(text, DEPTH)
}

/// [`value`], `None` also for a text nesting deeper than `max_depth` (counted as the
/// record limits count it: each object or list inside another one level more).
pub fn value_within(text: &str, max_depth: usize) -> Option<Value<'_>> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
        max_depth: max_depth.min(DEPTH),
    };
    let v = r.value()?;
    r.skip_space();
    (r.at == r.bytes.len()).then_some(v)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
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
            b'"' => self.string().map(Value::String),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, w: &[u8], v: Value<'a>) -> Option<Value<'a>> {
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
        self.enter()?;
        let mut entries = Vec::with_capacity(super::OBJECT_ROOM);
        if self.next_token()? == b'}' {
            self.at += 1;
        } else {
            loop {
                if self.next_token()? != b'"' {
                    return None;
                }
                let name = self.string()?;
                if self.next_token()? != b':' {
                    return None;
                }
                self.at += 1;
                let v = self.value()?;
                entries.push((name, v));
                if self.after_item(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(Value::Object(Map::from_entries(entries)))
    }

    fn array(&mut self) -> Option<Value<'a>> {
        self.enter()?;
        let mut items = Vec::new();
        if self.next_token()? == b']' {
            self.at += 1;
        } else {
            loop {
                items.push(self.value()?);
                if self.after_item(b']')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Some(Value::Array(items))
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
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.at += 1;
        let start = self.at;
        self.skip_plain();
        match self.peek()? {
            b'"' => {
                let s = self.text.get(start..self.at)?;
                self.at += 1;
                Some(Cow::Borrowed(s))
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
    fn escaped(&mut self, start: usize) -> Option<String> {
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(self.text.get(start..self.at)?);
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    let e = self.bytes.get(self.at + 1).copied()?;
                    self.at += 2;
                    out.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                b if b < 0x20 => return None,
                _ => {
                    let run = self.at;
                    self.skip_plain();
                    out.push_str(self.text.get(run..self.at)?);
                }
            }
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
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let int_end = self.at;
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
        let digits = self.bytes.get(int_start..int_end)?;
        if integer && digits.len() <= 18 && !(negative && digits == b"0") {
            let n = digits
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            return Some(Value::Number(if negative {
                // at most 18 digits: within i64
                Number::from(-i64::try_from(n).ok()?)
            } else {
                Number::from(n)
            }));
        }
        let token = self.text.get(start..self.at)?;
        token.parse::<Number>().ok().map(Value::Number)
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
