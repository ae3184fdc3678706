//! The HTTP sidecar behind `ti-ecs serve`: Vector's `http` sink (or any client) posts
//! NDJSON batches, the sidecar transforms them in the [`Sandbox`] and returns the
//! documents or forwards them downstream (Vector's `http_server` source, any NDJSON
//! endpoint).
//!
//! # Endpoints
//!
//! | request | answer |
//! |---|---|
//! | `POST /v1/<dataset-id>` with an NDJSON body (one record a line) or one whole JSON document | `200`, the documents as NDJSON (`application/x-ndjson`); with `--forward`, `200` and a JSON summary once downstream has taken them |
//! | `GET /health` | `200`, `{"status":"ok","tenants":N}` |
//!
//! Options come from the query string (`now`, `ioc_expiration_duration`, `tag` (repeatable),
//! `preserve_original_event`, `identity`, `severity_scale`, `raw_field`) over the
//! configured options (`--config`, the core's JSON options form); `now` defaults to the
//! time of the request. The tenant is the `X-Tenant` header (default `default`); each
//! tenant has its own instance and limits.
//!
//! # Errors
//!
//! A bad *record* is not an error: the component turns it into an error document that
//! keeps the original. A batch either succeeds whole or fails whole with a JSON body
//! `{"error": …, "tenant": …, "record": i, "line": n}` naming what and where — nothing is
//! forwarded or returned in part:
//!
//! | status | when |
//! |---|---|
//! | 400 | invalid options (query or config), a body that is not UTF-8, a bad tenant name |
//! | 404 / 405 | unknown path or data set / wrong method |
//! | 413 | body over `--max-body-bytes` |
//! | 422 | the guest was stopped on a record (deadline, memory cap, trap); the record is named |
//! | 502 | forwarding failed after every attempt (the client, e.g. Vector, retries the batch) |
//! | 503 | too many tenants, or shutting down |

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::bindings::{self, Dataset, Options};
use crate::sandbox::{Error, Sandbox, SandboxConfig, TenantConfig, TenantLimits};

/// Default listen address. The example Vector configuration posts here.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Default bound on a request body: 32 MiB (Vector's `http` sink batches are ~10 MB at
/// most by default).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 << 20;

/// Default number of worker threads (requests served at once).
pub const DEFAULT_THREADS: usize = 4;

/// Default attempts to forward one batch (the first and two retries).
pub const DEFAULT_FORWARD_ATTEMPTS: u32 = 3;

/// Default timeout of one forwarding attempt.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// The header naming the tenant.
pub const TENANT_HEADER: &str = "X-Tenant";

/// The tenant of requests without [`TENANT_HEADER`].
pub const DEFAULT_TENANT: &str = "default";

/// Longest tenant name accepted.
const MAX_TENANT_NAME: usize = 64;

/// How often an idle worker checks for shutdown.
const POLL: Duration = Duration::from_millis(100);

/// Configuration of the sidecar.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Where to POST the documents (NDJSON); `None` returns them in the response.
    pub forward: Option<String>,
    /// Attempts per batch when forwarding (at least one).
    pub forward_attempts: u32,
    /// Timeout of one forwarding attempt.
    pub forward_timeout: Duration,
    /// Base options, the core's JSON options form (`now` may be left out); the query
    /// string overrides them key by key.
    pub options: Map<String, Value>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Worker threads.
    pub threads: usize,
    /// The sandbox: default tenant limits, epoch tick, most tenants.
    pub sandbox: SandboxConfig,
    /// Limits of named tenants (others get `sandbox.default_limits`).
    pub tenants: BTreeMap<String, TenantLimits>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: DEFAULT_LISTEN.to_string(),
            forward: None,
            forward_attempts: DEFAULT_FORWARD_ATTEMPTS,
            forward_timeout: DEFAULT_FORWARD_TIMEOUT,
            options: Map::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            threads: DEFAULT_THREADS,
            sandbox: SandboxConfig::default(),
            tenants: BTreeMap::new(),
        }
    }
}

