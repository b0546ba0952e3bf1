//! Test-only helpers shared by every crate's tests: where the reference tools' Python venv
//! lives, where the shared vectors are, and running a Python oracle script.
//!
//! The test command (`scripts/test.sh`) creates the venv and exports `PLATEFARM_PYTHON`;
//! without it we fall back to the default cache location so `cargo test` works after one
//! run of the test command.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python interpreter of the reference-tool venv (rawpy, OpenEXR, ascmhl, opencolorio…).
///
/// Panics with set-up instructions when the venv is missing: tests that need a reference
/// tool must not silently pass without it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATEFARM_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let default = Path::new(&home).join(".cache/platefarm/venv/bin/python");
    assert!(
        default.exists(),
        "reference-tool venv not found at {} — run `scripts/test.sh` once (it creates it) \
         or set PLATEFARM_PYTHON",
        default.display()
    );
    default
}

/// A program installed in the venv's `bin/` (e.g. `ascmhl`, `oiiotool`).
pub fn venv_tool(name: &str) -> PathBuf {
    let py = python();
    py.parent().expect("python lives in a bin dir").join(name)
}

/// Runs `python -c script args…`, returns stdout; panics with stderr on failure.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// `../shared/vectors` relative to the workspace (or `PLATEFARM_VECTORS`).
pub fn vectors_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATEFARM_VECTORS") {
        return PathBuf::from(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = here.parent().and_then(Path::parent).expect("crates/testkit");
    let candidates = [
        workspace.join("../shared/vectors"),
        workspace.join("shared/vectors"),
    ];
    for c in &candidates {
        if c.is_dir() {
            return c.canonicalize().expect("vectors dir resolves");
        }
    }
    panic!("shared vectors not found next to the workspace; set PLATEFARM_VECTORS")
}

/// A fresh scratch directory removed on drop.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("platefarm-test-")
        .tempdir()
        .expect("temp dir")
}
