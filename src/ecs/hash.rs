//! File hashes: which `file.hash.*` field a value belongs in.

/// The `file.hash.*` field for a hex digest of this many characters
/// (32 md5, 40 sha1, 64 sha256, 128 sha512). Non-hex text has no field.
pub fn field_by_length(value: &str) -> Option<&'static str> {
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match value.len() {
        32 => Some("md5"),
        40 => Some("sha1"),
        64 => Some("sha256"),
        128 => Some("sha512"),
        _ => None,
    }
}

/// The `file.hash.*` field for an algorithm name as vendors write it
/// (`MD5`, `SHA1`, `sha-256`, `SHA512`, `ssdeep`, ...), case and dashes ignored.
pub fn field_by_name(name: &str) -> Option<&'static str> {
    let n: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    match n.as_str() {
        "md5" => Some("md5"),
        "sha1" => Some("sha1"),
        "sha256" => Some("sha256"),
        "sha384" => Some("sha384"),
        "sha512" => Some("sha512"),
        "ssdeep" => Some("ssdeep"),
        "tlsh" => Some("tlsh"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_length() {
        assert_eq!(field_by_length(&"a".repeat(32)), Some("md5"));
        assert_eq!(field_by_length(&"B".repeat(40)), Some("sha1"));
        assert_eq!(field_by_length(&"0".repeat(64)), Some("sha256"));
        assert_eq!(field_by_length(&"f".repeat(128)), Some("sha512"));
        assert_eq!(field_by_length("6466e2"), None);
        assert_eq!(field_by_length(&"g".repeat(32)), None, "not hex");
        assert_eq!(field_by_length(""), None);
    }

    #[test]
    fn by_name() {
        assert_eq!(field_by_name("MD5"), Some("md5"));
        assert_eq!(field_by_name("SHA1"), Some("sha1"));
        assert_eq!(field_by_name("sha-256"), Some("sha256"));
        assert_eq!(field_by_name("SHA512"), Some("sha512"));
        assert_eq!(field_by_name("crc32"), None);
    }
}
