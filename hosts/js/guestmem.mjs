// guestmem-host: the JavaScript host of guestmem guests (npm package, types in guestmem.d.ts).
//
// One ES module, no dependencies, for Node >= 20 and browsers. The contract it implements is
// docs/ABI.md (ABI version 1); this file links to it rather than restating it.
//
//   import { Guest } from 'guestmem-host';
//   const guest = await Guest.instantiate(fetch('upper.wasm'));
//   guest.callString('upper', 'straße'); // 'STRASSE'

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

/** The longest input block a Guest keeps between calls unless told otherwise (64 KiB). */
export const DEFAULT_REUSE_INPUT_BYTES = 64 * 1024;

const U32_MAX = 0xffff_ffff;
const RESULT_PREFIX = 4;
/** Inputs packed into the reused block start at multiples of 8, as blocks from `alloc` do. */
const INPUT_ALIGN = 8;

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
 * - `bounds`: a pointer or length from the guest lies outside its memory (a hostile or broken
 *   guest); nothing was read or written there.
 * - `utf8`: a result asked for as a string is not valid UTF-8.
 * - `decode`: a `json` result does not parse.
 * - `call`: the call does not fit what the guest's interface section says of the export (the
 *   number of arguments, their types, text that is not UTF-8, a result read as what it is not);
 *   it was refused before the guest ran.
 * - `interface`: the guest's `guestmem.interface` section is malformed, or describes exports
 *   the module does not have.
 * - `abi`: the module is not a guestmem guest (missing exports, wrong `abi_version`).
 * @typedef {'error' | 'trap' | 'host' | 'dead' | 'alloc' | 'bounds' | 'utf8' | 'decode' | 'call' | 'interface' | 'abi'} GuestErrorKind
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

/**
 * A WASI implementation with the shape of Node's `node:wasi` `WASI` (and of browser polyfills
 * such as @bjorn3/browser_wasi_shim): its imports, and `initialize` for a reactor.
 * @typedef {{
 *   initialize(instance: WebAssembly.Instance): unknown,
 *   getImportObject?: () => object,
 *   wasiImport?: WebAssembly.ModuleImports,
 * }} Wasi
 */

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

/**
 * The kind of an argument or a result in a guest's interface section (docs/ABI.md, "Interface
 * section"): `bytes`, `string` (UTF-8), `json` and `postcard` travel as bytes; the integers and
 * floats as wasm values; `none` is no result.
 * @typedef {'none' | 'bytes' | 'string' | 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'json' | 'postcard'} Kind
 */

/**
 * One argument of a described function; `owned` when the guest takes its block (docs/ABI.md,
 * "Owned arguments").
 * @typedef {{ readonly name: string, readonly kind: Kind, readonly owned: boolean }} InterfaceArgument
 */

/**
 * One function of a guest's interface: an export (`module` undefined), or a host function it
 * imports from `module`. `fallible` when it fails with `0` and a message (a `Result` in Rust).
 * @typedef {{
 *   readonly module: string | undefined,
 *   readonly name: string,
 *   readonly args: readonly InterfaceArgument[],
 *   readonly result: Kind,
 *   readonly fallible: boolean,
 * }} InterfaceFunction
 */

/**
 * What a guest's `guestmem.interface` section says it exports and imports, in section order.
 * @typedef {{ readonly exports: readonly InterfaceFunction[], readonly imports: readonly InterfaceFunction[] }} Interface
 */

/**
 * @typedef {object} GuestOptions
 * @property {number} [reuseInputBytes] inputs of a call that fit in this many bytes (default
 *   {@link DEFAULT_REUSE_INPUT_BYTES}) go into one block the Guest keeps between calls; 0 allocates
 *   and frees every input on every call
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

const INSTANTIATE_OPTIONS = Object.freeze(['functions', 'imports', 'wasi', 'reuseInputBytes', 'interface']);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** @param {number} n */
const hex = (n) => `0x${n.toString(16)}`;

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

/**
 * What the interface says of one export, as calls use it: which arguments are owned, and what
 * {@link fits} checks, precomputed (an {@link ArgCheck} per argument, the `READS_*` bits of the
 * methods that read its result).
 * @typedef {{ fn: InterfaceFunction, owned: boolean[] | undefined, checks: ArgCheck[], reads: number }} Described
 */

