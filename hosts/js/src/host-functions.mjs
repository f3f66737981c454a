// Host functions (docs/ABI.md, "Host functions (imports)"): the functions a guest imports through
// `guestmem::import!`, wrapped as wasm imports that read their arguments out of the guest's memory
// and write their results into it.

import { abiExportName } from './abi.mjs';
import { decoder, encoder, hex, toBytes, U32_MAX } from './bytes.mjs';
import { describeValue, GuestError, messageOf } from './errors.mjs';
import { describeFunction, wasmType } from './interface.mjs';
import { RESULT_PREFIX } from './result-block.mjs';

/** @import { Input } from './bytes.mjs' */
/** @import { InterfaceFunction } from './interface.mjs' */

/**
 * The kind of one argument of a host function, as the guest declares it in `guestmem::import!`:
 * `bytes` (`&[u8]`: the function gets a `Uint8Array`, a copy it may keep), `string` (`&str`:
 * a string, decoded as UTF-8), `u32` and `i32` (`number`), `u64` and `i64` (`bigint`).
 * @typedef {'bytes' | 'string' | 'u32' | 'i32' | 'u64' | 'i64'} HostParam
 */

/**
 * What a host function returns, as the guest declares it: `bytes` (`Vec<u8>`: bytes or a string,
 * written into a result block from the guest's `alloc`), `string` (`String`), an integer (a
 * `number` or a `bigint`), or `none`.
 * @typedef {HostParam | 'none'} HostResult
 */

/**
 * The shape of a host function (docs/ABI.md, "Host functions"): a plain object, the same one
 * the guest's declaration describes.
 * @typedef {object} HostSignature
 * @property {readonly HostParam[]} [params] its arguments, in order (default: none)
 * @property {HostResult} [result] what it returns (default `none`)
 * @property {boolean} [fallible] whether it can fail (a `Result` in the guest): a throw is then a
 *   failure whose message the guest reads, and `none` returns `1` or `0`. Without it a throw
 *   traps the guest call.
 */

/**
 * The value a host function receives for an argument of kind `K`.
 * @template K
 * @typedef {K extends 'bytes' ? Uint8Array : K extends 'string' ? string : K extends 'u32' | 'i32' ? number : bigint} HostValue
 */

/**
 * The arguments a host function of signature `S` receives.
 * @template {HostSignature} S
 * @typedef {S extends { readonly params: infer P extends readonly HostParam[] } ? { -readonly [I in keyof P]: HostValue<P[I]> } : []} HostArgs
 */

/**
 * What a host function of signature `S` may return.
 * @template {HostSignature} S
 * @typedef {S extends { readonly result: 'bytes' } ? Input : S extends { readonly result: 'string' } ? string : S extends { readonly result: 'u32' | 'i32' | 'u64' | 'i64' } ? number | bigint : void} HostReturn
 */

/**
 * A host function: its signature, and the JavaScript function that implements it.
 * @typedef {{ readonly signature: HostSignature, readonly implementation: (...args: any[]) => unknown }} HostFunction
 */

/**
 * Host functions by import module and name: `{ env: { salutation: hostFunction(...) } }`.
 * @typedef {Record<string, Record<string, HostFunction>>} HostFunctions
 */

const HOST_PARAMS = Object.freeze(['bytes', 'string', 'u32', 'i32', 'u64', 'i64']);
const HOST_RESULTS = Object.freeze([...HOST_PARAMS, 'none']);
const SIGNATURE_KEYS = Object.freeze(['params', 'result', 'fallible']);

