//! MISP: events (`ti_misp.threat`, `event.rs`) and attributes
//! (`ti_misp.threat_attributes`, `attribute.rs`). Both map each attribute the same way
//! (`common.rs`) by one type table (`types.rs`). `direct.rs`: one attribute read into
//! typed fields and written without trees; `whole.rs`: an event's documents written
//! without trees, what they share written once.

pub mod attribute;
pub mod common;
pub mod direct;
pub mod event;
pub mod types;
pub mod whole;
