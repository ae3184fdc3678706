//! `ti-ecs serve` over real HTTP on loopback: feed pages, a hostile tenant, an oversized
//! body, forwarding to a loopback NDJSON receiver (with retries and a failing one), and
//! shutdown with a request in flight. The server runs in-process
//! ([`ti_ecs_host::serve::Server`], the same code the `ti-ecs serve` command runs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use ti_ecs_host::serve::{ServeConfig, Server, Shutdown};
use ti_ecs_host::{Sandbox, SandboxConfig, TenantLimits};

/// The time the bundled examples' reviewed outputs were made with (`tests/cli.rs`).
const NOW: &str = "2026-12-01T00:00:00Z";

struct Running {
    addr: SocketAddr,
    stop: Shutdown,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn stop(mut self) {
        self.stop.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.shutdown();
    }
}

fn start(config: ServeConfig, sandbox: Option<Sandbox>) -> Running {
    let config = ServeConfig {
        listen: "127.0.0.1:0".into(),
        ..config
    };
    let server = match sandbox {
        Some(s) => Server::bind_with(config, s),
        None => Server::bind(config),
    }
    .unwrap();
    let (addr, stop) = (server.local_addr(), server.shutdown_handle());
    Running {
        addr,
        stop,
        thread: Some(std::thread::spawn(move || server.run())),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// POSTs a body; returns the status and the body text.
fn post(url: &str, tenant: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut req = agent().post(url);
    if let Some(t) = tenant {
        req = req.header("X-Tenant", t);
    }
    let mut r = req.send(body).unwrap();
    let status = r.status().as_u16();
    (
        status,
        r.body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .unwrap(),
    )
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn misbehave_sandbox(limits: TenantLimits) -> Sandbox {
    let bytes = std::fs::read(ti_ecs_host::MISBEHAVE_PATH).unwrap();
    Sandbox::with_component(
        &bytes,
        SandboxConfig {
            default_limits: limits,
            ..SandboxConfig::default()
        },
    )
    .unwrap()
}

#[test]
fn health_and_routing_errors() {
    let s = start(ServeConfig::default(), None);
    let mut r = agent().get(&s.url("/health")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["status"], "ok");
    let (status, body) = post(&s.url("/v1/ti_misp.nope"), None, b"{}");
    assert_eq!(status, 404);
    assert!(body.contains("unknown data set `ti_misp.nope`"), "{body}");
    let (status, body) = post(&s.url("/v1/ti_misp.threat?colour=red"), None, b"{}");
    assert_eq!(status, 400);
    assert!(body.contains("unknown query parameter `colour`"), "{body}");
    let (status, body) = post(
        &s.url("/v1/ti_misp.threat?ioc_expiration_duration=9q&now=2026-01-01T00:00:00Z"),
        None,
        b"{}",
    );
    assert_eq!(status, 400);
    assert!(body.contains("9q"), "{body}");
    let (status, body) = post(&s.url("/v1/ti_misp.threat"), Some("a b"), b"{}");
    assert_eq!(status, 400);
    assert!(body.contains("invalid tenant `a b`"), "{body}");
    s.stop();
}

/// Real feed pages give exactly the CLI's reviewed documents of the bundled examples.
#[test]
fn feed_pages_give_the_reviewed_documents() {
    let s = start(ServeConfig::default(), None);
    for (file, dataset) in [
        ("misp/attributes-response.json", "ti_misp.threat_attributes"),
        ("misp/event-with-objects.json", "ti_misp.threat"),
        ("anomali/intelligence-page.json", "ti_anomali.intelligence"),
        ("anomali/threatstream.ndjson", "ti_anomali.threatstream"),
    ] {
        let input = std::fs::read(examples().join(file)).unwrap();
        let expected =
            std::fs::read_to_string(examples().join(file).with_extension("ecs.ndjson")).unwrap();
        let (status, body) = post(&s.url(&format!("/v1/{dataset}?now={NOW}")), None, &input);
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body, expected, "{file}");
    }
    s.stop();
}

#[test]
fn bad_records_become_error_documents_and_options_apply() {
    let config = ServeConfig {
        options: ti_ecs_host::serve::options_file(r#"{"tags":["from-config"]}"#).unwrap(),
        ..ServeConfig::default()
    };
    let s = start(config, None);
    let body =
        b"{\"type\":\"ip-dst\",\"value\":\"10.0.0.1\",\"timestamp\":\"1700000000\"}\n{oops\n\n";
    let (status, text) = post(
        &s.url(
            "/v1/ti_misp.threat_attributes?identity=true&tag=q1&tag=q2&now=2026-01-01T00:00:00Z",
        ),
        Some("acme"),
        body,
    );
    assert_eq!(status, 200, "{text}");
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert!(
        docs[0]["labels"]["ioc_fingerprint"].is_string(),
        "{}",
        docs[0]
    );
    assert_eq!(docs[0]["event"]["ingested"], "2026-01-01T00:00:00.000Z");
    assert_eq!(docs[0]["tags"][0], "q1");
    assert_eq!(docs[1]["event"]["kind"], "pipeline_error");
    assert_eq!(docs[1]["event"]["original"], "{oops");
    // Without a query, the configured options and the clock.
    let (status, text) = post(
        &s.url("/v1/ti_misp.threat_attributes"),
        None,
        &body[..body.len() - 9],
    );
    assert_eq!(status, 200, "{text}");
    let d: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(d["tags"][0], "from-config");
    assert!(d["event"]["ingested"].as_str().unwrap().starts_with("20"));
    s.stop();
}

#[test]
fn oversized_body_is_413() {
    let s = start(
        ServeConfig {
            max_body_bytes: 1024,
            ..ServeConfig::default()
        },
        None,
    );
    let (status, body) = post(&s.url("/v1/ti_misp.threat"), None, &vec![b' '; 4096]);
    assert_eq!(status, 413);
    assert!(
        body.contains("larger than the limit of 1024 bytes"),
        "{body}"
    );
    // The server is fine afterwards.
    let (status, _) = post(&s.url("/v1/ti_misp.threat"), None, b"{}");
    assert_eq!(status, 200);
    s.stop();
}

/// A tenant whose records loop, hoard memory or trap gets a 422 naming the record; the
/// batch is not returned in part; other tenants and its own next batch are served.
#[test]
fn hostile_tenant() {
    let s = start(
        ServeConfig::default(),
        Some(misbehave_sandbox(TenantLimits {
            memory_bytes: 16 << 20,
            deadline: Duration::from_millis(300),
        })),
    );
    let url = s.url("/v1/ti_misp.threat");
    for (bad, why) in [
        ("loop", "deadline of 300 ms"),
        ("alloc", "over the tenant's limit of 16777216 bytes"),
        ("trap", "unreachable"),
    ] {
        let (status, body) = post(&url, Some("evil"), format!("a\n{bad}\nb\n").as_bytes());
        assert_eq!(status, 422, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["record"], 1, "{body}");
        assert_eq!(v["line"], 2, "{body}");
        assert_eq!(v["tenant"], "evil");
        let e = v["error"].as_str().unwrap();
        assert!(e.contains(why) && e.contains("record 1 (line 2)"), "{e}");
        let (status, body) = post(&url, Some("good"), b"x\ny\n");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.lines().count(), 2);
        let (status, _) = post(&url, Some("evil"), b"fine\n");
        assert_eq!(status, 200);
    }
    s.stop();
}

/// Per-tenant limits with the real component: a feed page too big for one tenant's cap.
#[test]
fn per_tenant_memory_cap_on_a_real_page() {
    let mut tenants = BTreeMap::new();
    tenants.insert(
        "small".to_string(),
        TenantLimits {
            memory_bytes: 8 << 20,
            deadline: Duration::from_secs(10),
        },
    );
    let s = start(
        ServeConfig {
            tenants,
            ..ServeConfig::default()
        },
        None,
    );
    let attr = r#"{"type":"domain","value":"example.com","timestamp":"1700000000"}"#;
    let page = format!(
        r#"{{"response":{{"Attribute":[{}]}}}}"#,
        vec![attr; 20_000].join(",")
    );
    let url = s.url(&format!("/v1/ti_misp.threat_attributes?now={NOW}"));
    let (status, body) = post(&url, Some("small"), page.as_bytes());
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("tenant `small`"), "{body}");
    let (status, body) = post(&url, Some("big"), page.as_bytes());
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), 20_000);
    s.stop();
}

