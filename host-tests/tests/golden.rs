//! The golden corpus (`host-tests/golden/`) through the component and the Fluent Bit
//! module, each compared byte for byte with the native core and the expected file.
//!
//! Trials, one per case and target:
//!
//! - `component::<dataset>::<case>`: `transform`, then `transform-batch` with the record
//!   twice; the documents equal the native core's and the expected file;
//! - `fluent_bit::<dataset>::<case>`: the record through the Fluent Bit calling convention,
//!   with `malloc` and with a host-managed region, on one shared instance per mode. The
//!   module takes no options, so it is compared with the native core on the case's `now`
//!   only (and with the expected file when the case uses no other option): a record with
//!   one document gives that document, none (nothing to map) and several each give one
//!   error document; the module never answers `""`.
//!
//! plus target checks (imports, options errors, batch order, hostile streams, large
//! records). The native test in the root crate blesses the expected files
//! (`TI_ECS_BLESS=1 cargo test --test golden`); while blessing, only the comparison with
//! the native core is made here.

#[path = "../../tests/support/corpus.rs"]
mod corpus;

use std::sync::{Mutex, OnceLock};

use host_tests::component::{self, Dataset, Host};
use host_tests::fluent_bit::{self, Copy, FluentBit, Output};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

fn main() {
    let args = Arguments::from_args();
    let cases = corpus::load(&corpus::golden_dir());
    let mut trials = Vec::new();
    for case in &cases {
        let c = case.clone();
        let utf8 = std::str::from_utf8(&case.input).is_ok();
        // A WIT string cannot carry invalid UTF-8; such records are for the byte targets.
        trials.push(
            Trial::test(
                format!("component::{}::{}", case.dataset, case.name),
                move || component_case(&c),
            )
            .with_ignored_flag(!utf8),
        );
        let c = case.clone();
        // Fluent Bit's record time is u32 seconds since 1970; other `now`s cannot be sent.
        let sendable = record_time(&case.options_json).is_ok();
        trials.push(
            Trial::test(
                format!("fluent_bit::{}::{}", case.dataset, case.name),
                move || fluent_bit_case(&c),
            )
            .with_ignored_flag(!sendable),
        );
    }
    for info in ti_ecs::DATASETS {
        let mine: Vec<corpus::Case> = cases
            .iter()
            .filter(|c| c.dataset == info.id)
            .cloned()
            .collect();
        trials.push(Trial::test(
            format!("component::batch_keeps_order::{}", info.id),
            move || batch_order(info.id, &mine),
        ));
    }
    trials.extend([
        Trial::test("component::imports_nothing", component_imports_nothing),
        Trial::test(
            "component::invalid_options_is_err",
            component_invalid_options,
        ),
        Trial::test("component::every_dataset_answers", component_every_dataset),
        Trial::test("component::memory_does_not_grow_across_calls", {
            let cases = cases.clone();
            move || component_memory_across_calls(&cases)
        }),
        Trial::test("fluent_bit::module_shape", fluent_bit_module_shape),
        Trial::test("fluent_bit::record_ptr_zero", fluent_bit_record_ptr_zero),
        Trial::test(
            "fluent_bit::large_record_through_malloc",
            fluent_bit_large_record,
        ),
        Trial::test(
            "fluent_bit::malformed_stream_on_one_instance",
            fluent_bit_malformed_stream,
        ),
        Trial::test(
            "fluent_bit::memory_does_not_grow_across_calls",
            fluent_bit_memory_across_calls,
        ),
        Trial::test(
            "fluent_bit::fan_out_is_one_error_document",
            fluent_bit_fan_out,
        ),
    ]);
    libtest_mimic::run(&args, trials).exit();
}

/// The message of a failure, to prefix it.
fn msg(e: &Failed) -> &str {
    e.message().unwrap_or_default()
}

