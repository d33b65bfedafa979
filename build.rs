//! Decides whether this build of `lunatic` is for the target its programs run on.
//!
//! A program that depends on `lunatic` is a `wasm32-wasip1` module run by the `lunatic` VM.
//! Built for anything else (the host, when a new user's crate lacks `.cargo/config.toml`),
//! it would compile, link and then panic at its first host call; instead this script sets
//! `lunatic_wrong_target`, and `src/lib.rs` turns that into one compile error naming the
//! target and the two settings to add.
//!
//! `LUNATIC_ALLOW_HOST_BUILD` (set to anything) lets the crate build for another target, to
//! be type-checked or documented there: this repository sets it in `.cargo/config.toml` for
//! its own host builds (clippy, the compile-fail tests, doctests).

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(lunatic_wrong_target)");
    println!("cargo::rerun-if-env-changed=LUNATIC_ALLOW_HOST_BUILD");
    println!("cargo::rerun-if-changed=build.rs");
    let cfg = |key: &str| env::var(key).unwrap_or_default();
    let wasi_preview_1 = cfg("CARGO_CFG_TARGET_ARCH") == "wasm32"
        && cfg("CARGO_CFG_TARGET_OS") == "wasi"
        // `p1`, or empty with compilers that predate the name; `p2` builds a component,
        // which lunatic does not run.
        && matches!(cfg("CARGO_CFG_TARGET_ENV").as_str(), "" | "p1");
    if !wasi_preview_1 && env::var_os("LUNATIC_ALLOW_HOST_BUILD").is_none() {
        println!("cargo::rustc-cfg=lunatic_wrong_target");
        println!("cargo::rustc-env=LUNATIC_BUILD_TARGET={}", cfg("TARGET"));
    }
}
