// The checks of the JavaScript host, written once and run by two drivers: node:test
// (guestmem.test.mjs) and a page in headless Chromium (browser/checks.html, via browser/run.mjs).
// They mirror the Rust harness: ABI conformance for every guest, the examples' results and
// errors, the ownership rule, memory growth, round trips, and hostile guests.
//
// A check is `{ name, run }`; `run` resolves, or rejects with a `CheckFailed` saying what differed.

import { abiExportName, Guest, GuestError, hostFunction, REQUIRED_EXPORTS } from 'guestmem-host';
import { BOOM_AT, call, GLOBALS, hostileGuest, I64, i32, local, op, wasiGuest, withMemoryMax } from './hostile.mjs';
import { DESCRIBED_GUESTS, interfaceSuites } from './interface.mjs';
import { ownedChecks } from './owned.mjs';
import { balanced, CheckFailed, equal, instances, lcg, ok, pattern, raw, rejects, sameBytes, stats, throwsGuest } from './support.mjs';
import { conformance, guestBuilds } from './testdata.mjs';

export { CheckFailed, DESCRIBED_GUESTS };

/** @typedef {import('./support.mjs').Check} Check @typedef {import('./support.mjs').Fresh} Fresh */

/**
 * The example guests, as built by `cargo build --profile guest --target wasm32-unknown-unknown`,
 * and what each is expected to export and answer. `sample` is one call with its answer, used by
 * the ownership and round-trip checks (of the export named after the guest, or `export`);
 * `compact` marks a guest built with guestmem's `compact` feature; `functions` gives the host
 * functions a guest that imports some needs to be instantiated at all.
 * @type {Readonly<Record<string, { stats: boolean, compact?: boolean, functions?: () => import('guestmem-host').HostFunctions, sample?: { export?: string, args: (string | number[])[], returns: 'u32' | 'string' | 'bytes', answer: number | string } }>>}
 */
export const GUESTS = Object.freeze({
  array_sum: { stats: true, sample: { args: [[1, 2, 3, 4, 5]], returns: 'u32', answer: 15 } },
  upper: { stats: true, sample: { args: ['straße'], returns: 'string', answer: 'STRASSE' } },
  replace: { stats: true, sample: { args: ['Hello World!', 'World', 'WASM'], returns: 'string', answer: 'Hello WASM!' } },
  echo: { stats: true, sample: { args: ['echo, echo'], returns: 'bytes', answer: 'echo, echo' } },
  // `compact`: fixed trap messages, which name neither the export nor the pointer.
  minimal: { stats: false, compact: true },
  // A guest that uses std (guestmem's `std` feature); see VARIANTS.
  word_count: { stats: true, sample: { args: ['b a b'], returns: 'string', answer: 'a: 1\nb: 2\n' } },
  // wasm32-wasip1 only: greets with GUESTMEM_GREETING, which WASI_ENV sets.
  wasi_env: { stats: true, sample: { export: 'greet', args: ['guestmem'], returns: 'string', answer: 'hello from the host, guestmem!' } },
  // Host functions: env.salutation and env.log (see hostFunctionChecks).
  greet: {
    stats: true,
    functions: () => greetFunctions(SALUTATION, () => {}),
    sample: { args: ['guestmem'], returns: 'string', answer: 'Hello, guestmem!' },
  },
});

/** The allocator back ends testdata/guests.tsv builds guests with, as the suffixes of their builds. */
const BACKENDS = Object.freeze(['talc', 'wee_alloc', 'lol_alloc', 'dlmalloc']);

/** The build `name` of testdata/guests.tsv is one of a back end (NAME-BACKEND, checked through GUESTMEM_GUEST_SUFFIX). */
const isBackendBuild = (/** @type {string} */ name) => BACKENDS.some((backend) => name.endsWith(`-${backend}`));

/** The guests every allocator back end's build has, in GUEST_DIR: those testdata/guests.tsv builds with each. */
export const EXAMPLES = Object.freeze(
  [...new Set(guestBuilds.map((build) => build.package))].filter((pkg) =>
    BACKENDS.every((backend) => guestBuilds.some((build) => build.name === `${pkg}-${backend}`)),
  ),
);

/**
 * The guests that import host functions, built with the default back end only: the greet
 * example and the test guest harness/guests/imports.
 */
export const HOST_FUNCTION_GUESTS = Object.freeze(['greet', 'imports']);

/**
 * Guests as people write them, as the Rust harness builds them into target/guests: the module
 * file's name, and the key of GUESTS it is checked as. They are the builds of testdata/guests.tsv
 * of a guest of GUESTS that neither the default-build suites (EXAMPLES, HOST_FUNCTION_GUESTS) nor
 * the back-end runs check. The `-wasip1` builds need WASI.
 */
export const VARIANTS = Object.freeze(
  Object.fromEntries(
    guestBuilds
      .filter((build) => Object.hasOwn(GUESTS, build.package) && !isBackendBuild(build.name))
      .filter((build) => !EXAMPLES.includes(build.name) && !HOST_FUNCTION_GUESTS.includes(build.name))
      .map((build) => [build.name, build.package]),
  ),
);

/** The environment the WASI guests get (the Rust harness gives the same). */
export const WASI_ENV = Object.freeze({ GUESTMEM_GREETING: 'hello from the host' });

/** Where a driver finds a guest, relative to the workspace root. */
export const GUEST_DIR = 'target/wasm32-unknown-unknown/guest';

const ROUND_TRIPS = 10_000;
const BIG_INPUT = 64 * 1024 * 1024;
const PAGE = 0x1_0000;
/** The first address with the top bit set: it reads as a negative i32. */
const HIGH = 0x8000_0000;
/** The blocks that fill linear memory past HIGH (left untouched, so little of it is committed). */
const FILLER = 256 * 1024 * 1024;

/** Whether a trap reason names the pointer, in hex as docs/ABI.md shows it, or in decimal. */
function namesPointer(/** @type {string} */ reason, /** @type {number} */ ptr) {
  return reason.toLowerCase().includes(`0x${(ptr >>> 0).toString(16)}`) || reason.includes(String(ptr >>> 0));
}

// ---- helpers -------------------------------------------------------------------------------------

/** Bytes as UTF-8 text (echo returns bytes, which callString refuses to read). */
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A fresh view, taken after the last call into the guest. @param {Guest} guest */
const memoryBytes = (guest) => new Uint8Array(guest.memory.buffer);

// ---- ABI conformance, for every guest ------------------------------------------------------------

/**
 * @param {string} name a key of GUESTS
 * @param {Uint8Array} bytes the guest's module
 * @param {() => Promise<Guest>} fresh
 * @param {() => import('guestmem-host').InstantiateOptions} base options every instance gets
 * @returns {Check[]}
 */
