//! The benchmark (`src/bin/bench`, `BENCHMARKS.md`) runs end to end and reports every
//! target it documents. No figure is checked (speed is measured by the bench itself, never
//! by a test): only that a run on records of our own examples finishes, times each target
//! of each part, leaves the Fluent Bit module out of a set whose records do not each give
//! one document, and ends with each set against the targets.

use std::path::Path;
use std::process::Command;

/// The rows of the first part (one thread), then of the second (beside wasmtime).
const ALONE: [&str; 3] = [
    "baseline (serde_json Value round trip)",
    "floor: read the records, write the documents",
    "native core",
];
const BESIDE: [&str; 5] = [
    "baseline (serde_json Value round trip), beside wasmtime",
    "native core, beside wasmtime",
    "component, per record",
    "component, batch of 64",
    "sandboxed component, per record (serve's host)",
];
const MODULE: &str = "fluent bit module";

/// The two sets, as the bench names them: file name and data set.
const PUSHES: &str = "threatstream.ndjson (ti_anomali.threatstream)";
const EVENT: &str = "event-with-objects.json (ti_misp.threat)";

fn example(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path)
        .display()
        .to_string()
}

/// The table rows of a set: target name → its `× baseline` column, in the order printed.
fn rows<'a>(out: &'a str, set: &str) -> Vec<(&'a str, &'a str)> {
    out.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // | set | records | avg bytes | target | records/s | MB/s | docs/s | × baseline | × native |
            (cells.len() == 11 && cells[1] == set).then(|| (cells[4], cells[8]))
        })
        .collect()
}

#[test]
fn the_bench_times_every_target_of_every_set() {
    let pushes = example("anomali/threatstream.ndjson");
    let event = example("misp/event-with-objects.json");
    let run = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--no-memory", "--secs", "0.02"])
        .args(["--records", &format!("ti_anomali.threatstream={pushes}")])
        .args(["--records", &format!("ti_misp.threat={event}")])
        .output()
        .expect("the bench runs");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bench failed: {err}\n{out}");

    // One document per push: every target, the module too.
    let want: Vec<&str> = ALONE
        .iter()
        .chain(&BESIDE)
        .copied()
        .chain([MODULE])
        .collect();
    let got = rows(&out, PUSHES);
    assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), want, "{out}");
    // A whole event gives many documents: no module (a filter returns one record).
    let want: Vec<&str> = ALONE.iter().chain(&BESIDE).copied().collect();
    let got_event = rows(&out, EVENT);
    assert_eq!(
        got_event.iter().map(|r| r.0).collect::<Vec<_>>(),
        want,
        "{out}"
    );

    // Each ratio to the baseline is a number above zero; each part's baseline is 1.00.
    for (target, ratio) in got.iter().chain(&got_event) {
        let r: f64 = ratio
            .parse()
            .unwrap_or_else(|_| panic!("`{target}`: × baseline `{ratio}` is not a number"));
        assert!(r > 0.0, "`{target}`: × baseline {r}");
        if target.starts_with("baseline") {
            assert_eq!(*ratio, "1.00", "{target}");
        }
    }
    assert!(
        out.contains("1 records of ti_misp.threat,"),
        "the whole event is read as one record: {out}"
    );

    // Last, each set against the four targets: a ratio and a verdict in each
    // cell, none for the module where it was left out.
    let summary = out
        .split("## against the issue's targets")
        .nth(1)
        .unwrap_or_else(|| panic!("no targets table: {out}"));
    let verdicts = |set: &str| -> Vec<String> {
        let row = summary
            .lines()
            .find(|l| l.starts_with(&format!("| {set} |")))
            .unwrap_or_else(|| panic!("no targets row for {set}: {summary}"));
        row.split('|')
            .map(str::trim)
            .skip(2)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let cell = |c: &str| {
        let (r, v) = c.split_once(' ').unwrap_or((c, ""));
        r.parse::<f64>().is_ok_and(|r| r > 0.0) && (v == "met" || v == "**not met**")
    };
    let pushes = verdicts(PUSHES);
    assert_eq!(pushes.len(), 4, "{pushes:?}");
    assert!(pushes.iter().all(|c| cell(c)), "{pushes:?}");
    let event = verdicts(EVENT);
    assert_eq!(event.len(), 4, "{event:?}");
    assert!(event[..3].iter().all(|c| cell(c)), "{event:?}");
    assert_eq!(event[3], "—");
}

#[test]
fn the_bench_names_a_file_it_cannot_read() {
    let run = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "--no-memory",
            "--records",
            "ti_misp.threat=/nonexistent/records.ndjson",
        ])
        .output()
        .expect("the bench runs");
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read `/nonexistent/records.ndjson`"),
        "{err}"
    );
}