/**
 * A running guest instance and the host side of the ABI.
 * @template {object} [E=any] the type of {@link Guest.exports}: the `Exports` that
 *   `harness describe --typescript` writes for the guest's module (`any` without one)
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
   * The length of the result block at `ptr`, once the whole block is known to lie inside memory.
   * A block whose prefix is readable but whose length is not is given back with `free` before
   * the bounds error is thrown.
   * @param {number} ptr
   * @param {string} from
   * @param {boolean} [giveBack] false while a trap is being reported: the heap may be mid-operation
   * @returns {number}
   */
  #resultLength(ptr, from, giveBack = true) {
    const memory =
      this.#memoryBytes(ptr, RESULT_PREFIX) ?? this.#outside(`${from} result at ${hex(ptr)}: length prefix`, ptr, RESULT_PREFIX);
    const len = (memory[ptr] | (memory[ptr + 1] << 8) | (memory[ptr + 2] << 16) | (memory[ptr + 3] << 24)) >>> 0;
    if (this.#memoryBytes(ptr + RESULT_PREFIX, len) !== undefined) return len;
    if (giveBack && !this.trapped) {
      try {
        this.free(ptr);
      } catch {
        // The bounds error is the one that explains what happened.
      }
    }
    return this.#outside(`${from} result at ${hex(ptr)}: ${len} bytes`, ptr + RESULT_PREFIX, len);
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

// ---- the interface section (docs/ABI.md, "Interface section") --------------------------------

/** The custom section in which a guest built with guestmem's macros describes its functions. */
export const INTERFACE_SECTION = 'guestmem.interface';

/** Kinds by their byte in the section. @type {ReadonlyMap<number, Kind>} */
const KINDS = new Map([
  [0, 'none'],
  [1, 'bytes'],
  [2, 'string'],
  [3, 'u8'],
  [4, 'u16'],
  [5, 'u32'],
  [6, 'u64'],
  [7, 'i8'],
  [8, 'i16'],
  [9, 'i32'],
  [10, 'i64'],
  [11, 'f32'],
  [12, 'f64'],
  [16, 'json'],
  [17, 'postcard'],
]);
/** The bit of an argument's kind byte that marks it owned. */
const OWNED = 0x80;

/** Kinds that travel as bytes: a `(ptr, len)` pair as an argument, a result block as a result. @type {ReadonlySet<Kind>} */
const BLOCK_KINDS = new Set(['bytes', 'string', 'json', 'postcard']);
/** Results `callString` reads. @type {ReadonlySet<Kind>} */
const TEXT_KINDS = new Set(['string', 'json']);
/** Results `callU32` reads: what an `i32` holds. @type {ReadonlySet<Kind>} */
const U32_KINDS = new Set(['u8', 'u16', 'u32', 'i8', 'i16', 'i32']);
/** Integer kinds, with their range. @type {ReadonlyMap<Kind, readonly [number, number]>} */
const INTEGER_RANGES = new Map([
  ['u8', [0, 0xff]],
  ['u16', [0, 0xffff]],
  ['u32', [0, U32_MAX]],
  ['i8', [-0x80, 0x7f]],
  ['i16', [-0x8000, 0x7fff]],
  ['i32', [-0x8000_0000, 0x7fff_ffff]],
]);

/**
 * The interface a compiled module describes: its `guestmem.interface` sections, read in order
 * and concatenated (a linker may leave one per object file), or `undefined` when it has none
 * (a guest built without guestmem's macros). `Guest.instantiate` calls it for you.
 * @param {WebAssembly.Module} module
 * @returns {Interface | undefined}
 * @throws {GuestError} `interface` when the section is malformed
 */
export function readInterface(module) {
  const sections = WebAssembly.Module.customSections(module, INTERFACE_SECTION);
  if (sections.length === 0) return undefined;
  const bytes = new Uint8Array(sections.reduce((len, section) => len + section.byteLength, 0));
  let at = 0;
  for (const section of sections) {
    bytes.set(new Uint8Array(section), at);
    at += section.byteLength;
  }
  return parseInterface(bytes);
}

/**
 * Parses the contents of a `guestmem.interface` section: entries one after the other. Another
 * version, direction or kind than docs/ABI.md lists is an error, never a guess.
 * @param {BufferSource} contents
 * @returns {Interface}
 * @throws {GuestError} `interface` when an entry is cut short, or has a version, direction or
 *   kind this host does not know, or a name that is not UTF-8
 */
export function parseInterface(contents) {
  const bytes = ArrayBuffer.isView(contents)
    ? new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength)
    : new Uint8Array(contents);
  /** @type {InterfaceFunction[]} */
  const exports = [];
  /** @type {InterfaceFunction[]} */
  const imports = [];
  let at = 0;
  let start = 0;
  /** @param {string} problem @returns {never} */
  const malformed = (problem) => {
    throw new GuestError(`malformed guestmem.interface section: the entry at byte ${start}: ${problem}`, { kind: 'interface' });
  };
  const byte = () => (at < bytes.length ? bytes[at++] : malformed('it is cut short'));
  /** @param {string} what */
  const text = (what) => {
    const len = byte();
    if (at + len > bytes.length) malformed('it is cut short');
    try {
      return decoder.decode(bytes.subarray(at, (at += len)));
    } catch {
      return malformed(`${what} is not UTF-8`);
    }
  };
  /** @param {number} value @param {string} of */
  const kind = (value, of) => KINDS.get(value) ?? malformed(`unknown kind ${value} ${of}`);
  while (at < bytes.length) {
    start = at;
    const version = byte();
    if (version !== 1) malformed(`version ${version}; this host reads version 1`);
    const direction = byte();
    if (direction !== 0 && direction !== 1) malformed(`unknown direction ${direction}`);
    const module = text("the import module's name");
    const name = text("the function's name");
    const count = byte();
    /** @type {InterfaceArgument[]} */
    const args = [];
    for (let index = 0; index < count; index += 1) {
      const argName = text(`the name of argument ${index + 1}`);
      const value = byte();
      args.push(Object.freeze({ name: argName, kind: kind(value & ~OWNED, `(argument \`${argName}\` of ${name})`), owned: (value & OWNED) !== 0 }));
    }
    // An owned result has no meaning: its byte is an unknown kind.
    const result = kind(byte(), `(the result of ${name})`);
    const fallible = (byte() & 1) === 1;
    const fn = Object.freeze({ module: direction === 1 ? module : undefined, name, args: Object.freeze(args), result, fallible });
    (direction === 1 ? imports : exports).push(fn);
  }
  return Object.freeze({ exports: Object.freeze(exports), imports: Object.freeze(imports) });
}