function conformanceChecks(name, bytes, fresh, base) {
  const expected = GUESTS[name];
  /** @type {[string, (guest: Guest) => void][]} */
  const sameInstance = [
    [`abi_version() is ${conformance.abi_version}`, (guest) => equal(raw(guest).call('abi_version'), conformance.abi_version, 'abi_version()')],
    [
      'exports memory and the ABI functions',
      (guest) => {
        ok(guest.instance.exports.memory instanceof WebAssembly.Memory, 'memory is exported');
        for (const fn of REQUIRED_EXPORTS) ok(abiExportName(guest.instance.exports, fn) !== undefined, `export ${fn} (or guestmem_${fn})`);
        for (const fn of ['live_blocks', 'heap_bytes']) {
          equal(abiExportName(guest.instance.exports, fn) !== undefined, expected.stats, `export ${fn} (stats: ${expected.stats})`);
        }
      },
    ],
    ['last_error() is 0 when nothing is pending', (guest) => equal(raw(guest).lastError(), 0, 'last_error()')],
    [
      `alloc returns addresses that are multiples of ${conformance.block_align}`,
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        const blocks = conformance.lengths.map((len) => ({ ptr: abi.alloc(len), len }));
        for (const { ptr, len } of blocks) {
          ok(ptr !== 0, `alloc(${len}) returned 0`);
          equal(ptr % conformance.block_align, 0, `alloc(${len}) = 0x${ptr.toString(16)}, modulo ${conformance.block_align}`);
        }
        for (const { ptr, len } of blocks) abi.dealloc(ptr, len);
        balanced(guest, before, 'after freeing them all');
      },
    ],
    [
      'live blocks do not overlap and keep their bytes',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        const size = lcg(0x9e37_79b9);
        /** @type {{ ptr: number, len: number, seed: number }[]} */
        let blocks = [];
        const allocMany = (/** @type {number} */ count, /** @type {number} */ firstSeed) => {
          for (let i = 0; i < count; i += 1) {
            const len = size(3) === 0 ? size(4000) : size(300);
            const ptr = abi.alloc(len);
            ok(ptr !== 0, `alloc(${len}) returned 0`);
            blocks.push({ ptr, len, seed: firstSeed + i });
            // The pattern goes in with a view taken after this alloc: it may have grown memory.
            memoryBytes(guest).set(pattern(len, firstSeed + i), ptr);
          }
        };
        const verify = (/** @type {string} */ when) => {
          const sorted = [...blocks].sort((a, b) => a.ptr - b.ptr);
          for (let i = 1; i < sorted.length; i += 1) {
            const previous = sorted[i - 1];
            ok(
              previous.ptr + previous.len <= sorted[i].ptr && previous.ptr !== sorted[i].ptr,
              `${when}: blocks [0x${previous.ptr.toString(16)}, +${previous.len}) and 0x${sorted[i].ptr.toString(16)} overlap`,
            );
          }
          const memory = memoryBytes(guest);
          for (const { ptr, len, seed } of blocks) sameBytes(memory.subarray(ptr, ptr + len), pattern(len, seed), `${when}: block ${seed}`);
        };
        allocMany(200, 0);
        verify('after 200 allocs');
        const kept = [];
        for (const [index, block] of blocks.entries()) {
          if (index % 2 === 0) abi.dealloc(block.ptr, block.len);
          else kept.push(block);
        }
        blocks = kept;
        allocMany(150, 1000);
        verify('after freeing half and allocating 150 more');
        for (const { ptr } of blocks) abi.free(ptr);
        balanced(guest, before, 'after freeing them all');
      },
    ],
    [
      'alloc(0) is a real block, freed like any other',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        const first = abi.alloc(0);
        const second = abi.alloc(0);
        ok(first !== 0 && second !== 0, `alloc(0) returned 0 (${first}, ${second})`);
        ok(first !== second, `two alloc(0) returned the same block 0x${first.toString(16)}`);
        if (expected.stats) equal(guest.liveBlocks(), /** @type {number} */ (before.live) + 2, 'live_blocks with two empty blocks');
        abi.dealloc(first, 0);
        abi.free(second);
        balanced(guest, before, 'after freeing them');
      },
    ],
    [
      'alloc failure returns 0 and leaves memory.size unchanged',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        for (const len of conformance.impossible_lengths) {
          const size = guest.memory.buffer.byteLength;
          equal(abi.alloc(len), 0, `alloc(0x${len.toString(16)})`);
          equal(guest.memory.buffer.byteLength, size, `memory size after alloc(0x${len.toString(16)})`);
        }
        balanced(guest, before, 'after the failed allocs');
        const ptr = abi.alloc(16);
        ok(ptr !== 0, 'alloc(16) after the failures returned 0');
        abi.dealloc(ptr, 16);
      },
    ],
    [
      'realloc keeps the bytes, grows, shrinks, and follows the zero rules',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        const start = abi.alloc(16);
        memoryBytes(guest).set(pattern(16, 1), start);
        const grown = abi.realloc(start, 100_000);
        ok(grown !== 0 && grown % 8 === 0, `realloc to 100000 gave 0x${grown.toString(16)}`);
        sameBytes(memoryBytes(guest).subarray(grown, grown + 16), pattern(16, 1), 'bytes kept when growing');
        memoryBytes(guest).set(pattern(100_000, 2), grown);
        const shrunk = abi.realloc(grown, 8);
        ok(shrunk !== 0 && shrunk % 8 === 0, `realloc to 8 gave 0x${shrunk.toString(16)}`);
        sameBytes(memoryBytes(guest).subarray(shrunk, shrunk + 8), pattern(8, 2), 'bytes kept when shrinking');
        const empty = abi.realloc(shrunk, 0);
        ok(empty !== 0, 'realloc(ptr, 0) returned 0: it must give a block of length 0');
        abi.dealloc(empty, 0);
        const fromNull = abi.realloc(0, 24);
        ok(fromNull !== 0 && fromNull % 8 === 0, `realloc(0, 24) gave 0x${fromNull.toString(16)}`);
        abi.dealloc(fromNull, 24);
        balanced(guest, before, 'after freeing them');
      },
    ],
    [
      'realloc failure returns 0 and leaves the old block live and unchanged',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        const ptr = abi.alloc(32);
        memoryBytes(guest).set(pattern(32, 3), ptr);
        const size = guest.memory.buffer.byteLength;
        equal(abi.realloc(ptr, 0xffff_fff0), 0, 'realloc(ptr, 0xfffffff0)');
        equal(guest.memory.buffer.byteLength, size, 'memory size after the failed realloc');
        sameBytes(memoryBytes(guest).subarray(ptr, ptr + 32), pattern(32, 3), 'old block after the failed realloc');
        abi.dealloc(ptr, 32); // would trap if the block were gone or had another length
        balanced(guest, before, 'after freeing it');
      },
    ],
    [
      'dealloc(0, n) and free(0) do nothing',
      (guest) => {
        const abi = raw(guest);
        const before = stats(guest);
        abi.dealloc(0, 0);
        abi.dealloc(0, 16);
        abi.free(0);
        balanced(guest, before, 'after freeing null');
        equal(abi.lastError(), 0, 'last_error() after freeing null');
      },
    ],
  ];

  /** @type {Check[]} */
  const checks = sameInstance.map(([title, body]) => ({
    name: title,
    run: async () => body(await fresh()),
  }));

  /**
   * A misuse that must trap with a reason naming the export and the pointer.
   * @param {string} title
   * @param {(guest: Guest, abi: ReturnType<typeof raw>) => { call: () => unknown, fn: string, ptr: number }} setup
   * @param {(guest: Guest, abi: ReturnType<typeof raw>) => void} [afterwards] raw calls on the trapped instance
   */
  const trapCheck = (title, setup, afterwards) => ({
    name: title,
    run: async () => {
      const guest = await fresh();
      const abi = raw(guest);
      const { call, fn, ptr } = setup(guest, abi);
      const error = throwsGuest(call, 'trap', title);
      ok(error.cause instanceof WebAssembly.RuntimeError, `${title}: the cause is a wasm trap (${error.cause})`);
      ok(typeof error.reason === 'string', `${title}: no reason recorded in last_error`);
      const reason = /** @type {string} */ (error.reason);
      ok(reason.length > 0, `${title}: the recorded reason is empty`);
      ok(expected.compact || reason.includes(fn), `${title}: the reason ${JSON.stringify(reason)} does not name ${fn}`);
      ok(expected.compact || namesPointer(reason, ptr), `${title}: the reason ${JSON.stringify(reason)} does not name 0x${(ptr >>> 0).toString(16)}`);
      ok(guest.trapped, `${title}: the Guest is not marked as trapped`);
      throwsGuest(() => guest.callBytes('last_error'), 'dead', `${title}: a call after the trap`);
      afterwards?.(guest, abi);
    },
  });

  checks.push(
    trapCheck(
      'dealloc with a wrong length traps and records why',
      (guest, abi) => {
        const ptr = abi.alloc(16);
        return { call: () => guest.dealloc({ ptr, len: 17 }), fn: 'dealloc', ptr };
      },
      // Reading last_error took the reason: it is not reported twice.
      (_, abi) => equal(abi.lastError(), 0, 'last_error() after the reason was taken'),
    ),
    trapCheck('free twice traps (double free)', (guest, abi) => {
      const ptr = abi.alloc(16);
      abi.free(ptr);
      return { call: () => guest.free(ptr), fn: 'free', ptr };
    }),
    trapCheck('dealloc twice traps (double free)', (guest, abi) => {
      const ptr = abi.alloc(16);
      abi.dealloc(ptr, 16);
      return { call: () => guest.dealloc({ ptr, len: 16 }), fn: 'dealloc', ptr };
    }),
    trapCheck('realloc of a freed block traps', (guest, abi) => {
      const ptr = abi.alloc(16);
      abi.free(ptr);
      return { call: () => guest.realloc({ ptr, len: 16 }, 32), fn: 'realloc', ptr };
    }),
  );

  /** @type {[string, (ptr: number, memorySize: number) => number][]} */
  const foreign = [
    ['the middle of a block', (ptr) => ptr + 16],
    ['an address not a multiple of 8', (ptr) => ptr + 4],
    ['an address never handed out', () => 1024],
    ['an address past the end of memory', (_, size) => size + 8],
    ['0xfffffff8', () => 0xffff_fff8],
  ];
  for (const [where, address] of foreign) {
    /** @type {[string, (guest: Guest, ptr: number) => unknown][]} */
    const misuses = [
      ['free', (guest, ptr) => guest.free(ptr)],
      ['dealloc', (guest, ptr) => guest.dealloc({ ptr, len: 8 })],
      ['realloc', (guest, ptr) => guest.realloc({ ptr, len: 8 }, 16)],
    ];
    for (const [fn, misuse] of misuses) {
      checks.push(
        trapCheck(`${fn} of ${where} traps`, (guest, abi) => {
          const ptr = address(abi.alloc(64), guest.memory.buffer.byteLength);
          return { call: () => misuse(guest, ptr), fn, ptr };
        }),
      );
    }
  }

  checks.push({
    name: 'alloc returns 0 when memory.grow is refused, and memory.size is unchanged',
    run: async () => {
      // The same guest, with a memory maximum two pages past its initial size.
      const limited = withMemoryMax(bytes, 2);
      const guest = await Guest.instantiate(limited.bytes, base());
      const abi = raw(guest);
      const limit = limited.maxPages * PAGE;
      const kept = guest.alloc(pattern(100, 9));
      const before = guest.memory.buffer.byteLength;
      equal(abi.alloc(4 << 20), 0, 'alloc(4 MiB) under the limit');
      equal(guest.memory.buffer.byteLength, before, 'memory size after the refused alloc(4 MiB)');
      /** @type {number[]} */
      const blocks = [];
      let refused = false;
      while (blocks.length < 10_000) {
        const size = guest.memory.buffer.byteLength;
        const ptr = abi.alloc(4096);
        if (ptr === 0) {
          equal(guest.memory.buffer.byteLength, size, 'memory size after the refused alloc(4096)');
          refused = true;
          break;
        }
        blocks.push(ptr);
      }
      ok(refused, `10000 blocks of 4096 bytes fit under a ${limit}-byte memory`);
      ok(guest.memory.buffer.byteLength <= limit, `memory grew past the ${limit}-byte limit`);
      for (const ptr of blocks) abi.dealloc(ptr, 4096);
      const again = abi.alloc(4096);
      ok(again !== 0, 'alloc(4096) after every block was freed returned 0');
      abi.dealloc(again, 4096);
      sameBytes(guest.read(kept.ptr, kept.len), pattern(100, 9), 'the block kept through the refusals');
      guest.dealloc(kept);
    },
  });

  // The heap is untouched by a trapping call: the block whose dealloc trapped can still be freed
  // with its real length (docs/ABI.md, "dealloc"). Raw calls, since the Guest is dead.
  checks.push({
    name: 'a trapping dealloc leaves the block live',
    run: async () => {
      const guest = await fresh();
      const abi = raw(guest);
      const before = stats(guest);
      const ptr = abi.alloc(16);
      memoryBytes(guest).set(pattern(16, 4), ptr);
      let trapped = false;
      try {
        abi.dealloc(ptr, 24);
      } catch (error) {
        trapped = error instanceof WebAssembly.RuntimeError;
      }
      ok(trapped, 'dealloc with a wrong length did not trap');
      const reason = guest.lastError() ?? '';
      ok(expected.compact ? reason.length > 0 : reason.includes('dealloc'), `the reason pending after the trap: ${JSON.stringify(reason)}`);
      sameBytes(memoryBytes(guest).subarray(ptr, ptr + 16), pattern(16, 4), 'the block after the trap');
      abi.dealloc(ptr, 16);
      balanced(guest, before, 'after freeing it with its real length');
    },
  });
  return checks;
}

