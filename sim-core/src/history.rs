//! Client histories: every operation a simulated client issued, as invoke and completion.
//!
//! The shape follows Jepsen: an operation is invoked at one instant and completes later as `ok`
//! (it took effect, with this response), `fail` (it definitely did not take effect), or
//! `unknown` (the client timed out or the run ended first: it may have taken effect at any
//! point after its invocation, or never). Checkers read histories, never protocol internals.

use crate::{ClientId, NodeId, Request, RequestId, Response, SimTime};

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Completed and took effect; the service's response.
    Ok(Response),
    /// Completed and definitely did not take effect.
    Fail,
    /// Timed out: indeterminate.
    Unknown,
}

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub client: ClientId,
    pub request_id: RequestId,
    /// The node the request was (last) sent to.
    pub node: NodeId,
    /// The nodes it was sent to before `node`, in order, when a redirect or a retry moved it
    /// (empty when every attempt went to `node`): what the CAP report reads to tell an
    /// operation whose attempts crossed a partition.
    pub via: Vec<NodeId>,
    pub request: Request,
    pub invoke: SimTime,
    /// `None` while pending; an operation still pending when the run ends is indeterminate.
    pub completion: Option<(SimTime, Outcome)>,
}

impl Operation {
    /// The request is sent again, to `node` (a redirect or a retry).
    pub(crate) fn move_to(&mut self, node: NodeId) {
        if node != self.node {
            self.via.push(self.node);
            self.node = node;
        }
    }

    /// Every node the request was sent to, in order: `via`, then `node`.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.via.iter().copied().chain(std::iter::once(self.node))
    }
    /// True when the operation completed `ok`.
    pub fn is_ok(&self) -> bool {
        matches!(self.completion, Some((_, Outcome::Ok(_))))
    }
    /// True when the outcome is indeterminate (timed out, or never completed).
    pub fn is_indeterminate(&self) -> bool {
        matches!(self.completion, None | Some((_, Outcome::Unknown)))
    }
}

/// Every operation of a run, in invocation order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub ops: Vec<Operation>,
}

impl History {
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn ok_count(&self) -> usize {
        self.ops.iter().filter(|o| o.is_ok()).count()
    }
}
