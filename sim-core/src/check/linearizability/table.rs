//! The search's memo: every configuration explored, with dominance between them.
//!
//! A configuration is (set of mandatory operations linearized, model state, set of optional
//! operations linearized). Configurations are grouped by their first two parts. Within a group,
//! a configuration is pruned when the same one was seen before (the classic memo of Lowe and
//! Porcupine) or when a configuration that was *fully explored without success* used a subset
//! of its optional operations: it had every option this one has and more, so this one cannot
//! succeed either.
//!
//! Storage is compact because histories can be long: the mandatory set is stored from its first
//! word that is not all ones (everything before it is linearized) to its last non-zero word, so
//! an entry's size follows the history's concurrency, not its length. Groups are found through
//! a hand-rolled open-addressing table (linear probing, power-of-two capacity) keyed by a
//! caller-supplied 64-bit hash whose low bits must be spread already (the search's Zobrist
//! hashes are): it is not mixed again. The table is sized at the first insertion for about as
//! many configurations as the key has operations (a linearizable key needs at least that
//! many), which saves growing it step by step. Everything is deterministic — no random seeds, no iteration
//! order — and the table accounts for its own memory so the search can stop at a budget.

/// "No entry" in lists.
const NONE: u32 = u32::MAX;
/// Initial number of slots of each hash table (a power of two).
const SLOTS_INITIAL: usize = 1 << 5;
/// Grow a hash table when its items exceed this fraction of its slots (numerator / 4).
const LOAD_QUARTERS_MAX: usize = 3;
/// Configurations the tables are sized for at the first insertion, at most: beyond, they grow.
const PRESIZE_MAX: usize = 4096;
/// Explored optional sets compared per lookup for dominance. Dominance only prunes, so a
/// shorter scan is still correct; the cap keeps a genuinely exponential key from also paying
/// a quadratic price.
const DOMINANCE_SCAN_MAX: usize = 32;

/// One open-addressing slot: the low 32 bits of the item's hash (which place it: a table has
/// fewer than 2^32 slots, so growing can rehash from them) next to the item index, so that a
/// probe touches one cache line and the stored item only when the bits already match. Eight
/// bytes a slot halve what presizing zeroes and what growing copies.
#[derive(Clone, Copy, Default)]
struct Slot {
    tag: u32,
    /// 0 when empty, otherwise the item index + 1.
    item: u32,
}

/// A hash table of `u32` items, each with a 64-bit hash; equality beyond the hash's low 32
/// bits is the caller's.
struct Slots {
    slots: Vec<Slot>,
    len: usize,
}

impl Slots {
    /// An empty table; its slots are allocated on the first insertion (many keys never need
    /// the dominance table).
    fn new() -> Slots {
        Slots {
            slots: Vec::new(),
            len: 0,
        }
    }

    /// An empty table of `n` slots (a power of two).
    fn with_slots(n: usize) -> Slots {
        debug_assert!(n.is_power_of_two());
        Slots {
            slots: vec![Slot::default(); n],
            len: 0,
        }
    }

    fn bytes(&self) -> u64 {
        self.slots.capacity() as u64 * SLOT_BYTES
    }

    /// Whether one more item makes the table grow (or allocate its slots).
    #[inline]
    fn full(&self) -> bool {
        (self.len + 1) * 4 > self.slots.len() * LOAD_QUARTERS_MAX
    }

    /// Extra bytes one more item would take.
    fn growth(&self) -> u64 {
        if self.slots.is_empty() {
            SLOTS_INITIAL as u64 * SLOT_BYTES
        } else if (self.len + 1) * 4 > self.slots.len() * LOAD_QUARTERS_MAX {
            // The old slots are freed only after the new ones are allocated.
            self.slots.len() as u64 * 2 * SLOT_BYTES
        } else {
            0
        }
    }

