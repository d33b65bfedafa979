//! The `lunatic` command: runs a wasm32-wasip1 program as lunatic processes.

#[global_allocator]
static ALLOCATOR: lunatic_vm::allocator::MiMalloc = lunatic_vm::allocator::MiMalloc;

fn main() {
    lunatic_vm::allocator::disable_huge_pages();
    std::process::exit(lunatic_vm::cli::main());
}
