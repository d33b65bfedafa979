//! The host ABI's one declaration (`lunatic_abi::host_functions!`) against what is built
//! and written from it: the functions the VM registers, `docs/abi.md` and the import-module
//! table of ARCHITECTURE.md. Run with `LUNATIC_BLESS=1` to rewrite `docs/abi.md`.

mod common;

use std::collections::BTreeSet;

use common::workspace;
use lunatic_abi::HOST_MODULES;
use lunatic_vm::{Runtime, RuntimeConfig};

#[test]
fn the_reference_is_generated_from_the_declaration() {
    let path = workspace().join("docs/abi.md");
    let generated = lunatic_abi::reference();
    if std::env::var_os("LUNATIC_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("docs/abi.md is writable");
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/abi.md differs from the declaration in lunatic-abi/src/host_functions.rs; \
         rewrite it with `LUNATIC_BLESS=1 cargo test -p lunatic-vm --test abi_reference`"
    );
}

#[test]
fn the_vm_registers_exactly_the_declared_functions() {
    let config = RuntimeConfig {
        max_processes: 4,
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::new(&config, b"(module)", Default::default()).expect("a VM starts");
    let registered: BTreeSet<(String, String)> = runtime
        .host_functions()
        .into_iter()
        .filter(|(module, _)| module.starts_with("lunatic::"))
        .collect();
    let declared: BTreeSet<(String, String)> = HOST_MODULES
        .iter()
        .flat_map(|module| module.functions)
        .map(|function| (function.module.to_owned(), function.name.to_owned()))
        .collect();
    assert_eq!(registered, declared);
}

#[test]
fn the_architecture_names_every_import_module() {
    let architecture = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    for module in HOST_MODULES {
        assert!(
            architecture.contains(&format!("`{}`", module.name)),
            "ARCHITECTURE.md does not name {}",
            module.name
        );
    }
}
