//! Gossip: epidemic broadcast of a grow-only set by anti-entropy.
//!
//! # The service
//!
//! Clients add values to a set replicated on every node (`Request::Broadcast`) through any
//! node, and read one node's copy (`Request::ReadSet`). A node acknowledges a broadcast only
//! after the value is durable in its own storage; from then on the value must reach every node
//! that is up once the faults have healed. That promise is the convergence check
//! ([`check_convergence`], built on `sim_core::check::convergence`).
//!
//! # The algorithm
//!
//! Demers et al., "Epidemic Algorithms for Replicated Database Maintenance" (PODC 1987),
//! describe *anti-entropy*: every node, periodically and independently, picks a peer at random
//! and resolves the differences between their two copies. Which way the information flows
//! gives three variants, all implemented here ([`Mode`]):
//!
//! - **push**: the initiator sends the peer what the peer lacks;
//! - **pull**: the initiator fetches from the peer what the initiator lacks;
//! - **push-pull**: both.
//!
//! Demers et al. show why the variants differ. With push, a node still lacking an update after
//! round `i` (a fraction `p_i`) stays uninformed only if no informed node happens to pick it,
//! so `p_{i+1} ≈ p_i·e^{-1}`: fast at first, slow at the end. With pull, it stays uninformed
//! only if the peer *it* picks is uninformed too, so `p_{i+1} = p_i²`: slow at first, very fast
//! at the end. Push-pull combines both; Karp, Schindelhauer, Shenker and Vöcking ("Randomized
//! Rumor Spreading", FOCS 2000) show that it informs all `n` nodes in `log₃ n + O(log log n)`
//! rounds. Contacting `fanout` peers per round (rather than one) shortens every phase.
//!
//! Sending the whole set every round would make each exchange as large as the set. Instead,
//! like Scuttlebutt (van Renesse et al., "Efficient Reconciliation and Flow Control for
//! Anti-Entropy Protocols", LADIS 2008), every value is stamped by the node that accepted it
//! from a client with `(origin, seq)`, `seq` counting that origin's values from 1. A node holds
//! a *prefix* `1..=hwm` of every origin's sequence, so its state is summarised by a sparse
//! version vector of high-water marks, and the values one node lacks from another are, per
//! origin, one contiguous run. One exchange (a "round contact") is:
//!
//! 1. `A → B  Syn { summary, count }`: a 64-bit hash of A's version vector. If B's summary is
//!    equal, the two copies are the same and the contact ends here — the common case once the
//!    cluster has converged, so a quiet cluster costs one small message per contact.
//! 2. `B → A  Digest { vv }`: B's version vector.
//! 3. `A → B  Delta { runs, want }`: the runs B lacks (push, push-pull) and, for every origin
//!    where B is ahead, A's high-water mark (pull, push-pull).
//! 4. `B → A  Delta { runs }`: the runs A asked for.
//!
//! A run is applied only where it connects to the receiver's prefix (`first ≤ hwm + 1`); the
//! rest of it is ignored and traced (a stale delta, e.g. one that overtook the receiver's
//! crash). Every delta is capped at [`DELTA_VALUES_MAX`] values; what does not fit goes in a
//! later round.
//!
//! # Durability and recovery
//!
//! Every value a node adds — from a client or from a peer — is written to storage under its
//! stamp, and the node syncs before the handler ends: before acknowledging a client, and once
//! per received delta (a batch). So in the correct variant a node's durable state equals its
//! memory at every handler boundary, and after a crash [`Process::on_recover`] rebuilds the
//! same prefixes (and its own next sequence number) from storage. The deliberate bug
//! [`Bug::AckBeforePersist`] acknowledges first and never persists: a crash right after an
//! acknowledgement, before the next round, loses a value no other node has — which the
//! convergence check must catch.
//!
//! # Observations
//!
//! [`Observation::Learned`] each time a node adds a value, and [`Observation::Recovered`] with
//! exactly what a restarted node rebuilt from storage. These are the facts the convergence
//! checker replays.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::check::convergence::{self, Holding};
use sim_core::check::{CheckResult, Convergence, Disseminates};
use sim_core::protocol::{rules, CheckList, FieldError, Protocol};
use sim_core::{
    ClientId, Context, NodeId, Process, Request, RequestId, Response, RunResult, Service,
    SimConfig, SimDuration, Value,
};

/// Most values one `Delta` carries; a larger difference is repaired over several rounds.
pub const DELTA_VALUES_MAX: usize = 4096;