/// The native core's documents for a record.
fn native(dataset: &str, input: &[u8], options_json: &str) -> Result<Vec<String>, Failed> {
    let ds: ti_ecs::Dataset = dataset.parse()?;
    let opts = ti_ecs::Options::from_json(options_json)?;
    Ok(ti_ecs::transform_to_json(ds, input, &opts))
}

/// Fails with a diff unless `actual` equals `expected`.
fn same(what: &str, expected: &str, actual: &str) -> Result<(), Failed> {
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "{what} differ:\n{}",
        bounded(&corpus::diff(expected, actual))
    )
    .into())
}

/// At most a few KiB of a failure text: corpus records may be huge.
fn bounded(text: &str) -> String {
    const MAX: usize = 4096;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}… ({} more bytes)", &text[..i], text.len() - i),
        None => text.to_string(),
    }
}

/// The start of a record, for failure messages.
fn snippet(record: &[u8]) -> String {
    let text = String::from_utf8_lossy(record);
    let head: String = text.chars().take(60).collect();
    if head.len() < text.len() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

/// Compares with the expected file (skipped while blessing).
fn same_as_expected(case: &corpus::Case, docs: &[String]) -> Result<(), Failed> {
    if corpus::blessing() {
        return Ok(());
    }
    if !case.expected_path.exists() {
        return Err(format!(
            "no expected file `{}`: bless it with `TI_ECS_BLESS=1 cargo test --test golden` and review it",
            case.expected_path.display()
        )
        .into());
    }
    same(
        "expected file and output",
        &case.expected(),
        &corpus::render(docs),
    )
}

fn wit_dataset(id: &str) -> Result<Dataset, Failed> {
    component::dataset(id).ok_or_else(|| format!("unknown dataset `{id}`").into())
}

fn component_case(case: &corpus::Case) -> Result<(), Failed> {
    let expected = native(&case.dataset, &case.input, &case.options_json)?;
    let record = std::str::from_utf8(&case.input)?;
    let dataset = wit_dataset(&case.dataset)?;
    let options = component::options_from_json(&case.options_json)?;
    let mut inst = Host::shared().instance()?;
    let docs = inst
        .transform(dataset, record, &options)?
        .map_err(|e| format!("{e:?}"))?;
    same(
        "native and component documents",
        &expected.join("\n"),
        &docs.join("\n"),
    )?;
    same_as_expected(case, &docs)?;
    let twice = [record.to_string(), record.to_string()];
    let batch = inst
        .transform_batch(dataset, &twice, &options)?
        .map_err(|e| format!("{e:?}"))?;
    same_lists("native and component batch documents", &expected, &batch)?;
    // A session of the same data set and options gives the same documents, call after
    // call, one record or a batch.
    let session = inst
        .open_session(dataset, &options)?
        .map_err(|e| format!("{e:?}"))?;
    let calls = [
        inst.session_transform(session, record)?,
        inst.session_transform(session, record)?,
    ];
    same_lists("native and component session documents", &expected, &calls)?;
    let batch = inst.session_transform_batch(session, &twice)?;
    same_lists(
        "native and component session batch documents",
        &expected,
        &batch,
    )?;
    inst.close_session(session)?;
    Ok(())
}

/// Each of two lists of documents (a batch of a record twice, or two calls) is `expected`.
fn same_lists(what: &str, expected: &[String], lists: &[Vec<String>]) -> Result<(), Failed> {
    if lists.len() != 2 {
        return Err(format!("{what}: 2 records gave {} lists", lists.len()).into());
    }
    for docs in lists {
        same(what, &expected.join("\n"), &docs.join("\n"))?;
    }
    Ok(())
}

/// One shared instance per copy mode, reused by every case, as Fluent Bit reuses one.
fn shared_fluent_bit(copy: Copy) -> &'static Mutex<FluentBit> {
    static MALLOC: OnceLock<Mutex<FluentBit>> = OnceLock::new();
    static REGION: OnceLock<Mutex<FluentBit>> = OnceLock::new();
    let cell = match copy {
        Copy::Malloc => &MALLOC,
        Copy::HostRegion => &REGION,
    };
    cell.get_or_init(|| {
        Mutex::new(FluentBit::new(copy).unwrap_or_else(|e| panic!("cannot instantiate: {e:#}")))
    })
}

