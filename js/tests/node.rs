//! Builds the JS module into `js/pkg/` and runs the Node tests (`js/test/*.test.mjs`) on it,
//! so `cargo test --workspace` from a fresh clone covers the JS target. Needs `node` on PATH
//! (Node.js 18 or newer); without it this test fails and says so.

use std::path::PathBuf;
use std::process::Command;

use ti_ecs_js_tests::{build, default_pkg_dir, js_dir, workspace_root};

#[test]
fn node_tests_pass_on_the_built_module() {
    let version = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => panic!(
            "`node --version` failed ({}): install Node.js 18 or newer",
            out.status
        ),
        Err(e) => panic!(
            "`node` is not on PATH ({e}): install Node.js 18 or newer to run the JS module's tests (js/test/)"
        ),
    };

    let built = build(&default_pkg_dir()).unwrap_or_else(|e| panic!("building the JS module: {e}"));
    eprintln!(
        "built {} from {} (guest {:.1?}, wasm-bindgen {:.1?}); running the Node tests with node {version}",
        built.pkg.display(),
        built.wasm.display(),
        built.guest_time,
        built.bindgen_time
    );

    // Files, not the folder: Node 21+ no longer searches a folder given to `--test`.
    let mut files: Vec<PathBuf> = std::fs::read_dir(js_dir().join("test"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no js/test/*.test.mjs files");

    let out = Command::new("node")
        .arg("--test")
        .args(&files)
        .current_dir(js_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("# ") && !l.starts_with("# Subtest"))
        .collect();
    eprintln!("{}", summary.join("\n"));
    assert!(
        out.status.success(),
        "node --test failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The version of `package` in Cargo.lock.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let header = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&header)? + header.len();
    let len = lock[start..].find('"')?;
    Some(lock[start..start + len].to_string())
}

#[test]
fn wasm_bindgen_and_its_post_processor_have_the_same_version() {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    let guest = locked_version(&lock, "wasm-bindgen").expect("wasm-bindgen in Cargo.lock");
    let tool = locked_version(&lock, "wasm-bindgen-cli-support")
        .expect("wasm-bindgen-cli-support in Cargo.lock");
    assert_eq!(
        guest, tool,
        "wasm-bindgen and wasm-bindgen-cli-support must have the same version: pin both with `=`"
    );
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("wasm-bindgen = {{ version = \"={guest}\"")),
        "the root Cargo.toml must pin wasm-bindgen to `={guest}`"
    );
}
