// guestmem host for JavaScript: the twin of the Rust harness's host library.
//
// One ES module, no dependencies, for Node >= 20 and browsers. The contract it implements is
// docs/ABI.md (ABI version 1); this file links to it rather than restating it.
//
//   import { Guest } from './guestmem.mjs';
//   const guest = await Guest.instantiate(fetch('upper.wasm'));
//   guest.callString('upper', 'straße'); // 'STRASSE'

/** The ABI version this host speaks (docs/ABI.md). */
export const ABI_VERSION = 1;

/** Exports every guestmem guest has (docs/ABI.md, "Exports"). */
export const REQUIRED_EXPORTS = Object.freeze([
  'alloc',
  'dealloc',
  'free',
  'realloc',
  'last_error',
  'abi_version',
]);

const U32_MAX = 0xffff_ffff;
const RESULT_PREFIX = 4;

/**
 * What went wrong, as a word a program can branch on:
 * - `error`: the guest returned 0 (failure); `reason` is its `last_error` message, if any.
 * - `trap`: the guest trapped; `reason` is the reason it recorded, if any. The instance is dead.
 * - `dead`: a call on an instance that trapped earlier.
 * - `alloc`: `alloc` returned 0 for an input (the guest could not grow its memory).
 * - `bounds`: a pointer or length from the guest lies outside its memory (a hostile or broken
 *   guest); nothing was read or written there.
 * - `utf8`: a result asked for as a string is not valid UTF-8.
 * - `abi`: the module is not a guestmem guest (missing exports, wrong `abi_version`).
 * @typedef {'error' | 'trap' | 'dead' | 'alloc' | 'bounds' | 'utf8' | 'abi'} GuestErrorKind
 */

/** An error raised by a guest, or by this host on the guest's behalf. */
export class GuestError extends Error {
  /**
   * @param {string} message
   * @param {{ kind: GuestErrorKind, export?: string, reason?: string, cause?: unknown }} details
   */
  constructor(message, details) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GuestError';
    /** @type {GuestErrorKind} */
    this.kind = details.kind;
    /** The guest export that was being called, when there was one. @type {string | undefined} */
    this.export = details.export;
    /** The guest's own message (`last_error`), when it gave one. @type {string | undefined} */
    this.reason = details.reason;
  }
}

/**
 * A block of guest memory: the pointer and the length it was allocated with.
 * @typedef {{ readonly ptr: number, readonly len: number }} Block
 */

/**
 * An input for the guest: bytes are copied as they are, a string as UTF-8.
 * @typedef {Uint8Array | ArrayBuffer | ArrayBufferView | string} Input
 */

/**
 * An argument of a guest call: an {@link Input} becomes two wasm arguments `(ptr, len)`, a
 * number is passed as one `i32`.
 * @typedef {Input | number} Arg
 */

/**
 * Where a guest's code comes from: its bytes, a compiled module, a `Response` (or a promise of
 * one, such as `fetch(url)`), a `Blob`/`File`, or a path or URL (read from disk in Node, fetched
 * in a browser).
 * @typedef {BufferSource | WebAssembly.Module | Response | PromiseLike<Response> | Blob | string | URL} GuestSource
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** @param {number} n */
const hex = (n) => `0x${n.toString(16)}`;

/** A running guest instance and the host side of the ABI. */
export class Guest {
  /** @type {WebAssembly.Instance} */
  instance;
  /** The guest's linear memory. Never keep a view of `memory.buffer` across a call. @type {WebAssembly.Memory} */
  memory;
  /** @type {Record<string, Function>} */
  #functions;
  /** The trap that killed the guest, once it trapped: later calls throw `dead`, caused by it. @type {GuestError | undefined} */
  #trap;

  /**
   * Compiles and instantiates a guest, then checks it is a guestmem guest of ABI version 1.
   * @param {GuestSource | PromiseLike<GuestSource>} source
   * @param {WebAssembly.Imports} [imports] what the guest imports, if anything
   * @returns {Promise<Guest>}
   */
  static async instantiate(source, imports = {}) {
    const module = await compile(await source);
    return new Guest(await WebAssembly.instantiate(module, imports));
  }

