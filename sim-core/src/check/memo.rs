//! A per-run memo the checks of one run share ([`crate::CheckInput::memo`]): a value computed
//! from the run by one check (Raft's log rebuilt from its observations, say) and needed by
//! others is computed once, by whichever asks first, and handed to the rest. Each check is
//! still registered, listed and run on its own; the memo only saves the repeated work. Keyed
//! by type: a check stores its own type of value, so no two checks confuse theirs.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::rc::Rc;

/// Values computed from one run, at most one per type.
#[derive(Default)]
pub struct Memo {
    slots: RefCell<Vec<(TypeId, Rc<dyn Any>)>>,
}

impl Memo {
    pub fn new() -> Memo {
        Memo::default()
    }

    /// The value of type `T` computed for this run, computing it with `compute` the first
    /// time. `compute` may itself ask the memo for other values.
    pub fn get_or_compute<T: Any>(&self, compute: impl FnOnce() -> T) -> Rc<T> {
        if let Some(v) = self.get::<T>() {
            return v;
        }
        let v = Rc::new(compute());
        self.slots.borrow_mut().push((TypeId::of::<T>(), v.clone()));
        v
    }

    /// The value of type `T`, if one was computed.
    pub fn get<T: Any>(&self) -> Option<Rc<T>> {
        let slots = self.slots.borrow();
        let (_, v) = slots.iter().find(|(t, _)| *t == TypeId::of::<T>())?;
        Some(
            v.clone()
                .downcast::<T>()
                .expect("stored under its own type"),
        )
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memo({} values)", self.slots.borrow().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn each_value_is_computed_once_per_type_and_shared() {
        let memo = Memo::new();
        let calls = Cell::new(0);
        let a = memo.get_or_compute(|| {
            calls.set(calls.get() + 1);
            vec![1u64, 2, 3]
        });
        let b = memo.get_or_compute::<Vec<u64>>(|| unreachable!("computed already"));
        assert!(Rc::ptr_eq(&a, &b));
        assert_eq!(calls.get(), 1);
        // Another type gets its own slot; a computation may consult the memo.
        let n = memo.get_or_compute(|| memo.get::<Vec<u64>>().map_or(0, |v| v.len()) as u32);
        assert_eq!(*n, 3);
        assert_eq!(memo.get::<String>(), None);
        assert_eq!(*memo.get::<u32>().unwrap(), 3);
    }
}