    /// The item matching `hash` and `eq`, or the empty slot where it would go.
    #[inline]
    fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let mask = self.slots.len() - 1;
        let tag = hash as u32;
        let mut i = (tag as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot.item == 0 {
                return Err(i);
            }
            if slot.tag == tag && eq(slot.item - 1) {
                return Ok(slot.item - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts `item` in the empty slot `at` that [`Slots::find`] returned.
    #[inline]
    fn put(&mut self, at: usize, hash: u64, item: u32) {
        let tag = hash as u32;
        let at = if self.slots.is_empty() {
            self.slots = vec![Slot::default(); SLOTS_INITIAL];
            (tag as usize) & (SLOTS_INITIAL - 1)
        } else {
            at
        };
        debug_assert_eq!(self.slots[at].item, 0);
        self.slots[at] = Slot {
            tag,
            item: item + 1,
        };
        self.len += 1;
        if self.len * 4 > self.slots.len() * LOAD_QUARTERS_MAX {
            self.grow();
        }
    }

    /// Doubles the slots (out of line: rare).
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let slot_count = self.slots.len() * 2;
        assert!(slot_count <= 1 << 32, "memo table slot overflow");
        let mask = slot_count - 1;
        let mut slots = vec![Slot::default(); slot_count];
        for slot in self.slots.iter().filter(|s| s.item != 0) {
            let mut i = (slot.tag as usize) & mask;
            while slots[i].item != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = *slot;
        }
        self.slots = slots;
    }
}

/// One configuration remembered.
#[derive(Clone, Copy)]
struct Entry {
    /// Hash of the mandatory set and the state (the dominance group's key).
    group_hash: u64,
    /// The mandatory set: `m_len` words starting at word `lo`, at `m_offset` in `words`; the
    /// optional set follows it there.
    m_offset: u32,
    lo: u32,
    m_len: u32,
    state: u32,
    /// The state before the optional operation that led here (see the search), or `NONE`.
    restrict: u32,
    /// Its dominance group when the insertion looked it up and it existed (else `NONE`:
    /// [`MemoTable::mark_done`] looks it up). It fits in the entry's padding.
    group: u32,
}

/// Explored configurations that share a mandatory set, a state and a restriction: an antichain of their
/// optional sets (none is a subset of another), as a list through `links`.
#[derive(Clone, Copy)]
struct Group {
    /// An entry with the group's mandatory set and state.
    sample: u32,
    first: u32,
}

/// A list node: an entry and the next node.
#[derive(Clone, Copy)]
struct Link {
    entry: u32,
    next: u32,
}

pub(super) struct MemoTable {
    /// Width of the optional set, in words (0 when the key has no optional operation).
    o_width: usize,
    /// How the optional set is stored.
    layout: Layout,
    /// Every configuration, by the hash of all of it.
    exact: Slots,
    entries: Vec<Entry>,
    /// Every entry's mandatory words then its `o_width` optional words: one vector to test
    /// and write per insertion. Its capacity is accounted as two vectors that grew apart, one
    /// of mandatory and one of optional words (`m_cap`, `o_cap`), as they were once stored:
    /// the budget decisions are unchanged, and the capacity held is their sum.
    words: Vec<u64>,
    /// Mandatory words stored.
    m_count: usize,
    m_cap: usize,
    o_cap: usize,
    /// Entries that fit before `entries` or the optional words must grow.
    room: usize,
    /// Explored configurations, by mandatory set, state and restriction (only with optional
    /// operations).
    dominance: Slots,
    groups: Vec<Group>,
    links: Vec<Link>,
    /// Links removed from their lists, for reuse.
    free_links: u32,
    /// Bit `group_hash >> 55` of every group's hash (a 512-bit filter): a group whose bit is
    /// clear does not exist, and the insertion of a configuration in it skips the lookup. Most
    /// insertions happen before their group's first configuration is explored. (With 64 bits
    /// the filter filled up on keys with a hundred groups, and most lookups it let through
    /// found nothing.)
    group_bits: [u64; GROUP_FILTER_WORDS],
    /// Configurations to size the tables for at the first insertion (0: grow from small).
    hint: usize,
    /// Bytes held ([`MemoTable::measure`]), updated whenever a capacity changes: the
    /// budget test of every insertion then reads one field.
    held: u64,
}

/// The outcome of [`MemoTable::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Insert {
    /// The configuration was new and is now remembered under this entry.
    New(u32),
    /// The configuration was seen before, or is dominated by one explored before.
    Seen,
    /// Remembering it would exceed the memory limit; nothing changed.
    Full,
}

const SLOT_BYTES: u64 = std::mem::size_of::<Slot>() as u64;
const ENTRY_BYTES: u64 = std::mem::size_of::<Entry>() as u64;
// The group index sits in what would otherwise be padding.
const _: () = assert!(ENTRY_BYTES == 32);
const GROUP_BYTES: u64 = std::mem::size_of::<Group>() as u64;
const LINK_BYTES: u64 = std::mem::size_of::<Link>() as u64;

/// How the optional operations used are stored: interchangeable optional operations (same
/// step) are used in invocation order, so a class's used members are always its first few, and
/// a configuration only needs each class's count. Counts sit in bit fields, a class of `m`
/// members taking the bits of `m` (one bit for a class of one: then the fields are the plain
/// set), never across two words. A history with many timed-out writes of few values thus
/// stores a few words per configuration instead of one bit per timed-out operation.
///
/// When some class has several members, each field is followed by a guard bit that is always
/// zero in a configuration: comparing every count of two configurations ("fewer") is then one
/// subtraction per word instead of a loop over the classes (`(b | guards) - a` keeps every
/// guard bit exactly where `b`'s field is at least `a`'s, and no borrow crosses a field).
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Per class: word, shift, mask.
    fields: Vec<(u32, u32, u64)>,
    words: usize,
    /// Every class has one member: fields are bits, and "fewer" is "subset".
    bits_only: bool,
    /// Per word, the guard bits above its fields (empty when `bits_only`).
    guards: Vec<u64>,
}