/**
 * A host function: `implementation`, called with the arguments `signature` describes, for a
 * guest that declares the same function in `guestmem::import!`. Pass it in
 * `Guest.instantiate(source, { functions: { env: { NAME: ... } } })`.
 *
 *   hostFunction({ params: ['string'], result: 'bytes', fallible: true }, (key) => store.get(key))
 *
 * - Arguments: `bytes` arrive as a `Uint8Array` copy, `string` as a string (the guest's bytes
 *   must be UTF-8), `u32` and `i32` as numbers, `u64` and `i64` as bigints.
 * - Results: bytes or a string for `bytes`, a string for `string`, a number or a bigint for the
 *   integers, nothing for `none`.
 * - A `fallible` function fails by throwing: the guest gets `0` and reads the message (an Error's
 *   `message`) through `guestmem.last_error`. Without `fallible`, a throw traps the guest call,
 *   reported as a `host` GuestError naming the function. Either way a trap inside the function
 *   (a WebAssembly.RuntimeError, or a GuestError of kind `trap`, `host` or `dead`) traps the call.
 * - Inside it, only `alloc`, `realloc`, `free` and `dealloc` may be called on the Guest that
 *   called it; any other call is refused, and the guest call fails with the refusal.
 * @template {HostSignature} const S
 * @param {S} signature a plain object, checked here
 * @param {(...args: HostArgs<S>) => HostReturn<S>} implementation
 * @returns {HostFunction}
 * @throws {TypeError} when the signature is not one
 */
export function hostFunction(signature, implementation) {
  checkSignature('hostFunction', signature);
  if (typeof implementation !== 'function') throw new TypeError('hostFunction: the implementation must be a function');
  return Object.freeze({ signature, implementation });
}

/**
 * The signature as the library uses it, after checking every key: a typo (`falible`) must not
 * silently make a function infallible.
 * @param {string} label
 * @param {unknown} signature
 * @returns {{ params: readonly HostParam[], result: HostResult, fallible: boolean }}
 */
function checkSignature(label, signature) {
  if (typeof signature !== 'object' || signature === null) throw new TypeError(`${label}: the signature must be an object`);
  const { params = [], result = 'none', fallible = false } = /** @type {HostSignature} */ (signature);
  const unknown = Object.keys(signature).filter((key) => !SIGNATURE_KEYS.includes(key));
  if (unknown.length > 0) throw new TypeError(`${label}: unknown signature keys ${unknown.join(', ')} (it has params, result, fallible)`);
  if (!Array.isArray(params) || !params.every((kind) => HOST_PARAMS.includes(kind))) {
    throw new TypeError(`${label}: params must be an array of ${HOST_PARAMS.join(', ')}, not ${JSON.stringify(params)}`);
  }
  if (!HOST_RESULTS.includes(result)) throw new TypeError(`${label}: result must be one of ${HOST_RESULTS.join(', ')}, not ${JSON.stringify(result)}`);
  if (typeof fallible !== 'boolean') throw new TypeError(`${label}: fallible must be a boolean`);
  return { params: [...params], result, fallible };
}

/**
 * A failure of a host function that the guest cannot be told about; it unwinds the guest call,
 * which the Guest reports as a `host` GuestError.
 */
export class HostTrap extends Error {
  /**
   * @param {string} hostFunction `module.name`
   * @param {string} message
   * @param {unknown} [cause] what the function threw, if it threw
   */
  constructor(hostFunction, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HostTrap';
    this.hostFunction = hostFunction;
  }
}

/**
 * Whether a throw out of a host function is a trap, which must unwind the guest call whatever
 * the function's signature says.
 * @param {unknown} thrown
 */
const isTrap = (thrown) =>
  thrown instanceof WebAssembly.RuntimeError ||
  thrown instanceof HostTrap ||
  (thrown instanceof GuestError && (thrown.kind === 'trap' || thrown.kind === 'host' || thrown.kind === 'dead'));

/** The instance each HostCalls serves, so that a Guest made from the instance finds it. @type {WeakMap<WebAssembly.Instance, HostCalls>} */
export const hostCallsOf = new WeakMap();

/**
 * The host side of one instance's host functions: the wasm imports that wrap them, the pending
 * message `guestmem.last_error` hands out, and which function is running (so that the Guest can
 * refuse calls the contract forbids there).
 */
