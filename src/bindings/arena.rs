//! The wasm guests' allocator: a bump arena in front of the target's own allocator,
//! emptied whenever nothing allocated in it is still live.
//!
//! A call into a guest allocates thousands of small blocks (the record's `Value` tree, the
//! document tree, keys, the output text) and frees all of them before the next call: the
//! host frees the results in the post-return step. Measured in the bench's guest profile,
//! dlmalloc spent 14 % of the guest's time on that churn in per-record calls and 19 % in
//! batches of 64 (a larger live heap). Here a small block is a pointer bump; a free
//! counts down, and gives the block back at once when it is the newest one. When the count
//! of live blocks reaches zero — between calls, or earlier — the arena starts over from its
//! first chunk, in memory that is already warm.
//!
//! Bounded and total: the arena takes at most [`CHUNKS`] chunks from the backing allocator
//! ([`FIRST_CHUNK`] bytes, doubling: 7 MiB in all), each only when the one before is full.
//! Blocks larger than [`LARGEST_BLOCK`] or aligned above [`ALIGN`], blocks that do not fit
//! once every chunk is full, and every block if a chunk cannot be had, go to the backing
//! allocator, as before. A block that is never freed keeps the arena from starting over;
//! the calls then run on the backing allocator with the arena full — slower, not wrong.
//!
//! The component (`wasm32-unknown-unknown`) and the Fluent Bit module (`wasm32-wasip1`)
//! use it; both run one thread. The module frees its previous answer at the start of each
//! call, so that nothing of the arena is live then.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// How many chunks the arena takes at most.
pub const CHUNKS: usize = 3;
/// The first chunk's size; each next chunk is twice the one before.
pub const FIRST_CHUNK: usize = 1 << 20;
/// The largest block the arena serves; larger ones go to the backing allocator.
pub const LARGEST_BLOCK: usize = 64 << 10;
/// The alignment of every chunk, and the largest the arena serves.
pub const ALIGN: usize = 16;

/// One chunk: where it starts and how long it is (`base` null: not taken yet).
#[derive(Clone, Copy)]
struct Chunk {
    base: *mut u8,
    size: usize,
}

struct State {
    chunks: [Chunk; CHUNKS],
    /// The chunk blocks are bumped from.
    current: usize,
    /// The first free byte of the current chunk, from its base.
    top: usize,
    /// Blocks handed out by the arena and not freed yet.
    live: usize,
    /// The position a [`Arena::scope`] started at, as (chunk, offset), if one runs.
    mark: Option<(usize, usize)>,
    /// Live blocks that end above the mark.
    above: usize,
    /// Inside [`Arena::outside`]: every block comes from the backing allocator.
    outside: bool,
}

impl State {
    /// Whether a block of chunk `chunk` ending at `end` ends above the mark (chunks are
    /// used in order, so positions order as (chunk, offset) pairs).
    fn above_mark(&self, chunk: usize, end: usize) -> bool {
        self.mark.is_some_and(|m| (chunk, end) > m)
    }

    /// A live block of chunk `chunk` now ends at `new_end` instead of `old_end`.
    fn moved_end(&mut self, chunk: usize, old_end: usize, new_end: usize) {
        match (
            self.above_mark(chunk, old_end),
            self.above_mark(chunk, new_end),
        ) {
            (false, true) => self.above += 1,
            (true, false) => self.above -= 1,
            _ => {}
        }
    }
}

/// A bump arena over `B`. Not thread-safe: it is `Sync`, and so a global allocator, only
/// where there is a single thread (wasm32 without `atomics`).
pub struct Arena<B: GlobalAlloc> {
    backing: B,
    state: UnsafeCell<State>,
}

impl<B: GlobalAlloc> Arena<B> {
    /// An arena that has taken nothing yet.
    pub const fn new(backing: B) -> Self {
        Arena {
            backing,
            state: UnsafeCell::new(State {
                chunks: [Chunk {
                    base: ptr::null_mut(),
                    size: 0,
                }; CHUNKS],
                current: 0,
                top: 0,
                live: 0,
                mark: None,
                above: 0,
                outside: false,
            }),
        }
    }

    /// Blocks of the arena that are live (for tests).
    pub fn live(&self) -> usize {
        // SAFETY: single-threaded use (see the type's documentation).
        unsafe { (*self.state.get()).live }
    }

