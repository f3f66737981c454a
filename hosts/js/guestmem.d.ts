// Types of guestmem-host (guestmem.mjs), written by hand; test/host-types.check.ts checks them
// against the modules' JSDoc. The contract is docs/ABI.md (ABI version 1).
// `WebAssembly`, `Response`, `Blob` and `BufferSource` come from TypeScript's `dom` lib.

/** The ABI version this host speaks (docs/ABI.md). */
export declare const ABI_VERSION: 1;

/** Exports every guestmem guest has (docs/ABI.md, "Exports"), each found by {@link abiExportName}. */
export declare const REQUIRED_EXPORTS: readonly string[];

/** The longest input block a Guest keeps between calls unless told otherwise (64 KiB). */
export declare const DEFAULT_REUSE_INPUT_BYTES: number;
/** The longest result payload a Guest reads unless told otherwise (256 MiB). */
export declare const DEFAULT_RESULT_CAP: number;

/**
 * What went wrong, as a word a program can branch on:
 * - `error`: the guest returned 0 (failure); `reason` is its `last_error` message, if any.
 * - `trap`: the guest trapped; `reason` is the reason it recorded, if any. The instance is dead.
 * - `host`: a host function the guest called failed where the guest cannot be told (it threw
 *   without being `fallible`, returned what its signature does not allow, or made a call the
 *   contract refuses); `hostFunction` names it, `reason` is its message. The guest call trapped:
 *   the instance is dead.
 * - `dead`: a call on an instance that trapped earlier.
 * - `alloc`: `alloc` (or `realloc`) returned 0 for an input.
 * - `bounds`: a pointer or length from the guest lies outside its memory, or a result pointer is
 *   not a multiple of 8; nothing was read or written there.
 * - `utf8`: a result asked for as a string is not valid UTF-8.
 * - `decode`: a `json` result does not parse.
 * - `call`: the call does not fit what the guest's interface section says of the export (the
 *   number of arguments, their types, text that is not UTF-8, a result read as what it is not);
 *   it was refused before the guest ran.
 * - `interface`: the guest's `guestmem.interface` section is malformed, or describes exports
 *   the module does not have.
 * - `abi`: the module is not a guestmem guest (missing exports, wrong `abi_version`, a WASI command).
 * - `busy`: a pool checkout found every instance out for its whole timeout (the Rust host's
 *   `PoolError::Busy`); no guest ran.
 */
export type GuestErrorKind =
  | 'error'
  | 'trap'
  | 'host'
  | 'dead'
  | 'alloc'
  | 'bounds'
  | 'utf8'
  | 'decode'
  | 'call'
  | 'interface'
  | 'abi'
  | 'busy';

/** An error raised by a guest, or by this host on the guest's behalf. */
export declare class GuestError extends Error {
  constructor(
    message: string,
    details: { kind: GuestErrorKind; export?: string; reason?: string; hostFunction?: string; cause?: unknown },
  );
  readonly kind: GuestErrorKind;
  /** The guest export that was being called, when there was one. */
  readonly export: string | undefined;
  /** The guest's own message (`last_error`), or the host function's (`host`). */
  readonly reason: string | undefined;
  /** The host function that failed (`host`), as `module.name`. */
  readonly hostFunction: string | undefined;
}

/** A block of guest memory: the pointer and the length it was allocated with. */
export type Block = { readonly ptr: number; readonly len: number };

/** An input for the guest: bytes are copied as they are, a string as UTF-8. */
export type Input = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** An argument of a guest call: an {@link Input} becomes `(ptr, len)`, a number one `i32`. */
export type Arg = Input | number;

/**
 * Where a guest's code comes from: its bytes, a compiled module, a `Response` (or a promise of
 * one, such as `fetch(url)`), a `Blob`/`File`, or a path or URL (read from disk in Node, fetched
 * in a browser).
 */
export type GuestSource = BufferSource | WebAssembly.Module | Response | PromiseLike<Response> | Blob | string | URL;

