//! The Fluent Bit `wasm` filter module (`wasm32-wasip1` cdylib, feature `fluent-bit`).
//!
//! ## Calling convention (`shared/hosts/FLUENT_BIT.md`)
//!
//! One exported function per data set — [`anomali_threatstream`],
//! [`anomali_intelligence`], [`misp_threat`], [`misp_threat_attributes`] — called once per
//! record as `(tag_ptr, tag_len, time_sec, time_nsec, record_ptr, record_len) -> ptr`.
//! The record is JSON text in guest memory; the result points at one NUL-terminated JSON
//! object in a buffer owned by the module and freed by the next call. The module never
//! answers `""` (which would drop the record without a trace).
//!
//! ## What the module decides
//!
//! - `now` is the record's time (`time_sec`, `time_nsec`), so the output is deterministic:
//!   `event.ingested` and every expiration rule use it. The tag is not used.
//! - The ABI carries no options. Per-record settings travel in the record, as Elastic's
//!   agent sends them (`_conf.ioc_expiration_duration`, also as the literal dotted key
//!   that Fluent Bit's `modify` filter writes, and `tags`); the core reads them.
//!   Everything else keeps its default.
//! - A record that yields several documents (a whole MISP event or response) cannot pass
//!   through a filter, which returns one record: it becomes ONE error document keeping
//!   the original and saying to split records before the filter. A record that yields no
//!   document (an empty list, MISP response or API page, which the core drops as Elastic
//!   does) becomes ONE error document saying so: no record leaves the filter unaccounted.
//! - `record_ptr == 0` (Fluent Bit could not copy the record into the guest) gives an
//!   error document naming the `wasm_heap_size` setting and the record's length.
//! - Records nest at most [`crate::options::FLUENT_BIT_MAX_DEPTH`] levels (the core's
//!   default is 64), as [`Options::fluent_bit`] says why: deeper documents break Fluent
//!   Bit's own outputs. A deeper record becomes an error document naming the limit.
//! - Never traps: the core never panics, parsing is depth-limited, no recursion here.
//!
//! ## Building
//!
//! `malloc` and `free` are wasi-libc's, the allocator Rust's `std` uses on this target,
//! exported by linker arguments (so the host can copy records of any size through the
//! guest allocator). A Rust `cdylib` on `wasm32-wasip1` does not export `_initialize` by
//! itself (measured); [`_initialize`] below makes the module a WASI reactor:
//!
//! ```text
//! cargo rustc -p ti-ecs --lib --crate-type cdylib --target wasm32-wasip1 --profile wasm \
//!     --no-default-features --features fluent-bit -- \
//!     -C link-arg=--export=malloc -C link-arg=--export=free -C llvm-args=-inline-threshold=1000
//! # → target/wasm32-wasip1/wasm/ti_ecs.wasm
//! ```

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::{Dataset, Options};

/// The Fluent Bit `wasm` filter setting that bounds the records the host can copy in.
pub const HEAP_SETTING: &str = "wasm_heap_size";

/// The answer of the last call; the host copies it before the next call, which frees it.
static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// What one call returns, written to `out` as JSON: one document for every record.
///
/// `record` is `None` when the host passed `record_ptr == 0`; `record_len` is then the
/// length of the record it could not copy.
pub fn filter(
    dataset: Dataset,
    time_sec: u32,
    time_nsec: u32,
    record: Option<&[u8]>,
    record_len: u32,
    out: &mut Vec<u8>,
) {
    let opts = Options::fluent_bit(record_time(time_sec, time_nsec));
    let Some(raw) = record else {
        let msg = format!(
            "record of {record_len} bytes did not reach the filter: it is larger than the fluent bit wasm heap; raise `{HEAP_SETTING}` of the `wasm` filter above {record_len} bytes"
        );
        return crate::error_document(dataset, b"", msg, &opts).write_json(out);
    };
    // The first document is written as it comes (it borrows the record, which lives only
    // through the call); a second one means the answer is an error document instead.
    let start = out.len();
    let mut count = 0usize;
    crate::transform_finished(dataset, raw, &opts, &mut |d| {
        count += 1;
        if count == 1 {
            d.write_json(out);
        }
    });
    let message = match count {
        0 => crate::NOTHING_TO_MAP.to_string(),
        1 => return,
        n => format!(
            "record yields {n} documents but a fluent bit filter returns one record per record: split the record before the `wasm` filter (one misp attribute per record), or use `ti-ecs serve`"
        ),
    };
    out.truncate(start);
    crate::error_document(dataset, raw, message, &opts).write_json(out);
}

