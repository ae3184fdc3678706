//! Throughput of every target against the cost of merely touching the JSON.
//!
//! ```text
//! cargo build --profile perf --bin ti-ecs && cargo run --profile perf -p host-tests --bin bench
//! ```
//!
//! For each data set of a generated corpus (`corpus.rs`, fixed seed) it times, in one
//! process and interleaved in rounds, in two parts: first the baseline, the floor and
//! native, before wasmtime is loaded, while the process has one thread (as a plain
//! program timing serde_json has: glibc's malloc takes a quicker path then, which the
//! baseline's many small allocations gain from more than native); then the baseline and
//! native again beside the wasm targets, once wasmtime and the sandbox's epoch thread are
//! there. Each target's ratios are to the baseline and native timed with it.
//!
//! - **baseline**: `serde_json` parse of each record into a `Value` and serialisation back;
//! - **floor**: what any transform of these records into these documents must at least do
//!   with serde_json — read each record (`IgnoredAny`: checked and stepped over, nothing
//!   kept) and write its documents (serialised from trees made untimed just before, so
//!   in cache as a transform's own output would be) — so its
//!   ratio to the baseline is the ceiling of a native that writes each document whole
//!   (the documents are 1.1–3.9× the bytes of the records); native writes what a whole
//!   MISP event's documents share once, and runs above it there;
//! - **native**: `ti_ecs::transform_to_json`;
//! - **component**: the `ti:ecs` component in wasmtime, one `transform` call per record,
//!   one instance for the whole run;
//! - **component batch**: `transform-batch`, [`BATCH`] records per call (`--batch N`);
//! - **sandboxed component**: the component in `ti_ecs_host::Sandbox`, as `ti-ecs serve`
//!   runs it (epoch interruption, a memory limiter, one tenant), one call per record;
//! - **fluent bit**: the Fluent Bit module in wasmtime, called exactly as Fluent Bit's
//!   `wasm` filter calls it (record copied in through the guest's `malloc`, result copied
//!   out, inputs freed) — for data sets of one document per record.
//!
//! Each figure is the best of [`ROUNDS`] rounds (the machine is shared; the best round is
//! the least disturbed one) and is printed with its ratio to the baseline and to native.
//! First, the peak memory (maximum RSS) of the CLI on one record, the largest MISP event,
//! a 100 MB MISP attribute response and a 100 MB MISP event response (measured before this
//! process grows).
//!
//! Options: `--secs S` time per data set and target (default 1.5, spread over the rounds),
//! `--quick` (0.3 s, smaller memory input), `--no-memory`, `--only <dataset id>`,
//! `--batch N` records per `transform-batch` call, `--perf-map` (wasmtime writes
//! `/tmp/perf-<pid>.map`, so `perf record` names the guest's functions), `--records
//! ID=FILE` (time your own records, one per line, instead of the corpus); `--help`.

mod corpus;

use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use host_tests::component::{self, Host};
use host_tests::fluent_bit::{self, Copy, FluentBit};
use serde::de::IgnoredAny;
use serde_json::Value;
use ti_ecs::{Dataset, Options};

use corpus::{Keys, Rng};

/// Records per `transform-batch` call, unless `--batch` says otherwise.
const BATCH: usize = 64;
/// Rounds per figure; the best is kept. The targets take turns round by round, so many
/// short rounds let every target find a quiet stretch on a shared machine (with 3 rounds
/// of 1 s, a ratio moved by ±0.1 between runs).
const ROUNDS: u32 = 10;
/// `now` of every call (the Fluent Bit module takes it from the record time).
const NOW: &str = "2026-01-01T00:00:00Z";
const NOW_SECS: u32 = 1_767_225_600;
/// The sandbox's tenant.
const TENANT: &str = "bench";
/// The corpus seed.
const SEED: u64 = 0x5eed_7ec5;

/// One data set of the corpus.
struct Set {
    /// What the rows say.
    name: String,
    dataset: Dataset,
    records: Vec<String>,
    /// The documents native makes of each record, as JSON.
    documents: Vec<Vec<String>>,
    /// Whether each record gives one document (the Fluent Bit filter returns one record):
    /// read off `documents` once they are made.
    one_to_one: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Baseline,
    Floor,
    Native,
    Component,
    Batch,
    Sandbox,
    FluentBit,
}

impl Target {
    fn label(self, batch: usize) -> String {
        match self {
            Target::Baseline => "baseline (serde_json Value round trip)".into(),
            Target::Floor => "floor: read the records, write the documents".into(),
            Target::Native => "native core".into(),
            Target::Component => "component, per record".into(),
            Target::Batch => format!("component, batch of {batch}"),
            Target::Sandbox => "sandboxed component, per record (serve's host)".into(),
            Target::FluentBit => "fluent bit module".into(),
        }
    }
}

/// The things that run records.
struct Runners {
    /// Records per `transform-batch` call.
    batch: usize,
    opts: Options,
    wit_opts: component::Options,
    component: component::Instance,
    /// A session of `component` for each data set (`open-session`), unless the bench
    /// times the free functions (`--free-functions`).
    sessions: Option<component::Sessions>,
    /// The component in `ti_ecs_host::Sandbox`, as `ti-ecs serve` runs it: its own engine
    /// with epoch interruption, a memory limiter, one tenant.
    sandbox: ti_ecs_host::Sandbox,
    fluent_bit: FluentBit,
}

impl Runners {
    /// The session of `dataset`, if the component is called through sessions.
    fn session(&self, dataset: Dataset) -> Option<component::Session> {
        self.sessions.as_ref()?.of(wit_dataset(dataset))
    }

