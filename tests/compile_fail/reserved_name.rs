use lunatic::actors::{Actor, BoxError, Context};

struct Server;

impl Actor for Server {
    type Args = ();
    fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Server)
    }
}

#[lunatic::actor]
impl Server {
    fn stop(&mut self) {}
}

fn main() {}
