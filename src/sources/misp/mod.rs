//! MISP: events (`ti_misp.threat`, `event.rs`) and attributes
//! (`ti_misp.threat_attributes`, `attribute.rs`). Both map each attribute the same way
//! (`common.rs`) by one type table (`types.rs`).

pub mod attribute;
pub mod common;
pub mod event;
pub mod types;
