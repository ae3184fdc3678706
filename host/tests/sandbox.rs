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

fn echo(s: &Sandbox, tenant: &str, text: &str) -> serde_json::Value {
    let docs = s.transform(tenant, Dataset::MispThreat, text).unwrap();
    assert_eq!(docs.len(), 1, "{docs:?}");
    serde_json::from_str(&docs[0]).unwrap()
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