    /// Runs `f`; when every block allocated during it is free again at the end, the arena
    /// continues from where it was before `f`, reusing the same bytes for the next scope.
    /// What must outlive the scope is made with [`Arena::outside`]. A scope inside a scope
    /// is just its closure.
    ///
    /// A batch call maps one record per scope: without it, the garbage of every record
    /// already mapped stays in the arena until the call ends, under the answers kept.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: single-threaded use; no reference to the state is held across `f`.
        let opened = unsafe {
            let s = &mut *self.state.get();
            let opened = s.mark.is_none();
            if opened {
                s.mark = Some((s.current, s.top));
                s.above = 0;
            }
            opened
        };
        let r = f();
        if opened {
            // SAFETY: as above.
            let s = unsafe { &mut *self.state.get() };
            // No live block ends above the mark (when the arena started over meanwhile,
            // the mark moved to its start): the bytes above it are free.
            if let Some(m) = s.mark.take()
                && s.above == 0
            {
                (s.current, s.top) = m;
            }
        }
        r
    }

    /// Runs `f` with every block taken from the backing allocator: for what must outlive
    /// a [`Arena::scope`].
    pub fn outside<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: single-threaded use; no reference to the state is held across `f`.
        let before = unsafe { std::mem::replace(&mut (*self.state.get()).outside, true) };
        let r = f();
        // SAFETY: as above.
        unsafe { (*self.state.get()).outside = before };
        r
    }

    /// Bytes the arena has taken from the backing allocator (for tests).
    pub fn reserved(&self) -> usize {
        // SAFETY: as above.
        unsafe { (*self.state.get()).chunks.iter().map(|c| c.size).sum() }
    }

    /// The chunk holding `p`, if the arena handed it out.
    fn chunk_of(s: &State, p: *mut u8) -> Option<usize> {
        let a = p as usize;
        s.chunks
            .iter()
            .position(|c| !c.base.is_null() && a >= c.base as usize && a < c.base as usize + c.size)
    }

    /// Bumps a block from the current chunk or the next ones; `None` when none has room.
    ///
    /// # Safety
    /// No other reference to the state is live.
    unsafe fn bump(&self, layout: Layout) -> Option<*mut u8> {
        // SAFETY: the caller guarantees exclusive access.
        let s = unsafe { &mut *self.state.get() };
        loop {
            let chunk = s.chunks[s.current];
            if chunk.base.is_null() {
                let size = FIRST_CHUNK << s.current;
                let l = Layout::from_size_align(size, ALIGN).ok()?;
                // SAFETY: `l` has a non-zero size.
                let base = unsafe { self.backing.alloc(l) };
                if base.is_null() {
                    return None;
                }
                s.chunks[s.current] = Chunk { base, size };
                continue;
            }
            // Chunks are ALIGN-aligned and the layout's alignment is at most ALIGN, so
            // aligning the offset aligns the address.
            let start = s.top.checked_add(layout.align() - 1)? & !(layout.align() - 1);
            let end = start.checked_add(layout.size())?;
            if end <= chunk.size {
                s.top = end;
                s.live += 1;
                if s.above_mark(s.current, end) {
                    s.above += 1;
                }
                // SAFETY: `start < end <= chunk.size`: inside the chunk.
                return Some(unsafe { chunk.base.add(start) });
            }
            if s.current + 1 == CHUNKS {
                return None;
            }
            s.current += 1;
            s.top = 0;
        }
    }

    /// Whether the arena serves a block of this layout.
    fn serves(layout: Layout) -> bool {
        layout.size() != 0 && layout.size() <= LARGEST_BLOCK && layout.align() <= ALIGN
    }
}

impl<B: GlobalAlloc> Drop for Arena<B> {
    fn drop(&mut self) {
        for c in self.state.get_mut().chunks {
            if let Ok(l) = Layout::from_size_align(c.size, ALIGN)
                && !c.base.is_null()
            {
                // SAFETY: taken from the backing allocator with this layout in `bump`.
                unsafe { self.backing.dealloc(c.base, l) };
            }
        }
    }
}