  /**
   * Wraps an instance that is already there.
   * @param {WebAssembly.Instance} instance
   * @throws {GuestError} `abi` when it is not a guestmem guest of ABI version 1
   */
  constructor(instance) {
    const exports = instance.exports;
    if (!(exports.memory instanceof WebAssembly.Memory)) {
      throw new GuestError('not a guestmem guest: no exported memory named "memory"', { kind: 'abi' });
    }
    const missing = REQUIRED_EXPORTS.filter((name) => typeof exports[name] !== 'function');
    if (missing.length > 0) {
      throw new GuestError(`not a guestmem guest: missing exports ${missing.join(', ')}`, { kind: 'abi' });
    }
    this.instance = instance;
    this.memory = exports.memory;
    this.#functions = /** @type {Record<string, Function>} */ (
      Object.fromEntries(Object.entries(exports).filter(([, value]) => typeof value === 'function'))
    );
    const version = this.#invoke('abi_version', []);
    if (version !== ABI_VERSION) {
      throw new GuestError(`guest speaks ABI version ${version}, this host speaks ${ABI_VERSION}`, {
        kind: 'abi',
      });
    }
  }

  /** The raw exports, unchecked: for tests and for functions this class does not wrap. */
  get exports() {
    return this.instance.exports;
  }

  /** Whether the guest trapped: a trapped guest only throws; instantiate a fresh one. */
  get trapped() {
    return this.#trap !== undefined;
  }

  // ---- calls ---------------------------------------------------------------------------------

  /**
   * Calls a guest function that returns a result block, and returns the result's bytes.
   * Inputs are allocated, passed as `(ptr, len)` and freed afterwards, also when the call throws.
   * @param {string} name the exported function
   * @param {...Arg} args
   * @returns {Uint8Array} a copy, owned by the caller
   * @throws {GuestError} `error` when the guest returns 0, `trap`, `bounds`, `alloc`, `dead`
   */
  callBytes(name, ...args) {
    return this.#callWithInputs(name, args, (returned) => {
      const ptr = returned >>> 0;
      if (ptr === 0) throw this.#failure(name);
      return this.takeResult(ptr, name);
    });
  }

  /**
   * Like {@link Guest.callBytes}, with the result decoded as UTF-8.
   * @param {string} name
   * @param {...Arg} args
   * @returns {string}
   * @throws {GuestError} as `callBytes`, and `utf8` when the result is not UTF-8
   */
  callString(name, ...args) {
    return decodeUtf8(this.callBytes(name, ...args), name);
  }

  /**
   * Calls a guest function that returns an integer (a u32). A 0 is a failure only if the guest
   * left an error in `last_error` (docs/ABI.md, "Errors"); an older pending error is cleared first
   * so that it is not mistaken for this call's.
   * @param {string} name
   * @param {...Arg} args
   * @returns {number} the result, read as unsigned
   * @throws {GuestError} `error` when the guest returns 0 with an error pending, `trap`, ...
   */
  callU32(name, ...args) {
    return this.#callWithInputs(
      name,
      args,
      (returned) => {
        const value = returned >>> 0;
        if (value !== 0) return value;
        const reason = this.lastError();
        if (reason !== undefined) {
          throw new GuestError(`${name}: ${reason}`, { kind: 'error', export: name, reason });
        }
        return 0;
      },
      () => this.lastError(),
    );
  }

  /**
   * @template T
   * @param {string} name
   * @param {Arg[]} args
   * @param {(returned: number) => T} onReturn
   * @param {() => void} [beforeCall]
   * @returns {T}
   */
  #callWithInputs(name, args, onReturn, beforeCall) {
    if (typeof this.#functions[name] !== 'function') {
      throw new TypeError(`the guest exports no function named ${JSON.stringify(name)}`);
    }
    /** @type {Block[]} */
    const inputs = [];
    let failed = false;
    try {
      /** @type {number[]} */
      const wasmArgs = [];
      for (const arg of args) {
        if (typeof arg === 'number') {
          wasmArgs.push(arg);
        } else {
          const block = this.alloc(arg);
          inputs.push(block);
          wasmArgs.push(block.ptr, block.len);
        }
      }
      beforeCall?.();
      return onReturn(this.#invoke(name, wasmArgs));
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.#freeInputs(inputs, failed);
    }
  }

  /**
   * Frees the inputs of a call. After a trap there is nothing to free: the instance is dropped
   * whole. A failure to free is thrown only when the call itself succeeded, so that it never hides
   * the error that matters.
   * @param {Block[]} inputs
   * @param {boolean} callFailed
   */
  #freeInputs(inputs, callFailed) {
    /** @type {unknown} */
    let firstError;
    for (const block of inputs) {
      if (this.#trap !== undefined) break;
      try {
        this.dealloc(block);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined && !callFailed) throw firstError;
  }

  /**
   * Calls an export; a trap (any exception out of the guest) kills the instance and becomes a
   * `GuestError` carrying the reason the guest recorded.
   * @param {string} name
   * @param {number[]} args
   * @returns {number}
   */
  #invoke(name, args) {
    if (this.#trap !== undefined) {
      throw new GuestError(`${name}: the guest trapped earlier (${this.#trap.message}); instantiate a fresh one`, {
        kind: 'dead',
        export: name,
        cause: this.#trap,
      });
    }
    const fn = this.#functions[name];
    if (typeof fn !== 'function') {
      throw new TypeError(`the guest exports no function named ${JSON.stringify(name)}`);
    }
    try {
      return fn(...args);
    } catch (error) {
      const reason = this.#recordedReason();
      const what = error instanceof Error ? error.message : String(error);
      this.#trap = new GuestError(`${name} trapped: ${reason ?? what}`, {
        kind: 'trap',
        export: name,
        reason,
        cause: error,
      });
      throw this.#trap;
    }
  }

  /**
   * The reason a trap recorded, read from `last_error` (docs/ABI.md, "Traps"). The block is not
   * freed: the instance is about to be dropped, and its heap may be mid-operation.
   * @returns {string | undefined}
   */
  #recordedReason() {
    try {
      const ptr = /** @type {number} */ (this.#functions.last_error()) >>> 0;
      if (ptr === 0) return undefined;
      return lenientDecoder.decode(this.#readResult(ptr, 'last_error'));
    } catch {
      return undefined;
    }
  }

  /**
   * The error for a function that returned 0: its `last_error` message.
   * @param {string} name
   */
  #failure(name) {
    const reason = this.lastError();
    return new GuestError(`${name}: ${reason ?? 'failed (returned 0) with no error pending'}`, {
      kind: 'error',
      export: name,
      reason,
    });
  }

  // ---- the ABI, one export at a time -----------------------------------------------------------

  /**
   * Allocates a block in the guest and copies `input` into it. The caller frees it with
   * {@link Guest.dealloc}.
   * @param {Input} input
   * @returns {Block}
   * @throws {GuestError} `alloc` when the guest has no room, `bounds` when it returns a block
   *   outside its memory
   */
  alloc(input) {
    let bytes = toBytes(input);
    // A view of the guest's own memory would be detached by a growing alloc: copy it first.
    if (bytes.buffer === this.memory.buffer) bytes = bytes.slice();
    const len = bytes.byteLength;
    if (len > U32_MAX) throw new RangeError(`an input of ${len} bytes does not fit a u32 length`);
    const ptr = this.#invoke('alloc', [len]) >>> 0;
    if (ptr === 0) {
      throw new GuestError(`alloc(${len}) returned 0: the guest could not grow its memory`, {
        kind: 'alloc',
        export: 'alloc',
      });
    }
    this.#view(ptr, len, `alloc(${len})`).set(bytes);
    return Object.freeze({ ptr, len });
  }

  /**
   * Frees a block with the length it has (`dealloc(ptr, len)`), so that the guest checks it.
   * @param {Block} block
   */
  dealloc(block) {
    this.#invoke('dealloc', [block.ptr, block.len]);
  }

  /**
   * Frees a block the guest knows the length of (`free(ptr)`).
   * @param {number} ptr
   */
  free(ptr) {
    this.#invoke('free', [ptr]);
  }

  /**
   * Resizes a block (`realloc`); the old block must not be used again on success.
   * @param {Block} block
   * @param {number} newLen
   * @returns {Block}
   * @throws {GuestError} `alloc` when the guest has no room (the old block is still live)
   */
  realloc(block, newLen) {
    const ptr = this.#invoke('realloc', [block.ptr, newLen]) >>> 0;
    if (ptr === 0) {
      throw new GuestError(`realloc(${hex(block.ptr)}, ${newLen}) returned 0: the old block is still live`, {
        kind: 'alloc',
        export: 'realloc',
      });
    }
    this.#view(ptr, newLen >>> 0, `realloc(${hex(block.ptr)}, ${newLen})`);
    return Object.freeze({ ptr, len: newLen >>> 0 });
  }

  /**
   * Takes the pending error message (and clears it), or `undefined` when none is pending.
   * @returns {string | undefined}
   */
  lastError() {
    const ptr = this.#invoke('last_error', []) >>> 0;
    if (ptr === 0) return undefined;
    return lenientDecoder.decode(this.takeResult(ptr, 'last_error'));
  }

  /** Blocks handed out and not freed, or `undefined` without the `stats` feature. */
  liveBlocks() {
    return typeof this.#functions.live_blocks === 'function' ? this.#invoke('live_blocks', []) >>> 0 : undefined;
  }

  /** Bytes allocated through the guest's global allocator, or `undefined` without `stats`. */
  heapBytes() {
    return typeof this.#functions.heap_bytes === 'function' ? this.#invoke('heap_bytes', []) >>> 0 : undefined;
  }

  // ---- memory ----------------------------------------------------------------------------------

  /**
   * Copies `len` bytes out of guest memory, after checking they are inside it.
   * @param {number} ptr
   * @param {number} len
   * @returns {Uint8Array}
   */
  read(ptr, len) {
    return this.#view(ptr >>> 0, len >>> 0, `read(${hex(ptr >>> 0)}, ${len >>> 0})`).slice();
  }

  /**
   * Copies a result block out of guest memory, then frees it with `dealloc(ptr, n + 4)` so that
   * the guest checks its length prefix too.
   * @param {number} ptr a non-zero result pointer
   * @param {string} [from] the export that returned it, for messages
   * @returns {Uint8Array}
   */
  takeResult(ptr, from = 'result') {
    ptr >>>= 0;
    /** @type {Uint8Array} */
    let bytes;
    try {
      bytes = this.#readResult(ptr, from);
    } catch (error) {
      // The prefix was readable but the length is wrong: give the block back all the same.
      if (ptr + RESULT_PREFIX <= this.memory.buffer.byteLength && !this.trapped) {
        try {
          this.free(ptr);
        } catch {
          // The bounds error is the one that explains what happened.
        }
      }
      throw error;
    }
    this.#invoke('dealloc', [ptr, bytes.byteLength + RESULT_PREFIX]);
    return bytes;
  }

  /**
   * @param {number} ptr
   * @param {string} from
   * @returns {Uint8Array} a copy of the result's bytes
   */
  #readResult(ptr, from) {
    const prefix = this.#view(ptr, RESULT_PREFIX, `${from} result at ${hex(ptr)}: length prefix`);
    const len = new DataView(prefix.buffer, prefix.byteOffset, RESULT_PREFIX).getUint32(0, true);
    return this.#view(ptr + RESULT_PREFIX, len, `${from} result at ${hex(ptr)}: ${len} bytes`).slice();
  }

  /**
   * A fresh view of `[ptr, ptr + len)`: taken now, from the current `memory.buffer`, because any
   * call into the guest may have grown (and so detached) the old one. Both are u32, so the sum
   * is exact in a double and cannot wrap.
   * @param {number} ptr
   * @param {number} len
   * @param {string} what
   * @returns {Uint8Array}
   */
  #view(ptr, len, what) {
    const buffer = this.memory.buffer;
    if (ptr + len > buffer.byteLength) {
      throw new GuestError(
        `${what}: [${hex(ptr)}, ${hex(ptr + len)}) lies outside guest memory (${buffer.byteLength} bytes)`,
        { kind: 'bounds' },
      );
    }
    return new Uint8Array(buffer, ptr, len);
  }
}

