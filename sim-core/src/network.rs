//! The simulated network: topology, per-link latency/loss/duplication, and partitions.
//!
//! Semantics (tested in `tests/tests/network.rs`):
//! - A message between two nodes without a topology edge is dropped (`no-link`). Clients reach
//!   every node. A full mesh is implicit: no edges are stored, so 100,000 nodes cost nothing.
//! - Each directed link has a latency distribution, a drop probability and a duplicate
//!   probability. Reordering follows from latency jitter. Lookups go: the newest fault-time
//!   `SetLink` rule that matches, then the scenario's per-link override, then the default.
//! - Partitions are sets of directed cuts. A message is checked when sent and again when it
//!   would be delivered; if either check finds its path cut it is dropped (`partition`), so
//!   messages in flight across a new cut are lost.
//! - Draw order per send is fixed: drop coin (only if the drop probability is non-zero), then
//!   latency, then duplicate coin and the copy's latency (only if duplication is on).

use std::collections::BTreeMap;

use petgraph::graph::{NodeIndex, UnGraph};

use crate::config::{Group, Latency, LinkConfig, NetworkConfig, Partition, Topology};
use crate::detmath;
use crate::hint::cold_path;
use crate::rng::{Probability, SimRng};
use crate::trace::DropReason;
use crate::{NodeId, SimDuration};

/// A latency distribution prepared for sampling (parameters in nanoseconds).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sampler {
    Constant(u64),
    Uniform {
        min: u64,
        span: u64,
    },
    Normal {
        mean: f64,
        stddev: f64,
        min: u64,
    },
    Exponential {
        min: u64,
        mean: f64,
    },
    /// An exponential whose every draw stays far inside `u64` (see [`EXP_MEAN_MAX`]): the
    /// same draws as `Exponential`, converted without its range checks.
    ExponentialBounded {
        min: u64,
        mean: f64,
    },
    Pareto {
        scale: f64,
        inv_shape: f64,
        max: u64,
    },
}

impl Sampler {
    pub(crate) fn new(l: &Latency) -> Sampler {
        match *l {
            Latency::Constant(d) => Sampler::Constant(d.0),
            Latency::Uniform { min, max } => {
                assert!(min <= max, "uniform latency min > max");
                Sampler::Uniform {
                    min: min.0,
                    span: max.0 - min.0,
                }
            }
            Latency::Normal { mean, stddev, min } => Sampler::Normal {
                mean: mean.0 as f64,
                stddev: stddev.0 as f64,
                min: min.0,
            },
            Latency::Exponential { min, mean } => {
                let (min, mean) = (min.0, mean.0 as f64);
                if mean <= EXP_MEAN_MAX && min <= EXP_MIN_MAX {
                    Sampler::ExponentialBounded { min, mean }
                } else {
                    Sampler::Exponential { min, mean }
                }
            }
            Latency::Pareto { scale, shape, max } => {
                assert!(shape > 0.0, "pareto shape must be positive");
                Sampler::Pareto {
                    scale: scale.0 as f64,
                    inv_shape: 1.0 / shape,
                    max: max.0,
                }
            }
        }
    }

    /// One latency draw. The two common shapes are inline; the others call out.
    #[inline(always)]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Sampler::Constant(ns) => ns,
            Sampler::Uniform { min, span } => {
                if span == 0 {
                    min
                } else {
                    min + rng.range_inclusive(0, span)
                }
            }
            _ => self.sample_shaped(rng),
        }
    }

    /// [`Sampler::sample`] with the bounded exponential (every sweep's shape) inline, for
    /// the network's routing: the same draws and values, without a call.
    #[inline(always)]
    fn sample_routed(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Sampler::ExponentialBounded { min, mean } => exp_bounded(rng.unit_open(), min, mean),
            _ => self.sample(rng),
        }
    }

    #[inline(never)]
    fn sample_shaped(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Sampler::Constant(_) | Sampler::Uniform { .. } => self.sample(rng),
            Sampler::Normal { mean, stddev, min } => {
                // Marsaglia's polar method: only +, ×, ÷, sqrt and a portable ln.
                let z = loop {
                    let u = 2.0 * rng.unit_open() - 1.0;
                    let v = 2.0 * rng.unit_open() - 1.0;
                    let s = u * u + v * v;
                    if s > 0.0 && s < 1.0 {
                        break u * (-2.0 * detmath::ln(s) / s).sqrt();
                    }
                };
                to_nanos(mean + stddev * z).max(min)
            }
            Sampler::Exponential { min, mean } | Sampler::ExponentialBounded { min, mean } => {
                exp_general(rng.unit_open(), min, mean)
            }
            Sampler::Pareto {
                scale,
                inv_shape,
                max,
            } => {
                let x = scale * detmath::exp(-detmath::ln_unit_open(rng.unit_open()) * inv_shape);
                to_nanos(x).min(max)
            }
        }
    }
}

