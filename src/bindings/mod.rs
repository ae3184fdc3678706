//! Thin adapters over the core, one per target, each behind its feature.
