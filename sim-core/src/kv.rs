//! The key-value state machine that every replicated key-value protocol applies, with
//! at-most-once execution of client requests.
//!
//! A key holds a list of values: absent is the empty list, `Put` makes it the one-element
//! list, `Append` adds to its end. A read answers `Value(None)` for the empty list,
//! `Value(Some(v))` for one value and `List` for more, so a store that never sees an append
//! behaves exactly like a set of registers. `Cas` compares against the one-element list (or
//! absent) it expects.
//!
//! Deduplication follows the Raft thesis (§6.3): a client issues one request at a time with
//! increasing request ids, so the store keeps, per client, the last request id it executed and
//! that request's response. A retry of that request gets the recorded response without
//! executing again; an older request id is a stale duplicate and gets nothing. Replicas that
//! apply the same commands in the same order therefore hold the same sessions too, and the
//! sessions travel with snapshots.

use std::collections::BTreeMap;

use crate::{Key, Request, RequestId, Response, Value};

/// What the store's sessions say about a request before it is proposed or executed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not executed yet: go ahead.
    New,
    /// The client's last executed request: answer it again with this response.
    Answered(Response),
    /// Older than the client's last executed request: a stale duplicate, to ignore.
    Stale,
}

/// Registers/lists by key plus each client's last executed request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvStore {
    data: BTreeMap<Key, Vec<Value>>,
    /// Client → (last executed request id, its response).
    sessions: BTreeMap<u32, (RequestId, Response)>,
}

/// Applies `request` to `data` (see [`KvStore::apply`]).
fn apply(data: &mut BTreeMap<Key, Vec<Value>>, request: &Request) -> Response {
    match *request {
        Request::Get { key } => read(data, key),
        Request::Put { key, value } => {
            set(data, key, value);
            Response::Ok
        }
        Request::Cas { key, expected, new } => {
            let holds = match (data.get(&key).map(Vec::as_slice), expected) {
                (None | Some([]), None) => true,
                (Some([v]), Some(e)) => *v == e,
                _ => false,
            };
            if holds {
                set(data, key, new);
                Response::Ok
            } else {
                Response::Fail
            }
        }
        Request::Append { key, value } => {
            data.entry(key).or_default().push(value);
            Response::Ok
        }
        Request::Broadcast { .. } | Request::ReadSet | Request::Txn { .. } => Response::Unsupported,
    }
}

/// Makes `key` hold `value` alone, reusing the key's list when it has one.
fn set(data: &mut BTreeMap<Key, Vec<Value>>, key: Key, value: Value) {
    match data.get_mut(&key) {
        Some(list) => {
            list.clear();
            list.push(value);
        }
        None => {
            data.insert(key, vec![value]);
        }
    }
}

/// What a `Get` of `key` answers in `data`.
fn read(data: &BTreeMap<Key, Vec<Value>>, key: Key) -> Response {
    match data.get(&key).map(Vec::as_slice) {
        None | Some([]) => Response::Value(None),
        Some([v]) => Response::Value(Some(*v)),
        Some(list) => Response::List(list.to_vec()),
    }
}

impl KvStore {
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// Executes `request` for `client` at most once: the response, the recorded response of
    /// a retry of the last request, or `None` for a stale duplicate of an older one.
    pub fn execute(
        &mut self,
        client: u32,
        request_id: RequestId,
        request: &Request,
    ) -> Option<Response> {
        // One search of the sessions: every request but a client's first finds its session
        // and overwrites it in place.
        match self.sessions.get_mut(&client) {
            Some((last, response)) => {
                if request_id == *last {
                    return Some(response.clone());
                }
                if request_id < *last {
                    return None;
                }
                let new = apply(&mut self.data, request);
                *last = request_id;
                *response = new.clone();
                Some(new)
            }
            None => {
                let new = apply(&mut self.data, request);
                self.sessions.insert(client, (request_id, new.clone()));
                Some(new)
            }
        }
    }

    /// Applies `request` without deduplication (reads served outside the log use this).
    pub fn apply(&mut self, request: &Request) -> Response {
        apply(&mut self.data, request)
    }

