//! `ti_ecs::json::from_str` (the reader the mappings read records with) against
//! `serde_json::from_str::<Value>`, the value it stands in for: any text one refuses the
//! other refuses, and what both read is the same value, written the same (ours by
//! `ti_ecs::json`'s own writer).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = ti_ecs::json::from_str(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            assert_eq!(ours.to_string(), theirs.to_string(), "{text:?}");
            assert_eq!(ours.into_serde(), theirs, "{text:?}");
        }
        (Err(_), Err(_)) => {}
        (ours, theirs) => panic!(
            "{text:?}: ours {}, serde_json {}",
            ours.map_or_else(|e| e.to_string(), |_| "read".into()),
            theirs.map_or_else(|e| e.to_string(), |_| "read".into())
        ),
    }
});
