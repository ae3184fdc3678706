//! A guest of the `ti:ecs` world that misbehaves on request, for the sandbox tests of
//! `ti-ecs-host` (`host-tests/tests/sandbox.rs`).
//!
//! The record text chooses what it does:
//!
//! | record | behaviour |
//! |---|---|
//! | `loop` | spins forever (stopped by the epoch deadline) |
//! | `alloc` | allocates without end (stopped by the memory cap) |
//! | `trap` | executes `unreachable` |
//! | `recurse` | recurses without end (overflows the shadow stack in linear memory: a trap) |
//! | anything else | one document `{"echo":<record>,"calls":<calls so far>}`, and through a session `"session":<its number>` and `"now":<its options' now>` too |
//!
//! `calls` counts the calls this instance has served, so a test sees when an instance is
//! reused and when it was re-created after a trap; `session` numbers the sessions this
//! instance opened (from 1), so a test sees when a host reuses one. It is a test fixture: it panics and
//! loops on purpose.

use std::sync::atomic::{AtomicU64, Ordering};

wit_bindgen::generate!({
    path: "../../wit",
    world: "ti-ecs",
});

use exports::ti::ecs::transformer::{Dataset, Error, Guest, GuestSession, Options, Session};

/// Calls served by this instance.
static CALLS: AtomicU64 = AtomicU64::new(0);
/// Sessions opened by this instance.
static SESSIONS: AtomicU64 = AtomicU64::new(0);

struct Misbehave;

impl Guest for Misbehave {
    type Session = Misbehaving;

    fn open_session(dataset: Dataset, options: Options) -> Result<Session, Error> {
        let number = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Session::new(Misbehaving {
            number,
            dataset,
            options,
        }))
    }

    fn transform(
        _dataset: Dataset,
        record: String,
        _options: Options,
    ) -> Result<Vec<String>, Error> {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        match record.as_str() {
            "loop" => spin(),
            "alloc" => hoard(),
            "trap" => trap(),
            "recurse" => Ok(vec![recurse(1).to_string()]),
            _ => Ok(vec![format!(
                "{{\"echo\":{},\"calls\":{calls}}}",
                quote(&record)
            )]),
        }
    }

    fn transform_batch(
        dataset: Dataset,
        records: Vec<String>,
        options: Options,
    ) -> Result<Vec<Vec<String>>, Error> {
        records
            .into_iter()
            .map(|r| Self::transform(dataset, r, options.clone()))
            .collect()
    }
}

/// A session: the same behaviour as the functions, chosen by each record.
struct Misbehaving {
    number: u64,
    dataset: Dataset,
    options: Options,
}

impl GuestSession for Misbehaving {
    fn transform(&self, record: String) -> Vec<String> {
        let docs = Misbehave::transform(self.dataset, record, self.options.clone());
        // the echo document, with the session's number and `now` added before its `}`
        docs.unwrap_or_default()
            .into_iter()
            .map(|d| match d.strip_suffix('}') {
                Some(head) => format!(
                    "{head},\"session\":{},\"now\":{}}}",
                    self.number,
                    quote(&self.options.now)
                ),
                None => d,
            })
            .collect()
    }

    fn transform_batch(&self, records: Vec<String>) -> Vec<Vec<String>> {
        records.into_iter().map(|r| self.transform(r)).collect()
    }
}

/// An endless loop the optimiser cannot remove.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Allocates 1 MiB blocks, touches them and keeps them, until the host says no.
fn hoard() -> ! {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&kept);
    }
}

/// A trap: `unreachable` on wasm.
fn trap() -> ! {
    std::process::abort()
}

/// Recursion without end; each frame keeps a buffer so the stack fills quickly.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1).wrapping_add(frame[0])
}

/// A JSON string literal of `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

export!(Misbehave);
