//! URL splitting into ECS `url.*` parts, in the manner of Elasticsearch's `uri_parts`
//! processor.
//!
//! Elasticsearch reads the text with Java's `java.net.URI` (RFC 2396 rules) and, when
//! that refuses it, with `java.net.URL` for the protocols Java knows. The parts it reports
//! differ from a WHATWG parse (which lowercases hosts, drops default ports, resolves dot
//! segments and re-encodes paths), so the split here follows the RFC grammar by hand and
//! reports what Elasticsearch reports:
//!
//! | part | value |
//! |---|---|
//! | `scheme` | as written (lowercased on the lenient path, as `URL` does) |
//! | `domain` | the host as written; IPv6 literals keep their brackets |
//! | `port` | a number, only when written |
//! | `path`, `query`, `fragment`, `user_info` | percent-decoded (raw on the lenient path) |
//! | `extension` | text after the last `.` of the last path segment |
//! | `username`, `password` | `user_info` split at its first `:` |
//! | `original`, `full` | the text as received |
//!
//! The host is checked with the `url` crate's WHATWG host parser. Where Java would give
//! no host at all (underscores, non-ASCII names), a host the WHATWG parser accepts is
//! still reported: a small improvement over Elasticsearch that only adds `domain`.

use crate::json::Value;

use crate::Doc;

/// The parts of one URL; `None` means the part is absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UrlParts {
    /// `url.scheme`.
    pub scheme: Option<String>,
    /// `url.domain`.
    pub domain: Option<String>,
    /// `url.port`.
    pub port: Option<i64>,
    /// `url.path`.
    pub path: Option<String>,
    /// `url.query`.
    pub query: Option<String>,
    /// `url.fragment`.
    pub fragment: Option<String>,
    /// `url.extension`.
    pub extension: Option<String>,
    /// `url.user_info`.
    pub user_info: Option<String>,
    /// `url.username`.
    pub username: Option<String>,
    /// `url.password`.
    pub password: Option<String>,
}

/// Splits `original` into `<prefix>.original`, `.full`, `.scheme`, `.domain`, `.port`,
/// `.path` (percent-decoded), `.query`, `.fragment`, `.extension`, `.username`,
/// `.password` and `.user_info` where present. On failure nothing is set and the error
/// names the value.
pub fn set_url_parts<'v>(
    doc: &mut Doc<'v>,
    prefix: &'static str,
    original: &str,
) -> Result<(), String> {
    let p = parse(original)?;
    // one walk to the object, its names kept without a copy
    doc.set_under(prefix, fields(original, p));
    Ok(())
}

/// The members of a URL's object, as [`set_url_parts`] sets them: `original` and
/// `full` (the URL as sent) and each part the URL has.
pub fn fields<'v>(original: &str, p: UrlParts) -> impl Iterator<Item = (&'static str, Value<'v>)> {
    let strings = [
        ("original", Some(original.to_string())),
        ("full", Some(original.to_string())),
        ("scheme", p.scheme),
        ("domain", p.domain),
        ("path", p.path),
        ("query", p.query),
        ("fragment", p.fragment),
        ("extension", p.extension),
        ("user_info", p.user_info),
        ("username", p.username),
        ("password", p.password),
    ];
    let port = p.port.map(|port| ("port", Value::from(port)));
    strings
        .into_iter()
        .filter_map(|(name, v)| Some((name, Value::from(v?))))
        .chain(port)
}

/// Splits a URL (absolute or relative) into its parts, or says why it cannot.
pub fn parse(text: &str) -> Result<UrlParts, String> {
    let fail = || format!("cannot parse `{text}` as a url");
    match parse_strict(text) {
        Some(p) => Ok(p),
        None => parse_lenient(text).ok_or_else(fail),
    }
}

/// The ASCII characters `java.net.URI` accepts outside hosts, one bit each: RFC 2396
/// unreserved and reserved characters, and `%` (its escapes are checked apart).
const URI_ASCII: u128 = {
    let mut set = 0u128;
    let mut c = 0u8;
    while c < 128 {
        if c.is_ascii_alphanumeric() {
            set |= 1 << c;
        }
        c += 1;
    }
    let marks = b"-_.!~*'();/?:@&=+$,%#[]";
    let mut i = 0;
    while i < marks.len() {
        set |= 1 << marks[i];
        i += 1;
    }
    set
};