/**
 * The interface as text, one line per function, exports first, as `harness describe` prints it:
 * `export upper(text: string) -> string`, `import env.salutation() -> string, fallible`,
 * `data: owned bytes`.
 * @param {Interface} described
 * @returns {string}
 */
export function describeInterface(described) {
  return [...described.exports, ...described.imports].map((fn) => `${describeFunction(fn)}\n`).join('');
}

/** @param {InterfaceFunction} fn */
function describeFunction(fn) {
  const args = fn.args.map((arg) => `${arg.name}: ${arg.owned ? 'owned ' : ''}${arg.kind}`).join(', ');
  const head = fn.module === undefined ? `export ${fn.name}` : `import ${fn.module}.${fn.name}`;
  return `${head}(${args}) -> ${fn.result}${fn.fallible ? ', fallible' : ''}`;
}

/**
 * The wasm type of a host function, `(i32 i32) -> i32`: its arguments' and result's kinds as
 * wasm values; a fallible function without a result returns an i32 (1 or 0).
 * @param {readonly Kind[]} params
 * @param {Kind} result
 * @param {boolean} fallible
 */
function wasmType(params, result, fallible) {
  /** @param {Kind} kind */
  const values = (kind) =>
    BLOCK_KINDS.has(kind) || U32_KINDS.has(kind) ? Array(wasmArity(kind)).fill('i32') : kind === 'none' ? [] : [kind === 'u64' ? 'i64' : kind];
  const results = result === 'none' && fallible ? ['i32'] : values(result);
  return `(${params.flatMap(values).join(' ')}) -> ${results.length === 0 ? '()' : results.join(' ')}`;
}

/**
 * How many wasm values an argument of `kind` takes.
 * @param {Kind} kind
 */
const wasmArity = (kind) => (BLOCK_KINDS.has(kind) ? 2 : kind === 'none' ? 0 : 1);

/** @param {InterfaceFunction} fn `1 argument (text: string)` */
const countArguments = (fn) =>
  `${fn.args.length} argument${fn.args.length === 1 ? '' : 's'} (${fn.args.map((arg) => `${arg.name}: ${arg.kind}`).join(', ')})`;

/**
 * The error of a call refused before the guest ran.
 * @param {string} name
 * @param {string} problem
 * @param {unknown} [cause]
 */
const refused = (name, problem, cause) =>
  new GuestError(`${name}: refused before the guest ran: ${problem}`, { kind: 'call', export: name, cause });

/** @param {unknown} value @returns {value is Uint8Array | ArrayBuffer | ArrayBufferView} */
const isBytes = (value) => value instanceof ArrayBuffer || ArrayBuffer.isView(value);

/**
 * What {@link fits} checks of an argument: bytes, text (bytes must be UTF-8), a number, or
 * nothing the call methods can pass (a `u64` or `i64`, which `guest.exports` takes as a bigint;
 * `none`).
 * @typedef {0 | 1 | 2 | 3} ArgCheck
 */
const ARG_BYTES = 0;
const ARG_TEXT = 1;
const ARG_NUMBER = 2;
const ARG_NONE = 3;