export class HostCalls {
  /** The import object: the wrapped functions, and `guestmem.last_error`. @type {WebAssembly.Imports} */
  imports;
  /** The message of the host function that failed last, until the guest takes it. @type {string | undefined} */
  pending;
  /** The host function running now, as `module.name`. @type {string | undefined} */
  running;
  /**
   * What makes the running function's guest call trap whatever the function does next: a call
   * the Guest refused, or a trap of a call it made. @type {unknown}
   */
  failure;
  /** @type {WebAssembly.Memory | undefined} */
  #memory;
  /** @type {((len: number) => number) | undefined} */
  #alloc;
  /** Each function's signature, by `module.name`. @type {Map<string, Required<HostSignature>>} */
  #signatures = new Map();

  /**
   * @param {HostFunctions} functions
   * @param {WebAssembly.Imports} [userImports] the plain imports, which must not name the same functions
   */
  constructor(functions, userImports) {
    if (typeof functions !== 'object' || functions === null) throw new TypeError('functions must be an object of import modules');
    if (userImports?.guestmem !== undefined) {
      throw new TypeError('imports.guestmem: the import module guestmem is the library\'s when functions are given (docs/ABI.md, "Host functions")');
    }
    /** @type {Record<string, Record<string, Function>>} */
    const imports = { guestmem: { last_error: () => this.#lastError() } };
    for (const [module, entries] of Object.entries(functions)) {
      if (module === 'guestmem') throw new TypeError('functions.guestmem: the import module guestmem is reserved for the contract');
      for (const [name, hostFunction] of Object.entries(entries)) {
        const label = `${module}.${name}`;
        if (userImports?.[module]?.[name] !== undefined) throw new TypeError(`${label} is given both in functions and in imports`);
        (imports[module] ??= {})[name] = this.#wrap(label, hostFunction);
      }
    }
    this.imports = imports;
  }

  /**
   * Refuses a host function whose wasm type differs from the one the guest's interface section
   * gives the same import (docs/ABI.md, "Host functions"): the check wasmtime makes for the Rust
   * and Python hosts when it links a function, made before the guest is instantiated.
   * @param {readonly InterfaceFunction[]} imports the section's imports
   * @throws {GuestError} `interface`, naming the function and both types
   */
  checkImports(imports) {
    for (const fn of imports) {
      const label = `${fn.module}.${fn.name}`;
      const signature = this.#signatures.get(label);
      if (signature === undefined) continue;
      const declared = wasmType(fn.args.map((arg) => arg.kind), fn.result, fn.fallible);
      const given = wasmType(signature.params, signature.result, signature.fallible);
      if (declared !== given) {
        throw new GuestError(
          `host function ${label} has the wasm type ${given}, but the guest imports \`${describeFunction(fn)}\`, of type ${declared}`,
          { kind: 'interface', hostFunction: label },
        );
      }
    }
  }

  /**
   * Binds the wrappers to the instance they serve: its memory and its `alloc`.
   * @param {WebAssembly.Instance} instance
   */
  bind(instance) {
    const exports = instance.exports;
    if (exports.memory instanceof WebAssembly.Memory) this.#memory = exports.memory;
    const alloc = abiExportName(exports, 'alloc');
    if (alloc !== undefined) this.#alloc = /** @type {(len: number) => number} */ (exports[alloc]);
  }

  /**
   * The wasm import for one host function: reads its arguments, calls it, writes its result.
   * @param {string} label `module.name`
   * @param {HostFunction} hostFunction
   * @returns {(...raw: (number | bigint)[]) => number | bigint | undefined}
   */
  #wrap(label, hostFunction) {
    if (typeof hostFunction !== 'object' || hostFunction === null || typeof hostFunction.implementation !== 'function') {
      throw new TypeError(`functions: ${label} is not a host function: make it with hostFunction(signature, implementation)`);
    }
    const { params, result, fallible } = checkSignature(`functions: ${label}`, hostFunction.signature);
    this.#signatures.set(label, { params, result, fallible });
    const implementation = hostFunction.implementation;
    const arity = params.reduce((count, kind) => count + (kind === 'bytes' || kind === 'string' ? 2 : 1), 0);
    const zero = result === 'u64' || result === 'i64' ? 0n : 0;
    return (...raw) => {
      if (raw.length !== arity) {
        throw new HostTrap(label, `the guest passed ${raw.length} wasm arguments, its signature has ${arity}: ${JSON.stringify(params)}`);
      }
      this.pending = undefined;
      const args = this.#arguments(label, params, raw);
      const outer = this.running;
      this.running = label;
      this.failure = undefined;
      let value;
      try {
        value = implementation(...args);
      } catch (thrown) {
        this.running = outer;
        this.#unwindOnFailure(label);
        if (!fallible || isTrap(thrown)) throw new HostTrap(label, messageOf(thrown), thrown);
        this.pending = messageOf(thrown);
        return zero;
      }
      this.running = outer;
      this.#unwindOnFailure(label);
      return this.#result(label, result, fallible, value);
    };
  }

  /**
   * Throws the trap that ends the guest call when the function made a call that was refused or
   * that trapped, whether or not it caught what that call threw.
   * @param {string} label
   */
  #unwindOnFailure(label) {
    const failure = this.failure;
    if (failure === undefined) return;
    this.failure = undefined;
    throw new HostTrap(label, messageOf(failure), failure);
  }