/// A loopback NDJSON receiver: answers `fail_first` requests with 503, then 200.
fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let http = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ingest", http.server_addr().to_ip().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        let mut n = 0;
        for mut req in http.incoming_requests() {
            n += 1;
            let mut body = String::new();
            std::io::Read::read_to_string(req.as_reader(), &mut body).unwrap();
            if n <= fail_first {
                let _ = req.respond(tiny_http::Response::empty(503));
            } else {
                seen.lock().unwrap().push(body);
                let _ = req.respond(tiny_http::Response::empty(200));
            }
        }
    });
    (url, got)
}

#[test]
fn forwarding_with_retries() {
    let (url, got) = receiver(1);
    let s = start(
        ServeConfig {
            forward: Some(url),
            ..ServeConfig::default()
        },
        None,
    );
    let input = std::fs::read(examples().join("misp/attributes-response.json")).unwrap();
    let expected =
        std::fs::read_to_string(examples().join("misp/attributes-response.ecs.ndjson")).unwrap();
    let (status, body) = post(
        &s.url(&format!("/v1/ti_misp.threat_attributes?now={NOW}")),
        None,
        &input,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["documents"], expected.lines().count());
    assert_eq!(v["forwarded"], true);
    assert_eq!(*got.lock().unwrap(), [expected]);
    s.stop();
}

