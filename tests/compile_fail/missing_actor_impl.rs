struct Counter {
    count: u64,
}

#[lunatic::actor]
impl Counter {
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
