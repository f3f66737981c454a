// Guests assembled by hand as bytes: hostile ones, which speak the ABI's shape but return
// pointers and lengths that lie, so the checks can plant the faults a host must survive
// (docs/ABI.md, "Results"); and small ones for what the example guests cannot show (the
// guestmem_NAME export rule, imports, WASI, an alloc that fails on the n-th call). No wat
// compiler is needed, in Node or in a browser.

const I32 = 0x7f;
const PAGE = 0x1_0000;

/** Opcodes used below (WebAssembly core spec, "Instructions"). */
export const op = Object.freeze({
  unreachable: 0x00,
  if: 0x04,
  else: 0x05,
  call: 0x10,
  drop: 0x1a,
  localGet: 0x20,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Load: 0x28,
  i32Store: 0x36,
  memoryGrow: 0x40,
  i32Const: 0x41,
  i32Eq: 0x46,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  end: 0x0b,
});

/** @param {number} value */
function uleb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** @param {number} value an i32 (or a u32, taken modulo 2^32) */
function sleb(value) {
  value |= 0;
  const out = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** `i32.const value` @param {number} value */
export const i32 = (value) => [op.i32Const, ...sleb(value)];
/** `local.get index` @param {number} index */
export const local = (index) => [op.localGet, ...uleb(index)];
/** `i32.store offset=0` (alignment hint 4 bytes) */
export const store32 = [op.i32Store, 0x02, 0x00];
/** `i32.load offset=0` (alignment hint 4 bytes) */
export const load32 = [op.i32Load, 0x02, 0x00];
/** `call index`: imported functions come first, then the module's own. @param {number} index */
export const call = (index) => [op.call, ...uleb(index)];

/** @param {string} text */
const name = (text) => {
  const bytes = new TextEncoder().encode(text);
  return [...uleb(bytes.length), ...bytes];
};

/** @param {number[][]} items */
const vec = (items) => [...uleb(items.length), ...items.flat()];

/** @param {number} id @param {number[]} contents */
const section = (id, contents) => [id, ...uleb(contents.length), ...contents];

/** The value type i64, for {@link Func} and {@link Import} `valueType`. */
export const I64 = 0x7e;

/**
 * A function of the module: `params` i32 parameters, `results` i32 results (0 or 1), a body without its
 * final `end`, and `locals` extra i32 locals; `valueType: I64` makes the parameters and results i64.
 * @typedef {{ name: string, params: number, results: number, body: number[], locals?: number, valueType?: number }} Func
 */

/**
 * An imported function, `(import "module" "name" (func (param i32 ...) (result i32)?))`, or i64
 * with `valueType: I64`.
 * @typedef {{ module: string, name: string, params: number, results: number, valueType?: number }} Import
 */

/**
 * Assembles a module that imports `imports` (function indices 0, 1, ...), and exports its
 * memory (`pages` 64 KiB pages) and `funcs` (the indices after the imports).
 * @param {{ pages?: number, imports?: Import[], funcs: Func[], globals?: number[], data?: { offset: number, bytes: number[] }[] }} spec
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function assemble({ pages = 1, imports = [], funcs, globals = [], data = [] }) {
  /** @param {{ params: number, results: number, valueType?: number }} f */
  const type = (f) => [0x60, ...vec(Array(f.params).fill([f.valueType ?? I32])), ...vec(Array(f.results).fill([f.valueType ?? I32]))];
  // One type per function: the module's own first, then the imports'.
  const types = [...funcs.map(type), ...imports.map(type)];
  const importEntries = imports.map((f, index) => [...name(f.module), ...name(f.name), 0x00, ...uleb(funcs.length + index)]);
  const exports = [
    [...name('memory'), 0x02, 0x00],
    ...funcs.map((f, index) => [...name(f.name), 0x00, ...uleb(imports.length + index)]),
  ];
  const code = funcs.map((f) => {
    const locals = f.locals ? vec([[...uleb(f.locals), I32]]) : vec([]);
    const body = [...locals, ...f.body, op.end];
    return [...uleb(body.length), ...body];
  });
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...(imports.length ? section(2, vec(importEntries)) : []),
    ...section(3, vec(funcs.map((_, index) => uleb(index)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...(globals.length ? section(6, vec(globals.map((init) => [I32, 0x01, ...i32(init), op.end]))) : []),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
    ...(data.length ? section(11, vec(data.map((d) => [0x00, ...i32(d.offset), op.end, ...vec(d.bytes.map((b) => [b]))]))) : []),
  ];
  return new Uint8Array(bytes);
}

/** u32 little-endian @param {number} value */
export const u32le = (value) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];

/** The globals of {@link hostileGuest}, by index, for the bodies of `extra` functions. */
export const GLOBALS = Object.freeze({
  /** The bump pointer. */
  bump: 0,
  /** Blocks handed out and not freed. */
  live: 1,
  /** The pending error: a result pointer or 0. */
  pending: 2,
  /** alloc calls so far. */
  allocs: 3,
  /** 1 once `_initialize` ran. */
  initialized: 4,
});

/** Where the fake heap starts; below it sit the canned result blocks. */
const HEAP_START = 0x4000;
/** A well-formed result block holding "boom", for `last_error` after a trap. */
export const BOOM_AT = 0x800;
/** A result block whose prefix claims `LIAR_LENGTH` bytes. */
export const LIAR_AT = 0x400;
/** A result block whose prefix claims 0xFFFF_FFFF bytes: `ptr + 4 + n` wraps in u32 arithmetic. */
export const WRAP_AT = 0x600;
export const LIAR_LENGTH = 0x7fff_0000;
/** The byte the fake guest's memory is full of where it planted its results, for wrong-read checks. */
export const SECRET = 0x5a;

/**
 * A guest with the whole ABI over a bump allocator that counts live blocks (so a check can see
 * that the host freed its inputs), plus lying functions. Options replace single exports.
 *
 * - `result_beyond()`: a result pointer past the end of memory;
 * - `result_straddles()`: a result whose 4-byte prefix crosses the end of memory;
 * - `result_liar(ptr, len)`: a prefix that claims far more bytes than memory has;
 * - `result_wraps(ptr, len)`: a prefix of 0xFFFF_FFFF, which wraps a u32 bounds check;
 * - `result_negative()`: 0xFFFF_FFF8 (a negative i32);
 * - `boom(ptr, len)`: traps, after recording "boom" for `last_error`;
 * - `grow_then_result(ptr, len)`: grows memory by a page and returns "ABC" from the new page;
 * - `not_utf8()`: a result holding 0xFF 0xFE;
 * - `fail()`: returns 0 after recording "nope" for `last_error`;
 * - `zero()`: returns the integer 0, a valid answer, without recording anything;
 * - `initialized()`: 1 once `_initialize` ran (exported with `options.initialize`), else 0.
 * @param {{
 *   alloc?: number[],
 *   allocFailsAt?: number,
 *   last_error?: number[],
 *   abi_version?: number,
 *   omit?: string[],
 *   prefixed?: string[],
 *   initialize?: boolean,
 *   imports?: Import[],
 *   extra?: Func[],
 * }} [options]
 *   `alloc`/`last_error`: replacement bodies; `allocFailsAt`: the n-th alloc (from 1) returns 0;
 *   `omit`: exports to leave out; `prefixed`: ABI exports named `guestmem_NAME`, with a plain
 *   `NAME` that traps beside them (as wasi-libc's `free` would do the wrong thing); `initialize`:
 *   export `_initialize`; `imports`, `extra`: more imports and functions (see {@link GLOBALS})
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function hostileGuest(options = {}) {
  const { bump, live, pending, allocs, initialized } = GLOBALS;
  /** @param {number} delta */
  const count = (delta) => [op.globalGet, live, ...i32(delta), op.i32Add, op.globalSet, live];
  // Freeing a canned result (below the heap) is not a block coming back: only heap blocks count.
  const uncount = [op.globalGet, live, ...local(0), ...i32(HEAP_START), op.i32GeU, op.i32Sub, op.globalSet, live];
  const bumpAlloc = [
    op.globalGet, bump,
    op.globalGet, bump, ...local(0), op.i32Add, ...i32(7), op.i32Add, ...i32(-8), op.i32And, op.globalSet, bump,
    ...count(1),
  ];
  const failingAlloc = (/** @type {number} */ n) => [
    op.globalGet, allocs, ...i32(1), op.i32Add, op.globalSet, allocs,
    op.globalGet, allocs, ...i32(n), op.i32Eq,
    op.if, I32, ...i32(0), op.else, ...bumpAlloc, op.end,
  ];
  /** @type {Func[]} */
  const funcs = [
    {
      name: 'alloc',
      params: 1,
      results: 1,
      body: options.alloc ?? (options.allocFailsAt === undefined ? bumpAlloc : failingAlloc(options.allocFailsAt)),
    },
    { name: 'dealloc', params: 2, results: 0, body: uncount },
    { name: 'free', params: 1, results: 0, body: uncount },
    { name: 'realloc', params: 2, results: 1, body: i32(0) },
    {
      name: 'last_error',
      params: 0,
      results: 1,
      body: options.last_error ?? [op.globalGet, pending, ...i32(0), op.globalSet, pending],
    },
    { name: 'abi_version', params: 0, results: 1, body: i32(options.abi_version ?? 1) },
    { name: 'live_blocks', params: 0, results: 1, body: [op.globalGet, live] },
    { name: 'result_beyond', params: 0, results: 1, body: i32(PAGE + 64) },
    { name: 'result_straddles', params: 0, results: 1, body: i32(PAGE - 2) },
    { name: 'result_liar', params: 2, results: 1, body: i32(LIAR_AT) },
    { name: 'result_wraps', params: 2, results: 1, body: i32(WRAP_AT) },
    { name: 'result_negative', params: 0, results: 1, body: i32(-8) },
    { name: 'boom', params: 2, results: 0, body: [...i32(BOOM_AT), op.globalSet, pending, op.unreachable] },
    {
      name: 'grow_then_result',
      params: 2,
      results: 1,
      body: [
        ...i32(1), op.memoryGrow, 0x00, op.drop,
        ...i32(PAGE), ...i32(3), ...store32,
        ...i32(PAGE + 4), ...i32(0x0043_4241), ...store32, // "ABC"
        ...count(1), // a result is a block handed out
        ...i32(PAGE),
      ],
    },
    { name: 'not_utf8', params: 0, results: 1, body: i32(0x700) },
    { name: 'fail', params: 0, results: 1, body: [...i32(0x900), op.globalSet, pending, ...i32(0)] },
    { name: 'zero', params: 0, results: 1, body: i32(0) },
    { name: 'initialized', params: 0, results: 1, body: [op.globalGet, initialized] },
    ...(options.initialize ? [{ name: '_initialize', params: 0, results: 0, body: [...i32(1), op.globalSet, initialized] }] : []),
    ...(options.extra ?? []),
  ].filter((f) => !(options.omit ?? []).includes(f.name));
  for (const abiName of options.prefixed ?? []) {
    const index = funcs.findIndex((f) => f.name === abiName);
    const original = funcs[index];
    funcs[index] = { ...original, name: `guestmem_${abiName}` };
    funcs.push({ ...original, body: [op.unreachable] });
  }
  return assemble({
    imports: options.imports,
    funcs,
    globals: [HEAP_START, 0, 0, 0, 0],
    data: [
      { offset: LIAR_AT, bytes: [...u32le(LIAR_LENGTH), ...Array(16).fill(SECRET)] },
      { offset: WRAP_AT, bytes: [...u32le(0xffff_ffff), ...Array(16).fill(SECRET)] },
      { offset: 0x700, bytes: [...u32le(2), 0xff, 0xfe] },
      { offset: BOOM_AT, bytes: [...u32le(4), ...new TextEncoder().encode('boom')] },
      { offset: 0x900, bytes: [...u32le(4), ...new TextEncoder().encode('nope')] },
    ],
  });
}

