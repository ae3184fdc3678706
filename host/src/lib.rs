//! Sandboxed, multi-tenant wasmtime host of the ti-ecs component, and the HTTP sidecar
//! (`ti-ecs serve`) built on it.
//!
//! The component (`wit/ti-ecs.wit`, world `ti-ecs`) imports nothing, so the host links
//! nothing: no WASI, no clock, no host functions. A guest can only compute, allocate its
//! own linear memory and return. The host bounds both:
//!
//! - **memory**: each tenant's store has a cap on linear memory (default
//!   [`DEFAULT_MEMORY_BYTES`], 256 MiB); growing past it traps the call and is reported
//!   as [`Error::MemoryLimit`];
//! - **time**: each call has a wall-clock deadline (default [`DEFAULT_DEADLINE`], 10 s),
//!   enforced by wasmtime's epoch interruption (a background thread ticks the engine's
//!   epoch every [`DEFAULT_EPOCH_TICK`], 10 ms; cheaper than fuel metering); a call past
//!   it is stopped and reported as [`Error::Deadline`];
//! - **stack**: wasmtime's default 512 KiB of wasm stack; overflowing it is a
//!   [`Error::Trap`].
//!
//! # Flow
//!
//! One [`Sandbox`] holds the engine, the component compiled once and an `InstancePre`
//! (from a linker with nothing in it). Each tenant gets a store and an instance on its
//! first call; later calls reuse them. After a trap the tenant's instance is dropped and
//! the next call gets a fresh one, so a poisoned instance never serves again and other
//! tenants never notice. Calls of one tenant are serialised (one instance each); calls of
//! different tenants run in parallel.
//!
//! ```no_run
//! use ti_ecs_host::{Sandbox, SandboxConfig, TenantConfig, TenantLimits};
//! use ti_ecs_host::bindings::Dataset;
//! use std::time::Duration;
//!
//! let sandbox = Sandbox::new(SandboxConfig::default())?;
//! sandbox.configure_tenant(
//!     "acme",
//!     TenantConfig {
//!         limits: TenantLimits { memory_bytes: 64 << 20, deadline: Duration::from_secs(1) },
//!         options: Some(r#"{"now":"2026-01-01T00:00:00Z","identity":true}"#.to_string()),
//!     },
//! )?;
//! let docs = sandbox.transform("acme", Dataset::MispThreatAttributes, r#"{"type":"ip-dst"}"#)?;
//! # Ok::<(), ti_ecs_host::Error>(())
//! ```
//!
//! # Modules
//!
//! - [`bindings`]: the WIT types (`bindgen!` over `wit/`), the data-set table and the
//!   converter from the core's JSON options form to the WIT options record;
//! - [`sandbox`]: [`Sandbox`], its configuration and [`Error`];
//! - `serve` (feature `serve`): the HTTP sidecar behind `ti-ecs serve`.
//!
//! The component is built by `build.rs` from the workspace's `ti-ecs` crate and embedded
//! ([`COMPONENT`]); nothing needs installing besides the Rust toolchain.

pub mod bindings;
pub mod sandbox;
#[cfg(feature = "serve")]
pub mod serve;

pub use sandbox::{
    DEFAULT_DEADLINE, DEFAULT_EPOCH_TICK, DEFAULT_MAX_TENANTS, DEFAULT_MEMORY_BYTES, Error,
    Sandbox, SandboxConfig, TenantConfig, TenantLimits,
};

/// The ti-ecs component (`wasm32-unknown-unknown` core module wrapped by `wit-component`),
/// built by `build.rs` from the workspace's `ti-ecs` crate.
pub const COMPONENT: &[u8] = include_bytes!(env!("TI_ECS_COMPONENT"));

/// Where `build.rs` wrote [`COMPONENT`].
pub const COMPONENT_PATH: &str = env!("TI_ECS_COMPONENT");

/// The Fluent Bit filter module (`wasm32-wasip1`); empty unless the `test-artifacts`
/// feature is on.
pub const FLUENT_BIT_PATH: &str = env!("TI_ECS_FLUENT_BIT");

/// A deliberately misbehaving component of the same world (`misbehave-guest/`: loops,
/// hoards memory or traps on request); empty unless the `test-artifacts` feature is on.
pub const MISBEHAVE_PATH: &str = env!("TI_ECS_MISBEHAVE");

/// The WIT package the component implements.
pub const WIT_DIR: &str = env!("TI_ECS_WIT");