impl Layout {
    /// The layout of classes with these member counts.
    pub(super) fn new(members: &[u32]) -> Layout {
        let bits_only = members.iter().all(|&m| m <= 1);
        let guard = u32::from(!bits_only);
        let mut fields = Vec::with_capacity(members.len());
        let mut guards = Vec::new();
        let (mut word, mut used) = (0u32, 0u32);
        for &m in members {
            let width = 32 - m.leading_zeros();
            if used + width + guard > 64 {
                word += 1;
                used = 0;
            }
            let mask = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            fields.push((word, used, mask));
            if !bits_only {
                guards.resize(word as usize + 1, 0);
                guards[word as usize] |= 1u64 << (used + width);
            }
            used += width + guard;
        }
        let words = if members.is_empty() {
            0
        } else {
            word as usize + 1
        };
        Layout {
            fields,
            words,
            bits_only,
            guards,
        }
    }

    /// Words per configuration.
    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// Class `c`'s count in `o`.
    #[inline]
    pub(super) fn get(&self, o: &[u64], c: u32) -> u64 {
        let (w, shift, mask) = self.fields[c as usize];
        (o[w as usize] >> shift) & mask
    }

    #[inline]
    pub(super) fn set(&self, o: &mut [u64], c: u32, count: u64) {
        let (w, shift, mask) = self.fields[c as usize];
        debug_assert!(count <= mask);
        let word = &mut o[w as usize];
        *word = (*word & !(mask << shift)) | (count << shift);
    }

    /// Whether every class's count in `a` is at most its count in `b`.
    fn fewer(&self, a: &[u64], b: &[u64]) -> bool {
        if self.bits_only {
            return a.iter().zip(b).all(|(x, y)| x & !y == 0);
        }
        a.iter()
            .zip(b)
            .zip(&self.guards)
            .all(|((&x, &y), &g)| (y | g).wrapping_sub(x) & g == g)
    }

    /// [`Layout::fewer`], class by class (what the word-wise test must agree with).
    #[cfg(test)]
    fn fewer_by_class(&self, a: &[u64], b: &[u64]) -> bool {
        (0..self.fields.len() as u32).all(|c| self.get(a, c) <= self.get(b, c))
    }
}

impl MemoTable {
    /// A memo whose configurations store optional sets laid out as `layout` (`None`: no
    /// optional set).
    #[cfg(test)]
    pub(super) fn new(layout: Option<Layout>) -> MemoTable {
        MemoTable::with_hint(layout, 0)
    }

    /// A memo like [`MemoTable::new`] that expects about `configurations` configurations: its
    /// first insertion sizes the tables for them (up to [`PRESIZE_MAX`], and only when that
    /// takes at most half of the insertion's memory limit).
    pub(super) fn with_hint(layout: Option<Layout>, configurations: usize) -> MemoTable {
        let layout = layout.unwrap_or_else(|| Layout::new(&[]));
        MemoTable {
            o_width: layout.words(),
            layout,
            exact: Slots::new(),
            entries: Vec::new(),
            words: Vec::new(),
            m_count: 0,
            m_cap: 0,
            o_cap: 0,
            room: 0,
            dominance: Slots::new(),
            groups: Vec::new(),
            links: Vec::new(),
            free_links: NONE,
            group_bits: [0; GROUP_FILTER_WORDS],
            hint: configurations.min(PRESIZE_MAX),
            held: 0,
        }
    }

    /// Sizes the tables for `self.hint` configurations whose mandatory sets take about
    /// `m_len` words, if that fits in half of `bytes_max`; the hint is used once (out of
    /// line: once per search).
    #[cold]
    #[inline(never)]
    fn presize(&mut self, m_len: usize, bytes_max: u64) {
        let n = std::mem::take(&mut self.hint);
        let slots = (n * 4 / LOAD_QUARTERS_MAX + 1)
            .next_power_of_two()
            .max(SLOTS_INITIAL);
        let m_words = n * m_len.max(1);
        // With optional operations, the dominance table gets as many slots: it would otherwise
        // grow from `SLOTS_INITIAL` by doubling, rehashing at each step (up to a tenth of a
        // Knossos `memstress3` check).
        let tables = if self.o_width > 0 { 2 } else { 1 };
        let bytes = tables * slots as u64 * SLOT_BYTES
            + n as u64 * ENTRY_BYTES
            + m_words as u64 * 8
            + (n * self.o_width) as u64 * 8;
        if bytes > bytes_max / 2 {
            return;
        }
        self.exact = Slots::with_slots(slots);
        if self.o_width > 0 {
            self.dominance = Slots::with_slots(slots);
        }
        self.entries.reserve_exact(n);
        self.m_cap = m_words;
        self.o_cap = n * self.o_width;
        self.fit_words();
        self.held = self.measure();
    }

    /// Configurations remembered.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes held (capacities, not lengths: what the allocator gave us).
    pub(super) fn bytes(&self) -> u64 {
        debug_assert_eq!(self.held, self.measure());
        self.held
    }

    /// Bytes held, summed over the tables' capacities.
    fn measure(&self) -> u64 {
        self.exact.bytes()
            + self.entries.capacity() as u64 * ENTRY_BYTES
            + self.words.capacity() as u64 * 8
            + self.dominance.bytes()
            + self.groups.capacity() as u64 * GROUP_BYTES
            + self.links.capacity() as u64 * LINK_BYTES
    }