// ---- the example guests ----------------------------------------------------------------------------

/** @type {Record<string, (fresh: Fresh) => Check[]>} */
const exampleChecks = {
  array_sum: (fresh) => [
    {
      name: 'array_sum adds bytes without overflowing a u8',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        equal(guest.callU32('array_sum', new Uint8Array([1, 2, 3, 4, 5])), 15, 'array_sum([1..5])');
        equal(guest.callU32('array_sum', new Uint8Array(1000).fill(255)), 255_000, 'array_sum(1000 x 255)');
        equal(guest.callU32('array_sum', new Uint8Array(0)), 0, 'array_sum([])');
        balanced(guest, before, 'after the calls');
      },
    },
  ],
  upper: (fresh) => [
    {
      name: 'upper uppercases Unicode',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        equal(guest.callString('upper', 'straße'), 'STRASSE', 'upper("straße")');
        equal(guest.callString('upper', 'hello, wörld ǆ'), 'HELLO, WÖRLD Ǆ', 'upper("hello, wörld ǆ")');
        equal(guest.callString('upper', ''), '', 'upper("")');
        sameBytes(guest.callBytes('upper', new TextEncoder().encode('abc')), [65, 66, 67], 'upper(bytes "abc")');
        balanced(guest, before, 'after the calls');
      },
    },
    {
      name: 'upper rejects invalid UTF-8 with an Error carrying last_error, and frees everything',
      run: async () => {
        // Without its interface, the host passes the bytes: the guest's own check answers.
        const guest = await fresh({ interface: null });
        const before = stats(guest);
        const error = throwsGuest(() => guest.callString('upper', new Uint8Array([0x66, 0xff, 0xfe])), 'error', 'upper(invalid UTF-8)');
        ok(/utf-?8/i.test(error.reason ?? ''), `the reason ${JSON.stringify(error.reason)} does not name UTF-8`);
        ok(error.message.includes(/** @type {string} */ (error.reason)), 'the message carries the reason');
        equal(guest.lastError(), undefined, 'last_error after the host took it');
        balanced(guest, before, 'after the failed call (input and message freed)');
        equal(guest.callString('upper', 'still fine'), 'STILL FINE', 'a call after the error');
      },
    },
    {
      name: 'a success does not clear a pending error',
      run: async () => {
        const guest = await fresh();
        const abi = raw(guest);
        const bad = guest.alloc(new Uint8Array([0xc3]));
        equal(abi.call('upper', bad.ptr, bad.len), 0, 'upper(invalid UTF-8)');
        const good = guest.alloc('ok');
        const result = abi.call('upper', good.ptr, good.len);
        ok(result !== 0, 'upper("ok") failed');
        equal(new TextDecoder().decode(guest.takeResult(result)), 'OK', 'upper("ok")');
        ok(/utf-?8/i.test(guest.lastError() ?? ''), 'the UTF-8 error is no longer pending after a success');
        guest.dealloc(bad);
        guest.dealloc(good);
      },
    },
  ],
  replace: (fresh) => [
    {
      name: 'replace replaces every match',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        equal(guest.callString('replace', 'Hello World!', 'World', 'WASM'), 'Hello WASM!', 'replace("Hello World!", "World", "WASM")');
        equal(guest.callString('replace', 'aaa', 'a', 'bb'), 'bbbbbb', 'replace("aaa", "a", "bb")');
        equal(guest.callString('replace', 'abc', 'x', 'y'), 'abc', 'replace("abc", "x", "y")');
        equal(guest.callString('replace', 'a-b-c', '-', ''), 'abc', 'replace("a-b-c", "-", "")');
        balanced(guest, before, 'after the calls');
      },
    },
    {
      name: 'replace with an empty pattern is an Error carrying last_error',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        const error = throwsGuest(() => guest.callString('replace', 'abc', '', 'x'), 'error', 'replace("abc", "", "x")');
        ok((error.reason ?? '').length > 0, 'the error has no message');
        balanced(guest, before, 'after the failed call (inputs and message freed)');
      },
    },
  ],
  echo: (fresh) => [
    {
      name: 'a result longer than resultCap is freed unread and fails as bounds',
      run: async () => {
        const guest = await fresh({ resultCap: 8 });
        const before = stats(guest);
        equal(fromUtf8.decode(guest.callBytes('echo', 'eight by')), 'eight by', 'echo of 8 bytes, at the cap');
        const error = throwsGuest(() => guest.callBytes('echo', 'nine byte'), 'bounds', 'echo of 9 bytes');
        ok(/payload of 9 bytes is longer than the result cap of 8/.test(error.message), `the message: ${error.message}`);
        balanced(guest, before, 'after the refused result (freed)');
        for (const cap of [-1, 1.5, 2 ** 32, Number.NaN]) {
          await rejects(() => fresh({ resultCap: cap }), (thrown) => thrown instanceof RangeError, `resultCap ${cap}`);
        }
      },
    },
    {
      name: 'echo returns every byte value',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        sameBytes(guest.callBytes('echo', all), all, 'echo(0..255)');
        sameBytes(guest.callBytes('echo', new Uint8Array(0)), [], 'echo([])');
        equal(fromUtf8.decode(guest.callBytes('echo', 'nul\0and ünïcödé 🦀')), 'nul\0and ünïcödé 🦀', 'echo(string)');
        balanced(guest, before, 'after the calls');
      },
    },
    {
      name: 'a 64 MiB input grows memory, and the host reads the result through a fresh view',
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        const input = pattern(BIG_INPUT, 5);
        const oldBuffer = guest.memory.buffer;
        const oldSize = oldBuffer.byteLength;
        const output = guest.callBytes('echo', input);
        ok(guest.memory.buffer.byteLength >= oldSize + 2 * BIG_INPUT, `memory grew from ${oldSize} to ${guest.memory.buffer.byteLength} only`);
        // The planted fault: a view kept from before the call, as in the article, is now useless.
        equal(oldBuffer.byteLength, 0, 'the pre-call buffer is detached');
        sameBytes(output, input, 'echo(64 MiB)');
        balanced(guest, before, 'after the call');
      },
    },
    highBlockCheck(fresh),
    ...inputBlockChecks(fresh),
    callViewCheck(fresh),
  ],
  minimal: () => [],
  word_count: (fresh) => [
    {
      name: "a std guest's panic traps with its message and location (guestmem's panic hook)",
      run: async () => {
        const guest = await fresh();
        const error = throwsGuest(() => guest.callString('longest_word', '   '), 'trap', 'longest_word of no words');
        ok(
          /^guest panicked at .*lib\.rs:\d+:\d+: no words in the text$/.test(error.reason ?? ''),
          `the reason ${JSON.stringify(error.reason)}`,
        );
      },
    },
  ],
  wasi_env: () => [],
  greet: () => [],
};

/**
 * A block above 2 GiB, in a guest whose memory is filled past it: pointers with the top bit set
 * come back from the guest as negative numbers unless the host reads them as u32.
 * @param {Guest} guest
 * @returns {{ block: import('guestmem-host').Block, fillers: number[], low: import('guestmem-host').Block[] }}
 */
function blockAbove2GiB(guest, /** @type {Uint8Array} */ input) {
  const abi = raw(guest);
  const fillers = [];
  while (guest.memory.buffer.byteLength <= HIGH + FILLER && fillers.length < 10) {
    const ptr = abi.alloc(FILLER);
    ok(ptr !== 0, `alloc(${FILLER}) returned 0 at ${guest.memory.buffer.byteLength >>> 20} MiB of memory`);
    fillers.push(ptr);
  }
  const low = [];
  for (let i = 0; i < 64; i += 1) {
    const block = guest.alloc(input);
    if (block.ptr >= HIGH) return { block, fillers, low };
    low.push(block);
  }
  throw new CheckFailed(`no block above 2 GiB in 64 tries, with ${guest.memory.buffer.byteLength >>> 20} MiB of memory`);
}

/**
 * Blocks above 2 GiB, for `echo`: every ABI call with them, and a trap that names one.
 * @param {() => Promise<Guest>} fresh
 * @returns {Check}
 */
function highBlockCheck(fresh) {
  return {
    name: 'blocks above 2 GiB: read, passed to echo, resized and freed; a stale one traps, named',
    run: async () => {
      const guest = await fresh();
      const abi = raw(guest);
      const before = stats(guest);
      const input = pattern(100, 9);
      const { block, fillers, low } = blockAbove2GiB(guest, input);
      const at = `the block at 0x${block.ptr.toString(16)}`;
      sameBytes(guest.read(block.ptr, block.len), input, at);
      const result = abi.call('echo', block.ptr, block.len);
      ok(result !== 0, `echo(${at}) returned 0`);
      sameBytes(guest.takeResult(result, 'echo'), input, `echo(${at})`);
      const grown = guest.realloc(block, 5000);
      sameBytes(guest.read(grown.ptr, input.length), input, `realloc(${at}, 5000)`);
      guest.dealloc(grown);
      for (const small of low) guest.dealloc(small);
      for (const ptr of fillers) abi.free(ptr);
      balanced(guest, before, 'after freeing everything');
      // Resized and then freed: the old pointer is no block any more, whether realloc moved it.
      const trap = throwsGuest(() => guest.free(block.ptr), 'trap', `free(${at}) again`);
      ok(trap.reason !== undefined && namesPointer(trap.reason, block.ptr), `the reason ${JSON.stringify(trap.reason)} names 0x${block.ptr.toString(16)}`);
    },
  };
}

