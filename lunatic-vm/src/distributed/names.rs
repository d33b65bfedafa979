//! Cluster-wide names: each node's copy of the table, and the rule that settles a name
//! two nodes claimed.
//!
//! A node is the authority on its own processes' names: it claims a name for one of them
//! (after checking its own copy), tells every node ([`Frame::Claim`](super::wire::Frame)),
//! repeats its claims to a node that connects, and gives them up when the process ends or
//! (on the others) when the node is lost. Two claims of one name can meet when nodes
//! claimed it at once, or were partitioned: every node keeps the same one, the claim with
//! the earlier stamp (milliseconds since the epoch, at the claim), and on a tie the one
//! of the lower node id. The node of the losing claim kills its process (as Erlang's
//! `global` does by default), so the cluster never holds two processes under one name.

use std::collections::HashMap;

use super::NodeId;
use crate::sandbox::budget::Held;

/// One claim of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claim {
    pub(crate) node: NodeId,
    pub(crate) process: u64,
    pub(crate) message_type: u64,
    pub(crate) stamp: u64,
}

impl Claim {
    /// Whether this claim beats `other` (see the module's docs).
    fn beats(&self, other: &Claim) -> bool {
        (self.stamp, self.node, self.process) < (other.stamp, other.node, other.process)
    }
}

/// What a claim arriving did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// It holds the name now (and beat nobody).
    Holds,
    /// It holds the name; this claim lost it.
    Displaced(Claim),
    /// It lost to the claim already held.
    Lost,
}

/// One node's copy of the cluster's names, and what the names of this node's sandboxed
/// processes cost their environments (each charge goes with its claim).
#[derive(Debug, Default)]
pub(crate) struct Names {
    names: HashMap<String, Claim>,
    charges: HashMap<String, Held>,
}

impl Names {
    /// Who holds `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Claim> {
        self.names.get(name)
    }

    /// Records `claim` of `name`, settling a conflict by the rule.
    pub(crate) fn claim(&mut self, name: &str, claim: Claim) -> Settled {
        match self.names.get_mut(name) {
            None => {
                self.names.insert(name.to_owned(), claim);
                Settled::Holds
            }
            Some(held) if (held.node, held.process) == (claim.node, claim.process) => {
                *held = claim;
                Settled::Holds
            }
            Some(held) if claim.beats(held) => {
                let lost = std::mem::replace(held, claim);
                self.charges.remove(name);
                Settled::Displaced(lost)
            }
            Some(_) => Settled::Lost,
        }
    }

    /// [`Names::claim`] of a name no one holds, by a process of this node, with what it
    /// costs the process's environment while it holds the name.
    pub(crate) fn claim_charged(&mut self, name: &str, claim: Claim, charge: Option<Held>) {
        if self.claim(name, claim) == Settled::Holds {
            if let Some(charge) = charge {
                self.charges.insert(name.to_owned(), charge);
            }
        }
    }

    /// Removes `name` if `process` of `node` holds it.
    pub(crate) fn unclaim(&mut self, name: &str, node: NodeId, process: u64) -> bool {
        match self.names.get(name) {
            Some(held) if (held.node, held.process) == (node, process) => {
                self.names.remove(name);
                self.charges.remove(name);
                true
            }
            _ => false,
        }
    }

    /// Removes every name of `node`.
    pub(crate) fn forget_node(&mut self, node: NodeId) {
        self.names.retain(|_, claim| claim.node != node);
    }

    /// The names `process` of `node` holds.
    pub(crate) fn of_process(&self, node: NodeId, process: u64) -> Vec<String> {
        self.names
            .iter()
            .filter(|(_, claim)| (claim.node, claim.process) == (node, process))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Every name held by a process of `node`, with its claim.
    pub(crate) fn of_node(&self, node: NodeId) -> Vec<(String, Claim)> {
        self.names
            .iter()
            .filter(|(_, claim)| claim.node == node)
            .map(|(name, claim)| (name.clone(), *claim))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(node: NodeId, process: u64, stamp: u64) -> Claim {
        Claim {
            node,
            process,
            message_type: 1,
            stamp,
        }
    }

    #[test]
    fn every_order_of_two_claims_keeps_the_same_one() {
        let early = claim(2, 20, 100);
        let late = claim(1, 10, 200);
        let mut one = Names::default();
        assert_eq!(one.claim("n", early), Settled::Holds);
        assert_eq!(one.claim("n", late), Settled::Lost);
        let mut other = Names::default();
        assert_eq!(other.claim("n", late), Settled::Holds);
        assert_eq!(other.claim("n", early), Settled::Displaced(late));
        assert_eq!(one.get("n"), other.get("n"));
        assert_eq!(one.get("n"), Some(&early));
    }

    #[test]
    fn a_tie_goes_to_the_lower_node() {
        let mut names = Names::default();
        names.claim("n", claim(9, 1, 5));
        assert_eq!(
            names.claim("n", claim(3, 1, 5)),
            Settled::Displaced(claim(9, 1, 5))
        );
    }

    #[test]
    fn a_lost_node_s_names_go() {
        let mut names = Names::default();
        names.claim("a", claim(1, 1, 1));
        names.claim("b", claim(2, 1, 1));
        names.forget_node(1);
        assert!(names.get("a").is_none());
        assert!(names.get("b").is_some());
        assert!(!names.unclaim("b", 2, 7));
        assert!(names.unclaim("b", 2, 1));
    }
}
