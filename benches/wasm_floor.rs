//! The floor under every lunatic process: what wasmtime itself costs, with the VM's engine
//! settings (`lunatic_vm::wasm_engine`) and its allocator, and none of the VM. Prints
//! `RESULT <name> <value>` lines for `benches/run.sh`, which sets them beside the VM's and
//! Erlang's figures: a target below its floor is out of reach with a wasm instance per
//! process, whatever the VM does around it.
//!
//! A "process" here is the least one can be: a `Store` and an instance of a module with one
//! page of memory, whose function parks in an async host call on its own fiber stack. It is
//! driven by polling its future by hand (no scheduler, no waking, no mailbox), so each figure
//! is below what any runtime built on these parts can reach:
//! - `floor_spawn_once_us` and `floor_parked_kib`: 10,000 such processes made and parked in a
//!   fresh pool, as `park.rs` does on a freshly started VM: the time to make each, and the
//!   memory each holds (resident set plus page tables);
//! - `floor_spawn_us`: the same on slots used before (11 rounds of 2,000, dropped between
//!   rounds, as `spawn.rs` does; the median round);
//! - `floor_round_trip_us`: two such processes that take turns, one host call to "send" and
//!   one parking host call to "receive" each per trip;
//! - with a guest program's path as the argument (a lunatic guest, e.g. `bench-spawn.wasm`),
//!   `floor_guest_instance_once_us`, `floor_guest_instance_kib` and `floor_guest_instance_us`:
//!   the same for a bare instance of that program (its imports trap; nothing runs, so no fiber
//!   stack): what a Rust guest's instance costs over the least one.
#![allow(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use lunatic_vm::RuntimeConfig;
use wasmtime::{Engine, Instance, InstancePre, Linker, Module, ModuleExport, Store, TypedFunc};

#[global_allocator]
static ALLOCATOR: lunatic_vm::allocator::MiMalloc = lunatic_vm::allocator::MiMalloc;

/// Rounds of spawns, as `spawn.rs` does.
const ROUNDS: usize = 11;
const PER_ROUND: usize = 2_000;
/// Processes parked at once to measure their memory, as `benches/run.sh` parks on the VM.
const PARKED: usize = 10_000;
const TRIPS: u32 = 200_000;