/// The options file (`--config`): the core's JSON options form, `now` optional. The
/// form is checked now (with a placeholder `now`); values on the first request.
pub fn options_file(text: &str) -> Result<Map<String, Value>, String> {
    let map = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        Ok(other) => return Err(format!("the options must be a JSON object, not `{other}`")),
        Err(e) => return Err(format!("invalid options: {e}")),
    };
    let mut probe = map.clone();
    probe
        .entry("now")
        .or_insert_with(|| Value::String("1970-01-01T00:00:00Z".to_string()));
    bindings::options_from_value(Value::Object(probe))?;
    Ok(map)
}

/// One tenant's entry in the tenants file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantSpec {
    /// Cap on linear memory, MiB.
    #[serde(default)]
    memory_mib: Option<usize>,
    /// Deadline of one call, ms.
    #[serde(default)]
    deadline_ms: Option<u64>,
}

/// The tenants file (`--tenants`): `{"<tenant>": {"memory_mib": 64, "deadline_ms": 500}}`;
/// a key left out keeps `defaults`.
pub fn tenants_file(
    text: &str,
    defaults: TenantLimits,
) -> Result<BTreeMap<String, TenantLimits>, String> {
    let specs: BTreeMap<String, TenantSpec> =
        serde_json::from_str(text).map_err(|e| format!("invalid tenants file: {e}"))?;
    specs
        .into_iter()
        .map(|(name, s)| {
            check_tenant(&name)?;
            Ok((
                name,
                TenantLimits {
                    memory_bytes: s
                        .memory_mib
                        .map_or(defaults.memory_bytes, |m| m.saturating_mul(1 << 20)),
                    deadline: s
                        .deadline_ms
                        .map_or(defaults.deadline, Duration::from_millis),
                },
            ))
        })
        .collect()
}

/// Shared by the workers.
struct State {
    sandbox: Sandbox,
    config: ServeConfig,
    agent: Option<ureq::Agent>,
    running: Arc<AtomicBool>,
}

/// A bound sidecar; [`Server::run`] serves until [`Shutdown::shutdown`].
pub struct Server {
    http: Arc<tiny_http::Server>,
    state: Arc<State>,
    addr: SocketAddr,
}

/// Stops a running [`Server`]: requests in flight are finished and answered, then
/// [`Server::run`] returns. Cheap to clone; safe from a signal-handling thread.
#[derive(Clone)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// Asks the server to stop.
    pub fn shutdown(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Server {
    /// Binds the sidecar over the embedded ti-ecs component.
    pub fn bind(config: ServeConfig) -> Result<Server, String> {
        let sandbox = Sandbox::new(config.sandbox.clone()).map_err(|e| e.to_string())?;
        Server::bind_with(config, sandbox)
    }

    /// Binds the sidecar over a given sandbox (e.g. another component of the world).
    pub fn bind_with(config: ServeConfig, sandbox: Sandbox) -> Result<Server, String> {
        for (name, limits) in &config.tenants {
            sandbox
                .configure_tenant(
                    name,
                    TenantConfig {
                        limits: *limits,
                        options: None,
                    },
                )
                .map_err(|e| e.to_string())?;
        }
        let http = tiny_http::Server::http(&config.listen)
            .map_err(|e| format!("cannot listen on `{}`: {e}", config.listen))?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("cannot listen on `{}`: not an IP address", config.listen))?;
        let agent = config.forward.as_ref().map(|_| {
            ureq::Agent::new_with_config(
                ureq::Agent::config_builder()
                    .timeout_global(Some(config.forward_timeout))
                    .http_status_as_error(false)
                    .build(),
            )
        });
        Ok(Server {
            http: Arc::new(http),
            state: Arc::new(State {
                sandbox,
                config,
                agent,
                running: Arc::new(AtomicBool::new(true)),
            }),
            addr,
        })
    }

    /// The address actually bound (the port of `127.0.0.1:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops [`Server::run`].
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown(Arc::clone(&self.state.running))
    }

    /// Serves until shut down; returns once every request taken has been answered.
    pub fn run(self) {
        let workers: Vec<_> = (0..self.state.config.threads.max(1))
            .map(|_| {
                let http = Arc::clone(&self.http);
                let state = Arc::clone(&self.state);
                std::thread::spawn(move || worker(&http, &state))
            })
            .collect();
        for w in workers {
            // A worker never panics by design; a panic would already have been reported.
            let _ = w.join();
        }
    }
}

