//! ThreatStream `itype` → `threat.indicator.type`.
//!
//! One table for both data sets. Elastic's threatstream pipeline knows 80 of the keys
//! (third column `true`); its intelligence pipeline knows all 181, with the same value on
//! every shared key. Eleven itypes have no STIX type (`None`): Elastic's intelligence
//! pipeline turns them into an error, we keep the indicator untyped (see
//! `docs/PARITY-anomali.md`). Values that are not STIX names (`email`, `domain`,
//! `suppress`) are kept as Elastic sets them.

/// `(itype, indicator type, known to Elastic's threatstream pipeline)`, sorted by itype.
#[rustfmt::skip]
pub const ITYPES: &[(&str, Option<&str>, bool)] = &[
    ("actor_ip",                  Some("ipv4-addr"),              true),
    ("actor_ipv6",                Some("ipv6-addr"),              false),
    ("actor_subject",             None,                           false),
    ("adware_domain",             Some("domain-name"),            true),
    ("adware_registry_key",       Some("windows-registry-key"),   false),
    ("anon_proxy",                Some("ipv4-addr"),              true),
    ("anon_proxy_ipv6",           Some("ipv6-addr"),              false),
    ("anon_vpn",                  Some("ipv4-addr"),              true),
    ("anon_vpn_ipv6",             Some("ipv6-addr"),              false),
    ("apt_domain",                Some("domain-name"),            true),
    ("apt_email",                 Some("email-addr"),             true),
    ("apt_email_subject_line",    Some("email"),                  false),
    ("apt_file_name",             Some("file"),                   false),
    ("apt_file_path",             Some("directory"),              false),
    ("apt_ip",                    Some("ipv4-addr"),              true),
    ("apt_ipv6",                  Some("ipv6-addr"),              false),
    ("apt_md5",                   Some("file"),                   true),
    ("apt_mta",                   None,                           false),
    ("apt_mutex",                 Some("mutex"),                  false),
    ("apt_registry_key",          Some("windows-registry-key"),   false),
    ("apt_service_description",   None,                           false),
    ("apt_service_displayname",   None,                           false),
    ("apt_service_name",          None,                           false),
    ("apt_ssdeep",                Some("file"),                   false),
    ("apt_subject",               Some("email"),                  true),
    ("apt_ua",                    Some("url"),                    true),
    ("apt_url",                   Some("url"),                    true),
    ("bot_domain",                Some("domain-name"),            false),
    ("bot_ip",                    Some("ipv4-addr"),              true),
    ("bot_ipv6",                  Some("ipv6-addr"),              false),
    ("bot_md5",                   Some("file"),                   false),
    ("bot_url",                   Some("url"),                    false),
    ("browser_extension_id",      None,                           false),
    ("brute_ip",                  Some("ipv4-addr"),              true),
    ("brute_ipv6",                Some("ipv6-addr"),              false),
    ("c2_domain",                 Some("domain-name"),            true),
    ("c2_ip",                     Some("ipv4-addr"),              true),
    ("c2_ipv6",                   Some("ipv6-addr"),              false),
    ("c2_url",                    Some("url"),                    true),
    ("comm_proxy_domain",         Some("domain-name"),            true),
    ("comm_proxy_ip",             Some("ipv4-addr"),              true),
    ("compromised_domain",        Some("domain-name"),            true),
    ("compromised_email",         Some("email-addr"),             false),
    ("compromised_email_subject", Some("email"),                  false),
    ("compromised_ip",            Some("ipv4-addr"),              true),
    ("compromised_ipv6",          Some("ipv6-addr"),              false),
    ("compromised_serv_account",  Some("user-account"),           false),
    ("compromised_url",           Some("url"),                    true),
    ("compromised_username",      Some("user-account"),           false),
    ("crypto_hash",               Some("file"),                   true),
    ("crypto_ip",                 Some("ipv4-addr"),              true),
    ("crypto_pool",               Some("domain"),                 true),
    ("crypto_url",                Some("url"),                    true),
    ("crypto_wallet",             Some("file"),                   true),
    ("ddos_ip",                   Some("ipv4-addr"),              true),
    ("ddos_ipv6",                 Some("ipv6-addr"),              false),
    ("disposable_email_domain",   Some("domain-name"),            true),
    ("downloader_domain",         Some("domain-name"),            false),
    ("downloader_hash",           Some("file"),                   false),
    ("downloader_ip",             Some("ipv4-addr"),              false),
    ("downloader_ipv6",           Some("ipv6-addr"),              false),
    ("downloader_url",            Some("url"),                    false),
    ("dyn_dns",                   Some("domain-name"),            true),
    ("email_attachment_subject",  Some("email"),                  false),
    ("exfil_domain",              Some("domain-name"),            true),
    ("exfil_ip",                  Some("ipv4-addr"),              true),
    ("exfil_ipv6",                Some("ipv6-addr"),              false),
    ("exfil_url",                 Some("url"),                    true),
    ("exploit_domain",            Some("domain-name"),            true),
    ("exploit_ip",                Some("ipv4-addr"),              true),
    ("exploit_ipv6",              Some("ipv6-addr"),              false),
    ("exploit_md5",               Some("file"),                   false),
    ("exploit_url",               Some("url"),                    true),
    ("fraud_domain",              Some("domain-name"),            false),
    ("fraud_email",               Some("email-addr"),             false),
    ("fraud_email_subject",       Some("email"),                  false),
    ("fraud_ip",                  Some("ipv4-addr"),              false),
    ("fraud_ipv6",                Some("ipv6-addr"),              false),
    ("fraud_md5",                 Some("file"),                   false),
    ("fraud_url",                 Some("url"),                    false),
    ("free_email_domain",         Some("domain-name"),            true),
    ("geolocation_url",           Some("url"),                    true),
    ("hack_tool",                 Some("file"),                   true),
    ("hack_tool_md5",             Some("file"),                   false),
    ("i2p_ip",                    Some("ipv4-addr"),              true),
    ("i2p_ipv6",                  Some("ipv6-addr"),              false),
    ("image_hash",                Some("file"),                   false),
    ("infostealer_domain",        Some("domain-name"),            false),
    ("infostealer_hash",          Some("file"),                   false),
    ("infostealer_ip",            Some("ipv4-addr"),              false),
    ("infostealer_ipv6",          Some("ipv6-addr"),              false),
    ("infostealer_url",           Some("url"),                    false),
    ("iot_domain",                Some("domain-name"),            false),
    ("iot_hash",                  Some("file"),                   false),
    ("iot_ip",                    Some("ipv4-addr"),              false),
    ("iot_ipv6",                  Some("ipv6-addr"),              false),
    ("iot_url",                   Some("url"),                    false),
    ("ipcheck_url",               Some("url"),                    true),
    ("mal_domain",                Some("domain-name"),            true),
    ("mal_email",                 Some("email-addr"),             true),
    ("mal_email_subject",         Some("email"),                  false),
    ("mal_file_name",             Some("file"),                   false),
    ("mal_file_path",             Some("file"),                   false),
    ("mal_ip",                    Some("ipv4-addr"),              true),
    ("mal_ipv6",                  Some("ipv6-addr"),              false),
    ("mal_md5",                   Some("file"),                   true),
    ("mal_mutex",                 Some("mutex"),                  false),
    ("mal_registry_key",          Some("windows-registry-key"),   false),
    ("mal_service_description",   None,                           false),
    ("mal_service_displayname",   None,                           false),
    ("mal_service_name",          None,                           false),
    ("mal_ssdeep",                Some("file"),                   false),
    ("mal_sslcert_sh1",           Some("x509-certificate"),       true),
    ("mal_sslcert_sha1",          Some("x509-certificate"),       true),
    ("mal_ua",                    Some("url"),                    true),
    ("mal_url",                   Some("url"),                    true),
    ("p2pcnc",                    Some("ipv4-addr"),              true),
    ("p2pcnc_ipv6",               Some("ipv6-addr"),              false),
    ("parked_domain",             Some("domain-name"),            true),
    ("parked_ip",                 Some("ipv4-addr"),              true),
    ("parked_ipv6",               Some("ipv6-addr"),              false),
    ("parked_url",                Some("url"),                    true),
    ("pastesite_url",             Some("url"),                    true),
    ("phish_domain",              Some("domain-name"),            true),
    ("phish_email",               Some("email-addr"),             true),
    ("phish_email_subject",       Some("email"),                  false),
    ("phish_ip",                  Some("ipv4-addr"),              true),
    ("phish_ipv6",                Some("ipv6-addr"),              false),
    ("phish_md5",                 Some("file"),                   false),
    ("phish_url",                 Some("url"),                    true),
    ("pos_domain",                Some("domain-name"),            false),
    ("pos_hash",                  Some("file"),                   false),
    ("pos_ip",                    Some("ipv4-addr"),              false),
    ("pos_ipv6",                  Some("ipv6-addr"),              false),
    ("pos_url",                   Some("url"),                    false),
    ("proxy_ip",                  Some("ipv4-addr"),              true),
    ("proxy_ipv6",                Some("ipv6-addr"),              false),
    ("ransomware_domain",         Some("domain-name"),            false),
    ("ransomware_hash",           Some("file"),                   false),
    ("ransomware_ip",             Some("ipv4-addr"),              false),
    ("ransomware_ipv6",           Some("ipv6-addr"),              false),
    ("ransomware_url",            Some("url"),                    false),
    ("rootkit_hash",              Some("file"),                   false),
    ("scan_ip",                   Some("ipv4-addr"),              true),
    ("scan_ipv6",                 Some("ipv6-addr"),              false),
    ("sinkhole_domain",           Some("domain-name"),            true),
    ("sinkhole_ip",               Some("ipv4-addr"),              true),
    ("sinkhole_ipv6",             Some("ipv6-addr"),              false),
    ("social_media_url",          Some("url"),                    false),
    ("spam_domain",               Some("domain-name"),            true),
    ("spam_email",                Some("email-addr"),             true),
    ("spam_email_subject",        Some("email"),                  false),
    ("spam_ip",                   Some("ipv4-addr"),              true),
    ("spam_ipv6",                 Some("ipv6-addr"),              false),
    ("spam_mta",                  None,                           false),
    ("spam_url",                  Some("url"),                    true),
    ("speedtest_url",             Some("url"),                    true),
    ("ssh_ip",                    Some("ipv4-addr"),              true),
    ("ssh_ipv6",                  Some("ipv6-addr"),              false),
    ("ssl_cert_serial_number",    None,                           false),
    ("suppress",                  Some("suppress"),               true),
    ("suspicious_domain",         Some("domain-name"),            true),
    ("suspicious_email",          Some("email-addr"),             true),
    ("suspicious_email_subject",  Some("email"),                  false),
    ("suspicious_ip",             Some("ipv4-addr"),              true),
    ("suspicious_reg_email",      Some("email-addr"),             true),
    ("suspicious_url",            Some("url"),                    true),
    ("tor_ip",                    Some("ipv4-addr"),              true),
    ("tor_ipv6",                  Some("ipv6-addr"),              false),
    ("torrent_tracker_url",       Some("url"),                    true),
    ("trojan_domain",             Some("domain-name"),            false),
    ("trojan_hash",               Some("file"),                   false),
    ("trojan_ip",                 Some("ipv4-addr"),              false),
    ("trojan_ipv6",               Some("ipv6-addr"),              false),
    ("trojan_url",                Some("url"),                    false),
    ("vpn_domain",                Some("domain-name"),            true),
    ("vps_ip",                    Some("ipv4-addr"),              true),
    ("vps_ipv6",                  Some("ipv6-addr"),              false),
    ("whois_bulk_reg_email",      Some("email-addr"),             true),
    ("whois_privacy_domain",      Some("domain-name"),            true),
    ("whois_privacy_email",       Some("email-addr"),             true),
];

