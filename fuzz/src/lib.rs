//! What the fuzz targets share: how a fuzz input becomes a record and options, and the
//! output invariants ([`invariants`]).
//!
//! ## Input format
//!
//! `<record bytes> [0x00 <option bytes>]`
//!
//! Everything before the first NUL byte is the record. Without a NUL the options are the
//! golden corpus default (`now = 2026-01-01T00:00:00Z`, everything else default), so the
//! golden inputs work as seeds unchanged. The bytes after the NUL drive the options
//! through [`arbitrary::Unstructured`]: `now` (including the ends of chrono's range),
//! valid and invalid expiration durations, tags, the preserve flag, the raw field, the
//! severity scale, identity, and small or default limits. A record never holds a raw NUL
//! here; no JSON text does either, and the property tests cover arbitrary bytes.

use arbitrary::Unstructured;
use chrono::{DateTime, TimeZone, Utc};
use ti_ecs::{Limits, Options, SeverityScale};

pub mod invariants;

/// The golden corpus's default `now`.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Splits a fuzz input into the record and the options (see the module doc).
pub fn split(data: &[u8]) -> (&[u8], Options) {
    match data.iter().position(|&b| b == 0) {
        None => (data, Options::new(default_now())),
        Some(i) => {
            let (record, rest) = data.split_at(i);
            let mut u = Unstructured::new(rest.get(1..).unwrap_or_default());
            (record, options(&mut u))
        }
    }
}

/// Times tried as `now`: the corpus default, the epoch, before it, and the ends of chrono's range.
fn now(u: &mut Unstructured) -> DateTime<Utc> {
    match u.int_in_range(0..=5u8).unwrap_or(0) {
        0 => default_now(),
        1 => DateTime::UNIX_EPOCH,
        2 => DateTime::<Utc>::MIN_UTC,
        3 => DateTime::<Utc>::MAX_UTC,
        _ => {
            let secs: i64 = u.arbitrary().unwrap_or(0);
            let nanos: u32 = u.arbitrary().unwrap_or(0);
            DateTime::from_timestamp(secs, nanos % 1_000_000_000).unwrap_or_else(default_now)
        }
    }
}

fn text(u: &mut Unstructured, known: &[&str]) -> String {
    if u.arbitrary::<bool>().unwrap_or(false) {
        u.arbitrary::<String>().unwrap_or_default()
    } else {
        u.choose(known).map(|s| s.to_string()).unwrap_or_default()
    }
}

fn size(u: &mut Unstructured, small: &[usize], default: usize) -> usize {
    if u.arbitrary::<bool>().unwrap_or(false) {
        u.choose(small).copied().unwrap_or(default)
    } else {
        default
    }
}

/// Options from fuzz bytes.
pub fn options(u: &mut Unstructured) -> Options {
    let mut o = Options::new(now(u));
    o.ioc_expiration_duration = text(u, invariants::DURATIONS);
    let n = u.int_in_range(0..=3u8).unwrap_or(0);
    o.tags = (0..n)
        .map(|_| {
            text(
                u,
                &[
                    "forwarded",
                    "preserve_original_event",
                    "",
                    "daily_refresh",
                    "a,b",
                ],
            )
        })
        .collect();
    o.preserve_original_event = u.arbitrary().unwrap_or(false);
    if u.arbitrary::<bool>().unwrap_or(false) {
        o.raw_field = Some(text(
            u,
            &["payload", "a.b", "message", "event.original", "json", ""],
        ));
    }
    if u.arbitrary::<bool>().unwrap_or(false) {
        o.severity_scale = SeverityScale::Detection;
    }
    o.identity = u.arbitrary().unwrap_or(false);
    let d = Limits::default();
    o.limits = Limits {
        max_input_bytes: size(u, &[0, 1, 16, 256, 4096], d.max_input_bytes),
        max_depth: size(
            u,
            &[0, 1, 2, 3, 8, 100, 127, 128, 129, 200, usize::MAX],
            d.max_depth,
        ),
        max_documents: size(u, &[0, 1, 2, 10], d.max_documents),
        max_string_bytes: size(u, &[0, 1, 8, 64], d.max_string_bytes),
        ..d
    };
    o
}

/// One data set's target: the core on the record, then every invariant on the output.
/// A broken invariant panics, which libFuzzer reports as a crash with its input.
pub fn run(dataset: ti_ecs::Dataset, data: &[u8]) {
    let (record, opts) = split(data);
    let docs = ti_ecs::transform_to_json(dataset, record, &opts);
    if let Err(e) = invariants::check(dataset, record, &opts, &docs) {
        panic!("{e}");
    }
    // a record the data set's direct path takes gives the general path's documents
    let mut written = Vec::new();
    if let Some(direct) = dataset.info().direct
        && let Ok(text) = std::str::from_utf8(record)
        && direct(text, &opts, &mut written)
    {
        let general = ti_ecs::general_json(dataset, text, &opts);
        let docs: Vec<String> = written
            .iter()
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .collect();
        if general != docs {
            panic!(
                "direct path differs:\nrecord: {text}\noptions: {opts:?}\ndirect: {docs:?}\ngeneral: {general:?}"
            );
        }
    }
}
