//! The `linearizable` check: the clients' key-value history of a run is linearizable
//! ([`crate::check::linearizability`]). Any protocol that serves the key-value service lists it.

use crate::check::linearizability::{check_history, Budget, LinOptions};
use crate::check::CheckResult;
use crate::protocol::{Check, CheckContext, CheckInput, CheckKind, FieldError, NoParams, Protocol};
use crate::{RunResult, Service};

/// `Linearizable()` in a scenario.
pub struct Linearizable;

impl CheckKind for Linearizable {
    const NAME: &'static str = "linearizable";
    const SUMMARY: &'static str = "the clients' key-value history is linearizable";
    type Params = NoParams;
    const PREFIX_CLOSED: bool = true;

    fn validate(_: &NoParams, cx: &CheckContext<'_>) -> Result<(), FieldError> {
        if !cx.services.contains(&Service::KeyValue) {
            return Err(FieldError::new(
                "",
                format!(
                    "check `linearizable` needs the key-value service, which protocol `{}` does not serve",
                    cx.protocol
                ),
            )
            .hint("it checks a history of gets, puts and cas"));
        }
        let workload = cx.config.clients.workload.service();
        if workload != Some(Service::KeyValue) {
            let found = match workload {
                Some(s) => format!("the clients use the `{}` service", s.name()),
                None => "the scenario has no clients".to_string(),
            };
            return Err(FieldError::new(
                "",
                format!("check `linearizable` needs a key-value workload, but {found}"),
            )
            .hint("it checks the clients' history of gets, puts and cas: add e.g. `clients: (count: 3, workload: KeyValue(keys: 3, interval: \"20ms\", ops_per_client: 50))`"));
        }
        Ok(())
    }
}

impl<P: Protocol> Check<P> for Linearizable {
    fn run(_: &NoParams, input: &CheckInput<'_, P>) -> CheckResult {
        linearizable(input.result)
    }
}

/// The search budget of the check inside a run: 50 million steps (about ten seconds) and
/// 1 GiB of memo tables, so that a run with hundreds of concurrent clients on a few keys ends
/// `unknown` in seconds and well within `dsim`'s default memory ceiling (2 GiB), instead of
/// searching for minutes. Shipped scenarios need at most a few hundred thousand steps.
pub fn run_budget() -> Budget {
    Budget {
        steps_max: 50_000_000,
        memory_bytes_max: 1 << 30,
        ..Budget::default()
    }
}

/// The `linearizable` check on a run's key-value history, under [`run_budget`] (deterministic).
/// On a violation the detail is the checker's explanation — the key, the operation that
/// cannot be linearized, the smallest failing window and a timeline — and the seed.
pub fn linearizable<O>(result: &RunResult<O>) -> CheckResult {
    let opts = LinOptions {
        seed: Some(result.seed),
        budget: run_budget(),
    };
    check_history(&result.history, &opts)
}