/**
 * Reads an unsigned LEB128 at `offset`. @param {Uint8Array} bytes @param {number} offset
 * @returns {[value: number, next: number]}
 */
function readUleb(bytes, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (offset >= bytes.length) throw new Error('truncated LEB128');
    const byte = bytes[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, offset];
  }
}

/**
 * A copy of a module whose memory may grow by at most `extraPages` pages past its initial size,
 * so that a host can watch `alloc` meet a refused `memory.grow` (a JS host cannot limit a memory
 * the module defines itself). Only a module that defines one 32-bit memory without a maximum is
 * accepted.
 * @param {Uint8Array} module
 * @param {number} extraPages
 * @returns {{ bytes: Uint8Array, initialPages: number, maxPages: number }}
 */
export function withMemoryMax(module, extraPages) {
  const out = [...module.subarray(0, 8)];
  let offset = 8;
  let found;
  while (offset < module.length) {
    const id = module[offset];
    const [size, start] = readUleb(module, offset + 1);
    const end = start + size;
    if (id === 5) {
      const [count, limitsAt] = readUleb(module, start);
      if (count !== 1 || module[limitsAt] !== 0x00) {
        throw new Error('withMemoryMax: expected one memory without a maximum');
      }
      const [initialPages] = readUleb(module, limitsAt + 1);
      found = { initialPages, maxPages: initialPages + extraPages };
      out.push(...section(5, [...uleb(1), 0x01, ...uleb(initialPages), ...uleb(found.maxPages)]));
    } else {
      out.push(...module.subarray(offset, end));
    }
    offset = end;
  }
  if (found === undefined) throw new Error('withMemoryMax: the module defines no memory');
  return { bytes: new Uint8Array(out), ...found };
}

/** Where {@link wasiGuest}'s `env_count` has `environ_sizes_get` write its two answers. */
const ENV_SIZES_AT = 0x100;

/**
 * A WASI reactor with the ABI of {@link hostileGuest}: it imports
 * `wasi_snapshot_preview1.environ_sizes_get` and `env.host_add`, and exports `_initialize`,
 * `initialized()`, `env_count()` (the count environ_sizes_get reports; an errno traps) and
 * `add_via_host(a, b)`.
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function wasiGuest() {
  return hostileGuest({
    initialize: true,
    imports: [
      { module: 'wasi_snapshot_preview1', name: 'environ_sizes_get', params: 2, results: 1 },
      { module: 'env', name: 'host_add', params: 2, results: 1 },
    ],
    extra: [
      {
        name: 'env_count',
        params: 0,
        results: 1,
        body: [
          ...i32(ENV_SIZES_AT), ...i32(ENV_SIZES_AT + 4), ...call(0),
          op.if, 0x40, op.unreachable, op.end,
          ...i32(ENV_SIZES_AT), ...load32,
        ],
      },
      { name: 'add_via_host', params: 2, results: 1, body: [...local(0), ...local(1), ...call(1)] },
    ],
  });
}
