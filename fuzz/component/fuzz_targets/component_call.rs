//! The `ti:ecs` component's export, called in wasmtime through ti-ecs-host's [`Sandbox`]
//! as a host calls it, against the native core.
//!
//! One sandbox (engine, compiled component, one tenant's store and instance) lives for the
//! whole run; each input is one record, WIT options, and a junk record for the batch:
//!
//! - **Input format**: as in `fuzz/src/lib.rs`, `<record bytes> [0x00 <option bytes>]`,
//!   so the golden inputs are seeds as they are (no NUL: the golden default options,
//!   `now = 2026-01-01T00:00:00Z`, every other field absent). The option bytes first
//!   drive `ti_ecs_fuzz::options` (the targets' shared vocabulary of durations, tags, raw
//!   fields, limits), then how those reach the WIT record: `now` as `Z`, `+00:00`, another
//!   offset, milliseconds, lowercase, or an invalid string; the duration absent or given;
//!   each limit absent, the small value, or a huge one (`u32::MAX`, `2^32`, `u64::MAX`).
//! - **Record text**: a WIT `string` is UTF-8, so a host holding bytes must convert them
//!   first. This target converts as a host reading a log line would, lossily (each invalid
//!   sequence becomes U+FFFD), and gives the native core the same converted text; the core
//!   on raw invalid bytes is fuzzed by the targets in `fuzz/`.
//! - **Native options**: the WIT options converted as the component converts them
//!   (`src/bindings/component.rs`): an absent limit is the default, a value too large for
//!   `usize` saturates, then `OptionsSpec::into_options`.
//!
//! For each of the four data sets it calls `transform` and `transform-batch` (the record,
//! the record again, a junk record) — the sandbox runs them in a session of the data set
//! (`open-session`), kept while the options stay the same and replaced when they change,
//! so each input's options open new ones — and asserts: no trap, deadline or memory stop (any
//! sandbox error but `invalid-options` is a crash); the documents equal the native core's
//! `transform_to_json` on the same text and keep every invariant of
//! `fuzz/src/invariants.rs`; invalid options are `invalid-options` with the core's own
//! message in both calls; batch result `i` equals the single call on record `i`.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use libfuzzer_sys::fuzz_target;
use ti_ecs::{Dataset, Limits, Options, OptionsSpec, SeverityScale};
use ti_ecs_host::bindings::{
    self, Limits as WitLimits, Options as WitOptions, SeverityScale as WitScale,
};
use ti_ecs_host::{Error, Sandbox, SandboxConfig};

const TENANT: &str = "fuzz";

/// The sandbox, made once before the first input (`init` below: compiling the component
/// under the sanitizer takes longer than libFuzzer's per-input timeout) and kept, the
/// tenant's instance with it.
fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::new(SandboxConfig::default())
            .unwrap_or_else(|e| panic!("cannot load the component: {e}"))
    })
}

/// `now` texts that are not RFC 3339 times (or are at its edges).
const BAD_NOWS: &[&str] = &[
    "",
    "yesterday",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01 00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-12-31T23:59:60Z",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00.123456789123Z",
    "+275760-09-13T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "٢٠٢٦-01-01T00:00:00Z",
    " 2026-01-01T00:00:00Z",
];

/// Junk records for the third place of a batch.
const JUNK: &[&str] = &[
    "{",
    "",
    "[]",
    "null",
    "\u{feff}{}",
    r#"{"message":"{"}"#,
    r#"{"response":[]}"#,
    "\u{fffd}",
];

/// How a `now` time reaches the WIT record.
fn now_text(u: &mut Unstructured, t: DateTime<Utc>) -> String {
    match u.int_in_range(0..=6u8).unwrap_or(0) {
        0 => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        1 => t.to_rfc3339(),
        2 => {
            let secs = *u.choose(&[19_800, -28_800, 86_399, -86_399]).unwrap_or(&0);
            FixedOffset::east_opt(secs)
                .map(|o| t.with_timezone(&o).to_rfc3339())
                .unwrap_or_else(|| t.to_rfc3339())
        }
        3 => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        4 => t.to_rfc3339_opts(SecondsFormat::Secs, true).to_lowercase(),
        5 => u.choose(BAD_NOWS).map_or(String::new(), |s| s.to_string()),
        _ => u.arbitrary::<String>().unwrap_or_default(),
    }
}

/// A limit as the WIT record carries it: absent, the chosen value, or huge.
fn limit(u: &mut Unstructured, value: usize) -> Option<u64> {
    match u.int_in_range(0..=5u8).unwrap_or(0) {
        0 => None,
        1 => Some(u64::from(u32::MAX)),
        2 => Some(1 << 32),
        3 => Some(u64::MAX),
        _ => Some(u64::try_from(value).unwrap_or(u64::MAX)),
    }
}