/// Takes requests until shutdown, then answers what is already queued.
fn worker(http: &tiny_http::Server, state: &State) {
    while state.running.load(Ordering::SeqCst) {
        match http.recv_timeout(POLL) {
            Ok(Some(req)) => serve(state, req),
            Ok(None) => {}
            Err(_) => break,
        }
    }
    while let Ok(Some(req)) = http.try_recv() {
        serve(state, req);
    }
}

/// An answer: status, content type, body.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Reply {
        let mut body = v.to_string().into_bytes();
        body.push(b'\n');
        Reply {
            status,
            content_type: "application/json",
            body,
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({ "error": message.into() }))
    }
}

fn serve(state: &State, mut req: tiny_http::Request) {
    let reply = handle(state, &mut req);
    if reply.status >= 400 {
        eprintln!(
            "ti-ecs serve: {} {} -> {}: {}",
            req.method(),
            req.url(),
            reply.status,
            String::from_utf8_lossy(&reply.body).trim_end()
        );
    }
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", reply.content_type) {
        response.add_header(h);
    }
    if reply.status == 413 {
        // The rest of the body was not read: the connection cannot carry another request.
        if let Ok(h) = tiny_http::Header::from_bytes("Connection", "close") {
            response.add_header(h);
        }
    }
    // The client may have gone; nothing more to do for it.
    let _ = req.respond(response);
}

fn handle(state: &State, req: &mut tiny_http::Request) -> Reply {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = req.method().clone();
    if path == "/health" {
        return match method {
            tiny_http::Method::Get | tiny_http::Method::Head => Reply::json(
                200,
                &json!({ "status": "ok", "tenants": state.sandbox.tenant_count() }),
            ),
            _ => Reply::error(405, format!("`{path}` takes GET, not {method}")),
        };
    }
    let Some(id) = path.strip_prefix("/v1/") else {
        return Reply::error(
            404,
            format!("no endpoint `{path}`: POST /v1/<dataset-id> or GET /health"),
        );
    };
    let Some(dataset) = bindings::dataset(id) else {
        let known: Vec<&str> = bindings::DATASETS.iter().map(|(id, _, _)| *id).collect();
        return Reply::error(
            404,
            format!(
                "unknown data set `{id}`: expected one of {}",
                known.join(", ")
            ),
        );
    };
    if method != tiny_http::Method::Post {
        return Reply::error(405, format!("`{path}` takes POST, not {method}"));
    }
    let tenant = req
        .headers()
        .iter()
        .find(|h| h.field.equiv(TENANT_HEADER))
        .map_or(DEFAULT_TENANT.to_string(), |h| h.value.as_str().to_string());
    if let Err(e) = check_tenant(&tenant) {
        return Reply::error(400, e);
    }
    let options = match request_options(&state.config.options, query) {
        Ok(o) => o,
        Err(e) => return Reply::error(400, e),
    };
    let body = match read_body(req, state.config.max_body_bytes) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let body = match String::from_utf8(body) {
        Ok(b) => b,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e
                .as_bytes()
                .get(..at)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
                + 1;
            return Reply::error(
                400,
                format!("the body is not UTF-8: invalid byte at offset {at} (line {line})"),
            );
        }
    };
    let records = split_records(&body);
    let mut out = Vec::with_capacity(body.len() * 2);
    let mut documents = 0usize;
    for (i, (line, record)) in records.iter().enumerate() {
        match state
            .sandbox
            .transform_with(&tenant, dataset, record, &options)
        {
            Ok(docs) => {
                for d in docs {
                    documents += 1;
                    out.extend_from_slice(d.as_bytes());
                    out.push(b'\n');
                }
            }
            Err(e) => return batch_error(&tenant, dataset, i, *line, records.len(), &e),
        }
    }
    match (&state.config.forward, &state.agent) {
        (Some(url), Some(agent)) => {
            if documents > 0
                && let Err(e) = forward(agent, url, &out, state.config.forward_attempts)
            {
                return Reply::json(
                    502,
                    &json!({
                        "error": e,
                        "tenant": tenant,
                        "dataset": bindings::dataset_id(dataset),
                        "records": records.len(),
                        "documents": documents,
                    }),
                );
            }
            Reply::json(
                200,
                &json!({
                    "records": records.len(),
                    "documents": documents,
                    "forwarded": documents > 0,
                }),
            )
        }
        _ => Reply {
            status: 200,
            content_type: "application/x-ndjson",
            body: out,
        },
    }
}

