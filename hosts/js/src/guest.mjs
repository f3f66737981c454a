// Guest: a running guest instance and the host side of the ABI (docs/ABI.md).

import { ABI_VERSION, abiExportName, MEMORY_CALLS, REQUIRED_EXPORTS } from './abi.mjs';
import { decoder, hex, lenientDecoder, toBytes, U32_MAX } from './bytes.mjs';
import { argCheck, countArguments, exportArgument, fits, READS_BLOCK, READS_TEXT, READS_U32, refused, refuseUnfit, resultValue } from './call-check.mjs';
import { GuestError, messageOf } from './errors.mjs';
import { HostCalls, hostCallsOf, HostTrap } from './host-functions.mjs';
import { BLOCK_KINDS, describeFunction, readInterface, TEXT_KINDS, U32_KINDS, wasmArity } from './interface.mjs';
import { compile, mergeImports, wasiImports } from './load.mjs';
import { RESULT_PREFIX, resultLength } from './result-block.mjs';

/** @import { AbiFunctions } from './abi.mjs' */
/** @import { Input } from './bytes.mjs' */
/** @import { Described } from './call-check.mjs' */
/** @import { HostFunctions } from './host-functions.mjs' */
/** @import { Interface, InterfaceFunction } from './interface.mjs' */
/** @import { GuestSource, Wasi } from './load.mjs' */

/** The longest input block a Guest keeps between calls unless told otherwise (64 KiB). */
export const DEFAULT_REUSE_INPUT_BYTES = 64 * 1024;

/** The longest result payload a Guest reads unless told otherwise (256 MiB), as in the Rust and
 * Python hosts: a longer one is given back to the guest unread. */
export const DEFAULT_RESULT_CAP = 256 * 1024 * 1024;

/** Inputs packed into the reused block start at multiples of 8, as blocks from `alloc` do. */
const INPUT_ALIGN = 8;

/**
 * A block of guest memory: the pointer and the length it was allocated with.
 * @typedef {{ readonly ptr: number, readonly len: number }} Block
 */

/**
 * An argument of a guest call: an {@link Input} becomes two wasm arguments `(ptr, len)`, a
 * number is passed as one `i32`.
 * @typedef {Input | number} Arg
 */

/**
 * @typedef {object} GuestOptions
 * @property {number} [reuseInputBytes] inputs of a call that fit in this many bytes (default
 *   {@link DEFAULT_REUSE_INPUT_BYTES}) go into one block the Guest keeps between calls; 0 allocates
 *   and frees every input on every call
 * @property {number} [resultCap] the longest result payload read (default
 *   {@link DEFAULT_RESULT_CAP}); a longer result block is freed unread and the call fails with a
 *   `bounds` GuestError
 * @property {Interface | null} [interface] the interface the Guest enforces and builds
 *   `guest.exports` from: by default `Guest.instantiate` reads the module's section
 *   ({@link readInterface}) and `new Guest` has none; `null` ignores the section (every call
 *   unchecked, every argument passed borrowed)
 */

/**
 * @typedef {object} InstantiateOnlyOptions
 * @property {HostFunctions} [functions] host functions the guest imports through
 *   `guestmem::import!`, each made with {@link hostFunction}; `guestmem.last_error` comes with them
 * @property {WebAssembly.Imports} [imports] what the guest imports; merged over the WASI imports,
 *   module by module (an entry here replaces WASI's of the same name)
 * @property {Wasi} [wasi] a WASI instance (`new WASI({ version: 'preview1' })` from `node:wasi`)
 *   whose imports are given to the guest and whose `initialize` runs the guest's `_initialize`
 * @typedef {GuestOptions & InstantiateOnlyOptions} InstantiateOptions
 */

const INSTANTIATE_OPTIONS = Object.freeze(['functions', 'imports', 'wasi', 'reuseInputBytes', 'resultCap', 'interface']);

/**
 * A running guest instance and the host side of the ABI.
 * @template {object} [E=any] the type of {@link Guest.exports}: the `Exports` that
 *   `guestmem describe --typescript` writes for the guest's module (`any` without one)
 */
export class Guest {
  /** @type {WebAssembly.Instance} */
  instance;
  /** The guest's linear memory. Never keep a view of `memory.buffer` across a call. @type {WebAssembly.Memory} */
  memory;
  /** Every exported function, by export name. @type {Record<string, Function>} */
  #functions;
  /** @type {AbiFunctions} */
  #abi;
  /** ABI name -> the export name used for it, for messages. @type {Record<string, string>} */
  #abiNames;
  /** The trap that killed the guest, once it trapped: later calls throw `dead`, caused by it. @type {GuestError | undefined} */
  #trap;
  /** Set while callView lends a view of a result: a call could move memory under it. */
  #lending = false;
  /** A view of all of memory, replaced when growth detaches it (its length drops to 0). @type {Uint8Array} */
  #bytes;
  /** @type {number} */
  #reuseLimit;
  /** @type {number} */
  #resultCap;
  /** The input block kept between calls (0: none yet), its length, and the heap bytes it holds. */
  #inputPtr = 0;
  #inputLen = 0;
  #inputHeap = 0;
  /** Set while a call's inputs sit in the kept block, so a re-entrant call allocates its own. */
  #inputBusy = false;
  /** The host side of the guest's imports, when it was instantiated with `functions`. @type {HostCalls | undefined} */
  #host;
  /** The interface the Guest enforces, if it has one. @type {Interface | undefined} */
  #interface;
  /** Each described export, by name (empty without an interface). @type {Map<string, Described>} */
  #described = new Map();
  /** A function per described export. @type {E} */
  #typed;

