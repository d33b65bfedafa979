//! A key-value store actor serving many clients at once: 100 client processes, each
//! finding the store by name and doing 100 writes and reads.
use std::collections::HashMap;

use lunatic::actors::{Actor, ActorRef, BoxError, Context};
use lunatic::{process, Mailbox};

/// The store's state.
struct KvStore {
    entries: HashMap<String, String>,
}

impl Actor for KvStore {
    type Args = ();

    fn init(_: (), _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(KvStore {
            entries: HashMap::new(),
        })
    }
}

#[lunatic::actor]
impl KvStore {
    /// Stores `value` under `key`; returns the previous value.
    fn put(&mut self, key: String, value: String) -> Option<String> {
        self.entries.insert(key, value)
    }

    /// The value under `key`.
    fn get(&self, key: String) -> Option<String> {
        self.entries.get(&key).cloned()
    }

    /// Removes `key` (a cast: the caller does not wait).
    fn delete(&mut self, key: String) {
        self.entries.remove(&key);
    }

    /// How many keys are stored.
    fn len(&self) -> usize {
        self.entries.len()
    }
}

const CLIENTS: u32 = 100;
const KEYS_PER_CLIENT: u32 = 100;

#[lunatic::main]
fn main(mailbox: Mailbox<u32>) {
    let store = ActorRef::<KvStore>::start(()).unwrap();
    store.register("kv").unwrap();
    let this = process::this(&mailbox);
    for client in 0..CLIENTS {
        process::spawn_with((client, this), |(client, done), _: Mailbox<()>| {
            let store = ActorRef::<KvStore>::lookup("kv")
                .unwrap()
                .expect("the store is registered");
            for key in 0..KEYS_PER_CLIENT {
                let key = format!("client-{client}/key-{key}");
                assert_eq!(
                    store.put(key.clone(), format!("value of {key}")).unwrap(),
                    None
                );
            }
            for key in 0..KEYS_PER_CLIENT {
                let key = format!("client-{client}/key-{key}");
                assert_eq!(
                    store.get(key.clone()).unwrap(),
                    Some(format!("value of {key}"))
                );
            }
            done.send(client);
        })
        .unwrap();
    }
    for _ in 0..CLIENTS {
        mailbox.receive().unwrap();
    }
    println!("{CLIENTS} clients wrote and read back their keys");
    println!("keys stored: {}", store.len().unwrap());
    store.delete("client-0/key-0".into());
    println!("after one delete: {}", store.len().unwrap());
}
