//! Builds the wasm artifacts from the workspace's own crates, so `cargo build` alone is
//! enough:
//!
//! - always, the component: `ti-ecs` for `wasm32-unknown-unknown` with
//!   `--features component`, wrapped into a component by `wit-component` (no `wasm-tools`
//!   CLI needed); the library embeds it;
//! - with the `test-artifacts` feature (host-tests turns it on), also
//!   - the Fluent Bit module: `ti-ecs` for `wasm32-wasip1` with `--features fluent-bit`,
//!     exporting wasi-libc's `malloc` and `free`;
//!   - the misbehaving guest (`misbehave-guest/`), a component of the same world that
//!     loops, hoards memory or traps on request.
//!
//! A missing wasm target is added with `rustup target add` (machines with
//! `RUSTUP_AUTO_INSTALL=0` do not install the targets `rust-toolchain.toml` lists). The
//! nested cargo uses its own target directories (`<target>/guest` for
//! `wasm32-unknown-unknown`, `<target>/guest-wasip1` for the Fluent Bit module) so it never
//! waits on the outer cargo's lock, and none of the outer build's flags or wrappers. The
//! component and the Fluent Bit module build at the same time: their dependencies are
//! compiled for different targets anyway, and each ends in a single-threaded LTO step.
//!
//! The artifacts' paths reach the crate as `TI_ECS_COMPONENT`, `TI_ECS_FLUENT_BIT` and
//! `TI_ECS_MISBEHAVE` (the last two empty without `test-artifacts`), the WIT directory as
//! `TI_ECS_WIT`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The profile of the wasm artifacts (release + `panic = "abort"` + LTO, root `Cargo.toml`).
const PROFILE: &str = "wasm";

/// Environment that must not leak from the outer build into the nested one. E.g. under
/// `cargo fuzz` (`fuzz/component/`) the outer `RUSTFLAGS` carry `-Zsanitizer=address` and
/// the sancov passes, which a wasm32 guest must not get; `RUSTC_BOOTSTRAP=1` (which
/// `cargo fuzz` needs on stable) would change what build scripts such as proc-macro2's
/// detect, so the guest would rebuild differently from an ordinary build in the same
/// `<target>/guest` directory; wrappers (clippy-driver, sccache) are the outer build's.
const CLEARED_ENV: &[&str] = &[
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "RUSTC_BOOTSTRAP",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
];

/// One wasm build: package, target, features, extra linker arguments, output file stem.
struct Guest {
    package: &'static str,
    target: &'static str,
    features: &'static [&'static str],
    rustc_args: &'static [&'static str],
    stem: &'static str,
}

/// LLVM's inlining threshold for the guests (default 225 at `opt-level = 3`). Inlining
/// more leaves fewer calls in the wasm, and each call costs more there than natively
/// (and, under epoch interruption, runs a check on entry): measured in the bench, the
/// component and the Fluent Bit module about 5–9 % faster per record, the sandboxed
/// component 3–8 %, for modules twice the size (0.7 → 1.3 MB;
/// `docs/BENCHMARKS-HISTORY.md`, sixth round). The JS module keeps the default: its size
/// is what a web page downloads.
const INLINE: &str = "llvm-args=-inline-threshold=1000";

const COMPONENT: Guest = Guest {
    package: "ti-ecs",
    target: "wasm32-unknown-unknown",
    features: &["component"],
    rustc_args: &["-C", INLINE],
    stem: "ti_ecs",
};

const FLUENT_BIT: Guest = Guest {
    package: "ti-ecs",
    target: "wasm32-wasip1",
    features: &["fluent-bit"],
    rustc_args: &[
        "-C",
        INLINE,
        "-C",
        "link-arg=--export=malloc",
        "-C",
        "link-arg=--export=free",
    ],
    stem: "ti_ecs",
};

