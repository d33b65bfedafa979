//! Sets `cfg(loom_model)` for this crate: the VM files it compiles leave out, with it, the
//! parts that only run on real threads (their own unit tests).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom_model)");
    println!("cargo::rustc-cfg=loom_model");
}