  /**
   * Compiles and instantiates a guest, runs its WASI reactor initialisation (`_initialize`), then
   * checks it is a guestmem guest of ABI version 1. Its `guestmem.interface` section, if it has
   * one, is read and enforced (unless `options.interface` says otherwise).
   * @template {object} [X=any] the type of the new Guest's {@link Guest.exports}
   * @param {GuestSource | PromiseLike<GuestSource>} source
   * @param {InstantiateOptions} [options]
   * @returns {Promise<Guest<X>>}
   * @throws {GuestError} `abi` when it is not one (a WASI command, which exports `_start`, is not),
   *   `interface` when its interface section is malformed or does not match its exports
   * @throws {TypeError} for an option it does not know (imports go in `{ imports }`), or a host
   *   function that is not one (see {@link hostFunction})
   */
  static async instantiate(source, options = {}) {
    // Imports were once the second argument: an import module here would be dropped silently.
    const unknown = Object.keys(options).filter((key) => !INSTANTIATE_OPTIONS.includes(key));
    if (unknown.length > 0) {
      throw new TypeError(`unknown options ${unknown.join(', ')}: the guest's imports go in { imports: { ... } }`);
    }
    const host = options.functions === undefined ? undefined : new HostCalls(options.functions, options.imports);
    const module = await compile(await source);
    // Read before the instance runs anything: a malformed section is refused up front.
    const described = options.interface === undefined ? readInterface(module) : options.interface;
    // JavaScript functions carry no wasm type: the section's imports are what wasmtime's types are
    // to the other hosts, the shape a host function must have.
    if (host !== undefined && described != null && Array.isArray(described.imports)) host.checkImports(described.imports);
    const imports = mergeImports(
      mergeImports(options.wasi === undefined ? {} : wasiImports(options.wasi), options.imports ?? {}),
      host?.imports ?? {},
    );
    const instance = await WebAssembly.instantiate(module, imports);
    // Bound before _initialize, which may call host functions already.
    if (host !== undefined) {
      host.bind(instance);
      hostCallsOf.set(instance, host);
    }
    const exports = instance.exports;
    if (typeof exports._start === 'function') {
      throw new GuestError('a WASI command (it exports _start) is not a guestmem guest: build a reactor (cdylib)', {
        kind: 'abi',
      });
    }
    // A reactor's _initialize runs before any other export (WASI application ABI); node:wasi
    // must be the one to call it, since it also binds the instance's memory.
    if (options.wasi !== undefined) options.wasi.initialize(instance);
    else if (typeof exports._initialize === 'function') exports._initialize();
    return /** @type {Guest<X>} */ (new Guest(instance, { ...options, interface: described ?? null }));
  }

