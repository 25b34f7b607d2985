//! The `dsim` binary's global allocator: mimalloc through its C API.
//!
//! Why mimalloc: checkers and protocols allocate and free many small objects per run, and
//! glibc's `malloc`/`free` took 10–20% of a sweep's instructions (docs/performance.md). The
//! allocator never changes a run: nothing in dsim depends on addresses.
//!
//! Why not the `mimalloc` crate's `GlobalAlloc`: it passes every request to `mi_malloc_aligned`,
//! and mimalloc serves an aligned request from its fast path only when a block of the right size
//! class happens to be free and aligned, and past 1 KiB only when that size class is a power of
//! two; anything else is over-allocated (size + alignment) on a slow path, about 90 extra
//! instructions each — a checker's search state, a sweep's per-run buffers. `mi_malloc` already
//! guarantees word alignment ([`PLAIN_ALIGN`]), so requests that need no more (nearly all) take
//! the plain entry points, and only larger alignments go to the aligned ones.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block has, whatever its size: one machine word, since mimalloc's
/// size classes are whole words (8, 16, 24, ...) in word-aligned pages. Not 16: a 1- or 24-byte
/// block may sit at an odd multiple of 8, which the test below caught.
const PLAIN_ALIGN: usize = core::mem::size_of::<usize>();

/// mimalloc, asked through its plain entry points whenever the layout allows.
pub struct Mimalloc;

// SAFETY: every method forwards to the mimalloc function with the same contract as the
// `GlobalAlloc` method (a null return on failure, `mi_free` for any block mimalloc returned), and
// the plain functions are used only when their guaranteed alignment covers `layout.align()`.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: see the impl.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks from the plain entry points have the alignment the layouts asked for, at sizes on
    /// both sides of mimalloc's small-object limit and through `realloc`; larger alignments
    /// still go through the aligned ones. This runs on the global allocator the binary installs.
    #[test]
    fn every_block_has_the_alignment_its_layout_asked_for() {
        let a = Mimalloc;
        for size in [1, 8, 24, 40, 1000, 1025, 1500, 3000, 70_000, 1 << 21] {
            for align in [1, 2, 8, 16, 32, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: the layout's size is non-zero; each block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "alloc {size} bytes, align {align}");
                    p.write_bytes(0xab, size);
                    let q = a.realloc(p, layout, size * 3 + 7);
                    assert_eq!(q as usize % align, 0, "realloc {size} bytes, align {align}");
                    assert_eq!(*q.add(size - 1), 0xab, "realloc keeps the contents");
                    a.dealloc(q, Layout::from_size_align(size * 3 + 7, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(
                        z as usize % align,
                        0,
                        "alloc_zeroed {size} bytes, align {align}"
                    );
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