/** @param {Kind} kind @returns {ArgCheck} */
const argCheck = (kind) =>
  TEXT_KINDS.has(kind) ? ARG_TEXT : BLOCK_KINDS.has(kind) ? ARG_BYTES : kind === 'u64' || kind === 'i64' || kind === 'none' ? ARG_NONE : ARG_NUMBER;
/** The call methods that read a result kind, as bits: callBytes and callView, callString, callU32. */
const READS_BLOCK = 1;
const READS_TEXT = 2;
const READS_U32 = 4;
/** The result kinds each bit's methods read. @type {Record<number, ReadonlySet<Kind>>} */
const READABLE = { [READS_BLOCK]: BLOCK_KINDS, [READS_TEXT]: TEXT_KINDS, [READS_U32]: U32_KINDS };

/**
 * Whether a call through `callBytes` and friends fits the interface; the fast check of every
 * call, whose failures {@link refuseUnfit} explains.
 * @param {Described} described
 * @param {readonly Arg[]} args
 * @param {number} reads the method's `READS_*` bit
 */
function fits(described, args, reads) {
  const checks = described.checks;
  if ((described.reads & reads) === 0 || args.length !== checks.length) return false;
  for (let index = 0; index < checks.length; index += 1) {
    const value = args[index];
    const check = checks[index];
    if (check === ARG_NUMBER) {
      if (typeof value !== 'number') return false;
    } else if (check === ARG_NONE || typeof value === 'number') {
      return false;
    } else if (check === ARG_TEXT && typeof value !== 'string') {
      try {
        decoder.decode(toBytes(value));
      } catch {
        return false;
      }
    }
  }
  return true;
}

/**
 * Refuses a call through `callBytes` and friends that the interface rules out: a result `method`
 * does not read, the wrong number of arguments, a number for a byte argument (or bytes for a
 * number), text that is not UTF-8.
 * @param {InterfaceFunction} fn
 * @param {readonly Arg[]} args
 * @param {number} reads the method's `READS_*` bit
 * @param {string} method
 * @returns {never}
 */
function refuseUnfit(fn, args, reads, method) {
  if (!READABLE[reads].has(fn.result)) throw refused(fn.name, `it returns ${fn.result} (its interface says), which ${method} does not read`);
  if (args.length !== fn.args.length) throw refused(fn.name, `it takes ${countArguments(fn)}, not ${args.length}`);
  for (let index = 0; index < args.length; index += 1) {
    const value = args[index];
    const { name, kind } = fn.args[index];
    if (BLOCK_KINDS.has(kind)) {
      if (typeof value === 'number' || typeof value === 'bigint') throw refused(fn.name, `argument \`${name}\` (${kind}) is bytes, not ${describe(value)}`);
      if ((kind === 'string' || kind === 'json') && typeof value !== 'string') checkUtf8(fn.name, name, kind, value);
    } else if (argCheck(kind) === ARG_NONE) {
      throw refused(fn.name, `argument \`${name}\` (${kind}) cannot be passed by ${method}${kind === 'none' ? '' : ': call it through guest.exports, which takes a bigint'}`);
    } else if (typeof value !== 'number') {
      throw refused(fn.name, `argument \`${name}\` (${kind}) is a number, not ${describe(value)}`);
    }
  }
  throw refused(fn.name, 'it does not fit its interface');
}

/**
 * @param {string} fnName
 * @param {string} name
 * @param {Kind} kind
 * @param {Input} value
 */
function checkUtf8(fnName, name, kind, value) {
  try {
    decoder.decode(toBytes(value));
  } catch (error) {
    throw refused(fnName, `argument \`${name}\` (${kind}) is not UTF-8`, error);
  }
}

/**
 * An argument of a call through `guest.exports`, as `#call` passes it: bytes or a string for the
 * byte kinds, a number or a bigint for the others.
 * @param {string} fnName
 * @param {InterfaceArgument} arg
 * @param {unknown} value
 * @returns {Input | number | bigint}
 */
function exportArgument(fnName, arg, value) {
  const { name, kind } = arg;
  /** @param {string} wanted @returns {never} */
  const wrong = (wanted) => {
    throw refused(fnName, `argument \`${name}\` (${kind}) takes ${wanted}, not ${describe(value)}`);
  };
  switch (kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (!isBytes(value)) return wrong('a string');
      checkUtf8(fnName, name, kind, value);
      return value;
    case 'bytes':
      return typeof value === 'string' || isBytes(value) ? value : wrong('a Uint8Array');
    case 'postcard':
      return isBytes(value) ? value : wrong('its encoded bytes, a Uint8Array (Postcard schemas write them)');
    case 'json': {
      let text;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw refused(fnName, `argument \`${name}\` (json): ${messageOf(error)}`, error);
      }
      return text === undefined ? wrong('a value JSON can write') : text;
    }
    case 'u64':
    case 'i64': {
      if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) return wrong('a bigint');
      const big = BigInt(value);
      const fits = kind === 'u64' ? BigInt.asUintN(64, big) === big : BigInt.asIntN(64, big) === big;
      return fits ? BigInt.asIntN(64, big) : wrong(`an integer in the range of ${kind}`);
    }
    case 'f32':
    case 'f64':
      return typeof value === 'number' ? value : wrong('a number');
    case 'none':
      return wrong('nothing: an argument of kind none cannot be passed');
    default: {
      const [min, max] = /** @type {readonly [number, number]} */ (INTEGER_RANGES.get(kind));
      const fits = typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
      return fits ? value : wrong(`an integer in the range of ${kind}`);
    }
  }
}

