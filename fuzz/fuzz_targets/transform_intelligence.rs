//! `ti_ecs::transform` for `Dataset::AnomaliIntelligence`, options from the input's tail, every
//! invariant checked (`fuzz/src/invariants.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ti_ecs_fuzz::run(ti_ecs::Dataset::AnomaliIntelligence, data));
