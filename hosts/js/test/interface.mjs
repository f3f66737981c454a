// Self-describing modules and typed values under the JavaScript host, as harness/src/checks/interface.rs
// checks them under the Rust host: every guest's `guestmem.interface` section against what the
// module really exports and imports, the reader on hand-made sections, calls the section rules
// out refused before the guest runs, `guest.exports`, and the `shapes` example's structs in and
// out as JSON and postcard (the Postcard schemas against byte vectors of the format, and the
// guest's own Rust encoder).

import { describeInterface, Guest, GuestError, hostFunction, parseInterface, Postcard, readInterface } from 'guestmem-host';
import { GLOBALS, hostileGuest, I64, i32, local, op } from './hostile.mjs';
import { CheckFailed, equal, lcg, ok, raw, stats, throwsGuest } from './support.mjs';
import { fromHex, sectionCase } from './testdata.mjs';

/** @typedef {import('./support.mjs').Check} Check */
/** @typedef {import('./types/upper.js').Exports} UpperExports */
/** @typedef {import('./types/greet.js').Exports} GreetExports */
/** @typedef {import('./types/shapes.js').Exports} ShapesExports */

/** What describe prints for some guests: their sections' text, from testdata/sections.json. */
export const EXPECTED_TEXT = Object.freeze({
  upper: describeText('upper'),
  greet: describeText('greet'),
  shapes: describeText('shapes'),
});

/**
 * The describe text of the case of testdata/sections.json named `name`.
 * @param {string} name
 * @returns {string}
 */
function describeText(name) {
  const found = sectionCase(name);
  if (!('describe' in found)) throw new Error(`testdata/sections.json: ${name} is an error case`);
  return found.describe;
}

/** Exports every guest has that are the ABI's, not the author's. */
const ABI_EXPORTS = new Set([
  'alloc',
  'dealloc',
  'free',
  'realloc',
  'guestmem_free',
  'guestmem_realloc',
  'last_error',
  'abi_version',
  'live_blocks',
  'heap_bytes',
  '_initialize',
]);

/** Import modules that are not host functions the guest declares. */
const NOT_DESCRIBED_IMPORTS = new Set(['guestmem', 'wasi_snapshot_preview1']);

const encoder = new TextEncoder();

/** @param {Uint8Array} bytes */
const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/** @param {Uint8Array} bytes a module's */
const compile = (bytes) => WebAssembly.compile(/** @type {BufferSource} */ (bytes));

/** @param {string} text */
const lines = (text) => new Set(text.split('\n').filter((line) => line !== ''));

/**
 * @param {Set<string>} actual
 * @param {Set<string>} expected
 * @param {string} what
 */
function sameSet(actual, expected, what) {
  const missing = [...expected].filter((item) => !actual.has(item));
  const extra = [...actual].filter((item) => !expected.has(item));
  if (missing.length > 0 || extra.length > 0) {
    throw new CheckFailed(`${what}: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)}`);
  }
}

/**
 * A deep comparison through a canonical text (bigints and Uint8Arrays spelled out).
 * @param {unknown} actual
 * @param {unknown} expected
 * @param {string} what
 */
function sameValue(actual, expected, what) {
  const canonical = (/** @type {unknown} */ value) =>
    JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? `${item}n` : item instanceof Uint8Array ? `bytes ${toHex(item)}` : item));
  equal(canonical(actual), canonical(expected), what);
}

/**
 * Runs `action`, which must throw an Error of class `type` whose message contains `words`.
 * @param {() => unknown} action
 * @param {new (...args: any[]) => Error} type
 * @param {string} words
 * @param {string} what
 */
function throwsWith(action, type, words, what) {
  try {
    action();
  } catch (error) {
    ok(error instanceof type, `${what}: threw ${error}, expected a ${type.name}`);
    ok(/** @type {Error} */ (error).message.includes(words), `${what}: the message ${JSON.stringify(/** @type {Error} */ (error).message)} lacks ${JSON.stringify(words)}`);
    return;
  }
  throw new CheckFailed(`${what}: did not throw, expected a ${type.name} with ${JSON.stringify(words)}`);
}

/**
 * How many wasm parameters an export of these argument kinds has (docs/ABI.md, "Interface section").
 * @param {import('guestmem-host').InterfaceFunction} fn
 */
const wasmParams = (fn) =>
  fn.args.reduce((count, arg) => count + (['bytes', 'string', 'json', 'postcard'].includes(arg.kind) ? 2 : 1), 0);

/**
 * Imports that let any module instantiate without running it: each imported function returns 0.
 * @param {WebAssembly.Module} module
 * @returns {WebAssembly.Imports}
 */
function stubImports(module) {
  /** @type {Record<string, Record<string, () => number>>} */
  const imports = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.kind === 'function') (imports[entry.module] ??= {})[entry.name] = () => 0;
  }
  return imports;
}

// ---- every guest's section -----------------------------------------------------------------------

/**
 * The section of the module built as `name` against what it exports and imports: a guest built
 * without the macros has no section, and then no author's exports or imports either. Where
 * EXPECTED_TEXT has the guest, the section's text too, as a set of lines (the linker orders the
 * entries). Each described export has the wasm parameters its kinds make.
 * @param {string} name
 * @param {Uint8Array} bytes
 * @returns {Check}
 */