/// The table row of `itype`, if it is in the table.
pub fn lookup(itype: &str) -> Option<(Option<&'static str>, bool)> {
    ITYPES
        .binary_search_by(|row| row.0.cmp(itype))
        .ok()
        .and_then(|i| ITYPES.get(i))
        .map(|row| (row.1, row.2))
}

/// The indicator type of `itype`: `None` for unknown itypes and for the ones without a
/// STIX type.
pub fn indicator_type(itype: &str) -> Option<&'static str> {
    lookup(itype).and_then(|(t, _)| t)
}

/// The indicator type for a value kind (`type` in the API, `value_type` in the push
/// format), used when the itype gives none.
pub fn type_of_value_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "ip" => Some("ipv4-addr"),
        "ipv6" => Some("ipv6-addr"),
        "domain" => Some("domain-name"),
        "url" => Some("url"),
        "email" => Some("email-addr"),
        "md5" | "hash" => Some("file"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        let bad: Vec<_> = ITYPES
            .windows(2)
            .filter(|w| w[0].0 >= w[1].0)
            .map(|w| (w[0].0, w[1].0))
            .collect();
        assert!(bad.is_empty(), "rows out of order: {bad:?}");
    }

    #[test]
    fn sizes_match_elastic() {
        assert_eq!(ITYPES.len(), 181);
        assert_eq!(ITYPES.iter().filter(|r| r.2).count(), 80);
        let untyped: Vec<_> = ITYPES
            .iter()
            .filter(|r| r.1.is_none())
            .map(|r| r.0)
            .collect();
        assert_eq!(untyped.len(), 11, "{untyped:?}");
        assert!(
            ITYPES.iter().filter(|r| r.1.is_none()).all(|r| !r.2),
            "threatstream maps every key it knows"
        );
    }

    #[test]
    fn values_are_ecs_or_elastic_own() {
        const ALLOWED: &[&str] = &[
            "directory",
            "domain",
            "domain-name",
            "email",
            "email-addr",
            "file",
            "ipv4-addr",
            "ipv6-addr",
            "mutex",
            "suppress",
            "url",
            "user-account",
            "windows-registry-key",
            "x509-certificate",
        ];
        for (k, v, _) in ITYPES {
            if let Some(v) = v {
                assert!(ALLOWED.contains(v), "{k} → {v}");
            }
        }
    }

    #[test]
    fn one_row_per_class() {
        assert_eq!(lookup("mal_ip"), Some((Some("ipv4-addr"), true)));
        assert_eq!(lookup("mal_ipv6"), Some((Some("ipv6-addr"), false)));
        assert_eq!(lookup("c2_domain"), Some((Some("domain-name"), true)));
        assert_eq!(lookup("bot_domain"), Some((Some("domain-name"), false)));
        assert_eq!(lookup("phish_url"), Some((Some("url"), true)));
        assert_eq!(lookup("mal_ua"), Some((Some("url"), true)));
        assert_eq!(lookup("apt_email"), Some((Some("email-addr"), true)));
        assert_eq!(lookup("mal_email_subject"), Some((Some("email"), false)));
        assert_eq!(lookup("apt_subject"), Some((Some("email"), true)));
        assert_eq!(lookup("mal_md5"), Some((Some("file"), true)));
        assert_eq!(lookup("mal_ssdeep"), Some((Some("file"), false)));
        assert_eq!(
            lookup("mal_sslcert_sha1"),
            Some((Some("x509-certificate"), true))
        );
        assert_eq!(lookup("crypto_pool"), Some((Some("domain"), true)));
        assert_eq!(lookup("suppress"), Some((Some("suppress"), true)));
        assert_eq!(lookup("apt_file_path"), Some((Some("directory"), false)));
        assert_eq!(lookup("mal_mutex"), Some((Some("mutex"), false)));
        assert_eq!(
            lookup("apt_registry_key"),
            Some((Some("windows-registry-key"), false))
        );
        assert_eq!(
            lookup("compromised_username"),
            Some((Some("user-account"), false))
        );
        assert_eq!(lookup("apt_mta"), Some((None, false)));
        assert_eq!(lookup("no_such_itype"), None);
        assert_eq!(indicator_type("ssl_cert_serial_number"), None);
        assert_eq!(
            indicator_type("MAL_IP"),
            None,
            "itypes are case-sensitive, as in Elastic"
        );
    }

    #[test]
    fn value_kinds() {
        assert_eq!(type_of_value_kind("ip"), Some("ipv4-addr"));
        assert_eq!(type_of_value_kind("md5"), Some("file"));
        assert_eq!(type_of_value_kind("string"), None);
    }
}