    /// The component's documents of `record`: through the data set's session, or
    /// through `transform` with the bench's options.
    fn component_docs(&mut self, dataset: Dataset, record: &str) -> Option<Vec<String>> {
        match self.session(dataset) {
            Some(s) => self.component.session_transform(s, record).ok(),
            None => (self.component)
                .transform(wit_dataset(dataset), record, &self.wit_opts)
                .ok()
                .and_then(Result::ok),
        }
    }

    /// Runs every record of `set` once through `target`; returns the documents made and,
    /// for a target that times itself, the time that counts.
    fn run(&mut self, set: &Set, target: Target) -> (usize, Option<Duration>) {
        let mut docs = 0;
        match target {
            Target::Baseline | Target::Floor | Target::Native => {
                return run_in_process(set, target, &self.opts);
            }
            Target::Component => {
                for r in &set.records {
                    docs += self.component_docs(set.dataset, r).map_or(0, |d| d.len());
                }
            }
            Target::Batch => {
                let ds = wit_dataset(set.dataset);
                let session = self.session(set.dataset);
                for chunk in set.records.chunks(self.batch) {
                    let out = match session {
                        Some(s) => self.component.session_transform_batch(s, chunk).ok(),
                        None => (self.component.transform_batch(ds, chunk, &self.wit_opts))
                            .ok()
                            .and_then(Result::ok),
                    };
                    docs += out.map_or(0, |b| b.iter().map(Vec::len).sum());
                }
            }
            Target::Sandbox => {
                let ds = wit_dataset(set.dataset);
                for r in &set.records {
                    let out = self.sandbox.transform_with(TENANT, ds, r, &self.wit_opts);
                    docs += out.map_or(0, |d| d.len());
                }
            }
            Target::FluentBit => {
                let f = fluent_bit_function(set.dataset);
                for r in &set.records {
                    let out = self
                        .fluent_bit
                        .call(f, "ti.bench", (NOW_SECS, 0), r.as_bytes());
                    docs += out.map_or(0, |o| usize::from(!o.bytes().is_empty()));
                }
            }
        }
        (docs, None)
    }
}

/// Runs every record of `set` once through a target that needs no wasm (the baseline,
/// the floor, native); returns as [`Runners::run`] does. The wasm targets run in
/// [`Runners::run`]: here they do nothing.
fn run_in_process(set: &Set, target: Target, opts: &Options) -> (usize, Option<Duration>) {
    let mut docs = 0;
    match target {
        Target::Floor => return floor(set),
        Target::Native => {
            for r in &set.records {
                // the record as text, as the baseline's `from_str` takes it
                docs += black_box(ti_ecs::transform_text_to_json(set.dataset, r, opts)).len();
            }
        }
        Target::Component | Target::Batch | Target::Sandbox | Target::FluentBit => {}
        Target::Baseline => {
            for r in &set.records {
                let v: Value = serde_json::from_str(r).unwrap_or(Value::Null);
                docs += usize::from(
                    !black_box(serde_json::to_string(&v).unwrap_or_default()).is_empty(),
                );
            }
        }
    }
    (docs, None)
}

/// Times `targets` (each `run` makes one pass over a set), taking turns round by round
/// ([`ROUNDS`], `secs` in all per target): the best rate of whole passes each reached,
/// and the documents a pass made.
fn time_targets(
    targets: &[Target],
    secs: f64,
    mut run: impl FnMut(Target) -> (usize, Option<Duration>),
) -> Vec<(f64, usize)> {
    let mut best = vec![(0.0f64, 0usize); targets.len()];
    for _ in 0..ROUNDS {
        for (i, t) in targets.iter().enumerate() {
            let budget = Duration::from_secs_f64(secs / f64::from(ROUNDS));
            let start = Instant::now();
            let (mut passes, mut docs) = (0u32, 0usize);
            let mut timed: Option<Duration> = None;
            while passes == 0 || start.elapsed() < budget {
                let (d, own) = run(*t);
                docs += d;
                if let Some(own) = own {
                    *timed.get_or_insert(Duration::ZERO) += own;
                }
                passes += 1;
            }
            let spent = timed.unwrap_or_else(|| start.elapsed());
            let per_sec = f64::from(passes) / spent.as_secs_f64();
            if per_sec > best[i].0 {
                best[i] = (per_sec, docs / passes as usize);
            }
        }
    }
    best
}

/// The figures' table head.
const HEADER: &str = "| data set | records | avg bytes | target | records/s | MB/s | docs/s | × baseline | × native |";

/// What the baseline's and native's rows say when they were timed beside wasmtime.
const BESIDE: &str = ", beside wasmtime";

/// Prints a set's rows: each target's best rate, and its ratios to the baseline and to
/// native timed with it. `beside` follows the baseline's and native's names.
fn print_rows(set: &Set, targets: &[Target], best: &[(f64, usize)], batch: usize, beside: &str) {
    let rate = |want| rate(targets, best, want).unwrap_or(f64::NAN);
    let (base, native) = (rate(Target::Baseline), rate(Target::Native));
    let bytes: usize = set.records.iter().map(String::len).sum();
    for (t, &(passes_per_sec, docs)) in targets.iter().zip(best) {
        let label = match t {
            Target::Baseline | Target::Native => format!("{}{beside}", t.label(batch)),
            _ => t.label(batch),
        };
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.0} | {:.2} | {} |",
            set.name,
            set.records.len(),
            bytes / set.records.len(),
            label,
            passes_per_sec * set.records.len() as f64,
            passes_per_sec * bytes as f64 / 1e6,
            passes_per_sec * docs as f64,
            passes_per_sec / base,
            if *t == Target::Baseline {
                "".to_string()
            } else {
                format!("{:.2}", passes_per_sec / native)
            },
        );
    }
}

