// Reading a result block (docs/ABI.md, "Results") out of linear memory, trusting nothing the
// guest wrote. Pointers and lengths are u32, so every sum below is exact in a double.

/** The size of a result block's little-endian u32 length prefix. */
export const RESULT_PREFIX = 4;

/** Result blocks are blocks, and blocks start at multiples of 8. */
export const BLOCK_ALIGN = 8;

/**
 * What makes a pointer not a readable result block, named as testdata/result_blocks.json and the
 * other hosts name it: `misaligned` (not a multiple of 8), `prefix_out_of_bounds` (the 4-byte
 * prefix is not inside memory), `payload_out_of_bounds` (the payload the prefix announces is not
 * inside memory), `too_long` (inside memory, but longer than the cap).
 * @typedef {'misaligned' | 'prefix_out_of_bounds' | 'payload_out_of_bounds' | 'too_long'} ResultProblem
 */

/**
 * The length of the payload of the result block at `ptr`, which starts at `ptr + 4`, or the
 * problem that makes it unreadable. Bounds are checked before the cap.
 * @param {Uint8Array} memory all of linear memory, as it is now
 * @param {number} ptr the result pointer, a u32
 * @param {number} cap the longest payload the caller agrees to read
 * @returns {number | ResultProblem}
 */
export function resultLength(memory, ptr, cap) {
  if (ptr % BLOCK_ALIGN !== 0) return 'misaligned';
  if (ptr + RESULT_PREFIX > memory.length) return 'prefix_out_of_bounds';
  const len = (memory[ptr] | (memory[ptr + 1] << 8) | (memory[ptr + 2] << 16) | (memory[ptr + 3] << 24)) >>> 0;
  if (ptr + RESULT_PREFIX + len > memory.length) return 'payload_out_of_bounds';
  return len > cap ? 'too_long' : len;
}
