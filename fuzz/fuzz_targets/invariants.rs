//! Every data set on the same input, each run twice: the runs must be equal and keep every
//! invariant (`fuzz/src/invariants.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ti_ecs::Dataset;

fuzz_target!(|data: &[u8]| {
    let (record, opts) = ti_ecs_fuzz::split(data);
    for dataset in Dataset::all() {
        if let Err(e) = ti_ecs_fuzz::invariants::check_call(dataset, record, &opts) {
            panic!("{e}");
        }
    }
});
