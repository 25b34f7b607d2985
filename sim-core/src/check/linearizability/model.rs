//! The sequential specification one key is checked against: a register that holds nothing
//! (absent) or one value, with read, write, compare-and-set and append.
//!
//! Before the search, every operation of a key is *compiled* under the chosen [`Semantics`]:
//! values are interned to small integers, operations that cannot constrain anything are
//! dropped (a read whose result is unknown, an operation that definitely did not happen), and
//! each remaining operation becomes a [`Step`] that is either *mandatory* (it completed, so it
//! must be linearized before its completion) or *optional* (indeterminate: it may take effect at
//! any point after its invocation, or never). The search then only compares integers. The
//! model borrows the values it interns from the checked operations (it lives no longer than
//! the check), so interning copies no string.
//!
//! The state [`ANY`] stands for "some state we know nothing about"; explanations use it to
//! check a window of a history cut out of its context. Every transition from `ANY` admits at
//! least what any concrete state would, so a window that cannot be linearized from `ANY` cannot
//! be linearized from any state at all.

use super::order::sort_by_time;
use super::table::splitmix64;
use super::{Completion, FailMeaning, Input, LinOp, NilRead, Semantics, Value};

/// State id of the absent register (`nil`).
pub(super) const ABSENT: u32 = 0;
/// State id of "any state" (only used to check windows).
pub(super) const ANY: u32 = 1;
/// Values a model is sized for up front, at most: a key's operations bound its values, and
/// growing the tables value by value cost a tenth of a small check (Porcupine's kv reads,
/// each a distinct string); beyond this they grow.
const VALUES_PRESIZE_MAX: usize = 256;
/// Interned values beyond this count are refused (the search's state is a `u32`).
const VALUES_MAX: usize = 1 << 30;
/// What the placeholder entries of `ABSENT` and `ANY` hold.
static NIL: Value = Value::Nil;
/// Prefix hashes the look-ahead's table is sized for at its first use, at most (512 KiB).
const PREFIX_PRESIZE_MAX: usize = 1 << 16;
/// Integers `0..SMALL_INTS` are interned through a direct table ([`Model::small`]) instead of
/// the hash table: Knossos's and Porcupine's etcd histories use a handful of small integers,
/// and hashing each operation's values was a tenth of a small check.
const SMALL_INTS: usize = 64;

/// What an operation does to the register, with values interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    /// A read that returned this value.
    Read(u32),
    /// Set the value.
    Write(u32),
    /// A compare-and-set that succeeded: required the first value, set the second.
    Cas(u32, u32),
    /// A compare-and-set that completed and observed a value other than this one (etcd's
    /// reading of a failed compare-and-set).
    CasFailed(u32),
    /// Concatenate a string to the value (absent counts as the empty string).
    Append(u32),
}

impl Step {
    /// Whether the step never changes the state, wherever it is linearized.
    pub(super) fn read_only(self) -> bool {
        match self {
            Step::Read(_) | Step::CasFailed(_) => true,
            Step::Cas(expected, new) => expected == new,
            Step::Write(_) | Step::Append(_) => false,
        }
    }
}

/// One operation ready for the search.
#[derive(Clone, Copy, Debug)]
pub(super) struct CompiledOp {
    pub(super) step: Step,
    /// Index of the operation in the caller's slice.
    pub(super) index: usize,
    pub(super) call: u64,
    /// Completion time of a mandatory operation; `None` for an optional one.
    pub(super) ret: Option<u64>,
}

impl CompiledOp {
    pub(super) fn mandatory(&self) -> bool {
        self.ret.is_some()
    }
}

/// The interned values of one key and the transition function over them.
#[derive(Clone)]
pub(super) struct Model<'v> {
    /// What each state id stands for (ids 0 and 1 are `ABSENT` and `ANY`).
    entries: Vec<Entry<'v>>,
    /// Content hash of each entry (see [`ContentHash`]).
    hashes: Vec<ContentHash>,
    /// Content → id, by the content hash (for every value but `nil` and the small integers).
    ids: IdTable,
    /// `small[n]` is the id of `Int(n)` plus one, or 0 when it is not interned yet.
    small: [u32; SMALL_INTS],
    /// Per state id, the last `Append` transition taken from it: (appended value + 1, next
    /// state), `(0, _)` for none; allocated at the key's first append. One transition a state
    /// rather than a table of them: on Porcupine's kv histories 96% (`c10-ok`) and 70%
    /// (`c50-ok`) of appends were new pairs, each paying for its insertion (and the table's
    /// growth); a pair seen before and forgotten is found again through [`Model::ids`], by
    /// its structure.
    last_append: Vec<(u32, u32)>,
    /// For a string that [`Model::may_extend_to`] was asked about as a target: where its
    /// prefix hashes start in `prefix_polys` (`u32::MAX`: not computed yet), by id.
    prefix_at: Vec<u32>,
    /// Polynomial hashes of every prefix (lengths 0 to n) of such strings, one run per string.
    prefix_polys: Vec<u64>,
    /// For each long string value interned (see [`ContentHash::chunks`]): the polynomial
    /// hashes of its prefixes of 0, 8, 16, … bytes, kept as its hash is computed, so that the
    /// look-ahead's prefix test needs no table built byte by byte.
    chunk_polys: Vec<u64>,
}

