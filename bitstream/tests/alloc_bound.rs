//! Parsing never allocates more than the input justifies: a counting allocator records the
//! largest single allocation made while parsing hostile headers.
#![allow(unsafe_code)] // a global allocator wrapper is the only way to observe allocations

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use lic_bitstream::ImageFile;

struct Counting;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn hostile_sizes_allocate_little() {
    let good = common::sample_bytes();
    let table = 16 + 64 + 4;
    let mut cases = Vec::new();
    for field in [12usize, table, table + 4 + 12] {
        let mut b = good.clone();
        b[field..field + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        cases.push(b);
    }
    // Pad to a 1 kB file, as in the example.
    for b in &mut cases {
        b.resize(1024, 0);
    }
    for b in &cases {
        LARGEST.store(0, Ordering::Relaxed);
        let result = ImageFile::parse(b);
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(result.is_err());
        assert!(largest <= 4 * b.len(), "parsing a {}-byte file allocated {largest} bytes", b.len());
    }
}