/// The failed batch's answer: which record, why, and that nothing of it went out.
fn batch_error(
    tenant: &str,
    dataset: Dataset,
    index: usize,
    line: usize,
    records: usize,
    e: &Error,
) -> Reply {
    let status = match e {
        Error::InvalidOptions { .. } | Error::NoOptions { .. } => 400,
        Error::TooManyTenants { .. } => 503,
        Error::Component { .. } => 500,
        Error::Deadline { .. } | Error::MemoryLimit { .. } | Error::Trap { .. } => 422,
    };
    let mut body = json!({
        "error": e.to_string(),
        "tenant": tenant,
        "dataset": bindings::dataset_id(dataset),
        "records": records,
    });
    if e.is_guest_failure()
        && let Some(m) = body.as_object_mut()
    {
        m.insert("record".to_string(), json!(index));
        m.insert("line".to_string(), json!(line));
        m.insert(
            "error".to_string(),
            json!(format!(
                "record {index} (line {line}): {e}; the batch was not transformed, nothing was forwarded"
            )),
        );
    }
    Reply::json(status, &body)
}

/// Reads at most `max` bytes of body; more is a 413.
fn read_body(req: &mut tiny_http::Request, max: usize) -> Result<Vec<u8>, Reply> {
    let too_big = || {
        Reply::error(
            413,
            format!(
                "the request body is larger than the limit of {max} bytes (--max-body-bytes); send smaller batches"
            ),
        )
    };
    if req.body_length().is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(req.body_length().unwrap_or(0).min(max));
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    req.as_reader()
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|e| Reply::error(400, format!("cannot read the request body: {e}")))?;
    if body.len() > max {
        return Err(too_big());
    }
    Ok(body)
}

/// One record when the whole body is a single JSON document; otherwise one per non-blank
/// line (NDJSON), malformed lines included (each becomes an error document). With the
/// 1-based line of each record.
pub fn split_records(body: &str) -> Vec<(usize, &str)> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
        let line = body.len() - body.trim_ascii_start().len();
        let line = body.get(..line).map_or(0, |s| s.matches('\n').count()) + 1;
        return vec![(line, trimmed)];
    }
    body.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .collect()
}

/// The options of one request: the configured ones, overridden by the query string,
/// `now` defaulting to the current time.
fn request_options(base: &Map<String, Value>, query: &str) -> Result<Options, String> {
    let mut o = base.clone();
    let mut tags: Option<Vec<Value>> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k).ok_or_else(|| format!("cannot decode query parameter `{pair}`"))?;
        let v = decode(v).ok_or_else(|| format!("cannot decode query parameter `{pair}`"))?;
        match k.as_str() {
            "now" | "ioc_expiration_duration" | "raw_field" | "severity_scale" => {
                o.insert(k, Value::String(v));
            }
            "tag" => tags.get_or_insert_with(Vec::new).push(Value::String(v)),
            "preserve_original_event" | "identity" => {
                let b = match v.as_str() {
                    "" | "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(format!(
                            "invalid query parameter `{k}`: `{v}` (expected true or false)"
                        ));
                    }
                };
                o.insert(k, Value::Bool(b));
            }
            _ => {
                return Err(format!(
                    "unknown query parameter `{k}`: expected now, ioc_expiration_duration, tag, preserve_original_event, identity, severity_scale or raw_field"
                ));
            }
        }
    }
    if let Some(t) = tags {
        o.insert("tags".to_string(), Value::Array(t));
    }
    if !o.contains_key("now") {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        o.insert("now".to_string(), Value::String(now));
    }
    bindings::options_from_value(Value::Object(o))
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// Tenant names: 1 to 64 of `A-Z a-z 0-9 . _ -`.
fn check_tenant(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid tenant `{name}`: 1 to {MAX_TENANT_NAME} of A-Z, a-z, 0-9, `.`, `_`, `-`"
        ))
    }
}

