//! wasmtime host for ti-ecs.
//!
//! ti-ecs-host's build script builds both wasm artifacts from the workspace's crate;
//! this library loads them:
//!
//! - [`component`]: the `ti:ecs` component (imports nothing), called through bindings
//!   generated from `wit/`;
//! - [`fluent_bit`]: the Fluent Bit filter module, called exactly as Fluent Bit's `wasm`
//!   filter calls it (`shared/hosts/FLUENT_BIT.md`).
//!
//! The golden test (`tests/golden.rs`) runs the corpus through both and the native core.

pub mod component;
pub mod fluent_bit;

/// The component built by ti-ecs-host's `build.rs`.
pub const COMPONENT_PATH: &str = ti_ecs_host::COMPONENT_PATH;

/// The Fluent Bit module built by ti-ecs-host's `build.rs`.
pub const FLUENT_BIT_PATH: &str = ti_ecs_host::FLUENT_BIT_PATH;