/// `now` of a case as Fluent Bit's `(time_sec, time_nsec)`.
fn record_time(options_json: &str) -> Result<(u32, u32), Failed> {
    let opts = ti_ecs::Options::from_json(options_json)?;
    let sec = u32::try_from(opts.now.timestamp())
        .map_err(|_| format!("`now` {} is outside u32 seconds", opts.now))?;
    Ok((sec, opts.now.timestamp_subsec_nanos()))
}

/// Checks the shape Fluent Bit needs: `""` or one JSON object, no NUL inside.
fn fluent_bit_shape(out: &Output) -> Result<Option<serde_json::Map<String, Value>>, Failed> {
    let bytes = out.bytes();
    if bytes.is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(other) => Err(format!("output is JSON but not an object: {other}").into()),
        Err(e) => Err(format!(
            "output is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
        .into()),
    }
}

/// What the module must answer for a record, from the native core on the module's options
/// (`Options::fluent_bit`: the defaults, a lower depth limit).
#[derive(PartialEq)]
enum Want {
    /// The core gives no document: the module answers its "nothing to map" error document.
    Drop,
    Doc(String),
    FanOut(usize),
}

fn want(dataset: &str, input: &[u8], time: (u32, u32)) -> Result<Want, Failed> {
    let now = chrono::DateTime::from_timestamp(i64::from(time.0), time.1).ok_or("bad time")?;
    want_with(dataset, input, &ti_ecs::Options::fluent_bit(now))
}

fn want_with(dataset: &str, input: &[u8], opts: &ti_ecs::Options) -> Result<Want, Failed> {
    let ds: ti_ecs::Dataset = dataset.parse()?;
    let mut docs = ti_ecs::transform_to_json(ds, input, opts);
    Ok(match docs.len() {
        0 => Want::Drop,
        1 => Want::Doc(docs.pop().unwrap_or_default()),
        n => Want::FanOut(n),
    })
}

/// Checks one module answer against what the core says it must be.
fn check_answer(want: &Want, out: &Output, input: &[u8]) -> Result<(), Failed> {
    let doc = fluent_bit_shape(out)?;
    match (want, doc) {
        (Want::Drop, None) => Err(
            "a record with nothing to map was dropped (\"\"): the module must answer every record"
                .into(),
        ),
        (Want::Drop, Some(d)) => {
            let d = Value::Object(d);
            if d["event"]["kind"] != "pipeline_error"
                || d["error"]["message"][0] != ti_ecs::NOTHING_TO_MAP
                || d["event"]["original"] != String::from_utf8_lossy(input).as_ref()
            {
                return Err(format!(
                    "a record with nothing to map must give its error document, got {d}"
                )
                .into());
            }
            Ok(())
        }
        (Want::Doc(expected), _) => same(
            "native and fluent bit documents",
            expected,
            &String::from_utf8_lossy(out.bytes()),
        ),
        (Want::FanOut(n), Some(d)) => {
            let d = Value::Object(d);
            let msg = d["error"]["message"][0].as_str().unwrap_or_default();
            if d["event"]["kind"] != "pipeline_error"
                || !msg.contains("split")
                || !msg.contains(&n.to_string())
            {
                return Err(format!("a record with {n} documents must give one error document saying to split it, got {d}").into());
            }
            if d["event"]["original"].as_str().is_none_or(str::is_empty) && !input.is_empty() {
                return Err(
                    format!("the fan-out error document must keep the original: {d}").into(),
                );
            }
            Ok(())
        }
        (Want::FanOut(n), None) => Err(format!("a record with {n} documents was dropped").into()),
    }
}

