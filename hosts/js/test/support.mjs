// What the checks of the JavaScript host share: assertions that say what differed, and helpers
// that speak to a guest (its raw ABI exports, its block counts, fresh instances). Used by
// checks.mjs, interface.mjs and owned.mjs, which the node and Chromium drivers run.

import { abiExportName, Guest, GuestError } from 'guestmem-host';

/**
 * @typedef {{ name: string, run: () => Promise<void> }} Check
 * @typedef {(options?: import('guestmem-host').GuestOptions) => Promise<Guest>} Fresh a new instance of one guest
 */

// ---- assertions ----------------------------------------------------------------------------------

/** A check that found the guest or the host not doing what the contract says. */
export class CheckFailed extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** @param {unknown} value */
export const show = (value) =>
  value instanceof Uint8Array ? `Uint8Array(${value.length})` : typeof value === 'string' ? JSON.stringify(value) : String(value);

/** @param {unknown} condition @param {string} what */
export function ok(condition, what) {
  if (!condition) throw new CheckFailed(what);
}

/** @param {unknown} actual @param {unknown} expected @param {string} what */
export function equal(actual, expected, what) {
  if (!Object.is(actual, expected)) throw new CheckFailed(`${what}: got ${show(actual)}, expected ${show(expected)}`);
}

/** @param {Uint8Array} actual @param {ArrayLike<number>} expected @param {string} what */
export function sameBytes(actual, expected, what) {
  equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i += 1) {
    if (actual[i] !== expected[i]) {
      throw new CheckFailed(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/**
 * Runs `action`, which must throw a `GuestError` of `kind`; returns it.
 * @param {() => unknown} action
 * @param {import('guestmem-host').GuestErrorKind} kind
 * @param {string} what
 * @returns {GuestError}
 */
export function throwsGuest(action, kind, what) {
  let result;
  try {
    result = action();
  } catch (error) {
    if (!(error instanceof GuestError)) {
      throw new CheckFailed(`${what}: threw ${error instanceof Error ? `${error.name}: ${error.message}` : error}, expected a GuestError (${kind})`);
    }
    equal(error.kind, kind, `${what}: GuestError kind (${error.message})`);
    return error;
  }
  throw new CheckFailed(`${what}: returned ${show(result)}, expected a GuestError (${kind})`);
}

/** @param {() => Promise<unknown>} action @param {(error: unknown) => boolean} test @param {string} what */
export async function rejects(action, test, what) {
  try {
    await action();
  } catch (error) {
    ok(test(error), `${what}: wrong error ${error instanceof Error ? `${error.name}: ${error.message}` : error}`);
    return;
  }
  throw new CheckFailed(`${what}: resolved, expected a rejection`);
}

// ---- helpers -------------------------------------------------------------------------------------

/**
 * The raw exports as u32-returning functions: conformance checks speak the ABI directly, each
 * ABI export found by the guestmem_NAME rule.
 * @param {Guest} guest
 */
export function raw(guest) {
  const e = /** @type {Record<string, (...args: number[]) => number>} */ (/** @type {unknown} */ (guest.instance.exports));
  const abi = (/** @type {string} */ name) => e[abiExportName(guest.instance.exports, name) ?? name];
  return {
    alloc: (/** @type {number} */ len) => abi('alloc')(len) >>> 0,
    dealloc: (/** @type {number} */ ptr, /** @type {number} */ len) => void abi('dealloc')(ptr, len),
    free: (/** @type {number} */ ptr) => void abi('free')(ptr),
    realloc: (/** @type {number} */ ptr, /** @type {number} */ len) => abi('realloc')(ptr, len) >>> 0,
    lastError: () => abi('last_error')() >>> 0,
    liveBlocks: () => abi('live_blocks')() >>> 0,
    heapBytes: () => abi('heap_bytes')() >>> 0,
    /** @param {string} name @param {number[]} args */
    call: (name, ...args) => e[name](...args) >>> 0,
  };
}

/** @param {Guest} guest */
export const stats = (guest) => ({ live: guest.liveBlocks(), heap: guest.heapBytes() });

/**
 * Checks that the guest holds as many blocks and bytes as it did at `before` (with `stats`).
 * @param {Guest} guest @param {{ live?: number, heap?: number }} before @param {string} what
 */
export function balanced(guest, before, what) {
  const after = stats(guest);
  equal(after.live, before.live, `${what}: live_blocks`);
  equal(after.heap, before.heap, `${what}: heap_bytes`);
}

/** A deterministic byte pattern. @param {number} len @param {number} seed */
export function pattern(len, seed) {
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i += 1) bytes[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return bytes;
}

/** A small linear congruential generator, for reproducible sizes. @param {number} seed */
export function lcg(seed) {
  let state = seed >>> 0;
  return (/** @type {number} */ bound) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % bound;
  };
}

/**
 * A function that instantiates the module afresh for each call: after a trap, a check moves on
 * to a new instance, as docs/ABI.md asks of a host.
 * @param {BufferSource | WebAssembly.Module} bytes
 * @param {() => import('guestmem-host').InstantiateOptions} [base] options every instance gets (WASI)
 * @returns {Fresh}
 */
export function instances(bytes, base = () => ({})) {
  /** @type {Promise<WebAssembly.Module> | undefined} */
  let module;
  return async (options) => {
    module ??= bytes instanceof WebAssembly.Module ? Promise.resolve(bytes) : WebAssembly.compile(bytes);
    return Guest.instantiate(await module, { ...base(), ...options });
  };
}