const MISBEHAVE: Guest = Guest {
    package: "ti-ecs-misbehave-guest",
    target: "wasm32-unknown-unknown",
    features: &[],
    rustc_args: &[],
    stem: "ti_ecs_misbehave_guest",
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
        .ok_or("host has no parent directory")?
        .to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    for p in [
        "src",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        "host/misbehave-guest",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(p).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    let test_artifacts = env::var_os("CARGO_FEATURE_TEST_ARTIFACTS").is_some();

    let target_dir = guest_target_dir(&workspace);
    ensure_target(COMPONENT.target)?;
    if test_artifacts {
        ensure_target(FLUENT_BIT.target)?;
    }

    // The Fluent Bit module builds while the component does, in a directory of its own.
    let fb_dir = target_dir.with_file_name("guest-wasip1");
    let fb_build = test_artifacts
        .then(|| start(&workspace, &fb_dir, &FLUENT_BIT))
        .transpose()?;
    let component = start(&workspace, &target_dir, &COMPONENT).and_then(finish);
    // waited for even when the component failed: no build is left running behind us
    let fb = fb_build.map(finish).transpose();
    let component_path = out.join("ti_ecs_component.wasm");
    componentize(&component?, &component_path)?;
    println!(
        "cargo:rustc-env=TI_ECS_COMPONENT={}",
        component_path.display()
    );

    let (mut fb_env, mut misbehave_env) = (String::new(), String::new());
    if let Some(fb) = fb? {
        let fb_path = out.join("ti_ecs_fluent_bit.wasm");
        std::fs::copy(&fb, &fb_path).map_err(|e| format!("cannot copy `{}`: {e}", fb.display()))?;
        fb_env = fb_path.display().to_string();

        let misbehave_path = out.join("ti_ecs_misbehave.wasm");
        componentize(
            &finish(start(&workspace, &target_dir, &MISBEHAVE)?)?,
            &misbehave_path,
        )?;
        misbehave_env = misbehave_path.display().to_string();
    }
    println!("cargo:rustc-env=TI_ECS_FLUENT_BIT={fb_env}");
    println!("cargo:rustc-env=TI_ECS_MISBEHAVE={misbehave_env}");
    println!(
        "cargo:rustc-env=TI_ECS_WIT={}",
        workspace.join("wit").display()
    );
    Ok(())
}

/// Turns a core module built with wit-bindgen into a component at `dest`.
fn componentize(core: &Path, dest: &Path) -> Result<(), String> {
    let module =
        std::fs::read(core).map_err(|e| format!("cannot read `{}`: {e}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| format!("cannot make a component of `{}`: {e:#}", core.display()))?;
    std::fs::write(dest, component).map_err(|e| format!("cannot write `{}`: {e}", dest.display()))
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

/// A guest's build under way: the nested cargo, what it builds and where the module lands.
struct Running {
    child: Child,
    guest: &'static Guest,
    module: PathBuf,
}

/// Starts building a package's cdylib for one guest.
fn start(workspace: &Path, target_dir: &Path, g: &'static Guest) -> Result<Running, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "rustc",
            "-p",
            g.package,
            "--lib",
            "--crate-type",
            "cdylib",
            "--target",
            g.target,
        ])
        .args(["--profile", PROFILE, "--no-default-features"]);
    if !g.features.is_empty() {
        cmd.args(["--features", &g.features.join(",")]);
    }
    cmd.arg("--target-dir").arg(target_dir);
    if !g.rustc_args.is_empty() {
        cmd.arg("--").args(g.rustc_args);
    }
    // The nested cargo's stdout must not reach this script's stdout, which cargo parses.
    cmd.stdout(std::io::stderr());
    for v in CLEARED_ENV {
        cmd.env_remove(v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot run `{cargo}`: {e}"))?;
    Ok(Running {
        child,
        guest: g,
        module: target_dir
            .join(g.target)
            .join(PROFILE)
            .join(format!("{}.wasm", g.stem)),
    })
}

/// Waits for a guest's build and returns the core module's path.
fn finish(mut r: Running) -> Result<PathBuf, String> {
    let g = r.guest;
    let status = r
        .child
        .wait()
        .map_err(|e| format!("cannot wait for the build of `{}`: {e}", g.package))?;
    if !status.success() {
        return Err(format!(
            "building `{}` ({}) for `{}` failed ({status})",
            g.package,
            g.features.join(","),
            g.target
        ));
    }
    Ok(r.module)
}