/// Checks one call's answer; in [`Copy::HostRegion`] mode a record that does not fit
/// the region arrives as `record_ptr == 0` and must give the heap error instead.
fn check_call(
    copy: Copy,
    want: &Want,
    out: &Output,
    tag: &str,
    input: &[u8],
) -> Result<(), Failed> {
    let fits = input.len() + tag.len() + 2 <= fluent_bit::HOST_REGION as usize;
    if copy == Copy::HostRegion && !fits {
        let d = Value::Object(fluent_bit_shape(out)?.ok_or("record_ptr == 0 gave no document")?);
        let msg = d["error"]["message"][0].as_str().unwrap_or_default();
        if d["event"]["kind"] != "pipeline_error" || !msg.contains("wasm_heap_size") {
            return Err(format!(
                "record_ptr == 0 must give an error naming `wasm_heap_size`: {}",
                bounded(&d.to_string())
            )
            .into());
        }
        return Ok(());
    }
    check_answer(want, out, input).map_err(|e| format!("{copy:?}: {}", msg(&e)).into())
}

fn fluent_bit_case(case: &corpus::Case) -> Result<(), Failed> {
    let time = record_time(&case.options_json)?;
    let function = fluent_bit::function(&case.dataset).ok_or("unknown dataset")?;
    let want = want(&case.dataset, &case.input, time)?;
    let defaults = ti_ecs::Options::new(
        chrono::DateTime::from_timestamp(i64::from(time.0), time.1).ok_or("bad time")?,
    );
    // the case's expected file holds the module's answer when the case uses the default
    // options and the module's lower depth limit changes nothing for this record
    let default_options = ti_ecs::Options::from_json(&case.options_json)? == defaults
        && want_with(&case.dataset, &case.input, &defaults)? == want;
    for copy in [Copy::Malloc, Copy::HostRegion] {
        let out = shared_fluent_bit(copy)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .call(function, "ti.test", time, &case.input)?;
        check_call(copy, &want, &out, "ti.test", &case.input)?;
        let fits = case.input.len() + "ti.test".len() + 2 <= fluent_bit::HOST_REGION as usize;
        if copy == Copy::HostRegion && !fits {
            continue;
        }
        if default_options && matches!(want, Want::Doc(_)) {
            let text = String::from_utf8_lossy(out.bytes()).into_owned();
            let docs: Vec<String> = if text.is_empty() {
                Vec::new()
            } else {
                vec![text]
            };
            same_as_expected(case, &docs)?;
        }
    }
    Ok(())
}

fn batch_order(dataset: &str, cases: &[corpus::Case]) -> Result<(), Failed> {
    let cases: Vec<&corpus::Case> = cases
        .iter()
        .filter(|c| {
            c.options_json.trim() == corpus::DEFAULT_OPTIONS
                && std::str::from_utf8(&c.input).is_ok()
        })
        .collect();
    let records: Vec<String> = cases
        .iter()
        .map(|c| String::from_utf8_lossy(&c.input).into_owned())
        .collect();
    let options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    let mut inst = Host::shared().instance()?;
    let lists = inst
        .transform_batch(wit_dataset(dataset)?, &records, &options)?
        .map_err(|e| format!("{e:?}"))?;
    if lists.len() != cases.len() {
        return Err(format!("{} records gave {} lists", cases.len(), lists.len()).into());
    }
    for (case, docs) in cases.iter().zip(&lists) {
        let expected = native(&case.dataset, &case.input, &case.options_json)?;
        same(
            &format!("batch documents of `{}`", case.name),
            &expected.join("\n"),
            &docs.join("\n"),
        )?;
    }
    Ok(())
}

fn component_imports_nothing() -> Result<(), Failed> {
    let host = Host::shared();
    let imports = host.imports();
    if !imports.is_empty() {
        return Err(format!("the component imports {imports:?}; it must import nothing").into());
    }
    let exports = host.exports();
    if !exports.iter().any(|e| e.starts_with("ti:ecs/transformer")) {
        return Err(
            format!("the component does not export `ti:ecs/transformer`: {exports:?}").into(),
        );
    }
    Ok(())
}

