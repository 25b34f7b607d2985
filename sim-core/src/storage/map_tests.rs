//! The shared test of the storage's ordered maps: random operations, compared with a
//! `BTreeMap` after every step.

/// Defines, in a test module, `agrees_with_btreemap_on_random_operations` for the map type
/// `$map` (with `default`, `insert`, `remove`, `get`, `split_off`, `append`, `iter`, `range`,
/// `len`, `is_empty` and `Debug`), drawing from the stream `$label`.
macro_rules! agrees_with_btreemap {
    ($map:ident, $label:expr) => {
        use std::collections::BTreeMap;
        use std::ops::Bound::{self, Excluded, Included, Unbounded};

        use $crate::rng::{SimRng, StreamLabel};

        fn same(m: &$map<u32, u32>, r: &BTreeMap<u32, u32>) {
            assert_eq!(m.len(), r.len());
            assert_eq!(m.is_empty(), r.is_empty());
            assert!(m.iter().eq(r.iter()));
            assert!(m.iter().rev().eq(r.iter().rev()));
            assert!(m.iter().map(|(k, _)| k).eq(r.keys()));
            assert!(m.iter().map(|(_, v)| v).eq(r.values()));
            assert_eq!(format!("{m:?}"), format!("{r:?}"));
        }

        fn bound(rng: &mut SimRng, span: u64) -> Bound<u32> {
            let k = rng.below(span) as u32;
            match rng.below(3) {
                0 => Included(k),
                1 => Excluded(k),
                _ => Unbounded,
            }
        }

        /// Random inserts (mostly ascending, as logs are written, or anywhere), removals,
        /// truncations and re-appends, compared with a `BTreeMap` after every step, with random
        /// lookups and ranges (both directions, and the ranges a `BTreeMap` refuses).
        #[test]
        fn agrees_with_btreemap_on_random_operations() {
            for seed in 0..40 {
                let mut rng = SimRng::new(seed, StreamLabel::Custom($label));
                let span = [8, 64, 400, 3000][seed as usize % 4];
                let (mut m, mut r) = ($map::default(), BTreeMap::new());
                let mut next = 0u32;
                for step in 0..2000u32 {
                    match rng.below(12) {
                        0..=4 => {
                            next = (next + 1).min(span as u32 - 1);
                            assert_eq!(m.insert(next, step), r.insert(next, step));
                        }
                        5..=7 => {
                            let k = rng.below(span) as u32;
                            assert_eq!(m.insert(k, step), r.insert(k, step));
                        }
                        8 | 9 => {
                            let k = rng.below(span) as u32;
                            assert_eq!(m.remove(&k), r.remove(&k));
                        }
                        10 => {
                            let k = rng.below(span) as u32;
                            let (mut mt, mut rt) = (m.split_off(&k), r.split_off(&k));
                            same(&m, &r);
                            same(&mt, &rt);
                            if rng.below(2) == 0 {
                                // Put back (as a crash's undo does), or merge overlapping.
                                if rng.below(2) == 0 {
                                    m.insert(k, step);
                                    r.insert(k, step);
                                }
                                m.append(&mut mt);
                                r.append(&mut rt);
                                assert!(mt.is_empty());
                            }
                            next = r.keys().next_back().copied().unwrap_or(0);
                        }
                        _ => {
                            let (lo, hi) = (bound(&mut rng, span), bound(&mut rng, span));
                            let refused = match (lo, hi) {
                                (Included(a) | Excluded(a), Included(b) | Excluded(b)) => {
                                    a > b
                                        || (a == b
                                            && matches!((lo, hi), (Excluded(_), Excluded(_))))
                                }
                                _ => false,
                            };
                            if refused {
                                assert_eq!(m.range((lo, hi)).count(), 0, "{lo:?}..{hi:?}");
                            } else {
                                assert!(m.range((lo, hi)).eq(r.range((lo, hi))));
                                assert!(m.range((lo, hi)).rev().eq(r.range((lo, hi)).rev()));
                            }
                        }
                    }
                    let k = rng.below(span) as u32;
                    assert_eq!(m.get(&k), r.get(&k));
                    same(&m, &r);
                }
            }
        }
    };
}

pub(crate) use agrees_with_btreemap;
