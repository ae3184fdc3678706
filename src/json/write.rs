//! JSON text from a [`Value`], byte for byte as `serde_json` writes the same value
//! (compact; a string escaped as it escapes one), without serde's serializer: strings are
//! searched for bytes to escape eight at a time, and the runs between them copied whole.
//! The same writer writes documents ([`crate::doc`]), with a cleanup applied on the way.

use super::{Map, Value, plain_run_end, special_byte, special_mask, word};
use crate::Cleanup;

/// What writes itself as JSON text: a value, or an object.
pub trait Json {
    /// Appends the JSON text to `out`.
    fn write_json(&self, out: &mut Vec<u8>);

    /// The JSON text.
    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        // the writer writes strings and JSON's own punctuation: always UTF-8
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Json for Value<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        value(self, None, out);
    }
}

impl Json for Map<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        object(self, None, out);
    }
}

/// `v` as JSON text, what `cleanup` removes left out (`None`: nothing).
pub(crate) fn value(v: &Value, cleanup: Option<Cleanup>, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => object(m, cleanup, out),
        Value::Array(a) => {
            out.push(b'[');
            let mut first = true;
            // an item's null goes with the cleanup of empty values only
            let drops_null = cleanup == Some(Cleanup::AllEmpty);
            for v in a {
                part(v, cleanup, drops_null, &mut first, out, comma);
            }
            out.push(b']');
        }
        Value::String(s) => string(s, out),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => number(n, out),
    }
}

/// A number as `serde_json` writes it: integers by their digits (as `itoa`, which
/// `serde_json` uses, writes them), floats by `serde_json` itself.
fn number(n: &serde_json::Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        crate::dates::decimal(u, out);
    } else if let Some(i) = n.as_i64() {
        crate::dates::signed(i, out);
    } else {
        // a number always writes into a Vec
        drop(serde_json::to_writer(&mut *out, n));
    }
}

fn object(m: &Map, cleanup: Option<Cleanup>, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    // [`member`] written out: through it, the compiler inlined this loop otherwise (a
    // MISP attribute took 1.5 % more instructions)
    for (name, v) in m.iter() {
        part(
            v,
            cleanup,
            cleanup.is_some(),
            &mut first,
            out,
            |first, out| key(name, first, out),
        );
    }
    out.push(b'}');
}

/// Writes a member of an object (after a comma unless `first`), unless `cleanup`
/// removes it (see [`part`]).
#[inline]
pub(crate) fn member(
    name: &str,
    v: &Value,
    cleanup: Option<Cleanup>,
    first: &mut bool,
    out: &mut Vec<u8>,
) {
    part(v, cleanup, cleanup.is_some(), first, out, |first, out| {
        key(name, first, out);
    });
}

/// Writes an item of a list or a member of an object: `lead` (its comma, and a member's
/// name), then `v`, unless `cleanup` removes it: a null when `drops_null`, and with
/// [`Cleanup::AllEmpty`] an empty string, or a list or an object that turned out empty,
/// written first and then taken back ([`wrote_blank`]). One pass over a document, where
/// asking first whether a value is blank walked every object once more for each object
/// around it.
#[inline]
fn part(
    v: &Value,
    cleanup: Option<Cleanup>,
    drops_null: bool,
    first: &mut bool,
    out: &mut Vec<u8>,
    lead: impl FnOnce(&mut bool, &mut Vec<u8>),
) {
    let all_empty = cleanup == Some(Cleanup::AllEmpty);
    match v {
        Value::Null if drops_null => {}
        Value::String(s) if all_empty && s.is_empty() => {}
        Value::Array(_) | Value::Object(_) if all_empty => {
            let (mark, was_first) = (out.len(), *first);
            lead(first, out);
            let start = out.len();
            value(v, cleanup, out);
            if wrote_blank(&out[start..]) {
                out.truncate(mark);
                *first = was_first;
            }
        }
        _ => {
            lead(first, out);
            value(v, cleanup, out);
        }
    }
}

/// A comma, unless `first`.
#[inline]
pub(crate) fn comma(first: &mut bool, out: &mut Vec<u8>) {
    if !std::mem::take(first) {
        out.push(b',');
    }
}

/// Whether the text written for a value is what [`Cleanup::AllEmpty`] leaves nothing
/// of: `null`, `""`, `[]` or `{}`. A value cleaned by it writes one of these exactly when
/// it is null, an empty string, or a list or object of such values only (its members
/// and items are left out as they are written, so nothing else can be left).
#[inline]
pub(crate) fn wrote_blank(written: &[u8]) -> bool {
    matches!(written, b"null" | b"\"\"" | b"[]" | b"{}")
}

/// Writes `"name":`, after a comma unless `first`.
#[inline]
pub(crate) fn key(name: &str, first: &mut bool, out: &mut Vec<u8>) {
    comma(first, out);
    string(name, out);
    out.push(b':');
}

/// A JSON string, as `serde_json` writes it: `"`, `\` and control characters escaped
/// (`\b \f \n \r \t` by name, the others as `\u00xx`), everything else as it is.
#[inline]
pub(crate) fn string(s: &str, out: &mut Vec<u8>) {
    if needs_escape(s.as_bytes()) {
        escaped(s.as_bytes(), out);
    } else {
        plain(s, out);
    }
}

