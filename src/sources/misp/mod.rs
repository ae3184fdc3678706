//! MISP.

pub mod attribute;
pub mod event;
