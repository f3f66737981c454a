//! wee_alloc's leak (its issue 106) against every allocator back end.
//!
//! Through the `alloc`/`free` exports of `echo` built with each back end, every round allocates
//! the two large blocks and frees them in allocation order ([`pages_over_rounds`], which
//! `guestmem-bench` runs too). An allocator that reuses freed memory stays at the size the first
//! round needed; wee_alloc keeps growing. talc must stay flat, and wee_alloc must be seen growing:
//! that is the proof that this check can see a leak.

use crate::HostError;
use crate::checks::Context;
use crate::guests::ALLOCATORS;
use crate::report::{Findings, Row};

/// The two block sizes of a round, those of wee_alloc issue 106's repro: larger than a wasm page,
/// and different from each other.
pub const BLOCKS: [u32; 2] = [85_196, 80_000];

/// Linear memory in 64 KiB pages after the first round and after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pages {
    /// After one round.
    pub first: u64,
    /// After all rounds.
    pub last: u64,
}

/// What a back end must show over the rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// No page grown after the first round.
    Flat,
    /// Pages grown after the first round: the known leak.
    Grows,
    /// Figures reported, no claim made.
    Measured,
}

/// What each back end must show.
#[must_use]
pub fn expectation(allocator: &str) -> Expectation {
    match allocator {
        "talc" => Expectation::Flat,
        "wee_alloc" => Expectation::Grows,
        _ => Expectation::Measured,
    }
}

/// Runs the check: one row per allocator back end.
#[must_use]
pub fn check(context: &Context) -> Vec<Row> {
    ALLOCATORS
        .iter()
        .map(|&allocator| {
            let mut findings = Findings::new();
            let outcome = run(context, allocator, &mut findings);
            findings.finish(outcome);
            findings.into_row("allocators", allocator)
        })
        .collect()
}

/// Runs `rounds` rounds of the leak pattern through `guest`'s `alloc` and `free` exports and
/// returns the pages after the first round and after the last.
///
/// # Errors
///
/// [`HostError::AllocFailed`] if an allocation fails, or a trap.
pub fn pages_over_rounds(guest: &mut crate::Guest, rounds: u32) -> Result<Pages, HostError> {
    let mut after_first = 0;
    for round in 0..rounds {
        let mut blocks = [0; 2];
        for (block, len) in blocks.iter_mut().zip(BLOCKS) {
            *block = guest.alloc(len)?;
            if *block == 0 {
                return Err(HostError::AllocFailed {
                    function: "alloc".to_owned(),
                    len,
                });
            }
        }
        for block in blocks {
            guest.free(block)?;
        }
        if round == 0 {
            after_first = guest.memory_pages();
        }
    }
    Ok(Pages {
        first: after_first,
        last: guest.memory_pages(),
    })
}

fn run(context: &Context, allocator: &str, findings: &mut Findings) -> Result<(), HostError> {
    let mut guest = context.echo(allocator)?.instantiate()?;
    let rounds = context.scale.allocator_rounds();
    let start = guest.memory_pages();
    let Pages {
        first: after_first,
        last: end,
    } = pages_over_rounds(&mut guest, rounds)?;
    let grown = end - after_first;
    findings.figure(format!(
        "{rounds} rounds: {start} -> {after_first} pages after round 1, {end} at the end (+{grown})"
    ));
    match expectation(allocator) {
        Expectation::Flat => {
            findings.expect(grown == 0, || {
                format!("grew {grown} pages after the first round")
            });
        }
        Expectation::Grows => {
            findings.expect(grown > 0, || {
                "the known leak did not show: the check cannot see leaks".to_owned()
            });
        }
        Expectation::Measured => {}
    }
    Ok(())
}
