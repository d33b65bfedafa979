//! Membership and failure detection: SWIM with suspicion (`foca`), its packets carried as
//! QUIC datagrams on the connections between nodes.
//!
//! One task owns the `Foca` instance and takes [`Event`]s: packets from peers, its own
//! timers, and a new peer to announce itself to. What foca asks for in return (packets to
//! send, timers, notifications) it hands to the [`Cluster`]: a member up is dialed, a
//! member down, or replaced by a newer run of the same node, is lost.
//!
//! Timing: every member is probed about once a `PROBE_PERIOD`; one that does not answer
//! (directly, or through others) is suspect, and down after the node timeout
//! (`--node-timeout`, default [`DEFAULT_NODE_TIMEOUT`]). A node killed outright is
//! declared down within the probe period, the indirect probes and the timeout: about 2 s
//! by default, 3 s at most on a loaded machine.

use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroUsize};
use std::sync::{Arc, Weak};
use std::time::Duration;

use foca::{AccumulatingRuntime, Foca, OwnedNotification, PostcardCodec, Timer};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::Cluster;

/// How long a suspect member has to show it is alive, unless `--node-timeout` says.
pub(crate) const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_millis(1000);

/// How often each member probes another.
const PROBE_PERIOD: Duration = Duration::from_millis(500);

/// How long a direct probe waits before asking others to probe.
const PROBE_RTT: Duration = Duration::from_millis(200);

/// A member as foca knows it: a node's name, where it listens, and which run of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
    pub(crate) incarnation: u64,
}

impl foca::Identity for Member {
    type Addr = String;

    fn renew(&self) -> Option<Self> {
        Some(Self {
            incarnation: self.incarnation + 1,
            ..self.clone()
        })
    }

    fn addr(&self) -> String {
        self.name.clone()
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        self.incarnation > adversary.incarnation
    }
}

/// What the membership task takes.
#[derive(Debug)]
pub(crate) enum Event {
    /// A packet a peer sent.
    Packet(bytes::Bytes),
    /// One of foca's timers is due.
    Timer(Timer<Member>),
    /// A peer whose hello arrived: make it part of the cluster.
    Announce(Member),
    /// This node leaves (graceful shutdown).
    Leave,
}

/// The foca configuration for `node_timeout`.
fn config(node_timeout: Duration) -> foca::Config {
    let mut config = foca::Config::new_lan(std::num::NonZeroU32::MIN);
    config.probe_period = PROBE_PERIOD;
    config.probe_rtt = PROBE_RTT;
    config.suspect_to_down_after = node_timeout.max(PROBE_PERIOD);
    config.num_indirect_probes = NonZeroUsize::new(2).unwrap_or(NonZeroUsize::MIN);
    config.max_transmissions = NonZeroU8::new(6).unwrap_or(NonZeroU8::MIN);
    config.periodic_announce = Some(foca::PeriodicParams {
        frequency: Duration::from_secs(5),
        num_members: NonZeroUsize::MIN,
    });
    config.periodic_announce_to_down_members = Some(foca::PeriodicParams {
        frequency: Duration::from_secs(5),
        num_members: NonZeroUsize::MIN,
    });
    // Datagrams of a QUIC connection carry somewhat less than the path's MTU.
    config.max_packet_size = NonZeroUsize::new(1100).unwrap_or(NonZeroUsize::MIN);
    config
}

/// Runs the membership task for `me` until the cluster is gone.
pub(crate) async fn run(
    cluster: Weak<Cluster>,
    me: Member,
    node_timeout: Duration,
    events: mpsc::UnboundedSender<Event>,
    mut incoming: mpsc::UnboundedReceiver<Event>,
) {
    let rng: rand::rngs::StdRng = rand::make_rng();
    let mut foca = Foca::new(me, config(node_timeout), rng, PostcardCodec);
    let mut runtime = AccumulatingRuntime::new();
    while let Some(event) = incoming.recv().await {
        let result = match event {
            Event::Packet(packet) => foca.handle_data(&packet, &mut runtime),
            Event::Timer(timer) => foca.handle_timer(timer, &mut runtime),
            Event::Announce(member) => foca.announce(member, &mut runtime),
            Event::Leave => foca.leave_cluster(&mut runtime),
        };
        if let Err(error) = result {
            tracing::debug!(target: "lunatic::cluster", "membership: {error}");
        }
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        drain(&cluster, &mut runtime, &events);
    }
}

/// Does what foca asked for.
fn drain(
    cluster: &Arc<Cluster>,
    runtime: &mut AccumulatingRuntime<Member>,
    events: &mpsc::UnboundedSender<Event>,
) {
    while let Some((member, packet)) = runtime.to_send() {
        cluster.send_packet(&member, packet);
    }
    while let Some((after, timer)) = runtime.to_schedule() {
        let events = events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = events.send(Event::Timer(timer));
        });
    }
    while let Some(notification) = runtime.to_notify() {
        match notification {
            OwnedNotification::MemberUp(member) => cluster.member_up(&member),
            OwnedNotification::MemberDown(member) => cluster.member_down(&member),
            OwnedNotification::Rename(before, _) => cluster.member_down(&before),
            _ => {}
        }
    }
}