/// The largest mean (ns, about 6.3 years) of a [`Sampler::ExponentialBounded`]: `−ln u` of
/// a [`SimRng::unit_open`] draw `u ≥ 2⁻⁵⁴` is at most 37.43, so a draw's float is below
/// `37.5 · 2·10¹⁷ = 7.5·10¹⁸`, where [`to_nanos`] takes its signed conversion.
const EXP_MEAN_MAX: f64 = 2.0e17;

/// The largest `min` of a [`Sampler::ExponentialBounded`]: `min` plus a draw below
/// `7.5·10¹⁸ + 1` stays below `u64::MAX`, so no addition saturates.
const EXP_MIN_MAX: u64 = 9_000_000_000_000_000_000;

/// An exponential draw from the uniform draw `u`: `min + −ln(u)·mean`, in nanoseconds.
#[inline]
fn exp_general(u: f64, min: u64, mean: f64) -> u64 {
    min.saturating_add(to_nanos(-detmath::ln_unit_open(u) * mean))
}

/// [`exp_general`] where `mean ≤ EXP_MEAN_MAX` and `min ≤ EXP_MIN_MAX`. `ln_unit_open(u) ≤
/// 0` for every draw (`u ≤ 1`; the series part is below `ln 2` in magnitude, so its sign
/// or the exponent's decides), so `x` is `±0` (where `to_nanos` gives 0, as `(x + 0.5) as
/// i64` does) or in `(0, 7.5·10¹⁸)`, where `to_nanos` is that conversion; and the sum
/// cannot overflow. The same value as `exp_general`, as a test checks on the draw's
/// extremes and every binade.
#[inline(always)]
fn exp_bounded(u: f64, min: u64, mean: f64) -> u64 {
    let x = -detmath::ln_unit_open(u) * mean;
    debug_assert!(x < 9.0e18, "exponential draw {x} out of the bounded range");
    min + (x + 0.5) as i64 as u64
}

/// Rounds a non-negative float of nanoseconds to an integer, clamping negatives to 0.
#[inline]
fn to_nanos(x: f64) -> u64 {
    if x <= 0.0 {
        0
    } else if x >= 1.8e19 {
        u64::MAX / 4
    } else if x < 9.0e18 {
        // Below 2^63 the signed conversion truncates alike and takes one instruction where
        // the unsigned one takes a subtraction, two conversions and a select.
        (x + 0.5) as i64 as u64
    } else {
        (x + 0.5) as u64
    }
}

/// A link's behaviour, prepared.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Link {
    pub(crate) latency: Sampler,
    pub(crate) drop: Probability,
    pub(crate) duplicate: Probability,
}

impl Link {
    pub(crate) fn new(c: &LinkConfig) -> Link {
        Link {
            latency: Sampler::new(&c.latency),
            drop: Probability::new(c.drop),
            duplicate: Probability::new(c.duplicate),
        }
    }
}

/// A set of endpoints (dense indices), possibly complemented.
#[derive(Clone, Debug)]
pub(crate) struct EndpointSet {
    bits: Vec<u64>,
    negate: bool,
}

impl EndpointSet {
    fn of(members: impl IntoIterator<Item = usize>, len: usize) -> EndpointSet {
        let mut bits = vec![0u64; len.div_ceil(64)];
        for m in members {
            bits[m / 64] |= 1 << (m % 64);
        }
        EndpointSet {
            bits,
            negate: false,
        }
    }
    fn complement(mut self) -> EndpointSet {
        self.negate = !self.negate;
        self
    }
    #[inline]
    fn contains(&self, i: usize) -> bool {
        let member = self
            .bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0);
        member != self.negate
    }

    /// The members among endpoints `0..len` (`len ≤ 64`) as one word, bit `i` for endpoint
    /// `i`: [`EndpointSet::contains`] of each at once.
    fn mask(&self, len: usize) -> u64 {
        debug_assert!(len <= 64);
        let word = self.bits.first().copied().unwrap_or(0);
        let word = if self.negate { !word } else { word };
        let below = if len >= 64 {
            u64::MAX
        } else {
            (1u64 << len) - 1
        };
        word & below
    }
}

/// One directed cut: nothing from `from` reaches `to`.
#[derive(Clone, Debug)]
pub(crate) struct Cut {
    pub(crate) id: u64,
    from: EndpointSet,
    to: EndpointSet,
}

/// What [`Network::linked`], [`Network::cut`] and [`Network::link`] answer for one directed
/// pair of endpoints, computed when the network changes rather than per message.
#[derive(Clone, Copy, Debug)]
struct Hop {
    linked: bool,
    cut: bool,
    /// Index of the pair's link in `Network::hop_links`.
    link: u32,
}

/// Endpoints (nodes and clients) up to which [`Network::refresh`] tabulates every pair's
/// [`Hop`] (at most 4,096 pairs, rebuilt at each partition or link change).
const HOP_TABLE_MAX: usize = 64;