// SAFETY: every block comes from a chunk of the backing allocator, aligned as asked (see
// `bump`) and not overlapping a live block (bumps only move up; the top only moves down
// over the newest block when it is freed, and to zero when no block is live). Blocks the
// arena does not serve are the backing allocator's, freed and resized by it.
unsafe impl<B: GlobalAlloc> GlobalAlloc for Arena<B> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Guest`); the reference ends here.
        let outside = unsafe { (*self.state.get()).outside };
        if !outside && Self::serves(layout) {
            // SAFETY: the global allocator is only used from one thread (see `Guest`).
            if let Some(p) = unsafe { self.bump(layout) } {
                return p;
            }
        }
        // SAFETY: forwarded as the caller gave it.
        unsafe { self.backing.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: single-threaded (see `Guest`).
        let s = unsafe { &mut *self.state.get() };
        let Some(i) = Self::chunk_of(s, p) else {
            // SAFETY: not the arena's, so the backing allocator's.
            return unsafe { self.backing.dealloc(p, layout) };
        };
        s.live -= 1;
        let end = p as usize - s.chunks[i].base as usize + layout.size();
        if s.above_mark(i, end) {
            s.above -= 1;
        }
        if s.live == 0 {
            s.current = 0;
            s.top = 0;
            if s.mark.is_some() {
                s.mark = Some((0, 0));
            }
        } else if i == s.current && p as usize + layout.size() == s.chunks[i].base as usize + s.top
        {
            // The newest block: its bytes are free again.
            s.top = p as usize - s.chunks[i].base as usize;
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: single-threaded (see `Guest`).
        let s = unsafe { &mut *self.state.get() };
        let Some(i) = Self::chunk_of(s, p) else {
            // SAFETY: not the arena's, so the backing allocator's.
            return unsafe { self.backing.realloc(p, layout, new_size) };
        };
        let offset = p as usize - s.chunks[i].base as usize;
        if i == s.current && offset + layout.size() == s.top && new_size <= LARGEST_BLOCK {
            // The newest block grows or shrinks where it is when the chunk has room.
            if let Some(end) = offset.checked_add(new_size)
                && end <= s.chunks[i].size
            {
                s.top = end;
                s.moved_end(i, offset + layout.size(), end);
                return p;
            }
        } else if new_size <= layout.size() {
            s.moved_end(i, offset + layout.size(), offset + new_size);
            return p;
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: `new_size` is non-zero (the caller's contract).
        let q = unsafe { self.alloc(new_layout) };
        if !q.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap (`q`
            // is a fresh block: above the top, in another chunk or the backing's).
            unsafe {
                ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
        }
        q
    }
}

// SAFETY: the guests run on wasm32 without the `atomics` feature: one thread, so the
// arena's state is never touched from two threads.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<B: GlobalAlloc> Sync for Arena<B> {}

/// The guests' global allocator: the arena over the target's allocator (dlmalloc, or
/// wasi-libc's `malloc`, which the Fluent Bit module also exports for the host's copies of
/// the records: those do not go through the arena).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: Arena<std::alloc::System> = Arena::new(std::alloc::System);

/// [`Arena::scope`] of the global allocator; elsewhere than in a guest, `f` alone.
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    return ALLOCATOR.scope(f);
    #[cfg(not(target_arch = "wasm32"))]
    f()
}

/// [`Arena::outside`] of the global allocator; elsewhere than in a guest, `f` alone.
pub fn outside<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    return ALLOCATOR.outside(f);
    #[cfg(not(target_arch = "wasm32"))]
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_the_arena_starts_over_when_none_is_live() {
        let a = Arena::new(System);
        unsafe {
            let x = a.alloc(Layout::from_size_align(3, 1).unwrap());
            let y = a.alloc(Layout::from_size_align(32, 16).unwrap());
            let z = a.alloc(layout(100));
            assert_eq!(y as usize % 16, 0);
            assert!(y as usize >= x as usize + 3);
            assert!(z as usize >= y as usize + 32);
            ptr::write_bytes(z, 0xAB, 100);
            assert_eq!(a.live(), 3);
            a.dealloc(x, Layout::from_size_align(3, 1).unwrap());
            a.dealloc(z, layout(100));
            assert_eq!(a.live(), 1);
            // z was the newest block: the next one takes its place.
            let w = a.alloc(layout(100));
            assert_eq!(w, z);
            a.dealloc(w, layout(100));
            a.dealloc(y, Layout::from_size_align(32, 16).unwrap());
            assert_eq!(a.live(), 0);
            // Nothing live: the next block is the first chunk's first byte again.
            assert_eq!(a.alloc(layout(8)), x);
        }
    }

    #[test]
    fn the_newest_block_grows_in_place_and_others_move_with_their_bytes() {
        let a = Arena::new(System);
        unsafe {
            let x = a.alloc(layout(16));
            ptr::write_bytes(x, 7, 16);
            let x2 = a.realloc(x, layout(16), 4096);
            assert_eq!(x2, x, "the newest block grows where it is");
            let y = a.alloc(layout(16));
            let x3 = a.realloc(x2, layout(4096), 8192);
            assert_ne!(x3, x2, "a block below the top moves");
            assert!(x3 as usize > y as usize);
            assert_eq!(std::slice::from_raw_parts(x3, 16), &[7; 16]);
            assert_eq!(a.live(), 2, "the moved block's old place is freed");
            // A block beyond the arena's largest leaves for the backing allocator.
            let big = a.realloc(x3, layout(8192), LARGEST_BLOCK + 1);
            assert_eq!(std::slice::from_raw_parts(big, 16), &[7; 16]);
            assert_eq!(a.live(), 1);
            a.dealloc(big, layout(LARGEST_BLOCK + 1));
            a.dealloc(y, layout(16));
            assert_eq!(a.live(), 0);
        }
    }

    #[test]
    fn a_scope_whose_blocks_are_all_freed_leaves_the_arena_where_it_found_it() {
        let a = Arena::new(System);
        unsafe {
            let kept = a.alloc(layout(24));
            let answer = a.scope(|| {
                let x = a.alloc(layout(100));
                let y = a.alloc(layout(200));
                a.dealloc(x, layout(100));
                let answer = a.outside(|| a.alloc(layout(40)));
                a.dealloc(y, layout(200));
                answer
            });
            assert_eq!(a.live(), 1, "the answer is the backing allocator's");
            // The next block takes the place of the scope's first one.
            let next = a.alloc(layout(8));
            assert_eq!(next as usize, kept as usize + 24);
            a.dealloc(next, layout(8));
            a.dealloc(answer, layout(40));
            a.dealloc(kept, layout(24));
        }
    }

    #[test]
    fn a_block_left_live_in_a_scope_keeps_its_bytes() {
        let a = Arena::new(System);
        unsafe {
            let kept = a.alloc(layout(24));
            let left = a.scope(|| {
                let x = a.alloc(layout(100));
                let left = a.alloc(layout(16));
                a.dealloc(x, layout(100));
                left
            });
            let next = a.alloc(layout(8));
            assert!(
                next as usize >= left as usize + 16,
                "no reuse under a live block"
            );
            // A block from before the scope that grows in place across the mark counts
            // as the scope's: the arena does not go back under it.
            let top = a.alloc(layout(8));
            a.dealloc(next, layout(8));
            a.dealloc(left, layout(16));
            let grown = a.scope(|| a.realloc(top, layout(8), 512));
            assert_eq!(grown, top, "the newest block grows where it is");
            let after = a.alloc(layout(8));
            assert!(after as usize >= grown as usize + 512);
            for (p, n) in [(after, 8), (grown, 512), (kept, 24)] {
                a.dealloc(p, layout(n));
            }
            assert_eq!(a.live(), 0);
        }
    }

    #[test]
    fn a_scope_in_which_every_block_is_freed_ends_at_the_start() {
        let a = Arena::new(System);
        unsafe {
            let before = a.alloc(layout(24));
            a.scope(|| {
                let x = a.alloc(layout(100));
                // Nothing of the arena is live: it starts over, and the scope with it.
                a.dealloc(before, layout(24));
                a.dealloc(x, layout(100));
                let y = a.alloc(layout(8));
                assert_eq!(y, before, "the arena started over");
                a.dealloc(y, layout(8));
            });
            assert_eq!(a.live(), 0);
            assert_eq!(a.alloc(layout(8)), before);
        }
    }

    #[test]
    fn large_and_overaligned_blocks_go_to_the_backing_allocator() {
        let a = Arena::new(System);
        unsafe {
            let big = a.alloc(layout(LARGEST_BLOCK + 1));
            let odd = a.alloc(Layout::from_size_align(64, 64).unwrap());
            assert!(!big.is_null() && !odd.is_null());
            assert_eq!(odd as usize % 64, 0);
            assert_eq!(a.live(), 0);
            assert_eq!(a.reserved(), 0, "no chunk taken for them");
            a.dealloc(big, layout(LARGEST_BLOCK + 1));
            a.dealloc(odd, Layout::from_size_align(64, 64).unwrap());
        }
    }

    #[test]
    fn a_full_arena_hands_over_to_the_backing_allocator_and_stays_bounded() {
        let a = Arena::new(System);
        let l = layout(LARGEST_BLOCK);
        let total: usize = (0..CHUNKS).map(|i| FIRST_CHUNK << i).sum();
        let mut blocks = Vec::new();
        unsafe {
            // Twice what the chunks hold, all live at once.
            for _ in 0..2 * total / LARGEST_BLOCK {
                let p = a.alloc(l);
                assert!(!p.is_null());
                ptr::write_bytes(p, 1, LARGEST_BLOCK);
                blocks.push(p);
            }
            assert_eq!(a.reserved(), total);
            assert_eq!(a.live(), total / LARGEST_BLOCK);
            for p in blocks {
                a.dealloc(p, l);
            }
            assert_eq!(a.live(), 0);
            assert_eq!(a.reserved(), total, "chunks are kept for the next call");
        }
    }
}