/// One of the issue's speed targets: the rate of `of` at least `at_least` times the rate
/// of `to`, both timed in the same part of the run: the first (`one_thread`) or the
/// second, beside wasmtime.
struct Goal {
    head: &'static str,
    of: Target,
    to: Target,
    at_least: f64,
    one_thread: bool,
}

/// The issue's speed targets, in the order of `BENCHMARKS.md`'s status table. Native
/// against the baseline is read from the first part (one thread), the wasm targets
/// against native from the second.
const GOALS: [Goal; 4] = [
    Goal {
        head: "native ÷ baseline, one thread (≥ 1.0)",
        of: Target::Native,
        to: Target::Baseline,
        at_least: 1.0,
        one_thread: true,
    },
    Goal {
        head: "component per record ÷ native (≥ 0.6)",
        of: Target::Component,
        to: Target::Native,
        at_least: 0.6,
        one_thread: false,
    },
    Goal {
        head: "batch ÷ native (≥ 0.8)",
        of: Target::Batch,
        to: Target::Native,
        at_least: 0.8,
        one_thread: false,
    },
    Goal {
        head: "fluent bit module ÷ native (≥ 0.6)",
        of: Target::FluentBit,
        to: Target::Native,
        at_least: 0.6,
        one_thread: false,
    },
];

/// The best rate of `want` among `targets` timed together (`best`, as [`time_targets`]
/// gives it); `None` when it was not timed.
fn rate(targets: &[Target], best: &[(f64, usize)], want: Target) -> Option<f64> {
    targets.iter().position(|t| *t == want).map(|i| best[i].0)
}

/// The ratio of `of`'s rate to `to`'s among `targets` timed together; `None` when either
/// was not timed.
fn ratio(targets: &[Target], best: &[(f64, usize)], of: Target, to: Target) -> Option<f64> {
    Some(rate(targets, best, of)? / rate(targets, best, to)?)
}

/// Fills `met` with the ratio of each goal timed in this part (`one_thread`).
fn read_goals(
    met: &mut [Option<f64>],
    one_thread: bool,
    targets: &[Target],
    best: &[(f64, usize)],
) {
    for (m, g) in met.iter_mut().zip(&GOALS) {
        if g.one_thread == one_thread {
            *m = ratio(targets, best, g.of, g.to);
        }
    }
}

/// A cell of the targets table: the ratio and whether it meets the target. Two decimals
/// as the figures print it, three when two would round a miss up to the target (0.799
/// is not 0.8).
fn verdict(ratio: Option<f64>, at_least: f64) -> String {
    match ratio {
        Some(r) if r.is_finite() => {
            let met = r >= at_least;
            let mut shown = format!("{r:.2}");
            if !met && shown.parse::<f64>().is_ok_and(|v| v >= at_least) {
                shown = format!("{r:.3}");
            }
            format!("{shown} {}", if met { "met" } else { "**not met**" })
        }
        _ => "—".into(),
    }
}

/// How many threads this process runs, as Linux tells it (`/proc/self/status`).
fn threads() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .map(|n| match n.trim() {
                    "1" => "one thread".to_string(),
                    n => format!("{n} threads"),
                })
        })
        .unwrap_or_else(|| "threads not known".into())
}

/// Records per timed stretch of the floor, at most; fewer when their documents pass
/// [`FLOOR_DOCS`].
const FLOOR_RECORDS: usize = 64;
const FLOOR_DOCS: usize = 64;

/// The floor: each record read into `IgnoredAny` (checked and stepped over, nothing kept)
/// and its documents written from trees. The trees are made untimed just before each
/// stretch of a few records, so they are in cache as a transform's own output would be
/// (trees made for the whole set beforehand are read back from memory: on the corpus's
/// 3000 records that halved the floor's speed against a set of 100); only the stretches
/// are timed.
fn floor(set: &Set) -> (usize, Option<Duration>) {
    let (mut docs, mut spent) = (0, Duration::ZERO);
    let mut start = 0;
    while start < set.records.len() {
        let mut end = start;
        let mut n = 0;
        while end < set.records.len() && end - start < FLOOR_RECORDS && n < FLOOR_DOCS {
            n += set.documents[end].len();
            end += 1;
        }
        let trees: Vec<Vec<Value>> = set.documents[start..end]
            .iter()
            .map(|ds| {
                ds.iter()
                    .map(|d| serde_json::from_str(d).unwrap_or(Value::Null))
                    .collect()
            })
            .collect();
        let t = Instant::now();
        for (r, ts) in set.records[start..end].iter().zip(&trees) {
            let _ = black_box(serde_json::from_str::<IgnoredAny>(r));
            for tree in ts {
                docs += usize::from(
                    !black_box(serde_json::to_string(tree).unwrap_or_default()).is_empty(),
                );
            }
        }
        spent += t.elapsed();
        start = end;
    }
    (docs, Some(spent))
}

fn wit_dataset(d: Dataset) -> component::Dataset {
    component::dataset(d.id()).unwrap_or(component::Dataset::MispThreatAttributes)
}

fn fluent_bit_function(d: Dataset) -> &'static str {
    fluent_bit::function(d.id()).unwrap_or("misp_threat_attributes")
}

struct Args {
    secs: f64,
    quick: bool,
    memory: bool,
    only: Option<String>,
    batch: usize,
    perf_map: bool,
    /// `--free-functions`: the component through `transform` and `transform-batch`, the
    /// options lowered and read on every call, instead of a session's.
    free_functions: bool,
    /// `--records ID=FILE`: the caller's own records instead of the generated corpus.
    records: Vec<(Dataset, PathBuf)>,
    /// `--write-corpus DIR`: write the generated corpus there and stop.
    write_corpus: Option<PathBuf>,
}