/**
 * @param {Input} input
 * @returns {Uint8Array}
 */
function toBytes(input) {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError(`a guest input is a string, bytes or a number, not ${Object.prototype.toString.call(input)}`);
}

/**
 * @param {Uint8Array} bytes
 * @param {string} from
 */
function decodeUtf8(bytes, from) {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new GuestError(`${from}: the result is not valid UTF-8`, { kind: 'utf8', export: from, cause: error });
  }
}

const isNode = typeof globalThis.process === 'object' && typeof globalThis.process.versions?.node === 'string';

/**
 * @param {GuestSource} source
 * @returns {Promise<WebAssembly.Module>}
 */
async function compile(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof source === 'string' || source instanceof URL) {
    const url = source instanceof URL ? source : toUrl(source);
    if (isNode && (url === undefined || url.protocol === 'file:')) {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(url ?? /** @type {string} */ (source)));
    }
    return compile(await fetch(url ?? /** @type {string} */ (source)));
  }
  if (isResponse(source)) {
    if (!source.ok) throw new Error(`fetching the guest from ${source.url || 'a Response'}: HTTP ${source.status}`);
    const type = source.headers.get('content-type') ?? '';
    if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
      return WebAssembly.compileStreaming(source);
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return WebAssembly.compile(await source.arrayBuffer());
  throw new TypeError(`cannot load a guest from ${Object.prototype.toString.call(source)}`);
}

/**
 * A string is a URL only with a scheme (`http:`, `file:`...); otherwise it is a path.
 * @param {string} text
 */
function toUrl(text) {
  if (!/^[a-z][a-z0-9+.-]+:/i.test(text)) {
    // Relative in a browser means relative to the page.
    return isNode ? undefined : new URL(text, globalThis.location?.href);
  }
  return new URL(text);
}

/**
 * @param {unknown} value
 * @returns {value is Response}
 */
function isResponse(value) {
  if (typeof Response !== 'undefined' && value instanceof Response) return true;
  const candidate = /** @type {{ arrayBuffer?: unknown, headers?: { get?: unknown } }} */ (value);
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof candidate.arrayBuffer === 'function' &&
    typeof candidate.headers?.get === 'function'
  );
}
