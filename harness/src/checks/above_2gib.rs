//! Blocks above 2 GiB: pointers with the top bit set, which read as negative `i32`s. Linear
//! memory is first filled past 2 GiB with large blocks (untouched, so the host commits little of
//! it); then a block is found above 2 GiB and everything the ABI does with a block is done with
//! it: write and read, a guest call with it as input, `realloc`, `dealloc`, and the traps for a
//! wrong length, an interior pointer and a double free, whose reasons must name the address.
//!
//! Run for `echo` with every allocator back end. Skipped under Valgrind, which would track the
//! gigabytes of address space.

use crate::HostError;
use crate::checks::Context;
use crate::checks::common::pattern;
use crate::checks::conformance::{Reasons, expect_trap};
use crate::guest::{Guest, GuestModule};
use crate::guests::ALLOCATORS;
use crate::report::{Findings, Row};

/// Where the top bit of a u32 address starts.
const TWO_GIB: u32 = 1 << 31;
/// The blocks that fill linear memory.
const FILLER: u32 = 256 << 20;
/// At most this many fillers: 10 x 256 MiB reach 2.5 GiB.
const MAX_FILLERS: usize = 10;
/// At most this many small blocks are tried before one lands above 2 GiB.
const MAX_PROBES: usize = 64;
/// The small block's length.
const LEN: u32 = 100;

/// Runs the check on `echo` with every allocator back end.
#[must_use]
pub fn check_all(context: &Context) -> Vec<Row> {
    ALLOCATORS
        .iter()
        .map(|allocator| {
            let mut findings = Findings::new();
            if context.scale.valgrind {
                findings.figure("skipped under Valgrind");
            } else {
                let outcome = context
                    .echo(allocator)
                    .and_then(|module| run(&module, &mut findings));
                findings.finish(outcome);
            }
            findings.into_row("above-2gib", format!("echo-{allocator}"))
        })
        .collect()
}

/// A fresh instance filled past 2 GiB, and a live block of [`LEN`] bytes above 2 GiB.
struct BlockAbove2Gib {
    guest: Guest,
    fillers: Vec<u32>,
    /// Small blocks that landed below 2 GiB on the way.
    low: Vec<u32>,
    ptr: u32,
}

impl BlockAbove2Gib {
    /// Fills a new instance of `module` past 2 GiB and finds a block above it; `None` (with a
    /// finding) when the allocator never hands one out.
    fn new(module: &GuestModule, findings: &mut Findings) -> Result<Option<Self>, HostError> {
        let mut guest = module.instantiate()?;
        let mut fillers = Vec::new();
        while guest.memory_size() <= TWO_GIB as usize + FILLER as usize
            && fillers.len() < MAX_FILLERS
        {
            let ptr = guest.alloc(FILLER)?;
            if ptr == 0 {
                findings.fail(format!(
                    "alloc({FILLER}) returned 0 at {} MiB of memory",
                    guest.memory_size() >> 20
                ));
                return Ok(None);
            }
            fillers.push(ptr);
        }
        let mut low = Vec::new();
        for _ in 0..MAX_PROBES {
            let ptr = guest.alloc(LEN)?;
            if ptr >= TWO_GIB {
                return Ok(Some(Self {
                    guest,
                    fillers,
                    low,
                    ptr,
                }));
            }
            low.push(ptr);
        }
        findings.fail(format!(
            "no block of {LEN} bytes above 2 GiB in {MAX_PROBES} tries, with {} MiB of memory",
            guest.memory_size() >> 20
        ));
        Ok(None)
    }

    /// Frees every block but the one above 2 GiB.
    fn free_the_rest(&mut self) -> Result<(), HostError> {
        for ptr in self.fillers.drain(..).chain(self.low.drain(..)) {
            self.guest.free(ptr)?;
        }
        Ok(())
    }
}

fn run(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    let baseline = module.instantiate()?.live_blocks()?;
    let Some(mut above) = BlockAbove2Gib::new(module, findings)? else {
        return Ok(());
    };
    let ptr = above.ptr;
    let guest = &mut above.guest;
    findings.figure(format!(
        "{} MiB of memory; a block at {ptr:#x}",
        guest.memory_size() >> 20
    ));

    let bytes = pattern(9, LEN as usize);
    guest.write(ptr, &bytes)?;
    findings.expect(guest.read(ptr, bytes.len())? == bytes, || {
        format!("the bytes written at {ptr:#x} do not read back")
    });

    // The block as a guest function's input; the result is another block.
    let raw = guest.call_raw("echo", &[ptr, LEN])?;
    let echoed = guest.take_result("echo", raw)?;
    findings.expect(echoed == bytes, || {
        format!("echo of the block at {ptr:#x} returned other bytes")
    });

    let grown = guest.realloc(ptr, 5_000)?;
    findings.expect(grown != 0, || format!("realloc({ptr:#x}, 5000) returned 0"));
    if grown != 0 {
        let kept = guest.read(grown, bytes.len())?;
        findings.expect(kept == bytes, || {
            format!("realloc({ptr:#x}, 5000) -> {grown:#x} lost the block's bytes")
        });
        guest.dealloc(grown, 5_000)?;
    }
    above.free_the_rest()?;
    let live = above.guest.live_blocks()?;
    findings.expect(live == baseline, || {
        format!("live_blocks {live:?} after freeing everything, {baseline:?} before")
    });

    traps(module, findings)
}

/// Each trap in a fresh instance, since a trap leaves the instance where it stopped.
fn traps(module: &GuestModule, findings: &mut Findings) -> Result<(), HostError> {
    // Each returns the pointer it misused, the export, and that export's outcome; the outer
    // error is a failure in setting the misuse up.
    type Outcome = Result<(u32, &'static str, Result<(), HostError>), HostError>;
    type Misuse = fn(&mut Guest, u32) -> Outcome;
    let cases: [(&str, Misuse); 3] = [
        ("wrong length", |guest, ptr| {
            Ok((ptr, "dealloc", guest.dealloc(ptr, LEN + 1)))
        }),
        ("interior pointer", |guest, ptr| {
            Ok((ptr + 8, "free", guest.free(ptr + 8)))
        }),
        ("double free", |guest, ptr| {
            guest.free(ptr)?;
            Ok((ptr, "free", guest.free(ptr)))
        }),
    ];
    for (case, misuse) in cases {
        let Some(mut above) = BlockAbove2Gib::new(module, findings)? else {
            return Ok(());
        };
        let ptr = above.ptr;
        let (bad, function, outcome) = misuse(&mut above.guest, ptr)?;
        expect_trap(
            findings,
            Reasons::of(module),
            outcome,
            function,
            bad,
            &format!("{case} at {bad:#x}"),
        );
    }
    Ok(())
}