/// The least process: `park` waits in `receive`; `ping` and `pong` take turns with a peer.
const PROCESS_WAT: &str = r#"
(module
  (import "floor" "send" (func $send))
  (import "floor" "receive" (func $receive))
  (memory 1)
  (func (export "park") (call $receive))
  (func (export "ping") (param $n i32)
    (loop $trip
      (call $send)
      (call $receive)
      (br_if $trip (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "pong") (param $n i32)
    (loop $trip
      (call $receive)
      (call $send)
      (br_if $trip (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
"#;

/// A process's store data: the count of messages waiting for it, and its peer's.
#[derive(Default)]
struct Mailboxes {
    inbox: Arc<AtomicU32>,
    peer: Arc<AtomicU32>,
}

type Process = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The least process's program, linked: `send` counts a message into the peer's inbox;
/// `receive` parks (returns pending, suspending the fiber) until its inbox has one.
struct Floor {
    pre: InstancePre<Mailboxes>,
    park: ModuleExport,
    ping: ModuleExport,
    pong: ModuleExport,
}

impl Floor {
    fn new(engine: &Engine) -> wasmtime::Result<Self> {
        let module = Module::new(engine, PROCESS_WAT)?;
        let mut linker = Linker::<Mailboxes>::new(engine);
        linker.func_wrap(
            "floor",
            "send",
            |caller: wasmtime::Caller<'_, Mailboxes>| {
                caller.data().peer.fetch_add(1, Ordering::Release);
            },
        )?;
        linker.func_wrap_async(
            "floor",
            "receive",
            |caller: wasmtime::Caller<'_, Mailboxes>, ()| {
                let inbox = Arc::clone(&caller.data().inbox);
                Box::new(std::future::poll_fn(move |_| {
                    let waiting = inbox.load(Ordering::Acquire);
                    if waiting == 0 {
                        return Poll::Pending;
                    }
                    inbox.store(waiting - 1, Ordering::Release);
                    Poll::Ready(())
                }))
            },
        )?;
        let export = |name| {
            module
                .get_export_index(name)
                .expect("the module exports it")
        };
        Ok(Self {
            park: export("park"),
            ping: export("ping"),
            pong: export("pong"),
            pre: linker.instantiate_pre(&module)?,
        })
    }

    /// A process that runs `entry(arg)` (`park` ignores its argument) with `mailboxes`.
    fn process(&self, entry: ModuleExport, arg: Option<u32>, mailboxes: Mailboxes) -> Process {
        let pre = self.pre.clone();
        Box::pin(async move {
            let mut store = Store::new(pre.module().engine(), mailboxes);
            store.set_epoch_deadline(1 << 40);
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .expect("instantiates");
            let func = instance
                .get_module_export(&mut store, &entry)
                .and_then(wasmtime::Extern::into_func)
                .expect("exported");
            match arg {
                None => {
                    let func: TypedFunc<(), ()> = func.typed(&store).expect("its type");
                    func.call_async(&mut store, ()).await.expect("parks");
                }
                Some(n) => {
                    let func: TypedFunc<u32, ()> = func.typed(&store).expect("its type");
                    func.call_async(&mut store, n).await.expect("runs");
                }
            }
        })
    }
}

/// Polls once, with a waker that does nothing: whoever drives polls again.
fn poll<F: Future + ?Sized>(future: &mut Pin<Box<F>>) -> Poll<F::Output> {
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Resident memory plus page tables of this process, in KiB.
fn resident_kib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0)
    };
    field("VmRSS:") + field("VmPTE:")
}

/// Microseconds per process of `ROUNDS` rounds of `PER_ROUND` made by `make`, each round's
/// kept until it ends: the median round.
fn spawn_rounds<T>(mut make: impl FnMut() -> T) -> f64 {
    let samples = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let alive: Vec<T> = (0..PER_ROUND).map(|_| make()).collect();
            let us = start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64;
            drop(alive);
            us
        })
        .collect();
    median(samples)
}

/// `PARKED` things made by `make` and kept alive together, on a fresh pool: (microseconds
/// to make each, KiB of memory each).
fn once<T>(mut make: impl FnMut() -> T) -> (f64, f64) {
    let before = resident_kib();
    let start = Instant::now();
    let alive: Vec<T> = (0..PARKED).map(|_| make()).collect();
    let us = start.elapsed().as_secs_f64() * 1e6 / PARKED as f64;
    let kib = (resident_kib() - before) / PARKED as f64;
    drop(alive);
    (us, kib)
}

fn parked(floor: &Floor) -> Process {
    let mut process = floor.process(floor.park, None, Mailboxes::default());
    assert!(poll(&mut process).is_pending(), "a parked process waits");
    process
}

fn round_trip_us(floor: &Floor) -> f64 {
    let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let mailboxes = |inbox: &Arc<AtomicU32>, peer: &Arc<AtomicU32>| Mailboxes {
        inbox: Arc::clone(inbox),
        peer: Arc::clone(peer),
    };
    let mut ping = floor.process(floor.ping, Some(TRIPS), mailboxes(&a, &b));
    let mut pong = floor.process(floor.pong, Some(TRIPS), mailboxes(&b, &a));
    // Both instantiated and waiting before the clock starts: `pong` parks in its first
    // receive; `ping` has sent and parks for the answer.
    assert!(poll(&mut pong).is_pending() && poll(&mut ping).is_pending());
    let start = Instant::now();
    loop {
        let pong_done = poll(&mut pong).is_ready();
        if poll(&mut ping).is_ready() {
            assert!(pong_done, "pong answered the last ping before ping saw it");
            break;
        }
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(TRIPS)
}

/// An instance of a guest program, its imports trapping: (its store, its instance).
fn guest_instance(
    engine: &Engine,
    path: &str,
) -> wasmtime::Result<impl FnMut() -> (Store<()>, Instance)> {
    let module = Module::from_file(engine, path)?;
    let mut linker = Linker::<()>::new(engine);
    linker.define_unknown_imports_as_traps(&module)?;
    let pre = linker.instantiate_pre(&module)?;
    let engine = engine.clone();
    Ok(move || {
        let mut store = Store::new(&engine, ());
        let mut process = Box::pin(pre.instantiate_async(&mut store));
        let Poll::Ready(instance) = poll(&mut process) else {
            panic!("instantiation waited")
        };
        drop(process);
        (store, instance.expect("instantiates"))
    })
}

fn main() -> wasmtime::Result<()> {
    // As the `lunatic` binary does.
    lunatic_vm::allocator::disable_huge_pages();
    let config = RuntimeConfig {
        max_processes: PARKED as u32 + 16,
        ..RuntimeConfig::default()
    };
    // Each figure on an engine of its own, so "once" means fresh pool slots, as in a freshly
    // started VM.
    let fresh = || lunatic_vm::wasm_engine(&config);
    let floor = Floor::new(&fresh()?)?;
    let (once_us, kib) = once(|| parked(&floor));
    println!("RESULT floor_spawn_once_us {once_us:.2}");
    println!("RESULT floor_parked_kib {kib:.1}");
    drop(floor);
    let floor = Floor::new(&fresh()?)?;
    println!(
        "RESULT floor_spawn_us {:.2}",
        spawn_rounds(|| parked(&floor))
    );
    let trip = median((0..5).map(|_| round_trip_us(&floor)).collect());
    println!("RESULT floor_round_trip_us {trip:.3}");
    drop(floor);
    if let Some(path) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
        let (once_us, kib) = once(guest_instance(&fresh()?, &path)?);
        println!("RESULT floor_guest_instance_once_us {once_us:.2}");
        println!("RESULT floor_guest_instance_kib {kib:.1}");
        let us = spawn_rounds(guest_instance(&fresh()?, &path)?);
        println!("RESULT floor_guest_instance_us {us:.2}");
    }
    Ok(())
}
