//! ECS helpers shared by the sources.

pub mod hash;
pub mod ip;
pub mod url;
