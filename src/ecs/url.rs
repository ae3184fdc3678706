//! URL splitting into ECS `url.*` parts, in the manner of Elasticsearch's `uri_parts`.

use crate::Doc;

/// Splits `original` into `<prefix>.original`, `.full`, `.scheme`, `.domain`, `.port`,
/// `.path` (percent-decoded), `.query`, `.fragment`, `.extension`, `.username`,
/// `.password` and `.user_info` where present. On failure nothing is set and the error
/// names the value.
pub fn set_url_parts(doc: &mut Doc, prefix: &str, original: &str) -> Result<(), String> {
    let _ = (doc, prefix);
    Err(format!("url parsing not written yet: `{original}`"))
}
