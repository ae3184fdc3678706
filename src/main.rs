//! `ti-ecs`: the command line over the library.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ti_ecs::{Dataset, Options, SeverityScale};

/// Threat-intelligence records (Anomali ThreatStream, MISP) to ECS documents with IOC
/// expiration fields.
#[derive(Parser)]
#[command(name = "ti-ecs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transform records into ECS documents: NDJSON (or one whole JSON document) in, NDJSON out.
    ///
    /// Each input line is one record; when the whole input is a single JSON document (for
    /// example a pretty-printed MISP response) it is one record. A record that cannot be read
    /// or mapped becomes an error document (`event.kind: pipeline_error`) that keeps it in
    /// `event.original`; nothing is dropped silently.
    Transform(TransformArgs),
    /// List the data sets and the input each accepts.
    Datasets,
    /// Run the HTTP sidecar: `POST /v1/<dataset-id>` with NDJSON records (Vector's `http`
    /// sink), documents back as NDJSON or forwarded downstream; `GET /health`.
    ///
    /// The component runs in a sandbox per tenant (`X-Tenant` header): a memory cap and a
    /// deadline per call. Options come from `--config` and the query string (`now`,
    /// `ioc_expiration_duration`, `tag`, `preserve_original_event`, `identity`,
    /// `severity_scale`, `raw_field`). SIGINT/SIGTERM finish the requests in flight, then exit.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

#[cfg(feature = "serve")]
#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = ti_ecs_host::serve::DEFAULT_LISTEN)]
    listen: String,
    /// POST the documents (NDJSON) to this URL, e.g. Vector's `http_server` source,
    /// instead of returning them; a batch downstream refuses is answered 502.
    #[arg(long, value_name = "URL")]
    forward: Option<String>,
    /// Attempts per batch when forwarding.
    #[arg(long, default_value_t = ti_ecs_host::serve::DEFAULT_FORWARD_ATTEMPTS)]
    forward_attempts: u32,
    /// Options file, the core's JSON options form (`now` may be left out: the request's
    /// time); the query string overrides it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Per-tenant limits: `{"<tenant>": {"memory_mib": 64, "deadline_ms": 500}}`.
    #[arg(long, value_name = "FILE")]
    tenants: Option<PathBuf>,
    /// Largest request body, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = ti_ecs_host::serve::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Memory cap of a tenant's instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = ti_ecs_host::DEFAULT_MEMORY_BYTES >> 20)]
    memory_mib: usize,
    /// Deadline of one record's transform, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = ti_ecs_host::DEFAULT_DEADLINE.as_millis() as u64)]
    deadline_ms: u64,
    /// Most tenants kept at once.
    #[arg(long, default_value_t = ti_ecs_host::DEFAULT_MAX_TENANTS)]
    max_tenants: usize,
    /// Worker threads (requests served at once).
    #[arg(long, default_value_t = ti_ecs_host::serve::DEFAULT_THREADS)]
    threads: usize,
}

#[derive(clap::Args)]
struct TransformArgs {
    /// Data set of the input: ti_anomali.threatstream, ti_anomali.intelligence,
    /// ti_misp.threat or ti_misp.threat_attributes.
    #[arg(long, short = 'd', value_parser = parse_dataset)]
    dataset: Dataset,
    /// Time of ingest (RFC 3339): `event.ingested` and the "now" of every expiration rule.
    /// Default: the current time. Give it for reproducible output.
    #[arg(long, value_parser = parse_now)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Lifetime of an IOC without a vendor expiry: <integer><unit>, unit d, h, m, s or w.
    /// A record's own `_conf.ioc_expiration_duration` overrides it.
    #[arg(long, default_value = ti_ecs::options::DEFAULT_IOC_EXPIRATION_DURATION, value_parser = parse_duration)]
    ioc_expiration_duration: String,
    /// Keep each raw record in `event.original` and tag it `preserve_original_event`.
    #[arg(long)]
    preserve_original: bool,
    /// Add a tag to every document (repeatable); it comes before the record's own tags.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Numeric scale of ThreatStream's `event.severity`: `fixture` (3/5/7/9, as Elastic's
    /// pipeline tests) or `detection` (21/47/73/99, as Elastic's released pipelines).
    #[arg(long, default_value = "fixture", value_parser = parse_scale)]
    severity_scale: SeverityScale,
    /// Add `labels.ioc_key` (same indicator, same key across polls) and
    /// `labels.ioc_fingerprint` (same content, same value) to every document.
    #[arg(long)]
    identity: bool,
    /// Envelope field holding the raw record text (dotted path), tried before `message`.
    #[arg(long, value_name = "FIELD")]
    raw_field: Option<String>,
    /// Largest record accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = ti_ecs::Limits::default().max_input_bytes)]
    max_input_bytes: usize,
    /// Deepest JSON nesting accepted.
    #[arg(long, value_name = "LEVELS", default_value_t = ti_ecs::Limits::default().max_depth)]
    max_depth: usize,
    /// Most documents one record may produce.
    #[arg(long, value_name = "N", default_value_t = ti_ecs::Limits::default().max_documents)]
    max_documents: usize,
    /// Longest string accepted in a record, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = ti_ecs::Limits::default().max_string_bytes)]
    max_string_bytes: usize,
    /// Input files, read in order; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    inputs: Vec<PathBuf>,
}

