//! Thin adapters over the core, one per target, each behind its feature.

#[cfg(feature = "component")]
pub mod component;
#[cfg(feature = "fluent-bit")]
pub mod fluent_bit;
#[cfg(feature = "js")]
pub mod js;