/// What the network decided for one sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Drop(DropReason),
    /// Deliver after `latency`; if `copy` is set, deliver a duplicate after that latency too.
    Deliver {
        latency: u64,
        copy: Option<u64>,
    },
}

pub(crate) struct Network {
    node_count: u32,
    endpoint_count: usize,
    graph: Option<UnGraph<(), ()>>,
    /// Each node's neighbours in ascending order (graph topologies only), so that picking a
    /// random neighbour costs no allocation.
    adjacency: Vec<Vec<u32>>,
    base: NetworkConfig,
    default: Link,
    overrides: BTreeMap<(u32, u32), Link>,
    /// Fault-time link changes, newest last: (from, to, link); `None` matches any node.
    rules: Vec<(Option<u32>, Option<u32>, Link)>,
    cuts: Vec<Cut>,
    /// True while nothing but the default link applies and it neither drops nor duplicates: a
    /// full mesh, no partition, no override, no fault-time rule. Then a send is one latency
    /// draw (the draws are the same as on the general path). Kept by [`Network::refresh`].
    plain: bool,
    /// Each directed pair's [`Hop`], at `src * endpoint_count + dst`, while the network is not
    /// `plain` and has at most [`HOP_TABLE_MAX`] endpoints (else empty: each message then
    /// scans the rules and cuts). Kept by [`Network::refresh`].
    hops: Vec<Hop>,
    /// The links `hops` name.
    hop_links: Vec<Link>,
    pub(crate) rng: SimRng,
}

impl Network {
    pub(crate) fn new(
        node_count: u32,
        client_count: u32,
        topology: &Topology,
        config: &NetworkConfig,
        rng: SimRng,
    ) -> Network {
        let graph = match topology {
            Topology::FullMesh => None,
            Topology::Ring => Some(edges_graph(
                node_count,
                (0..node_count)
                    .filter(|_| node_count > 1)
                    .map(|i| (i, (i + 1) % node_count)),
            )),
            Topology::Star { center } => Some(edges_graph(
                node_count,
                (0..node_count)
                    .filter(|&i| i != center.0)
                    .map(|i| (center.0, i)),
            )),
            Topology::Edges(e) => Some(edges_graph(node_count, e.iter().map(|(a, b)| (a.0, b.0)))),
        };
        let adjacency = match &graph {
            None => Vec::new(),
            Some(g) => (0..node_count as usize)
                .map(|i| {
                    let mut ns: Vec<u32> = g
                        .neighbors(NodeIndex::new(i))
                        .map(|j| j.index() as u32)
                        .collect();
                    ns.sort_unstable();
                    ns.dedup();
                    ns
                })
                .collect(),
        };
        let overrides = config
            .overrides
            .iter()
            .map(|o| ((o.from.0, o.to.0), Link::new(&o.link)))
            .collect();
        let mut net = Network {
            node_count,
            endpoint_count: node_count as usize + client_count as usize,
            graph,
            adjacency,
            base: config.clone(),
            default: Link::new(&config.default),
            overrides,
            rules: Vec::new(),
            cuts: Vec::new(),
            plain: false,
            hops: Vec::new(),
            hop_links: Vec::new(),
            rng,
        };
        net.refresh();
        net
    }

    /// Recomputes `plain` and the hop table after anything they depend on changed.
    fn refresh(&mut self) {
        self.plain = self.graph.is_none()
            && self.cuts.is_empty()
            && self.rules.is_empty()
            && self.overrides.is_empty()
            && self.default.drop.is_never()
            && self.default.duplicate.is_never();
        let ec = self.endpoint_count;
        // The table's buffers are reused: a nemesis refreshes it at every fault.
        let mut hops = std::mem::take(&mut self.hops);
        hops.clear();
        self.hop_links.clear();
        if !self.plain && ec <= HOP_TABLE_MAX {
            hops.reserve(ec * ec);
            if self.overrides.is_empty() {
                self.tabulate_rules(&mut hops);
            } else {
                self.tabulate_any(&mut hops);
            }
        }
        self.hops = hops;
    }

    /// The hop table's `cut` for one row: the endpoints a partition cuts `src` from, as one
    /// word (the table has at most 64 endpoints). [`Network::cut_slow`] for every `dst` at
    /// once: a cut's source set is tested once a row instead of once a pair.
    fn cut_row(&self, src: usize) -> u64 {
        let ec = self.endpoint_count;
        debug_assert!(ec <= HOP_TABLE_MAX);
        self.cuts
            .iter()
            .filter(|c| c.from.contains(src))
            .fold(0, |row, c| row | c.to.mask(ec))
    }