    /// Extra bytes to grow a vector of `len` items and capacity `cap` by `extra` items.
    fn growth(len: usize, cap: usize, extra: usize, size: u64) -> u64 {
        if len + extra <= cap {
            0
        } else {
            (next_capacity(cap, len + extra) - cap) as u64 * size
        }
    }

    fn m_of(&self, e: u32) -> (u32, &[u64]) {
        let x = self.entries[e as usize];
        (
            x.lo,
            &self.words[x.m_offset as usize..(x.m_offset + x.m_len) as usize],
        )
    }

    fn o_of(&self, e: u32) -> &[u64] {
        let x = &self.entries[e as usize];
        let at = (x.m_offset + x.m_len) as usize;
        &self.words[at..at + self.o_width]
    }

    /// Gives `words` the capacity `m_cap + o_cap` and recomputes `room` (out of line: when a
    /// capacity changes).
    #[cold]
    #[inline(never)]
    fn fit_words(&mut self) {
        let cap = self.m_cap + self.o_cap;
        if cap > self.words.capacity() {
            self.words.reserve_exact(cap - self.words.len());
        }
        debug_assert_eq!(self.words.capacity(), cap);
        // Entry indices and word offsets are `u32`s: checked here, where the capacities that
        // bound them change, rather than at every insertion.
        assert!(
            self.entries.capacity() < NONE as usize,
            "memo table index overflow"
        );
        assert!(cap < u32::MAX as usize, "memo table arena overflow");
        // Without optional words, only the entries' capacity counts.
        let o_room = self.o_cap.checked_div(self.o_width).unwrap_or(usize::MAX);
        self.room = self.entries.capacity().min(o_room);
    }