/**
 * A wasm result as its kind says: integers of fewer than 32 bits cut to their width, unsigned
 * ones read as unsigned.
 * @param {Kind} kind
 * @param {number | bigint | undefined} value
 * @returns {number | bigint | undefined}
 */
function resultValue(kind, value) {
  switch (kind) {
    case 'u8':
      return Number(value) & 0xff;
    case 'u16':
      return Number(value) & 0xffff;
    case 'u32':
      return Number(value) >>> 0;
    case 'i8':
      return (Number(value) << 24) >> 24;
    case 'i16':
      return (Number(value) << 16) >> 16;
    case 'i32':
      return Number(value) | 0;
    case 'u64':
      return BigInt.asUintN(64, BigInt(value ?? 0));
    case 'none':
      return undefined;
    default:
      return value;
  }
}

// ---- postcard (docs/ABI.md, "Typed values") ------------------------------------------------------

/** Lets only the static members below make a Postcard. */
const POSTCARD_TOKEN = Symbol('Postcard');

/**
 * The value type of a Postcard schema.
 * @template P
 * @typedef {P extends Postcard<infer T> ? T : never} PostcardValue
 */

/**
 * How a value of type `T` is written in postcard 1.x, the binary format of a guest's
 * `Postcard<T>` (docs/ABI.md, "Typed values"): a schema, made from the static members, that
 * encodes a value to bytes and decodes bytes back. Field order is the Rust struct's:
 *
 *   const Rect = Postcard.struct({ name: Postcard.string, width: Postcard.u32, height: Postcard.u32 });
 *   Rect.encode({ name: 'door', width: 80, height: 200 }); // 8 bytes: 04 64 6f 6f 72 50 c8 01
 *
 * Integers of up to 32 bits are numbers, `u64` and `i64` bigints (a safe integer is taken when
 * encoding); `bytes` is a `Uint8Array` (`Vec<u8>` and serde_bytes alike); `option` is `undefined`
 * for `None` (`null` is taken too); `seq` an array; `struct` a plain object.
 * @template T
 */
export class Postcard {
  /** @type {(value: T, out: PostcardWriter, path: string) => void} */
  #write;
  /** @type {(input: PostcardReader, path: string) => T} */
  #read;
  /** The fewest bytes a value takes, so that a count can be checked against the input's length. */
  #least;

  /**
   * Made by the static members only.
   * @private
   * @param {symbol} token
   * @param {number} least
   * @param {(value: T, out: PostcardWriter, path: string) => void} write
   * @param {(input: PostcardReader, path: string) => T} read
   */
  constructor(token, least, write, read) {
    if (token !== POSTCARD_TOKEN) throw new TypeError('a Postcard schema is made with Postcard.u32, Postcard.struct(...) and the other static members');
    this.#least = least;
    this.#write = write;
    this.#read = read;
  }

  /**
   * The bytes of `value`.
   * @param {T} value
   * @returns {Uint8Array}
   * @throws {TypeError} when `value` is not of the schema's type, or out of its range
   */
  encode(value) {
    const out = new PostcardWriter();
    this.#write(value, out, '');
    return out.bytes.slice(0, out.len);
  }

  /**
   * The value `bytes` hold; every byte must be used.
   * @param {Uint8Array} bytes
   * @returns {T}
   * @throws {Error} when the bytes end early, are left over, or hold what the schema does not
   */
  decode(bytes) {
    const input = new PostcardReader(bytes);
    const value = this.#read(input, '');
    if (input.at !== bytes.length) input.fail('', `${bytes.length - input.at} bytes left over`);
    return value;
  }

