//! The WebAssembly component guest: exports `ti:ecs/transformer` (`wit/ti-ecs.wit`).
//!
//! Built for `wasm32-unknown-unknown` with `--no-default-features --features component`,
//! then wrapped into a component by `wit-component` (see `host-tests/build.rs`). The world
//! imports nothing, and nothing here needs an import: `now` arrives in the options.
//!
//! This file only converts: WIT options → [`OptionsSpec`] → [`Options`], then calls
//! [`crate::transform_text_to_json`] (a WIT `string` is UTF-8 already). A `session`
//! (`open-session`) keeps the converted options, so that its calls skip lowering,
//! reading and parsing them (measured: 4–5 % of a call on one-document records).

use super::arena::{outside, scope};
use crate::{Dataset, Limits, Options, OptionsSpec, SeverityScale};

wit_bindgen::generate!({
    path: "wit",
    world: "ti-ecs",
});

use exports::ti::ecs::transformer as wit;

/// The exported implementation.
struct Component;

impl wit::Guest for Component {
    type Session = Session;

    fn open_session(
        dataset: wit::Dataset,
        options: wit::Options,
    ) -> Result<wit::Session, wit::Error> {
        let options = to_options(options)?;
        // The session outlives the call: made outside the arena, whose blocks must all be
        // free for it to start over (the options read here are the arena's, so a copy).
        Ok(outside(|| {
            wit::Session::new(Session {
                dataset: to_dataset(dataset),
                options: options.clone(),
            })
        }))
    }

    fn transform(
        dataset: wit::Dataset,
        record: String,
        options: wit::Options,
    ) -> Result<Vec<String>, wit::Error> {
        let opts = to_options(options)?;
        // a WIT `string` is UTF-8: not checked again
        Ok(crate::transform_text_to_json(
            to_dataset(dataset),
            &record,
            &opts,
        ))
    }

    fn transform_batch(
        dataset: wit::Dataset,
        records: Vec<String>,
        options: wit::Options,
    ) -> Result<Vec<Vec<String>>, wit::Error> {
        Ok(batch(to_dataset(dataset), &records, &to_options(options)?))
    }
}

/// A data set and its options, read once (`open-session`).
struct Session {
    dataset: Dataset,
    options: Options,
}

impl wit::GuestSession for Session {
    fn transform(&self, record: String) -> Vec<String> {
        crate::transform_text_to_json(self.dataset, &record, &self.options)
    }

    fn transform_batch(&self, records: Vec<String>) -> Vec<Vec<String>> {
        batch(self.dataset, &records, &self.options)
    }
}

/// The documents of each record of a batch, in order.
fn batch(dataset: Dataset, records: &[String], opts: &Options) -> Vec<Vec<String>> {
    let mut out = outside(|| Vec::with_capacity(records.len()));
    for r in records {
        // One scope per record: its garbage is reused by the next record instead of
        // piling up under the answers kept (`arena.rs`).
        out.push(scope(|| {
            let docs = crate::transform_text_to_json(dataset, r, opts);
            outside(|| docs.clone())
        }));
    }
    out
}

export!(Component);

fn to_dataset(d: wit::Dataset) -> Dataset {
    match d {
        wit::Dataset::AnomaliThreatstream => Dataset::AnomaliThreatstream,
        wit::Dataset::AnomaliIntelligence => Dataset::AnomaliIntelligence,
        wit::Dataset::MispThreat => Dataset::MispThreat,
        wit::Dataset::MispThreatAttributes => Dataset::MispThreatAttributes,
    }
}

fn to_options(o: wit::Options) -> Result<Options, wit::Error> {
    let defaults = Limits::default();
    // A limit too large for this target's usize saturates: it cannot be reached anyway.
    let size = |v: Option<u64>, d: usize| v.map_or(d, |v| usize::try_from(v).unwrap_or(usize::MAX));
    let spec = OptionsSpec {
        now: o.now,
        ioc_expiration_duration: o.ioc_expiration_duration,
        tags: o.tags,
        preserve_original_event: o.preserve_original_event,
        raw_field: o.raw_field,
        severity_scale: match o.severity_scale {
            wit::SeverityScale::Fixture => SeverityScale::Fixture,
            wit::SeverityScale::Detection => SeverityScale::Detection,
        },
        identity: o.identity,
        limits: Limits {
            max_input_bytes: size(o.limits.max_input_bytes, defaults.max_input_bytes),
            max_depth: size(o.limits.max_depth.map(u64::from), defaults.max_depth),
            max_documents: size(o.limits.max_documents, defaults.max_documents),
            max_string_bytes: size(o.limits.max_string_bytes, defaults.max_string_bytes),
            ..defaults
        },
    };
    spec.into_options().map_err(wit::Error::InvalidOptions)
}
