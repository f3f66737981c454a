// The errors of guestmem-host: GuestError, whose `kind` a program branches on, and the helpers
// that word messages.

/**
 * What went wrong, as a word a program can branch on:
 * - `error`: the guest returned 0 (failure); `reason` is its `last_error` message, if any.
 * - `trap`: the guest trapped; `reason` is the reason it recorded, if any. The instance is dead.
 * - `host`: a host function the guest called failed where the guest cannot be told (it threw
 *   without being `fallible`, returned what its signature does not allow, or made a call the
 *   contract refuses); `hostFunction` names it, `reason` is its message. The guest call trapped:
 *   the instance is dead.
 * - `dead`: a call on an instance that trapped earlier.
 * - `alloc`: `alloc` returned 0 for an input (the guest could not grow its memory).
 * - `bounds`: a pointer or length from the guest lies outside its memory, or a result pointer is
 *   not a multiple of 8 (a hostile or broken guest); nothing was read or written there.
 * - `utf8`: a result asked for as a string is not valid UTF-8.
 * - `decode`: a `json` result does not parse.
 * - `call`: the call does not fit what the guest's interface section says of the export (the
 *   number of arguments, their types, text that is not UTF-8, a result read as what it is not);
 *   it was refused before the guest ran.
 * - `interface`: the guest's `guestmem.interface` section is malformed, or describes exports
 *   the module does not have.
 * - `abi`: the module is not a guestmem guest (missing exports, wrong `abi_version`).
 * - `busy`: a pool checkout found every instance out for its whole timeout (the Rust host's
 *   `PoolError::Busy`); no guest ran.
 * @typedef {'error' | 'trap' | 'host' | 'dead' | 'alloc' | 'bounds' | 'utf8' | 'decode' | 'call' | 'interface' | 'abi' | 'busy'} GuestErrorKind
 */

/** An error raised by a guest, or by this host on the guest's behalf. */
export class GuestError extends Error {
  /**
   * @param {string} message
   * @param {{ kind: GuestErrorKind, export?: string, reason?: string, hostFunction?: string, cause?: unknown }} details
   */
  constructor(message, details) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GuestError';
    /** @readonly @type {GuestErrorKind} */
    this.kind = details.kind;
    /** The guest export that was being called, when there was one. @readonly @type {string | undefined} */
    this.export = details.export;
    /** The guest's own message (`last_error`), or the host function's (`host`). @readonly @type {string | undefined} */
    this.reason = details.reason;
    /** The host function that failed (`host`), as `module.name`. @readonly @type {string | undefined} */
    this.hostFunction = details.hostFunction;
  }
}

/** What was thrown, as a message: an Error's `message`, anything else as a string. @param {unknown} thrown */
export const messageOf = (thrown) => (thrown instanceof Error ? thrown.message : String(thrown));

/** A value as a message names it: `string abc`, `number 7`, `[object Uint8Array]`, `null`. @param {unknown} value */
export const describeValue = (value) =>
  value === null ? 'null' : typeof value === 'object' ? Object.prototype.toString.call(value) : `${typeof value} ${String(value)}`;