fn component_invalid_options() -> Result<(), Failed> {
    let mut inst = Host::shared().instance()?;
    let mut options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    options.now = "yesterday".to_string();
    match inst.transform(Dataset::MispThreat, "{}", &options)? {
        Err(component::Error::InvalidOptions(m))
            if m.contains("`now`") && m.contains("yesterday") => {}
        other => {
            return Err(format!("expected invalid-options naming `now`, got {other:?}").into());
        }
    }
    let mut options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    options.ioc_expiration_duration = Some("ten days".to_string());
    match inst.transform_batch(Dataset::AnomaliThreatstream, &["{}".to_string()], &options)? {
        Err(component::Error::InvalidOptions(m)) if m.contains("ioc_expiration_duration") => {}
        other => {
            return Err(
                format!("expected invalid-options naming the duration, got {other:?}").into(),
            );
        }
    }
    options.tags = vec!["a".to_string()];
    match inst.open_session(Dataset::MispThreat, &options)? {
        Err(component::Error::InvalidOptions(m)) if m.contains("ioc_expiration_duration") => {}
        Err(e) => {
            return Err(format!("expected invalid-options naming the duration, got {e:?}").into());
        }
        Ok(_) => return Err("a session opened with an invalid duration".into()),
    }
    // The same instance keeps working after an error.
    let options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    inst.transform(Dataset::MispThreat, "{not json", &options)?
        .map_err(|e| format!("{e:?}"))?;
    let session = inst
        .open_session(Dataset::MispThreat, &options)?
        .map_err(|e| format!("{e:?}"))?;
    let docs = inst.session_transform(session, "{not json")?;
    if docs.len() != 1 || !docs[0].contains("pipeline_error") {
        return Err(format!("a session's bad record gave {docs:?}, not one error document").into());
    }
    Ok(())
}

/// Runs `call` `rounds` times: fails when the guest's memory (`size`) grew by more than
/// 1 MiB meanwhile.
fn flat_memory<G>(
    guest: &mut G,
    rounds: usize,
    call: impl Fn(&mut G) -> Result<(), Failed>,
    size: fn(&G) -> usize,
) -> Result<(), Failed> {
    let first = size(guest);
    for _ in 0..rounds {
        call(guest)?;
    }
    let after = size(guest);
    if after > first + (1 << 20) {
        return Err(format!(
            "the guest's memory grew from {first} to {after} bytes over {rounds} rounds of the same calls"
        )
        .into());
    }
    Ok(())
}

/// A MISP attribute of a few hundred bytes, for the memory tests.
const ATTRIBUTE: &str = r#"{"id":"1","type":"ip-dst","category":"Network activity","value":"10.0.0.1","timestamp":"1700000000","Event":{"id":"7","info":"a test event","Orgc":{"name":"CIRCL"}},"Tag":[{"name":"tlp:white"},{"name":"malware"}]}"#;