export function sectionCheck(name, bytes) {
  return {
    name: `${name}: its interface section = its exports and imports`,
    run: async () => {
      const module = await compile(bytes);
      const described = readInterface(module);
      const exported = new Set(
        WebAssembly.Module.exports(module)
          .filter((entry) => entry.kind === 'function' && !ABI_EXPORTS.has(entry.name))
          .map((entry) => entry.name),
      );
      const imported = new Set(
        WebAssembly.Module.imports(module)
          .filter((entry) => !NOT_DESCRIBED_IMPORTS.has(entry.module))
          .map((entry) => `${entry.module}.${entry.name}`),
      );
      sameSet(new Set(described?.exports.map((fn) => fn.name)), exported, `${name}: the section's exports against the module's`);
      sameSet(new Set(described?.imports.map((fn) => `${fn.module}.${fn.name}`)), imported, `${name}: the section's imports against the module's`);
      if (described === undefined) return;
      const expected = EXPECTED_TEXT[/** @type {keyof typeof EXPECTED_TEXT} */ (name)];
      if (expected !== undefined) sameSet(lines(describeInterface(described)), lines(expected), `${name}: the section's text`);
      const { exports } = await WebAssembly.instantiate(module, stubImports(module));
      for (const fn of described.exports) {
        equal(/** @type {Function} */ (exports[fn.name]).length, wasmParams(fn), `${name}: wasm parameters of ${fn.name}`);
      }
    },
  };
}

// ---- the reader ----------------------------------------------------------------------------------

/** `upper`'s entry as guestmem writes it (testdata/sections.json). */
const UPPER_ENTRY = fromHex(sectionCase('upper').section);

/** An import entry: `env.store(key: string, data: owned bytes) -> u64, fallible`. */
const IMPORT_ENTRY = Uint8Array.of(
  1, 1, 3, ...encoder.encode('env'), 5, ...encoder.encode('store'),
  2, 3, ...encoder.encode('key'), 2, 4, ...encoder.encode('data'), 0x81,
  6, 1,
);