/// A value, or a string built by appending to another state. Appended strings are only
/// materialized when two contents hash alike (to tell them apart) or for display, so a search
/// through many appends does not copy strings at every step.
#[derive(Clone, Debug)]
enum Entry<'v> {
    /// A value of the history, borrowed from its operation (interning copies nothing).
    Value(&'v Value),
    /// The string of state `.0` followed by the string value `.1`.
    Append(u32, u32),
}

impl<'v> Model<'v> {
    /// A model with room for about `values` distinct values without growing (tables start
    /// small: histories often have far fewer distinct values than operations).
    pub(super) fn with_capacity(values: usize) -> Model<'v> {
        let values = values.min(VALUES_PRESIZE_MAX) + 2;
        let mut model = Model {
            // Twice the values: a key's appends add about one state each (growing these by
            // copying was an eighth of preparing a Porcupine kv key); a key without appends
            // leaves the second half untouched.
            entries: Vec::with_capacity(2 * values),
            hashes: Vec::with_capacity(2 * values),
            ids: IdTable::with_capacity(values),
            small: [0; SMALL_INTS],
            last_append: Vec::new(),
            prefix_at: Vec::new(),
            prefix_polys: Vec::new(),
            chunk_polys: Vec::new(),
        };
        // `nil` is `ABSENT`, found without a lookup; `ANY` has no value of its own: its slot
        // holds a placeholder never looked up.
        for _ in [ABSENT, ANY] {
            model.entries.push(Entry::Value(&NIL));
            model.hashes.push(ContentHash::of(&Value::Nil));
        }
        model
    }

    pub(super) fn intern(&mut self, v: &'v Value) -> u32 {
        match v {
            Value::Nil => return ABSENT,
            Value::Int(n) if (0..SMALL_INTS as i128).contains(n) => {
                let n = *n as usize;
                if self.small[n] != 0 {
                    return self.small[n] - 1;
                }
                let id = self.push_unindexed(ContentHash::of(v), Entry::Value(v));
                self.small[n] = id + 1;
                return id;
            }
            _ => {}
        }
        let hash = match v {
            Value::Str(s) if s.len() >= 16 => self.long_string_hash(s.as_bytes()),
            _ => ContentHash::of(v),
        };
        match self.find(hash, v) {
            Ok(id) => {
                if hash.chunks != NO_CHUNKS {
                    self.chunk_polys.truncate(hash.chunks as usize);
                }
                id
            }
            Err(slot) => self.push_at(slot, hash, Entry::Value(v)),
        }
    }

    /// The content hash of a string of at least 16 bytes, keeping its prefix hashes by
    /// chunks of eight bytes in [`Model::chunk_polys`] (the caller drops them if the string
    /// was interned before).
    fn long_string_hash(&mut self, bytes: &[u8]) -> ContentHash {
        if self.chunk_polys.capacity() == 0 {
            // Room for about as many strings as long as this one as the key has values, up
            // to a bound (the table grew by doubling, a sixth of its cost).
            let per = bytes.len() / 8 + 1;
            self.chunk_polys
                .reserve((self.ids.hint * per).clamp(per, PREFIX_PRESIZE_MAX));
        }
        let start = self.chunk_polys.len();
        let (poly, power, chunks) = if start + bytes.len() / 8 < NO_CHUNKS as usize {
            let (poly, power) = str_poly_chunks_kept(bytes, &mut self.chunk_polys);
            (poly, power, start as u32)
        } else {
            let (poly, power) = str_hash(bytes);
            (poly, power, NO_CHUNKS)
        };
        ContentHash {
            poly,
            power,
            len: bytes.len() as u64,
            chunks,
            tag: 2,
        }
    }

    /// The id whose content is `v`, or the free slot of [`Model::ids`] where it would go.
    fn find(&self, hash: ContentHash, v: &Value) -> Result<u32, usize> {
        self.ids
            .probe(hash.key(), |id| match &self.entries[id as usize] {
                Entry::Value(x) => *x == v,
                Entry::Append(..) => self.materialize(id) == *v,
            })
    }

    /// A new id for `entry`, entered in [`Model::ids`] at `slot` (what its probe found free).
    fn push_at(&mut self, slot: usize, hash: ContentHash, entry: Entry<'v>) -> u32 {
        let id = self.push_unindexed(hash, entry);
        self.ids.insert_at(slot, hash.key(), id);
        id
    }

    /// A new id for `entry`, not entered in [`Model::ids`] (`nil` and small integers, which
    /// are found without it: no appended string is equal to them).
    fn push_unindexed(&mut self, hash: ContentHash, entry: Entry<'v>) -> u32 {
        assert!(self.entries.len() < VALUES_MAX, "too many distinct values");
        let id = self.entries.len() as u32;
        self.entries.push(entry);
        self.hashes.push(hash);
        id
    }

    /// Whether state `id` (not `ANY`) is the string `s` (the absent value counts as the empty
    /// string, as in appends), comparing each appended piece with the end of `s` rather than
    /// building the state's string.
    fn spells(&self, id: u32, mut s: &str) -> bool {
        let mut at = id;
        loop {
            match &self.entries[at as usize] {
                Entry::Value(Value::Str(x)) => return x == s,
                Entry::Value(Value::Nil) => return s.is_empty(),
                Entry::Value(Value::Int(_)) => return false,
                Entry::Append(prev, suffix) => {
                    if let Entry::Value(Value::Str(x)) = &self.entries[*suffix as usize] {
                        match s.strip_suffix(x.as_str()) {
                            Some(rest) => s = rest,
                            None => return false,
                        }
                    }
                    at = *prev;
                }
            }
        }
    }

    /// The value of an id (not `ANY`), building appended strings without recursion.
    fn materialize(&self, id: u32) -> Value {
        assert_ne!(id, ANY);
        let mut suffixes: Vec<u32> = Vec::new();
        let mut at = id;
        let base = loop {
            match &self.entries[at as usize] {
                Entry::Value(v) => break *v,
                Entry::Append(prev, suffix) => {
                    suffixes.push(*suffix);
                    at = *prev;
                }
            }
        };
        if suffixes.is_empty() {
            return base.clone();
        }
        let mut s = match base {
            Value::Str(s) => s.clone(),
            _ => String::new(), // Absent: the empty string.
        };
        for &suffix in suffixes.iter().rev() {
            if let Entry::Value(Value::Str(x)) = &self.entries[suffix as usize] {
                s.push_str(x);
            }
        }
        Value::Str(s)
    }

    /// The value a state id stands for (`None` for `ANY`).
    pub(super) fn value(&self, state: u32) -> Option<Value> {
        (state != ANY).then(|| self.materialize(state))
    }

    /// Applies `op` to `state`: the next state, or `None` when the operation is not allowed
    /// there. An optional operation that would leave the state unchanged is refused too: taking
    /// effect without changing anything is the same as never taking effect, which the search
    /// already covers by leaving it out.
    #[inline(always)]
    pub(super) fn step(&mut self, state: u32, op: &CompiledOp) -> Option<u32> {
        let next = match op.step {
            Step::Read(v) => {
                if state == v || state == ANY {
                    v
                } else {
                    return None;
                }
            }
            Step::Write(v) => v,
            Step::Cas(expected, new) => {
                if state == expected || state == ANY {
                    new
                } else {
                    return None;
                }
            }
            Step::CasFailed(expected) => {
                if state == expected {
                    return None;
                }
                state
            }
            Step::Append(v) => self.append(state, v)?,
        };
        if op.ret.is_none() && next == state {
            return None;
        }
        Some(next)
    }

    /// Whether appending zero or more strings to `base` may give `target`. Exact up to hash
    /// collisions, which only ever answer `true`: a `false` is certain. Used to prune a search
    /// that can no longer reach the state an operation needs.
    #[inline(always)]
    pub(super) fn may_extend_to(&mut self, base: u32, target: u32) -> bool {
        if base == target || base == ANY || target == ANY {
            return true;
        }
        let t = self.hashes[target as usize];
        let b = &self.hashes[base as usize];
        // Only strings grow by appends, and only from the absent value or a string.
        if t.tag != 2 || b.tag == 1 || b.len > t.len {
            return false;
        }
        if b.len == t.len {
            return b.poly == t.poly;
        }
        if b.len == 0 {
            return true;
        }
        let (len, poly) = (b.len as usize, b.poly);
        if t.chunks != NO_CHUNKS {
            // A long value (reads are): its prefix hash by eight-byte chunks, then byte by
            // byte to `len`.
            let Entry::Value(Value::Str(s)) = self.entries[target as usize] else {
                unreachable!("only long string values keep chunk hashes")
            };
            let whole = len & !7;
            let start = self.chunk_polys[t.chunks as usize + len / 8];
            let prefix = (s.as_bytes()[whole..len].iter()).fold(start, |p, &x| poly_push(p, x));
            return prefix == poly;
        }
        let at = match self.prefix_at.get(target as usize) {
            Some(&at) if at != u32::MAX => at as usize,
            _ => self.prefix_polys_of(target),
        };
        self.prefix_polys[at + len] == poly
    }

    /// Where the prefix hashes of string `id` start in `prefix_polys`, computing them (once
    /// per string: out of line, so that [`Model::may_extend_to`]'s usual path stays small).
    #[cold]
    #[inline(never)]
    fn prefix_polys_of(&mut self, id: u32) -> usize {
        let i = id as usize;
        if self.prefix_at.len() <= i {
            self.prefix_at
                .resize(self.entries.len().max(i + 1), u32::MAX);
        }
        if self.prefix_at[i] == u32::MAX {
            // A value read is stored as is: hash it in place rather than copy it.
            let built;
            let s = match &self.entries[i] {
                Entry::Value(Value::Str(s)) => s,
                _ => {
                    built = self.materialize(id);
                    let Value::Str(s) = &built else {
                        unreachable!("only strings have prefixes")
                    };
                    s
                }
            };
            assert!(
                self.prefix_polys.len() + s.len() < u32::MAX as usize,
                "prefix table overflow"
            );
            if self.prefix_polys.capacity() == 0 {
                // Room for the prefixes of every string value of the key (the targets are
                // values read), up to a bound: the tables then never grow by copying.
                let values: usize = (self.hashes.iter())
                    .filter(|h| h.tag == 2)
                    .map(|h| h.len as usize + 1)
                    .sum();
                self.prefix_polys
                    .reserve(values.clamp(s.len() + 1, PREFIX_PRESIZE_MAX));
            }
            let start = self.prefix_polys.len();
            self.prefix_at[i] = start as u32;
            self.prefix_polys.push(0);
            let mut poly = 0u64;
            self.prefix_polys.extend(s.as_bytes().iter().map(|&byte| {
                poly = poly_push(poly, byte);
                poly
            }));
        }
        self.prefix_at[i] as usize
    }

    /// Makes room in [`Model::last_append`] for every state id so far.
    #[cold]
    #[inline(never)]
    fn grow_last_append(&mut self) {
        if self.last_append.capacity() == 0 {
            self.last_append.reserve_exact(self.entries.capacity());
        }
        self.last_append.resize(self.entries.len(), (0, 0));
    }

    /// Out of line, so that [`Model::step`] stays small enough to inline.
    #[inline(never)]
    fn append(&mut self, state: u32, v: u32) -> Option<u32> {
        if state == ANY {
            return Some(ANY);
        }
        if self.last_append.len() <= state as usize {
            self.grow_last_append();
        }
        let (last_v1, last_next) = self.last_append[state as usize];
        if last_v1 == v + 1 {
            return Some(last_next);
        }
        let Entry::Value(Value::Str(suffix)) = self.entries[v as usize] else {
            return None;
        };
        if matches!(self.entries[state as usize], Entry::Value(Value::Int(_))) {
            return None;
        }
        let hash = self.hashes[state as usize].concat(self.hashes[v as usize]);
        let len = (self.hashes[state as usize].len + suffix.len() as u64) as usize;
        // The content that hashes alike, compared piece by piece without building the
        // appended string: the same transition taken before (by its structure), or a read
        // of it interned before the search (the usual match).
        let same = |x: &str| {
            x.len() == len
                && x.ends_with(suffix.as_str())
                && self.spells(state, &x[..len - suffix.len()])
        };
        let found = self
            .ids
            .probe(hash.key(), |id| match &self.entries[id as usize] {
                Entry::Append(p, x) if *p == state && *x == v => true,
                Entry::Value(Value::Str(x)) => same(x),
                Entry::Value(_) => false,
                // Two appended states that hash alike: rare, so build one of them.
                Entry::Append(..) => match self.materialize(id) {
                    Value::Str(x) => same(&x),
                    _ => false,
                },
            });
        let next = match found {
            Ok(id) => id,
            Err(slot) => self.push_at(slot, hash, Entry::Append(state, v)),
        };
        self.last_append[state as usize] = (v + 1, next);
        Some(next)
    }
}