const USAGE: &str = "\
usage: bench [--quick] [--secs S] [--no-memory] [--only SET] [--batch N] [--perf-map]
             [--free-functions] [--records ID=FILE]... | --write-corpus DIR

  --quick          0.3 s per figure and 10 MB responses for the memory part
  --secs S         seconds per data set and target, split over the rounds (default 1.5)
  --no-memory      skip the CLI's peak memory (needs `ti-ecs` built next to this program)
  --only SET       the data sets of one id (ti_anomali.threatstream, ti_anomali.intelligence,
                   ti_misp.threat_attributes, ti_misp.threat: post-split and whole events),
                   or one set by its name in the table (\"MISP event, whole\")
  --batch N        records per `transform-batch` call (default 64)
  --perf-map       wasmtime writes /tmp/perf-<pid>.map for `perf report`
  --free-functions call the component's `transform` and `transform-batch`, which lower
                   and read the options on every call, instead of a session's
                   (`open-session`, once per data set: the default)
  --records ID=FILE
                   time your own records instead of the generated corpus: FILE holds
                   one record per line (NDJSON, as a shipper reads them) of the data
                   set ID, or one pretty-printed JSON record (a whole response or
                   event); repeat for more files. Each file is one set, named by its
                   file name and ID (--only takes either)
  --write-corpus DIR
                   write the generated corpus to DIR, one NDJSON file a set (named by
                   the set's name, e.g. misp-event-post-split.ndjson), print the
                   `ti-ecs transform` command for each, time nothing, and stop

See BENCHMARKS.md for what each figure measures.";

fn args() -> Args {
    match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            std::process::exit(0);
        }
        Err(e) => usage_error(&e),
    }
}

/// The options; `None` for `--help`. A flag this bench does not know, or a value it cannot
/// read, is an error naming it (a typo must not silently measure something else).
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        secs: 1.5,
        quick: false,
        memory: true,
        only: None,
        batch: BATCH,
        perf_map: false,
        free_functions: false,
        records: Vec::new(),
        write_corpus: None,
    };
    let mut it = args.into_iter();
    fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
        it.next().ok_or_else(|| format!("{flag} needs a value"))
    }
    while let Some(x) = it.next() {
        match x.as_str() {
            "--quick" => {
                a.quick = true;
                a.secs = 0.3;
            }
            "--no-memory" => a.memory = false,
            "--secs" => {
                let v = value(&mut it, "--secs")?;
                a.secs = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| format!("--secs `{v}`: expected a number of seconds above 0"))?;
            }
            "--only" => a.only = Some(value(&mut it, "--only")?),
            "--batch" => {
                let v = value(&mut it, "--batch")?;
                a.batch = v.parse().ok().filter(|&n: &usize| n > 0).ok_or_else(|| {
                    format!("--batch `{v}`: expected a number of records above 0")
                })?;
            }
            "--perf-map" => a.perf_map = true,
            "--free-functions" => a.free_functions = true,
            "--records" => a.records.push(records_arg(&value(&mut it, "--records")?)?),
            "--write-corpus" => a.write_corpus = Some(value(&mut it, "--write-corpus")?.into()),
            "--help" | "-h" => return Ok(None),
            // what `cargo bench` passes to every bench program
            "--bench" => {}
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(Some(a))
}

/// `ID=FILE` of `--records`.
fn records_arg(s: &str) -> Result<(Dataset, PathBuf), String> {
    let (id, file) = s.split_once('=').ok_or_else(|| {
        format!("--records `{s}`: expected ID=FILE, e.g. ti_misp.threat_attributes=attrs.ndjson")
    })?;
    let dataset = id
        .parse::<Dataset>()
        .map_err(|e| format!("--records `{s}`: {e}"))?;
    Ok((dataset, PathBuf::from(file)))
}

fn usage_error(message: &str) -> ! {
    eprintln!("bench: {message}\n\n{USAGE}");
    std::process::exit(2);
}

/// The sets of `--records`: each file's non-blank lines, one record each.
fn user_sets(files: &[(Dataset, PathBuf)]) -> Result<Vec<Set>, String> {
    files
        .iter()
        .map(|(dataset, path)| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--records: cannot read `{}`: {e}", path.display()))?;
            let records = split_records(&text);
            if records.is_empty() {
                return Err(format!("--records: `{}` holds no record", path.display()));
            }
            Ok(Set {
                name: record_set_name(*dataset, path),
                dataset: *dataset,
                records,
                documents: Vec::new(),
                one_to_one: false,
            })
        })
        .collect()
}

/// The records of a `--records` file: its non-blank lines (NDJSON); or, when a line is
/// not JSON but the whole file is (a pretty-printed response or event, as MISP's API and
/// PyMISP write them), the file as one record.
fn split_records(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let is_json = |t: &str| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok();
    if lines.len() > 1 && !lines.iter().all(|l| is_json(l)) && is_json(text) {
        return vec![text.to_string()];
    }
    lines.into_iter().map(str::to_string).collect()
}

/// The generated sets, by name and data set, in the order [`corpus`] makes them.
const CORPUS_SETS: [(&str, Dataset); 5] = [
    ("ThreatStream push", Dataset::AnomaliThreatstream),
    ("ThreatStream API object", Dataset::AnomaliIntelligence),
    ("MISP attribute", Dataset::MispThreatAttributes),
    ("MISP event, post-split", Dataset::MispThreat),
    ("MISP event, whole", Dataset::MispThreat),
];

/// Whether `--only` selects the set `name` of `dataset`: by the data set's id or by the
/// set's name.
fn selects(only: &str, dataset: Dataset, name: &str) -> bool {
    only == dataset.id() || only == name
}

