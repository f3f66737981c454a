// Bytes and text as the host passes them to a guest and reads them back.

/** The largest u32: lengths and pointers on wasm32. */
export const U32_MAX = 0xffff_ffff;

/**
 * An input for the guest: bytes are copied as they are, a string as UTF-8.
 * @typedef {Uint8Array | ArrayBuffer | ArrayBufferView | string} Input
 */

export const encoder = new TextEncoder();
export const decoder = new TextDecoder('utf-8', { fatal: true });
export const lenientDecoder = new TextDecoder('utf-8');

/** @param {number} n */
export const hex = (n) => `0x${n.toString(16)}`;

/**
 * @param {Input} input
 * @returns {Uint8Array}
 */
export function toBytes(input) {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError(`a guest input is a string, bytes or a number, not ${Object.prototype.toString.call(input)}`);
}
