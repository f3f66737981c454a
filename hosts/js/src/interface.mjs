// The interface section (docs/ABI.md, "Interface section"): its reader, the describe text, and
// the facts of each kind that calls and host functions use.

import { decoder, hex, U32_MAX } from './bytes.mjs';
import { GuestError } from './errors.mjs';

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
export const BLOCK_KINDS = new Set(['bytes', 'string', 'json', 'postcard']);
/** Results `callString` reads. @type {ReadonlySet<Kind>} */
export const TEXT_KINDS = new Set(['string', 'json']);
/** Results `callU32` reads: what an `i32` holds. @type {ReadonlySet<Kind>} */
export const U32_KINDS = new Set(['u8', 'u16', 'u32', 'i8', 'i16', 'i32']);
/** Integer kinds, with their range. @type {ReadonlyMap<Kind, readonly [number, number]>} */
export const INTEGER_RANGES = new Map([
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
 *   kind this host does not know, a name that is not UTF-8, or an argument of kind `none` or
 *   owned but not `bytes`
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
      const argKind = kind(value & ~OWNED, `(argument \`${argName}\` of ${name})`);
      const owned = (value & OWNED) !== 0;
      // No argument is `none`, and only bytes can be owned (docs/ABI.md, "Owned arguments").
      if (argKind === 'none' || (owned && argKind !== 'bytes')) malformed(`argument \`${argName}\` cannot be of kind ${hex(value)}`);
      args.push(Object.freeze({ name: argName, kind: argKind, owned }));
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
 * The interface as text, one line per function, exports first, as every host's describe prints
 * it (testdata/sections.json holds the cases): `export upper(text: string) -> string`,
 * `import env.log(line: string) -> none`, a `, fallible` suffix, `data: owned bytes`.
 * @param {Interface} described
 * @returns {string}
 */
export function describeInterface(described) {
  return [...described.exports, ...described.imports].map((fn) => `${describeFunction(fn)}\n`).join('');
}

/** One function's line of {@link describeInterface}, without its newline. @param {InterfaceFunction} fn */
export function describeFunction(fn) {
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
export function wasmType(params, result, fallible) {
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
export const wasmArity = (kind) => (BLOCK_KINDS.has(kind) ? 2 : kind === 'none' ? 0 : 1);