/**
 * The input block the host keeps between calls, with a guest that counts blocks and bytes (echo):
 * it must never show up in a leak check.
 * @param {Fresh} fresh
 * @returns {Check[]}
 */
function inputBlockChecks(fresh) {
  return [
    {
      name: 'the kept input block is one block, left out of liveBlocks and heapBytes, grown by realloc, freed by releaseInputBlock',
      run: async () => {
        const guest = await fresh();
        const abi = raw(guest);
        const start = { live: abi.liveBlocks(), heap: abi.heapBytes() };
        const before = stats(guest);
        equal(fromUtf8.decode(guest.callBytes('echo', 'small')), 'small', 'echo("small")');
        equal(abi.liveBlocks(), start.live + 1, 'raw live_blocks with the kept block');
        balanced(guest, before, 'after the call that made the block');
        for (const len of [100, 1000, 10_000, 65_536, 3]) {
          sameBytes(guest.callBytes('echo', pattern(len, len)), pattern(len, len), `echo(${len} bytes)`);
          equal(abi.liveBlocks(), start.live + 1, `raw live_blocks after echo(${len} bytes)`);
          balanced(guest, before, `after echo(${len} bytes)`);
        }
        // Past the 64 KiB limit: a block of its own, freed after the call.
        sameBytes(guest.callBytes('echo', pattern(65_537, 1)), pattern(65_537, 1), 'echo(64 KiB + 1)');
        equal(abi.liveBlocks(), start.live + 1, 'raw live_blocks after an input past the limit');
        balanced(guest, before, 'after an input past the limit');
        guest.releaseInputBlock();
        equal(abi.liveBlocks(), start.live, 'raw live_blocks after releaseInputBlock');
        equal(abi.heapBytes(), start.heap, 'raw heap_bytes after releaseInputBlock');
        balanced(guest, before, 'after releaseInputBlock');
      },
    },
    {
      name: 'reuseInputBytes: 0 allocates and frees every input',
      run: async () => {
        const guest = await fresh({ reuseInputBytes: 0 });
        const abi = raw(guest);
        const start = abi.liveBlocks();
        equal(fromUtf8.decode(guest.callBytes('echo', 'not kept')), 'not kept', 'echo("not kept")');
        equal(abi.liveBlocks(), start, 'raw live_blocks after the call');
      },
    },
  ];
}

/**
 * callView, with echo: the reader sees the result in place, and the block is freed after it.
 * @param {Fresh} fresh
 * @returns {Check}
 */
function callViewCheck(fresh) {
  return {
    name: 'callView lends the result in place, then frees it, also when the reader throws',
    run: async () => {
      const guest = await fresh();
      const before = stats(guest);
      const input = pattern(1000, 3);
      const returned = guest.callView('echo', input, (view) => {
        ok(view.buffer === guest.memory.buffer, 'the view is of guest memory, not a copy');
        sameBytes(view, input, 'the view');
        let refusedCall = false;
        try {
          guest.liveBlocks();
        } catch (error) {
          refusedCall = error instanceof Error && /callView/.test(error.message);
        }
        ok(refusedCall, 'a call into the guest while the view is lent was not refused');
        return view.length;
      });
      equal(returned, 1000, 'what the reader returned');
      balanced(guest, before, 'after callView');
      const refused = new Error('reader failed');
      /** @type {unknown} */
      let thrown;
      try {
        guest.callView('echo', 'abc', () => {
          throw refused;
        });
      } catch (error) {
        thrown = error;
      }
      equal(thrown, refused, "the reader's error");
      balanced(guest, before, 'after a reader that threw');
    },
  };
}

/**
 * Checks shared by the examples that take inputs: the ownership rule and round trips.
 * @param {string} guestName a key of GUESTS
 * @param {() => Promise<Guest>} fresh
 * @returns {Check[]}
 */
function sampleChecks(guestName, fresh) {
  const sample = GUESTS[guestName].sample;
  if (sample === undefined) return [];
  const name = sample.export ?? guestName;
  const inputs = sample.args.map((arg) => (typeof arg === 'string' ? new TextEncoder().encode(arg) : Uint8Array.from(arg)));
  /** @param {Guest} guest */
  const call = (guest) =>
    sample.returns === 'u32'
      ? guest.callU32(name, ...inputs)
      : sample.returns === 'bytes'
        ? fromUtf8.decode(guest.callBytes(name, ...inputs))
        : guest.callString(name, ...inputs);
  return [
    {
      name: `${name} borrows its inputs: still live and unchanged after the call`,
      run: async () => {
        const guest = await fresh();
        const abi = raw(guest);
        const before = stats(guest);
        const blocks = inputs.map((input) => guest.alloc(input));
        const returned = abi.call(name, ...blocks.flatMap((block) => [block.ptr, block.len]));
        if (sample.returns === 'u32') {
          equal(returned, sample.answer, `${name} result`);
        } else {
          ok(returned !== 0, `${name} returned 0`);
          equal(new TextDecoder().decode(guest.takeResult(returned)), sample.answer, `${name} result`);
        }
        blocks.forEach((block, index) => sameBytes(guest.read(block.ptr, block.len), inputs[index], `input ${index} after the call`));
        for (const block of blocks) guest.dealloc(block); // traps if the guest freed or resized it
        balanced(guest, before, 'after freeing the inputs');
      },
    },
    {
      name: `${name}: ${ROUND_TRIPS} round trips end with live_blocks where it started`,
      run: async () => {
        const guest = await fresh();
        const before = stats(guest);
        ok(before.live !== undefined, 'the guest has no live_blocks');
        for (let i = 0; i < ROUND_TRIPS; i += 1) {
          const answer = call(guest);
          if (answer !== sample.answer) equal(answer, sample.answer, `round trip ${i}`);
        }
        balanced(guest, before, `after ${ROUND_TRIPS} round trips`);
      },
    },
  ];
}

/**
 * Every check of one guest: ABI conformance, then its example checks.
 * @param {string} name a key of GUESTS
 * @param {Uint8Array} bytes the guest's module
 * @param {() => import('guestmem-host').InstantiateOptions} [base] options every instance gets, such as
 *   a new WASI for a wasm32-wasip1 guest
 * @returns {Check[]}
 */
export function guestChecks(name, bytes, base = () => ({})) {
  if (!(name in GUESTS)) throw new Error(`unknown guest ${name}`);
  const functions = GUESTS[name].functions;
  if (functions !== undefined) {
    const outer = base;
    base = () => ({ functions: functions(), ...outer() });
  }
  const fresh = instances(bytes, base);
  return [...conformanceChecks(name, bytes, fresh, base), ...exampleChecks[name](fresh), ...sampleChecks(name, fresh)];
}

// ---- loading -------------------------------------------------------------------------------------

/**
 * `Guest.instantiate` from each kind of source a page or a server has.
 * @param {Uint8Array} bytes any guest's module
 * @returns {Check[]}
 */
export function sourceChecks(bytes) {
  /** @param {Guest} guest @param {string} what */
  const works = (guest, what) => equal(raw(guest).call('abi_version'), 1, `${what}: abi_version()`);
  const copy = () => bytes.slice();
  /** @type {[string, () => unknown][]} */
  const sources = [
    ['a Uint8Array', copy],
    ['an ArrayBuffer', () => copy().buffer],
    ['a WebAssembly.Module', () => WebAssembly.compile(copy())],
    ['a Response with application/wasm', () => new Response(copy(), { headers: { 'content-type': 'application/wasm' } })],
    ['a Response of another type', () => new Response(copy(), { headers: { 'content-type': 'application/octet-stream' } })],
    ['a promise of a Response', () => Promise.resolve(new Response(copy(), { headers: { 'content-type': 'application/wasm' } }))],
    ['a Blob', () => new Blob([copy()])],
  ];
  // A File, as an <input type="file"> gives one (Node has File from version 20).
  if (typeof File === 'function') sources.push(['a File', () => new File([copy()], 'guest.wasm')]);
  return [
    ...sources.map(([what, make]) => ({
      name: `instantiates from ${what}`,
      run: async () => works(await Guest.instantiate(/** @type {any} */ (await make())), what),
    })),
    {
      name: 'a failed Response is an Error',
      run: () => rejects(() => Guest.instantiate(new Response('gone', { status: 404 })), (e) => e instanceof Error && /404/.test(e.message), 'HTTP 404'),
    },
    {
      name: 'a module without the ABI is refused',
      run: () =>
        rejects(
          () => Guest.instantiate(hostileGuest({ omit: ['free'] })),
          (e) => e instanceof GuestError && e.kind === 'abi' && /free/.test(e.message),
          'no free export',
        ),
    },
    {
      name: 'a guest of another ABI version is refused',
      run: () =>
        rejects(
          () => Guest.instantiate(hostileGuest({ abi_version: 2 })),
          (e) => e instanceof GuestError && e.kind === 'abi' && /version 2/.test(e.message),
          'abi_version() = 2',
        ),
    },
  ];
}

// ---- hostile guests --------------------------------------------------------------------------------

/**
 * A hostile guest gets an Error, never a wrong read, and the host still frees what it passed.
 * @returns {Check[]}
 */