/// How nodes exchange state each round.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum Mode {
    /// Send what I have (or what is new) to `fanout` peers.
    Push,
    /// Ask `fanout` peers for what they have that I lack.
    Pull,
    /// Both: send my digest and values, receive theirs.
    PushPull,
}

impl Mode {
    /// Whether the initiator's values flow to the peer.
    fn pushes(self) -> bool {
        matches!(self, Mode::Push | Mode::PushPull)
    }
    /// Whether the peer's values flow to the initiator.
    fn pulls(self) -> bool {
        matches!(self, Mode::Pull | Mode::PushPull)
    }
}

/// Deliberately broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Acknowledge a broadcast before persisting it, and never persist values at all: a crash
    /// right after an acknowledgement loses a value that no other node holds yet.
    AckBeforePersist,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub mode: Mode,
    /// Peers contacted per round.
    pub fanout: u32,
    /// Time between rounds (local clock).
    pub period: SimDuration,
    /// A deliberate bug to inject (`None`: the correct protocol).
    #[serde(default)]
    pub bug: Option<Bug>,
}

impl Params {
    /// The correct protocol with these settings.
    pub fn new(mode: Mode, fanout: u32, period: SimDuration) -> Params {
        Params {
            mode,
            fanout,
            period,
            bug: None,
        }
    }

    /// Checks the ranges a scenario must respect; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.fanout == 0 {
            return Err("gossip `fanout` must be at least 1".into());
        }
        if self.period == SimDuration::ZERO {
            return Err("gossip `period` must be longer than 0".into());
        }
        Ok(())
    }
}

/// A contiguous run of one origin's values: stamps `(origin, first)`, `(origin, first + 1)`, ….
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Run {
    pub origin: u32,
    pub first: u32,
    pub values: Vec<Value>,
}

/// A sparse version vector: `(origin, high-water mark)` sorted by origin, marks > 0.
pub type VersionVector = Vec<(u32, u32)>;

/// Node-to-node messages (see the module documentation for the exchange).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Opens a round contact: a hash of the sender's version vector and its value count.
    Syn { summary: u64, count: u32 },
    /// The receiver of a `Syn` whose summary differs: its whole version vector.
    Digest { vv: VersionVector },
    /// Runs the receiver lacks; `want` lists, per origin, the sender's high-water mark where
    /// it wants the receiver's values beyond it (answered by a `Delta` with an empty `want`).
    Delta { runs: Vec<Run>, want: VersionVector },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Start the next anti-entropy round.
    Round,
}

/// What a node reports for the checkers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Observation {
    /// The node added this value to its set (from a client or a peer).
    Learned(Value),
    /// The node restarted and now holds exactly these values (sorted), rebuilt from storage.
    Recovered(Vec<Value>),
}

/// One node of the gossip protocol.
pub struct Gossip {
    id: NodeId,
    params: Params,
    /// Per origin, the values stamped `1..=len`, in stamp order.
    logs: BTreeMap<u32, Vec<Value>>,
    /// Every value held, for membership and `ReadSet`.
    held: BTreeSet<Value>,
    /// Sum of [`mark_hash`] over `logs`: equal summaries mean equal version vectors.
    summary: u64,
    /// Number of stamped values held (the sum of the logs' lengths).
    stamped: u64,
    /// When (local clock) the last message from any peer arrived: for coverage only.
    last_heard: Option<i64>,
}

/// The situations gossip's correctness argument depends on, marked for coverage with
/// `ctx.reached` (never hashed; see `sim_core::coverage`).
pub mod situations {
    /// A node that had heard from no peer for five periods (cut off by a partition, or
    /// paused) learned new values on the next contact: values carried across the heal. A node
    /// on a side with other nodes keeps hearing from them, so this sees a node isolated alone.
    pub const CARRIED_ACROSS_HEAL: &str = "value carried across a healed partition";
    /// A delta's run started past the receiver's mark (it overtook a crash, say) and was
    /// ignored.
    pub const STALE_RUN_IGNORED: &str = "stale run ignored";
    /// A restarted node rebuilt values from its storage.
    pub const RECOVERED_VALUES: &str = "values recovered from storage";

    /// Every situation above, in the order reports list them.
    pub const ALL: &[&str] = &[CARRIED_ACROSS_HEAL, STALE_RUN_IGNORED, RECOVERED_VALUES];
}

