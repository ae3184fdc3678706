//! The property tests' configuration (`tests/properties.rs`, `tests/json.rs`).

use proptest::test_runner::Config;

/// `cases` cases, or `PROPTEST_CASES` when set; failures are not persisted to files.
pub fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
