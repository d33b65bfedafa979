//! Benchmark (runs on the VM): the actor layer (`lunatic::actors`) on the work an Erlang
//! program does with `gen_server` and `supervisor`. Prints `RESULT <name> <value>` lines
//! for `benches/run.sh`; `benches/erlang/bench_actors.erl` is the same beside Erlang.
//!
//! - `actor_start_us`: start an actor (its `init` runs, and the start returns once it
//!   did) and stop it, per actor, 2,000 a round;
//! - `actor_call_us`: a call (`counter.add(1)`), per call, 50,000 a round;
//! - `actor_cast_us`: a cast (`counter.increment()`), per cast, 50,000 a round and a call
//!   at the end that waits for them all;
//! - `supervisor_tree_us`: a supervisor started with 1,000 worker children, then stopped,
//!   per child.
//!
//! A first argument (`start`, `call`, `cast` or `tree`) runs only that one, and a second sets
//! the rounds (for profiling).
use std::time::Instant;

use lunatic::actors::{
    Actor, ActorRef, BoxError, ChildSpec, Context, Strategy, Supervisor, SupervisorConfig,
    SupervisorRef,
};
use lunatic::Mailbox;
use serde::{Deserialize, Serialize};

/// Rounds measured by default; the median is reported (this machine's speed drifts within a
/// run).
const ROUNDS: usize = 11;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median over `rounds` rounds of microseconds per unit of `round`, which does `units`
/// of work.
fn measure(rounds: usize, units: u64, mut round: impl FnMut()) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        round();
        samples.push(start.elapsed().as_secs_f64() * 1e6 / units as f64);
    }
    median(samples)
}

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Args = u64;

    fn init(start: u64, _: &mut Context<Self>) -> Result<Self, BoxError> {
        Ok(Counter { count: start })
    }
}

#[lunatic::actor]
impl Counter {
    fn increment(&mut self) {
        self.count += 1;
    }

    fn add(&mut self, n: u64) -> u64 {
        self.count += n;
        self.count
    }
}

/// A supervisor of as many `Counter` workers as it says.
#[derive(Clone, Serialize, Deserialize)]
struct Pool(u32);

impl Supervisor for Pool {
    type ChildArgs = ();

    fn init(&self) -> SupervisorConfig {
        (0..self.0).fold(SupervisorConfig::new(Strategy::OneForOne), |config, n| {
            config.child(ChildSpec::actor::<Counter>(format!("worker-{n}"), 0))
        })
    }
}

#[lunatic::main]
fn main(_: Mailbox<()>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.first().map(String::as_str);
    let wanted = |name: &str| only.is_none() || only == Some(name);
    let rounds = args
        .get(1)
        .map_or(ROUNDS, |n| n.parse().expect("a number of rounds"));

    if wanted("start") {
        const ACTORS: u64 = 2_000;
        let us = measure(rounds, ACTORS, || {
            let actors: Vec<_> = (0..ACTORS)
                .map(|n| ActorRef::<Counter>::start(n).unwrap())
                .collect();
            for actor in &actors {
                actor.stop();
            }
        });
        println!("RESULT actor_start_us {us:.3}");
    }

    if wanted("call") {
        const CALLS: u64 = 50_000;
        let counter = ActorRef::<Counter>::start(0).unwrap();
        let us = measure(rounds, CALLS, || {
            for _ in 0..CALLS {
                counter.add(1).unwrap();
            }
        });
        println!("RESULT actor_call_us {us:.3}");
        counter.stop();
    }

    if wanted("cast") {
        const CASTS: u64 = 50_000;
        let counter = ActorRef::<Counter>::start(0).unwrap();
        let us = measure(rounds, CASTS, || {
            for _ in 0..CASTS {
                counter.increment();
            }
            counter.add(0).unwrap();
        });
        println!("RESULT actor_cast_us {us:.3}");
        counter.stop();
    }

    if wanted("tree") {
        const CHILDREN: u32 = 1_000;
        let us = measure(rounds, u64::from(CHILDREN), || {
            let pool = SupervisorRef::start_supervisor(Pool(CHILDREN)).unwrap();
            let tag = pool.monitor();
            pool.stop();
            let _ = pool.process().wait_down(tag, None);
        });
        println!("RESULT supervisor_tree_us {us:.3}");
    }
}