  /**
   * A struct: its fields in order, with no names on the wire.
   * @template {Record<string, Postcard<any>>} F
   * @param {F} fields
   * @returns {Postcard<{ [K in keyof F]: PostcardValue<F[K]> }>}
   */
  static struct(fields) {
    const entries = Object.entries(fields);
    for (const [key, schema] of entries) {
      if (!(schema instanceof Postcard)) throw new TypeError(`Postcard.struct: field \`${key}\` is not a Postcard schema`);
    }
    return new Postcard(
      POSTCARD_TOKEN,
      entries.reduce((least, [, schema]) => least + schema.#least, 0),
      (value, out, path) => {
        if (typeof value !== 'object' || value === null) fail(path, value, 'an object');
        for (const [key, schema] of entries) {
          schema.#write(/** @type {Record<string, unknown>} */ (value)[key], out, `${path}${path === '' ? '' : '.'}${key}`);
        }
      },
      (input, path) => {
        /** @type {Record<string, unknown>} */
        const value = {};
        for (const [key, schema] of entries) value[key] = schema.#read(input, `${path}${path === '' ? '' : '.'}${key}`);
        return /** @type {{ [K in keyof F]: PostcardValue<F[K]> }} */ (value);
      },
    );
  }

  /**
   * A sequence (`Vec<T>`, a slice): a varint count, then the items.
   * @template I
   * @param {Postcard<I>} item
   * @returns {Postcard<I[]>}
   */
  static seq(item) {
    return new Postcard(
      POSTCARD_TOKEN,
      1,
      (value, out, path) => {
        if (!Array.isArray(value)) fail(path, value, 'an array');
        out.varint(value.length);
        value.forEach((element, index) => item.#write(element, out, `${path}[${index}]`));
      },
      (input, path) => {
        const count = input.varint(32, path);
        if (count * item.#least > input.bytes.length - input.at) {
          input.fail(path, `${count} items announced, ${input.bytes.length - input.at} bytes left`);
        }
        return Array.from({ length: count }, (_, index) => item.#read(input, `${path}[${index}]`));
      },
    );
  }

  /**
   * An `Option<T>`: `0` for `None` (`undefined`), `1` then the value.
   * @template I
   * @param {Postcard<I>} item
   * @returns {Postcard<I | undefined>}
   */
  static option(item) {
    return new Postcard(
      POSTCARD_TOKEN,
      1,
      (value, out, path) => {
        if (value === undefined || value === null) {
          out.byte(0);
        } else {
          out.byte(1);
          item.#write(value, out, path);
        }
      },
      (input, path) => {
        const tag = input.byte(path);
        if (tag === 0) return undefined;
        if (tag !== 1) input.fail(path, `an option tag of ${tag}`);
        return item.#read(input, path);
      },
    );
  }

  /** `bool`: one byte, 0 or 1. @type {Postcard<boolean>} */
  static bool = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(typeof value === 'boolean' ? Number(value) : fail(path, value, 'a boolean')),
    (input, path) => {
      const byte = input.byte(path);
      if (byte > 1) input.fail(path, `a bool of ${byte}`);
      return byte === 1;
    },
  );

  /** `u8`: one byte. @type {Postcard<number>} */
  static u8 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(integer(value, 0, 0xff, 'u8', path)),
    (input, path) => input.byte(path),
  );

  /** `i8`: one byte, two's complement. @type {Postcard<number>} */
  static i8 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(integer(value, -0x80, 0x7f, 'i8', path) & 0xff),
    (input, path) => (input.byte(path) << 24) >> 24,
  );