export function hostileChecks() {
  const fresh = instances(hostileGuest());
  /**
   * @param {string} title
   * @param {(guest: Guest) => unknown} call
   * @param {import('guestmem-host').GuestErrorKind} kind
   * @param {() => Promise<Guest>} [make]
   */
  const refused = (title, call, kind, make = fresh) => ({
    name: title,
    run: async () => {
      const guest = await make();
      throwsGuest(() => call(guest), kind, title);
      equal(guest.liveBlocks(), 0, `${title}: blocks the host left live`);
    },
  });
  const lyingAlloc = (/** @type {number} */ ptr) => instances(hostileGuest({ alloc: i32(ptr) }));
  return [
    refused('a result pointer past the end of memory is an Error', (g) => g.callBytes('result_beyond'), 'bounds'),
    refused('a result prefix crossing the end of memory is an Error', (g) => g.callBytes('result_straddles'), 'bounds'),
    refused('a negative (>= 2^31) result pointer is an Error', (g) => g.callBytes('result_negative'), 'bounds'),
    refused('a result length beyond memory is an Error, and the input is freed', (g) => g.callString('result_liar', 'input'), 'bounds'),
    refused('a result length that wraps a u32 bounds check is an Error', (g) => g.callBytes('result_wraps', 'input'), 'bounds'),
    refused('a result that is not UTF-8 is an Error for callString', (g) => g.callString('not_utf8'), 'utf8'),
    refused('alloc returning a pointer past the end of memory is an Error', (g) => g.callBytes('result_liar', 'input'), 'bounds', lyingAlloc(PAGE + 64)),
    {
      // Found by hostile-results.test.mjs: [0, 0) fitted the detached view, whose slice threw.
      name: 'read(0, 0) after memory.grow(0) detached the view is empty, not a TypeError',
      run: async () => {
        const guest = await fresh();
        equal(guest.read(0, 4).length, 4, 'read(0, 4)');
        guest.memory.grow(0);
        equal(guest.read(0, 0).length, 0, 'read(0, 0)');
      },
    },
    {
      name: 'alloc returning a block that crosses the end of memory is an Error, and nothing is written',
      run: async () => {
        const guest = await lyingAlloc(PAGE - 4)();
        throwsGuest(() => guest.callBytes('result_liar', 'eight by'), 'bounds', 'an 8-byte input at 0xfffc');
        sameBytes(memoryBytes(guest).subarray(PAGE - 4), [0, 0, 0, 0], 'the last 4 bytes of memory');
      },
    },
    refused(
      'last_error returning a pointer past the end of memory is an Error',
      (g) => g.callBytes('fail'),
      'bounds',
      instances(hostileGuest({ last_error: i32(PAGE * 4) })),
    ),
    {
      name: 'a 0 result is an Error carrying last_error, and the message block is freed',
      run: async () => {
        const guest = await fresh();
        const error = throwsGuest(() => guest.callBytes('fail'), 'error', 'fail()');
        equal(error.reason, 'nope', 'the reason');
        equal(error.export, 'fail', 'the export');
        equal(guest.liveBlocks(), 0, 'blocks left live');
      },
    },
    {
      name: 'callU32: a 0 answer is not mistaken for an error left pending by an earlier call',
      run: async () => {
        const guest = await fresh();
        equal(raw(guest).call('fail'), 0, 'raw fail()');
        equal(guest.callU32('zero'), 0, 'zero() after a failure nobody read');
        equal(guest.lastError(), undefined, 'the stale error after callU32');
        const error = throwsGuest(() => guest.callU32('fail'), 'error', 'callU32 of fail()');
        equal(error.reason, 'nope', 'the reason');
      },
    },
    {
      name: 'a trap is an Error carrying the recorded reason, and the instance is dead afterwards',
      run: async () => {
        const guest = await fresh();
        const error = throwsGuest(() => guest.callBytes('boom', 'input'), 'trap', 'boom()');
        equal(error.reason, 'boom', `the reason recorded at 0x${BOOM_AT.toString(16)}`);
        ok(error.message.includes('boom'), 'the message carries the reason');
        ok(error.cause instanceof WebAssembly.RuntimeError, 'the cause is the RuntimeError');
        ok(guest.trapped, 'the Guest knows it trapped');
        const dead = throwsGuest(() => guest.callString('fail'), 'dead', 'a call after the trap');
        equal(dead.cause, error, 'the dead error points at the trap');
      },
    },
    {
      name: 'a trap whose last_error points outside memory is still a trap, without a reason',
      run: async () => {
        const guest = await instances(hostileGuest({ last_error: i32(PAGE * 4) }))();
        const error = throwsGuest(() => guest.callBytes('boom', 'input'), 'trap', 'boom()');
        equal(error.reason, undefined, 'the reason');
        ok(error.cause instanceof WebAssembly.RuntimeError, 'the cause is the RuntimeError');
        ok(error.message.includes(/** @type {Error} */ (error.cause).message), 'the message falls back on the RuntimeError');
      },
    },
    {
      name: 'memory growth during a call: the host reads through a new view, never a detached one',
      run: async () => {
        const guest = await fresh();
        const stale = new Uint8Array(guest.memory.buffer);
        equal(guest.callString('grow_then_result', 'input'), 'ABC', 'result written in the new page');
        // The planted fault: the view a naive host kept is detached, and reads nothing.
        equal(stale.byteLength, 0, 'the view taken before the call');
        equal(stale[PAGE + 4], undefined, 'a read through the stale view');
        equal(guest.memory.buffer.byteLength, 2 * PAGE, 'memory size after the call');
        equal(guest.liveBlocks(), 0, 'blocks left live');
      },
    },
  ];
}

/**
 * What the host library does beyond the example guests, with hand-assembled guests: the
 * guestmem_NAME export rule, allocation failures midway through a call's inputs, imports and a
 * browser-style WASI polyfill, reactor initialisation, results lent by callView.
 * @returns {Check[]}
 */
export function libraryChecks() {
  const allocCalls = { name: 'alloc_calls', params: 0, results: 1, body: [op.globalGet, GLOBALS.allocs] };
  return [
    {
      name: 'guestmem_free and guestmem_realloc are used over free and realloc (wasm32-wasip1 guests)',
      run: async () => {
        // The plain free and realloc trap: a host that called them would fail here.
        const guest = await Guest.instantiate(hostileGuest({ prefixed: ['free', 'realloc'] }));
        equal(abiExportName(guest.instance.exports, 'free'), 'guestmem_free', 'the export used for free');
        equal(abiExportName(guest.instance.exports, 'alloc'), 'alloc', 'the export used for alloc');
        const block = guest.alloc('abc');
        equal(guest.liveBlocks(), 1, 'live blocks after alloc');
        guest.free(block.ptr);
        equal(guest.liveBlocks(), 0, 'live blocks after free');
        const kept = guest.alloc('x');
        // This guest's realloc always fails: an alloc error, not the trap of the plain one.
        throwsGuest(() => guest.realloc(kept, 100), 'alloc', 'realloc through guestmem_realloc');
        guest.dealloc(kept);
        // The kept input block grows through guestmem_realloc too.
        equal(guest.callU32('zero', 'x'), 0, 'zero("x")');
        throwsGuest(() => guest.callU32('zero', 'y'.repeat(100)), 'alloc', 'growing the input block');
        equal(guest.liveBlocks(), 0, 'live blocks at the end');
      },
    },
    {
      name: 'a guest whose ABI exports are all guestmem_NAME is a guest',
      run: async () => {
        const names = [...REQUIRED_EXPORTS, 'live_blocks'];
        const guest = await Guest.instantiate(hostileGuest({ prefixed: names }));
        for (const name of names) equal(abiExportName(guest.instance.exports, name), `guestmem_${name}`, `the export used for ${name}`);
        const error = throwsGuest(() => guest.callBytes('fail'), 'error', 'fail() through guestmem_last_error');
        equal(error.reason, 'nope', 'the reason');
        equal(guest.callU32('zero', 'input'), 0, 'zero("input")');
        equal(guest.liveBlocks(), 0, 'live blocks through guestmem_live_blocks');
      },
    },
    {
      name: "when a later input's alloc fails, the inputs allocated before it are freed",
      run: async () => {
        const guest = await Guest.instantiate(hostileGuest({ allocFailsAt: 3, extra: [allocCalls] }), { reuseInputBytes: 0 });
        const error = throwsGuest(() => guest.callU32('zero', 'first', 'second', 'third'), 'alloc', 'three inputs, the third alloc failing');
        equal(error.export, 'alloc', 'the export that failed');
        equal(guest.callU32('alloc_calls'), 3, 'alloc calls');
        equal(guest.liveBlocks(), 0, 'blocks left live');
      },
    },
    {
      name: "when the input block's alloc or realloc fails, nothing leaks and the next call works",
      run: async () => {
        const guest = await Guest.instantiate(hostileGuest({ allocFailsAt: 1, extra: [allocCalls] }));
        throwsGuest(() => guest.callU32('zero', 'a', 'b'), 'alloc', 'the first input block alloc');
        equal(guest.liveBlocks(), 0, 'blocks left live after the failed alloc');
        equal(guest.callU32('zero', 'a', 'b'), 0, 'the next call');
        equal(guest.callU32('alloc_calls'), 2, 'alloc calls');
        equal(guest.callU32('live_blocks'), 1, 'raw live_blocks: the kept block');
        // This guest's realloc always fails: the old block stays, and stays out of liveBlocks.
        throwsGuest(() => guest.callU32('zero', new Uint8Array(1000)), 'alloc', 'growing the input block');
        equal(guest.liveBlocks(), 0, 'blocks left live after the failed realloc');
        equal(guest.callU32('zero', 'fits'), 0, 'a call that fits the old block');
        guest.releaseInputBlock();
        equal(guest.callU32('live_blocks'), 0, 'raw live_blocks after releaseInputBlock');
      },
    },
    {
      name: 'imports are given to the guest; an import that throws is a trap',
      run: async () => {
        const bytes = wasiGuest();
        const imports = { env: { host_add: (/** @type {number} */ a, /** @type {number} */ b) => a + b } };
        // No WASI here: the one WASI import is a stub, passed like any other.
        const guest = await Guest.instantiate(bytes, { imports: { ...imports, wasi_snapshot_preview1: { environ_sizes_get: () => 0 } } });
        equal(guest.callU32('add_via_host', 40, 2), 42, 'add_via_host(40, 2)');
        await rejects(
          () => Guest.instantiate(bytes, /** @type {any} */ (imports)),
          (e) => e instanceof TypeError && /env/.test(e.message),
          'imports passed as the options themselves',
        );
        equal(guest.callU32('initialized'), 1, 'initialized(): the host ran _initialize');
        const refusal = new Error('host says no');
        const failing = await Guest.instantiate(bytes, {
          imports: {
            env: {
              host_add: () => {
                throw refusal;
              },
            },
            wasi_snapshot_preview1: { environ_sizes_get: () => 0 },
          },
        });
        const error = throwsGuest(() => failing.callU32('add_via_host', 1, 2), 'trap', 'an import that throws');
        equal(error.cause, refusal, 'the cause');
        ok(failing.trapped, 'the guest is dead');
      },
    },
    {
      name: 'a WASI polyfill of the node:wasi shape (a browser) gives imports, user imports win, initialize runs _initialize',
      run: async () => {
        /** @type {WebAssembly.Instance | undefined} */
        let bound;
        /** @param {number} count */
        const environSizes = (count) => (/** @type {number} */ countAt, /** @type {number} */ sizeAt) => {
          const memory = new DataView(/** @type {WebAssembly.Memory} */ (bound?.exports.memory).buffer);
          memory.setUint32(countAt, count, true);
          memory.setUint32(sizeAt, 4 * count, true);
          return 0;
        };
        const polyfill = {
          wasiImport: { environ_sizes_get: environSizes(3) },
          /** @param {WebAssembly.Instance} instance */
          initialize(instance) {
            bound = instance;
            /** @type {() => void} */ (instance.exports._initialize)();
          },
        };
        const env = { host_add: (/** @type {number} */ a, /** @type {number} */ b) => a + b };
        const guest = await Guest.instantiate(wasiGuest(), { wasi: polyfill, imports: { env } });
        equal(guest.callU32('initialized'), 1, 'initialized()');
        equal(guest.callU32('env_count'), 3, "env_count() through the polyfill's environ_sizes_get");
        equal(guest.callU32('add_via_host', 1, 2), 3, 'add_via_host(1, 2)');
        const overridden = await Guest.instantiate(wasiGuest(), {
          wasi: polyfill,
          imports: { env, wasi_snapshot_preview1: { environ_sizes_get: environSizes(7) } },
        });
        equal(overridden.callU32('env_count'), 7, 'env_count() with environ_sizes_get from imports');
      },
    },
    {
      name: 'a reactor without WASI has its _initialize run; a WASI command (_start) is refused',
      run: async () => {
        equal((await Guest.instantiate(hostileGuest({ initialize: true }))).callU32('initialized'), 1, 'initialized() with _initialize');
        equal((await Guest.instantiate(hostileGuest())).callU32('initialized'), 0, 'initialized() without _initialize');
        const command = hostileGuest({ extra: [{ name: '_start', params: 0, results: 0, body: [op.unreachable] }] });
        await rejects(
          () => Guest.instantiate(command),
          (e) => e instanceof GuestError && e.kind === 'abi' && /_start/.test(e.message),
          'a module exporting _start',
        );
      },
    },
    {
      name: 'callView: a failed call is an Error and the reader is not called; a bad result is freed',
      run: async () => {
        const guest = await Guest.instantiate(hostileGuest());
        let called = false;
        const read = () => {
          called = true;
        };
        const error = throwsGuest(() => guest.callView('fail', read), 'error', 'callView of fail()');
        equal(error.reason, 'nope', 'the reason');
        throwsGuest(() => guest.callView('result_liar', 'input', read), 'bounds', 'callView of result_liar');
        ok(!called, 'the reader was called');
        equal(guest.liveBlocks(), 0, 'blocks left live');
      },
    },
  ];
}