/// The hash of one origin's high-water mark; an origin with mark 0 contributes nothing.
fn mark_hash(origin: u32, hwm: usize) -> u64 {
    if hwm == 0 {
        return 0;
    }
    // SplitMix64's finaliser: a bijection that spreads every input bit.
    let mut z = (u64::from(origin) << 32 | hwm as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Gossip {
    pub fn new(id: NodeId, params: &Params) -> Gossip {
        assert!(
            params.validate().is_ok(),
            "invalid gossip params: {params:?}"
        );
        Gossip {
            id,
            params: params.clone(),
            logs: BTreeMap::new(),
            held: BTreeSet::new(),
            summary: 0,
            stamped: 0,
            last_heard: None,
        }
    }

    /// The values this node holds, sorted.
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.held.iter().copied()
    }

    fn hwm(&self, origin: u32) -> usize {
        self.logs.get(&origin).map_or(0, Vec::len)
    }

    fn version_vector(&self) -> VersionVector {
        self.logs
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(o, l)| (*o, l.len() as u32))
            .collect()
    }

    /// Appends `value` as `(origin, hwm + 1)`. Returns true if the value is new to the set.
    fn append(&mut self, ctx: &mut Context<'_, Self>, origin: u32, value: Value) -> bool {
        let log = self.logs.entry(origin).or_default();
        let old = log.len();
        log.push(value);
        self.summary = self
            .summary
            .wrapping_sub(mark_hash(origin, old))
            .wrapping_add(mark_hash(origin, old + 1));
        self.stamped += 1;
        if self.params.bug != Some(Bug::AckBeforePersist) {
            ctx.storage().put((origin, old as u32 + 1), value);
        }
        let new = self.held.insert(value);
        if new {
            ctx.observe(Observation::Learned(value));
        }
        new
    }

    /// Per origin, the values a node with version vector `vv` lacks (at most
    /// [`DELTA_VALUES_MAX`] in total).
    fn runs_beyond(&self, vv: &[(u32, u32)]) -> Vec<Run> {
        let mut runs = Vec::new();
        let mut budget = DELTA_VALUES_MAX;
        let mut j = 0;
        for (&origin, log) in &self.logs {
            while j < vv.len() && vv[j].0 < origin {
                j += 1;
            }
            let theirs = if j < vv.len() && vv[j].0 == origin {
                vv[j].1 as usize
            } else {
                0
            };
            if log.len() > theirs && budget > 0 {
                let take = (log.len() - theirs).min(budget);
                budget -= take;
                runs.push(Run {
                    origin,
                    first: theirs as u32 + 1,
                    values: log[theirs..theirs + take].to_vec(),
                });
            }
        }
        runs
    }

    /// For every origin where `vv` is ahead of this node, this node's high-water mark.
    fn behind(&self, vv: &[(u32, u32)]) -> VersionVector {
        vv.iter()
            .filter_map(|&(origin, theirs)| {
                let mine = self.hwm(origin) as u32;
                (theirs > mine).then_some((origin, mine))
            })
            .collect()
    }

    /// The runs asked for by `want` (origin, the asker's high-water mark).
    fn runs_wanted(&self, want: &[(u32, u32)]) -> Vec<Run> {
        let mut runs = Vec::new();
        let mut budget = DELTA_VALUES_MAX;
        for &(origin, theirs) in want {
            let theirs = theirs as usize;
            let log = self.logs.get(&origin).map_or(&[][..], Vec::as_slice);
            if log.len() > theirs && budget > 0 {
                let take = (log.len() - theirs).min(budget);
                budget -= take;
                runs.push(Run {
                    origin,
                    first: theirs as u32 + 1,
                    values: log[theirs..theirs + take].to_vec(),
                });
            }
        }
        runs
    }

    /// Applies the parts of `runs` that extend this node's prefixes; syncs once if it wrote.
    fn apply(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, runs: Vec<Run>) {
        let mut wrote = false;
        let quiet = self.quiet_for(ctx);
        for run in runs {
            let hwm = self.hwm(run.origin);
            let first = run.first as usize;
            assert!(first >= 1, "stamps start at 1");
            if first > hwm + 1 {
                ctx.reached(situations::STALE_RUN_IGNORED);
                ctx.annotate(|| {
                    format!(
                        "ignored run from n{}: origin {} starts at {first}, past my mark {hwm}",
                        from.0, run.origin
                    )
                });
                continue;
            }
            let skip = hwm + 1 - first;
            for &value in run.values.iter().skip(skip) {
                self.append(ctx, run.origin, value);
                wrote = true;
            }
        }
        if wrote {
            let long = 5i64.saturating_mul(self.params.period.0.min(i64::MAX as u64) as i64);
            ctx.sometimes(quiet > long, situations::CARRIED_ACROSS_HEAL);
        }
        if wrote && self.params.bug.is_none() {
            ctx.sync();
        }
    }

    /// How long (local ns) before this message the previous one from any peer arrived; and
    /// notes this one's arrival. Coverage only: nothing else reads it.
    fn quiet_for(&mut self, ctx: &mut Context<'_, Self>) -> i64 {
        let now = ctx.local_time().0;
        let quiet = self.last_heard.map_or(0, |t| now.saturating_sub(t));
        self.last_heard = Some(now);
        quiet
    }

    /// Contacts up to `fanout` distinct random neighbours.
    fn round(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.params.period, Timer::Round);
        self.assert_invariants();
        let n = ctx.neighbour_count();
        let k = (self.params.fanout as usize).min(n);
        if k == 0 {
            return;
        }
        let syn = Msg::Syn {
            summary: self.summary,
            count: self.stamped.min(u64::from(u32::MAX)) as u32,
        };
        if 2 * k >= n {
            // Selection sampling (Knuth's Algorithm S): k of n in one pass, no retries.
            let mut chosen = 0;
            for i in 0..n {
                if ctx.rng().index(n - i) < k - chosen {
                    let to = ctx.neighbour(i);
                    ctx.send(to, syn.clone());
                    chosen += 1;
                }
            }
            debug_assert_eq!(chosen, k);
        } else {
            // Rejection sampling: expected fewer than 2k draws when k < n/2.
            let mut chosen: Vec<NodeId> = Vec::with_capacity(k);
            while chosen.len() < k {
                let to = ctx.random_neighbour().expect("n > 0");
                if !chosen.contains(&to) {
                    chosen.push(to);
                    ctx.send(to, syn.clone());
                }
            }
        }
    }

    /// The first round comes at a random phase so nodes do not move in lockstep.
    fn schedule_first_round(&mut self, ctx: &mut Context<'_, Self>) {
        let phase = ctx.rng().below(self.params.period.0) + 1;
        ctx.set_timer(SimDuration(phase), Timer::Round);
    }

    /// Cheap always-on checks (O(origins)); the full recount runs only in debug builds.
    fn assert_invariants(&self) {
        assert!(
            self.held.len() as u64 <= self.stamped,
            "n{}: more values than stamps",
            self.id.0
        );
        if cfg!(debug_assertions) {
            let summary = self
                .logs
                .iter()
                .fold(0u64, |s, (o, l)| s.wrapping_add(mark_hash(*o, l.len())));
            assert_eq!(summary, self.summary, "n{}: summary out of date", self.id.0);
            let stamped: u64 = self.logs.values().map(|l| l.len() as u64).sum();
            assert_eq!(
                stamped, self.stamped,
                "n{}: stamp count out of date",
                self.id.0
            );
        }
    }
}