  /** `u16`: a varint. @type {Postcard<number>} */
  static u16 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint(integer(value, 0, 0xffff, 'u16', path)),
    (input, path) => input.varint(16, path),
  );

  /** `i16`: zigzag, then a varint. @type {Postcard<number>} */
  static i16 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = integer(value, -0x8000, 0x7fff, 'i16', path);
      out.varint(((n << 1) ^ (n >> 15)) & 0xffff);
    },
    (input, path) => {
      const zigzag = input.varint(16, path);
      return (zigzag >>> 1) ^ -(zigzag & 1);
    },
  );

  /** `u32`: a varint of up to 5 bytes. @type {Postcard<number>} */
  static u32 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint(integer(value, 0, U32_MAX, 'u32', path)),
    (input, path) => input.varint(32, path),
  );

  /** `i32`: zigzag, then a varint. @type {Postcard<number>} */
  static i32 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = integer(value, -0x8000_0000, 0x7fff_ffff, 'i32', path);
      out.varint(((n << 1) ^ (n >> 31)) >>> 0);
    },
    (input, path) => {
      const zigzag = input.varint(32, path);
      return (zigzag >>> 1) ^ -(zigzag & 1);
    },
  );

  /** `u64`: a varint of up to 10 bytes, as a bigint. @type {Postcard<bigint>} */
  static u64 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint64(wide(value, false, path)),
    (input, path) => input.varint64(path),
  );

  /** `i64`: zigzag, then a varint, as a bigint. @type {Postcard<bigint>} */
  static i64 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = wide(value, true, path);
      out.varint64(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
    },
    (input, path) => {
      const zigzag = input.varint64(path);
      return (zigzag >> 1n) ^ -(zigzag & 1n);
    },
  );

  /** `f32`: 4 bytes, little-endian. @type {Postcard<number>} */
  static f32 = new Postcard(
    POSTCARD_TOKEN,
    4,
    (value, out, path) => out.float(typeof value === 'number' ? value : fail(path, value, 'a number'), 4),
    (input, path) => new DataView(input.take(4, path).slice().buffer).getFloat32(0, true),
  );

  /** `f64`: 8 bytes, little-endian. @type {Postcard<number>} */
  static f64 = new Postcard(
    POSTCARD_TOKEN,
    8,
    (value, out, path) => out.float(typeof value === 'number' ? value : fail(path, value, 'a number'), 8),
    (input, path) => new DataView(input.take(8, path).slice().buffer).getFloat64(0, true),
  );

  /** `String`, `&str`: a varint length, then UTF-8. @type {Postcard<string>} */
  static string = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.prefixed(encoder.encode(typeof value === 'string' ? value : fail(path, value, 'a string'))),
    (input, path) => {
      const bytes = input.take(input.varint(32, path), path);
      try {
        return decoder.decode(bytes);
      } catch {
        return input.fail(path, 'a string that is not UTF-8');
      }
    },
  );

  /** `Vec<u8>`, `&[u8]`: a varint length, then the bytes. @type {Postcard<Uint8Array>} */
  static bytes = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.prefixed(value instanceof Uint8Array ? value : fail(path, value, 'a Uint8Array')),
    (input, path) => input.take(input.varint(32, path), path).slice(),
  );
}

/**
 * @param {string} path
 * @param {unknown} value
 * @param {string} wanted
 * @returns {never}
 */
function fail(path, value, wanted) {
  throw new TypeError(`postcard: ${path === '' ? '' : `field \`${path}\`: `}${describe(value)} is not ${wanted}`);
}

/**
 * @param {unknown} value
 * @param {number} min
 * @param {number} max
 * @param {string} kind
 * @param {string} path
 * @returns {number}
 */
function integer(value, min, max, kind, path) {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fail(path, value, `a ${kind}`);
}

/**
 * @param {unknown} value
 * @param {boolean} signed
 * @param {string} path
 * @returns {bigint}
 */
function wide(value, signed, path) {
  const kind = signed ? 'i64' : 'u64';
  if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) return fail(path, value, `a ${kind} (a bigint)`);
  const big = BigInt(value);
  return (signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big)) === big ? big : fail(path, value, `a ${kind}`);
}

/** The bytes a Postcard schema writes, grown as needed. */
class PostcardWriter {
  bytes = new Uint8Array(64);
  len = 0;

  /** @param {number} more */
  #reserve(more) {
    if (this.len + more <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.len + more, 2 * this.bytes.length));
    grown.set(this.bytes.subarray(0, this.len));
    this.bytes = grown;
  }

  /** @param {number} value */
  byte(value) {
    this.#reserve(1);
    this.bytes[this.len++] = value;
  }

  /** @param {number} value a u32 */
  varint(value) {
    this.#reserve(5);
    while (value >= 0x80) {
      this.bytes[this.len++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.len++] = value;
  }

  /** @param {bigint} value a u64 */
  varint64(value) {
    this.#reserve(10);
    while (value >= 0x80n) {
      this.bytes[this.len++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.bytes[this.len++] = Number(value);
  }

  /** @param {number} value @param {4 | 8} size */
  float(value, size) {
    this.#reserve(size);
    const view = new DataView(this.bytes.buffer, this.len, size);
    if (size === 4) view.setFloat32(0, value, true);
    else view.setFloat64(0, value, true);
    this.len += size;
  }

  /** @param {Uint8Array} bytes a varint length, then the bytes */
  prefixed(bytes) {
    this.varint(bytes.length);
    this.#reserve(bytes.length);
    this.bytes.set(bytes, this.len);
    this.len += bytes.length;
  }
}

/** The bytes a Postcard schema reads, and where it is. */
class PostcardReader {
  at = 0;

  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`postcard: decode takes a Uint8Array, not ${describe(bytes)}`);
    this.bytes = bytes;
  }

  /**
   * @param {string} path
   * @param {string} problem
   * @returns {never}
   */
  fail(path, problem) {
    throw new Error(`postcard: ${path === '' ? '' : `field \`${path}\`: `}${problem} (at byte ${this.at})`);
  }

  /** @param {string} path */
  byte(path) {
    return this.at < this.bytes.length ? this.bytes[this.at++] : this.fail(path, 'the input ends early');
  }

  /** @param {number} len @param {string} path */
  take(len, path) {
    if (len > this.bytes.length - this.at) this.fail(path, 'the input ends early');
    return this.bytes.subarray(this.at, (this.at += len));
  }

  /**
   * An unsigned varint of at most `bits` bits (16 or 32; a length is a u32 on wasm32).
   * @param {16 | 32} bits
   * @param {string} path
   */
  varint(bits, path) {
    let value = 0;
    // ceil(bits / 7) bytes at most: 3 for 16 bits, 5 for 32.
    for (let shift = 0; shift < bits; shift += 7) {
      const byte = this.byte(path);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value < 2 ** bits ? value : this.fail(path, `a varint of ${value} does not fit ${bits} bits`);
    }
    return this.fail(path, `a varint longer than a ${bits}-bit value's`);
  }

  /** @param {string} path */
  varint64(path) {
    let value = 0n;
    for (let shift = 0n; shift < 64n; shift += 7n) {
      const byte = this.byte(path);
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value < 1n << 64n ? value : this.fail(path, `a varint of ${value} does not fit 64 bits`);
    }
    return this.fail(path, "a varint longer than a 64-bit value's");
  }
}

