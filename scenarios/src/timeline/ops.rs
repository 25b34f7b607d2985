//! Client operations as bars, each with a line a person reads: `put k1 = 4294967297 → ok`.

use sim_core::{History, Outcome, Request, Response};

use super::{Op, OpOutcome};

/// An operation and its answer in a few words: `get k1 → 8589934593`, `cas k0 absent→5
/// → fail`, `txn [1, 4] → committed k1=3 k4=1`, `broadcast 5 → ok`; `?` when indeterminate.
pub fn describe(request: &Request, outcome: Option<&Outcome>) -> String {
    let opt = |v: &Option<u64>| v.map_or("absent".to_string(), |v| v.to_string());
    let what = match request {
        Request::Broadcast { value } => format!("broadcast {value}"),
        Request::ReadSet => "read set".into(),
        Request::Get { key } => format!("get k{key}"),
        Request::Put { key, value } => format!("put k{key} = {value}"),
        Request::Cas { key, expected, new } => format!("cas k{key} {}→{new}", opt(expected)),
        Request::Append { key, value } => format!("append k{key} += {value}"),
        Request::Txn { keys } => {
            let k: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            format!("txn [{}]", k.join(", "))
        }
    };
    let answer = match outcome {
        None | Some(Outcome::Unknown) => "?".to_string(),
        Some(Outcome::Fail) => "fail".to_string(),
        Some(Outcome::Ok(r)) => match r {
            Response::Ok => "ok".into(),
            Response::Value(v) => opt(v),
            Response::List(vs) => format!("{vs:?}"),
            Response::Set(vs) => format!("{} values", vs.len()),
            Response::Committed(kv) => {
                let k: Vec<String> = kv.iter().map(|(k, v)| format!("k{k}={v}")).collect();
                format!("committed {}", k.join(" "))
            }
            Response::Fail => "fail".into(),
            Response::Redirect { .. } => "redirect".into(),
            Response::Unsupported => "unsupported".into(),
        },
    };
    format!("{what} → {answer}")
}

pub(super) fn read(history: &History, end: u64) -> Vec<Op> {
    history
        .ops
        .iter()
        .enumerate()
        .map(|(index, op)| {
            let outcome = match &op.completion {
                Some((_, Outcome::Ok(_))) => OpOutcome::Ok,
                Some((_, Outcome::Fail)) => OpOutcome::Fail,
                _ => OpOutcome::Unknown,
            };
            Op {
                index,
                client: op.client,
                node: op.node,
                invoke: op.invoke.0,
                complete: op.completion.as_ref().map(|(t, _)| t.0.min(end)),
                outcome,
                text: describe(&op.request, op.completion.as_ref().map(|(_, o)| o)),
            }
        })
        .collect()
}