    /// Remembers the configuration (mandatory set `m` starting at word `lo`, `state` and the
    /// search's restriction, optional set `o`) unless it was seen, is dominated by an explored
    /// one, or would exceed `bytes_max`. `group_hash` must be a function of all but `o`, and
    /// `hash` of all.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert(
        &mut self,
        hash: u64,
        group_hash: u64,
        lo: u32,
        m: &[u64],
        (state, restrict): (u32, u32),
        o: &[u64],
        bytes_max: u64,
    ) -> Insert {
        debug_assert_eq!(o.len(), self.o_width);
        if self.hint > 0 {
            self.presize(m.len(), bytes_max);
        }
        let same = |e: u32| {
            let x = &self.entries[e as usize];
            x.state == state
                && x.restrict == restrict
                && x.lo == lo
                && words_eq(self.m_of(e).1, m)
                && words_eq(self.o_of(e), o)
        };
        let at = match self.exact.find(hash, same) {
            Ok(_) => return Insert::Seen,
            Err(at) => at,
        };
        // Only a configuration that used a subset of the optional operations dominates: with
        // none used, that is the same configuration, which the exact lookup already found.
        let mut group = NONE;
        if self.o_width > 0
            && group_maybe(&self.group_bits, group_hash)
            && o.iter().any(|&w| w != 0)
        {
            if let Ok(g) = self.find_group(group_hash, lo, m, (state, restrict)) {
                group = g;
                let mut link = self.groups[g as usize].first;
                for _ in 0..DOMINANCE_SCAN_MAX {
                    if link == NONE {
                        break;
                    }
                    let l = self.links[link as usize];
                    if self.layout.fewer(self.o_of(l.entry), o) {
                        return Insert::Seen;
                    }
                    link = l.next;
                }
            }
        }
        // Most insertions fit in what the tables hold: the growth is only summed when one of
        // them is full.
        let growth = if self.exact.full()
            || self.entries.len() >= self.room
            || self.m_count + m.len() > self.m_cap
        {
            self.insert_growth(m.len())
        } else {
            0
        };
        if self.bytes() + growth > bytes_max {
            return Insert::Full;
        }
        let e = self.entries.len() as u32;
        let m_offset = self.words.len() as u32;
        if growth != 0 {
            // Only then may a vector need more room (`growth` counted each one's).
            self.grow_words(m.len());
        }
        self.m_count += m.len();
        push_words(&mut self.words, m);
        push_words(&mut self.words, o);
        self.entries.push(Entry {
            group_hash,
            m_offset,
            lo,
            m_len: m.len() as u32,
            state,
            restrict,
            group,
        });
        self.exact.put(at, hash, e);
        if growth != 0 {
            self.held = self.measure();
        }
        Insert::New(e)
    }

    /// Extra bytes the insertion of an entry with `m_len` mandatory words takes (out of line:
    /// only when a table is full).
    #[cold]
    #[inline(never)]
    fn insert_growth(&self, m_len: usize) -> u64 {
        self.exact.growth()
            + Self::growth(self.entries.len(), self.entries.capacity(), 1, ENTRY_BYTES)
            + Self::growth(self.m_count, self.m_cap, m_len, 8)
            + Self::growth(
                self.entries.len() * self.o_width,
                self.o_cap,
                self.o_width,
                8,
            )
    }

    /// Grows the entries and the accounted capacities of the words as separate vectors would,
    /// for one more entry with `m_len` mandatory words (out of line: only when one is full).
    #[cold]
    #[inline(never)]
    fn grow_words(&mut self, m_len: usize) {
        if self.m_count + m_len > self.m_cap {
            self.m_cap = next_capacity(self.m_cap, self.m_count + m_len);
        }
        let o_count = self.entries.len() * self.o_width;
        if o_count + self.o_width > self.o_cap {
            self.o_cap = next_capacity(self.o_cap, o_count + self.o_width);
        }
        reserve(&mut self.entries, 1);
        self.fit_words();
    }

    fn find_group(
        &self,
        group_hash: u64,
        lo: u32,
        m: &[u64],
        (state, restrict): (u32, u32),
    ) -> Result<u32, usize> {
        self.dominance.find(group_hash, |g| {
            let sample = self.groups[g as usize].sample;
            let x = &self.entries[sample as usize];
            x.state == state
                && x.restrict == restrict
                && x.lo == lo
                && words_eq(self.m_of(sample).1, m)
        })
    }

    /// Records that the configuration `entry` was fully explored without success: it now
    /// dominates the configurations with the same mandatory set and state and more optional
    /// operations. Returns false, changing nothing, when that would exceed `bytes_max`.
    pub(super) fn mark_done(&mut self, entry: u32, bytes_max: u64) -> bool {
        if self.o_width == 0 {
            return true;
        }
        let x = self.entries[entry as usize];
        let found = if x.group != NONE {
            Ok(x.group)
        } else {
            let (lo, m) = self.m_of(entry);
            self.find_group(x.group_hash, lo, m, (x.state, x.restrict))
        };
        let extra = match found {
            Ok(_) => 0,
            Err(_) => {
                self.dominance.growth()
                    + Self::growth(self.groups.len(), self.groups.capacity(), 1, GROUP_BYTES)
            }
        } + Self::growth(self.links.len(), self.links.capacity(), 1, LINK_BYTES);
        if self.free_links == NONE && self.bytes() + extra > bytes_max {
            return false;
        }
        self.add_done(entry, found);
        if extra != 0 {
            self.held = self.measure();
        }
        true
    }

    /// [`MemoTable::mark_done`] once the memory is known to suffice: `found` is the lookup of
    /// the entry's group.
    fn add_done(&mut self, entry: u32, found: Result<u32, usize>) {
        let x = self.entries[entry as usize];
        let g = match found {
            Ok(g) => g,
            Err(at) => {
                let g = self.groups.len() as u32;
                reserve(&mut self.groups, 1);
                self.groups.push(Group {
                    sample: entry,
                    first: NONE,
                });
                self.dominance.put(at, x.group_hash, g);
                let (w, bit) = group_bit(x.group_hash);
                self.group_bits[w] |= bit;
                g
            }
        };
        // Keep the list an antichain: drop the sets this one is a subset of (within the scan).
        let mut prev = NONE;
        let mut link = self.groups[g as usize].first;
        for _ in 0..DOMINANCE_SCAN_MAX {
            if link == NONE {
                break;
            }
            let l = self.links[link as usize];
            let (theirs, ours) = (self.o_of(l.entry), self.o_of(entry));
            if self.layout.fewer(theirs, ours) {
                return; // Already dominated: nothing to add.
            }
            if self.layout.fewer(ours, theirs) {
                if prev == NONE {
                    self.groups[g as usize].first = l.next;
                } else {
                    self.links[prev as usize].next = l.next;
                }
                self.links[link as usize].next = self.free_links;
                self.free_links = link;
            } else {
                prev = link;
            }
            link = l.next;
        }
        let first = self.groups[g as usize].first;
        let node = Link { entry, next: first };
        let link = if self.free_links != NONE {
            let link = self.free_links;
            self.free_links = self.links[link as usize].next;
            self.links[link as usize] = node;
            link
        } else {
            reserve(&mut self.links, 1);
            self.links.push(node);
            (self.links.len() - 1) as u32
        };
        self.groups[g as usize].first = link;
    }
}

/// Words of [`MemoTable::group_bits`].
const GROUP_FILTER_WORDS: usize = 8;

/// A group's word and bit in [`MemoTable::group_bits`] (from the hash's top nine bits: the
/// tables index with its low ones).
#[inline]
fn group_bit(group_hash: u64) -> (usize, u64) {
    let i = group_hash >> 55;
    ((i >> 6) as usize, 1 << (i & 63))
}

/// Whether a group with this hash may exist (its bit in the filter is set).
#[inline]
fn group_maybe(bits: &[u64; GROUP_FILTER_WORDS], group_hash: u64) -> bool {
    let (w, bit) = group_bit(group_hash);
    bits[w] & bit != 0
}

