//! Anomali ThreatStream.

pub mod intelligence;
pub mod threatstream;