    /// Fills `hops` (and `hop_links`) for a network without overrides: `link_slow`'s answer
    /// for a pair is the newest rule that matches it, else the default, so the links are the
    /// rules' in order and then the default, and each pair names its own without comparing
    /// links.
    fn tabulate_rules(&mut self, hops: &mut Vec<Hop>) {
        let (ec, n) = (self.endpoint_count, self.node_count as usize);
        let default = self.rules.len();
        self.hop_links
            .extend(self.rules.iter().map(|(_, _, link)| link.clone()));
        self.hop_links.push(self.default.clone());
        let node = |i: usize| if i < n { Some(i as u32) } else { None };
        for src in 0..ec {
            let s = node(src);
            let cut = self.cut_row(src);
            for dst in 0..ec {
                let d = node(dst);
                let link = (self.rules.iter().enumerate().rev())
                    .find(|(_, (from, to, _))| {
                        (from.is_none() || *from == s) && (to.is_none() || *to == d)
                    })
                    .map_or(default, |(i, _)| i);
                hops.push(Hop {
                    linked: self.linked(src, dst),
                    cut: (cut >> dst) & 1 != 0,
                    link: link as u32,
                });
            }
        }
    }

    /// Fills `hops` (and `hop_links`) from `link_slow` pair by pair, naming each distinct link
    /// once.
    fn tabulate_any(&mut self, hops: &mut Vec<Hop>) {
        let ec = self.endpoint_count;
        let mut links: Vec<&Link> = Vec::new();
        for src in 0..ec {
            let cut = self.cut_row(src);
            for dst in 0..ec {
                let l = self.link_slow(src, dst);
                let at = match links.iter().position(|x| std::ptr::eq(*x, l)) {
                    Some(i) => i,
                    None => {
                        links.push(l);
                        links.len() - 1
                    }
                };
                hops.push(Hop {
                    linked: self.linked(src, dst),
                    cut: (cut >> dst) & 1 != 0,
                    link: at as u32,
                });
            }
        }
        let links: Vec<Link> = links.into_iter().cloned().collect();
        self.hop_links = links;
    }

    /// The tabulated hop from `src` to `dst`, if the network keeps a table.
    #[inline]
    fn hop(&self, src: usize, dst: usize) -> Option<Hop> {
        self.hops.get(src * self.endpoint_count + dst).copied()
    }

    /// Whether the topology links two nodes (clients are linked to every node).
    #[inline]
    pub(crate) fn linked(&self, a: usize, b: usize) -> bool {
        match &self.graph {
            None => true,
            Some(g) => {
                let n = self.node_count as usize;
                a >= n
                    || b >= n
                    || a == b
                    || g.find_edge(NodeIndex::new(a), NodeIndex::new(b)).is_some()
            }
        }
    }

    /// The topology neighbours of `node` (every other node for a full mesh).
    pub(crate) fn neighbour_count(&self, node: NodeId) -> usize {
        match &self.graph {
            None => self.node_count as usize - 1,
            Some(_) => self.adjacency[node.index()].len(),
        }
    }

    /// The `k`-th neighbour of `node`, `k < neighbour_count(node)`, in a stable order.
    pub(crate) fn neighbour(&self, node: NodeId, k: usize) -> NodeId {
        match &self.graph {
            None => NodeId(if k < node.index() {
                k as u32
            } else {
                k as u32 + 1
            }),
            Some(_) => NodeId(self.adjacency[node.index()][k]),
        }
    }

    /// Whether a partition currently cuts `src → dst` (dense endpoint indices).
    #[inline]
    pub(crate) fn cut(&self, src: usize, dst: usize) -> bool {
        if self.cuts.is_empty() {
            return false;
        }
        match self.hop(src, dst) {
            Some(h) => h.cut,
            None => self.cut_slow(src, dst),
        }
    }

    /// [`Network::cut`] from the cuts themselves.
    fn cut_slow(&self, src: usize, dst: usize) -> bool {
        !self.cuts.is_empty()
            && self
                .cuts
                .iter()
                .any(|c| c.from.contains(src) && c.to.contains(dst))
    }

    /// A latency of the link from `src` to `dst` as it is now, drawn from `rng` (not the
    /// network's own stream): for a message the network did not route now (a replay).
    pub(crate) fn latency_from(&self, src: usize, dst: usize, rng: &mut SimRng) -> u64 {
        self.link(src, dst).latency.sample(rng)
    }

    #[inline]
    fn link(&self, src: usize, dst: usize) -> &Link {
        match self.hop(src, dst) {
            Some(h) => &self.hop_links[h.link as usize],
            None => self.link_slow(src, dst),
        }
    }

    /// [`Network::link`] from the rules, overrides and default themselves.
    fn link_slow(&self, src: usize, dst: usize) -> &Link {
        if self.rules.is_empty() && self.overrides.is_empty() {
            return &self.default;
        }
        let n = self.node_count as usize;
        let node = |i: usize| if i < n { Some(i as u32) } else { None };
        let (s, d) = (node(src), node(dst));
        for (from, to, link) in self.rules.iter().rev() {
            let ok_from = from.is_none() || (*from == s);
            let ok_to = to.is_none() || (*to == d);
            if ok_from && ok_to {
                return link;
            }
        }
        if let (Some(s), Some(d)) = (s, d) {
            if let Some(l) = self.overrides.get(&(s, d)) {
                return l;
            }
        }
        &self.default
    }

