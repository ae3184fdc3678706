//! wasmtime host for ti-ecs.
//!
//! The build script (`build.rs`) builds both wasm artifacts from the workspace's crate;
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

/// The component built by `build.rs`.
pub const COMPONENT_PATH: &str = env!("TI_ECS_COMPONENT");

/// The Fluent Bit module built by `build.rs`.
pub const FLUENT_BIT_PATH: &str = env!("TI_ECS_FLUENT_BIT");
