//! The `lunatic` command: runs a wasm32-wasip1 program as lunatic processes.

fn main() {
    std::process::exit(lunatic_vm::cli::main());
}