fn parse_dataset(s: &str) -> Result<Dataset, String> {
    s.parse()
}

fn parse_now(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    ti_ecs::options::parse_now(s)
}

fn parse_duration(s: &str) -> Result<String, String> {
    ti_ecs::expiration::parse_duration(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

fn parse_scale(s: &str) -> Result<SeverityScale, String> {
    match s {
        "fixture" => Ok(SeverityScale::Fixture),
        "detection" => Ok(SeverityScale::Detection),
        _ => Err(format!(
            "unknown severity scale `{s}`: expected fixture or detection"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transform(args) => transform(args),
        Command::Datasets => {
            for d in ti_ecs::DATASETS {
                println!("{:28} {}", d.id, d.wit_name);
            }
            Ok(())
        }
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("ti-ecs: {msg}");
            ExitCode::from(2)
        }
    }
}

fn transform(args: TransformArgs) -> Result<(), String> {
    let mut opts = Options::new(args.now.unwrap_or_else(chrono::Utc::now));
    opts.ioc_expiration_duration = args.ioc_expiration_duration;
    opts.preserve_original_event = args.preserve_original;
    opts.tags = args.tags;
    opts.severity_scale = args.severity_scale;
    opts.identity = args.identity;
    opts.raw_field = args.raw_field;
    opts.limits.max_input_bytes = args.max_input_bytes;
    opts.limits.max_depth = args.max_depth;
    opts.limits.max_documents = args.max_documents;
    opts.limits.max_string_bytes = args.max_string_bytes;

    let inputs = if args.inputs.is_empty() {
        vec![read_stdin()?]
    } else {
        args.inputs
            .iter()
            .map(|p| read_input(p))
            .collect::<Result<Vec<_>, _>>()?
    };
    let records: Vec<&[u8]> = inputs.iter().flat_map(|i| split_records(i)).collect();
    let total_bytes = inputs.iter().map(Vec::len).sum();
    let progress = progress_bar(total_bytes, records.len());
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut docs, mut errors) = (0u64, 0u64);
    // one document's JSON at a time, the buffer reused
    let mut line = Vec::with_capacity(4096);
    for (i, rec) in records.iter().enumerate() {
        // Each document is written as soon as it is made: a whole MISP response is never
        // held as a tree or as a list of documents (`ti_ecs::transform_finished`).
        let mut written = Ok(());
        ti_ecs::transform_finished(args.dataset, rec, &opts, &mut |d| {
            docs += 1;
            errors += u64::from(d.is_error());
            if written.is_ok() {
                line.clear();
                d.write_json(&mut line);
                line.push(b'\n');
                written = out.write_all(&line);
            }
        });
        written.map_err(|e| format!("cannot write output: {e}"))?;
        if let Some(p) = &progress {
            p.set_position(i as u64 + 1);
        }
    }
    out.flush()
        .map_err(|e| format!("cannot write output: {e}"))?;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "ti-ecs: {} records, {docs} documents, {errors} error documents",
            records.len()
        );
    }
    Ok(())
}

#[cfg(feature = "serve")]
fn serve(args: ServeArgs) -> Result<(), String> {
    use ti_ecs_host::serve::{ServeConfig, Server, options_file, tenants_file};
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
    };
    let limits = ti_ecs_host::TenantLimits {
        memory_bytes: args.memory_mib.saturating_mul(1 << 20),
        deadline: std::time::Duration::from_millis(args.deadline_ms),
    };
    let options = match &args.config {
        Some(p) => options_file(&read(p)?).map_err(|e| format!("`{}`: {e}", p.display()))?,
        None => Default::default(),
    };
    let tenants = match &args.tenants {
        Some(p) => {
            tenants_file(&read(p)?, limits).map_err(|e| format!("`{}`: {e}", p.display()))?
        }
        None => Default::default(),
    };
    let config = ServeConfig {
        listen: args.listen,
        forward: args.forward,
        forward_attempts: args.forward_attempts,
        options,
        max_body_bytes: args.max_body_bytes,
        threads: args.threads,
        sandbox: ti_ecs_host::SandboxConfig {
            default_limits: limits,
            max_tenants: args.max_tenants,
            ..Default::default()
        },
        tenants,
        ..ServeConfig::default()
    };
    let server = Server::bind(config)?;
    let stop = server.shutdown_handle();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| format!("cannot handle signals: {e}"))?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            eprintln!("ti-ecs serve: signal {sig}: finishing the requests in flight");
            stop.shutdown();
        }
    });
    eprintln!("ti-ecs serve: listening on http://{}", server.local_addr());
    server.run();
    Ok(())
}