/// The WIT options of an input's option bytes (the golden default without them).
fn wit_options(bytes: Option<&[u8]>) -> (WitOptions, &'static str) {
    let Some(bytes) = bytes else {
        let o = WitOptions {
            now: "2026-01-01T00:00:00Z".to_string(),
            ioc_expiration_duration: None,
            tags: Vec::new(),
            preserve_original_event: false,
            raw_field: None,
            severity_scale: WitScale::Fixture,
            identity: false,
            limits: WitLimits {
                max_input_bytes: None,
                max_depth: None,
                max_documents: None,
                max_string_bytes: None,
            },
        };
        return (o, JUNK[0]);
    };
    let mut u = Unstructured::new(bytes);
    let base = ti_ecs_fuzz::options(&mut u);
    let now = now_text(&mut u, base.now);
    let duration = u
        .arbitrary::<bool>()
        .unwrap_or(true)
        .then_some(base.ioc_expiration_duration);
    let depth = limit(&mut u, base.limits.max_depth).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    let o = WitOptions {
        now,
        ioc_expiration_duration: duration,
        tags: base.tags,
        preserve_original_event: base.preserve_original_event,
        raw_field: base.raw_field,
        severity_scale: match base.severity_scale {
            SeverityScale::Fixture => WitScale::Fixture,
            SeverityScale::Detection => WitScale::Detection,
        },
        identity: base.identity,
        limits: WitLimits {
            max_input_bytes: limit(&mut u, base.limits.max_input_bytes),
            max_depth: depth,
            max_documents: limit(&mut u, base.limits.max_documents),
            max_string_bytes: limit(&mut u, base.limits.max_string_bytes),
        },
    };
    let junk = u.choose(JUNK).copied().unwrap_or(JUNK[0]);
    (o, junk)
}

/// The core options the component makes of `w` (as `src/bindings/component.rs` does).
fn native_options(w: &WitOptions) -> Result<Options, String> {
    let d = Limits::default();
    let size = |v: Option<u64>, d: usize| v.map_or(d, |v| usize::try_from(v).unwrap_or(usize::MAX));
    OptionsSpec {
        now: w.now.clone(),
        ioc_expiration_duration: w.ioc_expiration_duration.clone(),
        tags: w.tags.clone(),
        preserve_original_event: w.preserve_original_event,
        raw_field: w.raw_field.clone(),
        severity_scale: match w.severity_scale {
            WitScale::Fixture => SeverityScale::Fixture,
            WitScale::Detection => SeverityScale::Detection,
        },
        identity: w.identity,
        limits: Limits {
            max_input_bytes: size(w.limits.max_input_bytes, d.max_input_bytes),
            max_depth: size(w.limits.max_depth.map(u64::from), d.max_depth),
            max_documents: size(w.limits.max_documents, d.max_documents),
            max_string_bytes: size(w.limits.max_string_bytes, d.max_string_bytes),
            ..d
        },
    }
    .into_options()
}

/// Checks one call's answer against the native one: the documents, `None` when both
/// refused the options with the same message, or `Err` saying what differs.
fn compare<T: PartialEq + std::fmt::Debug>(
    what: &str,
    component: Result<T, Error>,
    native: Result<T, &String>,
) -> Result<Option<T>, String> {
    match (component, native) {
        (Ok(c), Ok(n)) if c == n => Ok(Some(c)),
        (Ok(c), Ok(n)) => Err(format!(
            "{what}: the component and the core differ\ncomponent: {c:#?}\ncore: {n:#?}"
        )),
        (Err(Error::InvalidOptions { message, .. }), Err(n)) if &message == n => Ok(None),
        (c, n) => Err(format!(
            "{what}: the component answered {c:?}, the core {n:?}"
        )),
    }
}

fn one(dataset: Dataset, text: &str, junk: &str, wit: &WitOptions) -> Result<(), String> {
    let sandbox = sandbox();
    let wit_dataset = bindings::dataset(dataset.id()).ok_or("no wit data set")?;
    let native = native_options(wit);
    let expected = native
        .as_ref()
        .map(|o| ti_ecs::transform_to_json(dataset, text.as_bytes(), o));

    // transform
    let single = sandbox.transform_with(TENANT, wit_dataset, text, wit);
    let docs = compare("transform", single, expected.clone())?;
    if let (Ok(opts), Some(docs)) = (&native, &docs) {
        ti_ecs_fuzz::invariants::check(dataset, text.as_bytes(), opts, docs)?;
    }

    // transform-batch: result i is the single call on record i
    let records = [text.to_string(), text.to_string(), junk.to_string()];
    let batch = sandbox.transform_batch_with(TENANT, wit_dataset, &records, wit);
    let expected_batch = match (&native, &expected) {
        (Ok(o), Ok(docs)) => Ok(vec![
            docs.clone(),
            docs.clone(),
            ti_ecs::transform_to_json(dataset, junk.as_bytes(), o),
        ]),
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(*e),
    };
    compare("transform-batch", batch, expected_batch).map(drop)
}

fuzz_target!(init: { sandbox(); }, |data: &[u8]| {
    let (record, option_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], data.get(i + 1..)),
        None => (data, None),
    };
    let text = String::from_utf8_lossy(record);
    let (wit, junk) = wit_options(option_bytes);
    for dataset in Dataset::all() {
        if let Err(e) = one(dataset, &text, junk, &wit) {
            panic!("{dataset}: {e}\nrecord: {text:?}\njunk: {junk:?}\noptions: {wit:#?}");
        }
    }
});
