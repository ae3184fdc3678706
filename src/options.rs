//! Options of one transform call.
//!
//! The core never reads a clock or the environment: `now` arrives here, and every
//! adapter (CLI, component, Fluent Bit module, JS, sidecar) fills it from its own clock.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Default IOC expiration duration, as in Elastic's integrations.
pub const DEFAULT_IOC_EXPIRATION_DURATION: &str = "90d";

/// Which numeric scale `event.severity` uses for ThreatStream's severity words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeverityScale {
    /// low/medium/high/very-high → 3/5/7/9, as Elastic's pipeline-test fixtures show.
    #[default]
    Fixture,
    /// low/medium/high/very-high → 21/47/73/99, as Elastic's released 2.4.0+ pipelines.
    Detection,
}

/// Resource limits of one call. Exceeding one gives an error document that names the
/// limit and how to raise it; the record is never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest record accepted, in bytes.
    pub max_input_bytes: usize,
    /// Deepest nesting of JSON arrays and objects accepted.
    pub max_depth: usize,
    /// Most documents one record may produce (a whole MISP response, an API page).
    pub max_documents: usize,
    /// Longest string value accepted anywhere in a record, in bytes.
    pub max_string_bytes: usize,
    /// The target whose limits are fixed (`None`: the caller sets them). An exceeded
    /// limit's error then says where the record can be mapped instead of which option
    /// to raise.
    #[serde(skip)]
    pub fixed_in: Option<&'static str>,
}

impl Limits {
    /// How to get past the limit `name` (e.g. `max_depth`), for error messages.
    pub fn how_to_raise(&self, name: &str) -> String {
        match self.fixed_in {
            None => format!("raise limits.{name} to accept it"),
            Some(target) => format!(
                "{target} cannot raise it; map such records with the ti-ecs CLI or `ti-ecs serve`, where limits.{name} can be raised"
            ),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 * 1024 * 1024,
            max_depth: 64,
            max_documents: 1_000_000,
            max_string_bytes: 16 * 1024 * 1024,
            fixed_in: None,
        }
    }
}

/// Options of a transform call.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The time of ingest: `event.ingested`, and the "now" of every expiration rule.
    pub now: DateTime<Utc>,
    /// How long an IOC lives without a vendor expiry: `<integer><unit>`, unit `d h m s w`.
    /// A record's `_conf.ioc_expiration_duration` (or `_conf.ioc_duration_before_deletion`)
    /// overrides it.
    pub ioc_expiration_duration: String,
    /// Tags added to every document, before the record's own tags.
    pub tags: Vec<String>,
    /// Keep the raw record in `event.original` (also switched on by the record tag
    /// `preserve_original_event`).
    pub preserve_original_event: bool,
    /// An envelope field that holds the raw record text, tried before `message`,
    /// `event.original` and `json`.
    pub raw_field: Option<String>,
    /// Numeric scale of `event.severity` for ThreatStream.
    pub severity_scale: SeverityScale,
    /// Add the IOC key and version fingerprint fields (see `identity`).
    pub identity: bool,
    /// Resource limits.
    pub limits: Limits,
}

/// The deepest record the Fluent Bit module maps. The documents carry the vendor's fields
/// two levels down, and Fluent Bit 4.2's outputs turn records into JSON recursively on a
/// small coroutine stack: `out_file` aborted on a 21-level document, and msgpack-c drops a
/// record 64 levels deep without a word (measured on Fluent Bit 4.2.8). Real MISP and
/// ThreatStream records nest 8 levels at most; a deeper one becomes an error document.
pub const FLUENT_BIT_MAX_DEPTH: usize = 12;