    /// Decides the fate of a message sent now from `src` to `dst`.
    #[inline(always)]
    pub(crate) fn route(&mut self, src: usize, dst: usize) -> Route {
        if self.plain {
            return Route::Deliver {
                latency: self.default.latency.sample(&mut self.rng),
                copy: None,
            };
        }
        self.route_general(src, dst)
    }

    /// [`Network::route`] when a topology, partition, override, rule, loss or duplication
    /// may apply.
    #[inline(never)]
    fn route_general(&mut self, src: usize, dst: usize) -> Route {
        let Some(hop) = self.hop(src, dst) else {
            return self.route_untabled(src, dst);
        };
        // The drops and the copy are the rare branches: marked so, LLVM keeps the latency
        // draw's word read inline (it called it out of line, 13 instructions more a send).
        if !hop.linked {
            cold_path();
            return Route::Drop(DropReason::NoLink);
        }
        if hop.cut {
            cold_path();
            return Route::Drop(DropReason::Partition);
        }
        // The same draws, in the same order, as `route_untabled`.
        let link = &self.hop_links[hop.link as usize];
        let rng = &mut self.rng;
        if !link.drop.is_never() && rng.chance(link.drop) {
            cold_path();
            return Route::Drop(DropReason::Loss);
        }
        let latency = link.latency.sample_routed(rng);
        let copy = if !link.duplicate.is_never() && rng.chance(link.duplicate) {
            cold_path();
            Some(link.latency.sample(rng))
        } else {
            None
        };
        Route::Deliver { latency, copy }
    }

    /// [`Network::route_general`] for a network too large for the hop table.
    fn route_untabled(&mut self, src: usize, dst: usize) -> Route {
        if !self.linked(src, dst) {
            return Route::Drop(DropReason::NoLink);
        }
        if self.cut(src, dst) {
            return Route::Drop(DropReason::Partition);
        }
        // Split the borrow: the link is read while the rng is drawn from.
        let (drop, dup) = {
            let l = self.link(src, dst);
            (l.drop, l.duplicate)
        };
        if !drop.is_never() && self.rng.chance(drop) {
            return Route::Drop(DropReason::Loss);
        }
        let latency = self.sample_latency(src, dst);
        let copy = if !dup.is_never() && self.rng.chance(dup) {
            Some(self.sample_latency(src, dst))
        } else {
            None
        };
        Route::Deliver { latency, copy }
    }

    #[inline]
    fn sample_latency(&mut self, src: usize, dst: usize) -> u64 {
        if self.rules.is_empty() && self.overrides.is_empty() {
            return self.default.latency.sample(&mut self.rng);
        }
        let sampler = self.link(src, dst).latency.clone();
        sampler.sample(&mut self.rng)
    }

    pub(crate) fn add_partition(&mut self, id: u64, p: &Partition) {
        self.add_cuts(id, p);
        self.refresh();
    }

    fn add_cuts(&mut self, id: u64, p: &Partition) {
        let len = self.endpoint_count;
        let n = self.node_count;
        let set = |g: &Group| {
            EndpointSet::of(
                g.nodes
                    .iter()
                    .map(|x| x.index())
                    .chain(g.clients.iter().map(|c| n as usize + c.index())),
                len,
            )
        };
        match p {
            Partition::Split(groups) => {
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            self.cuts.push(Cut {
                                id,
                                from: set(a),
                                to: set(b),
                            });
                        }
                    }
                }
            }
            Partition::Isolate(node) => {
                let me = EndpointSet::of([node.index()], len);
                self.cuts.push(Cut {
                    id,
                    from: me.clone(),
                    to: me.clone().complement(),
                });
                self.cuts.push(Cut {
                    id,
                    from: me.clone().complement(),
                    to: me,
                });
            }
            Partition::OneWay { from, to } => self.cuts.push(Cut {
                id,
                from: set(from),
                to: set(to),
            }),
            Partition::Bridge { left, right, .. } => {
                self.cuts.push(Cut {
                    id,
                    from: set(left),
                    to: set(right),
                });
                self.cuts.push(Cut {
                    id,
                    from: set(right),
                    to: set(left),
                });
            }
        }
    }

    pub(crate) fn remove_partition(&mut self, id: u64) {
        self.cuts.retain(|c| c.id != id);
        self.refresh();
    }

    pub(crate) fn heal(&mut self) {
        self.cuts.clear();
        self.refresh();
    }

    #[cfg(test)]
    pub(crate) fn partitioned(&self) -> bool {
        !self.cuts.is_empty()
    }

    pub(crate) fn set_link(&mut self, from: Option<NodeId>, to: Option<NodeId>, link: &LinkConfig) {
        self.rules
            .push((from.map(|n| n.0), to.map(|n| n.0), Link::new(link)));
        self.refresh();
    }

    pub(crate) fn reset_links(&mut self) {
        self.rules.clear();
        self.default = Link::new(&self.base.default);
        self.refresh();
    }
}