  /**
   * The host function's arguments, from the wasm ones; bytes are read through a view taken now
   * (a call into the guest may have grown memory since the last one) and copied.
   * @param {string} label
   * @param {readonly HostParam[]} params
   * @param {(number | bigint)[]} raw
   * @returns {unknown[]}
   */
  #arguments(label, params, raw) {
    const args = new Array(params.length);
    /** @type {Uint8Array | undefined} */
    let memory;
    let at = 0;
    for (let index = 0; index < params.length; index += 1) {
      const kind = params[index];
      if (kind === 'bytes' || kind === 'string') {
        const ptr = Number(raw[at]) >>> 0;
        const len = Number(raw[at + 1]) >>> 0;
        at += 2;
        memory ??= new Uint8Array(this.#memoryOf(label).buffer);
        if (ptr + len > memory.length) {
          throw new HostTrap(label, `argument ${index + 1}: ${len} bytes at ${hex(ptr)} are outside linear memory (${memory.length} bytes)`);
        }
        const view = memory.subarray(ptr, ptr + len);
        if (kind === 'bytes') {
          args[index] = view.slice();
        } else {
          try {
            args[index] = decoder.decode(view);
          } catch (error) {
            throw new HostTrap(label, `argument ${index + 1}: the guest's ${len} bytes at ${hex(ptr)} are not UTF-8`, error);
          }
        }
        continue;
      }
      const value = raw[at];
      at += 1;
      const wide = kind === 'u64' || kind === 'i64';
      if (typeof value !== (wide ? 'bigint' : 'number')) {
        throw new HostTrap(label, `argument ${index + 1}: the guest passed ${describeValue(value)}, its signature says ${kind}`);
      }
      args[index] = kind === 'u32' ? /** @type {number} */ (value) >>> 0 : kind === 'u64' ? BigInt.asUintN(64, /** @type {bigint} */ (value)) : value;
    }
    return args;
  }

