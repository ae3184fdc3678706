//! The JS module: `transform(dataset, record, options) -> string[]` for Node and bundlers.
//!
//! Built for `wasm32-unknown-unknown` with the `js` feature and post-processed by
//! wasm-bindgen (see `js/`, which does both without a CLI install). Thin: decode the
//! arguments, call [`crate::transform_to_json`], return its strings. Documents stay JSON
//! strings so 64-bit numbers keep their precision on the JS side (`JSON.parse` them, or
//! use a big-number aware parser).
//!
//! Only misuse is an exception (`Error`): an unknown dataset or invalid options, with a
//! message naming the field and value. A record that cannot be read is not an exception:
//! it yields an error document (`event.kind: pipeline_error`) like every other target.
//!
//! `now` is optional here: when the options leave it out, the adapter reads the JS clock
//! (`Date.now()`); the core itself never reads one.

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use crate::{DATASETS, Dataset, Options, OptionsSpec};

#[wasm_bindgen]
extern "C" {
    /// `Date.now()`: milliseconds since the Unix epoch, from the JS host's clock.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;

    /// `JSON.stringify(value)`; throws on cycles and BigInts, `undefined` for functions.
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    /// Whatever JS threw; read only through `message`.
    type Thrown;

    /// `Uint8Array` (Node's `Buffer` is one too).
    #[wasm_bindgen(js_name = Uint8Array)]
    type Bytes;

    /// `Uint8Array.from(value)`: a copy of the bytes, moved into wasm memory.
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = from)]
    fn bytes_copy(value: &Bytes) -> Vec<u8>;

    /// `thrown.message`, when it is a string.
    #[wasm_bindgen(method, getter, structural)]
    fn message(this: &Thrown) -> Option<String>;
}

/// Transforms one record of `dataset` into ECS documents, one JSON string each.
///
/// - `dataset`: a data-set id (`ti_misp.threat_attributes`) or WIT name (`misp-threat-attributes`).
/// - `record`: the raw record, a string or a `Uint8Array`/`Buffer` of its bytes (one JSON
///   document, possibly in a shipper envelope).
/// - `options`: an object or a JSON string with the option fields (`now`,
///   `ioc_expiration_duration`, `tags`, `preserve_original_event`, `raw_field`,
///   `severity_scale`, `identity`, `limits`); `undefined`/`null` for every default. `now`
///   (RFC 3339 string or `Date`) defaults to the JS clock.
///
/// Throws on an unknown dataset or invalid options; never on a bad record.
#[wasm_bindgen]
pub fn transform(
    dataset: &str,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] record: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransformOptions | string | null | undefined")]
    options: JsValue,
) -> Result<Vec<String>, JsError> {
    let dataset: Dataset = dataset.parse().map_err(|e: String| JsError::new(&e))?;
    let raw = record_bytes(&record).map_err(|e| JsError::new(&e))?;
    let text = options_text(&options).map_err(|e| JsError::new(&e))?;
    let opts = decode_options(text.as_deref(), date_now).map_err(|e| JsError::new(&e))?;
    Ok(crate::transform_to_json(dataset, &raw, &opts))
}

/// The data-set ids `transform` accepts, e.g. `ti_anomali.threatstream`.
#[wasm_bindgen]
pub fn datasets() -> Vec<String> {
    DATASETS.iter().map(|d| d.id.to_string()).collect()
}

#[wasm_bindgen(typescript_custom_section)]
const TS_OPTIONS: &'static str = r#"
/** Options of `transform`; every field optional. */
export interface TransformOptions {
  /** Time of ingest (RFC 3339 or a Date); defaults to `Date.now()`. */
  now?: string | Date;
  /** Default IOC lifetime, `<integer><unit>` with unit d h m s w; default `90d`. */
  ioc_expiration_duration?: string;
  /** Tags added to every document, before the record's own. */
  tags?: string[];
  /** Keep the raw record in `event.original`. */
  preserve_original_event?: boolean;
  /** Envelope field holding the raw record text, tried before `message`. */
  raw_field?: string;
  /** `fixture` (3/5/7/9, default) or `detection` (21/47/73/99). */
  severity_scale?: "fixture" | "detection";
  /** Add `labels.ioc_key` and `labels.ioc_fingerprint`. */
  identity?: boolean;
  /** Resource limits; missing keys keep their defaults. */
  limits?: {
    max_input_bytes?: number;
    max_depth?: number;
    max_documents?: number;
    max_string_bytes?: number;
  };
}
"#;

/// The record argument's bytes: a string's UTF-8, or a `Uint8Array`'s bytes as they are.
fn record_bytes(record: &JsValue) -> Result<Vec<u8>, String> {
    if let Some(text) = record.as_string() {
        return Ok(text.into_bytes());
    }
    match record.dyn_ref::<Bytes>() {
        Some(bytes) => Ok(bytes_copy(bytes)),
        None => {
            let kind = record.js_typeof().as_string().unwrap_or_default();
            Err(format!(
                "invalid argument `record`: expected a string or a Uint8Array, got a `{kind}`"
            ))
        }
    }
}

