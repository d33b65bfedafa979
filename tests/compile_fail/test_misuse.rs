#[lunatic::test]
#[should_panic(expected = "boom")]
fn fails() -> Result<(), String> {
    Err("boom".into())
}

#[lunatic::test]
#[should_panic(reason = "boom")]
fn wrong_key() {}

#[lunatic::test]
fn two_arguments(a: u32, b: u32) {}

fn main() {}
