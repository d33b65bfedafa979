//! `cargo showcase`: builds the guest programs (adding the wasm32-wasip1 target if needed)
//! and runs `examples/showcase.rs` on the VM: 10,000 processes, each answering a request.
#![allow(missing_docs)]

#[path = "../../tests/common/guests.rs"]
mod guests;

use std::path::Path;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("in the workspace");
    let examples = guests::build(workspace, &workspace.join("target").join("guests"));
    let showcase = examples.join("showcase.wasm");
    let args = ["lunatic".into(), showcase.display().to_string()];
    std::process::exit(lunatic_vm::cli::main_with_args(args));
}
