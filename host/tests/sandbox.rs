//! The sandbox stops a misbehaving guest (endless loop, runaway allocation, trap, stack
//! overflow) with a clear error, while other tenants and the tenant's next call keep
//! working. The guest is `misbehave-guest/`, a component of the same world that misbehaves
//! when the record says so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ti_ecs_host::bindings::{self, Dataset};
use ti_ecs_host::{Error, Sandbox, SandboxConfig, TenantConfig, TenantLimits};

const NOW: &str = r#"{"now":"2026-01-01T00:00:00Z"}"#;

fn misbehave(default_limits: TenantLimits) -> Sandbox {
    let bytes = std::fs::read(ti_ecs_host::MISBEHAVE_PATH).unwrap();
    Sandbox::with_component(
        &bytes,
        SandboxConfig {
            default_limits,
            ..SandboxConfig::default()
        },
    )
    .unwrap()
}

fn tight() -> TenantLimits {
    TenantLimits {
        memory_bytes: 16 << 20,
        deadline: Duration::from_millis(300),
    }
}

fn configure(s: &Sandbox, tenant: &str) {
    s.configure_tenant(
        tenant,
        TenantConfig {
            limits: tight(),
            options: Some(NOW.to_string()),
        },
    )
    .unwrap();
}

/// The one document of a call, parsed.
fn one(docs: Result<Vec<String>, Error>) -> serde_json::Value {
    let docs = docs.unwrap();
    assert_eq!(docs.len(), 1, "{docs:?}");
    serde_json::from_str(&docs[0]).unwrap()
}

/// The echo document of a `ti_misp.threat` call with the tenant's options.
fn echo(s: &Sandbox, tenant: &str, text: &str) -> serde_json::Value {
    one(s.transform(tenant, Dataset::MispThreat, text))
}

#[test]
fn endless_loop_stops_at_the_deadline() {
    let s = misbehave(tight());
    configure(&s, "bad");
    configure(&s, "good");
    assert_eq!(echo(&s, "bad", "a")["calls"], 1);
    let start = Instant::now();
    let e = s.transform("bad", Dataset::MispThreat, "loop").unwrap_err();
    let took = start.elapsed();
    assert_eq!(
        e,
        Error::Deadline {
            tenant: "bad".into(),
            deadline: Duration::from_millis(300)
        }
    );
    assert_eq!(
        e.to_string(),
        "tenant `bad`: the call ran past its deadline of 300 ms and was stopped"
    );
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The next call gets a fresh instance (its call counter starts again).
    assert_eq!(echo(&s, "bad", "b")["calls"], 1);
    assert_eq!(echo(&s, "good", "c")["calls"], 1);
    assert_eq!(echo(&s, "good", "d")["calls"], 2);
}

#[test]
fn runaway_allocation_stops_at_the_memory_cap() {
    let s = misbehave(tight());
    configure(&s, "hoarder");
    let e = s
        .transform("hoarder", Dataset::MispThreat, "alloc")
        .unwrap_err();
    match &e {
        Error::MemoryLimit {
            tenant,
            limit,
            requested,
        } => {
            assert_eq!(tenant, "hoarder");
            assert_eq!(*limit, 16 << 20);
            assert!(*requested > *limit);
        }
        other => panic!("expected a memory limit error, got {other:?}"),
    }
    assert!(
        e.to_string()
            .contains("over the tenant's limit of 16777216 bytes"),
        "{e}"
    );
    assert_eq!(echo(&s, "hoarder", "after")["echo"], "after");
}

#[test]
fn trap_and_stack_overflow_are_traps() {
    let s = misbehave(tight());
    configure(&s, "t");
    let e = s.transform("t", Dataset::MispThreat, "trap").unwrap_err();
    assert_eq!(
        e,
        Error::Trap {
            tenant: "t".into(),
            message: "wasm `unreachable` instruction executed".into()
        }
    );
    let e = s
        .transform("t", Dataset::MispThreat, "recurse")
        .unwrap_err();
    // Rust's shadow stack lives in linear memory: overflowing it runs off the bottom of
    // memory before wasm's own call stack is exhausted. Either way, a trap.
    assert!(
        matches!(&e, Error::Trap { message, .. }
            if message.contains("out of bounds memory access") || message.contains("call stack exhausted")),
        "{e:?}"
    );
    assert!(e.is_guest_failure());
    assert_eq!(echo(&s, "t", "fine")["echo"], "fine");
}

#[test]
fn a_looping_tenant_does_not_block_the_others() {
    let s = Arc::new(misbehave(TenantLimits {
        memory_bytes: 16 << 20,
        deadline: Duration::from_secs(2),
    }));
    let opts = bindings::options_from_json(NOW).unwrap();
    let looping = {
        let (s, opts) = (Arc::clone(&s), opts.clone());
        std::thread::spawn(move || s.transform_with("spinner", Dataset::MispThreat, "loop", &opts))
    };
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    for i in 0..20 {
        let docs = s
            .transform_with("busy", Dataset::MispThreat, &format!("r{i}"), &opts)
            .unwrap();
        assert_eq!(docs.len(), 1);
    }
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(
        looping.join().unwrap(),
        Err(Error::Deadline { .. })
    ));
}