/// Whether `--only` names a set this run will have: a data set id among them, or a set's
/// name. Checked before anything is measured (a typo must not cost the memory part first).
fn only_matches(only: &str, a: &Args) -> bool {
    if a.records.is_empty() {
        CORPUS_SETS
            .iter()
            .any(|&(name, dataset)| selects(only, dataset, name))
    } else {
        a.records
            .iter()
            .any(|(dataset, path)| selects(only, *dataset, &record_set_name(*dataset, path)))
    }
}

/// The name of the set of a `--records` file: two files of one name (Elastic's sample logs)
/// stay apart by data set.
fn record_set_name(dataset: Dataset, path: &std::path::Path) -> String {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("{file} ({})", dataset.id())
}

fn corpus() -> Vec<Set> {
    let mut r = Rng::new(SEED);
    // the names' orders drawn apart, so that the records hold what they held before
    // their names came in the vendors' orders
    let mut order = Rng::new(SEED ^ 0x6b65_7973);
    let make = |r: &mut Rng, order: &mut Rng, n: usize, f: fn(&mut Rng) -> Value, keys| {
        (0..n)
            .map(|_| corpus::text(&f(r), keys, order))
            .collect::<Vec<_>>()
    };
    // generated in this order, from one seed: the same bytes in every run
    let records = [
        (0..3000)
            .map(|_| corpus::threatstream_text(&mut r, &mut order))
            .collect(),
        make(
            &mut r,
            &mut order,
            3000,
            corpus::intelligence,
            Keys::Ranked(corpus::API_KEYS),
        ),
        make(
            &mut r,
            &mut order,
            3000,
            corpus::misp_attribute,
            Keys::Ranked(corpus::MISP_KEYS),
        ),
        // as Elastic's agent writes them
        make(
            &mut r,
            &mut order,
            2000,
            corpus::misp_event_split,
            Keys::Sorted,
        ),
        (0..40)
            .map(|_| {
                let n = corpus::event_size(&mut r);
                let event = corpus::misp_event_whole(&mut r, n);
                corpus::text(&event, Keys::Ranked(corpus::MISP_KEYS), &mut order)
            })
            .collect(),
    ];
    CORPUS_SETS
        .iter()
        .zip(records)
        .map(|(&(name, dataset), records)| Set {
            name: name.into(),
            dataset,
            records,
            documents: Vec::new(),
            one_to_one: false,
        })
        .collect()
}

/// A set's file under `--write-corpus`: its name in lower case, words joined by `-`.
fn corpus_file_name(set_name: &str) -> String {
    let words: Vec<String> = set_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    format!("{}.ndjson", words.join("-"))
}