/// After one small call and one small batch, rounds of calls on the same instance — every
/// golden record of the default options up to 4 KiB, one call each, and a batch of 64
/// attributes, through the functions and through sessions open all along — allocate far
/// more than the guest's arena holds (`src/bindings/arena.rs`, 7 MiB), though no call
/// needs more than its first chunk: the memory must not grow, which holds only if the
/// arena starts over between calls (a block that some path keeps for good would stop
/// that: tried; a session kept in the arena would). A call larger than the arena still
/// gives the core's documents, and so do the calls after it.
fn component_memory_across_calls(cases: &[corpus::Case]) -> Result<(), Failed> {
    let options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    let mut golden = Vec::new();
    for c in cases {
        if let (true, Ok(record)) = (
            c.options_json.trim() == corpus::DEFAULT_OPTIONS && c.input.len() <= 4096,
            std::str::from_utf8(&c.input),
        ) {
            let docs = native(&c.dataset, &c.input, &c.options_json)?;
            golden.push((wit_dataset(&c.dataset)?, record, docs, &c.name));
        }
    }
    let attr = ATTRIBUTE;
    let batch = vec![attr.to_string(); 64];
    let dataset = Dataset::MispThreatAttributes;
    let expected = native(
        "ti_misp.threat_attributes",
        attr.as_bytes(),
        corpus::DEFAULT_OPTIONS,
    )?;
    let attr_name = "ATTRIBUTE".to_string();
    golden.push((dataset, attr, expected.clone(), &attr_name));
    let mut inst = Host::shared().instance()?;
    let sessions = inst
        .open_sessions(&options)?
        .map_err(|e| format!("{e:?}"))?;
    let check = |inst: &mut component::Instance| -> Result<(), Failed> {
        for (dataset, record, expected, name) in &golden {
            let docs = inst
                .transform(*dataset, record, &options)?
                .map_err(|e| format!("{e:?}"))?;
            if &docs != expected {
                return Err(format!("`{name}`: component and native differ").into());
            }
            let s = sessions.of(*dataset).ok_or("no session")?;
            if &inst.session_transform(s, record)? != expected {
                return Err(format!("`{name}`: a session and native differ").into());
            }
        }
        let lists = inst
            .transform_batch(dataset, &batch, &options)?
            .map_err(|e| format!("{e:?}"))?;
        if lists.iter().any(|docs| docs != &expected) {
            return Err("a batch document differs from native".into());
        }
        let s = sessions.of(dataset).ok_or("no session")?;
        let lists = inst.session_transform_batch(s, &batch)?;
        if lists.iter().any(|docs| docs != &expected) {
            return Err("a session's batch document differs from native".into());
        }
        Ok(())
    };
    inst.transform(dataset, attr, &options)?
        .map_err(|e| format!("{e:?}"))?;
    inst.transform_batch(dataset, &batch, &options)?
        .map_err(|e| format!("{e:?}"))?;
    flat_memory(&mut inst, 20, check, component::Instance::memory_bytes)?;
    let page = format!(
        r#"{{"response":{{"Attribute":[{}]}}}}"#,
        vec![attr; 5_000].join(",")
    );
    let docs = inst
        .transform(dataset, &page, &options)?
        .map_err(|e| format!("{e:?}"))?;
    if docs.len() != 5_000 || docs.iter().any(|d| d != &expected[0]) {
        return Err(format!(
            "a page of 5 000 attributes gave {} documents, not all the core's",
            docs.len()
        )
        .into());
    }
    check(&mut inst)
}

/// Hostile records the corpus may not hold, through every data set of the component.
const HOSTILE: &[&str] = &[
    "",
    "{not json",
    "[",
    "null",
    "42",
    "\"text\"",
    "[]",
    "{}",
    "{\"a\":\"\u{0}\u{1}\u{1f}\"}",
    "{\"message\":\"{\\\"a\\\":1}\",\"tags\":[\"preserve_original_event\"],\"_conf.ioc_expiration_duration\":\"5x\"}",
    "{\"n\":1e999999}",
    "{\"n\":-0,\"m\":18446744073709551616}",
    "{\"a\":1,\"a\":2}",
];