    /// What a `Get` of `key` answers now.
    pub fn read(&self, key: Key) -> Response {
        read(&self.data, key)
    }

    /// The values held at `key`, oldest first (empty if absent).
    pub fn values(&self, key: Key) -> &[Value] {
        self.data.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Every non-empty key with its values, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (Key, &[Value])> {
        self.data
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.as_slice()))
    }

    /// The last request id executed for `client`, if any.
    pub fn last_request(&self, client: u32) -> Option<RequestId> {
        self.sessions.get(&client).map(|(r, _)| *r)
    }

    /// Whether `client`'s request `request_id` is new, answered already, or stale — what a
    /// leader checks before proposing it, so that a retry of an applied request is answered
    /// at once and a stale duplicate never reaches the log.
    pub fn seen(&self, client: u32, request_id: RequestId) -> Seen {
        match self.sessions.get(&client) {
            Some((last, response)) if *last == request_id => Seen::Answered(response.clone()),
            Some((last, _)) if *last > request_id => Seen::Stale,
            _ => Seen::New,
        }
    }

    /// The last request executed for `client` and its response, if any.
    pub fn session(&self, client: u32) -> Option<(RequestId, &Response)> {
        self.sessions.get(&client).map(|(r, resp)| (*r, resp))
    }

    /// Sets `client`'s session to its last executed request and that request's response,
    /// without executing anything: for a protocol that persists each session as a record of
    /// its own (primary-backup) and rebuilds the store from those records at recovery.
    pub fn restore_session(&mut self, client: u32, request_id: RequestId, response: Response) {
        self.sessions.insert(client, (request_id, response));
    }

    /// Number of client sessions held.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_lists_and_cas() {
        let mut s = KvStore::new();
        assert_eq!(s.apply(&Request::Get { key: 1 }), Response::Value(None));
        assert_eq!(
            s.apply(&Request::Cas {
                key: 1,
                expected: None,
                new: 5
            }),
            Response::Ok
        );
        assert_eq!(s.read(1), Response::Value(Some(5)));
        assert_eq!(
            s.apply(&Request::Cas {
                key: 1,
                expected: Some(4),
                new: 6
            }),
            Response::Fail
        );
        s.apply(&Request::Append { key: 1, value: 7 });
        assert_eq!(s.read(1), Response::List(vec![5, 7]));
        // A list never equals a register's expected value.
        assert_eq!(
            s.apply(&Request::Cas {
                key: 1,
                expected: Some(5),
                new: 8
            }),
            Response::Fail
        );
        s.apply(&Request::Put { key: 1, value: 9 });
        assert_eq!(s.read(1), Response::Value(Some(9)));
        s.apply(&Request::Append { key: 2, value: 3 });
        assert_eq!(s.read(2), Response::Value(Some(3)), "one appended value");
        assert_eq!(s.values(2), &[3]);
    }

    #[test]
    fn a_retry_executes_once_and_a_stale_duplicate_not_at_all() {
        let mut s = KvStore::new();
        let put = Request::Append { key: 0, value: 1 };
        assert_eq!(s.execute(3, 1, &put), Some(Response::Ok));
        assert_eq!(s.execute(3, 1, &put), Some(Response::Ok));
        assert_eq!(s.values(0), &[1], "the retry did not append again");
        s.execute(3, 2, &Request::Append { key: 0, value: 2 });
        assert_eq!(s.execute(3, 1, &put), None, "older request: stale");
        assert_eq!(s.values(0), &[1, 2]);
        assert_eq!(s.last_request(3), Some(2));
        assert_eq!(s.last_request(4), None);
        assert_eq!(s.seen(3, 2), Seen::Answered(Response::Ok));
        assert_eq!(s.seen(3, 1), Seen::Stale);
        assert_eq!(s.seen(3, 3), Seen::New);
        assert_eq!(s.seen(4, 1), Seen::New);
        let mut r = KvStore::new();
        r.restore_session(3, 2, Response::Ok);
        assert_eq!(r.seen(3, 2), Seen::Answered(Response::Ok));
        assert_eq!(r.execute(3, 1, &put), None, "restored: older request stale");
        assert_eq!(r.values(0), &[] as &[Value], "restoring executes nothing");
    }
}
