//! Election timing of a leader-based protocol: a randomized election timeout in
//! `[election_timeout_min, election_timeout_max]` and a heartbeat well inside it (Raft §5.2;
//! the same rule keeps a Multi-Paxos leader from being suspected between two heartbeats).
//!
//! [`Timers`] arms them: one election timer and one heartbeat timer per node, each replacing
//! its pending predecessor, so a node never has two chains of either. [`validate`] checks a
//! scenario's timings.

use sim_core::protocol::{rules, FieldError};
use sim_core::{Context, Process, SimDuration, TimerId};

/// A node's pending election timer and heartbeat timer (each at most one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    election: Option<TimerId>,
    heartbeat: Option<TimerId>,
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
