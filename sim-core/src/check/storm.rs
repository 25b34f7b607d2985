//! The engine's own check on a run that stopped early because a handler would have queued more
//! events at once than [`crate::SimConfig::queued_max`] allows — an event storm, such as a
//! message answered with two, each answered with two more. The run stops where the queue
//! filled (see [`crate::RunResult::hit_queued_max`]); this check turns that into a failure a
//! sweep lists and `dsim shrink` can shrink, instead of a crash or a process out of memory.

use super::{CheckResult, Verdict};
use crate::RunResult;

/// The name failed runs report: `event-storm`.
pub const NAME: &str = "event-storm";

/// `Some(failure)` when `result` stopped on a full event queue, else `None` (the check does not
/// appear in a run that never filled its queue).
pub fn event_storm<O>(result: &RunResult<O>) -> Option<CheckResult> {
    result.hit_queued_max.then(|| {
        CheckResult::new(
            NAME,
            Verdict::Fail,
            format!(
                "the event queue filled at {} after {} events, with {} messages in flight: a handler queues more messages or timers than it consumes, without bound; the run stopped there (reproduce with seed {})",
                result.end, result.stats.events, result.stats.in_flight_at_end, result.seed
            ),
        )
    })
}