#[test]
fn batch_and_tenant_errors() {
    let s = misbehave(tight());
    configure(&s, "b");
    let out = s
        .transform_batch(
            "b",
            Dataset::MispThreat,
            &["x".to_string(), "y".to_string()],
        )
        .unwrap();
    assert_eq!(out.len(), 2);
    let e = s
        .transform_batch(
            "b",
            Dataset::MispThreat,
            &["x".to_string(), "trap".to_string()],
        )
        .unwrap_err();
    assert!(matches!(e, Error::Trap { .. }), "{e:?}");
    // A tenant without options of its own must give them per call.
    assert_eq!(
        s.transform("unconfigured", Dataset::MispThreat, "x")
            .unwrap_err(),
        Error::NoOptions {
            tenant: "unconfigured".into()
        }
    );
    let e = s
        .configure_tenant(
            "c",
            TenantConfig {
                limits: tight(),
                options: Some(r#"{"now":"x","colour":1}"#.into()),
            },
        )
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidOptions { tenant, message } if tenant == "c" && message.contains("colour")),
        "{e:?}"
    );
}

/// A tenant's calls with the same options share one session per data set; a call with
/// other options replaces that data set's session; a new instance (after a trap, or new
/// tenant options) starts without sessions.
#[test]
fn sessions_are_kept_per_data_set_while_the_options_stay() {
    let s = misbehave(tight());
    configure(&s, "t");
    let first = echo(&s, "t", "a");
    assert_eq!(
        (&first["session"], &first["now"]),
        (&1.into(), &"2026-01-01T00:00:00Z".into())
    );
    assert_eq!(echo(&s, "t", "b")["session"], 1);
    assert_eq!(
        one(s.transform("t", Dataset::AnomaliThreatstream, "c"))["session"],
        2
    );
    assert_eq!(echo(&s, "t", "d")["session"], 1);
    let later = bindings::options_from_json(r#"{"now":"2026-02-02T00:00:00Z"}"#).unwrap();
    let doc = one(s.transform_with("t", Dataset::MispThreat, "e", &later));
    assert_eq!(
        (&doc["session"], &doc["now"]),
        (&3.into(), &"2026-02-02T00:00:00Z".into())
    );
    let batch = s
        .transform_batch_with("t", Dataset::MispThreat, &["f".into(), "g".into()], &later)
        .unwrap();
    for docs in &batch {
        let doc: serde_json::Value = serde_json::from_str(&docs[0]).unwrap();
        assert_eq!(doc["session"], 3, "{batch:?}");
    }
    // One session is kept per data set: the tenant's options need a new one again.
    assert_eq!(echo(&s, "t", "h")["session"], 4);
    assert_eq!(
        one(s.transform("t", Dataset::AnomaliThreatstream, "i"))["session"],
        2
    );
    // A trap drops the instance and its sessions.
    s.transform("t", Dataset::MispThreat, "trap").unwrap_err();
    let doc = echo(&s, "t", "j");
    assert_eq!((&doc["session"], &doc["calls"]), (&1.into(), &1.into()));
    // So does configuring the tenant anew.
    assert_eq!(echo(&s, "t", "k")["session"], 1);
    configure(&s, "t");
    let doc = echo(&s, "t", "l");
    assert_eq!((&doc["session"], &doc["calls"]), (&1.into(), &1.into()));
}

#[test]
fn tenants_are_bounded() {
    let bytes = std::fs::read(ti_ecs_host::MISBEHAVE_PATH).unwrap();
    let s = Sandbox::with_component(
        &bytes,
        SandboxConfig {
            max_tenants: 2,
            ..SandboxConfig::default()
        },
    )
    .unwrap();
    let opts = bindings::options_from_json(NOW).unwrap();
    for t in ["a", "b"] {
        s.transform_with(t, Dataset::MispThreat, "x", &opts)
            .unwrap();
    }
    assert_eq!(
        s.transform_with("c", Dataset::MispThreat, "x", &opts)
            .unwrap_err(),
        Error::TooManyTenants {
            tenant: "c".into(),
            max: 2
        }
    );
    s.remove_tenant("a");
    s.transform_with("c", Dataset::MispThreat, "x", &opts)
        .unwrap();
}

/// The real component under the same limits: a record too big for a tenant's memory cap
/// is stopped; the same record passes for a tenant with room, and the component's own
/// invalid-options answer is typed.
#[test]
fn real_component_per_tenant_limits() {
    let s = Sandbox::new(SandboxConfig::default()).unwrap();
    assert!(s.imports().is_empty(), "{:?}", s.imports());
    let opts = bindings::options_from_json(NOW).unwrap();
    let attr = r#"{"type":"ip-dst","value":"10.0.0.1","category":"Network activity","timestamp":"1700000000","Event":{"info":"x"}}"#;
    let page = format!(
        r#"{{"response":{{"Attribute":[{}]}}}}"#,
        vec![attr; 20_000].join(",")
    );
    s.configure_tenant(
        "small",
        TenantConfig {
            limits: TenantLimits {
                memory_bytes: 8 << 20,
                deadline: Duration::from_secs(10),
            },
            options: None,
        },
    )
    .unwrap();
    let e = s
        .transform_with("small", Dataset::MispThreatAttributes, &page, &opts)
        .unwrap_err();
    assert!(matches!(e, Error::MemoryLimit { .. }), "{e:?}");
    let docs = s
        .transform_with("roomy", Dataset::MispThreatAttributes, &page, &opts)
        .unwrap();
    assert_eq!(docs.len(), 20_000);
    // The small tenant still works on small records.
    let docs = s
        .transform_with("small", Dataset::MispThreatAttributes, attr, &opts)
        .unwrap();
    assert_eq!(docs.len(), 1);
    let bad = bindings::options_from_json(
        r#"{"now":"2026-01-01T00:00:00Z","ioc_expiration_duration":"9q"}"#,
    )
    .unwrap();
    let e = s
        .transform_with("roomy", Dataset::MispThreatAttributes, attr, &bad)
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidOptions { message, .. } if message.contains("9q")),
        "{e:?}"
    );
}
