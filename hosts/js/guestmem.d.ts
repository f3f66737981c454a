// Types of guestmem-host (guestmem.mjs), written by hand; harness/js/host-types.check.ts checks
// them against the module's JSDoc. The contract is docs/ABI.md (ABI version 1).
// `WebAssembly`, `Response`, `Blob` and `BufferSource` come from TypeScript's `dom` lib.

/** The ABI version this host speaks (docs/ABI.md). */
export declare const ABI_VERSION: 1;

/** Exports every guestmem guest has (docs/ABI.md, "Exports"), each found by {@link abiExportName}. */
export declare const REQUIRED_EXPORTS: readonly string[];

/** The longest input block a Guest keeps between calls unless told otherwise (64 KiB). */
export declare const DEFAULT_REUSE_INPUT_BYTES: number;

/**
 * What went wrong, as a word a program can branch on:
 * - `error`: the guest returned 0 (failure); `reason` is its `last_error` message, if any.
 * - `trap`: the guest trapped; `reason` is the reason it recorded, if any. The instance is dead.
 * - `dead`: a call on an instance that trapped earlier.
 * - `alloc`: `alloc` (or `realloc`) returned 0 for an input.
 * - `bounds`: a pointer or length from the guest lies outside its memory; nothing was read or
 *   written there.
 * - `utf8`: a result asked for as a string is not valid UTF-8.
 * - `abi`: the module is not a guestmem guest (missing exports, wrong `abi_version`, a WASI command).
 */
export type GuestErrorKind = 'error' | 'trap' | 'dead' | 'alloc' | 'bounds' | 'utf8' | 'abi';

/** An error raised by a guest, or by this host on the guest's behalf. */
export declare class GuestError extends Error {
  constructor(message: string, details: { kind: GuestErrorKind; export?: string; reason?: string; cause?: unknown });
  readonly kind: GuestErrorKind;
  /** The guest export that was being called, when there was one. */
  readonly export: string | undefined;
  /** The guest's own message (`last_error`), when it gave one. */
  readonly reason: string | undefined;
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

export type GuestOptions = {
  /**
   * Inputs of a call that fit in this many bytes (default {@link DEFAULT_REUSE_INPUT_BYTES}) go
   * into one block the Guest keeps between calls; 0 allocates and frees every input on every call.
   */
  reuseInputBytes?: number;
};

export type InstantiateOptions = GuestOptions & {
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

/** A running guest instance and the host side of the ABI. */
export declare class Guest {
  /**
   * Compiles and instantiates a guest, runs its WASI reactor initialisation (`_initialize`, through
   * `options.wasi` when given), then checks it is a guestmem guest of ABI version 1.
   * @throws {GuestError} `abi` when it is not (a WASI command, which exports `_start`, is not)
   * @throws {TypeError} for an option it does not know: imports go in `{ imports }`
   */
  static instantiate(source: GuestSource | PromiseLike<GuestSource>, options?: InstantiateOptions): Promise<Guest>;

  /**
   * Wraps an instance that is already there (and initialised, for a WASI reactor).
   * @throws {GuestError} `abi` when it is not a guestmem guest of ABI version 1
   */
  constructor(instance: WebAssembly.Instance, options?: GuestOptions);

  instance: WebAssembly.Instance;
  /** The guest's linear memory. Never keep a view of `memory.buffer` across a call. */
  memory: WebAssembly.Memory;
  /** The raw exports, unchecked: for tests and for functions this class does not wrap. */
  get exports(): WebAssembly.Exports;
  /** Whether the guest trapped: a trapped guest only throws; instantiate a fresh one. */
  get trapped(): boolean;

  /**
   * Calls a guest function that returns a result block, and returns a copy of its bytes. Inputs
   * are copied in, passed as `(ptr, len)` and freed (or kept for reuse) afterwards.
   * @throws {GuestError} `error` when the guest returns 0, `trap`, `bounds`, `alloc`, `dead`
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