// ---- host functions ------------------------------------------------------------------------------

// The host functions of the Rust conformance (harness/src/checks/imports.rs), mirrored: the same
// answers, messages and hostile cases, so that both hosts are held to the same outcomes.

/** The salutation the well-behaved host gives `greet`. */
const SALUTATION = 'Hello';
/** What `env.salutation` says when the host has none. */
const NO_SALUTATION = 'the host has no salutation today';
/** What `env.fetch` answers for key `fail`. */
const FETCH_FAILURE = 'no record for this key';
/** What `env.count` answers for `fail`. */
const COUNT_FAILURE = 'cannot count that';
/** The length of `env.grow`'s answer: enough to grow memory by 16 pages. */
const GROWN = 1 << 20;

/**
 * The hostile answers, by case number: what the host returns, and words the guest's error must
 * hold (harness/src/checks/imports.rs, HOSTILE).
 * @type {readonly (readonly [what: string, words: string])[]}
 */
const HOSTILE = Object.freeze([
  ['a misaligned pointer', 'not a live block'],
  ['a pointer past the end of memory', 'not a live block'],
  ['a pointer into the middle of a live block', 'not a live block'],
  ['a live block whose prefix runs past it', 'bytes in a block with room for'],
  ['a freed block', 'not a live block'],
  ['0 and no message', 'returned 0 and no error message'],
]);

const utf8 = new TextEncoder();

/**
 * The `greet` host: a salutation (none: `env.salutation` fails), and a log.
 * @param {string | null} salutation
 * @param {(line: string) => void} log
 * @returns {import('guestmem-host').HostFunctions}
 */
export function greetFunctions(salutation, log) {
  return {
    env: {
      salutation: hostFunction({ result: 'string', fallible: true }, () => {
        if (salutation === null) throw new Error(NO_SALUTATION);
        return salutation;
      }),
      log: hostFunction({ params: ['string'] }, (line) => log(line)),
    },
  };
}

/**
 * The well-behaved host functions of the `imports` guest; `fetch` and `grow` can be replaced.
 * @param {{ fetch?: (key: string) => Uint8Array | string, grow?: (bytes: Uint8Array) => Uint8Array }} [replace]
 * @returns {import('guestmem-host').HostFunctions}
 */
function importsFunctions(replace = {}) {
  return {
    env: {
      fetch: hostFunction(
        { params: ['string'], result: 'bytes', fallible: true },
        replace.fetch ??
          ((key) => {
            if (key === 'fail') throw new Error(FETCH_FAILURE);
            return utf8.encode(key.repeat(3));
          }),
      ),
      count: hostFunction({ params: ['string'], result: 'u32', fallible: true }, (text) => {
        if (text === 'fail') throw new Error(COUNT_FAILURE);
        return utf8.encode(text).length;
      }),
      store: hostFunction({ params: ['string', 'bytes'], fallible: true }, (key, value) => {
        if (key === '') throw new Error(`empty key for ${value.length} bytes`);
      }),
      grow: hostFunction(
        { params: ['bytes'], result: 'bytes' },
        replace.grow ??
          ((bytes) => {
            const answer = new Uint8Array(GROWN).fill(0x5a);
            answer.set(bytes);
            return answer;
          }),
      ),
    },
  };
}

/**
 * A hostile host's answer number `answer` (0-based, as in HOSTILE), written against the raw
 * exports, since the library cannot return a bad block; any other number gets a valid block
 * of 3 bytes.
 * @param {() => WebAssembly.Instance} instance
 * @returns {(answer: number) => number}
 */
function hostileAnswer(instance) {
  return (answer) => {
    const exports = /** @type {Record<string, any>} */ (instance().exports);
    const alloc = (/** @type {number} */ len) => exports.alloc(len) >>> 0;
    const memory = /** @type {WebAssembly.Memory} */ (exports.memory);
    switch (answer) {
      case 0:
        return 12;
      case 1:
        return Math.max(memory.buffer.byteLength - 8, 8) & ~7;
      case 2:
        return alloc(64) + 16;
      case 3: {
        const ptr = alloc(8);
        new DataView(memory.buffer).setUint32(ptr, 1000, true);
        return ptr;
      }
      case 4: {
        const ptr = alloc(8);
        exports[abiExportName(exports, 'free') ?? 'free'](ptr);
        return ptr;
      }
      case 5:
        return 0;
      default: {
        const ptr = alloc(7);
        new Uint8Array(memory.buffer).set([3, 0, 0, 0, 0x61, 0x62, 0x63], ptr);
        return ptr;
      }
    }
  };
}

/**
 * An `imports` guest under the well-behaved host functions, with hostile raw imports for
 * `env.hostile` and `env.trusted`.
 * @param {Uint8Array} bytes
 * @param {Parameters<typeof importsFunctions>[0]} [replace]
 * @param {import('guestmem-host').GuestOptions} [options]
 * @returns {Promise<Guest>}
 */
async function importsGuest(bytes, replace, options) {
  /** @type {Guest | undefined} */
  let guest;
  const hostile = hostileAnswer(() => /** @type {Guest} */ (guest).instance);
  guest = await Guest.instantiate(bytes, {
    ...options,
    functions: importsFunctions(replace),
    imports: { env: { hostile, trusted: hostile } },
  });
  return guest;
}

/**
 * A `host` GuestError: a host function failed where the guest cannot be told, and the call trapped.
 * @param {() => unknown} action
 * @param {string} hostFunctionName `module.name`
 * @param {RegExp} reason what its message must match
 * @param {string} what
 * @returns {GuestError}
 */
function throwsHost(action, hostFunctionName, reason, what) {
  const error = throwsGuest(action, 'host', what);
  equal(error.hostFunction, hostFunctionName, `${what}: the host function named`);
  ok(reason.test(error.reason ?? ''), `${what}: the reason ${JSON.stringify(error.reason)} does not match ${reason}`);
  ok(error.message.includes(`host function \`${hostFunctionName}\``), `${what}: the message ${JSON.stringify(error.message)} does not name ${hostFunctionName}`);
  return error;
}

/**
 * A small guest assembled by hand whose `pass(ptr, len)` hands any range to the import
 * `env.take(ptr, len) -> i32`, and whose `host_error()` returns what `guestmem.last_error` gives:
 * for what the Rust guests never do (ranges outside memory, bytes that are not UTF-8).
 */
function passingGuest(/** @type {{ allocFailsAt?: number }} */ options = {}) {
  return hostileGuest({
    ...options,
    imports: [
      { module: 'env', name: 'take', params: 2, results: 1 },
      { module: 'guestmem', name: 'last_error', params: 0, results: 1 },
    ],
    extra: [
      { name: 'pass', params: 2, results: 1, body: [...local(0), ...local(1), ...call(0)] },
      { name: 'host_error', params: 0, results: 1, body: call(1) },
    ],
  });
}