/// The time Fluent Bit gives the record; a nanosecond part out of range is dropped.
fn record_time(sec: u32, nsec: u32) -> DateTime<Utc> {
    let sec = i64::from(sec);
    DateTime::from_timestamp(sec, nsec)
        .or_else(|| DateTime::from_timestamp(sec, 0))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Runs [`filter`] and writes its result, NUL-terminated, into a fresh buffer (the
/// previous one freed first).
///
/// # Safety
///
/// `record_ptr` is null or points at `record_len` readable bytes.
unsafe fn call(
    dataset: Dataset,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    let record = if record_ptr.is_null() {
        None
    } else {
        // SAFETY: the host copied `record_len` bytes to `record_ptr` (the caller's contract).
        Some(unsafe { std::slice::from_raw_parts(record_ptr, record_len as usize) })
    };
    let mut out = OUT.lock().unwrap_or_else(PoisonError::into_inner);
    // The previous answer's buffer goes first: the host has copied it, and without it no
    // block of the allocation arena is live, so the arena starts over (`arena.rs`).
    *out = Vec::new();
    filter(dataset, time_sec, time_nsec, record, record_len, &mut out);
    out.push(0);
    out.as_ptr()
}

/// Makes the module a WASI reactor: Fluent Bit (WAMR) calls `_initialize` once after
/// instantiating it, which runs the static constructors. Exporting it also keeps the
/// linker from wrapping every exported function with constructor calls, and silences the
/// warning WAMR prints into the output stream for modules without it. Later calls do
/// nothing.
#[cfg(target_family = "wasm")]
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" {
        /// Synthesised by the linker: runs the static constructors.
        fn __wasm_call_ctors();
    }
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: the linker-provided constructor runner, called once.
        unsafe { __wasm_call_ctors() }
    }
}

macro_rules! entry_points {
    ($($name:ident => $dataset:ident, $id:literal;)*) => {$(
        #[doc = concat!("The `", $id, "` filter: `function_name: ", stringify!($name), "`.")]
        ///
        /// # Safety
        ///
        /// Called by the Fluent Bit host: `record_ptr` is null or points at `record_len`
        /// readable bytes. The tag is not read.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            _tag_ptr: *const u8,
            _tag_len: u32,
            time_sec: u32,
            time_nsec: u32,
            record_ptr: *const u8,
            record_len: u32,
        ) -> *const u8 {
            // SAFETY: forwarded from this function's contract.
            unsafe { call(Dataset::$dataset, time_sec, time_nsec, record_ptr, record_len) }
        }
    )*};
}

