//! A counter actor: `#[lunatic::actor]` turns the methods into messages and typed client
//! methods, so callers write `counter.increment()` and `counter.get()`.
use lunatic::actors::{Actor, ActorRef, BoxError, Context};
use lunatic::Mailbox;

/// The actor's state, which lives in its own process.
struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Args = u64;

    fn init(start: u64, _ctx: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Counter { count: start })
    }
}

#[lunatic::actor]
impl Counter {
    /// Adds one (a cast: no result, so the caller does not wait).
    fn increment(&mut self) {
        self.count += 1;
    }

    /// Adds `n` and returns the new count (a call).
    fn add(&mut self, n: u64) -> u64 {
        self.count += n;
        self.count
    }

    /// The current count (a call).
    fn get(&self) -> u64 {
        self.count
    }
}

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let counter = ActorRef::<Counter>::start(10).unwrap();
    counter.increment();
    counter.increment();
    println!("after two increments: {}", counter.get().unwrap());
    println!("after adding 5: {}", counter.add(5).unwrap());
    // Handles are plain data: a copy in another process talks to the same actor.
    let copy = counter.clone();
    copy.increment();
    println!("seen through a copy: {}", counter.get().unwrap());
}
