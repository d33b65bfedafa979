//! The `lunatic` command: runs a wasm32-wasip1 program as lunatic processes.

/// Every message's receive allocates and frees wasmtime's boxed host-call futures, and every
/// spawn a store and an instance: mimalloc does that much faster than glibc's allocator
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(lunatic_vm::cli::main());
}