/// Whether `java.net.URI` reads `text` (outside hosts): every ASCII character one of
/// [`URI_ASCII`], every other one neither a control nor a space, each `%` followed by
/// two hex digits, at most one `#`. One pass over the bytes.
fn uri_text_ok(text: &str) -> bool {
    let b = text.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let (mut hashes, mut ascii) = (0, true);
    for (i, &c) in b.iter().enumerate() {
        if !c.is_ascii() {
            ascii = false;
        } else if URI_ASCII >> c & 1 == 0 || (c == b'%' && !(hex(i + 1) && hex(i + 2))) {
            return false;
        } else if c == b'#' {
            hashes += 1;
        }
    }
    hashes <= 1
        && (ascii
            || text
                .chars()
                .all(|c| c.is_ascii() || (!c.is_control() && !c.is_whitespace())))
}

fn valid_scheme(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic())
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The five RFC 3986 components: scheme, authority, path, query, fragment.
struct Split<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
    opaque: bool,
}

fn split(text: &str) -> Option<Split<'_>> {
    let (rest, fragment) = match text.split_once('#') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let (scheme, rest) = match rest.find([':', '/', '?']) {
        Some(i) if rest.as_bytes().get(i) == Some(&b':') => {
            let (s, r) = rest.split_at(i);
            if !valid_scheme(s) {
                return None;
            }
            (Some(s), r.get(1..).unwrap_or(""))
        }
        _ => (None, rest),
    };
    if scheme.is_some() && !rest.starts_with('/') {
        // `mailto:x@y`: an opaque URI has no host, path or query.
        if rest.is_empty() {
            return None;
        }
        return Some(Split {
            scheme,
            authority: None,
            path: "",
            query: None,
            fragment,
            opaque: true,
        });
    }
    let (authority, rest) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find(['/', '?']).unwrap_or(r.len());
            let (a, r) = r.split_at(end);
            (Some(a), r)
        }
        None => (None, rest),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    Some(Split {
        scheme,
        authority,
        path,
        query,
        fragment,
        opaque: false,
    })
}

/// Host, port and user info of a server-based authority; `None` when the authority is
/// not server-based (Java then reports no host, port or user info).
struct Authority {
    user_info: Option<String>,
    host: Option<String>,
    port: Option<i64>,
}

fn parse_authority(a: &str, decode: bool) -> Option<Authority> {
    if a.is_empty() {
        return Some(Authority {
            user_info: None,
            host: None,
            port: None,
        });
    }
    let (user_info, hostport) = match a.rfind('@') {
        Some(i) => (a.get(..i), a.get(i + 1..).unwrap_or("")),
        None => (None, a),
    };
    let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
        let end = r.find(']')?;
        let inner = r.get(..end)?;
        let after = r.get(end + 1..).unwrap_or("");
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (hostport.get(..end + 2)?, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<i32>().ok()? as i64),
        Some(_) => return None,
    };
    if host.is_empty() || (!host.starts_with('[') && !host_ok(host)) {
        return None;
    }
    let user_info = user_info.map(|u| {
        if decode {
            percent_decode(u)
        } else {
            u.to_string()
        }
    });
    Some(Authority {
        user_info,
        host: Some(host.to_string()),
        port,
    })
}

/// Whether the WHATWG host parser (the `url` crate's) accepts `host`. A plain name
/// ([`plain_name`]) it takes as it is, lowercased: answered without running it (the
/// parser maps every host through IDNA first, allocating, for most of a URL's cost).
fn host_ok(host: &str) -> bool {
    plain_name(host) || url::Host::parse(host).is_ok()
}

/// A host name of dot-separated labels, each one or more ASCII letters, digits and
/// hyphens and none an IDNA label (`xn--`), the last starting with a letter (so not a
/// number: a name ending in one is read as an IPv4 address).
fn plain_name(host: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
    };
    let last = host.rsplit('.').next().unwrap_or(host);
    last.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) && host.split('.').all(label_ok)
}

/// `%HH` escapes to bytes, read as UTF-8 (invalid sequences become U+FFFD).
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|h| (*h as char).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn extension(path: &str) -> Option<String> {
    let last = path.get(path.rfind('/')?..)?;
    let dot = last.rfind('.')?;
    last.get(dot + 1..).map(str::to_string)
}

fn assemble(s: &Split, auth: Option<Authority>, decode: bool, scheme: Option<String>) -> UrlParts {
    let dec = |t: &str| {
        if decode {
            percent_decode(t)
        } else {
            t.to_string()
        }
    };
    let mut p = UrlParts {
        scheme,
        fragment: s.fragment.map(dec),
        ..UrlParts::default()
    };
    if s.opaque {
        return p;
    }
    if let Some(a) = auth {
        p.domain = a.host;
        p.port = a.port;
        if let Some(u) = a.user_info {
            if let Some((name, pass)) = u.split_once(':') {
                p.username = Some(name.to_string());
                p.password = Some(pass.to_string());
            }
            p.user_info = Some(u);
        }
    }
    let path = dec(s.path);
    p.extension = extension(&path);
    p.path = Some(path);
    p.query = s.query.map(dec);
    p
}

