//! The global allocator of the `lunatic` binary (and of the benchmarks that measure the VM's
//! parts on their own): mimalloc, called for each layout the way it is fastest.
// The one unsafe item of this module: the allocator's calls into mimalloc.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Every message's receive allocates and frees wasmtime's boxed host-call futures, and every
/// spawn a store and an instance: mimalloc does that much faster than glibc's allocator
/// (see docs/performance.md).
///
/// Allocations that need no more than a word's alignment (nearly all) go through
/// `mi_malloc`, whose blocks are always word-aligned; only the rest use mimalloc's aligned
/// API. That API's fast path takes a block only from the free list of its size's page, and
/// its fallback over-allocates from the next size up, so a size whose free list ran out
/// stayed on the slow path for good (every receive, once: see docs/performance.md).
pub struct MiMalloc;

/// The alignment every mimalloc block has.
const WORD: usize = std::mem::align_of::<usize>();

// SAFETY: each function passes the layout's size (and, where needed, alignment) to the
// mimalloc function that honours it, and every block is freed with `mi_free`, which takes
// blocks from all of them.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from one of the functions above.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from one of the functions above, with `layout`.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

/// Turns transparent huge pages off for this process: call it first in `main`, before any
/// thread starts.
///
/// mimalloc asks for huge pages for its heap, and a huge page is zeroed whole at its first
/// touch: a burst of spawns on fresh pool slots, which grows the heap by a store and an
/// instance each, took several times as long, and unevenly from run to run; a warm spawn
/// is a little faster with them (docs/performance.md, "Huge pages off"). Where huge pages
/// are on for every mapping, this also keeps linear memories and fiber stacks in small
/// pages, so a page a process touches costs 4 KiB, not 2 MiB.
pub fn disable_huge_pages() {
    // SAFETY: `PR_SET_THP_DISABLE` takes an integer flag and reads no memory. Only a kernel
    // before 3.15 refuses it, and huge pages then stay as the system sets them.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}
