//! The harness's checks under `cargo test`: the same functions the `harness` binary runs, one
//! test per row.
//!
//! The guests are built once per test binary into `target/guests`, or taken from the directory
//! named by `GUESTMEM_GUEST_DIR` (CI sets it after `harness` has built them).

use std::sync::OnceLock;

use harness::checks::{
    Context, above_2gib, allocators, conformance, examples, faults, growth, hostile, leaks,
};
use harness::guests::{self, GuestDir};
use harness::{GuestModule, Row};

fn context() -> &'static Context {
    static CONTEXT: OnceLock<Context> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let guests = match std::env::var_os("GUESTMEM_GUEST_DIR") {
            Some(dir) => GuestDir::new(dir),
            None => {
                let dir = GuestDir::default_location();
                if let Err(error) = guests::build_all(&dir) {
                    panic!("cannot build the guests: {error}");
                }
                dir
            }
        };
        Context::new(guests).expect("create the wasmtime engine")
    })
}

fn assert_passed(row: &Row) {
    assert!(row.passed(), "{row}");
}

fn example(name: &str) -> GuestModule {
    context()
        .example(name)
        .unwrap_or_else(|error| panic!("load {name}: {error}"))
}

fn echo_with(allocator: &str) -> GuestModule {
    context()
        .echo(allocator)
        .unwrap_or_else(|error| panic!("load echo-{allocator}: {error}"))
}

#[test]
fn conformance_array_sum() {
    assert_passed(&conformance::check(&example("array_sum")));
}

#[test]
fn conformance_upper() {
    assert_passed(&conformance::check(&example("upper")));
}

#[test]
fn conformance_replace() {
    assert_passed(&conformance::check(&example("replace")));
}

#[test]
fn conformance_echo() {
    assert_passed(&conformance::check(&example("echo")));
}

#[test]
fn conformance_minimal() {
    assert_passed(&conformance::check(&example("minimal")));
}

#[test]
fn conformance_echo_talc() {
    assert_passed(&conformance::check(&echo_with("talc")));
}

#[test]
fn conformance_echo_wee_alloc() {
    assert_passed(&conformance::check(&echo_with("wee_alloc")));
}

#[test]
fn conformance_echo_lol_alloc() {
    assert_passed(&conformance::check(&echo_with("lol_alloc")));
}

#[test]
fn conformance_echo_dlmalloc() {
    assert_passed(&conformance::check(&echo_with("dlmalloc")));
}

#[test]
fn examples_compute_what_they_document() {
    assert_passed(&examples::check(context()));
}

#[test]
fn panics_and_allocation_failures_in_guest_code_report_why() {
    for row in faults::check_all(context()) {
        assert_passed(&row);
    }
}

#[test]
fn no_leaks_in_linear_memory() {
    let rows = leaks::check(context());
    // Through the blocking calls and through the `_async` ones.
    assert_eq!(rows.len(), 2 * leaks::GUESTS.len());
    rows.iter().for_each(assert_passed);
}

#[test]
fn large_inputs_and_results_across_memory_growth() {
    assert_passed(&growth::check(context()));
}

#[test]
fn blocks_above_2_gib_work_and_their_misuse_traps() {
    let rows = above_2gib::check_all(context());
    assert_eq!(rows.len(), guests::ALLOCATORS.len());
    rows.iter().for_each(assert_passed);
}

#[test]
fn hostile_results_are_errors() {
    assert_passed(&hostile::check(context()));
}

#[test]
fn talc_stays_flat_and_wee_alloc_leaks() {
    let rows = allocators::check(context());
    assert_eq!(rows.len(), guests::ALLOCATORS.len());
    rows.iter().for_each(assert_passed);
}

#[test]
fn conformance_covers_every_guest() {
    // Every example, every allocator build of echo, the own-allocator guest, and the std and
    // wasm32-wasip1 builds get a conformance row.
    let context = context();
    let conformance_rows = conformance::check_all(context);
    assert_eq!(
        conformance_rows.len(),
        guests::EXAMPLES.len()
            + guests::ALLOCATORS.len()
            + 1
            + guests::VARIANTS.len()
            + conformance::ASYNC_GUESTS.len()
    );
    let names: Vec<&str> = conformance_rows
        .iter()
        .map(|row| row.subject.as_str())
        .collect();
    assert!(
        names.contains(&"minimal")
            && names.contains(&"echo-wee_alloc")
            && names.contains(&guests::OWN_ALLOCATOR),
        "{names:?}"
    );
}
