//! Erlang-style processes on WebAssembly.
//!
//! Programs that depend on this crate compile to `wasm32-wasip1` and run on the `lunatic`
//! VM (`lunatic-vm`), where every process is its own sandboxed instance.
//!
//! ```ignore
//! use lunatic::{process, Mailbox};
//!
//! #[lunatic::main]
//! fn main(m: Mailbox<()>) {
//!     let child = process::spawn(|mailbox: Mailbox<String>| {
//!         println!("Hello {}", mailbox.receive().unwrap());
//!     })
//!     .unwrap();
//!     child.send("World".to_string());
//! }
//! ```
//!
//! | item | from |
//! |---|---|
//! | [`process`], [`Process`], [`Mailbox`], [`LinkMailbox`], [`Message`], [`Signal`], [`Request`], [`Tag`], [`LunaticError`], [`ReceiveError`], [`net`] (TCP, UDP, DNS) | `lunatic-core` |
//! | [`actors`]: `Actor`, `ActorRef`, `Supervisor`, timers | `lunatic-actors` |
//! | [`macro@main`], [`macro@actor`], [`macro@test`] | `lunatic-derive` |

/// The one error a crate built for the wrong target gets (see `build.rs`), instead of a
/// program that builds and panics at its first host call.
#[cfg(lunatic_wrong_target)]
macro_rules! wrong_target {
    () => {
        concat!(
            "lunatic programs are wasm32-wasip1 modules run by the `lunatic` VM, but this ",
            "build is for ",
            env!("LUNATIC_BUILD_TARGET"),
            ".\nAdd `.cargo/config.toml` to your crate (beside its Cargo.toml):\n\n",
            "    [build]\n",
            "    target = \"wasm32-wasip1\"\n\n",
            "    [target.wasm32-wasip1]\n",
            "    runner = \"lunatic\"\n\n",
            "Then `cargo run` and `cargo test` build the module and run it on `lunatic` ",
            "(once: `rustup target add wasm32-wasip1`, and `cargo install --path lunatic-vm` ",
            "in the lunatic repository).",
        )
    };
}
#[cfg(lunatic_wrong_target)]
compile_error!(wrong_target!());

pub use lunatic_actors as actors;
pub use lunatic_core::*;
pub use lunatic_derive::{actor, main, test};

/// Used by the code the macros generate; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use lunatic_core::testing;
    pub use serde;
}

/// A handler's visibility is its client method's: outside the actor's module, a public
/// handler can be called through an `ActorRef` ...
///
/// ```no_run
/// mod vault {
///     use lunatic::actors::{Actor, BoxError, Context};
///     pub struct Vault;
///     impl Actor for Vault {
///         type Args = ();
///         fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
///             Ok(Vault)
///         }
///     }
///     #[lunatic::actor]
///     impl Vault {
///         pub fn open(&self) -> u64 {
///             1
///         }
///         fn secret(&self) -> u64 {
///             2
///         }
///     }
/// }
/// fn caller(vault: lunatic::actors::ActorRef<vault::Vault>) {
///     let _ = vault.open();
/// }
/// ```
///
/// ... and a private one cannot (E0624: the method is private).
///
/// ```compile_fail,E0624
/// mod vault {
///     use lunatic::actors::{Actor, BoxError, Context};
///     pub struct Vault;
///     impl Actor for Vault {
///         type Args = ();
///         fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
///             Ok(Vault)
///         }
///     }
///     #[lunatic::actor]
///     impl Vault {
///         pub fn open(&self) -> u64 {
///             1
///         }
///         fn secret(&self) -> u64 {
///             2
///         }
///     }
/// }
/// fn caller(vault: lunatic::actors::ActorRef<vault::Vault>) {
///     let _ = vault.secret();
/// }
/// ```
#[cfg(doctest)]
pub struct HandlerVisibility;
