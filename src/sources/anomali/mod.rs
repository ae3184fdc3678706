//! Anomali ThreatStream: the pushed indicator format (`threatstream`) and the REST API v2
//! intelligence objects (`intelligence`), with their shared itype table and helpers.

mod common;
pub mod direct;
pub mod intelligence;
pub mod itype;
pub mod threatstream;