/// Whether `bytes` hold a byte JSON escapes; eight at a time (`serde_json` looks each
/// byte up in a table, which was a seventh of a document's cost).
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let special = |c: &[u8]| special_mask(word(c)) != 0;
    if bytes.len() < 8 {
        return bytes.iter().copied().any(special_byte);
    }
    let mut chunks = bytes.chunks_exact(8);
    // the last eight bytes, which may overlap the last whole word, cover the rest
    let last = bytes.get(bytes.len() - 8..).unwrap_or_default();
    chunks.any(special) || special(last)
}

/// A string with bytes to escape: the runs between them copied whole.
fn escaped(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    let mut run = 0; // where the bytes not yet written start
    loop {
        let end = plain_run_end(bytes, run);
        append(out, &bytes[run..end]);
        let Some(&b) = bytes.get(end) else { break };
        escape(b, out);
        run = end + 1;
    }
    out.push(b'"');
}

/// `s` between quotes, as it is: a string known to need no escape (a name the program
/// spells; debug builds check).
#[inline]
pub(crate) fn plain(s: &str, out: &mut Vec<u8>) {
    debug_assert!(!needs_escape(s.as_bytes()), "{s:?}");
    out.reserve(s.len() + 2);
    out.push(b'"');
    append(out, s.as_bytes());
    out.push(b'"');
}

/// Appends `bytes` to `out`. In the wasm guests a copy of a length the compiler does not
/// know is a `memory.copy`, which wasmtime runs as a call out of the guest's code; most
/// strings written are short, and copied there a word at a time instead
/// ([`append_short`]). Natively, `memcpy` is quicker than that.
#[inline]
pub(crate) fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    if bytes.len() <= SHORT {
        return append_short(out, bytes);
    }
    out.extend_from_slice(bytes);
}

/// The longest copy [`append_short`] makes.
const SHORT: usize = 32;

/// Appends `bytes` (at most [`SHORT`] long) with fixed-size loads and stores: the first
/// and the last eight bytes of each half, overlapping where the halves are shorter.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[inline]
fn append_short(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    debug_assert!(n <= SHORT);
    out.reserve(SHORT);
    let len = out.len();
    let src = bytes.as_ptr();
    // SAFETY: `out` has room for SHORT ≥ n more bytes (reserved above) and `bytes` holds
    // n readable bytes. Each load reads inside `bytes` (an eight-byte load at `i` only
    // where i + 8 ≤ n, a four-byte one where i + 4 ≤ n, single bytes below n) and each
    // store writes those bytes at the same offset of the room after `len`; every byte of
    // `0..n` is written at least once, so the new length covers initialised bytes only.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        let word = |i: usize| {
            let w = std::ptr::read_unaligned(src.add(i).cast::<u64>());
            std::ptr::write_unaligned(dst.add(i).cast::<u64>(), w);
        };
        if n >= 16 {
            // 16..=32: two words from the start, two ending at the end
            word(0);
            word(8);
            word(n - 16);
            word(n - 8);
        } else if n >= 8 {
            word(0);
            word(n - 8);
        } else if n >= 4 {
            let half = |i: usize| {
                let w = std::ptr::read_unaligned(src.add(i).cast::<u32>());
                std::ptr::write_unaligned(dst.add(i).cast::<u32>(), w);
            };
            half(0);
            half(n - 4);
        } else if n > 0 {
            // 1..=3: the first, the middle and the last byte
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// The escape of byte `b` (one [`special_byte`] says yes to).
fn escape(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let named = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            let (hi, lo) = (HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]);
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', named]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let numbers = [
            "0",
            "7",
            "10",
            "99",
            "100",
            "12345678901234567890",
            "18446744073709551615",
            "9223372036854775807",
            "-1",
            "-10",
            "-9223372036854775808",
            "1.5",
            "-0.0",
            "1e300",
            "2.2250738585072014e-308",
            "18446744073709551616",
        ];
        for text in numbers {
            let n: serde_json::Number = serde_json::from_str(text).unwrap();
            let mut out = b"x".to_vec();
            number(&n, &mut out);
            let want = format!("x{}", serde_json::to_string(&n).unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn short_appends_copy_every_byte_after_what_is_there() {
        let text: Vec<u8> = (0..SHORT as u8)
            .map(|b| b.wrapping_mul(37) ^ 0x5a)
            .collect();
        for before in [0, 1, 7, 30] {
            for n in 0..=SHORT {
                let mut out = vec![0xEE; before];
                // no room to spare: append_short must reserve its own
                out.shrink_to_fit();
                append_short(&mut out, &text[..n]);
                let mut want = vec![0xEE; before];
                want.extend_from_slice(&text[..n]);
                assert_eq!(out, want, "{before} bytes before, {n} appended");
                append(&mut out, &text[..n]);
                want.extend_from_slice(&text[..n]);
                assert_eq!(out, want, "then through append");
            }
        }
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        // every ASCII byte and a few others, at every place of an 8-byte word and past it
        let mut cases: Vec<String> = vec![String::new(), "é€😀".into(), "\u{7f}\u{80}".into()];
        for c in (0u8..0x80).map(char::from).chain(['é', '\u{2028}']) {
            for at in 0..18 {
                let mut s: String = "abcdefghijklmnopq".chars().take(at).collect();
                s.push(c);
                s.push_str("xyz");
                cases.push(s);
            }
        }
        // runs of escapes, back to back and a word apart
        cases.push((0u8..0x80).map(char::from).collect());
        cases.push("\"\\\n\u{0}\u{1f}".repeat(9));
        cases.push(r#"{"a":"b\\c","d":[1,2,"e\"f"]}"#.repeat(5));
        for s in &cases {
            let mut out = Vec::new();
            string(s, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }
}