/// Whether two word slices are equal: a loop the compiler keeps inline (a slice comparison
/// calls `memcmp`, which costs more than the one or two words a memo key usually has).
#[inline]
fn words_eq(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Appends `words` to `v`, whose capacity must already suffice: a loop the compiler keeps
/// inline, where `extend_from_slice` calls `memcpy` for one or two words.
#[inline]
fn push_words(v: &mut Vec<u64>, words: &[u64]) {
    debug_assert!(v.len() + words.len() <= v.capacity());
    for &w in words {
        v.push(w);
    }
}

/// The capacity after `cap` when `needed` items must fit: doubling, from 64.
fn next_capacity(cap: usize, needed: usize) -> usize {
    (cap * 2).max(64).max(needed)
}

/// Grows `v` the way [`next_capacity`] predicts, so that memory accounting is exact.
fn reserve<T>(v: &mut Vec<T>, extra: usize) {
    if v.len() + extra > v.capacity() {
        let capacity = next_capacity(v.capacity(), v.len() + extra);
        v.reserve_exact(capacity - v.len());
    }
}

/// SplitMix64's increment: `splitmix64(seed + i * SPLITMIX_GAMMA)` is the `i`-th value of the
/// sequence seeded with `seed`.
pub(super) const SPLITMIX_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64: deterministic pseudo-random 64-bit values (Zobrist keys for operations).
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(t: &mut MemoTable, hash: u64, lo: u32, m: &[u64], state: u32, o: &[u64]) -> Insert {
        let o_hash = o.iter().fold(0, |h, &w| splitmix64(h ^ w));
        t.insert(hash ^ o_hash, hash, lo, m, (state, NONE), o, u64::MAX)
    }

    /// The group filter never hides a group that was added (a clear bit means "absent"), and
    /// with few groups most other hashes find their bit clear.
    #[test]
    fn group_filter_has_no_false_negatives() {
        let mut bits = [0u64; GROUP_FILTER_WORDS];
        let added: Vec<u64> = (0..100u64).map(|i| splitmix64(i ^ 0xf11e)).collect();
        for &h in &added {
            let (w, bit) = group_bit(h);
            bits[w] |= bit;
            assert!(group_maybe(&bits, h));
        }
        assert!(added.iter().all(|&h| group_maybe(&bits, h)));
        let others = (1000..11000u64)
            .map(|i| splitmix64(i ^ 0xf11e))
            .filter(|&h| group_maybe(&bits, h))
            .count();
        // 100 groups set at most 100 of the 512 bits: about a fifth of other hashes pass.
        assert!(others < 2500, "{others} of 10000 passed");
    }

    #[test]
    fn insert_finds_duplicates_and_grows() {
        let mut t = MemoTable::new(None);
        for i in 0..5000u64 {
            let m = [i, i * 7];
            assert!(matches!(
                new(&mut t, splitmix64(i), 3, &m, (i % 3) as u32, &[]),
                Insert::New(_)
            ));
        }
        for i in 0..5000u64 {
            let m = [i, i * 7];
            assert_eq!(
                new(&mut t, splitmix64(i), 3, &m, (i % 3) as u32, &[]),
                Insert::Seen
            );
            // Same words, different state, start or length: different configurations.
            assert!(matches!(
                new(&mut t, splitmix64(i), 3, &m, 7, &[]),
                Insert::New(_)
            ));
            assert!(matches!(
                new(&mut t, splitmix64(i), 2, &m, 7, &[]),
                Insert::New(_)
            ));
            assert!(matches!(
                new(&mut t, splitmix64(i), 3, &m[..1], 7, &[]),
                Insert::New(_)
            ));
        }
        assert_eq!(t.len(), 20_000);
    }

    #[test]
    fn an_explored_configuration_dominates_the_ones_with_more_optional_operations() {
        let mut t = MemoTable::new(Some(Layout::new(&[1; 64])));
        let m = [0b1u64];
        let Insert::New(small) = new(&mut t, 9, 0, &m, 1, &[0b0010]) else {
            panic!("new")
        };
        // Not explored yet: a superset is still new (it may be the small one's descendant).
        assert!(matches!(
            new(&mut t, 9, 0, &m, 1, &[0b0110]),
            Insert::New(_)
        ));
        assert!(t.mark_done(small, u64::MAX));
        assert_eq!(
            new(&mut t, 9, 0, &m, 1, &[0b1010]),
            Insert::Seen,
            "dominated"
        );
        assert_eq!(
            new(&mut t, 9, 0, &m, 1, &[0b0010]),
            Insert::Seen,
            "the same"
        );
        assert!(
            matches!(new(&mut t, 9, 0, &m, 1, &[0b0001]), Insert::New(_)),
            "incomparable"
        );
        let Insert::New(empty) = new(&mut t, 9, 0, &m, 1, &[0b0000]) else {
            panic!("a subset is new")
        };
        assert!(
            matches!(new(&mut t, 9, 0, &m, 2, &[0b1010]), Insert::New(_)),
            "another state"
        );
        // The empty set, once explored, dominates everything in its group.
        assert!(t.mark_done(empty, u64::MAX));
        assert_eq!(new(&mut t, 9, 0, &m, 1, &[0b0101]), Insert::Seen);
    }

    #[test]
    fn with_classes_a_configuration_that_used_fewer_of_each_is_the_dominating_one() {
        // Classes of 3, 1 and 5 members: 2, 1 and 3 bits.
        let layout = Layout::new(&[3, 1, 5]);
        assert_eq!(layout.words(), 1);
        let counts = |a: u64, b: u64, c: u64| {
            let mut o = [0u64];
            layout.set(&mut o, 0, a);
            layout.set(&mut o, 1, b);
            layout.set(&mut o, 2, c);
            assert_eq!(
                (layout.get(&o, 0), layout.get(&o, 1), layout.get(&o, 2)),
                (a, b, c)
            );
            o
        };
        let mut t = MemoTable::new(Some(layout.clone()));
        let m = [0b1u64];
        let Insert::New(done) = new(&mut t, 9, 0, &m, 1, &counts(1, 0, 2)) else {
            panic!("new")
        };
        assert!(t.mark_done(done, u64::MAX));
        assert_eq!(new(&mut t, 9, 0, &m, 1, &counts(3, 0, 5)), Insert::Seen);
        assert_eq!(new(&mut t, 9, 0, &m, 1, &counts(1, 1, 2)), Insert::Seen);
        // Fewer of one class: it has an option the explored one did not.
        assert!(matches!(
            new(&mut t, 9, 0, &m, 1, &counts(0, 1, 5)),
            Insert::New(_)
        ));
        assert!(matches!(
            new(&mut t, 9, 0, &m, 1, &counts(3, 1, 1)),
            Insert::New(_)
        ));
    }

    #[test]
    fn a_class_field_never_spans_two_words() {
        let layout = Layout::new(&[(1 << 20) - 1; 4]);
        assert_eq!(
            layout.words(),
            2,
            "three 20-bit fields fit in a word, not four"
        );
        let mut o = [0u64; 2];
        layout.set(&mut o, 3, (1 << 20) - 1);
        assert_eq!(o, [0, (1 << 20) - 1]);
    }

    #[test]
    fn a_presized_memo_answers_as_one_that_grows() {
        // Random configurations over a few mandatory sets, states and optional sets, some
        // marked explored: the sized and the unsized memo give the same answers throughout.
        let layout = Layout::new(&[1, 3, 1, 2]);
        let mut grown = MemoTable::new(Some(layout.clone()));
        let mut sized = MemoTable::with_hint(Some(layout.clone()), 300);
        let mut x = 7u64;
        for _ in 0..3000 {
            x = splitmix64(x);
            let (m, state) = ([x % 5, (x >> 8) % 3], ((x >> 16) % 4) as u32);
            let mut o = [0u64];
            for c in 0..4 {
                let most = [1, 3, 1, 2][c as usize];
                layout.set(&mut o, c, (x >> (24 + 4 * c)) % (most + 1));
            }
            let outcomes = [&mut grown, &mut sized].map(|t| {
                let answer = new(t, splitmix64(m[0] ^ m[1] << 8), 0, &m, state, &o);
                if let (Insert::New(e), true) = (answer, x.is_multiple_of(3)) {
                    assert!(t.mark_done(e, u64::MAX));
                }
                answer
            });
            assert_eq!(outcomes[0], outcomes[1]);
        }
        assert!(
            grown.len() > 100,
            "the sequence explores enough: {}",
            grown.len()
        );
        assert_eq!(grown.len(), sized.len());
    }

    #[test]
    fn presizing_stays_within_the_memory_limit() {
        let mut t = MemoTable::with_hint(None, 4096);
        let limit = 4096;
        assert!(matches!(
            t.insert(1, 1, 0, &[1], (0, NONE), &[], limit),
            Insert::New(_)
        ));
        assert!(t.bytes() <= limit, "{} bytes", t.bytes());
        let mut big = MemoTable::with_hint(None, 4096);
        assert!(matches!(
            big.insert(1, 1, 0, &[1], (0, NONE), &[], u64::MAX),
            Insert::New(_)
        ));
        assert!(big.bytes() > 4096 * ENTRY_BYTES, "sized for the hint");
    }

    #[test]
    fn insert_respects_the_memory_limit() {
        let mut t = MemoTable::new(Some(Layout::new(&[1; 64])));
        let limit = t.bytes() + 4096;
        let mut full = false;
        for i in 0..10_000u64 {
            match t.insert(
                splitmix64(i),
                splitmix64(i),
                0,
                &[i],
                (0, NONE),
                &[i],
                limit,
            ) {
                Insert::New(_) => assert!(t.bytes() <= limit),
                Insert::Full => {
                    full = true;
                    break;
                }
                Insert::Seen => unreachable!(),
            }
        }
        assert!(full);
    }

    /// The bytes kept up to date as capacities change are the capacities summed afresh, after
    /// every insertion and every exploration mark, with and without a limit that stops them.
    #[test]
    fn held_bytes_follow_every_capacity_change() {
        for (hint, limit) in [(0, u64::MAX), (300, u64::MAX), (0, 40_000), (5000, 60_000)] {
            let members = [3, 1, 1, 7];
            let layout = Layout::new(&members);
            let mut t = MemoTable::with_hint(Some(layout.clone()), hint);
            let mut entries = Vec::new();
            for i in 0..3000u64 {
                let m = [i / 7, i % 5];
                let mut o = [0u64];
                for (c, &n) in members.iter().enumerate() {
                    layout.set(
                        &mut o,
                        c as u32,
                        splitmix64(i + c as u64) % u64::from(n + 1),
                    );
                }
                let group = splitmix64((i / 7) ^ 77);
                if let Insert::New(e) = t.insert(group ^ o[0], group, 0, &m, (1, NONE), &o, limit) {
                    entries.push(e);
                }
                assert_eq!(t.bytes(), t.measure(), "after insertion {i}");
                if i % 3 == 0 {
                    if let Some(e) = entries.pop() {
                        t.mark_done(e, limit);
                        assert_eq!(t.bytes(), t.measure(), "after marking {i}");
                    }
                }
                assert!(t.bytes() <= limit);
            }
            assert!(t.len() > 0);
        }
    }

    /// The one vector of words is accounted as, and holds exactly, the capacities that a vector
    /// of mandatory words and one of optional words would have reached apart (what the budget
    /// decisions always saw), with and without presizing, for mandatory sets of varied length;
    /// and every entry reads back the words it was given.
    #[test]
    fn the_word_arena_grows_as_two_vectors_would() {
        for (hint, members) in [(0, &[1u32; 70][..]), (40, &[3, 1, 2][..]), (0, &[][..])] {
            let layout = Layout::new(members);
            let ow = layout.words();
            let mut t = MemoTable::with_hint(Some(layout), hint);
            let (mut m_model, mut o_model) = (Vec::<u64>::new(), Vec::<u64>::new());
            let mut kept = Vec::new();
            for i in 0..2000u64 {
                let x = splitmix64(i);
                let m: Vec<u64> = (0..1 + x % 4).map(|j| splitmix64(x ^ j)).collect();
                let o: Vec<u64> = (0..ow as u64).map(|j| splitmix64(!x ^ j) & 1).collect();
                let Insert::New(e) = t.insert(x, x, 0, &m, (1, NONE), &o, u64::MAX) else {
                    panic!("distinct hashes and words are new")
                };
                if i == 0 && hint > 0 {
                    m_model.reserve_exact(hint * m.len());
                    o_model.reserve_exact(hint * ow);
                }
                reserve(&mut m_model, m.len());
                reserve(&mut o_model, ow);
                m_model.extend_from_slice(&m);
                o_model.extend_from_slice(&o);
                assert_eq!(t.m_cap, m_model.capacity(), "entry {i}");
                assert_eq!(t.o_cap, o_model.capacity(), "entry {i}");
                assert_eq!(t.words.capacity(), t.m_cap + t.o_cap);
                assert_eq!(t.bytes(), t.measure());
                kept.push((e, m, o));
            }
            for (e, m, o) in &kept {
                assert_eq!(t.m_of(*e).1, &m[..]);
                assert_eq!(t.o_of(*e), &o[..]);
            }
        }
    }

    /// The word-wise comparison of counts agrees with comparing class by class, on layouts
    /// of one-member classes, of mixed sizes and of fields that fill words.
    #[test]
    fn fewer_agrees_with_comparing_class_by_class() {
        let mut x = 0u64;
        let mut next = || {
            x += 1;
            splitmix64(x)
        };
        let layouts: [&[u32]; 5] = [
            &[1; 70],
            &[3, 1, 1, 7, 2, 1],
            &[(1 << 20) - 1; 5],
            &[u32::MAX, 1, 5],
            &[2; 40],
        ];
        for members in layouts {
            let layout = Layout::new(members);
            let random_counts = |next: &mut dyn FnMut() -> u64| {
                let mut o = vec![0u64; layout.words()];
                for (c, &m) in members.iter().enumerate() {
                    let r = next();
                    // Often equal to or one off the extremes, where borrows would show.
                    let count = match r % 4 {
                        0 => 0,
                        1 => u64::from(m),
                        _ => (r >> 8) % (u64::from(m) + 1),
                    };
                    layout.set(&mut o, c as u32, count);
                }
                o
            };
            let mut seen = [0usize; 2];
            for _ in 0..3000 {
                let a = random_counts(&mut next);
                let mut b = random_counts(&mut next);
                if next() % 3 == 0 {
                    b = a.clone();
                    let c = (next() % members.len() as u64) as u32;
                    let v = layout.get(&b, c);
                    layout.set(&mut b, c, if v > 0 { v - 1 } else { v });
                }
                let want = layout.fewer_by_class(&a, &b);
                assert_eq!(layout.fewer(&a, &b), want, "{members:?} {a:?} {b:?}");
                assert_eq!(layout.fewer(&b, &a), layout.fewer_by_class(&b, &a));
                seen[usize::from(want)] += 1;
            }
            assert!(seen[0] > 0 && seen[1] > 0, "{members:?}: {seen:?}");
        }
    }
}
