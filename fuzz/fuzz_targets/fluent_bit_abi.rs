//! The Fluent Bit filter's `extern "C"` entry points, called natively the way Fluent Bit
//! calls them: tag and record copied into fresh buffers (the record NUL-terminated), six
//! 32-bit arguments, the answer read as a C string before the next call. Also the
//! `record_ptr == 0` case (record larger than the host heap). The answer must be `""` only
//! when the core drops the record, otherwise one JSON object equal to the core's document
//! (or an error document for a record that fans out).
#![no_main]

use std::ffi::CStr;

use arbitrary::Unstructured;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use ti_ecs::bindings::fluent_bit;
use ti_ecs::{Dataset, Options};

type Entry = unsafe extern "C" fn(*const u8, u32, u32, u32, *const u8, u32) -> *const u8;

const ENTRIES: [(Entry, Dataset); 4] = [
    (
        fluent_bit::anomali_threatstream,
        Dataset::AnomaliThreatstream,
    ),
    (
        fluent_bit::anomali_intelligence,
        Dataset::AnomaliIntelligence,
    ),
    (fluent_bit::misp_threat, Dataset::MispThreat),
    (
        fluent_bit::misp_threat_attributes,
        Dataset::MispThreatAttributes,
    ),
];

fuzz_target!(|data: &[u8]| {
    let (record, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut u = Unstructured::new(rest);
    let which = u.int_in_range(0..=3usize).unwrap_or(0);
    let time_sec: u32 = if u.arbitrary().unwrap_or(false) {
        u.arbitrary().unwrap_or(0)
    } else {
        1_767_225_600
    };
    let time_nsec: u32 = u.arbitrary().unwrap_or(0);
    let null_record = u.ratio(1, 16).unwrap_or(false);
    let (entry, dataset) = ENTRIES[which];

    let tag = b"misp.attributes\0".to_vec();
    let mut buf = record.to_vec();
    buf.push(0);
    let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
    let record_ptr = if null_record {
        std::ptr::null()
    } else {
        buf.as_ptr()
    };
    // SAFETY: the tag and record buffers outlive the call; a null record is allowed.
    let answer = unsafe {
        let p = entry(tag.as_ptr(), 15, time_sec, time_nsec, record_ptr, len);
        assert!(!p.is_null(), "the filter returned a null pointer");
        CStr::from_ptr(p.cast()).to_str().map(str::to_string)
    };
    let answer = answer.unwrap_or_else(|e| panic!("answer is not utf-8: {e}"));

    if null_record {
        let v: serde_json::Value = serde_json::from_str(&answer).expect("answer is json");
        let msg = v["error"]["message"][0].as_str().unwrap_or_default();
        assert!(
            msg.contains(fluent_bit::HEAP_SETTING) && msg.contains(&len.to_string()),
            "{answer}"
        );
        return;
    }
    let now = DateTime::from_timestamp(i64::from(time_sec), time_nsec)
        .or_else(|| DateTime::from_timestamp(i64::from(time_sec), 0))
        .unwrap_or(DateTime::UNIX_EPOCH);
    let opts = Options::fluent_bit(now);
    let answer = (!answer.is_empty()).then_some(answer.as_str());
    if let Err(e) = ti_ecs_fuzz::invariants::check_fluent_bit(dataset, record, &opts, answer) {
        panic!("{e}");
    }
});
