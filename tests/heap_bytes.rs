//! `heap_bytes` and `live_blocks` against a counted native heap. `heap_bytes` counts every
//! allocation of the process, so this test runs without libtest's threads (`harness = false`).

use guestmem::abi::{alloc, free, realloc};
use guestmem::stats::{Counting, heap_bytes, live_blocks};

#[global_allocator]
static HEAP: Counting<std::alloc::System> = Counting::new(std::alloc::System);

fn main() {
    let before = (live_blocks(), heap_bytes());
    let lens: Vec<usize> = (0..50).map(|i| i * 37).collect();
    let expected: usize = lens.iter().map(|len| len + 8).sum();
    let mut blocks: Vec<*mut u8> = Vec::with_capacity(lens.len());
    let baseline_with_lens = heap_bytes();
    blocks.extend(lens.iter().map(|&len| alloc(len)));
    assert_eq!(live_blocks(), before.0 + 50);
    assert_eq!(
        heap_bytes() as usize,
        baseline_with_lens as usize + expected,
        "each block costs its length plus the 8-byte header"
    );
    for ptr in &mut blocks {
        // SAFETY: a live block; only the returned pointer is used afterwards.
        *ptr = unsafe { realloc(*ptr, 1000) };
        assert!(!ptr.is_null());
    }
    assert_eq!(
        heap_bytes() as usize,
        baseline_with_lens as usize + 50 * 1008
    );
    for ptr in blocks {
        // SAFETY: live blocks, each freed once.
        unsafe { free(ptr) };
    }
    drop(lens);
    assert_eq!(
        (live_blocks(), heap_bytes()),
        before,
        "bytes or blocks leaked"
    );
    println!("heap_bytes: 1 passed, 0 failed");
}