/**
 * A WASI implementation with the shape of Node's `node:wasi` `WASI` (and of browser polyfills
 * such as @bjorn3/browser_wasi_shim): its imports, and `initialize` for a reactor.
 */
export type Wasi = {
  initialize(instance: WebAssembly.Instance): unknown;
  getImportObject?: () => object;
  wasiImport?: WebAssembly.ModuleImports;
};

/**
 * The kind of one argument of a host function, as the guest declares it in `guestmem::import!`:
 * `bytes` (`&[u8]`: the function gets a `Uint8Array`, a copy it may keep), `string` (`&str`:
 * a string, decoded as UTF-8), `u32` and `i32` (`number`), `u64` and `i64` (`bigint`).
 */
export type HostParam = 'bytes' | 'string' | 'u32' | 'i32' | 'u64' | 'i64';

/**
 * What a host function returns, as the guest declares it: `bytes` (`Vec<u8>`: bytes or a string,
 * written into a result block from the guest's `alloc`), `string` (`String`), an integer (a
 * `number` or a `bigint`), or `none`.
 */
export type HostResult = HostParam | 'none';

/**
 * The shape of a host function (docs/ABI.md, "Host functions"): a plain object, the same one
 * the guest's declaration describes.
 */
export type HostSignature = {
  /** Its arguments, in order (default: none). */
  params?: readonly HostParam[];
  /** What it returns (default `none`). */
  result?: HostResult;
  /**
   * Whether it can fail (a `Result` in the guest): a throw is then a failure whose message the
   * guest reads, and `none` returns `1` or `0`. Without it a throw traps the guest call.
   */
  fallible?: boolean;
};

/** The value a host function receives for an argument of kind `K`. */
export type HostValue<K> = K extends 'bytes' ? Uint8Array : K extends 'string' ? string : K extends 'u32' | 'i32' ? number : bigint;

/** The arguments a host function of signature `S` receives. */
export type HostArgs<S extends HostSignature> = S extends { readonly params: infer P extends readonly HostParam[] }
  ? { -readonly [I in keyof P]: HostValue<P[I]> }
  : [];

/** What a host function of signature `S` may return. */
export type HostReturn<S extends HostSignature> = S extends { readonly result: 'bytes' }
  ? Input
  : S extends { readonly result: 'string' }
    ? string
    : S extends { readonly result: 'u32' | 'i32' | 'u64' | 'i64' }
      ? number | bigint
      : void;

/** A host function: its signature, and the JavaScript function that implements it. */
export type HostFunction = { readonly signature: HostSignature; readonly implementation: (...args: any[]) => unknown };

/** Host functions by import module and name: `{ env: { salutation: hostFunction(...) } }`. */
export type HostFunctions = Record<string, Record<string, HostFunction>>;

/**
 * A host function: `implementation`, called with the arguments `signature` describes, for a
 * guest that declares the same function in `guestmem::import!`. Pass it in
 * `Guest.instantiate(source, { functions: { env: { NAME: ... } } })`.
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
 * @throws {TypeError} when the signature is not one
 */
export declare function hostFunction<const S extends HostSignature>(
  signature: S,
  implementation: (...args: HostArgs<S>) => HostReturn<S>,
): HostFunction;

/**
 * The kind of an argument or a result in a guest's interface section (docs/ABI.md, "Interface
 * section"): `bytes`, `string` (UTF-8), `json` and `postcard` travel as bytes; the integers and
 * floats as wasm values; `none` is no result.
 */
export type Kind =
  | 'none'
  | 'bytes'
  | 'string'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'i8'
  | 'i16'
  | 'i32'
  | 'i64'
  | 'f32'
  | 'f64'
  | 'json'
  | 'postcard';

/**
 * One argument of a described function; `owned` when the guest takes its block (docs/ABI.md,
 * "Owned arguments").
 */
export type InterfaceArgument = { readonly name: string; readonly kind: Kind; readonly owned: boolean };

/**
 * One function of a guest's interface: an export (`module` undefined), or a host function it
 * imports from `module`. `fallible` when it fails with `0` and a message (a `Result` in Rust).
 */