#[test]
fn forwarding_failure_is_502() {
    let (url, got) = receiver(usize::MAX);
    let s = start(
        ServeConfig {
            forward: Some(url.clone()),
            forward_attempts: 2,
            ..ServeConfig::default()
        },
        None,
    );
    let (status, body) = post(
        &s.url(&format!("/v1/ti_misp.threat?now={NOW}")),
        None,
        b"{}\n",
    );
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains(&format!(
            "forwarding to `{url}` failed after 2 attempts: status 503"
        )),
        "{body}"
    );
    assert!(got.lock().unwrap().is_empty());
    // Nobody listening at all.
    let s2 = start(
        ServeConfig {
            forward: Some("http://127.0.0.1:9/nothing".into()),
            forward_attempts: 1,
            ..ServeConfig::default()
        },
        None,
    );
    let (status, body) = post(
        &s2.url(&format!("/v1/ti_misp.threat?now={NOW}")),
        None,
        b"{}\n",
    );
    assert_eq!(status, 502, "{body}");
    s.stop();
    s2.stop();
}

/// Shutdown while a request is in flight: it is answered, then `run` returns.
#[test]
fn shutdown_finishes_in_flight_requests() {
    let s = start(
        ServeConfig::default(),
        Some(misbehave_sandbox(TenantLimits {
            memory_bytes: 16 << 20,
            deadline: Duration::from_millis(800),
        })),
    );
    let url = s.url("/v1/ti_misp.threat");
    let in_flight = std::thread::spawn(move || post(&url, None, b"loop\n"));
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    s.stop();
    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// The values of `key: ` lines in a YAML file (quotes taken off), in order.
fn yaml_values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix(": "))
        .map(|v| v.trim().trim_matches('"'))
        .collect()
}

/// `examples/vector/vector.yaml` as the sidecar sees it: each `http` sink's `uri` and
/// `X-Tenant` header, with the body Vector sends (`encoding.codec: json`, newline framing:
/// one JSON event per line, the `http_client` page in `message`), gives the documents of the
/// bundled example, each with the IOC key the `elasticsearch` sink's `id_key` names; and the
/// `http_server` source listens where the config's `--forward` sends.
#[test]
fn vector_example_sinks_are_what_the_sidecar_takes() {
    let config = std::fs::read_to_string(examples().join("vector/vector.yaml")).unwrap();
    let uris = yaml_values(&config, "uri");
    let tenants = yaml_values(&config, "X-Tenant");
    assert_eq!(uris.len(), 2, "{uris:?}");
    assert_eq!(tenants, ["misp", "threatstream"]);
    assert_eq!(yaml_values(&config, "id_key"), ["labels.ioc_key"]);
    let (address, path) = (
        yaml_values(&config, "address")[0],
        yaml_values(&config, "path")[0],
    );
    let forward = format!("--forward http://{address}{path}");
    assert!(config.contains(&forward), "no `{forward}` in the config");
    assert!(config.contains("ti-ecs serve --listen 127.0.0.1:8787"));

    let s = start(ServeConfig::default(), None);
    let pages = [
        "misp/attributes-response.json",
        "anomali/intelligence-page.json",
    ];
    for ((uri, tenant), page) in uris.iter().zip(&tenants).zip(pages) {
        let route = uri
            .strip_prefix("http://127.0.0.1:8787")
            .unwrap_or_else(|| panic!("{uri}: not the sidecar's address"));
        let raw = std::fs::read_to_string(examples().join(page)).unwrap();
        let event = serde_json::json!({
            "message": raw,
            "source_type": "http_client",
            "timestamp": "2026-12-01T00:00:00Z",
        });
        let (status, body) = post(&s.url(route), Some(tenant), format!("{event}\n").as_bytes());
        assert_eq!(status, 200, "{uri}: {body}");
        let reviewed =
            std::fs::read_to_string(examples().join(page).with_extension("ecs.ndjson")).unwrap();
        let docs: Vec<Value> = body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len(), reviewed.lines().count(), "{uri}");
        let dataset = route
            .trim_start_matches("/v1/")
            .split('?')
            .next()
            .unwrap_or_default();
        for d in &docs {
            assert_eq!(d["data_stream"]["dataset"], dataset, "{d}");
            assert!(d["labels"]["ioc_key"].is_string(), "{d}");
            assert!(d["event"]["kind"] != "pipeline_error", "{d}");
        }
    }
    s.stop();
}
