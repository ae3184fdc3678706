//! The golden corpus through the native core: one named test per case, a diff on failure.
//! `TI_ECS_BLESS=1 cargo test --test golden` rewrites the expected files; review them
//! against Elastic's expected output before committing.

mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use support::corpus::{self, Case};
use ti_ecs::{Dataset, Options};

fn run(case: &Case) -> Result<(), Failed> {
    let dataset: Dataset = case.dataset.parse().map_err(|e: String| Failed::from(e))?;
    let opts = Options::from_json(&case.options_json).map_err(|e| format!("{}: {e}", case.name))?;
    let docs = ti_ecs::transform_to_json(dataset, &case.input, &opts);
    // determinism: a second run gives the same bytes
    if docs != ti_ecs::transform_to_json(dataset, &case.input, &opts) {
        return Err("two runs over the same input differ".into());
    }
    // a record handed over as text (the component's and the bench's way) gives the same
    // bytes as the same record as bytes
    if let Ok(text) = std::str::from_utf8(&case.input)
        && docs != ti_ecs::transform_text_to_json(dataset, text, &opts)
    {
        return Err("the record as text and as bytes give different documents".into());
    }
    // the documents written straight from what the mapping built are the bytes of the
    // cleaned trees serialised by serde_json
    let trees: Vec<String> = ti_ecs::transform(dataset, &case.input, &opts)
        .iter()
        .map(ti_ecs::to_json)
        .collect();
    if docs != trees {
        return Err(corpus::diff(&trees.join("\n"), &docs.join("\n")).into());
    }
    let actual = corpus::render(&docs);
    if corpus::blessing() {
        std::fs::write(&case.expected_path, &actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let expected = case.expected();
    if expected.is_empty() {
        return Err(format!(
            "no expected file {}; run with {}=1 and review it",
            case.expected_path.display(),
            corpus::BLESS_VAR
        )
        .into());
    }
    if expected != actual {
        return Err(corpus::diff(&expected, &actual).into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let cases = corpus::load(&corpus::golden_dir());
    if cases.is_empty() {
        let dir = corpus::golden_dir();
        let t = Trial::test("native::corpus_is_not_empty", move || {
            Err(format!("no golden cases under {}", dir.display()).into())
        });
        libtest_mimic::run(&args, vec![t]).exit();
    }
    let trials = cases
        .into_iter()
        .map(|c| {
            Trial::test(format!("native::{}::{}", c.dataset, c.name), move || {
                run(&c)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