// ---- host functions (docs/ABI.md, "Host functions (imports)") ---------------------------------

const HOST_PARAMS = Object.freeze(['bytes', 'string', 'u32', 'i32', 'u64', 'i64']);
const HOST_RESULTS = Object.freeze([...HOST_PARAMS, 'none']);
const SIGNATURE_KEYS = Object.freeze(['params', 'result', 'fallible']);
/** The ABI exports a host function may call on the guest that called it. */
const MEMORY_CALLS = new Set(['alloc', 'realloc', 'free', 'dealloc']);

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
class HostTrap extends Error {
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

/** @param {unknown} thrown */
const messageOf = (thrown) => (thrown instanceof Error ? thrown.message : String(thrown));

/**
 * Whether a throw out of a host function is a trap, which must unwind the guest call whatever
 * the function's signature says.
 * @param {unknown} thrown
 */
const isTrap = (thrown) =>
  thrown instanceof WebAssembly.RuntimeError ||
  thrown instanceof HostTrap ||
  (thrown instanceof GuestError && (thrown.kind === 'trap' || thrown.kind === 'host' || thrown.kind === 'dead'));

/** @param {unknown} value */
const describe = (value) =>
  value === null ? 'null' : typeof value === 'object' ? Object.prototype.toString.call(value) : `${typeof value} ${String(value)}`;

/** The instance each HostCalls serves, so that a Guest made from the instance finds it. @type {WeakMap<WebAssembly.Instance, HostCalls>} */
const hostCallsOf = new WeakMap();

/**
 * The host side of one instance's host functions: the wasm imports that wrap them, the pending
 * message `guestmem.last_error` hands out, and which function is running (so that the Guest can
 * refuse calls the contract forbids there).
 */
class HostCalls {
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
        throw new HostTrap(label, `argument ${index + 1}: the guest passed ${describe(value)}, its signature says ${kind}`);
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
    if (result === 'string' && typeof value !== 'string') throw new HostTrap(label, `returned ${describe(value)}, its signature says string`);
    /** @type {Uint8Array} */
    let bytes;
    try {
      bytes = toBytes(/** @type {Input} */ (value));
    } catch {
      throw new HostTrap(label, `returned ${describe(value)}, its signature says bytes (a Uint8Array, an ArrayBuffer, a typed array or a string)`);
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
  throw new HostTrap(label, `returned ${describe(value)}, not an integer in the range of ${kind}`);
}

/** @param {number} len */
const alignUp = (len) => Math.ceil(len / INPUT_ALIGN) * INPUT_ALIGN;

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

/**
 * The imports a WASI implementation offers: `getImportObject()` (node:wasi), else its
 * `wasiImport` as `wasi_snapshot_preview1`.
 * @param {Wasi} wasi
 * @returns {WebAssembly.Imports}
 */
function wasiImports(wasi) {
  if (typeof wasi.getImportObject === 'function') return /** @type {WebAssembly.Imports} */ (wasi.getImportObject());
  if (wasi.wasiImport !== undefined) return { wasi_snapshot_preview1: wasi.wasiImport };
  throw new TypeError('the wasi option has neither getImportObject() nor wasiImport');
}

/**
 * `over` merged into `base`, one import module at a time: an entry of `over` wins.
 * @param {WebAssembly.Imports} base
 * @param {WebAssembly.Imports} over
 * @returns {WebAssembly.Imports}
 */
function mergeImports(base, over) {
  /** @type {WebAssembly.Imports} */
  const merged = { ...base };
  for (const [module, entries] of Object.entries(over)) merged[module] = { ...base[module], ...entries };
  return merged;
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
