//! ECS helpers shared by the sources.

pub mod url;
