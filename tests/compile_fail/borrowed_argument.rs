use lunatic::actors::{Actor, BoxError, Context};

struct Store;

impl Actor for Store {
    type Args = ();
    fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Store)
    }
}

#[lunatic::actor]
impl Store {
    fn get(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }
}

fn main() {}
