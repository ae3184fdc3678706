//! One module per vendor; one file per data set.

pub mod anomali;
pub mod misp;
