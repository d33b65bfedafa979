struct Counter;

trait Describe {
    fn describe(&self) -> String;
}

#[lunatic::actor]
impl Describe for Counter {
    fn describe(&self) -> String {
        "counter".into()
    }
}

fn main() {}
