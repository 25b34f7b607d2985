//! The failure model the protocol assumes, checked on a scenario's faults: fail-stop servers
//! (van Renesse & Schneider §3), a master that never fails, and at most `chain_length - 1`
//! servers down at once.
//!
//! The master detects a crash by missing heartbeats, so anything that silences a *live*
//! server — a partition, a pause, a clock jump — would make it suspect a server that still
//! acts: a removed tail that has not heard of its removal would go on answering reads. Such
//! faults are outside the model and rejected here, each at its own position in the file.
//! Message loss and duplication are inside it: updates are resent until acknowledged, and a
//! heartbeat lost now and then does not exceed `failure_timeout`; so are reordering and the
//! replay of an old message (a late duplicate), which its epochs and sequence numbers meet.

use sim_core::config::{Fault, FaultKind, NemesisConfig, ScheduledFault};
use sim_core::protocol::FieldError;
use sim_core::{NodeId, SimConfig};

use crate::Params;

/// Checks the scenario's fault schedule and nemesis against the failure model.
pub fn check(params: &Params, config: &SimConfig) -> Result<(), FieldError> {
    for (i, f) in config.faults.iter().enumerate() {
        allowed(i, &f.fault)?;
    }
    down_at_once(params.chain_length, &config.faults)?;
    match &config.nemesis {
        Some(n) => nemesis(n),
        None => Ok(()),
    }
}

/// One scheduled fault: crashes and restarts of servers, link changes and heals only.
fn allowed(i: usize, fault: &Fault) -> Result<(), FieldError> {
    let at = format!("faults[{i}].fault");
    // The node's position: `Crash(0)` is positional, `Pause(node: 0, ...)` named.
    let master = |n: NodeId, field: &str| {
        (n == NodeId(0)).then(|| {
            FieldError::in_scenario(
                format!("{at}.{field}"),
                "node `0` is the master, which chain replication assumes never fails",
            )
            .hint("fault the servers, nodes `1..nodes`")
        })
    };
    let broken = |what: &str, hint: &str| {
        Err(FieldError::in_scenario(
            at.clone(),
            format!(
                "{what}: chain replication assumes fail-stop servers, which only stop by crashing"
            ),
        )
        .hint(hint.to_string()))
    };
    match fault {
        Fault::Crash(n) | Fault::Restart(n) => master(*n, "0").map_or(Ok(()), Err),
        Fault::Pause(n, _) => match master(*n, "node") {
            Some(e) => Err(e),
            None => broken(
                "a paused server looks crashed to the master but resumes with a stale chain",
                "crash the server instead: `Crash(n)`, then maybe `Restart(n)`",
            ),
        },
        Fault::ClockJump(..) => broken(
            "a clock jump fires the failure detector early or late",
            "clocks may drift (`clocks.drift_ppm_max`) but not jump",
        ),
        Fault::Clog(_) | Fault::Unclog(_) => broken(
            "a clogged server's heartbeats are held: it looks crashed to the master",
            "test message loss with `SetLink(drop: ...)` instead",
        ),
        Fault::Partition(_) => broken(
            "a partition makes live servers look crashed",
            "test message loss with `SetLink(drop: ...)` instead",
        ),
        Fault::Heal
        | Fault::SetLink { .. }
        | Fault::ResetLinks
        | Fault::EndPartition(_)
        | Fault::Replay { .. } => Ok(()),
        Fault::TornWrite { node, .. } => master(*node, "node").map_or(Ok(()), Err),
        Fault::Corrupt { .. } | Fault::Misdirect { .. } | Fault::LoseSync(_) => broken(
            "a damaged disk is a failure a server survives with wrong state",
            "the servers keep no state on disk that a storage fault could damage: crash them",
        ),
    }
}

/// At most `chain_length - 1` servers crashed at any time: a chain of t + 1 servers
/// tolerates t failures (the restarted ones rejoin empty at the tail).
fn down_at_once(chain_length: u32, faults: &[ScheduledFault]) -> Result<(), FieldError> {
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].at);
    let mut down: Vec<NodeId> = Vec::new();
    for i in order {
        match faults[i].fault {
            Fault::Crash(n) | Fault::TornWrite { node: n, .. } => {
                down.push(n);
                if down.len() as u32 >= chain_length {
                    return Err(FieldError::in_scenario(
                        format!("faults[{i}].fault"),
                        format!(
                            "this crash leaves `{}` servers down at once; a chain of `{chain_length}` tolerates at most `{}`",
                            down.len(),
                            chain_length - 1
                        ),
                    )
                    .hint("restart a server before crashing the next one, or raise `protocol.chain_length`"));
                }
            }
            Fault::Restart(n) => down.retain(|d| *d != n),
            _ => {}
        }
    }
    Ok(())
}

/// The nemesis may only lose and duplicate messages: its crashes could hit the master or too
/// many servers, and its other kinds break fail-stop.
fn nemesis(n: &NemesisConfig) -> Result<(), FieldError> {
    for (j, k) in n.kinds.iter().enumerate() {
        let why = match k {
            FaultKind::Loss | FaultKind::Duplicate | FaultKind::Reorder | FaultKind::Replay => {
                continue
            }
            FaultKind::Crash
            | FaultKind::TornWrite
            | FaultKind::Corrupt
            | FaultKind::Misdirect
            | FaultKind::LoseSync => {
                "the nemesis may crash the master (node 0) or too many servers"
            }
            FaultKind::Partition | FaultKind::Pause | FaultKind::ClockJump | FaultKind::Clog => {
                "it makes live servers look crashed, outside the fail-stop model"
            }
        };
        return Err(FieldError::in_scenario(
            format!("nemesis.kinds[{j}]"),
            format!(
                "chain replication cannot run under the nemesis kind `{}`: {why}",
                k.name()
            ),
        )
        .hint("keep `Loss` and `Duplicate` in the nemesis and list crashes in `faults`"));
    }
    Ok(())
}