/// A stable hash of a value's content that can be extended by concatenation: for a string,
/// the polynomial `Σ byte[i]·B^(n-1-i)` (mod 2^64) and `B^n`, so the hash of `a + b` comes from
/// the hashes of `a` and `b` without reading either. The absent value hashes like the empty
/// string, which is what it is for concatenation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ContentHash {
    poly: u64,
    /// `B^len` for strings; 0 for integers (which do not concatenate).
    power: u64,
    /// Length in bytes of a string (0 for the absent value and integers).
    len: u64,
    /// For a string value of at least 16 bytes: where its prefix hashes by eight-byte chunks
    /// start in [`Model::chunk_polys`]; else [`NO_CHUNKS`].
    chunks: u32,
    tag: u8,
}

/// [`ContentHash::chunks`] of a value without chunk hashes.
const NO_CHUNKS: u32 = u32::MAX;

/// The polynomial's base (odd).
const HASH_BASE: u64 = 0x100_0000_01b3;

/// The polynomial hash of a string extended by one byte.
#[inline]
fn poly_push(poly: u64, byte: u8) -> u64 {
    poly.wrapping_mul(HASH_BASE)
        .wrapping_add(u64::from(byte) + 1)
}

/// `HASH_BASE` to the powers 2 to 7, and the sum of its powers 0 to 7 (what eight `+ 1`s
/// add up to).
const B2: u64 = HASH_BASE.wrapping_mul(HASH_BASE);
const B3: u64 = B2.wrapping_mul(HASH_BASE);
const B4: u64 = B3.wrapping_mul(HASH_BASE);
const B5: u64 = B4.wrapping_mul(HASH_BASE);
const B6: u64 = B5.wrapping_mul(HASH_BASE);
const B7: u64 = B6.wrapping_mul(HASH_BASE);
const B8: u64 = B7.wrapping_mul(HASH_BASE);
const ONES8: u64 = 1u64
    .wrapping_add(HASH_BASE)
    .wrapping_add(B2)
    .wrapping_add(B3)
    .wrapping_add(B4)
    .wrapping_add(B5)
    .wrapping_add(B6)
    .wrapping_add(B7);