/// `java.net.URI`'s reading.
fn parse_strict(text: &str) -> Option<UrlParts> {
    if !uri_text_ok(text) {
        return None;
    }
    let s = split(text)?;
    let outside_host = |t: &str| !t.contains(['[', ']']);
    if !outside_host(s.path)
        || !s.query.is_none_or(outside_host)
        || !s.fragment.is_none_or(outside_host)
    {
        return None;
    }
    // A registry-based authority (not host[:port]) yields no host, port or user info.
    let auth = s.authority.and_then(|a| parse_authority(a, true));
    Some(assemble(&s, auth, true, s.scheme.map(str::to_string)))
}

/// `java.net.URL`'s reading, tried when `URI` refuses the text: only for the protocols
/// Java ships handlers for; parts stay as written.
fn parse_lenient(text: &str) -> Option<UrlParts> {
    if text.chars().any(|c| c.is_control()) {
        return None;
    }
    let s = split(text)?;
    let scheme = s.scheme?.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ftp" | "file" | "jar") || s.opaque {
        return None;
    }
    let auth = match s.authority {
        Some(a) => Some(parse_authority(a, false)?),
        None => None,
    };
    Some(assemble(&s, auth, false, Some(scheme)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parts(text: &str) -> serde_json::Value {
        let mut d = Doc::new();
        set_url_parts(&mut d, "u", text).unwrap();
        let (mut m, _, _) = d.into_parts();
        let mut u = m.remove("u").unwrap();
        let o = u.as_object_mut().unwrap();
        assert_eq!(o.remove("original"), Some(json!(text)));
        assert_eq!(o.remove("full"), Some(json!(text)));
        crate::doc::remove_empty(o);
        u
    }

    #[test]
    fn elastic_fixture_urls() {
        assert_eq!(
            parts("https://example.appspot.com/2/https%40securelogin-example.bp.poste.it"),
            json!({"scheme": "https", "domain": "example.appspot.com",
                   "path": "/2/https@securelogin-example.bp.poste.it", "extension": "it"})
        );
        assert_eq!(
            parts("http://81.2.69.192:34011/bin.sh"),
            json!({"scheme": "http", "domain": "81.2.69.192", "port": 34011, "path": "/bin.sh", "extension": "sh"})
        );
        assert_eq!(
            parts("https://oy72c.example.net/k4v7f/rsny?6idia=vus11f-6v"),
            json!({"scheme": "https", "domain": "oy72c.example.net", "path": "/k4v7f/rsny", "query": "6idia=vus11f-6v"})
        );
    }

    #[test]
    fn user_info_fragment_and_decoding() {
        assert_eq!(
            parts("ftp://us%65r:p%3Ass@Host.Example:21/a%20b/c.tar.gz?q=%41#fr%61g"),
            json!({"scheme": "ftp", "domain": "Host.Example", "port": 21, "path": "/a b/c.tar.gz",
                   "extension": "gz", "query": "q=A", "fragment": "frag",
                   "user_info": "user:p:ss", "username": "user", "password": "p:ss"})
        );
        assert_eq!(parts("http://u@h.test/")["user_info"], "u");
        assert_eq!(parts("http://u@h.test/").get("username"), None);
    }

    #[test]
    fn extension_comes_from_the_last_segment_only() {
        assert_eq!(parts("http://a.test/x.y/").get("extension"), None);
        assert_eq!(parts("http://a.test").get("extension"), None);
        assert_eq!(
            parts("http://a.test/z.").get("extension"),
            None,
            "empty extension is cleaned away"
        );
        assert_eq!(parts("http://a.test/.htaccess")["extension"], "htaccess");
    }

    #[test]
    fn ipv6_hosts_keep_brackets() {
        assert_eq!(
            parts("http://[2001:db8::1]:8080/x")["domain"],
            "[2001:db8::1]"
        );
        assert_eq!(parts("http://[2001:db8::1]:8080/x")["port"], 8080);
        assert_eq!(parts("http://[::1]/")["domain"], "[::1]");
    }

    #[test]
    fn relative_and_opaque() {
        assert_eq!(
            parts("evil.test/dl/x.exe"),
            json!({"path": "evil.test/dl/x.exe", "extension": "exe"})
        );
        assert_eq!(parts("mailto:a@b.test"), json!({"scheme": "mailto"}));
        assert_eq!(
            parts("//cdn.test/a"),
            json!({"domain": "cdn.test", "path": "/a"})
        );
        assert_eq!(parts("http:///p"), json!({"scheme": "http", "path": "/p"}));
    }

    #[test]
    fn registry_authority_has_no_host() {
        assert_eq!(
            parts("http://h.test:port/p"),
            json!({"scheme": "http", "path": "/p"})
        );
        assert_eq!(parts("http://h.test:99999999999/p").get("domain"), None);
        // underscores: Java gives no host, the WHATWG host parser accepts it
        assert_eq!(parts("http://my_host.test/p")["domain"], "my_host.test");
    }

    #[test]
    fn lenient_fallback_for_known_protocols() {
        // spaces and braces are refused by URI; URL takes them and decodes nothing
        assert_eq!(
            parts("HTTP://h.test/a b/{x}.php?q=%41 1"),
            json!({"scheme": "http", "domain": "h.test", "path": "/a b/{x}.php", "extension": "php", "query": "q=%41 1"})
        );
        assert_eq!(parts("http://h.test/%zz")["path"], "/%zz");
    }

    #[test]
    fn failures_name_the_value() {
        for bad in [
            "::1",
            "1http://x",
            "foo://a b",
            "http:",
            "custom:{x}",
            "http://h\u{0}/",
        ] {
            let mut d = Doc::new();
            let e = set_url_parts(&mut d, "u", bad).unwrap_err();
            assert_eq!(e, format!("cannot parse `{bad}` as a url"));
            assert!(!d.has("u"), "{bad}: nothing is set on failure");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            "#",
            "?",
            "[",
            "http://[",
            "http://[::1",
            "http://[::1]x",
            "http://@",
            "%",
            "%4",
            "é://x",
            "http://ü.test/é",
        ] {
            let _ = parse(s);
        }
        assert_eq!(
            parse("http://ü.test/é").unwrap().domain.as_deref(),
            Some("ü.test")
        );
    }

    /// Every string of up to `n` characters of `alphabet`.
    fn strings(alphabet: &[&str], n: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..n {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn the_one_pass_text_check_is_the_character_escape_and_fragment_rules() {
        // the rules as first written, one at a time
        let char_ok = |c: char| {
            if c.is_ascii() {
                c.is_ascii_alphanumeric() || "-_.!~*'();/?:@&=+$,%#[]".contains(c)
            } else {
                !c.is_control() && !c.is_whitespace()
            }
        };
        let escapes_ok = |t: &str| {
            let b = t.as_bytes();
            b.iter().enumerate().all(|(i, &c)| {
                c != b'%'
                    || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            })
        };
        let rules =
            |t: &str| t.chars().all(char_ok) && escapes_ok(t) && t.matches('#').count() <= 1;
        // every ASCII character alone and after `%`, and a few others
        let mut texts: Vec<String> = (0u8..128)
            .flat_map(|b| {
                let c = char::from(b);
                [format!("a{c}b"), format!("%{c}f"), format!("%f{c}")]
            })
            .collect();
        let alphabet = [
            "a", "%", "4", "#", " ", "é", "\u{85}", "\u{3000}", "/", "\n", "g",
        ];
        texts.extend(strings(&alphabet, 4));
        for t in &texts {
            assert_eq!(uri_text_ok(t), rules(t), "{t:?}");
        }
    }

    #[test]
    fn a_plain_host_name_is_one_the_whatwg_parser_accepts() {
        let alphabet = ["a", "Z", "0", "9", "-", ".", "x", "n", "é", "_"];
        let mut hosts = strings(&alphabet, 5);
        hosts.extend(
            [
                "xn--a",
                "XN--ab.c",
                "a.xn--b",
                "a.1",
                "a.0x1",
                "a.b1",
                "1.2.3.4",
                "a-.b",
                "-a.b-",
                "ab--cd.example",
                "a..b",
                "a.",
                ".a",
                "example.com",
            ]
            .map(String::from),
        );
        let mut plain = 0;
        for h in &hosts {
            if plain_name(h) {
                plain += 1;
                assert!(url::Host::parse(h).is_ok(), "{h:?}");
            }
            assert_eq!(host_ok(h), url::Host::parse(h).is_ok(), "{h:?}");
        }
        assert!(plain > 10_000, "{plain} plain names");
    }
}
