//! Cross-target property test: random records and options give the same documents
//! through the native core, the component (wasmtime) and the Fluent Bit module (its exact
//! calling convention), and every output keeps the invariants of
//! `fuzz/src/invariants.rs`.
//!
//! Records are the golden inputs, each mutated a few ways (cut, a byte changed, bytes
//! inserted, wrapped in an envelope), plus random bytes and random JSON-like text. A
//! small seeded generator drives it (no proptest here: host-tests keeps its dependencies
//! to the wasm host), so a failure names the seed and case index and reruns the same.
//! `TI_ECS_PROPERTY_CASES=N` changes the number of random records (default 1000); the
//! wasm calls are slower than native ones.

#[path = "../../tests/support/corpus.rs"]
mod corpus;
#[path = "../../fuzz/src/invariants.rs"]
mod invariants;

use chrono::{DateTime, TimeZone, Utc};
use host_tests::component::{self, Host};
use host_tests::fluent_bit::{self, Copy, FluentBit};
use ti_ecs::{Dataset, Options};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const SEED: u64 = 0x7469_2d65_6373_2d70;

/// Options as the JSON form every target reads; durations are valid here (invalid ones
/// are an `Err` of the options, and reach the mappings through `_conf` in records).
fn options_json(rng: &mut Rng, now: DateTime<Utc>) -> String {
    let duration = rng.pick(&["90d", "5d", "0d", "1h", "30m", "10s", "2w", "300000000d"]);
    let tags = rng.pick(&[
        r#"[]"#,
        r#"["forwarded"]"#,
        r#"["preserve_original_event","x"]"#,
        r#"[""]"#,
    ]);
    let limits = rng.pick(&[
        "{}",
        r#"{"max_depth":3}"#,
        r#"{"max_string_bytes":16}"#,
        r#"{"max_input_bytes":100}"#,
        r#"{"max_documents":1}"#,
        r#"{"max_documents":0}"#,
    ]);
    format!(
        r#"{{"now":"{}","ioc_expiration_duration":"{duration}","tags":{tags},"preserve_original_event":{},"identity":{},"severity_scale":"{}","limits":{limits}}}"#,
        now.to_rfc3339(),
        rng.below(2) == 0,
        rng.below(2) == 0,
        rng.pick(&["fixture", "detection"]),
    )
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    match rng.below(8) {
        0 => v.truncate(rng.below(v.len() + 1)),
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.next() as u8;
        }
        2 => {
            let i = rng.below(v.len() + 1);
            const JUNK: [&[u8]; 8] = [
                b"{", b"]", b"\"", b"\\u0000", b"\xff", b"null,", b"[[[[", b"1e400",
            ];
            let junk = *rng.pick(&JUNK);
            v.splice(i..i, junk.iter().copied());
        }
        3 => {
            let text = String::from_utf8_lossy(&v).into_owned();
            let conf = rng.pick(&["90d", "10y", "", "5"]);
            v = serde_json::to_vec(&serde_json::json!({
                "message": text, "tags": ["preserve_original_event"], "_conf": {"ioc_expiration_duration": conf}
            }))
            .unwrap();
        }
        4 => v = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        5 => {
            v = (0..rng.below(60))
                .map(|_| *rng.pick(b"{}[]\":,0123456789abcnul .-eE\\"))
                .collect()
        }
        _ => {}
    }
    v
}

/// One record through the three targets; `Err` names what differs.
fn one(
    ds: Dataset,
    record: &[u8],
    opts_text: &str,
    fb: &mut FluentBit,
    host: &Host,
) -> Result<(), String> {
    let opts = Options::from_json(opts_text)?;
    let native = invariants::check_call(ds, record, &opts)?;

    // component: the same options through WIT; a WIT string carries UTF-8 only
    if let Ok(text) = std::str::from_utf8(record) {
        let wit_opts = component::options_from_json(opts_text)?;
        let wit_ds = component::dataset(ds.id()).ok_or("no wit dataset")?;
        let docs = host
            .instance()
            .map_err(|e| format!("instantiate: {e:#}"))?
            .transform(wit_ds, text, &wit_opts)
            .map_err(|e| format!("component trapped: {e:#}"))?
            .map_err(|e| format!("component returned an error: {e:?}"))?;
        if docs != native {
            return Err(format!(
                "native and component differ:\nnative: {native:#?}\ncomponent: {docs:#?}"
            ));
        }
    }

    // Fluent Bit: `now` is the record time, other options the module's (`Options::fluent_bit`)
    let secs = u32::try_from(opts.now.timestamp()).map_err(|e| e.to_string())?;
    let fb_opts = Options::fluent_bit(opts.now);
    let function = fluent_bit::function(ds.id()).ok_or("no fluent bit function")?;
    let out = fb
        .call(
            function,
            "ti.test",
            (secs, opts.now.timestamp_subsec_nanos()),
            record,
        )
        .map_err(|e| format!("fluent bit module trapped: {e:#}"))?;
    let answer = std::str::from_utf8(out.bytes())
        .map_err(|e| format!("fluent bit answer is not utf-8: {e}"))?;
    let answer = (!answer.is_empty()).then_some(answer);
    invariants::check_fluent_bit(ds, record, &fb_opts, answer)
}

#[test]
fn native_component_and_fluent_bit_agree_on_random_records() {
    let cases: usize = std::env::var("TI_ECS_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let golden = corpus::load(&corpus::golden_dir());
    assert!(!golden.is_empty(), "no golden cases");
    let host = Host::shared();
    let mut fb = FluentBit::new(Copy::Malloc).expect("instantiate the fluent bit module");
    let mut rng = Rng(SEED);
    let datasets: Vec<Dataset> = Dataset::all().collect();
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for i in 0..cases {
        let case = rng.pick(&golden);
        let ds = if rng.below(4) == 0 {
            *rng.pick(&datasets)
        } else {
            case.dataset.parse().unwrap()
        };
        let record = mutate(&mut rng, &case.input);
        // `now` within u32 seconds, as Fluent Bit's record time is
        let now = base + chrono::Duration::seconds(rng.below(200_000_000) as i64 - 100_000_000);
        let opts = options_json(&mut rng, now);
        if let Err(e) = one(ds, &record, &opts, &mut fb, host) {
            panic!(
                "case {i} (seed {SEED:#x}) from {}::{}, {ds}, options {opts}\nrecord: {:?}\n{e}",
                case.dataset,
                case.name,
                String::from_utf8_lossy(&record)
            );
        }
    }
}
