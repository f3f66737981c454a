//! The native check under `cargo test`, in a process of its own: `live_blocks` and `heap_bytes`
//! are process-wide, and the other tests must not move them meanwhile.

use harness::checks::{Scale, native};

#[global_allocator]
static HEAP: guestmem::stats::Counting<std::alloc::System> =
    guestmem::stats::Counting::new(std::alloc::System);

#[test]
fn native_guest_code_leaves_nothing_behind_and_plant_leak_leaks() {
    let row = native::check(Scale::detect());
    assert!(row.passed(), "{row}");

    let live = guestmem::stats::live_blocks();
    native::plant_leak();
    assert_eq!(
        guestmem::stats::live_blocks(),
        live + 1,
        "plant_leak must leak one block"
    );
}
