//! The trace's JSON Lines read back into messages, timers and handler runs. Lines this reader
//! does not know (a header, an annotation, a kind added later) are skipped, and so are
//! unknown fields.

use std::collections::BTreeMap;

use serde_json::Value;
use sim_core::{ClientId, Endpoint, NodeId};

use super::{End, Handler, Message};

/// What the trace says.
pub(super) struct Read {
    pub(super) messages: Vec<Message>,
    pub(super) timers: Vec<Handler>,
    pub(super) handlers: Vec<Handler>,
}

/// Longest message text kept for a tooltip.
const TEXT_MAX: usize = 160;

/// `n3` or `c1`.
pub(super) fn endpoint(s: &str) -> Option<Endpoint> {
    let (kind, id) = s.split_at_checked(1)?;
    let id: u32 = id.parse().ok()?;
    match kind {
        "n" => Some(Endpoint::Node(NodeId(id))),
        "c" => Some(Endpoint::Client(ClientId(id))),
        _ => None,
    }
}

/// The kind of a message from its text: `AppendEntries { .. }` → `AppendEntries`; a client's
/// `(3, Put { .. })` → `Put`; a reply `(3, Value(Some(5)))` → `Value`.
pub fn kind(text: &str) -> String {
    let mut t = text.trim_start();
    if let Some(rest) = t.strip_prefix('(') {
        let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(after) = digits.strip_prefix(',') {
            t = after.trim_start();
        }
    }
    let end = t
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    if end == 0 {
        "message".into()
    } else {
        t[..end].to_string()
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= TEXT_MAX {
        return text.to_string();
    }
    let mut s: String = text.chars().take(TEXT_MAX).collect();
    s.push('…');
    s
}

pub(super) fn read(trace: &str) -> Read {
    let mut messages: Vec<Message> = Vec::new();
    let mut by_id: BTreeMap<u64, usize> = BTreeMap::new();
    let mut pending_copy: Option<u64> = None;
    let mut timers = Vec::new();
    let mut handlers: Vec<Handler> = Vec::new();
    // The handler running now: (node, time, index); its sends are its own.
    let mut current: Option<(NodeId, u64, usize)> = None;
    for line in trace.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(t), Some(ev)) = (v["t"].as_u64(), v["ev"].as_str()) else {
            continue;
        };
        let ep = |k: &str| v[k].as_str().and_then(endpoint);
        let id = v["id"].as_u64();
        match ev {
            "duplicate" => pending_copy = id,
            "send" => {
                let (Some(from), Some(to), Some(id)) = (ep("from"), ep("to"), id) else {
                    continue;
                };
                let text = v["msg"].as_str().unwrap_or("");
                let by = match (from, current) {
                    (Endpoint::Node(n), Some((m, at, h))) if m == n && at == t => Some(h),
                    _ => None,
                };
                let m = Message {
                    id,
                    from,
                    to,
                    sent: t,
                    end: End::InFlight,
                    kind: kind(text),
                    text: short(text),
                    copy: false,
                    by,
                    ran: None,
                };
                if let Some(copy) = pending_copy.take() {
                    by_id.insert(copy, messages.len());
                    messages.push(Message {
                        id: copy,
                        copy: true,
                        ..m.clone()
                    });
                }
                by_id.insert(id, messages.len());
                messages.push(m);
            }
            "deliver" | "drop" => {
                let Some(&i) = id.and_then(|id| by_id.get(&id)) else {
                    continue;
                };
                let m = &mut messages[i];
                m.end = if ev == "deliver" {
                    End::Delivered(t)
                } else {
                    End::Dropped(t, v["reason"].as_str().unwrap_or("dropped").to_string())
                };
                if let (true, Endpoint::Node(node)) = (ev == "deliver", m.to) {
                    let what = format!("{} from {}", m.kind, m.from);
                    m.ran = Some(handlers.len());
                    current = Some((node, t, handlers.len()));
                    handlers.push(Handler { at: t, node, what });
                }
            }
            "timer" => {
                if let Some(Endpoint::Node(node)) = ep("node") {
                    let what = format!("timer {}", kind(v["timer"].as_str().unwrap_or("")));
                    timers.push(Handler {
                        at: t,
                        node,
                        what: what.clone(),
                    });
                    current = Some((node, t, handlers.len()));
                    handlers.push(Handler { at: t, node, what });
                }
            }
            "fault" => current = None,
            _ => {}
        }
    }
    Read {
        messages,
        timers,
        handlers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_read_from_the_text() {
        assert_eq!(kind("AppendEntries { term: 1 }"), "AppendEntries");
        assert_eq!(kind("(1, Put { key: 1, value: 5 })"), "Put");
        assert_eq!(kind("(12, Value(Some(5)))"), "Value");
        assert_eq!(kind("Election"), "Election");
        assert_eq!(kind(""), "message");
    }

    #[test]
    fn copies_and_drops_are_matched_by_id() {
        let trace = r#"{"header":"a line without t"}
{"t":5,"ev":"duplicate","id":9}
{"t":5,"ev":"send","from":"n0","to":"n1","id":10,"msg":"Ping"}
{"t":7,"ev":"deliver","from":"n0","to":"n1","id":10}
{"t":8,"ev":"drop","from":"n0","to":"n1","id":9,"reason":"node-down"}
{"t":9,"ev":"something-new","id":10}
"#;
        let r = read(trace);
        assert_eq!(r.messages.len(), 2);
        assert!(r.messages[0].copy);
        assert_eq!(r.messages[0].end, End::Dropped(8, "node-down".into()));
        assert_eq!(r.messages[1].end, End::Delivered(7));
        assert_eq!(r.handlers.len(), 1);
    }
}
