// The ABI's version and exports (docs/ABI.md, "Exports"), found on an instance.

/** The ABI version this host speaks (docs/ABI.md). */
export const ABI_VERSION = 1;

/** Exports every guestmem guest has (docs/ABI.md, "Exports"), each found by {@link abiExportName}. */
export const REQUIRED_EXPORTS = Object.freeze([
  'alloc',
  'dealloc',
  'free',
  'realloc',
  'last_error',
  'abi_version',
]);

/**
 * The export that implements ABI export `name`: `guestmem_NAME` when the module exports it
 * (wasm32-wasip1 guests, whose `free` and `realloc` would clash with wasi-libc's), else `NAME`;
 * `undefined` when it has neither.
 * @param {WebAssembly.Exports} exports
 * @param {string} name an ABI export, such as `free`
 * @returns {string | undefined}
 */
export function abiExportName(exports, name) {
  const prefixed = `guestmem_${name}`;
  if (typeof exports[prefixed] === 'function') return prefixed;
  return typeof exports[name] === 'function' ? name : undefined;
}

/**
 * The ABI functions of one instance, found once.
 * @typedef {{
 *   alloc: (len: number) => number,
 *   dealloc: (ptr: number, len: number) => void,
 *   free: (ptr: number) => void,
 *   realloc: (ptr: number, len: number) => number,
 *   last_error: () => number,
 *   abi_version: () => number,
 *   live_blocks?: () => number,
 *   heap_bytes?: () => number,
 * }} AbiFunctions
 */

/** The ABI exports a host function may call on the guest that called it. */
export const MEMORY_CALLS = new Set(['alloc', 'realloc', 'free', 'dealloc']);
