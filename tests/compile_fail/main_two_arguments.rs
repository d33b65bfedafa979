use lunatic::Mailbox;

#[lunatic::main]
fn main(_: Mailbox<()>, _extra: u32) {}
