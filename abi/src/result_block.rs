//! Reading a result block out of linear memory, trusting nothing the guest wrote ("Results" in
//! docs/ABI.md). Every offset is computed with checked arithmetic in `usize` from u32 inputs,
//! so a hostile pointer or length can only produce a [`ResultProblem`], never a panic or a read
//! outside `memory`.

use core::fmt;

/// Size of the little-endian u32 length prefix.
pub const PREFIX_LEN: usize = 4;

/// Result blocks are blocks, and blocks are 8-aligned.
pub const BLOCK_ALIGN: u32 = 8;

/// Why a result block, or a text the guest handed over, was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultProblem {
    /// The pointer is not a multiple of 8, so it is not a block.
    Misaligned {
        /// The pointer.
        ptr: u32,
    },
    /// The 4-byte length prefix does not lie inside linear memory.
    PrefixOutOfBounds {
        /// The pointer.
        ptr: u32,
        /// The size of linear memory.
        memory: usize,
    },
    /// The payload runs past the end of linear memory.
    PayloadOutOfBounds {
        /// The pointer.
        ptr: u32,
        /// The length the prefix claims.
        len: u32,
        /// The size of linear memory.
        memory: usize,
    },
    /// The length prefix is above the host's cap.
    TooLong {
        /// The length the prefix claims.
        len: u32,
        /// The cap.
        cap: u32,
    },
    /// A `last_error` message, or a result read as text, that is not UTF-8.
    NotUtf8,
}

impl fmt::Display for ResultProblem {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Misaligned { ptr } => write!(out, "pointer {ptr:#x} is not a multiple of 8"),
            Self::PrefixOutOfBounds { ptr, memory } => write!(
                out,
                "length prefix at {ptr:#x} is outside linear memory ({memory} bytes)"
            ),
            Self::PayloadOutOfBounds { ptr, len, memory } => write!(
                out,
                "{len} bytes at {ptr:#x} + 4 run past the end of linear memory ({memory} bytes)"
            ),
            Self::TooLong { len, cap } => {
                write!(out, "length {len} is above the host's cap of {cap} bytes")
            }
            Self::NotUtf8 => out.write_str("the bytes are not UTF-8"),
        }
    }
}

impl core::error::Error for ResultProblem {}

/// Returns the payload of the result block at `ptr` in `memory`.
///
/// # Errors
///
/// [`ResultProblem`] when `ptr` is misaligned, when the prefix or the payload is not inside
/// `memory`, or when the payload is longer than `cap` (bounds are checked first).
pub fn payload(memory: &[u8], ptr: u32, cap: u32) -> Result<&[u8], ResultProblem> {
    if !ptr.is_multiple_of(BLOCK_ALIGN) {
        return Err(ResultProblem::Misaligned { ptr });
    }
    let prefix_out_of_bounds = || ResultProblem::PrefixOutOfBounds {
        ptr,
        memory: memory.len(),
    };
    let start = usize::try_from(ptr).map_err(|_| prefix_out_of_bounds())?;
    let prefix_end = start
        .checked_add(PREFIX_LEN)
        .filter(|&end| end <= memory.len())
        .ok_or_else(prefix_out_of_bounds)?;
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