fn read_input(path: &std::path::Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        return read_stdin();
    }
    std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(buf)
}

/// One record when the input is a single JSON document spread over lines (its first line
/// ends before the document does); otherwise one per non-blank line (NDJSON), malformed
/// lines included, so each yields an error document. Only the first line is read here: a
/// large document is parsed once, by the transform.
fn split_records(input: &[u8]) -> Vec<&[u8]> {
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if only_line(input, trimmed) {
        return vec![trimmed];
    }
    split_by_first_line(input, trimmed)
}

/// Whether `trimmed` (the input without the white space around it) is the input's only
/// non-blank line with nothing else on its line: then both ways below give just it, and a
/// one-line file (a whole response often is one) is not parsed here to tell which way.
fn only_line(input: &[u8], trimmed: &[u8]) -> bool {
    if memchr::memchr(b'\n', trimmed).is_some() {
        return false;
    }
    let start = input.len() - input.trim_ascii_start().len();
    let end = input.trim_ascii_end().len();
    let before = input.get(..start).unwrap_or_default();
    let after = input.get(end..).unwrap_or_default();
    // what precedes it ends a line; what follows it starts one, but for the `\r` the
    // line reader strips
    let tail = after.split(|&b| b == b'\n').next().unwrap_or_default();
    before.last().is_none_or(|&b| b == b'\n') && (tail.is_empty() || tail == b"\r")
}

/// [`split_records`] by its first line: one record if the first line ends before the
/// document does, else a record per non-blank line.
fn split_by_first_line<'a>(input: &'a [u8], trimmed: &'a [u8]) -> Vec<&'a [u8]> {
    let first_line = trimmed.split(|&b| b == b'\n').next().unwrap_or(trimmed);
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(first_line)
        && e.is_eof()
    {
        return vec![trimmed];
    }
    // lines found by memchr's word-at-a-time search, not byte by byte
    let mut start = 0;
    memchr::memchr_iter(b'\n', input)
        .chain(std::iter::once(input.len()))
        .filter_map(|end| {
            let line = input.get(start..end).unwrap_or_default();
            start = end + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.trim_ascii().is_empty()).then_some(line)
        })
        .collect()
}

/// A progress bar on standard error, for inputs big enough to wait for, when it is a terminal.
fn progress_bar(bytes: usize, records: usize) -> Option<indicatif::ProgressBar> {
    if bytes < 8 << 20 || records < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(records as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} records [{bar:40}] {per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_line_is_the_record_either_way_gives() {
        // every input of up to five pieces: the short way answers only where both ways
        // agree, and then gives what they give
        let pieces: [&[u8]; 9] = [
            b"{}", b"{\"a\":", b"1}", b"\n", b"\r", b" ", b"\t", b"x", b"\r\n",
        ];
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = inputs
                .iter()
                .flat_map(|i| pieces.iter().map(move |p| [i.as_slice(), p].concat()))
                .collect();
            inputs.extend(longer);
        }
        let mut short = 0;
        for input in &inputs {
            let trimmed = input.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            let by_lines = split_by_first_line(input, trimmed);
            assert_eq!(
                split_records(input),
                by_lines,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            if only_line(input, trimmed) {
                short += 1;
                assert_eq!(
                    by_lines,
                    vec![trimmed],
                    "{:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
        assert!(short > 1000, "{short}");
    }

    #[test]
    fn whole_document_or_lines() {
        assert_eq!(
            split_records(b"{\n \"a\": 1\n}\n"),
            vec![&b"{\n \"a\": 1\n}"[..]]
        );
        assert_eq!(
            split_records(b"{\"a\":1}\n\n{\"b\":2}\r\n"),
            vec![&b"{\"a\":1}"[..], b"{\"b\":2}"]
        );
        assert_eq!(
            split_records(b"{\"a\":1}\n{oops\n"),
            vec![&b"{\"a\":1}"[..], b"{oops"]
        );
        assert!(split_records(b"  \n").is_empty());
        // a document cut short is one (unreadable) record, not one per line
        assert_eq!(split_records(b"{\n \"a\": 1\n"), vec![&b"{\n \"a\": 1"[..]]);
        assert_eq!(
            split_records(b"not json\n{}"),
            vec![&b"not json"[..], b"{}"]
        );
    }
}
