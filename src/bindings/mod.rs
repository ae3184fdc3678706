//! Thin adapters over the core, one per target, each behind its feature.

#[cfg(any(feature = "component", feature = "fluent-bit", test))]
pub mod arena;
#[cfg(feature = "component")]
pub mod component;
#[cfg(feature = "fluent-bit")]
pub mod fluent_bit;
#[cfg(feature = "js")]
pub mod js;