export type InterfaceFunction = {
  readonly module: string | undefined;
  readonly name: string;
  readonly args: readonly InterfaceArgument[];
  readonly result: Kind;
  readonly fallible: boolean;
};

/** What a guest's `guestmem.interface` section says it exports and imports, in section order. */
export type Interface = { readonly exports: readonly InterfaceFunction[]; readonly imports: readonly InterfaceFunction[] };

/** The custom section in which a guest built with guestmem's macros describes its functions. */
export declare const INTERFACE_SECTION: 'guestmem.interface';

/**
 * The interface a compiled module describes: its `guestmem.interface` sections, read in order
 * and concatenated (a linker may leave one per object file), or `undefined` when it has none
 * (a guest built without guestmem's macros). `Guest.instantiate` calls it for you.
 * @throws {GuestError} `interface` when the section is malformed
 */
export declare function readInterface(module: WebAssembly.Module): Interface | undefined;

/**
 * Parses the contents of a `guestmem.interface` section: entries one after the other. Another
 * version, direction or kind than docs/ABI.md lists is an error, never a guess.
 * @throws {GuestError} `interface` when an entry is cut short, or has a version, direction or
 *   kind this host does not know, a name that is not UTF-8, or an argument of kind `none` or
 *   owned but not `bytes`
 */
export declare function parseInterface(contents: BufferSource): Interface;

/**
 * The interface as text, one line per function, exports first, as every host's describe prints
 * it (testdata/sections.json holds the cases): `export upper(text: string) -> string`,
 * `import env.log(line: string) -> none`, a `, fallible` suffix, `data: owned bytes`.
 */
export declare function describeInterface(described: Interface): string;

/** The value type of a Postcard schema. */
export type PostcardValue<P> = P extends Postcard<infer T> ? T : never;

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
 */
export declare class Postcard<T> {
  #private;
  /** Made by the static members only. */
  private constructor();
  /**
   * The bytes of `value`.
   * @throws {TypeError} when `value` is not of the schema's type, or out of its range
   */
  encode(value: T): Uint8Array;
  /**
   * The value `bytes` hold; every byte must be used.
   * @throws {Error} when the bytes end early, are left over, or hold what the schema does not
   */
  decode(bytes: Uint8Array): T;
  /** A struct: its fields in order, with no names on the wire. */
  static struct<F extends Record<string, Postcard<any>>>(fields: F): Postcard<{ [K in keyof F]: PostcardValue<F[K]> }>;
  /** A sequence (`Vec<T>`, a slice): a varint count, then the items. */
  static seq<I>(item: Postcard<I>): Postcard<I[]>;
  /** An `Option<T>`: `0` for `None` (`undefined`), `1` then the value. */
  static option<I>(item: Postcard<I>): Postcard<I | undefined>;
  /** `bool`: one byte, 0 or 1. */
  static bool: Postcard<boolean>;
  /** `u8`: one byte. */
  static u8: Postcard<number>;
  /** `i8`: one byte, two's complement. */
  static i8: Postcard<number>;
  /** `u16`: a varint. */
  static u16: Postcard<number>;
  /** `i16`: zigzag, then a varint. */
  static i16: Postcard<number>;
  /** `u32`: a varint of up to 5 bytes. */
  static u32: Postcard<number>;
  /** `i32`: zigzag, then a varint. */
  static i32: Postcard<number>;
  /** `u64`: a varint of up to 10 bytes, as a bigint. */
  static u64: Postcard<bigint>;
  /** `i64`: zigzag, then a varint, as a bigint. */
  static i64: Postcard<bigint>;
  /** `f32`: 4 bytes, little-endian. */
  static f32: Postcard<number>;
  /** `f64`: 8 bytes, little-endian. */
  static f64: Postcard<number>;
  /** `String`, `&str`: a varint length, then UTF-8. */
  static string: Postcard<string>;
  /** `Vec<u8>`, `&[u8]`: a varint length, then the bytes. */
  static bytes: Postcard<Uint8Array>;
}