/// `HASH_BASE` to the powers 0 to 15.
const POWERS: [u64; 16] = {
    let mut p = [1u64; 16];
    let mut i = 1;
    while i < 16 {
        p[i] = p[i - 1].wrapping_mul(HASH_BASE);
        i += 1;
    }
    p
};

/// The polynomial hash of `bytes` and `HASH_BASE` to the power of their length.
#[inline]
fn str_hash(bytes: &[u8]) -> (u64, u64) {
    if bytes.len() < 16 {
        // Short strings (the appended pieces): byte by byte, inline.
        let poly = bytes.iter().fold(0, |p, &b| poly_push(p, b));
        return (poly, POWERS[bytes.len()]);
    }
    str_poly_chunks(bytes)
}

/// [`str_hash`] of a long string, eight bytes at a time: the eight products are independent
/// of each other and of the running hash, so only one multiplication per eight bytes waits for
/// the one before (reads in Porcupine's kv histories are strings of hundreds of bytes, each
/// hashed when interned). The power is carried along, a multiplication per eight bytes off
/// the hash's chain, rather than raised by squaring afterwards (a fifth of interning such a
/// string). Out of line, so that interning stays small.
#[inline(never)]
fn str_poly_chunks(bytes: &[u8]) -> (u64, u64) {
    str_poly_by_chunks(bytes)
}

