//! Builds both wasm artifacts from the workspace's own crate, so `cargo test` alone is
//! enough:
//!
//! - the component: `ti-ecs` for `wasm32-unknown-unknown` with `--features component`,
//!   wrapped into a component by `wit-component` (no `wasm-tools` CLI needed);
//! - the Fluent Bit module: `ti-ecs` for `wasm32-wasip1` with `--features fluent-bit`,
//!   exporting wasi-libc's `malloc` and `free`.
//!
//! A missing wasm target is added with `rustup target add` (machines with
//! `RUSTUP_AUTO_INSTALL=0` do not install the targets `rust-toolchain.toml` lists). The
//! nested cargo uses its own target directory (`<target>/guest`) so it never waits on the
//! outer cargo's lock, and none of the outer build's flags or wrappers.
//!
//! The artifacts' paths reach the crate as `TI_ECS_COMPONENT` and `TI_ECS_FLUENT_BIT`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The profile of the wasm artifacts (release + `panic = "abort"` + LTO, root `Cargo.toml`).
const PROFILE: &str = "wasm";

/// Environment that must not leak from the outer build into the nested one.
const CLEARED_ENV: &[&str] = &[
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTFLAGS",
];

/// One wasm build: target, feature, extra linker arguments.
struct Guest {
    target: &'static str,
    feature: &'static str,
    rustc_args: &'static [&'static str],
}

const COMPONENT: Guest = Guest {
    target: "wasm32-unknown-unknown",
    feature: "component",
    rustc_args: &[],
};

const FLUENT_BIT: Guest = Guest {
    target: "wasm32-wasip1",
    feature: "fluent-bit",
    rustc_args: &[
        "-C",
        "link-arg=--export=malloc",
        "-C",
        "link-arg=--export=free",
    ],
};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let workspace = manifest
        .parent()
        .ok_or("host-tests has no parent directory")?
        .to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    for p in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(p).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let target_dir = guest_target_dir(&workspace);
    for g in [&COMPONENT, &FLUENT_BIT] {
        ensure_target(g.target)?;
    }

    let core = build(&workspace, &target_dir, &COMPONENT)?;
    let module =
        std::fs::read(&core).map_err(|e| format!("cannot read `{}`: {e}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| format!("cannot make a component of `{}`: {e:#}", core.display()))?;
    let component_path = out.join("ti_ecs_component.wasm");
    write(&component_path, &component)?;

    let fb = build(&workspace, &target_dir, &FLUENT_BIT)?;
    let fb_path = out.join("ti_ecs_fluent_bit.wasm");
    std::fs::copy(&fb, &fb_path).map_err(|e| format!("cannot copy `{}`: {e}", fb.display()))?;

    println!(
        "cargo:rustc-env=TI_ECS_COMPONENT={}",
        component_path.display()
    );
    println!("cargo:rustc-env=TI_ECS_FLUENT_BIT={}", fb_path.display());
    println!(
        "cargo:rustc-env=TI_ECS_WIT={}",
        workspace.join("wit").display()
    );
    Ok(())
}

/// `<target dir>/guest`: beside the outer build's output, never inside its lock.
fn guest_target_dir(workspace: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace.join(d)
            }
        }
        _ => workspace.join("target"),
    }
    .join("guest")
}

/// Adds the rustup target when the sysroot lacks it, and says so.
fn ensure_target(target: &str) -> Result<(), String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{rustc} --print sysroot`: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    println!(
        "cargo:warning=the `{target}` target is missing: running `rustup target add {target}`"
    );
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status()
        .map_err(|e| format!("`{target}` is not installed and rustup cannot run ({e}): install the target by hand"))?;
    if !status.success() {
        return Err(format!("`rustup target add {target}` failed ({status})"));
    }
    Ok(())
}

/// Builds the crate's cdylib for one guest and returns the core module's path.
fn build(workspace: &Path, target_dir: &Path, g: &Guest) -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "rustc",
            "-p",
            "ti-ecs",
            "--lib",
            "--crate-type",
            "cdylib",
            "--target",
            g.target,
        ])
        .args([
            "--profile",
            PROFILE,
            "--no-default-features",
            "--features",
            g.feature,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    if !g.rustc_args.is_empty() {
        cmd.arg("--").args(g.rustc_args);
    }
    // The nested cargo's stdout must not reach this script's stdout, which cargo parses.
    cmd.stdout(std::io::stderr());
    for v in CLEARED_ENV {
        cmd.env_remove(v);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{cargo}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the `{}` guest for `{}` failed ({status})",
            g.feature, g.target
        ));
    }
    Ok(target_dir.join(g.target).join(PROFILE).join("ti_ecs.wasm"))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}