export type GuestOptions = {
  /**
   * Inputs of a call that fit in this many bytes (default {@link DEFAULT_REUSE_INPUT_BYTES}) go
   * into one block the Guest keeps between calls; 0 allocates and frees every input on every call.
   */
  reuseInputBytes?: number;
  /**
   * The longest result payload read (default {@link DEFAULT_RESULT_CAP}); a longer result block
   * is freed unread and the call fails with a `bounds` GuestError.
   */
  resultCap?: number;
  /**
   * The interface the Guest enforces and builds `guest.exports` from: by default
   * `Guest.instantiate` reads the module's section ({@link readInterface}) and `new Guest` has
   * none; `null` ignores the section (every call unchecked, every argument passed borrowed).
   */
  interface?: Interface | null;
};

export type InstantiateOptions = GuestOptions & {
  /**
   * Host functions the guest imports through `guestmem::import!`, each made with
   * {@link hostFunction}; `guestmem.last_error` comes with them.
   */
  functions?: HostFunctions;
  /** What the guest imports; merged over the WASI imports, module by module (these win). */
  imports?: WebAssembly.Imports;
  /**
   * A WASI instance (`new WASI({ version: 'preview1' })` from `node:wasi`) whose imports are given
   * to the guest and whose `initialize` runs the guest's `_initialize`.
   */
  wasi?: Wasi;
};

/**
 * The export that implements ABI export `name`: `guestmem_NAME` when the module exports it
 * (wasm32-wasip1 guests, whose `free` and `realloc` would clash with wasi-libc's), else `NAME`;
 * `undefined` when it has neither.
 */
export declare function abiExportName(exports: WebAssembly.Exports, name: string): string | undefined;

/**
 * A running guest instance and the host side of the ABI. `E` is the type of
 * {@link Guest.exports}: the `Exports` that `guestmem describe --typescript` writes for the
 * guest's module (`Guest.instantiate<Exports>(...)`), `any` without one.
 */
export declare class Guest<E extends object = any> {
  /**
   * Compiles and instantiates a guest, runs its WASI reactor initialisation (`_initialize`, through
   * `options.wasi` when given), then checks it is a guestmem guest of ABI version 1. Its
   * `guestmem.interface` section, if it has one, is read and enforced (unless
   * `options.interface` says otherwise).
   * @throws {GuestError} `abi` when it is not (a WASI command, which exports `_start`, is not),
   *   `interface` when its interface section is malformed or does not match its exports
   * @throws {TypeError} for an option it does not know (imports go in `{ imports }`), or a host
   *   function that is not one (see {@link hostFunction})
   */
  static instantiate<X extends object = any>(
    source: GuestSource | PromiseLike<GuestSource>,
    options?: InstantiateOptions,
  ): Promise<Guest<X>>;

  /**
   * Wraps an instance that is already there (and initialised, for a WASI reactor). It enforces
   * the interface given in `options.interface` (`readInterface(module)`), and none without it.
   * @throws {GuestError} `abi` when it is not a guestmem guest of ABI version 1, `interface` when
   *   the interface describes an export the instance does not have, or with other wasm arguments
   */
  constructor(instance: WebAssembly.Instance, options?: GuestOptions);

  instance: WebAssembly.Instance;
  /** The guest's linear memory. Never keep a view of `memory.buffer` across a call. */
  memory: WebAssembly.Memory;
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
   */
  get exports(): E;
  /** The interface the Guest enforces, or `undefined` without one. */
  get interface(): Interface | undefined;
  /** Whether the guest trapped: a trapped guest only throws; instantiate a fresh one. */
  get trapped(): boolean;

