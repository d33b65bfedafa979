#[lunatic::test]
async fn waits() {}

fn main() {}