/** @param {number} value @returns {number[]} unsigned LEB128 */
function leb128(value) {
  const bytes = [];
  do {
    bytes.push((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
    value >>>= 7;
  } while (value !== 0);
  return bytes;
}

/**
 * `module` with a custom section appended (custom sections may come anywhere).
 * @param {Uint8Array} module
 * @param {string} name
 * @param {Uint8Array} contents
 */
function withCustomSection(module, name, contents) {
  const title = encoder.encode(name);
  const payload = [...leb128(title.length), ...title, ...contents];
  return Uint8Array.of(...module, 0, ...leb128(payload.length), ...payload);
}

/** The smallest module: the magic and the version. */
const EMPTY_MODULE = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);

/**
 * @param {Uint8Array} contents
 * @param {string} words
 * @param {string} what
 */
function malformed(contents, words, what) {
  const error = throwsGuest(() => parseInterface(/** @type {BufferSource} */ (contents)), 'interface', what);
  ok(error.message.includes(words), `${what}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(words)}`);
}

/**
 * The reader on hand-made sections, and what the Guest does with a section that is malformed or
 * does not match its module.
 * @param {Uint8Array} upperBytes the upper guest
 * @returns {Check[]}
 */
export function readerChecks(upperBytes) {
  return [
    {
      name: 'an entry reads back as written, and prints as guestmem describe prints it',
      run: async () => {
        const read = parseInterface(Uint8Array.of(...UPPER_ENTRY, ...IMPORT_ENTRY));
        sameValue(read.exports, [{ module: undefined, name: 'upper', args: [{ name: 'text', kind: 'string', owned: false }], result: 'string', fallible: false }], 'exports');
        sameValue(
          read.imports,
          [{ module: 'env', name: 'store', args: [{ name: 'key', kind: 'string', owned: false }, { name: 'data', kind: 'bytes', owned: true }], result: 'u64', fallible: true }],
          'imports',
        );
        equal(describeInterface(read), 'export upper(text: string) -> string\nimport env.store(key: string, data: owned bytes) -> u64, fallible\n', 'describeInterface');
        ok(Object.isFrozen(read) && Object.isFrozen(read.exports[0]) && Object.isFrozen(read.exports[0].args[0]), 'the interface is frozen');
        equal(parseInterface(new Uint8Array(0)).exports.length, 0, 'an empty section describes nothing');
      },
    },
    {
      // Another version, direction or kind are cases of testdata/sections.json (testdata.test.mjs).
      name: 'every cut of an entry, an owned result and a function name not UTF-8 are malformed',
      run: async () => {
        for (let len = 1; len < UPPER_ENTRY.length; len += 1) malformed(UPPER_ENTRY.subarray(0, len), 'cut short', `cut at ${len}`);
        const entry = (/** @type {number} */ at, /** @type {number} */ value) => UPPER_ENTRY.map((byte, index) => (index === at ? value : byte));
        malformed(entry(16, 0x82), 'unknown kind 130', 'an owned result');
        malformed(entry(4, 0xff), 'not UTF-8', "a function's name that is not UTF-8");
        // The second entry is the one at fault: the message says where it starts.
        malformed(Uint8Array.of(...UPPER_ENTRY, 1, 0, 0, 1), `the entry at byte ${UPPER_ENTRY.length}`, 'a second entry cut short');
      },
    },
    {
      name: 'readInterface concatenates every guestmem.interface section, in order, and ignores other sections',
      run: async () => {
        equal(readInterface(await compile(EMPTY_MODULE)), undefined, 'no section: undefined');
        // An entry split across two sections still reads: they are one stream.
        let module = withCustomSection(EMPTY_MODULE, 'guestmem.interface', Uint8Array.of(...UPPER_ENTRY, ...IMPORT_ENTRY.subarray(0, 7)));
        module = withCustomSection(module, 'other', Uint8Array.of(1, 2, 3));
        module = withCustomSection(module, 'guestmem.interface', IMPORT_ENTRY.subarray(7));
        const read = readInterface(await compile(module));
        equal(read?.exports.map((fn) => fn.name).join(), 'upper', 'exports');
        equal(read?.imports.map((fn) => `${fn.module}.${fn.name}`).join(), 'env.store', 'imports');
      },
    },
    {
      name: 'Guest.instantiate refuses a malformed section or one that does not match the exports; interface: null ignores it',
      run: async () => {
        const cases = [
          [Uint8Array.of(1, 0, 0, 5), 'cut short'],
          [Uint8Array.of(1, 0, 0, 7, ...encoder.encode('missing'), 0, 0, 0), '`export missing() -> none`, which the module does not export'],
          [Uint8Array.of(1, 0, 0, 5, ...encoder.encode('upper'), 2, 1, 0x61, 2, 1, 0x62, 2, 2, 0), 'takes 4 wasm arguments; the module\'s upper takes 2'],
        ];
        for (const [section, words] of /** @type {[Uint8Array, string][]} */ (cases)) {
          const module = withCustomSection(upperBytes, 'guestmem.interface', section);
          let thrown;
          try {
            await Guest.instantiate(module);
          } catch (error) {
            thrown = error;
          }
          ok(thrown instanceof GuestError && thrown.kind === 'interface', `instantiate with ${toHex(section)}: ${thrown}, expected an interface error`);
          ok(/** @type {GuestError} */ (thrown).message.includes(words), `${/** @type {GuestError} */ (thrown).message} lacks ${JSON.stringify(words)}`);
          const unchecked = await Guest.instantiate(module, { interface: null });
          equal(unchecked.interface, undefined, 'interface: null');
          equal(unchecked.callString('upper', 'ok'), 'OK', 'a guest whose section is ignored');
        }
      },
    },
  ];
}

// ---- calls refused before the guest runs, and guest.exports --------------------------------------

/**
 * The Guest refuses what upper's section rules out, before the guest runs (as check_enforced in
 * harness/src/checks/interface.rs); guest.exports calls what it describes.
 * @param {Uint8Array} upperBytes
 * @param {Uint8Array} minimalBytes a guest without a section
 * @returns {Check[]}
 */
export function enforcedChecks(upperBytes, minimalBytes) {
  return [
    {
      name: 'upper: calls its section rules out are refused before the guest runs',
      run: async () => {
        const guest = await Guest.instantiate(upperBytes);
        const before = stats(guest);
        equal(describeInterface(/** @type {import('guestmem-host').Interface} */ (guest.interface)), EXPECTED_TEXT.upper, 'guest.interface');
        /** @type {[string, () => unknown, string][]} */
        const refusals = [
          ['read as an integer', () => guest.callU32('upper', 'abc'), 'it returns string (its interface says), which callU32 does not read'],
          ['not UTF-8', () => guest.callString('upper', Uint8Array.of(0x66, 0xff)), 'argument `text` (string) is not UTF-8'],
          ['not UTF-8, lent', () => guest.callView('upper', Uint8Array.of(0xc3), (view) => view.length), 'argument `text` (string) is not UTF-8'],
          ['no argument', () => guest.callString('upper'), 'it takes 1 argument (text: string), not 0'],
          ['two arguments', () => guest.callBytes('upper', 'a', 'b'), 'it takes 1 argument (text: string), not 2'],
          ['a number for text', () => guest.callString('upper', 7), 'argument `text` (string) is bytes, not number 7'],
          ['guest.exports, not UTF-8', () => guest.exports.upper(Uint8Array.of(0xff)), 'argument `text` (string) is not UTF-8'],
          ['guest.exports, a number', () => guest.exports.upper(7), 'argument `text` (string) takes a string, not number 7'],
          ['guest.exports, no argument', () => guest.exports.upper(), 'it takes 1 argument (text: string), not 0'],
        ];
        for (const [what, call, words] of refusals) {
          const error = throwsGuest(call, 'call', `upper ${what}`);
          ok(error.message === `upper: refused before the guest ran: ${words}`, `upper ${what}: ${JSON.stringify(error.message)}`);
          equal(error.export, 'upper', `upper ${what}: the export named`);
        }
        // Refused before the guest ran: it recorded nothing, and holds nothing more.
        equal(raw(guest).lastError(), 0, 'last_error after the refused calls');
        equal(guest.liveBlocks(), before.live, 'live_blocks after the refused calls');
        equal(guest.callString('upper', 'ok'), 'OK', 'upper("ok")');
        equal(guest.callString('upper', encoder.encode('bytes, UTF-8')), 'BYTES, UTF-8', 'UTF-8 bytes for a string');
      },
    },
    {
      name: 'upper: guest.exports.upper takes a string and returns one; only described exports are there',
      run: async () => {
        const guest = /** @type {Guest<UpperExports>} */ (await Guest.instantiate(upperBytes));
        const before = stats(guest);
        equal(guest.exports.upper('straße'), 'STRASSE', 'guest.exports.upper');
        const { upper } = guest.exports;
        equal(upper('detached'), 'DETACHED', 'the function called on its own');
        equal(Object.keys(guest.exports).join(), 'upper', 'the keys of guest.exports');
        ok(Object.isFrozen(guest.exports), 'guest.exports is frozen');
        equal(Object.getPrototypeOf(guest.exports), null, 'guest.exports has no prototype');
        equal(guest.liveBlocks(), before.live, 'live_blocks after the calls');
      },
    },
    {
      name: 'without an interface (no section, interface: null, new Guest) nothing is refused and guest.exports is empty',
      run: async () => {
        const minimal = await Guest.instantiate(minimalBytes);
        equal(minimal.interface, undefined, 'a guest without a section: guest.interface');
        equal(Object.keys(minimal.exports).length, 0, 'a guest without a section: guest.exports');
        const unchecked = await Guest.instantiate(upperBytes, { interface: null });
        // The bytes reach the guest, which fails the call itself.
        const error = throwsGuest(() => unchecked.callString('upper', Uint8Array.of(0xff)), 'error', 'upper(0xff) with interface: null');
        ok(/utf-?8/i.test(error.reason ?? ''), `the guest's reason ${JSON.stringify(error.reason)}`);
        equal(Object.keys(unchecked.exports).length, 0, 'interface: null: guest.exports');
        const module = await compile(upperBytes);
        const instance = await WebAssembly.instantiate(module);
        const wrapped = new Guest(await WebAssembly.instantiate(module));
        equal(wrapped.interface, undefined, 'new Guest without options.interface');
        const told = /** @type {Guest<UpperExports>} */ (new Guest(instance, { interface: readInterface(module) }));
        throwsGuest(() => told.callU32('upper', 'abc'), 'call', 'new Guest with readInterface(module): upper as an integer');
        equal(told.exports.upper('told'), 'TOLD', 'new Guest with readInterface(module): guest.exports.upper');
        throwsWith(() => new Guest(instance, { interface: /** @type {any} */ ({ exports: 'upper' }) }), TypeError, 'options.interface', 'an interface that is not one');
      },
    },
  ];
}

/**
 * The examples through guest.exports: a u32 result (0 is an answer), three string arguments,
 * bytes out as a copy.
 * @param {Record<string, Uint8Array>} modules
 * @returns {Check[]}
 */
export function exampleExportsChecks(modules) {
  return [
    {
      name: 'array_sum, replace and echo through guest.exports',
      run: async () => {
        const sum = await Guest.instantiate(modules.array_sum);
        equal(sum.exports.array_sum(Uint8Array.of(1, 2, 3)), 6, 'array_sum([1, 2, 3])');
        equal(sum.exports.array_sum(new Uint8Array(0)), 0, 'array_sum([]): 0 and no error');
        const replace = await Guest.instantiate(modules.replace);
        equal(replace.exports.replace('Hello World!', 'World', 'WASM'), 'Hello WASM!', 'replace');
        throwsGuest(() => replace.exports.replace('Hello World!', 'World'), 'call', 'replace with two arguments');
        const echo = await Guest.instantiate(modules.echo);
        const bytes = /** @type {Uint8Array} */ (echo.exports.echo(Uint8Array.of(0, 255, 7)));
        equal(toHex(bytes), '00ff07', 'echo');
        ok(bytes.buffer !== echo.memory.buffer, 'echo returns a copy, not a view of guest memory');
        for (const guest of [sum, replace, echo]) equal(guest.liveBlocks(), 0, 'live_blocks');
      },
    },
  ];
}

/**
 * A section entry for an export of the hand-assembled guest below.
 * @param {string} name
 * @param {[string, number][]} args names and kind bytes
 * @param {number} result its kind byte
 * @param {boolean} [fallible]
 */
const exportEntry = (name, args, result, fallible = false) => [
  1, 0, 0, name.length, ...encoder.encode(name),
  args.length, ...args.flatMap(([arg, kind]) => [arg.length, ...encoder.encode(arg), kind]),
  result, fallible ? 1 : 0,
];

/**
 * Results of every wasm kind through guest.exports, on a guest assembled by hand (hostile.mjs)
 * whose section describes its functions: bigints for u64 and i64 both ways, small integers cut to
 * their width, `0` an answer unless an error is pending, a `none` result failing by its message.
 * @returns {Check[]}
 */
export function valueChecks() {
  const { pending } = GLOBALS;
  const module = hostileGuest({
    extra: [
      { name: 'wide', params: 1, results: 1, valueType: I64, body: local(0) },
      { name: 'signed', params: 1, results: 1, valueType: I64, body: local(0) },
      { name: 'echo32', params: 1, results: 1, body: local(0) },
      // 0x900 holds "nope" (hostile.mjs): the pending error, and nothing returned.
      { name: 'fail_none', params: 0, results: 0, body: [...i32(0x900), op.globalSet, pending] },
      { name: 'quiet_none', params: 0, results: 0, body: [] },
    ],
  });
  const section = Uint8Array.of(
    ...exportEntry('wide', [['x', 6]], 6),
    ...exportEntry('signed', [['x', 10]], 10),
    ...exportEntry('echo32', [['x', 5]], 5),
    ...exportEntry('fail', [], 3, true),
    ...exportEntry('zero', [], 7),
    ...exportEntry('result_negative', [], 8),
    ...exportEntry('fail_none', [], 0, true),
    ...exportEntry('quiet_none', [], 0),
  );
  return [
    {
      name: 'guest.exports: u64 and i64 as bigints, small integers cut to their width, 0 and none failing only with an error pending',
      run: async () => {
        const guest = await Guest.instantiate(withCustomSection(module, 'guestmem.interface', section));
        /** @type {Record<string, (...args: unknown[]) => unknown>} */
        const exports = guest.exports;
        // Described as taking a u64, which the call methods cannot pass (their numbers are i32s).
        const wideIn = await Guest.instantiate(withCustomSection(module, 'guestmem.interface', Uint8Array.of(...exportEntry('echo32', [['x', 6]], 5))));
        equal(exports.wide(2n ** 64n - 1n), 2n ** 64n - 1n, 'u64 2^64 - 1 through the i64 bits');
        equal(exports.wide(5), 5n, 'a safe integer for a u64');
        equal(exports.signed(-(2n ** 63n)), -(2n ** 63n), 'i64 -2^63');
        equal(exports.echo32(2 ** 32 - 1), 2 ** 32 - 1, 'u32 2^32 - 1 through the i32 bits');
        equal(exports.zero(), 0, 'an i8 0 with no error pending');
        equal(exports.result_negative(), -8, 'i16 -8');
        equal(exports.quiet_none(), undefined, 'none');
        equal(throwsGuest(() => exports.fail(), 'error', 'u8 0 with an error pending').reason, 'nope', 'its reason');
        equal(throwsGuest(() => exports.fail_none(), 'error', 'none with an error pending').reason, 'nope', 'its reason');
        /** @type {[string, () => unknown, string][]} */
        const refusals = [
          ['-1 for a u64', () => exports.wide(-1n), 'argument `x` (u64) takes an integer in the range of u64, not bigint -1'],
          ['2^64 for a u64', () => exports.wide(2n ** 64n), 'argument `x` (u64) takes an integer in the range of u64'],
          ['an unsafe number for a u64', () => exports.wide(2 ** 53), 'argument `x` (u64) takes a bigint, not number 9007199254740992'],
          ['2^63 for an i64', () => exports.signed(2n ** 63n), 'argument `x` (i64) takes an integer in the range of i64'],
          ['2^32 for a u32', () => exports.echo32(2 ** 32), 'argument `x` (u32) takes an integer in the range of u32, not number 4294967296'],
          ['a string for a u32', () => exports.echo32('1'), 'argument `x` (u32) takes an integer in the range of u32, not string 1'],
          ['a bigint through callU32', () => guest.callU32('echo32', /** @type {any} */ (1n)), 'argument `x` (u32) is a number, not bigint 1'],
          ['a number for a u64 through callU32', () => wideIn.callU32('echo32', 1), 'argument `x` (u64) cannot be passed by callU32: call it through guest.exports'],
          ['a u64 through callU32', () => guest.callU32('wide', 1), 'it returns u64 (its interface says), which callU32 does not read'],
        ];
        for (const [what, call, words] of refusals) {
          const error = throwsGuest(call, 'call', what);
          ok(error.message.includes(words), `${what}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(words)}`);
        }
        equal(guest.callU32('echo32', 7), 7, 'callU32 on a described u32');
      },
    },
  ];
}

/**
 * greet's exports and the host functions its section describes.
 * @param {Uint8Array} greetBytes
 * @returns {Check[]}
 */
export function greetChecks(greetBytes) {
  return [
    {
      name: 'greet: guest.exports.greet, a fallible export, throws the host function\'s failure as the guest reports it',
      run: async () => {
        /** @type {string | undefined} */
        let salutation = 'Hello';
        const guest = /** @type {Guest<GreetExports>} */ (
          await Guest.instantiate(greetBytes, {
            functions: {
              env: {
                salutation: hostFunction({ result: 'string', fallible: true }, () => {
                  if (salutation === undefined) throw new Error('no salutation today');
                  return salutation;
                }),
                log: hostFunction({ params: ['string'] }, () => {}),
              },
            },
          })
        );
        sameSet(lines(describeInterface(/** @type {import('guestmem-host').Interface} */ (guest.interface))), lines(EXPECTED_TEXT.greet), 'guest.interface');
        equal(guest.exports.greet('guestmem'), 'Hello, guestmem!', 'greet');
        salutation = undefined;
        const error = throwsGuest(() => guest.exports.greet('guestmem'), 'error', 'greet without a salutation');
        equal(error.reason, 'no salutation today', 'the reason');
        equal(guest.liveBlocks(), 0, 'live_blocks');
      },
    },
  ];
}

// ---- postcard ------------------------------------------------------------------------------------

/** examples/shapes' structs, as Postcard schemas: the Rust fields, in order. */
const Rect = Postcard.struct({ name: Postcard.string, width: Postcard.u32, height: Postcard.u32 });
const Measured = Postcard.struct({ name: Postcard.string, area: Postcard.u64, square: Postcard.bool });

/** @typedef {import('guestmem-host').PostcardValue<typeof Rect>} RectValue */

/**
 * What the guest answers, in JavaScript: with `area` a bigint (postcard) or a number (JSON).
 * @param {RectValue} rect
 */
const measured = (rect) => ({ name: rect.name, area: BigInt(rect.width) * BigInt(rect.height), square: rect.width === rect.height });

/**
 * Varints and zigzag, from postcard's wire format specification: the schema, the value, its bytes.
 * @type {[string, Postcard<any>, unknown, string][]}
 */
const INTEGERS = [
  ['u8', Postcard.u8, 255, 'ff'],
  ['i8', Postcard.i8, -1, 'ff'],
  ['i8', Postcard.i8, -128, '80'],
  ['u16', Postcard.u16, 65_535, 'ffff03'],
  ['i16', Postcard.i16, -1, '01'],
  ['i16', Postcard.i16, -32_768, 'ffff03'],
  ['u32', Postcard.u32, 0, '00'],
  ['u32', Postcard.u32, 127, '7f'],
  ['u32', Postcard.u32, 128, '8001'],
  ['u32', Postcard.u32, 16_383, 'ff7f'],
  ['u32', Postcard.u32, 16_384, '808001'],
  ['u32', Postcard.u32, 2 ** 32 - 1, 'ffffffff0f'],
  ['u64', Postcard.u64, 2n ** 64n - 1n, 'ffffffffffffffffff01'],
  ['u64', Postcard.u64, 300n, 'ac02'],
  ['i32', Postcard.i32, 0, '00'],
  ['i32', Postcard.i32, -1, '01'],
  ['i32', Postcard.i32, 1, '02'],
  ['i32', Postcard.i32, -2, '03'],
  ['i32', Postcard.i32, 2 ** 31 - 1, 'feffffff0f'],
  ['i32', Postcard.i32, -(2 ** 31), 'ffffffff0f'],
  ['i64', Postcard.i64, -(2n ** 63n), 'ffffffffffffffffff01'],
  ['i64', Postcard.i64, 2n ** 63n - 1n, 'feffffffffffffffff01'],
  ['f32', Postcard.f32, 1.5, '0000c03f'],
  ['f64', Postcard.f64, 0.1, '9a9999999999b93f'],
  ['bool', Postcard.bool, true, '01'],
];

/**
 * `Measured` values as the postcard spec writes them, worked out by hand for these Rects: the
 * guest's Rust encoder must write the same bytes (shapesChecks).
 * @type {[RectValue, string][]}
 */
const MEASURED_BYTES = [
  // "door" (4 bytes), 16,000 = 0x3e80 as the varint 80 7d, false.
  [{ name: 'door', width: 80, height: 200 }, '04646f6f72807d00'],
  [{ name: '', width: 1, height: 1 }, '000101'],
  // 11 bytes of UTF-8, (2^32 - 1)^2 = 0xfffffffe00000001 in 10 varint bytes, true.
  [{ name: 'straße ✓', width: 2 ** 32 - 1, height: 2 ** 32 - 1 }, '0b73747261c39f6520e29c9381808080e0ffffffff0101'],
  // A length of 130 takes two varint bytes (82 01); 127 * 128 = 16,256 is 80 7f.
  [{ name: 'x'.repeat(130), width: 127, height: 128 }, `8201${'78'.repeat(130)}807f00`],
];

/** Every schema the host has, in one struct. */
const Everything = Postcard.struct({
  flag: Postcard.bool,
  small: Postcard.i32,
  ratio: Postcard.f64,
  data: Postcard.bytes,
  tags: Postcard.seq(Postcard.string),
  maybe: Postcard.option(Postcard.u64),
  nested: Postcard.seq(Rect),
});

/**
 * The Postcard schemas on their own: fixed vectors, every type round trip, and the errors.
 * @returns {Check[]}
 */
export function postcardChecks() {
  return [
    {
      name: 'postcard: integers are varints, signed ones zigzag, floats little-endian',
      run: async () => {
        for (const [kind, schema, value, hex] of INTEGERS) {
          equal(toHex(schema.encode(value)), hex, `${kind} ${value} encodes`);
          equal(schema.decode(fromHex(hex)), value, `${kind} ${hex} decodes`);
        }
      },
    },
    {
      name: "postcard: shapes' Measured and Rect as the format writes them",
      run: async () => {
        for (const [rect, hex] of MEASURED_BYTES) {
          equal(toHex(Measured.encode(measured(rect))), hex, `Measured of ${rect.name} encodes`);
          sameValue(Measured.decode(fromHex(hex)), measured(rect), `Measured ${hex} decodes`);
        }
        equal(toHex(Rect.encode({ name: 'door', width: 80, height: 200 })), '04646f6f7250c801', 'the Rect of the checks, 8 bytes');
      },
    },
    {
      name: 'postcard: structs, sequences, options, bytes and strings round trip',
      run: async () => {
        const value = { flag: true, small: -300, ratio: 0.1, data: Uint8Array.of(0, 255), tags: ['a', '', 'ü'], maybe: undefined, nested: [{ name: 'r', width: 1, height: 2 }] };
        const bytes = Everything.encode(value);
        equal(toHex(bytes), `01d7049a9999999999b93f0200ff03016100${'02c3bc'}00010172${'0102'}`, 'Everything encodes');
        sameValue(Everything.decode(bytes), value, 'Everything decodes');
        const some = { ...value, maybe: 2n ** 40n, tags: [], nested: [] };
        sameValue(Everything.decode(Everything.encode(some)), some, 'Everything with Some');
        equal(toHex(Postcard.option(Postcard.u32).encode(/** @type {any} */ (null))), '00', 'null is None');
        equal(Postcard.u64.decode(Postcard.u64.encode(/** @type {any} */ (5))), 5n, 'a safe integer for a u64');
      },
    },
    {
      name: 'postcard: bytes that are not the type, and values that are not, are errors naming the field',
      run: async () => {
        /** @type {[string, Postcard<any>, string][]} */
        const bad = [
          ['04646f6f72807d', Measured, 'field `square`: the input ends early'],
          ['04646f6f72807d0000', Measured, '1 bytes left over'],
          ['04646f6f72807d02', Measured, 'field `square`: a bool of 2'],
          ['02ffff0102', Rect, 'field `name`: a string that is not UTF-8'],
          ['00ffffffff1f01', Rect, 'field `width`: a varint of 8589934591 does not fit 32 bits'],
          ['0001ffffffffff01', Rect, "field `height`: a varint longer than a 32-bit value's"],
          ['ff7f', Postcard.seq(Postcard.bool), '16383 items announced, 0 bytes left'],
          ['02', Postcard.option(Postcard.u8), 'an option tag of 2'],
          ['ffffffffffffffffff02', Postcard.u64, 'a varint of 27670116110564327423 does not fit 64 bits'],
        ];
        for (const [hex, schema, words] of bad) throwsWith(() => schema.decode(fromHex(hex)), Error, `postcard: ${words}`, `decoding ${hex}`);
        /** @type {[unknown, string][]} */
        const values = [
          [{ name: 'a', width: -1, height: 1 }, 'field `width`: number -1 is not a u32'],
          [{ name: 'a', width: 2 ** 32, height: 1 }, 'field `width`: number 4294967296 is not a u32'],
          [{ name: 'a', width: 1.5, height: 1 }, 'field `width`: number 1.5 is not a u32'],
          [{ name: encoder.encode('a'), width: 1, height: 1 }, 'field `name`: [object Uint8Array] is not a string'],
          [{ name: 'a', width: 1 }, 'field `height`: undefined undefined is not a u32'],
          ['door', 'string door is not an object'],
        ];
        for (const [value, words] of values) throwsWith(() => Rect.encode(/** @type {any} */ (value)), TypeError, `postcard: ${words}`, `encoding ${JSON.stringify(value)}`);
        throwsWith(() => Postcard.u64.encode(2n ** 64n), TypeError, 'is not a u64', 'a u64 of 2^64');
        throwsWith(() => Postcard.i64.encode(2n ** 63n), TypeError, 'is not a i64', 'an i64 of 2^63');
        throwsWith(() => Postcard.u64.encode(/** @type {any} */ (2 ** 53)), TypeError, 'is not a u64 (a bigint)', 'an unsafe number for a u64');
        throwsWith(() => Postcard.struct({ x: /** @type {any} */ ('u32') }), TypeError, 'field `x` is not a Postcard schema', 'a struct of a string');
        throwsWith(() => new /** @type {any} */ (Postcard)(Symbol('forged'), 1, () => {}, () => 0), TypeError, 'static members', 'new Postcard');
      },
    },
  ];
}

// ---- shapes: structs in and out as JSON and postcard ---------------------------------------------

/**
 * `shapes` (examples/shapes) through guest.exports, as check_typed in
 * harness/src/checks/interface.rs: JSON values in and out of `measure`, postcard bytes in and out
 * of `measure_compact`, the guest's errors, the calls its section rules out, and no block left.
 * @param {Uint8Array} shapesBytes
 * @returns {Check[]}
 */
export function shapesChecks(shapesBytes) {
  const door = { name: 'door', width: 80, height: 200 };
  const fresh = async () => /** @type {Guest<ShapesExports>} */ (await Guest.instantiate(shapesBytes));
  return [
    {
      name: 'shapes: measure takes and returns JSON values, measure_compact postcard bytes',
      run: async () => {
        const guest = await fresh();
        sameSet(lines(describeInterface(/** @type {import('guestmem-host').Interface} */ (guest.interface))), lines(EXPECTED_TEXT.shapes), 'guest.interface');
        const before = stats(guest);
        const { measure, measure_compact } = guest.exports;
        sameValue(measure(door), { name: 'door', area: 16_000, square: false }, 'measure (JSON)');
        sameValue(Measured.decode(measure_compact(Rect.encode(door))), { name: 'door', area: 16_000n, square: false }, 'measure_compact (postcard)');
        // The bytes the guest's Rust encoder writes are those worked out from the spec.
        for (const [rect, hex] of MEASURED_BYTES) equal(toHex(measure_compact(Rect.encode(rect))), hex, `measure_compact of ${rect.name}`);
        equal(JSON.stringify(door).length, 39, 'JSON bytes of the Rect');
        equal(Rect.encode(door).length, 8, 'postcard bytes of the Rect');
        equal(guest.liveBlocks(), before.live, 'live_blocks');
      },
    },
    {
      name: 'shapes: both formats agree with the model on 300 random Rects',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        const next = lcg(14);
        const edges = [1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1];
        const letters = ['a', 'ß', '✓', '😀', '"', '\\', '\n'];
        const side = () => (next(10) < 3 ? edges[next(edges.length)] : 1 + next(2 ** 32 - 1));
        for (let index = 0; index < 300; index += 1) {
          const rect = { name: Array.from({ length: next(200) }, () => letters[next(letters.length)]).join(''), width: side(), height: side() };
          const expected = measured(rect);
          sameValue(Measured.decode(guest.exports.measure_compact(Rect.encode(rect))), expected, `measure_compact of rect ${index}`);
          // JSON numbers past 2^53 lose precision in JSON.parse, as they do in any JS JSON reader.
          const json = /** @type {{ name: string, area: number, square: boolean }} */ (guest.exports.measure(rect));
          sameValue({ ...json, area: BigInt(json.area) }, { ...expected, area: BigInt(Number(expected.area)) }, `measure of rect ${index}`);
        }
        equal(guest.liveBlocks(), before.live, 'live_blocks');
      },
    },
    {
      name: "shapes: the guest's errors come back naming the argument",
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        const flat = throwsGuest(() => guest.exports.measure({ ...door, height: 0 }), 'error', 'measure of a flat Rect');
        equal(flat.reason, '`door` has no area', 'measure of a flat Rect');
        const thin = throwsGuest(() => guest.exports.measure_compact(Rect.encode({ ...door, width: 0 })), 'error', 'measure_compact of a thin Rect');
        equal(thin.reason, '`door` has no area', 'measure_compact of a thin Rect');
        /** @type {[string, Uint8Array | string, string][]} */
        const bad = [
          ['measure', '{"name": 5}', 'argument `rect`: not valid JSON'],
          ['measure', '{"name":"door"}', 'argument `rect`: not valid JSON: missing field `width`'],
          ['measure_compact', Uint8Array.of(5, 0x61, 0x62), 'argument `rect`: not valid postcard'],
        ];
        for (const [name, input, words] of bad) {
          const error = throwsGuest(() => guest.callBytes(name, input), 'error', `${name} of bad input`);
          ok((error.reason ?? '').startsWith(words), `${name}: the reason ${JSON.stringify(error.reason)} does not start with ${JSON.stringify(words)}`);
        }
        const missing = throwsGuest(() => guest.exports.measure({ name: 'door' }), 'error', 'measure of a Rect without its sides');
        ok((missing.reason ?? '').startsWith('argument `rect`: not valid JSON: missing field `width`'), `${missing.reason}`);
        equal(guest.liveBlocks(), before.live, 'live_blocks');
      },
    },
    {
      name: 'shapes: typed calls its section rules out are refused before the guest runs',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        /** @type {[string, () => unknown, string][]} */
        const refusals = [
          ['measure_compact read as a string', () => guest.callString('measure_compact', Rect.encode(door)), 'it returns postcard (its interface says), which callString does not read'],
          ['measure read as an integer', () => guest.callU32('measure', JSON.stringify(door)), 'it returns json (its interface says), which callU32 does not read'],
          ['postcard bytes for a JSON argument', () => guest.callBytes('measure', Rect.encode(door)), 'argument `rect` (json) is not UTF-8'],
          ['an object for postcard', () => guest.exports.measure_compact(/** @type {any} */ (door)), 'argument `rect` (postcard) takes its encoded bytes'],
          ['a string for postcard', () => guest.exports.measure_compact(/** @type {any} */ ('door')), 'argument `rect` (postcard) takes its encoded bytes'],
          ['undefined for JSON', () => guest.exports.measure(undefined), 'argument `rect` (json) takes a value JSON can write, not undefined'],
          ['a bigint inside JSON', () => guest.exports.measure({ ...door, width: 80n }), 'argument `rect` (json): Do not know how to serialize a BigInt'],
        ];
        for (const [what, call, words] of refusals) {
          const error = throwsGuest(call, 'call', what);
          ok(error.message.includes(words), `${what}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(words)}`);
        }
        equal(raw(guest).lastError(), 0, 'last_error: the guest never ran');
        equal(guest.liveBlocks(), before.live, 'live_blocks');
      },
    },
  ];
}

/** The guests these checks need beside the examples: built with the macros, each with a section. */
export const DESCRIBED_GUESTS = Object.freeze(['shapes', 'in_place', 'faults']);

/**
 * Every check of this file, by suite, for the node driver and the page.
 * @param {Record<string, Uint8Array>} modules the examples, the host-function guests and DESCRIBED_GUESTS
 * @returns {{ suite: string, checks: Check[] }[]}
 */
export function interfaceSuites(modules) {
  return [
    { suite: 'interface sections', checks: Object.entries(modules).map(([name, bytes]) => sectionCheck(name, bytes)) },
    { suite: 'interface reader', checks: readerChecks(modules.upper) },
    { suite: 'interface enforced', checks: [...enforcedChecks(modules.upper, modules.minimal), ...greetChecks(modules.greet), ...exampleExportsChecks(modules), ...valueChecks()] },
    { suite: 'postcard', checks: postcardChecks() },
    { suite: 'shapes', checks: shapesChecks(modules.shapes) },
  ];
}