/// Writes each set's records to `dir` (made if missing), one line each, and prints the
/// command that runs each file through the CLI.
fn write_corpus(dir: &Path, sets: &[Set]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make `{}`: {e}", dir.display()))?;
    for set in sets {
        let path = dir.join(corpus_file_name(&set.name));
        let mut text = set.records.join("\n");
        text.push('\n');
        std::fs::write(&path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        println!(
            "{}: {} records → ti-ecs transform --dataset {} {}",
            set.name,
            set.records.len(),
            set.dataset.id(),
            path.display()
        );
    }
    Ok(())
}

fn main() {
    let a = args();
    if let Some(o) = &a.only
        && !only_matches(o, &a)
    {
        usage_error(&format!(
            "--only `{o}` matches no set (a data set id, or a set's name as the table prints it)"
        ));
    }
    if let Some(dir) = &a.write_corpus {
        if let Err(e) = write_corpus(dir, &corpus()) {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    println!("# ti-ecs benchmark");
    println!();
    println!("machine: {}", machine());
    println!(
        "each figure: best of {ROUNDS} rounds, {:.1} s per data set and target in all; now = {NOW}",
        a.secs
    );
    println!();

    // First, while this process is small: a spawned child's maximum RSS counts what it
    // shared with this process before `exec`.
    if a.memory {
        memory(&a);
        println!();
    }

    let opts =
        Options::from_json(&format!(r#"{{"now":"{NOW}"}}"#)).unwrap_or_else(|e| panic!("{e}"));
    let sets = if a.records.is_empty() {
        corpus()
    } else {
        user_sets(&a.records).unwrap_or_else(|e| usage_error(&e))
    };
    let mut sets: Vec<Set> = sets
        .into_iter()
        .filter(|s| {
            a.only
                .as_deref()
                .is_none_or(|o| selects(o, s.dataset, &s.name))
        })
        .collect();
    for set in &mut sets {
        set.documents = set
            .records
            .iter()
            .map(|r| ti_ecs::transform_to_json(set.dataset, r.as_bytes(), &opts))
            .collect();
        set.one_to_one = set.documents.iter().all(|d| d.len() == 1);
        if !a.records.is_empty() {
            report_input(set);
        }
    }

    // Native against the JSON round trip first, before wasmtime is loaded: the process
    // has one thread, as a plain program timing serde_json has. (The sandbox's epoch
    // ticker is a thread; once a process has two, glibc's malloc takes its locked path,
    // which slows the baseline's ~100 allocations a record more than native's.)
    println!(
        "## native against the JSON round trip (this process alone: {})",
        threads()
    );
    println!();
    println!("{HEADER}");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    let alone = [Target::Baseline, Target::Floor, Target::Native];
    // each set's ratio for each of the issue's targets, printed last
    let mut met: Vec<[Option<f64>; GOALS.len()]> = vec![[None; GOALS.len()]; sets.len()];
    for (set, met) in sets.iter().zip(&mut met) {
        let best = time_targets(&alone, a.secs, |t| run_in_process(set, t, &opts));
        print_rows(set, &alone, &best, a.batch, "");
        read_goals(met, true, &alone, &best);
    }
    println!();

    let t = Instant::now();
    let profiled;
    let host = if a.perf_map {
        profiled =
            Host::load_with(true).unwrap_or_else(|e| panic!("cannot load the component: {e:#}"));
        &profiled
    } else {
        Host::shared()
    };
    let wit_opts = component::options_from_json(&format!(r#"{{"now":"{NOW}"}}"#))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut component = host
        .instance()
        .unwrap_or_else(|e| panic!("cannot instantiate: {e:#}"));
    let sessions = (!a.free_functions).then(|| {
        component
            .open_sessions(&wit_opts)
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("cannot open the component's sessions"))
    });
    let mut runners = Runners {
        batch: a.batch,
        opts,
        wit_opts,
        component,
        sessions,
        sandbox: ti_ecs_host::Sandbox::new(ti_ecs_host::SandboxConfig {
            perf_map: a.perf_map,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("cannot load the sandbox: {e}")),
        fluent_bit: if a.perf_map {
            fluent_bit::compile(true)
                .and_then(|(engine, module)| FluentBit::instantiate(&engine, &module, Copy::Malloc))
        } else {
            FluentBit::new(Copy::Malloc)
        }
        .unwrap_or_else(|e| panic!("cannot load the fluent bit module: {e:#}")),
    };
    println!(
        "## the wasm targets against native (beside wasmtime: {}; compiled the component \
         and the module in {:.1} s; the component called through {})",
        threads(),
        t.elapsed().as_secs_f64(),
        if a.free_functions {
            "`transform` and `transform-batch`"
        } else {
            "a session of each data set"
        }
    );
    println!();
    println!("{HEADER}");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for (set, met) in sets.iter().zip(&mut met) {
        check_same_output(&mut runners, set);
        let targets: Vec<Target> = [
            Target::Baseline,
            Target::Native,
            Target::Component,
            Target::Batch,
            Target::Sandbox,
            Target::FluentBit,
        ]
        .into_iter()
        .filter(|t| set.one_to_one || *t != Target::FluentBit)
        .collect();
        let best = time_targets(&targets, a.secs, |t| runners.run(set, t));
        print_rows(set, &targets, &best, a.batch, BESIDE);
        read_goals(met, false, &targets, &best);
    }
    println!();
    println!("records/s and MB/s count input records and bytes; docs/s counts output documents.");
    println!();
    println!("| data set | input bytes | output bytes (documents as JSON) | output ÷ input |");
    println!("|---|---:|---:|---:|");
    for set in &sets {
        let input: usize = set.records.iter().map(String::len).sum();
        let output: usize = set.documents.iter().flatten().map(String::len).sum();
        println!(
            "| {} | {input} | {output} | {:.2} |",
            set.name,
            output as f64 / input as f64
        );
    }
    println!();
    println!(
        "The floor reads each record with serde_json without keeping anything (`IgnoredAny`) \
         and writes the documents native makes of it (from trees made untimed just before, \
         so in cache as a transform's own output): the \
         least a transform that reads these records and writes each of these documents \
         whole with serde_json does: the ceiling of native's × baseline, except where \
         documents repeat their record's parts (whole MISP events), which native writes \
         once."
    );
    println!();
    println!("## against the issue's targets (from the tables above)");
    println!();
    let heads: Vec<&str> = GOALS.iter().map(|g| g.head).collect();
    println!("| data set | {} |", heads.join(" | "));
    println!("|---|{}", "---|".repeat(GOALS.len()));
    for (set, met) in sets.iter().zip(&met) {
        let cells: Vec<String> = met
            .iter()
            .zip(&GOALS)
            .map(|(r, g)| verdict(*r, g.at_least))
            .collect();
        println!("| {} | {} |", set.name, cells.join(" | "));
    }
}

/// What the transform made of the caller's records: error documents say the records were
/// not what the data set reads, and the figures would time error paths.
fn report_input(set: &Set) {
    let docs: usize = set.documents.iter().map(Vec::len).sum();
    let errors = set
        .documents
        .iter()
        .flatten()
        .filter(|d| {
            serde_json::from_str::<Value>(d).is_ok_and(|d| d["event"]["kind"] == "pipeline_error")
        })
        .count();
    println!(
        "{}: {} records of {}, {docs} documents, {errors} of them error documents{}",
        set.name,
        set.records.len(),
        set.dataset.id(),
        if set.one_to_one {
            ""
        } else {
            " (not one document per record: the fluent bit module is left out)"
        }
    );
    if errors > 0 {
        println!("  warning: error documents time the error path, not the mapping");
    }
}

/// Runs the component and the module on a few records of `set` and compares with native,
/// so the figures time the same work.
fn check_same_output(r: &mut Runners, set: &Set) {
    for rec in set.records.iter().take(20) {
        let native = ti_ecs::transform_to_json(set.dataset, rec.as_bytes(), &r.opts);
        if r.component_docs(set.dataset, rec).unwrap_or_default() != native {
            eprintln!(
                "warning: {}: the component's output differs from native",
                set.name
            );
            return;
        }
        let sandboxed = r
            .sandbox
            .transform_with(TENANT, wit_dataset(set.dataset), rec, &r.wit_opts)
            .unwrap_or_default();
        if sandboxed != native {
            eprintln!(
                "warning: {}: the sandboxed component's output differs from native",
                set.name
            );
            return;
        }
        if set.one_to_one {
            let fb = r.fluent_bit.call(
                fluent_bit_function(set.dataset),
                "ti.bench",
                (NOW_SECS, 0),
                rec.as_bytes(),
            );
            let fb = fb.map(|o| o.bytes().to_vec()).unwrap_or_default();
            if native.len() != 1 || fb != native[0].as_bytes() {
                eprintln!(
                    "warning: {}: the fluent bit module's output differs from native",
                    set.name
                );
                return;
            }
        }
    }
}

/// Writes the file `path` through `write` (buffered, flushed with its errors seen);
/// returns what `write` returns (the documents of the response it wrote).
fn write_response(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<usize>,
) -> std::io::Result<usize> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let docs = write(&mut w)?;
    w.flush()?;
    Ok(docs)
}

/// Peak memory of the CLI: the largest MISP event, and 100 MB attribute and event
/// responses.
fn memory(a: &Args) {
    println!();
    println!("## peak memory of the CLI (`ti-ecs transform … FILE > /dev/null`)");
    println!();
    let Some(cli) = cli() else {
        println!(
            "skipped: no `ti-ecs` next to this program; build it first with `cargo build --profile perf --bin ti-ecs`"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("ti-ecs-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        println!("skipped: cannot create `{}`: {e}", dir.display());
        return;
    }
    let mut r = Rng::new(SEED ^ 0x4d_454d);
    let small = dir.join("one-attribute.json");
    let misp = |v: Value, r: &mut Rng| corpus::text(&v, Keys::Ranked(corpus::MISP_KEYS), r);
    let one = misp(corpus::misp_attribute(&mut r), &mut r);
    let event = dir.join("largest-event.json");
    let ev = misp(corpus::misp_event_whole(&mut r, 800), &mut r);
    let big = dir.join("attributes-response.json");
    let events = dir.join("events-response.json");
    let target = if a.quick { 10 } else { 100 } * 1_000_000;
    let written = std::fs::write(&small, &one)
        .and_then(|_| std::fs::write(&event, &ev))
        .and_then(|_| write_response(&big, |w| corpus::attribute_response(&mut r, target, w)))
        .and_then(|attributes| {
            write_response(&events, |w| corpus::event_response(&mut r, target, w))
                .map(|docs| (attributes, docs))
        });
    let (attributes, event_docs) = match written {
        Ok(n) => n,
        Err(e) => {
            println!("skipped: cannot write the inputs: {e}");
            return;
        }
    };
    println!("| input | bytes | documents | wall s | max RSS MB | × input size |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, path, dataset, docs) in [
        (
            "one MISP attribute (the process floor)",
            &small,
            "ti_misp.threat_attributes",
            1,
        ),
        (
            "largest MISP event (800 attributes, 160 objects)",
            &event,
            "ti_misp.threat",
            800 + 160 * 3,
        ),
        (
            "MISP attribute response",
            &big,
            "ti_misp.threat_attributes",
            attributes,
        ),
        (
            "MISP event response (whole events)",
            &events,
            "ti_misp.threat",
            event_docs,
        ),
    ] {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        let start = Instant::now();
        let ran = run_measured(
            std::process::Command::new(&cli)
                .args(["transform", "--dataset", dataset, "--now", NOW])
                .arg(path)
                .stdout(std::process::Stdio::null()),
        );
        let wall = start.elapsed().as_secs_f64();
        match ran {
            Ok((true, Some(rss))) => println!(
                "| {name} | {size} | {docs} | {wall:.2} | {:.1} | {:.1} |",
                rss as f64 / 1e6,
                rss as f64 / size as f64
            ),
            other => println!("| {name} | {size} | {docs} | failed: {other:?} | | |"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe
        .parent()?
        .join(format!("ti-ecs{}", std::env::consts::EXE_SUFFIX));
    p.exists().then_some(p)
}

/// Runs `cmd` to its end: whether it succeeded, and that child's own maximum resident set
/// in bytes (Linux, `wait4`). `getrusage(RUSAGE_CHILDREN)` would give the largest of every
/// child waited for before, and survives `exec`: under `cargo run`, which execs this
/// program, that includes the compilers cargo has just run (measured: 300 MB for every
/// input).
#[cfg(target_os = "linux")]
fn run_measured(cmd: &mut std::process::Command) -> std::io::Result<(bool, Option<u64>)> {
    // struct rusage on 64-bit Linux: two timevals (4 longs), then ru_maxrss (KiB), then 13
    // more longs.
    unsafe extern "C" {
        fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut [i64; 18]) -> i32;
    }
    let child = cmd.spawn()?;
    let pid = i32::try_from(child.id()).map_err(std::io::Error::other)?;
    let (mut status, mut u) = (0i32, [0i64; 18]);
    loop {
        // SAFETY: `status` and `u` (as large as `struct rusage`) outlive the call, which
        // only writes into them.
        if unsafe { wait4(pid, &mut status, 0, &mut u) } == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // Exited normally with status 0 is a wait status of 0.
    Ok((status == 0, Some(u[4] as u64 * 1024)))
}

#[cfg(not(target_os = "linux"))]
fn run_measured(cmd: &mut std::process::Command) -> std::io::Result<(bool, Option<u64>)> {
    Ok((cmd.status()?.success(), None))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores available, {}", std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_writes_names_in_the_vendors_orders() {
        let mut r = Rng::new(1);
        let attr = corpus::misp_attribute(&mut r);
        let text = corpus::text(&attr, Keys::Ranked(corpus::MISP_KEYS), &mut r);
        // the same value, its names in MISP's order: `id` first, `Event` after the scalars
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), attr);
        assert!(text.starts_with(r#"{"id":"#), "{text}");
        let (at, event) = (text.find(r#""timestamp":"#), text.find(r#""Event":"#));
        assert!(at.unwrap() < event.unwrap(), "{text}");
        // sorted: serde_json's own text; shuffled: the same value, in other orders
        assert_eq!(corpus::text(&attr, Keys::Sorted, &mut r), attr.to_string());
        let shuffled: Vec<String> = (0..4)
            .map(|_| corpus::text(&attr, Keys::Shuffled, &mut r))
            .collect();
        for s in &shuffled {
            assert_eq!(serde_json::from_str::<Value>(s).unwrap(), attr);
        }
        assert!(shuffled.iter().any(|s| *s != shuffled[0]));
        // a ThreatStream push, in the envelope or not, is the indicator it holds
        let mut order = Rng::new(2);
        for _ in 0..8 {
            let push = corpus::threatstream_text(&mut r, &mut order);
            let push: Value = serde_json::from_str(&push).unwrap();
            let indicator = match push.get("message") {
                Some(Value::String(m)) => serde_json::from_str(m).unwrap(),
                _ => push,
            };
            assert!(indicator.get("value_type").is_some(), "{indicator}");
        }
    }

    #[test]
    fn a_target_is_met_by_the_ratio_itself_and_a_miss_is_never_rounded_up() {
        assert_eq!(verdict(Some(0.6), 0.6), "0.60 met");
        assert_eq!(verdict(Some(1.234), 1.0), "1.23 met");
        // a miss is never shown rounded up to the target
        assert_eq!(verdict(Some(0.799), 0.8), "0.799 **not met**");
        assert_eq!(verdict(Some(0.794), 0.8), "0.79 **not met**");
        assert_eq!(verdict(Some(0.8), 0.8), "0.80 met");
        assert_eq!(verdict(None, 0.6), "—");
        assert_eq!(verdict(Some(f64::NAN), 0.6), "—");
        let targets = [Target::Baseline, Target::Native];
        let best = [(200.0, 1), (150.0, 1)];
        assert_eq!(
            ratio(&targets, &best, Target::Native, Target::Baseline),
            Some(0.75)
        );
        assert_eq!(
            ratio(&targets, &best, Target::FluentBit, Target::Native),
            None
        );
    }

    #[test]
    fn records_arguments_name_the_data_set_and_the_file() {
        let (ds, file) = records_arg("ti_misp.threat=a=b.ndjson").unwrap();
        assert_eq!(ds, Dataset::MispThreat);
        assert_eq!(file, PathBuf::from("a=b.ndjson"));
        let e = records_arg("attrs.ndjson").unwrap_err();
        assert!(e.contains("expected ID=FILE"), "{e}");
        let e = records_arg("nope=attrs.ndjson").unwrap_err();
        assert!(e.contains("unknown dataset `nope`"), "{e}");
    }

    #[test]
    fn options_are_read_or_refused_by_name() {
        let parse = |args: &[&str]| parse_args(args.iter().map(|s| s.to_string()));
        let a = parse(&["--quick", "--batch", "8", "--only", "MISP attribute"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.secs, a.batch, a.only.as_deref()),
            (0.3, 8, Some("MISP attribute"))
        );
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(only_matches("MISP event, whole", &a));
        assert!(only_matches("ti_misp.threat", &a));
        assert!(!only_matches("MISP events", &a));
        // the table's sets are selected by data set id, not by the WIT name
        assert!(!only_matches("misp-threat", &a));
        let r = parse(&["--records", "ti_misp.threat=x/a.ndjson"])
            .unwrap()
            .unwrap();
        assert!(only_matches("a.ndjson (ti_misp.threat)", &r));
        assert!(only_matches("ti_misp.threat", &r));
        assert!(!only_matches("ti_anomali.threatstream", &r));
        assert!(!only_matches("MISP attribute", &r));
        assert!(parse(&["--bench"]).unwrap().is_some());
        let w = parse(&["--write-corpus", "c"]).unwrap().unwrap();
        assert_eq!(w.write_corpus, Some(PathBuf::from("c")));
        for (args, says) in [
            (&["--secs", "x"][..], "--secs `x`"),
            (&["--secs", "0"][..], "--secs `0`"),
            (&["--batch", "0"][..], "--batch `0`"),
            (&["--secs"][..], "--secs needs a value"),
            (&["--frobnicate"][..], "unknown option `--frobnicate`"),
            (&["--records", "nope"][..], "expected ID=FILE"),
            (&["--write-corpus"][..], "--write-corpus needs a value"),
        ] {
            let e = parse(args).err().unwrap();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn the_written_corpus_is_each_set_a_line_a_record() {
        let dir = std::env::temp_dir().join(format!("bench-corpus-{}", std::process::id()));
        let sets = corpus();
        write_corpus(&dir, &sets).unwrap();
        for set in &sets {
            let text = std::fs::read_to_string(dir.join(corpus_file_name(&set.name))).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines, set.records, "{}", set.name);
        }
        assert_eq!(
            corpus_file_name("MISP event, post-split"),
            "misp-event-post-split.ndjson"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_records_file_is_one_set_of_its_non_blank_lines() {
        let dir = std::env::temp_dir().join(format!("bench-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("attrs.ndjson");
        std::fs::write(&file, "{\"a\":1}\n\n  \n{\"b\":2}").unwrap();
        let empty = dir.join("empty.ndjson");
        std::fs::write(&empty, "\n \n").unwrap();
        let sets = user_sets(&[(Dataset::MispThreatAttributes, file.clone())]).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].name, "attrs.ndjson (ti_misp.threat_attributes)");
        assert_eq!(sets[0].records, ["{\"a\":1}", "{\"b\":2}"]);
        // a pretty-printed record is one record; NDJSON with a bad line stays lines
        let pretty = "{\n  \"response\": [\n    {\"a\": 1}\n  ]\n}\n";
        assert_eq!(split_records(pretty), [pretty]);
        assert_eq!(split_records("{\"a\":1}\n{nope\n"), ["{\"a\":1}", "{nope"]);
        let e = user_sets(&[(Dataset::MispThreat, empty)]).err().unwrap();
        assert!(e.contains("holds no record"), "{e}");
        let e = user_sets(&[(Dataset::MispThreat, dir.join("missing"))])
            .err()
            .unwrap();
        assert!(e.contains("cannot read") && e.contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