/// [`str_poly_chunks`], also appending to `kept` the hash of each prefix of a multiple of
/// eight bytes (0, 8, 16, … up to the length).
#[inline(never)]
fn str_poly_chunks_kept(bytes: &[u8], kept: &mut Vec<u64>) -> (u64, u64) {
    let mut chunks = bytes.chunks_exact(8);
    let (mut poly, mut power) = (0u64, 1u64);
    kept.reserve(bytes.len() / 8 + 1);
    kept.push(0);
    // An exact-size iterator: written without a capacity check per chunk.
    kept.extend(chunks.by_ref().map(|c| {
        poly = chunk_step(poly, c);
        power = power.wrapping_mul(B8);
        poly
    }));
    let rest = chunks.remainder();
    let poly = rest.iter().fold(poly, |p, &b| poly_push(p, b));
    (poly, power.wrapping_mul(POWERS[rest.len()]))
}

/// The hash of a string extended by eight bytes.
#[inline(always)]
fn chunk_step(poly: u64, c: &[u8]) -> u64 {
    let word = u64::from(c[0])
        .wrapping_mul(B7)
        .wrapping_add(u64::from(c[1]).wrapping_mul(B6))
        .wrapping_add(u64::from(c[2]).wrapping_mul(B5))
        .wrapping_add(u64::from(c[3]).wrapping_mul(B4))
        .wrapping_add(u64::from(c[4]).wrapping_mul(B3))
        .wrapping_add(u64::from(c[5]).wrapping_mul(B2))
        .wrapping_add(u64::from(c[6]).wrapping_mul(HASH_BASE))
        .wrapping_add(u64::from(c[7]))
        .wrapping_add(ONES8);
    poly.wrapping_mul(B8).wrapping_add(word)
}

/// The chunked hash of [`str_poly_chunks`].
#[inline(always)]
fn str_poly_by_chunks(bytes: &[u8]) -> (u64, u64) {
    let mut chunks = bytes.chunks_exact(8);
    let (mut poly, mut power) = (0u64, 1u64);
    for c in &mut chunks {
        poly = chunk_step(poly, c);
        power = power.wrapping_mul(B8);
    }
    let rest = chunks.remainder();
    let poly = rest.iter().fold(poly, |p, &b| poly_push(p, b));
    (poly, power.wrapping_mul(POWERS[rest.len()]))
}

impl ContentHash {
    #[inline]
    fn of(v: &Value) -> ContentHash {
        match v {
            Value::Nil => ContentHash {
                poly: 0,
                power: 1,
                len: 0,
                chunks: NO_CHUNKS,
                tag: 0,
            },
            Value::Int(n) => {
                let bytes = n.to_le_bytes();
                let (lo, hi) = bytes.split_at(8);
                let lo = u64::from_le_bytes(lo.try_into().expect("8 bytes"));
                let hi = u64::from_le_bytes(hi.try_into().expect("8 bytes"));
                ContentHash {
                    poly: splitmix64(lo) ^ hi.rotate_left(17),
                    power: 0,
                    len: 0,
                    chunks: NO_CHUNKS,
                    tag: 1,
                }
            }
            Value::Str(s) => {
                let (poly, power) = str_hash(s.as_bytes());
                ContentHash {
                    poly,
                    power,
                    len: s.len() as u64,
                    chunks: NO_CHUNKS,
                    tag: 2,
                }
            }
        }
    }