impl Process for Gossip {
    type Msg = Msg;
    type Timer = Timer;
    /// `(origin, seq)`: the value's stamp.
    type StoreKey = (u32, u32);
    type StoreValue = Value;
    type Observation = Observation;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.schedule_first_round(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        let mode = self.params.mode;
        if !matches!(msg, Msg::Delta { .. }) {
            self.quiet_for(ctx);
        }
        match msg {
            Msg::Syn { summary, count } => {
                if summary == self.summary {
                    return; // In sync: the contact ends.
                }
                // A push brings nothing from an empty initiator; a pull takes nothing from me
                // when I am empty.
                if (mode == Mode::Push && count == 0) || (mode == Mode::Pull && self.stamped == 0) {
                    return;
                }
                ctx.send(
                    from,
                    Msg::Digest {
                        vv: self.version_vector(),
                    },
                );
            }
            Msg::Digest { vv } => {
                debug_assert!(
                    vv.windows(2).all(|w| w[0].0 < w[1].0),
                    "digest not sorted by origin"
                );
                let runs = if mode.pushes() {
                    self.runs_beyond(&vv)
                } else {
                    Vec::new()
                };
                let want = if mode.pulls() {
                    self.behind(&vv)
                } else {
                    Vec::new()
                };
                if runs.is_empty() && want.is_empty() {
                    ctx.annotate(|| format!("nothing to exchange with n{}", from.0));
                    return;
                }
                ctx.send(from, Msg::Delta { runs, want });
            }
            Msg::Delta { runs, want } => {
                self.apply(ctx, from, runs);
                if !want.is_empty() {
                    let runs = self.runs_wanted(&want);
                    if !runs.is_empty() {
                        ctx.send(
                            from,
                            Msg::Delta {
                                runs,
                                want: Vec::new(),
                            },
                        );
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: Timer) {
        match timer {
            Timer::Round => self.round(ctx),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut Context<'_, Self>,
        client: ClientId,
        request_id: RequestId,
        request: Request,
    ) {
        match request {
            Request::Broadcast { value } => {
                if self.held.contains(&value) {
                    // A duplicated or repeated request: already stored (and durable).
                    ctx.reply(client, request_id, Response::Ok);
                    return;
                }
                match self.params.bug {
                    Some(Bug::AckBeforePersist) => {
                        ctx.reply(client, request_id, Response::Ok);
                        self.append(ctx, self.id.0, value);
                    }
                    None => {
                        self.append(ctx, self.id.0, value);
                        ctx.sync();
                        ctx.reply(client, request_id, Response::Ok);
                    }
                }
            }
            Request::ReadSet => {
                ctx.reply(client, request_id, Response::Set(self.values().collect()))
            }
            _ => ctx.reply(client, request_id, Response::Unsupported),
        }
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let durable = ctx.storage().entries();
        for ((origin, seq), value) in durable {
            let hwm = self.hwm(origin);
            // Each origin's stamps are written in order and synced before they are shared,
            // so what survived a crash is a prefix of every origin's sequence — except after a
            // torn write, which may keep a subset of the unsynced stamps (or tear one): a stamp
            // after a gap was never synced, never acknowledged, and is dropped.
            if seq as usize != hwm + 1 {
                assert!(
                    seq as usize > hwm + 1,
                    "n{}: durable stamps of origin {origin} repeat",
                    self.id.0
                );
                ctx.storage().remove(&(origin, seq));
                continue;
            }
            let log = self.logs.entry(origin).or_default();
            log.push(value);
            self.summary = self
                .summary
                .wrapping_sub(mark_hash(origin, hwm))
                .wrapping_add(mark_hash(origin, hwm + 1));
            self.stamped += 1;
            self.held.insert(value);
        }
        ctx.sometimes(self.stamped > 0, situations::RECOVERED_VALUES);
        ctx.observe(Observation::Recovered(self.values().collect()));
        self.assert_invariants();
        self.schedule_first_round(ctx);
    }
}

// Registration: what scenarios name and check (see `sim_core::Protocol`).

impl Protocol for Gossip {
    const NAME: &'static str = "Gossip";
    const CLI_NAME: &'static str = "gossip";
    const SUMMARY: &'static str =
        "epidemic broadcast: push, pull or push-pull anti-entropy with fanout and period";
    const SERVICES: &'static [Service] = &[Service::Broadcast];
    const SITUATIONS: &'static [&'static str] = situations::ALL;
    type Params = Params;

    fn new_node(id: NodeId, params: &Params) -> Gossip {
        Gossip::new(id, params)
    }

    fn validate(p: &Params, config: &SimConfig) -> Result<(), FieldError> {
        let n = config.node_count;
        let fanout_max = n.saturating_sub(1).max(1);
        if p.fanout == 0 || p.fanout > fanout_max {
            return Err(FieldError::new(
                "fanout",
                format!(
                    "gossip `fanout` is `{}`, outside `1..={fanout_max}`",
                    p.fanout
                ),
            )
            .hint(format!(
                "a node contacts between `1` and `nodes - 1` peers per round (`nodes` is `{n}`)"
            )));
        }
        rules::positive("protocol", "period", p.period)
    }

    fn checks(list: &mut impl CheckList<Self>) {
        list.add::<Convergence>();
    }
}

impl Disseminates for Gossip {
    fn holding(o: &Observation) -> Option<Holding<'_>> {
        Some(match o {
            Observation::Learned(v) => Holding::Added(*v),
            Observation::Recovered(vs) => Holding::Exactly(vs),
        })
    }
}

/// The convergence check over a gossip run: every node up at the end holds every acknowledged
/// broadcast value (within `within` of the later of the last heal and the acknowledgement).
pub fn check_convergence(
    result: &RunResult<Observation>,
    within: Option<SimDuration>,
) -> CheckResult {
    convergence::check_run::<Gossip>(result, within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_tracks_the_version_vector() {
        // Different vectors, different sums; the same vector reached in any order, same sum.
        let a = mark_hash(1, 3).wrapping_add(mark_hash(2, 1));
        let b = mark_hash(2, 1).wrapping_add(mark_hash(1, 3));
        let c = mark_hash(1, 1).wrapping_add(mark_hash(2, 3));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(mark_hash(7, 0), 0);
    }

    #[test]
    fn params_validate_names_the_field() {
        let mut p = Params::new(Mode::Push, 0, SimDuration::from_millis(100));
        assert!(p.validate().unwrap_err().contains("`fanout`"));
        p.fanout = 2;
        p.period = SimDuration::ZERO;
        assert!(p.validate().unwrap_err().contains("`period`"));
    }
}
