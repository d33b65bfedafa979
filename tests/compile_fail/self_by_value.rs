use lunatic::actors::{Actor, BoxError, Context};

struct Counter;

impl Actor for Counter {
    type Args = ();
    fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Counter)
    }
}

#[lunatic::actor]
impl Counter {
    fn consume(self) {}
}

fn main() {}
