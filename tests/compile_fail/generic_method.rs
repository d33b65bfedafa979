use lunatic::actors::{Actor, BoxError, Context};

struct Echo;

impl Actor for Echo {
    type Args = ();
    fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Echo)
    }
}

#[lunatic::actor]
impl Echo {
    fn echo<T>(&self, value: T) -> T {
        value
    }
}

fn main() {}
