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

pub use lunatic_actors as actors;
pub use lunatic_core::*;
pub use lunatic_derive::{actor, main, test};

/// Used by the code the macros generate; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use lunatic_core::testing;
    pub use serde;
}