impl Options {
    /// Options with every default and the given `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Options {
            now,
            ioc_expiration_duration: DEFAULT_IOC_EXPIRATION_DURATION.to_string(),
            tags: Vec::new(),
            preserve_original_event: false,
            raw_field: None,
            severity_scale: SeverityScale::default(),
            identity: false,
            limits: Limits::default(),
        }
    }

    /// The options of the Fluent Bit module (whose filter interface carries none): every
    /// default, `now` the record's time, and records nested at most
    /// [`FLUENT_BIT_MAX_DEPTH`] levels.
    pub fn fluent_bit(now: DateTime<Utc>) -> Self {
        let mut o = Options::new(now);
        o.limits.max_depth = FLUENT_BIT_MAX_DEPTH;
        o.limits.fixed_in = Some("the Fluent Bit module");
        o
    }

    /// Options from their JSON form (the component, JS module and sidecar take this form).
    /// Unknown keys are an error, so a misspelt option never passes silently.
    pub fn from_json(text: &str) -> Result<Options, String> {
        let spec: OptionsSpec =
            serde_json::from_str(text).map_err(|e| format!("invalid options: {e}"))?;
        spec.into_options()
    }
}

/// The serialised form of [`Options`]: every field optional but `now`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsSpec {
    /// RFC 3339 time of ingest.
    pub now: String,
    /// Default IOC expiration duration, e.g. `90d`.
    #[serde(default)]
    pub ioc_expiration_duration: Option<String>,
    /// Tags added to every document.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Keep the raw record in `event.original`.
    #[serde(default)]
    pub preserve_original_event: bool,
    /// Envelope field that holds the raw record text.
    #[serde(default)]
    pub raw_field: Option<String>,
    /// `fixture` (3/5/7/9, the default) or `detection` (21/47/73/99).
    #[serde(default)]
    pub severity_scale: SeverityScale,
    /// Add the IOC key and fingerprint fields.
    #[serde(default)]
    pub identity: bool,
    /// Resource limits; missing keys keep their defaults.
    #[serde(default)]
    pub limits: Limits,
}

impl OptionsSpec {
    /// Checks the spec and builds [`Options`]; the error names the option and its value.
    pub fn into_options(self) -> Result<Options, String> {
        let now = parse_now(&self.now)?;
        let mut o = Options::new(now);
        if let Some(d) = self.ioc_expiration_duration {
            crate::expiration::parse_duration(&d)
                .map_err(|e| format!("invalid option `ioc_expiration_duration`: {e}"))?;
            o.ioc_expiration_duration = d;
        }
        o.tags = self.tags;
        o.preserve_original_event = self.preserve_original_event;
        o.raw_field = self.raw_field;
        o.severity_scale = self.severity_scale;
        o.identity = self.identity;
        o.limits = self.limits;
        Ok(o)
    }
}

/// Parses the `now` option (RFC 3339).
pub fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("invalid option `now`: `{text}` is not an RFC 3339 time ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_json_reads_every_field() {
        let o = Options::from_json(
            r#"{"now":"2026-01-01T00:00:00Z","ioc_expiration_duration":"5d","tags":["a"],
                "preserve_original_event":true,"raw_field":"raw","severity_scale":"detection",
                "identity":true,"limits":{"max_depth":10}}"#,
        )
        .unwrap();
        assert_eq!(o.ioc_expiration_duration, "5d");
        assert_eq!(o.tags, vec!["a"]);
        assert!(o.preserve_original_event && o.identity);
        assert_eq!(o.raw_field.as_deref(), Some("raw"));
        assert_eq!(o.severity_scale, SeverityScale::Detection);
        assert_eq!(o.limits.max_depth, 10);
        assert_eq!(o.limits.max_documents, Limits::default().max_documents);
    }

    #[test]
    fn options_errors_name_the_option_and_value() {
        let e = Options::from_json(r#"{"now":"yesterday"}"#).unwrap_err();
        assert!(e.contains("`now`") && e.contains("yesterday"), "{e}");
        let e =
            Options::from_json(r#"{"now":"2026-01-01T00:00:00Z","ioc_expiration_duration":"x"}"#)
                .unwrap_err();
        assert!(
            e.contains("ioc_expiration_duration") && e.contains('x'),
            "{e}"
        );
        let e = Options::from_json(r#"{"now":"2026-01-01T00:00:00Z","colour":1}"#).unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }
}
