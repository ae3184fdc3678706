//! The MISP attribute type table: what each `misp.attribute.type` becomes in ECS.
//!
//! Every type MISP knows (PyMISP's `describeTypes.json`, 194 types) has a row, so each
//! has a decided outcome, and a test checks the file against the table. A type that is
//! not in the table (MISP adds types over time) falls through Elastic's prefix rules
//! (`filename|…`, `filename…`, `email…`, `domain…`) and is otherwise left unmapped.
//!
//! Three classes of row:
//!
//! - **mapped**: an indicator type and ECS fields get the value; `misp.attribute.value`
//!   is removed once the value is in them (as Elastic removes it);
//! - **typed**: an indicator type is set but ECS 8.11 has no field for the value, so it
//!   stays in `misp.attribute.value` (Elastic deleted it: `mutex`, `cpe`, `filename-*`,
//!   the other `email-*` types);
//! - **unmapped**: no indicator type, the value stays in `misp.attribute.value`.
//!
//! Where a row differs from Elastic's pipeline it is listed in `docs/PARITY-misp.md`.

/// What a MISP type becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `file`, value to `threat.indicator.file.hash.<type>` (the type name is the key).
    Hash,
    /// `file`, value to `threat.indicator.file.name`.
    FileName,
    /// `file`, `<name>|<hash>` to `file.name` and `file.hash.<key>`.
    FilenameHash(&'static str),
    /// `url`, value split into `threat.indicator.url.*` like Elasticsearch's `uri_parts`;
    /// a value that does not split is kept whole in `url.original`.
    Url,
    /// `windows-registry-key`, value to `threat.indicator.registry.key`.
    RegKey,
    /// `windows-registry-key`, `<key>|<data>` to `registry.key` and `registry.value`.
    RegKeyValue,
    /// `autonomous-system`, number (`174`, `AS174`, asdot `1.10`) to `threat.indicator.as.number`.
    AsNumber,
    /// `domain-name`, value to `threat.indicator.url.domain`.
    Domain,
    /// `domain-name`, `<domain>|<ip>` to `url.domain` and `threat.indicator.ip`.
    DomainIp,
    /// `domain-name`, `<host>|<port>` to `url.domain` and `threat.indicator.port`.
    HostnamePort,
    /// `ipv4-addr` or `ipv6-addr` by the value, to `threat.indicator.ip`; a CIDR range
    /// (not an `ip` value) stays in `misp.attribute.value`.
    Ip,
    /// `ipv4-addr` or `ipv6-addr`, `<ip>|<port>` to `threat.indicator.ip` and `.port`.
    IpPort,
    /// `email-addr`, value to `threat.indicator.email.address`.
    EmailAddress,
    /// `email-addr` (as Elastic's threat_attributes), value to `threat.indicator.email.subject`.
    EmailSubject,
    /// `mac-addr`, value to `threat.indicator.mac`.
    Mac,
    /// `artifact`, value to `threat.indicator.file.mime_type`.
    MimeType,
    /// `port`, value to `threat.indicator.port`.
    Port,
    /// This indicator type; the value stays in `misp.attribute.value`.
    Typed(&'static str),
    /// No indicator type; the value stays in `misp.attribute.value`.
    Unmapped,
}

use Outcome::*;

/// Every MISP attribute type, sorted by byte order (checked by a test).
#[rustfmt::skip]
pub const TYPES: &[(&str, Outcome)] = &[
    ("AS", AsNumber),
    ("aba-rtn", Unmapped),
    ("anonymised", Unmapped),
    ("attachment", FileName),
    ("authentihash", Hash),
    ("azure-application-id", Unmapped),
    ("bank-account-nr", Unmapped),
    ("bic", Unmapped),
    ("bin", Unmapped),
    ("boolean", Unmapped),
    ("bro", Unmapped),
    ("btc", Unmapped),
    ("campaign-id", Unmapped),
    ("campaign-name", Unmapped),
    ("cc-number", Unmapped),
    ("cdhash", Hash),
    ("chrome-extension-id", Unmapped),
    ("comment", Unmapped),
    ("community-id", Unmapped),
    ("cookie", Unmapped),
    ("cortex", Unmapped),
    ("counter", Unmapped),
    ("country-of-residence", Unmapped),
    ("cpe", Typed("software")),
    ("dash", Unmapped),
    ("date-of-birth", Unmapped),
    ("datetime", Unmapped),
    ("dkim", Unmapped),
    ("dkim-signature", Unmapped),
    ("dns-soa-email", Unmapped),
    ("dom-hash", Unmapped),
    ("domain", Domain),
    ("domain|ip", DomainIp),
    ("edge-extension-id", Unmapped),
    ("email", EmailAddress),
    ("email-attachment", Typed("email-addr")),
    ("email-body", Typed("email-addr")),
    ("email-dst", EmailAddress),
    ("email-dst-display-name", Typed("email-addr")),
    ("email-header", Typed("email-addr")),
    ("email-message-id", Typed("email-addr")),
    ("email-mime-boundary", Typed("email-addr")),
    ("email-reply-to", EmailAddress),
    ("email-src", EmailAddress),
    ("email-src-display-name", Typed("email-addr")),
    ("email-subject", EmailSubject),
    ("email-thread-index", Typed("email-addr")),
    ("email-x-mailer", Typed("email-addr")),
    ("eppn", Unmapped),
    ("favicon-mmh3", Unmapped),
    ("filename", FileName),
    ("filename-pattern", Typed("file")),
    ("filename|authentihash", FilenameHash("authentihash")),
    ("filename|impfuzzy", FilenameHash("impfuzzy")),
    ("filename|imphash", FilenameHash("imphash")),
    ("filename|md5", FilenameHash("md5")),
    ("filename|pehash", FilenameHash("pehash")),
    ("filename|sha1", FilenameHash("sha1")),
    ("filename|sha224", FilenameHash("sha224")),
    ("filename|sha256", FilenameHash("sha256")),
    ("filename|sha3-224", FilenameHash("sha3-224")),
    ("filename|sha3-256", FilenameHash("sha3-256")),
    ("filename|sha3-384", FilenameHash("sha3-384")),
    ("filename|sha3-512", FilenameHash("sha3-512")),
    ("filename|sha384", FilenameHash("sha384")),
    ("filename|sha512", FilenameHash("sha512")),
    ("filename|sha512/224", FilenameHash("sha512/224")),
    ("filename|sha512/256", FilenameHash("sha512/256")),
    ("filename|ssdeep", FilenameHash("ssdeep")),
    ("filename|tlsh", FilenameHash("tlsh")),
    ("filename|vhash", FilenameHash("vhash")),
    ("first-name", Unmapped),
    ("float", Unmapped),
    ("frequent-flyer-number", Unmapped),
    ("full-name", Unmapped),
    ("gender", Unmapped),
    ("gene", Unmapped),
    ("git-commit-id", Unmapped),
    ("github-organisation", Unmapped),
    ("github-repository", Unmapped),
    ("github-username", Unmapped),
    ("hassh-md5", Unmapped),
    ("hasshserver-md5", Unmapped),
    ("hex", Unmapped),
    ("hostname", Domain),
    ("hostname|port", HostnamePort),
    ("http-method", Unmapped),
    ("iban", Unmapped),
    ("identity-card-number", Unmapped),
    ("impfuzzy", Hash),
    ("imphash", Hash),
    ("integer", Unmapped),
    ("ip-dst", Ip),
    ("ip-dst|port", IpPort),
    ("ip-src", Ip),
    ("ip-src|port", IpPort),
    ("issue-date-of-the-visa", Unmapped),
    ("ja3-fingerprint-md5", Unmapped),
    ("jabber-id", Unmapped),
    ("jarm-fingerprint", Unmapped),
    ("kusto-query", Unmapped),
    ("last-name", Unmapped),
    ("link", Url),
    ("mac-address", Mac),
    ("mac-eui-64", Mac),
    ("malware-sample", FilenameHash("md5")),
    ("malware-type", Unmapped),
    ("md5", Hash),
    ("middle-name", Unmapped),
    ("mime-type", MimeType),
    ("mobile-application-id", Unmapped),
    ("mutex", Typed("mutex")),
    ("named pipe", Unmapped),
    ("nationality", Unmapped),
    ("onion-address", Unmapped),
    ("other", Unmapped),
    ("passenger-name-record-locator-number", Unmapped),
    ("passport-country", Unmapped),
    ("passport-expiration", Unmapped),
    ("passport-number", Unmapped),
    ("pattern-in-file", Unmapped),
    ("pattern-in-memory", Unmapped),
    ("pattern-in-traffic", Unmapped),
    ("payment-details", Unmapped),
    ("pdb", Unmapped),
    ("pehash", Hash),
    ("pgp-private-key", Unmapped),
    ("pgp-public-key", Unmapped),
    ("phone-number", Unmapped),
    ("place-of-birth", Unmapped),
    ("place-port-of-clearance", Unmapped),
    ("place-port-of-onward-foreign-destination", Unmapped),
    ("place-port-of-original-embarkation", Unmapped),
    ("port", Port),
    ("primary-residence", Unmapped),
    ("process-state", Unmapped),
    ("prtn", Unmapped),
    ("redress-number", Unmapped),
    ("regkey", RegKey),
    ("regkey|value", RegKeyValue),
    ("sha1", Hash),
    ("sha224", Hash),
    ("sha256", Hash),
    ("sha3-224", Hash),
    ("sha3-256", Hash),
    ("sha3-384", Hash),
    ("sha3-512", Hash),
    ("sha384", Hash),
    ("sha512", Hash),
    ("sha512/224", Hash),
    ("sha512/256", Hash),
    ("sigma", Unmapped),
    ("size-in-bytes", Unmapped),
    ("snort", Unmapped),
    ("special-service-request", Unmapped),
    ("ssdeep", Hash),
    ("ssh-fingerprint", Unmapped),
    ("stix2-pattern", Unmapped),
    ("suricata", Unmapped),
    ("target-email", Unmapped),
    ("target-external", Unmapped),
    ("target-location", Unmapped),
    ("target-machine", Unmapped),
    ("target-org", Unmapped),
    ("target-user", Unmapped),
    ("telfhash", Hash),
    ("text", Unmapped),
    ("threat-actor", Unmapped),
    ("tlsh", Hash),
    ("travel-details", Unmapped),
    ("twitter-id", Unmapped),
    ("uri", Url),
    ("url", Url),
    ("user-agent", Unmapped),
    ("uuid", Unmapped),
    ("vhash", Hash),
    ("visa-number", Unmapped),
    ("vulnerability", Unmapped),
    ("weakness", Unmapped),
    ("whois-creation-date", Unmapped),
    ("whois-registrant-email", Unmapped),
    ("whois-registrant-name", Unmapped),
    ("whois-registrant-org", Unmapped),
    ("whois-registrant-phone", Unmapped),
    ("whois-registrar", Unmapped),
    ("windows-scheduled-task", Unmapped),
    ("windows-service-displayname", Unmapped),
    ("windows-service-name", Unmapped),
    ("x509-fingerprint-md5", Typed("x509-certificate")),
    ("x509-fingerprint-sha1", Typed("x509-certificate")),
    ("x509-fingerprint-sha256", Typed("x509-certificate")),
    ("xmr", Unmapped),
    ("yara", Unmapped),
    ("zeek", Unmapped),
];

/// The outcome of a MISP type (case-sensitive, as MISP and Elastic treat types).
///
/// A type missing from [`TYPES`] goes through Elastic's prefix rules: `filename|<h>` is a
/// file name with hash `<h>` (when `<h>` is a plain hash name), any other `filename…` is a
/// `file`, `email…` an `email-addr`, `domain…` a domain; anything else is unmapped.
pub fn outcome(misp_type: &str) -> Outcome {
    if let Ok(i) = TYPES.binary_search_by(|(t, _)| (*t).cmp(misp_type)) {
        return TYPES.get(i).map_or(Unmapped, |(_, o)| *o);
    }
    if misp_type.starts_with("filename|") {
        // The hash key becomes a field name; only a plain name can be one.
        return Typed("file");
    }
    if misp_type.starts_with("filename") {
        return Typed("file");
    }
    if misp_type.starts_with("email") {
        return Typed("email-addr");
    }
    if misp_type.starts_with("domain") {
        return Domain;
    }
    Unmapped
}

/// The hash key of an unknown `filename|<h>` type, when `<h>` can be a field name.
pub fn unknown_filename_hash(misp_type: &str) -> Option<&str> {
    let h = misp_type.strip_prefix("filename|")?;
    let plain = !h.is_empty()
        && h.len() <= 32
        && h.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'/');
    plain.then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_without_repeats() {
        let bad: Vec<String> = TYPES
            .windows(2)
            .filter(|w| w[0].0 >= w[1].0)
            .map(|w| format!("`{}` before `{}`", w[0].0, w[1].0))
            .collect();
        assert!(bad.is_empty(), "rows out of order: {bad:?}");
    }

    #[test]
    fn every_type_in_describe_types_has_a_row() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/misp/describeTypes.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipped: {} is absent", path.display());
            return;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let types: Vec<&str> = v["result"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(types.len(), 194);
        let missing: Vec<&&str> = types
            .iter()
            .filter(|t| TYPES.binary_search_by(|(r, _)| r.cmp(t)).is_err())
            .collect();
        assert!(missing.is_empty(), "types without a row: {missing:?}");
        let extra: Vec<&str> = TYPES
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| !types.contains(t))
            .collect();
        assert!(
            extra.is_empty(),
            "rows for types MISP does not know: {extra:?}"
        );
        // Every category's types are covered too (the mappings list only known types).
        for (cat, list) in v["result"]["category_type_mappings"].as_object().unwrap() {
            for t in list.as_array().unwrap() {
                assert!(types.contains(&t.as_str().unwrap()), "{cat}: {t}");
            }
        }
    }

    #[test]
    fn hash_rows_are_hash_names() {
        let hashes: Vec<&str> = TYPES
            .iter()
            .filter(|(_, o)| *o == Hash)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(hashes.len(), 21);
        for h in hashes {
            assert!(
                unknown_filename_hash(&format!("filename|{h}")).is_some(),
                "{h}"
            );
        }
        assert_eq!(outcome("sha512/256"), Hash);
        assert_eq!(outcome("sha3-256"), Hash);
    }

    #[test]
    fn filename_hash_rows_carry_the_full_hash_name() {
        for (t, o) in TYPES {
            if let Some(h) = t.strip_prefix("filename|") {
                assert_eq!(*o, FilenameHash(h), "{t}");
                assert_eq!(outcome(h), Hash, "{t}: the hash alone is a hash row");
            }
        }
        assert_eq!(outcome("malware-sample"), FilenameHash("md5"));
    }

    #[test]
    fn email_rows() {
        for (t, o) in TYPES.iter().filter(|(t, _)| t.starts_with("email")) {
            assert!(
                matches!(o, EmailAddress | EmailSubject | Typed("email-addr")),
                "{t}: {o:?}"
            );
        }
        assert_eq!(outcome("email-src"), EmailAddress);
        assert_eq!(outcome("email-subject"), EmailSubject);
        assert_eq!(outcome("email-body"), Typed("email-addr"));
    }

    #[test]
    fn network_rows() {
        assert_eq!(outcome("ip-src"), Ip);
        assert_eq!(outcome("ip-dst|port"), IpPort);
        assert_eq!(outcome("domain|ip"), DomainIp);
        assert_eq!(outcome("hostname|port"), HostnamePort);
        assert_eq!(outcome("hostname"), Domain);
        assert_eq!(outcome("url"), Url);
        assert_eq!(outcome("uri"), Url);
        assert_eq!(outcome("link"), Url);
        assert_eq!(outcome("AS"), AsNumber);
        assert_eq!(outcome("mac-eui-64"), Mac);
        assert_eq!(outcome("port"), Port);
    }

    #[test]
    fn typed_rows_name_ecs_indicator_types() {
        // ECS 8.11 `threat.indicator.type` expected values.
        const ECS: &[&str] = &[
            "artifact",
            "autonomous-system",
            "directory",
            "domain-name",
            "email-addr",
            "file",
            "ipv4-addr",
            "ipv6-addr",
            "mac-addr",
            "mutex",
            "port",
            "process",
            "software",
            "url",
            "user-account",
            "windows-registry-key",
            "x509-certificate",
        ];
        for (t, o) in TYPES {
            if let Typed(i) = o {
                assert!(ECS.contains(i), "{t}: {i}");
            }
        }
        assert_eq!(outcome("mutex"), Typed("mutex"));
        assert_eq!(outcome("cpe"), Typed("software"));
        assert_eq!(outcome("filename-pattern"), Typed("file"));
        assert_eq!(outcome("mime-type"), MimeType);
    }

    #[test]
    fn unmapped_rows_and_unknown_types() {
        for t in [
            "text",
            "comment",
            "float",
            "windows-service-name",
            "other",
            "named pipe",
        ] {
            assert_eq!(outcome(t), Unmapped, "{t}");
        }
        // Case-sensitive, as MISP.
        assert_eq!(outcome("MD5"), Unmapped);
        assert_eq!(outcome("as"), Unmapped);
        // Prefix rules for types MISP may add.
        assert_eq!(outcome("filename|sha3-999"), Typed("file"));
        assert_eq!(unknown_filename_hash("filename|sha3-999"), Some("sha3-999"));
        assert_eq!(unknown_filename_hash("filename|a.b"), None);
        assert_eq!(unknown_filename_hash("filename|"), None);
        assert_eq!(outcome("filename-regex"), Typed("file"));
        assert_eq!(outcome("email-cc"), Typed("email-addr"));
        assert_eq!(outcome("domain-pattern"), Domain);
        assert_eq!(outcome(""), Unmapped);
        assert_eq!(outcome("totally-new"), Unmapped);
    }
}