    /// The hash of the concatenation of two strings (or of absent and a string).
    fn concat(self, suffix: ContentHash) -> ContentHash {
        ContentHash {
            poly: self
                .poly
                .wrapping_mul(suffix.power)
                .wrapping_add(suffix.poly),
            power: self.power.wrapping_mul(suffix.power),
            len: self.len + suffix.len,
            chunks: NO_CHUNKS,
            tag: 2,
        }
    }

    /// The key for hash tables.
    fn key(self) -> u64 {
        splitmix64(self.poly ^ u64::from(self.tag) << 56)
    }
}

/// A small open-addressing table from 64-bit hashes to `u32` ids; the caller confirms a
/// candidate id with its own equality. Deterministic: no random state, no iteration. A slot
/// keeps the low 32 bits of the hash (which place it: a table has fewer than 2^32 slots) and
/// the id: eight bytes, so that zeroing a new table and growing it move half as much as with
/// the whole hash (on Porcupine's `c50-ok`, zeroing the grown tables was 4% of the check).
#[derive(Clone, Default)]
struct IdTable {
    /// (low 32 bits of the hash, id + 1); id + 1 == 0 marks an empty slot.
    slots: Vec<(u32, u32)>,
    len: usize,
    /// Items the slots are sized for at the first insertion (a history of small integers
    /// never inserts, and never pays for zeroing the slots).
    hint: usize,
}

impl IdTable {
    fn with_capacity(items: usize) -> IdTable {
        IdTable {
            slots: Vec::new(),
            len: 0,
            hint: items,
        }
    }

    /// The first id whose slot's hash bits are `hash`'s and that `eq` accepts, or else the
    /// free slot that ends the probe (`usize::MAX` while the table is unallocated), for
    /// [`IdTable::insert_at`].
    #[inline]
    fn probe(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let hash = hash as u32;
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let (h, id1) = self.slots[i];
            if id1 == 0 {
                return Err(i);
            }
            if h == hash && eq(id1 - 1) {
                return Ok(id1 - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Enters `id` under `hash`, which [`IdTable::probe`] just did not find, ending at `slot`
    /// (the table has not changed since): no second probe unless the table grows.
    #[inline]
    fn insert_at(&mut self, slot: usize, hash: u64, id: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
            self.place(hash as u32, id + 1);
        } else {
            debug_assert_eq!(self.slots[slot].1, 0, "a free slot");
            self.slots[slot] = (hash as u32, id + 1);
        }
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let first = (self.hint * 2).next_power_of_two();
        let size = (old.len() * 2).max(first).max(16);
        assert!(size <= 1 << 32, "id table too large");
        self.slots = vec![(0, 0); size];
        for (h, id1) in old.into_iter().filter(|s| s.1 != 0) {
            self.place(h, id1);
        }
    }

    #[inline]
    fn place(&mut self, hash: u32, id1: u32) {
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        while self.slots[i].1 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (hash, id1);
    }
}

/// Compiles the operations `members` (indices into `ops`, in any order) of one key. Returns the
/// compiled operations sorted by invocation (ties by index), leaving out the ones that cannot
/// constrain the search.
pub(super) fn compile<'v>(
    model: &mut Model<'v>,
    ops: &'v [LinOp],
    members: &[usize],
    sem: &Semantics,
) -> Vec<CompiledOp> {
    let mut out = Vec::with_capacity(members.len());
    for &index in members {
        let op = &ops[index];
        let Some((step, completed)) = compile_one(model, op, sem) else {
            continue;
        };
        // A completion without a time completed at some point: the end bounds it.
        let ret = completed.then(|| op.ret.unwrap_or(u64::MAX).max(op.call));
        out.push(CompiledOp {
            step,
            index,
            call: op.call,
            ret,
        });
    }
    if out.windows(2).all(|w| w[0].index < w[1].index) {
        // In index order (as keys gather them): a stable sort by invocation sorts by
        // (call, index).
        sort_by_time(&mut out, |c| c.call);
    } else {
        out.sort_by_key(|c| (c.call, c.index));
    }
    out
}

/// The step of one operation and whether it completed (must be linearized), or `None` when
/// the operation can be left out of the check entirely.
fn compile_one<'v>(model: &mut Model<'v>, op: &'v LinOp, sem: &Semantics) -> Option<(Step, bool)> {
    match (&op.input, op.completion) {
        (Input::Read, Completion::Ok) => {
            let v = op.output.as_ref()?;
            if *v == Value::Nil && sem.nil_read == NilRead::Anything {
                return None;
            }
            Some((Step::Read(model.intern(v)), true))
        }
        // A read that failed or timed out returned nothing we can check.
        (Input::Read, _) => None,
        // A write or append that failed did not happen, under either convention; its value is
        // not interned (histories where most writes fail spent a third of a check on that).
        (Input::Write(_) | Input::Append(_), Completion::Fail) => None,
        (Input::Write(v), c) => completed_or_optional(Step::Write(model.intern(v)), c),
        (Input::Append(v), c) => completed_or_optional(Step::Append(model.intern(v)), c),
        (Input::Cas { expected, .. }, Completion::Fail) => match sem.fail {
            FailMeaning::DidNotHappen => None,
            FailMeaning::ObservedOther => Some((Step::CasFailed(model.intern(expected)), true)),
        },
        (Input::Cas { expected, new }, c) => {
            let step = Step::Cas(model.intern(expected), model.intern(new));
            completed_or_optional(step, c)
        }
    }
}