entry_points! {
    anomali_threatstream => AnomaliThreatstream, "ti_anomali.threatstream";
    anomali_intelligence => AnomaliIntelligence, "ti_anomali.intelligence";
    misp_threat => MispThreat, "ti_misp.threat";
    misp_threat_attributes => MispThreatAttributes, "ti_misp.threat_attributes";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const T: u32 = 1_767_225_600; // 2026-01-01T00:00:00Z

    type Entry = unsafe extern "C" fn(*const u8, u32, u32, u32, *const u8, u32) -> *const u8;

    /// Fluent Bit calls the module one record at a time, and the answer lives in one
    /// buffer until the next call: tests running in parallel take turns.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn run(f: Entry, rec: &[u8]) -> String {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let mut input = rec.to_vec();
        input.push(0);
        let tag = b"t\0";
        // SAFETY: both buffers outlive the call; the result is copied before the next call
        // (no other call runs meanwhile: `ONE_AT_A_TIME`).
        unsafe {
            let p = f(tag.as_ptr(), 1, T, 0, input.as_ptr(), rec.len() as u32);
            std::ffi::CStr::from_ptr(p.cast())
                .to_str()
                .unwrap()
                .to_string()
        }
    }

    #[test]
    fn record_time_is_now() {
        let t = record_time(T, 5_000_000);
        assert_eq!(crate::dates::fmt_es(t), "2026-01-01T00:00:00.005Z");
        assert_eq!(record_time(T, 2_000_000_000), record_time(T, 0));
    }

    #[test]
    fn unreadable_record_is_one_error_object() {
        let out = run(misp_threat_attributes, b"{not json");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["event"]["kind"], "pipeline_error");
        assert_eq!(v["event"]["original"], "{not json");
    }

    #[test]
    fn missing_record_names_the_heap_setting_and_length() {
        let mut out = Vec::new();
        filter(Dataset::MispThreat, T, 0, None, 70_000, &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event"]["kind"], "pipeline_error");
        let msg = v["error"]["message"][0].as_str().unwrap();
        assert!(
            msg.contains("`wasm_heap_size`") && msg.contains("70000"),
            "{msg}"
        );
        assert_eq!(v["error"]["message"].as_array().unwrap().len(), 1);
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: a null record is allowed by the contract; the answer is read before any
        // other call (`ONE_AT_A_TIME`).
        let out = unsafe {
            std::ffi::CStr::from_ptr(
                anomali_intelligence(std::ptr::null(), 0, T, 0, std::ptr::null(), 9).cast(),
            )
        };
        assert!(out.to_str().unwrap().contains("record of 9 bytes"));
    }

    #[test]
    fn a_record_with_nothing_to_map_is_answered_not_dropped() {
        for (f, raw, original) in [
            (
                misp_threat_attributes as Entry,
                &br#"{"response":[]}"#[..],
                r#"{"response":[]}"#,
            ),
            (misp_threat_attributes, b"[]", "[]"),
            (
                anomali_intelligence,
                br#"{"objects":[]}"#,
                r#"{"objects":[]}"#,
            ),
            // an envelope: its text is the original, its tags and `_conf` are kept
            (
                anomali_threatstream,
                br#"{"message":"[]","tags":["t"],"_conf":{"identity":true}}"#,
                "[]",
            ),
        ] {
            let out = run(f, raw);
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["event"]["kind"], "pipeline_error", "{out}");
            assert_eq!(v["error"]["message"][0], crate::NOTHING_TO_MAP);
            assert_eq!(v["event"]["original"], original, "{out}");
            if original == "[]" && raw.starts_with(b"{") {
                assert!(v["tags"].as_array().unwrap().contains(&"t".into()), "{out}");
                assert!(v["labels"]["ioc_key"].is_string(), "{out}");
            }
        }
    }

    #[test]
    fn records_deeper_than_fluent_bit_outputs_take_become_error_documents() {
        let nested = |levels: usize| {
            // `levels` counts the record's own object
            let inner = format!("{}1{}", "[".repeat(levels - 2), "]".repeat(levels - 2));
            format!(r#"{{"type":"ip-dst","value":"10.0.0.1","x":{{"y":{inner}}}}}"#)
        };
        let max = crate::options::FLUENT_BIT_MAX_DEPTH;
        let ok = run(misp_threat_attributes, nested(max).as_bytes());
        assert!(
            ok.contains(r#""ip":"10.0.0.1""#) && !ok.contains("pipeline_error"),
            "{ok}"
        );
        let deep = run(misp_threat_attributes, nested(max + 1).as_bytes());
        let d: Value = serde_json::from_str(&deep).unwrap();
        assert_eq!(d["event"]["kind"], "pipeline_error");
        let msg = d["error"]["message"][0].as_str().unwrap();
        assert!(msg.contains(&format!("max_depth = {max}")), "{msg}");
        // no Fluent Bit setting reaches the module's limits: the message says where to go
        assert!(
            !msg.contains("raise limits") && msg.contains("the Fluent Bit module cannot raise it"),
            "{msg}"
        );
        assert!(msg.contains("ti-ecs serve"), "{msg}");
        assert_eq!(d["event"]["original"], nested(max + 1));
    }

    #[test]
    fn output_matches_the_core() {
        for ds in Dataset::all() {
            let raw =
                br#"{"message":"{\"a\":1}","tags":["t"],"_conf.ioc_expiration_duration":"5d"}"#;
            let docs = crate::transform_to_json(ds, raw, &Options::fluent_bit(record_time(T, 0)));
            if docs.len() == 1 {
                let mut out = Vec::new();
                filter(ds, T, 0, Some(raw), raw.len() as u32, &mut out);
                assert_eq!(String::from_utf8(out).unwrap(), docs[0], "{ds}");
            }
        }
    }
}
