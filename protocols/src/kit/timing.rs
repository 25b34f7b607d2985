//! Election timing of a leader-based protocol: a randomized election timeout in
//! `[election_timeout_min, election_timeout_max]` and a heartbeat well inside it (Raft §5.2;
//! the same rule keeps a Multi-Paxos leader from being suspected between two heartbeats).
//!
//! [`Timers`] arms them: one election timer and one heartbeat timer per node, each replacing
//! its pending predecessor, so a node never has two chains of either. [`validate`] checks a
//! scenario's timings.
//!
//! The election timer comes in two styles. [`Timers::reset_election`] cancels the pending
//! timer and sets a new one on every reset. [`Timers::restart_election`] (Raft's and Paxos's)
//! is lazy: a follower resets its timeout on every `AppendEntries` (`Accept`, heartbeat),
//! several times per heartbeat, so it
//! only moves a *deadline* (local time) and leaves the engine timer where it is. That timer is
//! armed no later than the deadline and no later than `min` from when it is armed — so every
//! later reset, whose deadline is at least `min` away, finds it early enough — and when it
//! fires before the deadline ([`Timers::election_expired`] says `false`) it is armed again for
//! the rest. The delays drawn are the same as an eager reset's (one draw per reset, on the
//! node's stream); what differs is the engine's timers: fewer set and cancelled, some firing
//! early (visible in the trace as timer events that change nothing).

use sim_core::protocol::{rules, FieldError};
use sim_core::{Context, Process, SimDuration, TimerId};

/// A node's pending election timer and heartbeat timer (each at most one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    election: Option<TimerId>,
    heartbeat: Option<TimerId>,
    /// Lazy election timer ([`Timers::restart_election`]): the local time (ns) the timeout
    /// expires, and the local time the pending engine timer is due (at most the deadline).
    deadline: i64,
    armed: i64,
}

impl Timers {
    /// Replaces the pending election timer with `timer`, due after a delay drawn uniformly
    /// from `[min, max]` on the node's own stream (one draw per call).
    pub fn reset_election<P: Process>(
        &mut self,
        ctx: &mut Context<'_, P>,
        min: SimDuration,
        max: SimDuration,
        timer: P::Timer,
    ) {
        self.cancel_election(ctx);
        let delay = SimDuration(ctx.rng().range_inclusive(min.0, max.0));
        self.election = Some(ctx.set_timer(delay, timer));
    }

    /// Restarts the election timeout, lazily (see the module comment): the new deadline is a
    /// delay drawn uniformly from `[min, max]` (one draw per call, as
    /// [`Timers::reset_election`]) after the node's local time now. The pending engine timer
    /// stays if it is due no later than that; otherwise (none is pending, or the clock was
    /// stepped back) one is set.
    pub fn restart_election<P: Process>(
        &mut self,
        ctx: &mut Context<'_, P>,
        min: SimDuration,
        max: SimDuration,
        timer: P::Timer,
    ) {
        let delay = ctx.rng().range_inclusive(min.0, max.0);
        let now = ctx.local_time().0;
        self.deadline = now.saturating_add(delay.min(i64::MAX as u64) as i64);
        if self.election.is_some() && self.armed <= self.deadline {
            return;
        }
        self.cancel_election(ctx);
        self.arm_election(ctx, now, min, timer);
    }

    /// The lazy election timer fired: `true` if the timeout expired (nothing is pending any
    /// more), `false` if the deadline moved on since it was armed — then it is armed again,
    /// and the node carries on as if nothing happened.
    pub fn election_expired<P: Process>(
        &mut self,
        ctx: &mut Context<'_, P>,
        min: SimDuration,
        timer: P::Timer,
    ) -> bool {
        self.election = None;
        let now = ctx.local_time().0;
        if now >= self.deadline {
            return true;
        }
        self.arm_election(ctx, now, min, timer);
        false
    }

    /// Sets the engine timer of the lazy election timeout: due at the deadline, or `min` from
    /// `now` (local) if that is earlier, so that no later reset's deadline comes before it.
    fn arm_election<P: Process>(
        &mut self,
        ctx: &mut Context<'_, P>,
        now: i64,
        min: SimDuration,
        timer: P::Timer,
    ) {
        self.armed = (self.deadline).min(now.saturating_add(min.0.min(i64::MAX as u64) as i64));
        let delay = SimDuration(self.armed.saturating_sub(now).max(0) as u64);
        self.election = Some(ctx.set_timer(delay, timer));
    }

