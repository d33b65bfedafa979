//! A user's crate built for the host, its `.cargo/config.toml` forgotten, fails with one
//! compile error that names the target it was built for and the lines to add (`build.rs`
//! decides, `src/lib.rs` says it); the lines are exactly the fixture's own config, which
//! `tests/workflow.rs` shows running.
//!
//! The crate is `tests/fixtures/user-crate` without its `.cargo/config.toml`, copied outside
//! this workspace so that none of the workspace's cargo configuration (which lets the
//! workspace build `lunatic` for the host) applies. It builds into `target/user-crate`,
//! beside the fixture's wasm build, whose host proc-macros it shares: after the first run
//! it takes a second or two.

use std::path::Path;
use std::process::Command;

#[test]
fn a_crate_built_for_the_host_is_told_to_add_the_cargo_config() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = workspace.join("tests/fixtures/user-crate");
    let dir = std::env::temp_dir().join(format!("lunatic-wrong-target-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for file in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(file), &to).unwrap();
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../../..\"",
            &format!("path = {:?}", workspace.display().to_string()),
        );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's toolchain, as the fixture's other builds use.
    std::fs::copy(
        workspace.join("rust-toolchain.toml"),
        dir.join("rust-toolchain.toml"),
    )
    .unwrap();

    let output = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["build", "--color", "never"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", workspace.join("target/user-crate"))
        .env_remove("LUNATIC_ALLOW_HOST_BUILD")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("cargo starts");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");

    // One error from the compiler, and cargo's line saying so; the user's own code is
    // never compiled, so nothing else follows.
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with(
            "error: lunatic programs are wasm32-wasip1 modules run by the `lunatic` VM, but \
             this build is for "
        ),
        "{stderr}"
    );
    assert_eq!(
        errors[1], "error: could not compile `lunatic` (lib) due to 1 previous error",
        "{stderr}"
    );
    assert!(!stderr.contains("Compiling user-crate"), "{stderr}");

    // The lines it says to add (rustc indents a message's later lines) are the config the
    // fixture runs with.
    let message: Vec<&str> = stderr.lines().map(str::trim).collect();
    let config = std::fs::read_to_string(fixture.join(".cargo/config.toml")).unwrap();
    let config: Vec<&str> = config.lines().map(str::trim).collect();
    assert!(
        message.windows(config.len()).any(|lines| lines == config),
        "the error does not give the lines of {}:\n{stderr}",
        fixture.join(".cargo/config.toml").display()
    );
}
