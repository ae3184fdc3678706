//! The component's WIT interface on the host side: generated bindings, the data-set
//! table and the JSON options converter. The one `bindgen!` of the workspace.

use serde::Deserialize;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "ti-ecs",
    // the sandbox keeps a session per data set and reuses it while the options are equal
    additional_derives: [PartialEq],
});

pub use exports::ti::ecs::transformer::{Dataset, Error, Limits, Options, SeverityScale};

/// Data-set id (as the CLI and the core name it), WIT name, WIT value; sorted by id.
#[rustfmt::skip]
pub const DATASETS: &[(&str, &str, Dataset)] = &[
    ("ti_anomali.intelligence", "anomali-intelligence", Dataset::AnomaliIntelligence),
    ("ti_anomali.threatstream", "anomali-threatstream", Dataset::AnomaliThreatstream),
    ("ti_misp.threat", "misp-threat", Dataset::MispThreat),
    ("ti_misp.threat_attributes", "misp-threat-attributes", Dataset::MispThreatAttributes),
];

/// The names a component imports (none for ti-ecs: it is sandboxed with nothing linked).
pub fn import_names(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> Vec<String> {
    let ty = component.component_type();
    ty.imports(engine).map(|(n, _)| n.to_string()).collect()
}

/// The names a component exports.
pub fn export_names(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> Vec<String> {
    let ty = component.component_type();
    ty.exports(engine).map(|(n, _)| n.to_string()).collect()
}

/// The WIT data set of a data-set id (`ti_misp.threat`) or WIT name (`misp-threat`).
pub fn dataset(name: &str) -> Option<Dataset> {
    DATASETS
        .iter()
        .find(|(id, wit, _)| *id == name || *wit == name)
        .map(|(_, _, d)| *d)
}

/// The data-set id of a WIT data set (`ti_misp.threat`).
pub fn dataset_id(dataset: Dataset) -> &'static str {
    DATASETS
        .iter()
        .find(|(_, _, d)| *d == dataset)
        .map_or("", |(id, _, _)| id)
}

/// The core's JSON options form (`OptionsSpec`), mirrored to build WIT [`Options`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    now: String,
    #[serde(default)]
    ioc_expiration_duration: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    preserve_original_event: bool,
    #[serde(default)]
    raw_field: Option<String>,
    #[serde(default)]
    severity_scale: Option<String>,
    #[serde(default)]
    identity: bool,
    #[serde(default)]
    limits: SpecLimits,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SpecLimits {
    max_input_bytes: Option<u64>,
    max_depth: Option<u32>,
    max_documents: Option<u64>,
    max_string_bytes: Option<u64>,
}

/// WIT [`Options`] from the core's JSON options form (a golden case's `.options.json`,
/// `ti-ecs serve --config`). Only the form is checked here; the component checks the
/// values (`now`, durations) and answers [`Error::InvalidOptions`].
pub fn options_from_json(text: &str) -> Result<Options, String> {
    let spec: Spec = serde_json::from_str(text).map_err(|e| format!("invalid options: {e}"))?;
    options_from_spec(spec)
}

/// WIT [`Options`] from the JSON options form already parsed (an object).
pub fn options_from_value(value: serde_json::Value) -> Result<Options, String> {
    let spec: Spec = serde_json::from_value(value).map_err(|e| format!("invalid options: {e}"))?;
    options_from_spec(spec)
}

fn options_from_spec(s: Spec) -> Result<Options, String> {
    let severity_scale = match s.severity_scale.as_deref() {
        None | Some("fixture") => SeverityScale::Fixture,
        Some("detection") => SeverityScale::Detection,
        Some(other) => return Err(format!("invalid option `severity_scale`: `{other}`")),
    };
    Ok(Options {
        now: s.now,
        ioc_expiration_duration: s.ioc_expiration_duration,
        tags: s.tags,
        preserve_original_event: s.preserve_original_event,
        raw_field: s.raw_field,
        severity_scale,
        identity: s.identity,
        limits: Limits {
            max_input_bytes: s.limits.max_input_bytes,
            max_depth: s.limits.max_depth,
            max_documents: s.limits.max_documents,
            max_string_bytes: s.limits.max_string_bytes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_are_sorted_by_id() {
        let out_of_order: Vec<_> = DATASETS
            .windows(2)
            .filter(|w| w[0].0 >= w[1].0)
            .map(|w| w[1].0)
            .collect();
        assert!(out_of_order.is_empty(), "out of order: {out_of_order:?}");
    }

    #[test]
    fn dataset_by_id_and_wit_name() {
        for (id, wit, d) in DATASETS {
            assert_eq!(dataset(id), Some(*d));
            assert_eq!(dataset(wit), Some(*d));
            assert_eq!(dataset_id(*d), *id);
        }
        assert_eq!(dataset("ti_misp"), None);
    }

    #[test]
    fn options_full_form() {
        let o = options_from_json(
            r#"{"now":"2026-01-01T00:00:00Z","ioc_expiration_duration":"5d","tags":["a"],
                "preserve_original_event":true,"raw_field":"msg","severity_scale":"detection",
                "identity":true,"limits":{"max_depth":8}}"#,
        )
        .unwrap();
        assert_eq!(o.now, "2026-01-01T00:00:00Z");
        assert_eq!(o.ioc_expiration_duration.as_deref(), Some("5d"));
        assert_eq!(o.tags, ["a"]);
        assert!(o.preserve_original_event && o.identity);
        assert_eq!(o.severity_scale, SeverityScale::Detection);
        assert_eq!(o.limits.max_depth, Some(8));
        assert_eq!(o.limits.max_documents, None);
    }

    #[test]
    fn options_errors_name_the_option() {
        let e = options_from_json(r#"{"now":"x","severity_scale":"huge"}"#).unwrap_err();
        assert_eq!(e, "invalid option `severity_scale`: `huge`");
        let e = options_from_json(r#"{"now":"x","colour":1}"#).unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = options_from_json("{}").unwrap_err();
        assert!(e.contains("missing field `now`"), "{e}");
    }
}