/// The options argument as JSON text: a string as given, an object through
/// `JSON.stringify`, `None` for `undefined`/`null`.
fn options_text(options: &JsValue) -> Result<Option<String>, String> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if let Some(text) = options.as_string() {
        return Ok(Some(text));
    }
    if !options.is_object() {
        let kind = options.js_typeof().as_string().unwrap_or_default();
        return Err(format!(
            "invalid options: expected an object or a JSON string, got a `{kind}`"
        ));
    }
    let json = json_stringify(options).map_err(|e| {
        let why = if e.is_object() {
            e.unchecked_ref::<Thrown>().message()
        } else {
            e.as_string()
        };
        format!(
            "invalid options: cannot convert to JSON: `{}`",
            why.unwrap_or_default()
        )
    })?;
    Ok(json.as_string())
}

/// Options from their JSON text (`None`: every default), with `now` from `clock`
/// (milliseconds since the epoch) when the text leaves it out or sets it to `null`.
fn decode_options(text: Option<&str>, clock: impl FnOnce() -> f64) -> Result<Options, String> {
    let mut map = match text {
        None => Map::new(),
        Some(t) => match serde_json::from_str(t) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(format!(
                    "invalid options: expected an object, got `{}`",
                    shorten(&other.to_string())
                ));
            }
            Err(e) => return Err(format!("invalid options: {e}: `{}`", shorten(t))),
        },
    };
    if map.get("now").is_none_or(Value::is_null) {
        map.insert("now".to_string(), Value::String(clock_now(clock)?));
    }
    match serde_json::from_value::<OptionsSpec>(Value::Object(map.clone())) {
        Ok(spec) => spec.into_options(),
        Err(e) => Err(name_the_option(&map, e)),
    }
}

/// Serde does not say which key failed; find it by checking each key on its own.
fn name_the_option(map: &Map<String, Value>, whole: serde_json::Error) -> String {
    for (key, value) in map {
        let mut probe = Map::new();
        probe.insert("now".to_string(), Value::from("1970-01-01T00:00:00Z"));
        probe.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<OptionsSpec>(Value::Object(probe)) {
            return format!(
                "invalid option `{key}`: {e}: `{}`",
                shorten(&value.to_string())
            );
        }
    }
    format!("invalid options: {whole}")
}

/// At most 200 characters of `text`, for error messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_string(),
    }
}

/// The clock's reading as an RFC 3339 time with milliseconds.
fn clock_now(clock: impl FnOnce() -> f64) -> Result<String, String> {
    let ms = clock();
    // `as` saturates and maps NaN to 0; the range check below rejects what chrono cannot hold.
    DateTime::from_timestamp_millis(ms as i64)
        .filter(|_| ms.is_finite())
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .ok_or_else(|| format!("invalid clock reading for option `now`: `{ms}` ms since the epoch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1: f64 = 1_767_225_600_000.0; // 2026-01-01T00:00:00Z

    #[test]
    fn missing_options_take_every_default_and_the_clock() {
        let o = decode_options(None, || JAN_1).unwrap();
        assert_eq!(
            o,
            Options::new(DateTime::from_timestamp_millis(JAN_1 as i64).unwrap())
        );
    }

    #[test]
    fn missing_or_null_now_reads_the_clock() {
        for text in [r#"{"tags":["a"]}"#, r#"{"now":null,"tags":["a"]}"#] {
            let o = decode_options(Some(text), || JAN_1 + 1.0).unwrap();
            assert_eq!(
                o.now.to_rfc3339_opts(SecondsFormat::Millis, true),
                "2026-01-01T00:00:00.001Z"
            );
            assert_eq!(o.tags, vec!["a"]);
        }
    }

    #[test]
    fn given_now_wins_over_the_clock() {
        let o = decode_options(Some(r#"{"now":"2020-10-08T12:22:11.000Z"}"#), || {
            unreachable!("the clock must not be read")
        })
        .unwrap();
        assert_eq!(o.now.to_rfc3339(), "2020-10-08T12:22:11+00:00");
    }

    #[test]
    fn invalid_options_name_the_field_and_value() {
        let cases: [(&str, &[&str]); 9] = [
            (r#"{"now":"yesterday"}"#, &["`now`", "yesterday"]),
            (
                r#"{"ioc_expiration_duration":"5y"}"#,
                &["ioc_expiration_duration", "5y"],
            ),
            (r#"{"colour":"red"}"#, &["`colour`", "red"]),
            (r#"{"tags":"a"}"#, &["`tags`", "\"a\""]),
            (r#"{"now":5,"identity":true}"#, &["`now`", "5"]),
            (r#"{"limits":{"max_depth":-1}}"#, &["`limits`", "-1"]),
            (
                r#"{"severity_scale":"loud"}"#,
                &["`severity_scale`", "loud"],
            ),
            ("[1]", &["expected an object", "[1]"]),
            ("{", &["invalid options", "EOF", "`{`"]),
        ];
        for (text, needles) in cases {
            let e = decode_options(Some(text), || JAN_1).unwrap_err();
            for n in needles {
                assert!(e.contains(n), "{text}: `{e}` lacks `{n}`");
            }
        }
    }

    #[test]
    fn a_clock_out_of_range_is_an_error_not_a_panic() {
        for ms in [f64::NAN, f64::INFINITY, 1e300] {
            let e = decode_options(None, || ms).unwrap_err();
            assert!(e.contains("`now`"), "{e}");
        }
    }

    #[test]
    fn long_values_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(300);
        assert_eq!(shorten(&long).chars().count(), 201);
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn datasets_lists_every_id() {
        assert_eq!(datasets().len(), DATASETS.len());
        assert!(datasets().iter().all(|d| d.parse::<Dataset>().is_ok()));
    }
}