fn edges_graph(node_count: u32, edges: impl Iterator<Item = (u32, u32)>) -> UnGraph<(), ()> {
    let mut g = UnGraph::with_capacity(node_count as usize, 0);
    for _ in 0..node_count {
        g.add_node(());
    }
    for (a, b) in edges {
        if a != b
            && g.find_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize))
                .is_none()
        {
            g.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
        }
    }
    g
}

/// Mean of a latency distribution in nanoseconds (for reports and sanity tests).
pub fn latency_mean(l: &Latency) -> f64 {
    match *l {
        Latency::Constant(d) => d.0 as f64,
        Latency::Uniform { min, max } => (min.0 as f64 + max.0 as f64) / 2.0,
        Latency::Normal { mean, .. } => mean.0 as f64,
        Latency::Exponential { min, mean } => min.0 as f64 + mean.0 as f64,
        Latency::Pareto { scale, shape, .. } => {
            if shape > 1.0 {
                shape * scale.0 as f64 / (shape - 1.0)
            } else {
                f64::INFINITY
            }
        }
    }
}

/// Draws one sample of `l` from `rng`: exposed for distribution tests.
pub fn sample_latency(l: &Latency, rng: &mut SimRng) -> SimDuration {
    SimDuration(Sampler::new(l).sample(rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::StreamLabel;

    fn mean_of(l: Latency) -> f64 {
        let mut rng = SimRng::new(3, StreamLabel::Custom(9));
        let s = Sampler::new(&l);
        (0..200_000).map(|_| s.sample(&mut rng) as f64).sum::<f64>() / 200_000.0
    }

    #[test]
    fn sample_means_match_distribution_means() {
        let ms = SimDuration::from_millis;
        for l in [
            Latency::Constant(ms(3)),
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
            Latency::Normal {
                mean: ms(20),
                stddev: ms(2),
                min: SimDuration::ZERO,
            },
            Latency::Exponential {
                min: ms(1),
                mean: ms(5),
            },
            Latency::Pareto {
                scale: ms(1),
                shape: 3.0,
                max: SimDuration::from_secs(100),
            },
        ] {
            let want = latency_mean(&l);
            let got = mean_of(l.clone());
            assert!(
                (got - want).abs() / want < 0.02,
                "{l:?}: mean {got} vs {want}"
            );
        }
    }

    /// The samplers draw what the same formulas would with the platform's `f64::ln`: the
    /// portable `ln` (within four ulps of it) moves a draw by at most one nanosecond of
    /// rounding, so the distributions keep their parameters draw for draw.
    #[test]
    fn shaped_samplers_agree_with_std_ln_draw_for_draw() {
        let ms = SimDuration::from_millis;
        let exp = Latency::Exponential {
            min: ms(1),
            mean: ms(3),
        };
        let normal = Latency::Normal {
            mean: ms(20),
            stddev: ms(2),
            min: SimDuration::ZERO,
        };
        let std_exp = |rng: &mut SimRng| 1_000_000 + to_nanos(-rng.unit_open().ln() * 3e6);
        let std_normal = |rng: &mut SimRng| loop {
            let u = 2.0 * rng.unit_open() - 1.0;
            let v = 2.0 * rng.unit_open() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                break to_nanos(2e7 + 2e6 * u * (-2.0 * s.ln() / s).sqrt());
            }
        };
        type Draw<'a> = &'a dyn Fn(&mut SimRng) -> u64;
        let cases: [(Latency, Draw); 2] = [(exp, &std_exp), (normal, &std_normal)];
        for (l, reference) in cases {
            let s = Sampler::new(&l);
            let (mut a, mut b) = (
                SimRng::new(5, StreamLabel::Custom(2)),
                SimRng::new(5, StreamLabel::Custom(2)),
            );
            let mut moved = 0;
            for _ in 0..200_000 {
                let (got, want) = (s.sample(&mut a), reference(&mut b));
                assert!(got.abs_diff(want) <= 1, "{l:?}: {got} vs {want}");
                moved += usize::from(got != want);
            }
            assert!(moved < 20, "{l:?}: {moved} draws moved by a nanosecond");
        }
    }

    /// The bounded exponential's conversion gives `exp_general`'s value on every extreme of
    /// `unit_open` (its smallest and largest draws, 1.0, each binade's ends and its √2 split)
    /// and on random draws, for means and minimums up to the bounds and small ones; and
    /// `sample_routed` draws what `sample` draws, draw for draw.
    #[test]
    fn bounded_exponential_is_the_general_one() {
        let step = 1.0 / (1u64 << 53) as f64;
        let mut us = vec![
            0.5 * step,
            1.5 * step,
            1.0 - 0.5 * step,
            1.0 - 1.5 * step,
            1.0,
        ];
        for e in 1..=54 {
            let b = (2.0f64).powi(-e);
            us.extend([
                b,
                b * (1.0 + f64::EPSILON),
                b * 1.999_999_999,
                b * std::f64::consts::SQRT_2,
                b * std::f64::consts::SQRT_2 * (1.0 + f64::EPSILON),
            ]);
        }
        let mut rng = SimRng::new(11, StreamLabel::Custom(4));
        us.extend((0..100_000).map(|_| rng.unit_open()));
        let means = [
            0.0,
            1.0,
            3e6,
            123_456_789.0,
            EXP_MEAN_MAX / 3.0,
            EXP_MEAN_MAX,
        ];
        let mins = [0, 1, 1_000_000, EXP_MIN_MAX];
        for &u in &us {
            assert!(detmath::ln_unit_open(u) <= 0.0, "ln({u}) > 0");
            for &mean in &means {
                for &min in &mins {
                    assert_eq!(
                        exp_bounded(u, min, mean),
                        exp_general(u, min, mean),
                        "u {u}, min {min}, mean {mean}"
                    );
                }
            }
        }
        let ms = SimDuration::from_millis;
        let bounded = Sampler::new(&Latency::Exponential {
            min: ms(1),
            mean: ms(3),
        });
        assert!(matches!(bounded, Sampler::ExponentialBounded { .. }));
        let huge = Latency::Exponential {
            min: ms(1),
            mean: SimDuration(EXP_MEAN_MAX as u64 + 1_000),
        };
        assert!(matches!(Sampler::new(&huge), Sampler::Exponential { .. }));
        for s in [bounded, Sampler::new(&huge)] {
            let (mut a, mut b) = (
                SimRng::new(6, StreamLabel::Custom(3)),
                SimRng::new(6, StreamLabel::Custom(3)),
            );
            for _ in 0..10_000 {
                assert_eq!(s.sample_routed(&mut a), s.sample(&mut b));
            }
        }
    }

    /// `mask` holds exactly the members `contains` finds, for sets of every size the hop
    /// table uses, complemented or not.
    #[test]
    fn endpoint_set_mask_is_contains() {
        let mut rng = SimRng::new(2, StreamLabel::Custom(8));
        for len in 0..=64 {
            for _ in 0..20 {
                let members: Vec<usize> = (0..len).filter(|_| rng.below(3) == 0).collect();
                let mut set = EndpointSet::of(members, len);
                if rng.below(2) == 0 {
                    set = set.complement();
                }
                let mask = set.mask(len);
                for i in 0..64 {
                    assert_eq!(
                        (mask >> i) & 1 != 0,
                        i < len && set.contains(i),
                        "{len} {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn cuts_are_directed() {
        let cfg = NetworkConfig::default();
        let mut net = Network::new(
            4,
            0,
            &Topology::FullMesh,
            &cfg,
            SimRng::new(0, StreamLabel::Network),
        );
        let g = |v: &[u32]| Group {
            nodes: v.iter().map(|&i| NodeId(i)).collect(),
            clients: vec![],
        };
        net.add_partition(
            1,
            &Partition::OneWay {
                from: g(&[0]),
                to: g(&[1, 2]),
            },
        );
        assert!(net.cut(0, 1) && net.cut(0, 2) && !net.cut(1, 0) && !net.cut(0, 3));
        net.add_partition(2, &Partition::Isolate(NodeId(3)));
        assert!(net.cut(3, 0) && net.cut(2, 3) && !net.cut(1, 2));
        net.remove_partition(1);
        assert!(!net.cut(0, 1) && net.cut(3, 1));
        net.heal();
        assert!(!net.partitioned());
    }

    #[test]
    fn plain_path_only_while_nothing_else_applies() {
        let cfg = NetworkConfig::default();
        let rng = || SimRng::new(0, StreamLabel::Network);
        let mut net = Network::new(4, 1, &Topology::FullMesh, &cfg, rng());
        assert!(net.plain);
        net.add_partition(1, &Partition::Isolate(NodeId(2)));
        assert!(!net.plain, "a partition");
        assert_eq!(net.route(0, 2), Route::Drop(DropReason::Partition));
        net.remove_partition(1);
        assert!(net.plain);
        let lossy = LinkConfig {
            drop: 1.0,
            ..cfg.default.clone()
        };
        net.set_link(None, None, &lossy);
        assert!(!net.plain, "a fault-time rule");
        assert_eq!(net.route(0, 1), Route::Drop(DropReason::Loss));
        net.reset_links();
        assert!(net.plain);
        net.add_partition(2, &Partition::Isolate(NodeId(0)));
        net.heal();
        assert!(net.plain);
        let ring = Network::new(4, 0, &Topology::Ring, &cfg, rng());
        assert!(!ring.plain, "a topology");
        let mut duplicating = cfg.clone();
        duplicating.default.duplicate = 0.5;
        assert!(!Network::new(4, 0, &Topology::FullMesh, &duplicating, rng()).plain);
    }

    /// The hop table answers as the rules, cuts and topology do, and a tabled route draws
    /// exactly what an untabled one draws: two networks on the same stream, one routing through
    /// the table and one without it, through random partitions, link rules and heals.
    #[test]
    fn the_hop_table_routes_and_draws_as_the_rules_do() {
        use crate::config::LinkOverride;
        use crate::ClientId;
        let topologies = [
            Topology::FullMesh,
            Topology::Ring,
            Topology::Star { center: NodeId(1) },
        ];
        // With an override the table names links pair by pair, without one from the rules.
        for (seed, (topology, with_override)) in (topologies.iter().cloned())
            .flat_map(|t| [(t.clone(), true), (t, false)])
            .enumerate()
        {
            let mut cfg = NetworkConfig::default();
            cfg.default.drop = 0.1;
            let overrides = if with_override { 1 } else { 0 };
            cfg.overrides.extend((0..overrides).map(|_| LinkOverride {
                from: NodeId(0),
                to: NodeId(3),
                link: LinkConfig {
                    latency: Latency::Exponential {
                        min: SimDuration(1_000),
                        mean: SimDuration(9_000),
                    },
                    drop: 0.3,
                    duplicate: 0.4,
                },
            }));
            let stream = || SimRng::new(seed as u64, StreamLabel::Network);
            let mut tabled = Network::new(5, 2, &topology, &cfg, stream());
            let mut untabled = Network::new(5, 2, &topology, &cfg, stream());
            let mut faults = SimRng::new(seed as u64, StreamLabel::Custom(0x68_6f_70));
            let group = |nodes: &[u32], clients: &[u32]| Group {
                nodes: nodes.iter().map(|&n| NodeId(n)).collect(),
                clients: clients.iter().map(|&c| ClientId(c)).collect(),
            };
            for round in 0..300u64 {
                match faults.below(8) {
                    0 => {
                        let p = Partition::Isolate(NodeId(faults.below(5) as u32));
                        tabled.add_partition(round, &p);
                        untabled.add_partition(round, &p);
                    }
                    1 => {
                        let p = Partition::OneWay {
                            from: group(&[0, 1], &[1]),
                            to: group(&[3], &[]),
                        };
                        tabled.add_partition(round, &p);
                        untabled.add_partition(round, &p);
                    }
                    2 => {
                        let link = LinkConfig {
                            latency: Latency::Uniform {
                                min: SimDuration(round),
                                max: SimDuration(round * 3),
                            },
                            drop: 0.2,
                            duplicate: 0.2,
                        };
                        let node = |rng: &mut SimRng| {
                            (rng.below(3) > 0).then(|| NodeId(rng.below(5) as u32))
                        };
                        let (from, to) = (node(&mut faults), node(&mut faults));
                        tabled.set_link(from, to, &link);
                        untabled.set_link(from, to, &link);
                    }
                    3 => {
                        tabled.heal();
                        untabled.heal();
                    }
                    4 => {
                        tabled.reset_links();
                        untabled.reset_links();
                    }
                    _ => {}
                }
                assert!(!tabled.hops.is_empty() || tabled.plain);
                for src in 0..7 {
                    for dst in 0..7 {
                        assert_eq!(tabled.cut(src, dst), untabled.cut_slow(src, dst));
                        assert_eq!(tabled.link(src, dst), untabled.link_slow(src, dst));
                        assert_eq!(
                            tabled.route(src, dst),
                            if untabled.plain {
                                untabled.route(src, dst)
                            } else {
                                untabled.route_untabled(src, dst)
                            },
                            "round {round}: {src} -> {dst}"
                        );
                    }
                }
            }
            assert_eq!(
                tabled.rng.next_u64(),
                untabled.rng.next_u64(),
                "the same draws"
            );
        }
    }

    #[test]
    fn ring_and_star_links() {
        let cfg = NetworkConfig::default();
        let ring = Network::new(
            5,
            1,
            &Topology::Ring,
            &cfg,
            SimRng::new(0, StreamLabel::Network),
        );
        assert!(ring.linked(0, 1) && ring.linked(4, 0) && !ring.linked(0, 2));
        assert!(ring.linked(5, 2), "clients reach every node");
        assert_eq!(ring.neighbour_count(NodeId(0)), 2);
        assert_eq!(ring.neighbour(NodeId(0), 1), NodeId(4));
        let star = Network::new(
            4,
            0,
            &Topology::Star { center: NodeId(0) },
            &cfg,
            SimRng::new(0, StreamLabel::Network),
        );
        assert!(star.linked(0, 3) && !star.linked(1, 2));
        let mesh = Network::new(
            4,
            0,
            &Topology::FullMesh,
            &cfg,
            SimRng::new(0, StreamLabel::Network),
        );
        assert_eq!(
            (0..3)
                .map(|k| mesh.neighbour(NodeId(1), k).0)
                .collect::<Vec<_>>(),
            vec![0, 2, 3]
        );
    }
}