    /// Replaces the pending heartbeat timer with `timer`, due after `every`.
    pub fn arm_heartbeat<P: Process>(
        &mut self,
        ctx: &mut Context<'_, P>,
        every: SimDuration,
        timer: P::Timer,
    ) {
        self.cancel_heartbeat(ctx);
        self.heartbeat = Some(ctx.set_timer(every, timer));
    }

    pub fn cancel_election<P: Process>(&mut self, ctx: &mut Context<'_, P>) {
        if let Some(id) = self.election.take() {
            ctx.cancel_timer(id);
        }
    }

    pub fn cancel_heartbeat<P: Process>(&mut self, ctx: &mut Context<'_, P>) {
        if let Some(id) = self.heartbeat.take() {
            ctx.cancel_timer(id);
        }
    }

    /// The election timer fired: nothing is pending any more.
    pub fn election_fired(&mut self) {
        self.election = None;
    }

    /// The heartbeat timer fired: nothing is pending any more.
    pub fn heartbeat_fired(&mut self) {
        self.heartbeat = None;
    }
}

/// Checks a leader-based protocol's timings (`name`, e.g. `raft`, words the messages):
/// positive durations, `election_timeout_min ≤ election_timeout_max`, and a heartbeat shorter
/// than the shortest election timeout.
pub fn validate(
    name: &str,
    min: SimDuration,
    max: SimDuration,
    heartbeat: SimDuration,
) -> Result<(), FieldError> {
    rules::positive("protocol", "election_timeout_min", min)?;
    rules::positive("protocol", "election_timeout_max", max)?;
    rules::positive("protocol", "heartbeat", heartbeat)?;
    if min > max {
        return Err(FieldError::new(
            "election_timeout_max",
            format!(
                "{name} `election_timeout_max` (`{max}`) is below `election_timeout_min` (`{min}`)"
            ),
        )
        .hint("each election timeout is drawn uniformly from `[min, max]`"));
    }
    if heartbeat >= min {
        return Err(FieldError::new(
            "heartbeat",
            format!(
                "{name} `heartbeat` (`{heartbeat}`) is not below `election_timeout_min` (`{min}`)"
            ),
        )
        .hint("nodes would suspect a live leader between two heartbeats: make `heartbeat` a fraction of the election timeout, e.g. a tenth"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::{NodeId, SimConfig};

    /// Resets its election timer three times and arms its heartbeat twice at start; reports
    /// each timer that fires, re-arming the heartbeat once.
    #[derive(Default)]
    struct Ticker {
        timers: Timers,
        beats: u32,
    }

    #[derive(Clone, Debug, Hash, PartialEq, Eq)]
    enum T {
        Election(u8),
        Heartbeat(u8),
    }

    const MIN: SimDuration = SimDuration::from_millis(150);
    const MAX: SimDuration = SimDuration::from_millis(300);
    const BEAT: SimDuration = SimDuration::from_millis(50);

    impl Process for Ticker {
        type Msg = ();
        type Timer = T;
        type StoreKey = ();
        type StoreValue = ();
        type Observation = T;

        fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
            for k in 0..3 {
                self.timers.reset_election(ctx, MIN, MAX, T::Election(k));
            }
            self.timers.arm_heartbeat(ctx, BEAT, T::Heartbeat(0));
            self.timers.arm_heartbeat(ctx, BEAT, T::Heartbeat(1));
        }

        fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}

        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: T) {
            match timer {
                T::Election(_) => self.timers.election_fired(),
                T::Heartbeat(_) => {
                    self.timers.heartbeat_fired();
                    self.beats += 1;
                    if self.beats == 1 {
                        self.timers.arm_heartbeat(ctx, BEAT, T::Heartbeat(2));
                    }
                }
            }
            ctx.observe(timer);
        }
    }

    #[test]
    fn each_timer_replaces_its_pending_one() {
        let r = sim_core::run(SimConfig::basic(1, SimDuration::from_secs(1)), |_| {
            Ticker::default()
        });
        let fired: Vec<(u64, T)> = r
            .observations
            .iter()
            .map(|o| (o.time.0, o.value.clone()))
            .collect();
        assert_eq!(fired.len(), 3, "{fired:?}");
        assert_eq!(fired[0], (BEAT.0, T::Heartbeat(1)));
        assert_eq!(fired[1], (2 * BEAT.0, T::Heartbeat(2)));
        let (at, last) = &fired[2];
        assert_eq!(*last, T::Election(2));
        assert!((MIN.0..=MAX.0).contains(at), "{at}");
    }

    /// Node 0 pings the others at random moments; each other node restarts its election
    /// timeout on every ping, eagerly or lazily, and reports each expiry with its local time.
    struct Resetter {
        lazy: bool,
        timers: Timers,
    }

    #[derive(Clone, Debug, Hash, PartialEq, Eq)]
    enum R {
        Election,
        Tick,
    }

    impl Resetter {
        fn reset(&mut self, ctx: &mut Context<'_, Self>) {
            if self.lazy {
                self.timers.restart_election(ctx, MIN, MAX, R::Election);
            } else {
                self.timers.reset_election(ctx, MIN, MAX, R::Election);
            }
        }

        fn tick(&mut self, ctx: &mut Context<'_, Self>) {
            // Mostly well inside the timeout, sometimes past it.
            let ms = ctx.rng().range_inclusive(1, 400);
            ctx.set_timer(SimDuration::from_millis(ms), R::Tick);
        }
    }

    impl Process for Resetter {
        type Msg = ();
        type Timer = R;
        type StoreKey = ();
        type StoreValue = ();
        type Observation = i64;

        fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
            if ctx.id() == NodeId(0) {
                self.tick(ctx);
            } else {
                self.reset(ctx);
            }
        }

        fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, _: ()) {
            self.reset(ctx);
        }

        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: R) {
            match timer {
                R::Tick => {
                    for p in 1..ctx.node_count() {
                        ctx.send(NodeId(p), ());
                    }
                    return self.tick(ctx);
                }
                R::Election if self.lazy => {
                    if !self.timers.election_expired(ctx, MIN, R::Election) {
                        return;
                    }
                }
                R::Election => self.timers.election_fired(),
            }
            ctx.observe(ctx.local_time().0);
            self.reset(ctx);
        }
    }

    /// The lazy election timer expires exactly when the eager one fires — same instants, same
    /// local times, same draws after — on drifting, offset clocks stepped back and forward.
    #[test]
    fn a_lazy_election_timer_expires_when_an_eager_one_fires() {
        use sim_core::config::{ClockConfig, Fault, ScheduledFault};
        let mut expiries = 0;
        for seed in 0..12 {
            let mut config = SimConfig::basic(4, SimDuration::from_secs(20));
            config.seed = seed;
            config.clocks = ClockConfig {
                offset_max: SimDuration::from_millis(10),
                drift_ppm_max: 200,
            };
            for (k, jump) in [-180i64, 90, -40, 250, -300, 400].into_iter().enumerate() {
                config.faults.push(ScheduledFault {
                    at: SimDuration::from_millis(1_000 + 3_100 * k as u64),
                    fault: Fault::ClockJump(NodeId(1 + k as u32 % 3), jump * 1_000_000),
                });
            }
            let run = |lazy| {
                let r = sim_core::run(config.clone(), move |_| Resetter {
                    lazy,
                    timers: Timers::default(),
                });
                let seen: Vec<_> = (r.observations.iter())
                    .map(|o| (o.time, o.node, o.value))
                    .collect();
                (seen, r.stats.timers_fired)
            };
            let (eager, eager_fired) = run(false);
            let (lazy, lazy_fired) = run(true);
            assert_eq!(eager, lazy, "seed {seed}");
            assert!(lazy_fired > eager_fired, "seed {seed}: no early firing");
            expiries += eager.len();
        }
        assert!(
            expiries > 100,
            "{expiries} expiries: the pings never let one happen"
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let ms = SimDuration::from_millis;
        assert!(validate("raft", ms(150), ms(300), ms(50)).is_ok());
        assert_eq!(
            validate("raft", ms(0), ms(300), ms(50)).unwrap_err().path,
            "election_timeout_min"
        );
        assert_eq!(
            validate("raft", ms(150), ms(100), ms(50)).unwrap_err().path,
            "election_timeout_max"
        );
        let e = validate("paxos", ms(150), ms(300), ms(150)).unwrap_err();
        assert_eq!(e.path, "heartbeat");
        assert!(
            e.message.starts_with("paxos `heartbeat` (`150ms`)"),
            "{}",
            e.message
        );
    }
}