  /**
   * Calls a guest function that returns a result block, and returns a copy of its bytes. Inputs
   * are copied in, passed as `(ptr, len)` and freed (or kept for reuse) afterwards. With an
   * interface, this and the other call methods check the call against it first, and pass owned
   * arguments owned.
   * @throws {GuestError} `error` when the guest returns 0, `trap`, `bounds`, `alloc`, `dead`;
   *   `call` when the interface rules the call out
   */
  callBytes(name: string, ...args: Arg[]): Uint8Array;
  /** Like {@link Guest.callBytes}, decoded as UTF-8 (`utf8` error when it is not). */
  callString(name: string, ...args: Arg[]): string;
  /**
   * Calls a guest function that returns a result block and lends its bytes to `read` in place,
   * without a copy. The view is valid only while `read` runs: the block is freed when `read`
   * returns or throws, so copy (`view.slice()`) whatever must outlive it. `read` must not call
   * into this guest (that throws).
   */
  callView<T>(name: string, ...argsThenRead: [...args: Arg[], read: (view: Uint8Array) => T]): T;
  /**
   * Calls a guest function that returns a u32. An error left pending by an earlier call is
   * cleared first; a 0 is a failure only if the guest then left an error in `last_error`.
   */
  callU32(name: string, ...args: Arg[]): number;

  /**
   * Frees the block the Guest keeps for inputs between calls, if it has one. liveBlocks() and
   * heapBytes() leave that block out either way.
   */
  releaseInputBlock(): void;

  /** Allocates a block and copies `input` into it; free it with {@link Guest.dealloc}. */
  alloc(input: Input): Block;
  /** `dealloc(ptr, len)`: the guest checks the length. */
  dealloc(block: Block): void;
  /** `free(ptr)`. */
  free(ptr: number): void;
  /** `realloc(ptr, newLen)`; on `alloc` error the old block is still live. */
  realloc(block: Block, newLen: number): Block;
  /** Takes (and clears) the pending error message, or `undefined`. */
  lastError(): string | undefined;
  /** Blocks handed out and not freed, without the Guest's own input block; `undefined` without `stats`. */
  liveBlocks(): number | undefined;
  /** Bytes allocated through the guest's allocator, without the input block's; `undefined` without `stats`. */
  heapBytes(): number | undefined;
  /** Copies `len` bytes out of guest memory, after checking they lie inside it. */
  read(ptr: number, len: number): Uint8Array;
  /** Copies a result block out, then frees it with `dealloc(ptr, n + 4)`. */
  takeResult(ptr: number, from?: string): Uint8Array;
}

/** The most instances a pool keeps unless told otherwise (16). */
export declare const DEFAULT_MAX_INSTANCES: number;

/**
 * Why an instance was recycled (dropped, a fresh one made in its place when needed), as the Rust
 * host's `RecycleCause` names it: `trap` (a call trapped: a GuestError of kind `trap`, `host` or
 * `dead`, or the guest is `trapped` after the call), `timeout` (never in JavaScript, which has no
 * deadlines), `memory` (linear memory above `recycleAbovePages` after a call), `calls` (the
 * `recycleAfterCalls` quota), `demand` (`lease.recycle()`).
 */
export type RecycleCause = 'trap' | 'timeout' | 'memory' | 'calls' | 'demand';

/** Settings of a {@link Pool}. */
export type PoolOptions = {
  /** At most this many instances alive at once, idle or checked out (default 16). */
  maxInstances?: number;
  /** Recycle an instance whose linear memory is more than this many 64 KiB pages after a call. */
  recycleAbovePages?: number;
  /** Recycle an instance after it served this many calls. */
  recycleAfterCalls?: number;
  /**
   * What each new instance is instantiated with, as for `Guest.instantiate`; a function is called
   * for every new instance (a `wasi` needs one each). The module's interface section is read once.
   */
  instanceOptions?: InstantiateOptions | (() => InstantiateOptions);
};

/** Settings of {@link Pool.create}. */
export type PoolCreateOptions = PoolOptions & {
  /** Instances made before `Pool.create` resolves (default 0). */
  prewarm?: number;
};

/** Settings of a checkout. */
export type CheckoutOptions = {
  /** How long to wait for an instance when all are out, in milliseconds (default: as long as it takes); 0 does not wait. */
  timeout?: number;
};

/** Instances recycled, by cause. */
export type Recycles = { trap: number; timeout: number; memory: number; calls: number; demand: number };