  /**
   * The wasm result for what the host function returned: integers checked against their kind's
   * range, bytes written into a result block from the guest's `alloc`.
   * @param {string} label
   * @param {HostResult} result
   * @param {boolean} fallible
   * @param {unknown} value
   * @returns {number | bigint | undefined}
   */
  #result(label, result, fallible, value) {
    switch (result) {
      case 'none':
        return fallible ? 1 : undefined;
      case 'u32':
      case 'i32':
      case 'u64':
      case 'i64':
        return integerResult(label, result, value);
      default: {
        const bytes = this.#resultBytes(label, result, value);
        const ptr = this.writeBlock(label, bytes);
        if (ptr !== 0) return ptr;
        const message = `the guest's alloc(${bytes.byteLength + RESULT_PREFIX}) returned 0`;
        if (!fallible) throw new HostTrap(label, message);
        this.pending = message;
        return 0;
      }
    }
  }

  /**
   * @param {string} label
   * @param {'bytes' | 'string'} result
   * @param {unknown} value
   * @returns {Uint8Array}
   */
  #resultBytes(label, result, value) {
    if (result === 'string' && typeof value !== 'string') throw new HostTrap(label, `returned ${describeValue(value)}, its signature says string`);
    /** @type {Uint8Array} */
    let bytes;
    try {
      bytes = toBytes(/** @type {Input} */ (value));
    } catch {
      throw new HostTrap(label, `returned ${describeValue(value)}, its signature says bytes (a Uint8Array, an ArrayBuffer, a typed array or a string)`);
    }
    // A view of guest memory itself: the alloc that follows may detach it.
    return bytes.buffer === this.#memory?.buffer ? bytes.slice() : bytes;
  }

  /**
   * Allocates a result block with the guest's `alloc` and writes `bytes` into it, through a view
   * taken after the alloc (which may grow memory). A trap of `alloc` unwinds as the guest's trap.
   * @param {string} label the host function, for messages
   * @param {Uint8Array} bytes
   * @returns {number} the block, or 0 when `alloc` returned 0
   */
  writeBlock(label, bytes) {
    const len = bytes.byteLength;
    if (len > U32_MAX - RESULT_PREFIX) throw new HostTrap(label, `a result of ${len} bytes does not fit a u32 length`);
    const alloc = this.#alloc;
    if (alloc === undefined) throw new HostTrap(label, 'the guest exports no alloc (or it is not instantiated yet)');
    const ptr = alloc(len + RESULT_PREFIX) >>> 0;
    if (ptr === 0) return 0;
    const memory = new Uint8Array(this.#memoryOf(label).buffer);
    if (ptr + RESULT_PREFIX + len > memory.length) {
      throw new HostTrap(label, `alloc(${len + RESULT_PREFIX}) returned ${hex(ptr)}, outside linear memory (${memory.length} bytes)`);
    }
    memory[ptr] = len & 0xff;
    memory[ptr + 1] = (len >>> 8) & 0xff;
    memory[ptr + 2] = (len >>> 16) & 0xff;
    memory[ptr + 3] = len >>> 24;
    memory.set(bytes, ptr + RESULT_PREFIX);
    return ptr;
  }

  /**
   * `guestmem.last_error`: the pending message in a result block, cleared; 0 when none is
   * pending. With no memory for the block it traps rather than return 0, which a fallible integer
   * would read as an answer (docs/ABI.md, "Failure").
   * @returns {number}
   */
  #lastError() {
    const message = this.pending;
    if (message === undefined) return 0;
    this.pending = undefined;
    const ptr = this.writeBlock('guestmem.last_error', encoder.encode(message));
    if (ptr === 0) throw new HostTrap('guestmem.last_error', `the guest's alloc returned 0 for the message: ${message}`);
    return ptr;
  }

  /** @param {string} label */
  #memoryOf(label) {
    if (this.#memory === undefined) throw new HostTrap(label, 'the guest exports no memory (or it is not instantiated yet)');
    return this.#memory;
  }
}

/**
 * An integer result, as the wasm value of its kind; a value outside the kind's range is the host
 * function's bug, a trap.
 * @param {string} label
 * @param {'u32' | 'i32' | 'u64' | 'i64'} kind
 * @param {unknown} value
 * @returns {number | bigint}
 */
function integerResult(label, kind, value) {
  const unsigned = kind === 'u32' || kind === 'u64';
  if (kind === 'u32' || kind === 'i32') {
    const number = typeof value === 'bigint' ? Number(value) : value;
    if (typeof number === 'number' && Number.isInteger(number) && number >= (unsigned ? 0 : -0x8000_0000) && number <= (unsigned ? U32_MAX : 0x7fff_ffff)) {
      return number | 0;
    }
  } else if ((typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint') {
    const big = BigInt(value);
    if ((unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big)) === big) return BigInt.asIntN(64, big);
  }
  throw new HostTrap(label, `returned ${describeValue(value)}, not an integer in the range of ${kind}`);
}