/// POSTs the NDJSON downstream, retrying with backoff (250 ms, 500 ms, 1 s, …) on a
/// transport error or a status other than 2xx.
fn forward(agent: &ureq::Agent, url: &str, body: &[u8], attempts: u32) -> Result<(), String> {
    let attempts = attempts.max(1);
    let mut last = String::new();
    for attempt in 0..attempts {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250u64 << (attempt - 1).min(6)));
        }
        match agent
            .post(url)
            .header("Content-Type", "application/x-ndjson")
            .send(body)
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("status {}", r.status().as_u16()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "forwarding to `{url}` failed after {attempts} attempts: {last}; the batch was not delivered"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_whole_document_or_lines() {
        assert_eq!(
            split_records("\n{\n \"a\": 1\n}\n"),
            [(2, "{\n \"a\": 1\n}")]
        );
        assert_eq!(
            split_records("{\"a\":1}\n\n{\"b\":2}\r\n"),
            [(1, "{\"a\":1}"), (3, "{\"b\":2}")]
        );
        assert_eq!(
            split_records("{\"a\":1}\n{oops\n"),
            [(1, "{\"a\":1}"), (2, "{oops")]
        );
        assert!(split_records("  \n").is_empty());
    }

    #[test]
    fn query_overrides_config() {
        let base = options_file(r#"{"ioc_expiration_duration":"5d","tags":["a"]}"#).unwrap();
        let o = request_options(
            &base,
            "now=2026-01-01T00%3A00%3A00Z&tag=x&tag=y+z&identity&preserve_original_event=false",
        )
        .unwrap();
        assert_eq!(o.now, "2026-01-01T00:00:00Z");
        assert_eq!(o.ioc_expiration_duration.as_deref(), Some("5d"));
        assert_eq!(o.tags, ["x", "y z"]);
        assert!(o.identity && !o.preserve_original_event);
        let o = request_options(&base, "").unwrap();
        assert_eq!(o.tags, ["a"]);
        assert!(o.now.ends_with('Z'), "{}", o.now);
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = request_options(&Map::new(), "colour=red").unwrap_err();
        assert!(e.starts_with("unknown query parameter `colour`"), "{e}");
        let e = request_options(&Map::new(), "identity=maybe").unwrap_err();
        assert_eq!(
            e,
            "invalid query parameter `identity`: `maybe` (expected true or false)"
        );
        assert!(request_options(&Map::new(), "now=%zz").is_err());
        let e = options_file("[1]").unwrap_err();
        assert_eq!(e, "the options must be a JSON object, not `[1]`");
        assert!(
            options_file(r#"{"colour":1}"#)
                .unwrap_err()
                .contains("colour")
        );
    }

    #[test]
    fn tenant_names() {
        assert!(check_tenant("acme-1.prod_x").is_ok());
        assert!(check_tenant("").is_err());
        assert!(check_tenant("a b").is_err());
        assert!(check_tenant(&"a".repeat(65)).is_err());
    }

    #[test]
    fn tenants_file_keeps_defaults() {
        let d = TenantLimits::default();
        let t = tenants_file(r#"{"acme":{"memory_mib":64},"b":{"deadline_ms":500}}"#, d).unwrap();
        assert_eq!(t["acme"].memory_bytes, 64 << 20);
        assert_eq!(t["acme"].deadline, d.deadline);
        assert_eq!(t["b"].deadline, Duration::from_millis(500));
        assert!(tenants_file(r#"{"a":{"memory":1}}"#, d).is_err());
        assert!(tenants_file(r#"{"a b":{}}"#, d).is_err());
    }
}