/** One live instance. */
export type InstanceMetrics = {
  /** Its number in the pool: 1 for the first made, counting up. */
  id: number;
  /** Linear memory after its last call, in 64 KiB pages. */
  memoryPages: number;
  /** The most linear memory seen after a call, in 64 KiB pages. */
  peakMemoryPages: number;
  /** Calls it served through `lease.call`. */
  calls: number;
  /** Whether it is checked out. */
  checkedOut: boolean;
};

/** A snapshot of a pool's counters: the Rust host's `PoolMetrics`, in camelCase. */
export type PoolMetrics = {
  /** Instances alive: idle, checked out, or being made. */
  live: number;
  /** Instances waiting in the pool. */
  idle: number;
  /** The most instances the pool makes. */
  maxInstances: number;
  /** Instances made (the first ones and every replacement). */
  created: number;
  /** Checkouts that got an instance. */
  checkouts: number;
  /** Checkouts that found every instance out and waited, whether they got one or not. */
  waits: number;
  /** The time those checkouts waited, in all, in milliseconds. */
  waitTime: number;
  /** Checkouts that waited in vain (a `busy` GuestError). */
  busy: number;
  /** Calls made through `lease.call`. */
  calls: number;
  /** Those that trapped. */
  traps: number;
  /** Always 0: JavaScript calls have no deadline. */
  timeouts: number;
  /** Instances recycled, by cause. */
  recycles: Recycles;
  /** The instances alive, idle or checked out, oldest first. */
  instances: InstanceMetrics[];
};

/**
 * Up to `maxInstances` instances of one module for any number of async callers: `checkout` hands
 * out an idle instance, makes one while fewer than the maximum are alive, or waits (first come,
 * first served) for one to come back. No deadlines: a synchronous wasm call cannot be interrupted.
 */
export declare class Pool {
  /** Compiles `source` once and makes a pool of its instances, `prewarm` of them up front. */
  static create(source: GuestSource | PromiseLike<GuestSource>, options?: PoolCreateOptions): Promise<Pool>;
  /**
   * A pool of `module`'s instances; none is made until a checkout needs one.
   * @throws {GuestError} `interface` when the module's interface section is malformed
   */
  constructor(module: WebAssembly.Module, options?: PoolOptions);
  /**
   * An instance for the caller alone until `lease.release()`: an idle one, a new one, or the
   * first one given back within `timeout` ms.
   * @throws {GuestError} `busy` when none came back in time
   */
  checkout(options?: CheckoutOptions): Promise<PooledGuest>;
  /** Checks an instance out, runs `fn(lease)`, and releases the lease however `fn` ends. */
  use<T>(fn: (lease: PooledGuest) => T | PromiseLike<T>, options?: CheckoutOptions): Promise<T>;
  /** The counters so far, and every live instance's: a plain object, a copy. */
  metrics(): PoolMetrics;
}

/**
 * An instance checked out of a {@link Pool} (a lease), the holder's alone until `release()`.
 * Calls through `call` are counted and judged; `guest` is the instance for everything else.
 */
export declare class PooledGuest {
  private constructor(pool: Pool, slot: unknown, token: symbol);
  /**
   * Runs `fn(guest)` (sync or async), counts the call and judges it: the instance is recycled
   * after a trap, above `recycleAbovePages`, or at `recycleAfterCalls`; the next call on this
   * lease then runs on a fresh instance. One call at a time per lease.
   */
  call<T>(fn: (guest: Guest) => T | PromiseLike<T>): Promise<T>;
  /** The instance the last call ran on (a condemned one until the next `call` replaces it). */
  readonly guest: Guest;
  /** The instance's number in the pool (1 for the first made); a replacement has a new one. */
  readonly instanceId: number;
  /** Calls the instance has served through `call`, in this lease and earlier ones. */
  readonly calls: number;
  /** Why the instance will be dropped at the next call or at `release`, if it will. */
  readonly recycleCause: RecycleCause | undefined;
  /** Whether the lease was released (or recycled). */
  readonly released: boolean;
  /** Gives the instance back, or drops it if it was condemned; a second release does nothing. */
  release(): void;
  /** Drops the instance instead of giving it back, and releases the lease. */
  recycle(): void;
}
