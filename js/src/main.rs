//! `cargo run -p ti-ecs-js-tests [PKG_DIR]`: builds the JS module into `js/pkg/`
//! (or PKG_DIR). See js/README.md.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let pkg = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(ti_ecs_js_tests::default_pkg_dir);
    match ti_ecs_js_tests::build(&pkg) {
        Ok(built) => {
            eprintln!(
                "ti-ecs-js: wrote {} (guest build {:.1?}, wasm-bindgen {:.1?})",
                built.pkg.display(),
                built.guest_time,
                built.bindgen_time
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ti-ecs-js: {e}");
            ExitCode::FAILURE
        }
    }
}
