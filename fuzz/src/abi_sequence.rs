//! `abi_sequence`: `alloc`, `realloc`, `free`, `dealloc`, result blocks and `last_error`
//! natively, in the order and sizes libFuzzer picks, with wrong lengths, interior, misaligned
//! and foreign pointers mixed in, all held to the model in tests/model/mod.rs, the one
//! tests/contract.rs drives with proptest. Each misuse must trap with its exact reason and leave
//! the heap as it was. Stale pointers are left out: natively they read freed memory (see the
//! model's header).

use arbitrary::{Result, Unstructured};

use crate::model::{self, Call, Step};

/// Steps per input: enough for deep sequences, few enough to keep runs fast.
const MAX_STEPS: usize = 512;

/// Runs the steps that `data` encodes against the exports and the model.
pub fn check(data: &[u8]) {
    let steps = steps(data);
    let _serial = model::serial();
    model::run(&steps);
}

/// Decodes steps until the bytes run out.
fn steps(data: &[u8]) -> Vec<Step> {
    let mut input = Unstructured::new(data);
    let mut steps = Vec::new();
    while !input.is_empty() && steps.len() < MAX_STEPS {
        match step(&mut input) {
            Ok(step) => steps.push(step),
            Err(_) => break,
        }
    }
    steps
}

/// One step: the ABI used as it should be, most of the time.
fn step(input: &mut Unstructured<'_>) -> Result<Step> {
    Ok(match input.int_in_range(0_u8..=19)? {
        0..=4 => Step::Alloc(len(input)?),
        5..=7 => Step::Realloc(index(input)?, len(input)?),
        8 | 9 => Step::Free(index(input)?),
        10 | 11 => Step::Dealloc(index(input)?),
        12 => Step::Result(len(input)?),
        13 => match input.int_in_range(0_u8..=2)? {
            0 => Step::AllocTooLarge(input.arbitrary()?),
            1 => Step::ReallocTooLarge(index(input)?, input.arbitrary()?),
            _ => Step::Null(call(input)?),
        },
        14 => Step::WrongLength(index(input)?, len(input)?),
        15 => Step::Interior(index(input)?, input.arbitrary()?, call(input)?),
        16 => Step::Misaligned(index(input)?, input.arbitrary()?, call(input)?),
        17 => Step::Foreign(input.arbitrary()?, call(input)?),
        _ => Step::LastError,
    })
}

/// A block length: mostly a few bytes, sometimes a page or more.
fn len(input: &mut Unstructured<'_>) -> Result<usize> {
    Ok(match input.int_in_range(0_u8..=7)? {
        0..=4 => input.int_in_range(0..=24)?,
        5 | 6 => input.int_in_range(0..=4_200)?,
        _ => input.int_in_range(0..=70_000)?,
    })
}

/// Which live block: the model takes it modulo their number.
fn index(input: &mut Unstructured<'_>) -> Result<usize> {
    Ok(usize::from(input.arbitrary::<u8>()?))
}

fn call(input: &mut Unstructured<'_>) -> Result<Call> {
    Ok(match input.int_in_range(0_u8..=2)? {
        0 => Call::Free,
        1 => Call::Dealloc(len(input)?),
        _ => Call::Realloc(len(input)?),
    })
}