fn completed_or_optional(step: Step, c: Completion) -> Option<(Step, bool)> {
    match c {
        Completion::Ok => Some((step, true)),
        // A write or append that failed did not happen, under either convention.
        Completion::Fail => None,
        Completion::Unknown => Some((step, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value that outlives the test's model (the model borrows what it interns).
    fn leak(v: Value) -> &'static Value {
        Box::leak(Box::new(v))
    }

    fn append(v: u32) -> CompiledOp {
        CompiledOp {
            step: Step::Append(v),
            index: 0,
            call: 0,
            ret: Some(1),
        }
    }

    /// Hashing eight bytes at a time gives what hashing byte by byte gives, at every length
    /// (around the eight-byte chunks) and for every byte value, and the power is `B^len`.
    #[test]
    fn string_hash_by_chunks_is_the_bytewise_one() {
        let mut x = 5u64;
        for len in 0..70 {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x = splitmix64(x);
                        x as u8
                    })
                    .collect();
                let want = bytes.iter().fold(0u64, |p, &b| poly_push(p, b));
                let power = HASH_BASE.wrapping_pow(len);
                assert_eq!(str_hash(&bytes), (want, power), "{bytes:?}");
                // Keeping the prefix hashes of whole chunks, after what is kept already.
                let mut kept = vec![7];
                assert_eq!(str_poly_chunks_kept(&bytes, &mut kept), (want, power));
                let prefixes: Vec<u64> = (0..=bytes.len() / 8)
                    .map(|k| bytes[..8 * k].iter().fold(0u64, |p, &b| poly_push(p, b)))
                    .collect();
                assert_eq!(kept[0], 7);
                assert_eq!(kept[1..], prefixes[..], "{bytes:?}");
            }
        }
        assert_eq!(
            str_hash(&[0xff; 16]).0,
            [0xffu8; 16].iter().fold(0, |p, &b| poly_push(p, b))
        );
    }

    /// Interning through the small-integer table and the hash table gives what a map from
    /// values to ids in first-seen order gives (ids 0 and 1 being `nil` and `ANY`), and every
    /// id reads back as its value: integers on both sides of the table's range, strings, `nil`.
    #[test]
    fn interning_matches_a_map_in_first_seen_order() {
        let mut rng = super::super::tests::Rng(0x1d5);
        for case in 0..200 {
            let mut model = Model::with_capacity(rng.below(300) as usize);
            let mut reference: std::collections::BTreeMap<Value, u32> =
                std::collections::BTreeMap::from([(Value::Nil, ABSENT)]);
            let spread = 1 + rng.below(200) as i128;
            for _ in 0..rng.below(400) {
                let v = match rng.below(4) {
                    0 => Value::Int(rng.below(spread as u64) as i128 - 8),
                    1 => Value::Int(SMALL_INTS as i128 - 2 + rng.below(4) as i128),
                    2 => Value::Str(format!("s{}", rng.below(spread as u64))),
                    _ => [Value::Nil, Value::Int(1 << 70), Value::Str(String::new())]
                        [rng.below(3) as usize]
                        .clone(),
                };
                let next = reference.len() as u32 + 1; // `ANY` takes id 1.
                let want = *reference.entry(v.clone()).or_insert(next);
                assert_eq!(model.intern(leak(v.clone())), want, "case {case}: {v:?}");
                assert_eq!(model.value(want), Some(v));
            }
        }
    }

    /// Random appends over a small alphabet (so that many orders give the same string) from
    /// values read before: every state reads back as the string a reference builds, and two
    /// states are the same id exactly when their strings are equal, whether they were interned
    /// or appended.
    #[test]
    fn appended_states_are_equal_exactly_when_their_strings_are() {
        let mut rng = super::super::tests::Rng(0xa99e);
        let pieces = ["", "a", "b", "ab", "ba", "aab", "é"];
        for case in 0..300 {
            let mut m = Model::with_capacity(rng.below(20) as usize);
            let mut states: Vec<(u32, Option<String>)> = vec![(ABSENT, None)];
            for _ in 0..rng.below(12) {
                let s: String = (0..rng.below(4))
                    .map(|_| pieces[rng.below(pieces.len() as u64) as usize])
                    .collect();
                states.push((m.intern(leak(Value::Str(s.clone()))), Some(s)));
            }
            let suffixes: Vec<(u32, &str)> = pieces
                .iter()
                .map(|p| (m.intern(leak(Value::Str(p.to_string()))), *p))
                .collect();
            for _ in 0..rng.below(60) {
                let (from, text) = states[rng.below(states.len() as u64) as usize].clone();
                let (v, piece) = suffixes[rng.below(suffixes.len() as u64) as usize];
                let op = append(v);
                let to = m.step(from, &op).expect("strings append");
                states.push((to, Some(text.unwrap_or_default() + piece)));
            }
            for (id, text) in &states {
                let want = text.clone().map_or(Value::Nil, Value::Str);
                assert_eq!(m.value(*id), Some(want), "case {case}");
            }
            for (a, x) in &states {
                for (b, y) in &states {
                    let same_text = x.as_deref().unwrap_or("") == y.as_deref().unwrap_or("")
                        && x.is_some() == y.is_some();
                    assert_eq!(a == b, same_text, "case {case}: {x:?} {y:?}");
                }
            }
        }
    }

    /// The id table against a map, with hashes drawn from few values of their low 32 bits
    /// (the bits a slot keeps) and of their high bits, so that slots' hashes collide and
    /// only the caller's equality tells ids apart; the table grows from its smallest size.
    #[test]
    fn id_table_matches_a_map_when_slot_hashes_collide() {
        let mut rng = super::super::tests::Rng(0x1d7a);
        for case in 0..100 {
            let mut table = IdTable::with_capacity(rng.below(8) as usize);
            let mut keys: Vec<u64> = Vec::new();
            let mut reference: std::collections::BTreeMap<u64, u32> = Default::default();
            let (lows, highs) = (1 + rng.below(40), 1 + rng.below(4));
            for _ in 0..rng.below(300) {
                let key = rng.below(highs) << 32 | rng.below(lows).wrapping_mul(0x9e37_79b9);
                let found = table.probe(key, |id| keys[id as usize] == key);
                assert_eq!(
                    found.ok(),
                    reference.get(&key).copied(),
                    "case {case}: {key:x}"
                );
                if let Err(slot) = found {
                    let id = keys.len() as u32;
                    keys.push(key);
                    table.insert_at(slot, key, id);
                    reference.insert(key, id);
                }
            }
            for (&key, &id) in &reference {
                assert_eq!(table.probe(key, |i| keys[i as usize] == key), Ok(id));
            }
        }
    }

    /// The look-ahead's prefix test against `starts_with`, for bases and targets among
    /// strings of every length around the eight-byte chunks (long values keep chunk hashes,
    /// short ones and appended states do not), appended states, `nil` and an integer.
    #[test]
    fn may_extend_to_is_the_prefix_relation() {
        let mut rng = super::super::tests::Rng(0x9ef1);
        for case in 0..60 {
            let mut m = Model::with_capacity(rng.below(40) as usize);
            let stem: String = (0..40).map(|_| ['a', 'b'][rng.below(2) as usize]).collect();
            let mut states: Vec<(u32, Option<String>)> = vec![(ABSENT, Some(String::new()))];
            states.push((m.intern(leak(Value::Int(1 << 40))), None));
            for _ in 0..rng.below(30) {
                // Prefixes of one stem (so that many pairs extend), some with a changed end.
                let mut x = stem[..rng.below(41) as usize].to_string();
                if rng.below(3) == 0 {
                    x.push('c');
                }
                states.push((m.intern(leak(Value::Str(x.clone()))), Some(x)));
            }
            let piece = m.intern(leak(Value::Str("ab".to_string())));
            for _ in 0..rng.below(10) {
                let (from, text) = states[rng.below(states.len() as u64) as usize].clone();
                let Some(text) = text else { continue };
                let to = m.step(from, &append(piece)).expect("strings append");
                states.push((to, Some(text + "ab")));
            }
            for (b, x) in &states {
                for (t, y) in &states {
                    let want = b == t
                        || match (x, y) {
                            (Some(x), Some(y)) => *t != ABSENT && y.starts_with(x.as_str()),
                            _ => false,
                        };
                    assert_eq!(m.may_extend_to(*b, *t), want, "case {case}: {x:?} {y:?}");
                }
            }
        }
    }

    #[test]
    fn appended_strings_are_the_same_state_as_equal_values() {
        let mut m = Model::with_capacity(0);
        let s = |x: &str| Value::Str(x.to_string());
        let (a, bc, ab, c) = (
            m.intern(leak(s("a"))),
            m.intern(leak(s("bc"))),
            m.intern(leak(s("ab"))),
            m.intern(leak(s("c"))),
        );
        assert_eq!(
            m.step(ABSENT, &append(a)),
            Some(a),
            "absent + \"a\" is \"a\""
        );
        let abc = m.step(a, &append(bc)).expect("appends");
        assert_eq!(
            m.step(ab, &append(c)),
            Some(abc),
            "\"ab\" + \"c\" is \"a\" + \"bc\""
        );
        assert_eq!(m.value(abc), Some(s("abc")));
        assert_eq!(
            m.intern(leak(s("abc"))),
            abc,
            "a read of \"abc\" matches the appended state"
        );
        let cbc = m.step(c, &append(bc)).expect("appends");
        assert_ne!(cbc, abc);
        assert_eq!(m.value(cbc), Some(s("cbc")));
        // Appending to a number, or a number, is not allowed.
        let one = m.intern(leak(Value::Int(1)));
        assert_eq!(m.step(one, &append(a)), None);
        assert_eq!(m.step(a, &append(one)), None);
    }
}
