//! Builds the guest programs (examples, test guests, benchmarks) for `wasm32-wasip1`,
//! adding the target to the toolchain first if it is missing: a fresh machine has only
//! rustup and cargo. Shared by the end-to-end tests and `lunatic-vm/examples/showcase.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The guest target.
pub(crate) const TARGET: &str = "wasm32-wasip1";

/// Adds [`TARGET`] to the workspace's toolchain unless its standard library is there.
///
/// # Panics
/// If the target is missing and `rustup` cannot add it.
pub(crate) fn ensure_target(workspace: &Path) {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .current_dir(workspace)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if libdir.is_some_and(|dir| dir.is_dir()) {
        return;
    }
    eprintln!("adding the {TARGET} target to the toolchain (rustup target add {TARGET})");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(workspace)
        .status()
        .expect("rustup can be started");
    assert!(status.success(), "rustup target add {TARGET} failed");
}

/// Builds every example of the `lunatic` package (which includes the test guests and the
/// benchmark programs) in release mode into `target_dir`; returns the folder of the
/// `.wasm` files.
///
/// # Panics
/// If the build fails.
pub(crate) fn build(workspace: &Path, target_dir: &Path) -> PathBuf {
    ensure_target(workspace);
    let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "lunatic",
            "--examples",
        ])
        .args(["--target", TARGET, "--target-dir"])
        .arg(target_dir)
        .current_dir(workspace)
        .status()
        .expect("cargo can be started");
    assert!(status.success(), "building the guest programs failed");
    target_dir.join(TARGET).join("release").join("examples")
}