fn deep(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

fn component_every_dataset() -> Result<(), Failed> {
    let options = component::options_from_json(corpus::DEFAULT_OPTIONS)?;
    let mut inst = Host::shared().instance()?;
    let mut records: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    records.push(deep(100_000));
    records.push(format!("{{\"x\":{}}}", deep(63)));
    for info in ti_ecs::DATASETS {
        for r in &records {
            let expected = native(info.id, r.as_bytes(), corpus::DEFAULT_OPTIONS)?;
            let docs = inst
                .transform(wit_dataset(info.id)?, r, &options)?
                .map_err(|e| format!("{e:?}"))?;
            same(
                &format!("{} on {:.40?}", info.id, r),
                &expected.join("\n"),
                &docs.join("\n"),
            )?;
        }
    }
    Ok(())
}

fn fluent_bit_module_shape() -> Result<(), Failed> {
    let (_, module) = fluent_bit::module();
    let mut exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
    exports.sort_unstable();
    for want in [
        "_initialize",
        "anomali_intelligence",
        "anomali_threatstream",
        "free",
        "malloc",
        "memory",
        "misp_threat",
        "misp_threat_attributes",
    ] {
        if !exports.contains(&want) {
            return Err(format!("the module does not export `{want}`: {exports:?}").into());
        }
    }
    for i in module.imports() {
        if i.module() != "wasi_snapshot_preview1" {
            return Err(format!("unexpected import `{}::{}`", i.module(), i.name()).into());
        }
    }
    // A fresh instance, a few records: no WASI function is ever called.
    let mut fb = FluentBit::new(Copy::Malloc)?;
    for r in HOSTILE {
        fb.call("misp_threat", "t", (0, 0), r.as_bytes())?;
    }
    let calls = fb.wasi_calls();
    if !calls.is_empty() {
        return Err(format!("the module called WASI: {calls:?}").into());
    }
    Ok(())
}

fn fluent_bit_record_ptr_zero() -> Result<(), Failed> {
    let mut fb = FluentBit::new(Copy::HostRegion)?;
    for info in ti_ecs::DATASETS {
        let f = fluent_bit::function(info.id).ok_or("no function")?;
        let out = fb.call_without_record(f, (1_767_225_600, 0), 123_456)?;
        let d = Value::Object(fluent_bit_shape(&out)?.ok_or("no document")?);
        let msg = d["error"]["message"][0].as_str().unwrap_or_default();
        if d["event"]["kind"] != "pipeline_error"
            || !msg.contains("`wasm_heap_size`")
            || !msg.contains("123456")
        {
            return Err(format!(
                "record_ptr == 0 must give an error naming `wasm_heap_size` and the length: {d}"
            )
            .into());
        }
        if d["event"]["dataset"] != info.id {
            return Err(format!("wrong dataset: {d}").into());
        }
    }
    // The host-region path: a record too large for the region arrives as record_ptr == 0.
    let big = format!("{{\"message\":\"{}\"}}", "a".repeat(70_000));
    let out = fb.call("misp_threat_attributes", "t", (0, 0), big.as_bytes())?;
    let text = String::from_utf8_lossy(out.bytes()).into_owned();
    if !text.contains("wasm_heap_size") || !text.contains(&big.len().to_string()) {
        return Err(format!(
            "an oversized record must name `wasm_heap_size` and its length: {text:.300}"
        )
        .into());
    }
    Ok(())
}

fn fluent_bit_large_record() -> Result<(), Failed> {
    let mut fb = FluentBit::new(Copy::Malloc)?;
    let filler = "x".repeat(200 * 1024);
    let records = [
        format!("{{\"value\":\"example.com\",\"type\":\"domain\",\"comment\":\"{filler}\"}}"),
        format!(
            "{{\"message\":\"{{\\\"value\\\":\\\"{filler}\\\"}}\",\"tags\":[\"preserve_original_event\"]}}"
        ),
    ];
    for info in ti_ecs::DATASETS {
        let f = fluent_bit::function(info.id).ok_or("no function")?;
        for r in &records {
            let time = (1_767_225_600, 0);
            let want = want(info.id, r.as_bytes(), time)?;
            let out = fb.call(f, "t", time, r.as_bytes())?;
            if out.bytes().windows(14).any(|w| w == b"wasm_heap_size") {
                return Err("a large record copied through malloc must reach the filter".into());
            }
            check_answer(&want, &out, r.as_bytes())
                .map_err(|e| format!("{}: {}", info.id, msg(&e)))?;
        }
    }
    Ok(())
}

/// 20 000 calls on one module instance allocate far more than the guest's arena holds
/// (`src/bindings/arena.rs`, 7 MiB): its memory must not grow after the first call, which
/// holds only if the module frees its previous answer before the arena is used again.
fn fluent_bit_memory_across_calls() -> Result<(), Failed> {
    let time = (1_767_225_600, 0);
    let f = fluent_bit::function("ti_misp.threat_attributes").ok_or("no function")?;
    let want = want("ti_misp.threat_attributes", ATTRIBUTE.as_bytes(), time)?;
    let mut fb = FluentBit::new(Copy::Malloc)?;
    let call = |fb: &mut FluentBit| -> Result<(), Failed> {
        let out = fb.call(f, "t", time, ATTRIBUTE.as_bytes())?;
        check_call(Copy::Malloc, &want, &out, "t", ATTRIBUTE.as_bytes())
    };
    call(&mut fb)?;
    flat_memory(&mut fb, 20_000, call, FluentBit::memory_bytes)
}

fn fluent_bit_malformed_stream() -> Result<(), Failed> {
    let time = (1_767_225_600, 123_000_000);
    let mut stream: Vec<Vec<u8>> = HOSTILE.iter().map(|s| s.as_bytes().to_vec()).collect();
    stream.push(vec![0xff, 0xfe, b'{', b'}']);
    stream.push(b"{\"message\":\"\xc3\x28\"}".to_vec());
    stream.push(b"{\"value\":\"a\0b\"}".to_vec());
    stream.push(deep(100_000).into_bytes());
    stream.push(format!("{{\"x\":{}}}", deep(63)).into_bytes());
    stream.push(format!("{{\"s\":\"{}\"}}", "\\u0000".repeat(10_000)).into_bytes());
    stream.push(b"{\"a\":1}{\"b\":2}".to_vec());
    stream.push(b"\"\\ud800\"".to_vec());
    for copy in [Copy::Malloc, Copy::HostRegion] {
        let mut fb = FluentBit::new(copy)?;
        for round in 0..3 {
            for info in ti_ecs::DATASETS {
                let f = fluent_bit::function(info.id).ok_or("no function")?;
                for r in &stream {
                    let out = fb.call(f, "t", time, r).map_err(|e| {
                        format!("{copy:?} round {round}: trap on {}: {e:#}", snippet(r))
                    })?;
                    let want = want(info.id, r, time)?;
                    check_call(copy, &want, &out, "t", r)
                        .map_err(|e| format!("{} on {}: {}", info.id, snippet(r), msg(&e)))?;
                }
            }
        }
        let calls = fb.wasi_calls();
        if !calls.is_empty() {
            return Err(format!("the module called WASI: {calls:?}").into());
        }
    }
    Ok(())
}

fn fluent_bit_fan_out() -> Result<(), Failed> {
    // Every corpus record with several documents, plus whole arrays, gives one error document.
    let time = (1_767_225_600, 0);
    let mut fb = FluentBit::new(Copy::Malloc)?;
    let mut seen = 0;
    for case in corpus::load(&corpus::golden_dir()) {
        let Want::FanOut(_) = want(&case.dataset, &case.input, time)? else {
            continue;
        };
        seen += 1;
        let f = fluent_bit::function(&case.dataset).ok_or("no function")?;
        let out = fb.call(f, "t", time, &case.input)?;
        check_answer(&want(&case.dataset, &case.input, time)?, &out, &case.input)
            .map_err(|e| format!("{}::{}: {}", case.dataset, case.name, msg(&e)))?;
    }
    for info in ti_ecs::DATASETS {
        let f = fluent_bit::function(info.id).ok_or("no function")?;
        for r in ["[{\"value\":\"a\"},{\"value\":\"b\"}]", "[{},{},{}]"] {
            let want = want(info.id, r.as_bytes(), time)?;
            if let Want::FanOut(_) = want {
                seen += 1;
            }
            check_answer(&want, &fb.call(f, "t", time, r.as_bytes())?, r.as_bytes())?;
        }
    }
    eprintln!("{seen} fan-out records checked");
    Ok(())
}
