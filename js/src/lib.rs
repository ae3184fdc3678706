//! Builds the ti-ecs JS module into `js/pkg/` without installing `wasm-bindgen-cli`.
//!
//! 1. [`ensure_target`]: adds `wasm32-unknown-unknown` with rustup when it is missing.
//! 2. [`build_guest`]: a nested `cargo build -p ti-ecs --lib --target wasm32-unknown-unknown
//!    --no-default-features --features js --profile wasm`, in its own target dir
//!    (`<workspace>/target/js-guest`) so it never waits on the outer cargo's lock, and with
//!    the caller's `RUSTFLAGS`/`CARGO_TARGET_DIR` cleared so the result does not depend on them.
//! 3. [`bindgen`]: the `wasm-bindgen-cli-support` library (same version as the guest's
//!    `wasm-bindgen`) writes the Node.js (CommonJS) glue into `pkg/node/` and the bundler
//!    (ES module) glue into `pkg/bundler/`, each with TypeScript declarations.
//!
//! Used by `src/main.rs` (`cargo run -p ti-ecs-js-tests`) and by `tests/node.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The guest's target triple.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile of the guest (release + `panic = "abort"` + LTO, root Cargo.toml).
pub const PROFILE: &str = "wasm";

/// Stem of the generated files: `ti_ecs.js`, `ti_ecs_bg.wasm`, `ti_ecs.d.ts`.
pub const STEM: &str = "ti_ecs";

/// Environment variables of the caller that must not leak into the nested guest build.
const CLEARED_ENV: &[&str] = &[
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "RUSTFLAGS",
];

/// The JS flavours written under `pkg/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// CommonJS for Node.js (`require`, and `import` through Node's CommonJS interop).
    Node,
    /// An ES module that imports the `.wasm` file, for webpack, Vite, Rollup and the like.
    Bundler,
}

impl Flavour {
    /// Every flavour, in build order.
    pub const ALL: [Flavour; 2] = [Flavour::Node, Flavour::Bundler];

    /// The folder under `pkg/`.
    pub fn dir(self) -> &'static str {
        match self {
            Flavour::Node => "node",
            Flavour::Bundler => "bundler",
        }
    }
}

/// What a build did, for the caller to report.
#[derive(Debug)]
pub struct Built {
    /// The guest module that was post-processed.
    pub wasm: PathBuf,
    /// The package folder (`js/pkg`).
    pub pkg: PathBuf,
    /// Time of the nested cargo build.
    pub guest_time: Duration,
    /// Time of wasm-bindgen, all flavours.
    pub bindgen_time: Duration,
}

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    let js = Path::new(env!("CARGO_MANIFEST_DIR"));
    js.parent().map_or_else(|| js.join(".."), Path::to_path_buf)
}

/// The JS package folder, `js/`.
pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The default output folder, `js/pkg`.
pub fn default_pkg_dir() -> PathBuf {
    js_dir().join("pkg")
}

/// Builds the guest and writes every flavour into `pkg`.
pub fn build(pkg: &Path) -> Result<Built, String> {
    ensure_target()?;
    let start = Instant::now();
    let wasm = build_guest(&workspace_root())?;
    let guest_time = start.elapsed();
    let start = Instant::now();
    for flavour in Flavour::ALL {
        bindgen(&wasm, &pkg.join(flavour.dir()), flavour)?;
    }
    Ok(Built {
        wasm,
        pkg: pkg.to_path_buf(),
        guest_time,
        bindgen_time: start.elapsed(),
    })
}

/// Adds the `wasm32-unknown-unknown` target with rustup when the toolchain lacks it
/// (machines with `RUSTUP_AUTO_INSTALL=0` do not add the targets of rust-toolchain.toml).
pub fn ensure_target() -> Result<(), String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| {
            format!(
                "cannot run `{} --print sysroot`: {e}",
                rustc.to_string_lossy()
            )
        })?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let lib = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
    if out.status.success() && lib.is_dir() {
        return Ok(());
    }
    eprintln!(
        "ti-ecs-js: the `{TARGET}` target is missing from `{sysroot}`; running `rustup target add {TARGET}`"
    );
    run(
        Command::new("rustup")
            .args(["target", "add", TARGET])
            .current_dir(workspace_root()),
        "rustup target add",
    )
}

/// Runs the nested cargo build of the guest and returns the `.wasm` path.
pub fn build_guest(root: &Path) -> Result<PathBuf, String> {
    let target_dir = root.join("target").join("js-guest");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["-p", "ti-ecs", "--lib", "--target", TARGET])
        .args([
            "--no-default-features",
            "--features",
            "js",
            "--profile",
            PROFILE,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    for var in CLEARED_ENV {
        cmd.env_remove(var);
    }
    run(
        &mut cmd,
        "cargo build (ti-ecs for wasm32-unknown-unknown, feature js)",
    )?;
    let wasm = target_dir
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{STEM}.wasm"));
    if wasm.is_file() {
        Ok(wasm)
    } else {
        Err(format!(
            "the guest build succeeded but `{}` is missing",
            wasm.display()
        ))
    }
}

/// Runs wasm-bindgen on `wasm`, writing one flavour into `out` (emptied first).
pub fn bindgen(wasm: &Path, out: &Path, flavour: Flavour) -> Result<(), String> {
    if out.exists() {
        std::fs::remove_dir_all(out)
            .map_err(|e| format!("cannot empty `{}`: {e}", out.display()))?;
    }
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    b.input_path(wasm).out_name(STEM).typescript(true);
    let set = match flavour {
        Flavour::Node => b.nodejs(true),
        Flavour::Bundler => b.bundler(true),
    };
    set.and_then(|b| b.generate(out)).map_err(|e| {
        format!(
            "wasm-bindgen ({} flavour) on `{}` failed: {e:#}",
            flavour.dir(),
            wasm.display()
        )
    })
}

/// Runs a command with inherited output; an error names the step and the exit status.
fn run(cmd: &mut Command, step: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{step}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{step}` failed: {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_point_into_the_workspace() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(js_dir().join("package.json").is_file());
        assert_eq!(default_pkg_dir(), js_dir().join("pkg"));
    }

    #[test]
    fn package_json_points_at_the_generated_files() {
        let package = std::fs::read_to_string(js_dir().join("package.json")).unwrap();
        for flavour in Flavour::ALL {
            let main = format!("./pkg/{}/{STEM}.js", flavour.dir());
            assert!(package.contains(&main), "package.json lacks `{main}`");
        }
    }
}