  /**
   * Wraps an instance that is already there (and initialised, for a WASI reactor). It enforces
   * the interface given in `options.interface` (`readInterface(module)`), and none without it.
   * @param {WebAssembly.Instance} instance
   * @param {GuestOptions} [options]
   * @throws {GuestError} `abi` when it is not a guestmem guest of ABI version 1, `interface` when
   *   the interface describes an export the instance does not have, or with other wasm arguments
   */
  constructor(instance, options = {}) {
    const exports = instance.exports;
    if (!(exports.memory instanceof WebAssembly.Memory)) {
      throw new GuestError('not a guestmem guest: no exported memory named "memory"', { kind: 'abi' });
    }
    const missing = REQUIRED_EXPORTS.filter((name) => abiExportName(exports, name) === undefined);
    if (missing.length > 0) {
      throw new GuestError(`not a guestmem guest: missing exports ${missing.join(', ')}`, { kind: 'abi' });
    }
    this.instance = instance;
    this.memory = exports.memory;
    this.#bytes = new Uint8Array(this.memory.buffer);
    this.#host = hostCallsOf.get(instance);
    const reuse = options.reuseInputBytes ?? DEFAULT_REUSE_INPUT_BYTES;
    if (!(reuse >= 0 && reuse <= U32_MAX)) throw new RangeError(`reuseInputBytes must be 0 to 2^32 - 1, not ${reuse}`);
    this.#reuseLimit = reuse;
    const cap = options.resultCap ?? DEFAULT_RESULT_CAP;
    if (!(Number.isInteger(cap) && cap >= 0 && cap <= U32_MAX)) {
      throw new RangeError(`resultCap must be an integer from 0 to 2^32 - 1, not ${cap}`);
    }
    this.#resultCap = cap;
    this.#functions = /** @type {Record<string, Function>} */ (
      Object.fromEntries(Object.entries(exports).filter(([, value]) => typeof value === 'function'))
    );
    /** @type {Record<string, string>} */
    const names = {};
    /** @type {Record<string, Function>} */
    const abi = {};
    for (const name of [...REQUIRED_EXPORTS, 'live_blocks', 'heap_bytes']) {
      const found = abiExportName(exports, name);
      if (found === undefined) continue;
      names[name] = found;
      abi[name] = this.#functions[found];
    }
    this.#abiNames = names;
    this.#abi = /** @type {AbiFunctions} */ (/** @type {unknown} */ (abi));
    const version = this.#invoke('abi_version', []);
    if (version !== ABI_VERSION) {
      throw new GuestError(`guest speaks ABI version ${version}, this host speaks ${ABI_VERSION}`, {
        kind: 'abi',
      });
    }
    /** @type {Record<string, (...args: unknown[]) => unknown>} */
    const typed = Object.create(null);
    const described = options.interface ?? undefined;
    if (described !== undefined) {
      if (typeof described !== 'object' || !Array.isArray(described.exports) || !Array.isArray(/** @type {unknown} */ (described.imports))) {
        throw new TypeError('options.interface must be an Interface (readInterface(module)) or null');
      }
      for (const fn of /** @type {readonly InterfaceFunction[]} */ (described.exports)) {
        const exported = this.#functions[fn.name];
        if (exported === undefined) {
          throw new GuestError(`the guestmem.interface section describes \`${describeFunction(fn)}\`, which the module does not export`, {
            kind: 'interface',
            export: fn.name,
          });
        }
        // Node 20 cannot read a wasm function's type, but its length is its number of parameters.
        const arity = fn.args.reduce((count, arg) => count + wasmArity(arg.kind), 0);
        if (exported.length !== arity) {
          throw new GuestError(
            `the guestmem.interface section describes \`${describeFunction(fn)}\`, which takes ${arity} wasm arguments; the module's ${fn.name} takes ${exported.length}`,
            { kind: 'interface', export: fn.name },
          );
        }
        const owned = fn.args.some((arg) => arg.owned) ? fn.args.map((arg) => arg.owned) : undefined;
        const checks = fn.args.map((arg) => argCheck(arg.kind));
        const reads = (BLOCK_KINDS.has(fn.result) ? READS_BLOCK : 0) | (TEXT_KINDS.has(fn.result) ? READS_TEXT : 0) | (U32_KINDS.has(fn.result) ? READS_U32 : 0);
        const entry = { fn, owned, checks, reads };
        this.#described.set(fn.name, entry);
        typed[fn.name] = (/** @type {unknown[]} */ ...args) => this.#callDescribed(entry, args);
      }
    }
    this.#interface = described;
    this.#typed = /** @type {E} */ (Object.freeze(typed));
  }

  /**
   * The guest's exports as its interface section describes them, ready to call:
   * `guest.exports.upper('straße')`. Arguments are taken and results returned by kind
   * (docs/ABI.md, "Interface section"):
   *
   * - `string`: a string (or UTF-8 bytes); `bytes`: a `Uint8Array` (or any {@link Input}); an
   *   `owned` argument is passed owned;
   * - `json`: any value, written with `JSON.stringify`; a `json` result is `JSON.parse`d;
   * - `postcard`: the encoded bytes, a `Uint8Array` both ways ({@link Postcard} encodes and
   *   decodes them);
   * - integers up to 32 bits and floats: numbers; `u64` and `i64`: bigints (a safe integer is
   *   taken too); `none`: `undefined`.
   *
   * A failure of the guest throws a GuestError of kind `error`, with the guest's message, also
   * for an export that is not `fallible` (a bad argument fails any export). Empty when the guest
   * has no interface section; the raw exports are `guest.instance.exports`.
   * @returns {E}
   */
  get exports() {
    return this.#typed;
  }

  /** The interface the Guest enforces, or `undefined` without one. */
  get interface() {
    return this.#interface;
  }

  /** Whether the guest trapped: a trapped guest only throws; instantiate a fresh one. */
  get trapped() {
    return this.#trap !== undefined;
  }

  // ---- calls ---------------------------------------------------------------------------------

  /**
   * Calls a guest function that returns a result block, and returns the result's bytes.
   * Inputs are copied in, passed as `(ptr, len)` and freed (or kept for reuse) afterwards, also
   * when the call throws. With an interface, this and the other call methods check the call
   * against it first (docs/ABI.md, "Interface section"), and pass owned arguments owned.
   * @param {string} name the exported function
   * @param {...Arg} args
   * @returns {Uint8Array} a copy, owned by the caller
   * @throws {GuestError} `error` when the guest returns 0, `trap`, `bounds`, `alloc`, `dead`;
   *   `call` when the interface rules the call out
   */
  callBytes(name, ...args) {
    return this.#callBlock(name, args, READS_BLOCK, 'callBytes');
  }

  /**
   * Like {@link Guest.callBytes}, with the result decoded as UTF-8.
   * @param {string} name
   * @param {...Arg} args
   * @returns {string}
   * @throws {GuestError} as `callBytes`, and `utf8` when the result is not UTF-8
   */
  callString(name, ...args) {
    return decodeUtf8(this.#callBlock(name, args, READS_TEXT, 'callString'), name);
  }

  /**
   * Calls an export that returns a result block and takes the result, after checking the call
   * against the interface (which must say the result is one of `readable`).
   * @param {string} name
   * @param {Arg[]} args
   * @param {number} reads the method's `READS_*` bit
   * @param {string} method
   */
  #callBlock(name, args, reads, method) {
    const described = this.#described.get(name);
    if (described !== undefined && !fits(described, args, reads)) refuseUnfit(described.fn, args, reads, method);
    const ptr = /** @type {number} */ (this.#call(name, args, described?.owned)) >>> 0;
    if (ptr === 0) throw this.#failure(name);
    return this.takeResult(ptr, name);
  }

  /**
   * Calls a guest function that returns a result block and lends its bytes to `read` in place,
   * without a copy. The view is valid only while `read` runs: the block is freed when `read`
   * returns or throws, so copy (`view.slice()`) whatever must outlive it. `read` must not call
   * into this guest (that throws): a call could move memory under the view.
   * @template T
   * @param {string} name
   * @param {...(Arg | ((view: Uint8Array) => T))} argsThenRead the arguments, then `read`
   * @returns {T} what `read` returned
   * @throws {GuestError} as `callBytes`; and whatever `read` throws, after the block is freed
   */
  callView(name, ...argsThenRead) {
    const read = argsThenRead.pop();
    if (typeof read !== 'function') throw new TypeError('callView: the last argument must be the function that reads the view');
    const args = /** @type {Arg[]} */ (argsThenRead);
    const described = this.#described.get(name);
    if (described !== undefined && !fits(described, args, READS_BLOCK)) refuseUnfit(described.fn, args, READS_BLOCK, 'callView');
    const ptr = /** @type {number} */ (this.#call(name, args, described?.owned)) >>> 0;
    if (ptr === 0) throw this.#failure(name);
    const len = this.#resultLength(ptr, name);
    this.#lending = true;
    try {
      return read(this.#bytes.subarray(ptr + RESULT_PREFIX, ptr + RESULT_PREFIX + len));
    } finally {
      this.#lending = false;
      this.#invoke('dealloc', [ptr, len + RESULT_PREFIX]);
    }
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
    const described = this.#described.get(name);
    if (described !== undefined && !fits(described, args, READS_U32)) refuseUnfit(described.fn, args, READS_U32, 'callU32');
    return /** @type {number} */ (this.#callValue(name, args, described?.owned)) >>> 0;
  }

  /**
   * Calls an export that returns a wasm value (or nothing): a `0` (or no value) is a failure only
   * if the guest left an error in `last_error`. An older pending error is cleared first.
   * @param {string} name
   * @param {(Arg | bigint)[]} args
   * @param {boolean[] | undefined} owned
   * @param {boolean} [always] whether any value may come with an error (a `none` result)
   * @returns {number | bigint | undefined}
   */
  #callValue(name, args, owned, always = false) {
    this.#notInHostFunction(name);
    this.#exported(name);
    this.lastError();
    const value = this.#call(name, args, owned);
    if (!always && value !== 0 && value !== 0n) return value;
    const reason = this.lastError();
    if (reason !== undefined) throw new GuestError(`${name}: ${reason}`, { kind: 'error', export: name, reason });
    return value;
  }

  /**
   * A call through {@link Guest.exports}: the arguments converted by their kinds, the result
   * read by its kind.
   * @param {Described} described
   * @param {unknown[]} args
   * @returns {unknown}
   */
  #callDescribed({ fn, owned }, args) {
    const name = fn.name;
    if (args.length !== fn.args.length) throw refused(name, `it takes ${countArguments(fn)}, not ${args.length}`);
    const values = new Array(args.length);
    for (let index = 0; index < args.length; index += 1) values[index] = exportArgument(name, fn.args[index], args[index]);
    const kind = fn.result;
    if (!BLOCK_KINDS.has(kind)) return resultValue(kind, this.#callValue(name, values, owned, kind === 'none'));
    const ptr = /** @type {number} */ (this.#call(name, values, owned)) >>> 0;
    if (ptr === 0) throw this.#failure(name);
    const bytes = this.takeResult(ptr, name);
    if (kind === 'string') return decodeUtf8(bytes, name);
    if (kind !== 'json') return bytes;
    const text = decodeUtf8(bytes, name);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new GuestError(`${name}: the json result does not parse: ${messageOf(error)}`, { kind: 'decode', export: name, cause: error });
    }
  }

  /**
   * @param {string} name
   * @returns {Function}
   */
  #exported(name) {
    const fn = this.#functions[name];
    if (typeof fn !== 'function') throw new TypeError(`the guest exports no function named ${JSON.stringify(name)}`);
    return fn;
  }

  /**
   * Passes `args` to export `name` and returns what it returned. Inputs go into the kept input
   * block when they fit, else into blocks of their own, freed here (also when a later input's
   * alloc or the call fails). With `owned`, every input gets a block of its own, and an owned
   * one is given up to the guest (docs/ABI.md, "Owned arguments").
   * @param {string} name
   * @param {(Arg | bigint)[]} args
   * @param {boolean[]} [owned] which arguments the guest takes, when some are owned
   * @returns {number | bigint}
   */
  #call(name, args, owned) {
    const fn = this.#exported(name);
    this.#checkCallable(name);
    const count = args.length;
    // The common case, one borrowed input and nothing else, without building arrays.
    if (count === 1 && owned === undefined && typeof args[0] !== 'number' && typeof args[0] !== 'bigint') {
      const bytes = this.#inputBytes(/** @type {Input} */ (args[0]));
      const len = bytes.byteLength;
      if (this.#reusable(len)) {
        this.#reserveInput(len);
        const ptr = this.#inputPtr;
        (this.#memoryBytes(ptr, len) ?? this.#outside('input block', ptr, len)).set(bytes, ptr);
        this.#inputBusy = true;
        try {
          return fn(ptr, len);
        } catch (error) {
          throw this.#trapped(name, error);
        } finally {
          this.#inputBusy = false;
        }
      }
      return this.#callWithBlocks(name, fn, [bytes]);
    }
    /** @type {(Uint8Array | number | bigint)[]} */
    const values = [];
    let packed = 0;
    let inputs = 0;
    for (const arg of args) {
      if (typeof arg === 'number' || typeof arg === 'bigint') {
        values.push(arg);
      } else {
        const bytes = this.#inputBytes(arg);
        values.push(bytes);
        packed += alignUp(bytes.byteLength);
        inputs += 1;
      }
    }
    if (inputs === 0) return this.#guarded(name, fn, /** @type {(number | bigint)[]} */ (values));
    if (owned === undefined && this.#reusable(packed)) {
      this.#reserveInput(packed);
      /** @type {(number | bigint)[]} */
      const wasmArgs = [];
      let offset = this.#inputPtr;
      for (const value of values) {
        if (typeof value === 'number' || typeof value === 'bigint') {
          wasmArgs.push(value);
        } else {
          (this.#memoryBytes(offset, value.byteLength) ?? this.#outside('input block', offset, value.byteLength)).set(value, offset);
          wasmArgs.push(offset, value.byteLength);
          offset += alignUp(value.byteLength);
        }
      }
      this.#inputBusy = true;
      try {
        return this.#guarded(name, fn, wasmArgs);
      } finally {
        this.#inputBusy = false;
      }
    }
    return this.#callWithBlocks(name, fn, values, owned);
  }

  /**
   * Calls `fn` with each input in a block of its own, freed afterwards; when an input's alloc
   * fails, the blocks allocated before it are freed too. An owned input's block has 4 bytes of
   * room in front and is passed past them; it is the guest's once the guest is called, whatever
   * the outcome, and freed here only when the guest never got it.
   * @param {string} name
   * @param {Function} fn
   * @param {(Uint8Array | number | bigint)[]} values
   * @param {boolean[]} [owned] which of `values` the guest takes
   * @returns {number | bigint}
   */
  #callWithBlocks(name, fn, values, owned) {
    /** Pointer and length of each block placed so far, flat. @type {number[]} */
    const placed = [];
    /** The same for the borrowed ones, which the host frees whatever happens. @type {number[]} */
    const borrowed = [];
    let given = false;
    let failed = false;
    try {
      /** @type {(number | bigint)[]} */
      const wasmArgs = [];
      for (let index = 0; index < values.length; index += 1) {
        const value = values[index];
        if (typeof value === 'number' || typeof value === 'bigint') {
          wasmArgs.push(value);
          continue;
        }
        const room = owned?.[index] === true ? RESULT_PREFIX : 0;
        const len = value.byteLength + room;
        if (len > U32_MAX) throw new RangeError(`an owned input of ${value.byteLength} bytes does not fit a u32 length with its room`);
        const ptr = this.#invoke('alloc', [len]) >>> 0;
        if (ptr === 0) {
          throw new GuestError(`alloc(${len}) returned 0: the guest could not grow its memory`, {
            kind: 'alloc',
            export: this.#abiNames.alloc,
          });
        }
        // A block outside memory is not kept: freeing it would trap.
        (this.#memoryBytes(ptr, len) ?? this.#outside(`alloc(${len})`, ptr, len)).set(value, ptr + room);
        placed.push(ptr, len);
        if (room === 0) borrowed.push(ptr, len);
        wasmArgs.push(ptr + room, value.byteLength);
      }
      // From here on the owned blocks are the guest's, freed by it or returned as its result.
      given = true;
      return this.#guarded(name, fn, wasmArgs);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.#freeInputs(given ? borrowed : placed, failed);
    }
  }

  /**
   * Whether inputs of `len` bytes (packed) go into the kept input block: reuse is on, they fit,
   * and no outer call (one that reached an import calling back into the guest) is using it.
   * @param {number} len
   */
  #reusable(len) {
    return this.#reuseLimit !== 0 && len <= this.#reuseLimit && !this.#inputBusy;
  }

  /**
   * An input as bytes; a view of the guest's own memory is copied first, since an alloc that
   * grows memory would detach it. The cached view, once current, has the buffer to compare with
   * (a shared memory's views are never detached, so an older one there needs no copy).
   * @param {Input} input
   */
  #inputBytes(input) {
    const bytes = toBytes(input);
    if (bytes.byteLength > U32_MAX) throw new RangeError(`an input of ${bytes.byteLength} bytes does not fit a u32 length`);
    if (this.#bytes.length === 0) this.#bytes = new Uint8Array(this.memory.buffer);
    return bytes.buffer === this.#bytes.buffer ? bytes.slice() : bytes;
  }

  /**
   * Makes the kept input block at least `len` bytes long: `alloc` the first time, `realloc` to
   * grow it. The heap bytes it adds are measured, so that heapBytes() can leave them out.
   * @param {number} len
   */
  #reserveInput(len) {
    if (this.#inputPtr !== 0 && len <= this.#inputLen) return;
    const want = Math.min(this.#reuseLimit, Math.max(len, 2 * this.#inputLen, 64));
    const heapBefore = this.#rawHeapBytes();
    const ptr =
      (this.#inputPtr === 0
        ? this.#invoke('alloc', [want])
        : this.#invoke('realloc', [this.#inputPtr, want])) >>> 0;
    if (ptr === 0) {
      // A failed realloc leaves the old block as it was, still ours.
      const what = this.#inputPtr === 0 ? `alloc(${want})` : `realloc(${hex(this.#inputPtr)}, ${want})`;
      throw new GuestError(`${what} returned 0 for the input block: the guest could not grow its memory`, {
        kind: 'alloc',
        export: this.#abiNames[this.#inputPtr === 0 ? 'alloc' : 'realloc'],
      });
    }
    const heapAfter = this.#rawHeapBytes();
    // The old pointer is gone once realloc succeeded: forget it before the bounds check can throw.
    this.#inputPtr = 0;
    this.#inputLen = 0;
    this.#memoryBytes(ptr, want) ?? this.#outside(`input block alloc(${want})`, ptr, want);
    this.#inputPtr = ptr;
    this.#inputLen = want;
    this.#inputHeap += (heapAfter ?? 0) - (heapBefore ?? 0);
  }

  /**
   * Frees the block the Guest keeps for inputs between calls, if it has one; the next call that
   * fits allocates it again. liveBlocks() and heapBytes() leave it out either way.
   */
  releaseInputBlock() {
    if (this.#inputPtr === 0) return;
    if (this.#inputBusy || this.#lending) throw new Error('releaseInputBlock: a call is using the input block');
    const ptr = this.#inputPtr;
    const len = this.#inputLen;
    this.#inputPtr = 0;
    this.#inputLen = 0;
    this.#inputHeap = 0;
    this.#invoke('dealloc', [ptr, len]);
  }

  /**
   * Frees the inputs of a call. After a trap there is nothing to free: the instance is dropped
   * whole. A failure to free is thrown only when the call itself succeeded, so that it never hides
   * the error that matters.
   * @param {number[]} placed pointer and length of each block, flat
   * @param {boolean} callFailed
   */
  #freeInputs(placed, callFailed) {
    /** @type {unknown} */
    let firstError;
    for (let i = 0; i < placed.length; i += 2) {
      if (this.#trap !== undefined) break;
      try {
        this.#invoke('dealloc', [placed[i], placed[i + 1]]);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined && !callFailed) throw firstError;
  }

  /**
   * Throws when the guest may not be called now: it trapped, a view of it is lent out, or it is
   * waiting for one of its host functions, where only `alloc` and friends may be called.
   * @param {string} name
   * @param {boolean} [memoryCall] whether it is `alloc`, `realloc`, `free` or `dealloc`
   */
  #checkCallable(name, memoryCall = false) {
    if (!memoryCall) this.#notInHostFunction(name);
    if (this.#lending) {
      throw new Error(`${name}: no call into the guest while callView lends a view of it; copy the view first`);
    }
    if (this.#trap !== undefined) {
      throw new GuestError(`${name}: the guest trapped earlier (${this.#trap.message}); instantiate a fresh one`, {
        kind: 'dead',
        export: name,
        cause: this.#trap,
      });
    }
  }

  /**
   * Refuses a call into the guest from inside one of its host functions (docs/ABI.md, "Calls back
   * into the guest"). The refusal is thrown to the host function, and kept, so that the guest call
   * it interrupted fails with it even if the host function catches it.
   * @param {string} name what was called
   */
  #notInHostFunction(name) {
    const host = this.#host;
    if (host?.running === undefined) return;
    const refusal = new Error(
      `${name}: refused inside host function \`${host.running}\`: there only alloc, realloc, free and dealloc ` +
        'may be called on the guest that called it (docs/ABI.md, "Calls back into the guest")',
    );
    host.failure ??= refusal;
    throw refusal;
  }

  /**
   * Calls `fn`; a trap (any exception out of the guest, an import's included) kills the instance
   * and becomes a `GuestError` carrying the reason the guest recorded.
   * @param {string} name
   * @param {Function} fn
   * @param {(number | bigint)[]} args
   * @returns {number | bigint} what it returned (`undefined` for a function with no result)
   */
  #guarded(name, fn, args) {
    try {
      // The ABI's own arities without a spread, which V8 does not optimise as well.
      switch (args.length) {
        case 0:
          return fn();
        case 1:
          return fn(args[0]);
        case 2:
          return fn(args[0], args[1]);
        default:
          return fn(...args);
      }
    } catch (error) {
      throw this.#trapped(name, error);
    }
  }

  /**
   * Calls ABI export `name` (found by the export-name rule).
   * @param {keyof AbiFunctions} name
   * @param {number[]} args
   * @returns {number}
   */
  #invoke(name, args) {
    this.#checkCallable(name, MEMORY_CALLS.has(name));
    const fn = this.#abi[name];
    if (typeof fn !== 'function') throw new TypeError(`the guest exports no ABI function ${name}`);
    return /** @type {number} */ (this.#guarded(this.#abiNames[name], fn, args));
  }

  /**
   * @param {string} name
   * @param {unknown} error
   */
  #trapped(name, error) {
    if (error instanceof HostTrap) {
      this.#trap = new GuestError(`${name} trapped in host function \`${error.hostFunction}\`: ${error.message}`, {
        kind: 'host',
        export: name,
        hostFunction: error.hostFunction,
        reason: error.message,
        cause: error.cause ?? error,
      });
      return this.#trap;
    }
    const reason = this.#recordedReason();
    const what = error instanceof Error ? error.message : String(error);
    this.#trap = new GuestError(`${name} trapped: ${reason ?? what}`, {
      kind: 'trap',
      export: name,
      reason,
      cause: error,
    });
    // A trap inside a host function (of an alloc it made) ends the guest call that waits for it.
    if (this.#host?.running !== undefined) this.#host.failure ??= this.#trap;
    return this.#trap;
  }

  /**
   * The reason a trap recorded, read from `last_error` (docs/ABI.md, "Traps"). The block is not
   * freed: the instance is about to be dropped, and its heap may be mid-operation.
   * @returns {string | undefined}
   */
  #recordedReason() {
    try {
      const ptr = this.#abi.last_error() >>> 0;
      if (ptr === 0) return undefined;
      const len = this.#resultLength(ptr, 'last_error', false);
      return lenientDecoder.decode(this.#bytes.subarray(ptr + RESULT_PREFIX, ptr + RESULT_PREFIX + len));
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
    const bytes = this.#inputBytes(input);
    const len = bytes.byteLength;
    const ptr = this.#invoke('alloc', [len]) >>> 0;
    if (ptr === 0) {
      throw new GuestError(`alloc(${len}) returned 0: the guest could not grow its memory`, {
        kind: 'alloc',
        export: this.#abiNames.alloc,
      });
    }
    (this.#memoryBytes(ptr, len) ?? this.#outside(`alloc(${len})`, ptr, len)).set(bytes, ptr);
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
        export: this.#abiNames.realloc,
      });
    }
    this.#memoryBytes(ptr, newLen >>> 0) ?? this.#outside(`realloc(${hex(block.ptr)}, ${newLen})`, ptr, newLen >>> 0);
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

  /**
   * Blocks handed out and not freed, or `undefined` without the `stats` feature. The input block
   * this Guest keeps between calls is not counted: 0 means the caller leaked nothing.
   */
  liveBlocks() {
    if (this.#abi.live_blocks === undefined) return undefined;
    return (this.#invoke('live_blocks', []) >>> 0) - (this.#inputPtr === 0 ? 0 : 1);
  }

  /**
   * Bytes allocated through the guest's global allocator, or `undefined` without `stats`; the
   * kept input block's share is left out, as in {@link Guest.liveBlocks}.
   */
  heapBytes() {
    const raw = this.#rawHeapBytes();
    return raw === undefined ? undefined : raw - this.#inputHeap;
  }

  #rawHeapBytes() {
    return this.#abi.heap_bytes === undefined ? undefined : this.#invoke('heap_bytes', []) >>> 0;
  }

  // ---- memory ----------------------------------------------------------------------------------

  /**
   * Copies `len` bytes out of guest memory, after checking they are inside it.
   * @param {number} ptr
   * @param {number} len
   * @returns {Uint8Array}
   */
  read(ptr, len) {
    ptr >>>= 0;
    len >>>= 0;
    return (this.#memoryBytes(ptr, len) ?? this.#outside(`read(${hex(ptr)}, ${len})`, ptr, len)).slice(ptr, ptr + len);
  }

  /**
   * Copies a result block out of guest memory, then frees it with `dealloc(ptr, n + 4)` so that
   * the guest checks its length prefix too.
   * @param {number} ptr a non-zero result pointer
   * @param {string} [from] the export that returned it, for messages
   * @returns {Uint8Array}
   */
  takeResult(ptr, from = 'result') {
    this.#notInHostFunction('takeResult');
    ptr >>>= 0;
    const len = this.#resultLength(ptr, from);
    const start = ptr + RESULT_PREFIX;
    const bytes = this.#bytes.slice(start, start + len);
    this.#checkCallable('dealloc');
    try {
      this.#abi.dealloc(ptr, len + RESULT_PREFIX);
    } catch (error) {
      throw this.#trapped(this.#abiNames.dealloc, error);
    }
    return bytes;
  }

  /**
   * The length of the result block at `ptr`, once the whole block is known to lie inside memory
   * and within the result cap ({@link resultLength}). A block whose prefix is readable but whose
   * length is not (outside memory, or over the cap) is given back with `free` before the `bounds`
   * error is thrown; a pointer that is not a block (misaligned, or its prefix outside memory) is
   * not.
   * @param {number} ptr
   * @param {string} from
   * @param {boolean} [giveBack] false while a trap is being reported: the heap may be mid-operation
   * @returns {number}
   */
  #resultLength(ptr, from, giveBack = true) {
    let len = resultLength(this.#bytes, ptr, this.#resultCap);
    if (typeof len === 'number') return len;
    // Memory may have grown since the view was taken (a detached view has length 0).
    if (len !== 'misaligned' && len !== 'too_long') {
      len = resultLength((this.#bytes = new Uint8Array(this.memory.buffer)), ptr, this.#resultCap);
    }
    if (typeof len === 'number') return len;
    const at = `${from} result at ${hex(ptr)}`;
    if (len === 'too_long') {
      // A block inside memory, only longer than the host reads: it is given back.
      const memory = this.#bytes;
      const announced = (memory[ptr] | (memory[ptr + 1] << 8) | (memory[ptr + 2] << 16) | (memory[ptr + 3] << 24)) >>> 0;
      if (giveBack && !this.trapped) this.free(ptr);
      throw new GuestError(`${at}: payload of ${announced} bytes is longer than the result cap of ${this.#resultCap}`, {
        kind: 'bounds',
      });
    }
    if (len === 'misaligned') {
      throw new GuestError(`${at}: misaligned, not a multiple of 8, so not a result block`, { kind: 'bounds' });
    }
    if (len === 'prefix_out_of_bounds') return this.#outside(`${at}: length prefix`, ptr, RESULT_PREFIX);
    const memory = this.#bytes;
    const announced = (memory[ptr] | (memory[ptr + 1] << 8) | (memory[ptr + 2] << 16) | (memory[ptr + 3] << 24)) >>> 0;
    if (giveBack && !this.trapped) {
      try {
        this.free(ptr);
      } catch {
        // The bounds error is the one that explains what happened.
      }
    }
    return this.#outside(`${at}: payload of ${announced} bytes`, ptr + RESULT_PREFIX, announced);
  }

  /**
   * A view of all of guest memory in which `[ptr, ptr + len)` lies, or `undefined` when it lies
   * outside. The view is cached and replaced when memory grew: growth detaches the old buffer
   * (its view's length drops to 0), and a shared memory's longer buffer is picked up by the
   * second look. Both are u32, so the sum is exact in a double and cannot wrap. An empty view is
   * never kept: `[0, 0)` lies inside a detached one (even `memory.grow(0)` detaches), whose bytes
   * cannot be sliced.
   * @param {number} ptr
   * @param {number} len
   * @returns {Uint8Array | undefined}
   */
  #memoryBytes(ptr, len) {
    const memory = this.#bytes;
    if (ptr + len <= memory.length && memory.length !== 0) return memory;
    const current = (this.#bytes = new Uint8Array(this.memory.buffer));
    return ptr + len <= current.length ? current : undefined;
  }

  /**
   * The `bounds` error for `[ptr, ptr + len)`; messages are built only here, off the hot path.
   * @param {string} what
   * @param {number} ptr
   * @param {number} len
   * @returns {never}
   */
  #outside(what, ptr, len) {
    throw new GuestError(
      `${what}: [${hex(ptr)}, ${hex(ptr + len)}) lies outside guest memory (${this.#bytes.length} bytes)`,
      { kind: 'bounds' },
    );
  }
}

/** @param {number} len */
const alignUp = (len) => Math.ceil(len / INPUT_ALIGN) * INPUT_ALIGN;

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