/**
 * The import direction (docs/ABI.md, "Host functions (imports)"): the greet example and the
 * imports test guest under host functions given to `Guest.instantiate`, well-behaved and hostile.
 * @param {Uint8Array} greetBytes
 * @param {Uint8Array} importsBytes
 * @returns {Check[]}
 */
export function hostFunctionChecks(greetBytes, importsBytes) {
  /**
   * @param {string | null} salutation
   * @param {(line: string) => void} log
   */
  const greet = (salutation, log) => Guest.instantiate(greetBytes, { functions: greetFunctions(salutation, log) });
  return [
    {
      name: "imports: a host function whose wasm type is not the one the guest's interface section declares is refused before the guest runs",
      run: async () => {
        /** @type {[string, import('guestmem-host').HostFunction, RegExp][]} */
        const mismatched = [
          // The guest: fn count(text: &str) -> Result<u32, String>, an i32 result.
          ['a u64 result for a u32', hostFunction({ params: ['string'], result: 'u64', fallible: true }, () => 1n), /\(i32 i32\) -> i64, .*count\(text: string\) -> u32, fallible`, of type \(i32 i32\) -> i32$/],
          ['a u32 argument for a string', hostFunction({ params: ['u32'], result: 'u32', fallible: true }, () => 1), /\(i32\) -> i32, .* of type \(i32 i32\) -> i32$/],
          // fn store(key: &str, value: &[u8]) -> Result<(), String>: fallible, so it returns 1 or 0.
          ['no result for a fallible ()', hostFunction({ params: ['string', 'bytes'] }, () => {}), /\(i32 i32 i32 i32\) -> \(\), .* of type \(i32 i32 i32 i32\) -> i32$/],
        ];
        const replaced = ['count', 'count', 'store'];
        for (const [index, [what, fn, message]] of mismatched.entries()) {
          const functions = importsFunctions();
          functions.env[replaced[index]] = fn;
          const options = { functions, imports: { env: { hostile: () => 0, trusted: () => 0 } } };
          await rejects(
            () => Guest.instantiate(importsBytes, options),
            (e) => e instanceof GuestError && e.kind === 'interface' && e.hostFunction === `env.${replaced[index]}` && message.test(e.message),
            what,
          );
          // Without the section there is nothing to check against: the guest is instantiated.
          ok((await Guest.instantiate(importsBytes, { ...options, interface: null })) instanceof Guest, `${what}, with interface: null`);
        }
      },
    },
    {
      name: 'greet: env.salutation and env.log make "Hello, guestmem!", and 101 greetings leave live_blocks where it was',
      run: async () => {
        /** @type {string[]} */
        const logged = [];
        const guest = await greet(SALUTATION, (line) => logged.push(line));
        const before = guest.liveBlocks();
        equal(guest.callString('greet', 'guestmem'), 'Hello, guestmem!', 'greet("guestmem")');
        equal(logged.join('|'), 'Hello, guestmem!', 'what env.log received');
        for (let i = 0; i < 100; i += 1) guest.callString('greet', 'guestmem');
        equal(logged.length, 101, 'lines logged');
        equal(guest.liveBlocks(), before, 'live_blocks after 101 greetings');
      },
    },
    {
      name: 'greet: a host without a salutation fails the call with its message; nothing is logged or leaked',
      run: async () => {
        /** @type {string[]} */
        const logged = [];
        const guest = await greet(null, (line) => logged.push(line));
        const before = guest.liveBlocks();
        const error = throwsGuest(() => guest.callString('greet', 'guestmem'), 'error', 'greet without a salutation');
        equal(error.reason, NO_SALUTATION, 'the reason');
        equal(logged.length, 0, 'lines logged');
        equal(guest.liveBlocks(), before, 'live_blocks after the failed greeting');
        equal(guest.lastError(), undefined, 'an error still pending in the guest');
      },
    },
    {
      name: 'greet: env.log, which cannot fail, throwing traps the call: a host error naming env.log, and the instance is dead',
      run: async () => {
        const thrown = new Error('the log is full');
        const guest = await greet(SALUTATION, () => {
          throw thrown;
        });
        const error = throwsHost(() => guest.callString('greet', 'guestmem'), 'env.log', /^the log is full$/, 'greet with a log that throws');
        equal(error.export, 'greet', 'the export');
        equal(error.cause, thrown, 'the cause');
        ok(guest.trapped, 'the Guest knows it trapped');
        throwsGuest(() => guest.callString('greet', 'guestmem'), 'dead', 'a call after the trap');
      },
    },
    {
      name: 'imports: host results, 0 B to 30,000 B, are read and freed by the guest',
      run: async () => {
        const guest = await importsGuest(importsBytes);
        const before = guest.liveBlocks();
        for (const key of ['', 'k', 'key of some length', 'x'.repeat(30_000)]) {
          sameBytes(guest.callBytes('relay', key), utf8.encode(key.repeat(3)), `relay(${key.length} bytes)`);
        }
        equal(guest.liveBlocks(), before, 'live_blocks after the calls');
      },
    },
    {
      name: "imports: host failures reach the guest's last_error: bytes, a u32 (0 is an answer), none (1 or 0)",
      run: async () => {
        const guest = await importsGuest(importsBytes);
        const before = guest.liveBlocks();
        equal(throwsGuest(() => guest.callBytes('relay', 'fail'), 'error', 'relay("fail")').reason, FETCH_FAILURE, 'relay("fail")');
        equal(guest.callU32('relay_count', ''), 0, 'relay_count(""): the answer 0');
        equal(guest.callU32('relay_count', 'héllo'), 6, 'relay_count("héllo"): UTF-8 bytes');
        equal(throwsGuest(() => guest.callU32('relay_count', 'fail'), 'error', 'relay_count("fail")').reason, COUNT_FAILURE, 'relay_count("fail")');
        equal(guest.callU32('relay_store', 'key', 'value'), 1, 'relay_store("key", "value")');
        equal(throwsGuest(() => guest.callU32('relay_store', '', 'value'), 'error', 'relay_store("", "value")').reason, 'empty key for 5 bytes', 'relay_store("", ..)');
        equal(guest.liveBlocks(), before, 'live_blocks after the calls');
      },
    },
    {
      name: "imports: memory grows inside a host function (a 1 MiB answer); the guest's own bytes are unchanged",
      run: async () => {
        const guest = await importsGuest(importsBytes);
        const before = guest.liveBlocks();
        const size = guest.memory.buffer.byteLength;
        // relay_grow fails if its own block changed or does not start the answer.
        equal(guest.callU32('relay_grow', "the guest's own bytes"), GROWN, 'relay_grow');
        ok(guest.memory.buffer.byteLength > size, `memory did not grow (${size} bytes)`);
        equal(guest.liveBlocks(), before, 'live_blocks after the call');
      },
    },
    {
      name: 'imports: hostile results through a fallible import are errors naming env.hostile; a valid block is read',
      run: async () => {
        const guest = await importsGuest(importsBytes);
        for (const [answer, [what, words]] of HOSTILE.entries()) {
          const error = throwsGuest(() => guest.callU32('relay_hostile', String(answer)), 'error', `env.hostile returning ${what}`);
          const reason = error.reason ?? '';
          ok(reason.includes('host function `env.hostile`') && reason.includes(words), `env.hostile returning ${what}: ${JSON.stringify(reason)}, expected ${JSON.stringify(words)}`);
        }
        equal(guest.callU32('relay_hostile', '99'), 3, 'relay_hostile with a valid block');
      },
    },
    {
      name: 'imports: hostile results through an import that cannot fail trap, with a reason naming env.trusted',
      run: async () => {
        for (const [answer, [what, words]] of HOSTILE.entries()) {
          const guest = await importsGuest(importsBytes);
          const error = throwsGuest(() => guest.callU32('relay_trusted', String(answer)), 'trap', `env.trusted returning ${what}`);
          const reason = error.reason ?? '';
          ok(reason.includes('host function `env.trusted`') && reason.includes(words), `env.trusted returning ${what}: ${JSON.stringify(reason)}, expected ${JSON.stringify(words)}`);
        }
      },
    },
    {
      name: 'imports: env.grow, which cannot fail, throwing traps the call: a host error naming env.grow',
      run: async () => {
        const guest = await importsGuest(importsBytes, {
          grow: () => {
            throw new TypeError('grow was told to throw');
          },
        });
        throwsHost(() => guest.callU32('relay_grow', 'abc'), 'env.grow', /^grow was told to throw$/, 'relay_grow with a grow that throws');
        throwsGuest(() => guest.callBytes('relay', 'k'), 'dead', 'a call after the trap');
      },
    },
    {
      name: 'imports: a host function returning what its signature does not allow traps, naming it',
      run: async () => {
        const guest = await importsGuest(importsBytes, { fetch: () => /** @type {any} */ (42) });
        throwsHost(() => guest.callBytes('relay', 'k'), 'env.fetch', /number 42.*bytes/, 'env.fetch returning 42');
      },
    },
    {
      name: 'imports: inside a host function alloc and dealloc work; a call back into the guest is refused, and the call waiting for it fails with the refusal',
      run: async () => {
        /** @type {Guest | undefined} */
        let guest;
        /** @type {unknown[]} */
        const refusals = [];
        const scratch = await importsGuest(importsBytes, {
          fetch: (key) => {
            const self = /** @type {Guest} */ (guest);
            // The contract allows these: a block of the guest's heap, written and freed.
            const block = self.alloc('scratch');
            sameBytes(self.read(block.ptr, block.len), utf8.encode('scratch'), 'the scratch block');
            self.dealloc(block);
            if (key === 'alloc only') return 'done';
            for (const call of [() => self.callBytes('relay', 'again'), () => self.lastError(), () => self.liveBlocks()]) {
              try {
                call();
                refusals.push(undefined);
              } catch (error) {
                refusals.push(error);
              }
            }
            // Caught, and a result returned anyway: the guest call still fails.
            return 'ignored';
          },
        });
        guest = scratch;
        const before = scratch.liveBlocks();
        equal(new TextDecoder().decode(scratch.callBytes('relay', 'alloc only')), 'done', 'relay with alloc and dealloc inside');
        equal(scratch.liveBlocks(), before, 'live_blocks after it');
        const error = throwsHost(() => scratch.callBytes('relay', 'again'), 'env.fetch', /^relay: refused inside host function `env\.fetch`/, 'relay calling back');
        equal(refusals.length, 3, 'calls tried');
        for (const [index, refusal] of refusals.entries()) {
          ok(refusal instanceof Error && /refused inside host function `env\.fetch`/.test(refusal.message), `call ${index} was not refused: ${refusal}`);
        }
        equal(error.cause, refusals[0], 'the cause: the first refusal');
        ok(scratch.trapped, 'the Guest knows the call trapped');
      },
    },
    {
      name: 'imports: a trap of a call made inside a host function (a bad free) traps the call waiting for it',
      run: async () => {
        /** @type {Guest | undefined} */
        let guest;
        guest = await importsGuest(importsBytes, {
          fetch: () => {
            /** @type {Guest} */ (guest).free(8);
            return 'unreachable';
          },
        });
        const error = throwsHost(() => /** @type {Guest} */ (guest).callBytes('relay', 'k'), 'env.fetch', /^free trapped: guestmem: not a live block/, 'relay with a bad free inside');
        ok(error.cause instanceof GuestError && error.cause.kind === 'trap', `the cause: ${error.cause}`);
      },
    },
    {
      name: 'host functions: an argument outside memory, or not UTF-8 for a string, or another wasm arity than declared traps, naming the function',
      run: async () => {
        const bytes = passingGuest();
        /** @param {readonly import('guestmem-host').HostParam[]} params */
        const taking = (params) =>
          Guest.instantiate(bytes, { functions: { env: { take: hostFunction({ params, result: 'u32' }, () => 7) } } });
        equal((await taking(['string'])).callU32('pass', 'fine'), 7, 'pass("fine")');
        const notUtf8 = await taking(['string']);
        const at = notUtf8.alloc(new Uint8Array([0x66, 0xff]));
        throwsHost(() => notUtf8.callU32('pass', at.ptr, at.len), 'env.take', /^argument 1: .*not UTF-8/, 'a string argument that is not UTF-8');
        const outside = await taking(['bytes']);
        throwsHost(() => outside.callU32('pass', PAGE - 2, 8), 'env.take', /^argument 1: 8 bytes at 0xfffe are outside linear memory/, 'bytes past the end of memory');
        const arity = await taking(['string', 'u32']);
        throwsHost(() => arity.callU32('pass', 'x'), 'env.take', /passed 2 wasm arguments, its signature has 3/, 'a signature with another arity');
      },
    },
    {
      name: "host functions: a bytes result the guest's alloc cannot hold is a failure (fallible) or a trap; the message is cleared by the next host function call",
      run: async () => {
        /** @param {boolean} fallible @param {number} allocFailsAt */
        const guest = (fallible, allocFailsAt) =>
          Guest.instantiate(passingGuest({ allocFailsAt }), {
            functions: { env: { take: hostFunction({ params: ['u32', 'u32'], result: 'bytes', fallible }, (n) => 'x'.repeat(n)) } },
          });
        // alloc fails on its 1st call: the result of the first host function call.
        const failing = await guest(true, 1);
        equal(raw(failing).call('pass', 3, 0), 0, 'pass(3) with alloc failing');
        equal(new TextDecoder().decode(failing.callBytes('host_error')), "the guest's alloc(7) returned 0", 'guestmem.last_error');
        equal(raw(failing).call('host_error'), 0, 'guestmem.last_error once taken');
        const cleared = await guest(true, 1);
        equal(raw(cleared).call('pass', 3, 0), 0, 'pass(3) with alloc failing');
        ok(raw(cleared).call('pass', 2, 0) !== 0, 'pass(2) afterwards');
        equal(raw(cleared).call('host_error'), 0, 'guestmem.last_error after a call that succeeded');
        const trapping = await guest(false, 1);
        throwsHost(() => trapping.callBytes('pass', 3, 0), 'env.take', /^the guest's alloc\(7\) returned 0$/, 'an infallible result without memory');
      },
    },
    {
      name: 'host functions: u64 and i64 arrive as bigints and go back as i64; a result out of its kind\'s range traps',
      run: async () => {
        // pass64(x: i64) -> i64 hands x to env.wide(x: i64) -> i64; called through the raw export.
        const bytes = hostileGuest({
          imports: [{ module: 'env', name: 'wide', params: 1, results: 1, valueType: I64 }],
          extra: [{ name: 'pass64', params: 1, results: 1, valueType: I64, body: [...local(0), ...call(0)] }],
        });
        /** @type {unknown[]} */
        const received = [];
        /**
         * @param {'u64' | 'i64'} kind
         * @param {(x: bigint) => number | bigint} answer
         */
        const wide = async (kind, answer) => {
          const guest = await Guest.instantiate(bytes, {
            functions: {
              env: {
                wide: hostFunction({ params: [kind], result: kind }, (x) => {
                  received.push(x);
                  return answer(x);
                }),
              },
            },
          });
          return /** @type {(x: bigint) => bigint} */ (guest.instance.exports.pass64);
        };
        equal(/** @type {any} */ ((await wide('u64', (x) => x))(-1n)), -1n, 'u64 2^64 - 1 back in the i64 bits');
        equal(received[0], 2n ** 64n - 1n, 'the u64 argument: -1 in the wasm i64 bits');
        equal(/** @type {any} */ ((await wide('i64', () => 5))(0n)), 5n, 'a number returned for an i64');
        equal(/** @type {any} */ ((await wide('i64', (x) => x - 1n))(-(2n ** 63n) + 1n)), -(2n ** 63n), 'i64 minimum');
        equal(received[2], -(2n ** 63n) + 1n, 'the i64 argument, signed');
        /** @type {[string, 'u64' | 'i64', () => number | bigint, RegExp][]} */
        const outOfRange = [
          ['2^64 for a u64', 'u64', () => 2n ** 64n, /bigint 18446744073709551616, not an integer in the range of u64/],
          ['-1 for a u64', 'u64', () => -1n, /range of u64/],
          ['2^63 for an i64', 'i64', () => 2n ** 63n, /range of i64/],
          ['an unsafe number for an i64', 'i64', () => 2 ** 60, /range of i64/],
        ];
        for (const [what, kind, answer, message] of outOfRange) {
          const pass64 = await wide(kind, answer);
          let thrown;
          try {
            pass64(0n);
          } catch (error) {
            thrown = /** @type {{ hostFunction?: string, message?: string }} */ (error);
          }
          ok(thrown?.hostFunction === 'env.wide' && message.test(thrown.message ?? ''), `${what}: threw ${thrown?.message}`);
        }
      },
    },
    {
      name: 'host functions: signatures are checked, guestmem is reserved, a function is given once',
      run: async () => {
        const bytes = passingGuest();
        const take = hostFunction({ params: ['bytes'], result: 'u32' }, () => 1);
        /** @type {[string, () => unknown][]} */
        const wrong = [
          ['a misspelt key', () => hostFunction(/** @type {any} */ ({ params: ['bytes'], falible: true }), () => 1)],
          ['an unknown kind', () => hostFunction(/** @type {any} */ ({ params: ['str'] }), () => 1)],
          ['an unknown result', () => hostFunction(/** @type {any} */ ({ result: 'u8' }), () => 1)],
          ['no implementation', () => hostFunction({}, /** @type {any} */ (undefined))],
        ];
        for (const [what, make] of wrong) {
          let thrown;
          try {
            make();
          } catch (error) {
            thrown = error;
          }
          ok(thrown instanceof TypeError, `hostFunction with ${what}: ${thrown}`);
        }
        /** @type {[string, import('guestmem-host').InstantiateOptions, RegExp][]} */
        const refused = [
          ['a plain function', { functions: { env: { take: /** @type {any} */ (() => 1) } } }, /env\.take is not a host function/],
          ['a plain object with a misspelt key', { functions: { env: { take: /** @type {any} */ ({ signature: { reslt: 'u32' }, implementation: () => 1 }) } } }, /unknown signature keys reslt/],
          ['functions.guestmem', { functions: { guestmem: { last_error: take } } }, /guestmem is reserved/],
          ['imports.guestmem beside functions', { functions: { env: { take } }, imports: { guestmem: { last_error: () => 0 } } }, /guestmem is the library's/],
          ['env.take in both', { functions: { env: { take } }, imports: { env: { take: () => 1 } } }, /env\.take is given both/],
        ];
        for (const [what, options, message] of refused) {
          await rejects(() => Guest.instantiate(bytes, options), (e) => e instanceof TypeError && message.test(e.message), what);
        }
      },
    },
  ];
}

/**
 * Every check, grouped, for a driver that has the guests' bytes.
 * @param {Record<string, Uint8Array>} modules guest name -> module bytes, for every name of EXAMPLES
 *   and HOST_FUNCTION_GUESTS
 * @returns {{ suite: string, checks: Check[] }[]}
 */
export function allChecks(modules) {
  return [
    ...EXAMPLES.map((name) => ({ suite: name, checks: guestChecks(name, modules[name]) })),
    { suite: 'greet', checks: guestChecks('greet', modules.greet) },
    { suite: 'loading', checks: sourceChecks(modules.echo) },
    { suite: 'hostile guests', checks: hostileChecks() },
    { suite: 'host library', checks: libraryChecks() },
    { suite: 'host functions', checks: hostFunctionChecks(modules.greet, modules.imports) },
    ...interfaceSuites(modules),
    { suite: 'owned arguments', checks: ownedChecks(modules.in_place, modules.faults) },
  ];
}
