//! Reading a result block out of linear memory, trusting nothing the guest wrote.
//!
//! The layout is in "Results" of `docs/ABI.md`. Every offset is computed with checked arithmetic
//! in `usize` from u32 inputs, so a hostile pointer or length can only produce a
//! [`ResultProblem`], never a panic or a read outside `memory`.

use crate::ResultProblem;

/// Size of the little-endian u32 length prefix.
pub const PREFIX_LEN: usize = 4;

/// Result blocks are blocks, and blocks are 8-aligned.
pub const BLOCK_ALIGN: u32 = 8;

/// Returns the payload of the result block at `ptr` in `memory`.
///
/// # Errors
///
/// [`ResultProblem`] when `ptr` is misaligned, when the prefix or the payload is not inside
/// `memory`, or when the payload is longer than `cap`.
pub fn payload(memory: &[u8], ptr: u32, cap: u32) -> Result<&[u8], ResultProblem> {
    if !ptr.is_multiple_of(BLOCK_ALIGN) {
        return Err(ResultProblem::Misaligned { ptr });
    }
    let start = usize::try_from(ptr).map_err(|_| prefix_out_of_bounds(memory, ptr))?;
    let prefix_end = start
        .checked_add(PREFIX_LEN)
        .filter(|&end| end <= memory.len())
        .ok_or_else(|| prefix_out_of_bounds(memory, ptr))?;
    let mut prefix = [0_u8; PREFIX_LEN];
    prefix.copy_from_slice(&memory[start..prefix_end]);
    let len = u32::from_le_bytes(prefix);
    let payload_end = usize::try_from(len)
        .ok()
        .and_then(|len| prefix_end.checked_add(len))
        .filter(|&end| end <= memory.len())
        .ok_or(ResultProblem::PayloadOutOfBounds {
            ptr,
            len,
            memory: memory.len(),
        })?;
    if len > cap {
        return Err(ResultProblem::TooLong { len, cap });
    }
    Ok(&memory[prefix_end..payload_end])
}

fn prefix_out_of_bounds(memory: &[u8], ptr: u32) -> ResultProblem {
    ResultProblem::PrefixOutOfBounds {
        ptr,
        memory: memory.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::payload;
    use crate::ResultProblem;

    fn memory_with_block(at: usize, len: u32, size: usize) -> Vec<u8> {
        let mut memory = vec![0xAA_u8; size];
        memory[at..at + 4].copy_from_slice(&len.to_le_bytes());
        memory
    }

    #[test]
    fn reads_a_block_that_ends_exactly_at_the_end_of_memory() {
        let memory = memory_with_block(8, 4, 16);
        assert_eq!(payload(&memory, 8, 4), Ok(&[0xAA_u8; 4][..]));
    }

    #[test]
    fn reads_an_empty_result() {
        let memory = memory_with_block(8, 0, 12);
        assert_eq!(payload(&memory, 8, 0), Ok(&[][..]));
    }

    #[test]
    fn rejects_a_misaligned_pointer() {
        let memory = memory_with_block(8, 0, 64);
        assert_eq!(
            payload(&memory, 9, 100),
            Err(ResultProblem::Misaligned { ptr: 9 })
        );
    }

    #[test]
    fn rejects_a_prefix_past_the_end() {
        let memory = vec![0_u8; 64];
        for ptr in [64, 0x1_0000, 0xFFFF_FFF8] {
            assert_eq!(
                payload(&memory, ptr, 100),
                Err(ResultProblem::PrefixOutOfBounds { ptr, memory: 64 })
            );
        }
    }

    #[test]
    fn rejects_a_prefix_that_straddles_the_end() {
        let memory = vec![0_u8; 58];
        assert_eq!(
            payload(&memory, 56, 100),
            Err(ResultProblem::PrefixOutOfBounds {
                ptr: 56,
                memory: 58
            })
        );
    }

    #[test]
    fn rejects_lengths_past_the_end_and_near_u32_max() {
        for len in [5, 1 << 20, u32::MAX - 3, u32::MAX] {
            let memory = memory_with_block(8, len, 16);
            assert_eq!(
                payload(&memory, 8, u32::MAX),
                Err(ResultProblem::PayloadOutOfBounds {
                    ptr: 8,
                    len,
                    memory: 16
                })
            );
        }
    }

    #[test]
    fn rejects_lengths_above_the_cap() {
        let memory = memory_with_block(8, 8, 32);
        assert_eq!(
            payload(&memory, 8, 7),
            Err(ResultProblem::TooLong { len: 8, cap: 7 })
        );
        assert!(payload(&memory, 8, 8).is_ok());
    }
}
