// The package's call path against a minimal hand-written host, on the echo guest:
//
//   cargo build --profile guest --target wasm32-unknown-unknown -p echo
//   node hosts/js/test/bench.mjs           # full: fails if 16 B through the package is over the goal
//   node hosts/js/test/bench.mjs --quick   # CI: a few seconds, prints the ratios, checks nothing else
//
// The baseline is what an article's host does with raw exports: alloc, write the input, call
// echo, read the 4-byte length prefix and the bytes, free both. Each contender has its own
// instance; they run interleaved in rounds in one process (the order alternating), and the
// ratio reported is the median over rounds of package time / baseline time. The goal is on the
// package as users get it (with its kept input block); the package without it is shown too.
//
// One more row, for host functions (the imports guest, harness/guests/imports): relay(key), a
// guest call whose guest calls env.fetch(key), which answers 16 bytes. Both sides call relay
// through the package's callBytes; the baseline's env.fetch is a hand-written wasm import (read
// the key, alloc, write the block), the other's a hostFunction in `functions`, so the ratio is
// the cost of the host-function machinery alone. Shown only: no goal.

import { readFile } from 'node:fs/promises';

import { Guest, hostFunction } from 'guestmem-host';

import { guestPath } from './guests.mjs';

/** 16 B through the package may take at most this many times the baseline's time. */
const GOAL = 1.15;

const quick = process.argv.includes('--quick');
/** Bytes, and calls per contender per round (about 20-50 ms each in full mode). */
const SIZES = [
  { label: '16 B', bytes: 16, calls: 50_000 },
  { label: '1 KiB', bytes: 1024, calls: 30_000 },
  { label: '1 MiB', bytes: 1024 * 1024, calls: 40 },
];
const ROUNDS = quick ? 5 : 41;
const SCALE = quick ? 0.2 : 1;

/**
 * The hand-written host: raw exports, a view taken after each call.
 * @param {WebAssembly.Instance} instance
 * @returns {(input: Uint8Array) => Uint8Array}
 */
function handWritten(instance) {
  const { memory, alloc, dealloc, echo } = /** @type {any} */ (instance.exports);
  return (input) => {
    const len = input.length;
    const ptr = alloc(len) >>> 0;
    new Uint8Array(memory.buffer, ptr, len).set(input);
    const result = echo(ptr, len) >>> 0;
    const resultLen = new DataView(memory.buffer).getUint32(result, true);
    const output = new Uint8Array(memory.buffer, result + 4, resultLen).slice();
    dealloc(result, resultLen + 4);
    dealloc(ptr, len);
    return output;
  };
}

/**
 * @param {(input: Uint8Array) => Uint8Array} echo
 * @param {Uint8Array} input
 * @param {number} calls
 * @returns {number} milliseconds
 */
function time(echo, input, calls) {
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < calls; i += 1) sink += echo(input).length;
  const elapsed = performance.now() - start;
  if (sink !== calls * expected(input)) throw new Error(`the calls returned ${sink} bytes in all, expected ${calls * expected(input)}`);
  return elapsed;
}

/** The length each call returns: echo's input, relay's 16 bytes. @type {(input: Uint8Array) => number} */
let expected = (input) => input.length;

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * @param {Uint8Array} actual
 * @param {Uint8Array} wanted
 * @param {string} who
 */
function sameBytes(actual, wanted, who) {
  if (actual.length !== wanted.length || actual.some((byte, i) => byte !== wanted[i])) {
    throw new Error(`${who}: the call returned other bytes than expected`);
  }
}

/**
 * Times the contenders against the baseline, interleaved in rounds, and prints and returns each
 * contender's median ratio.
 * @param {string} label
 * @param {Uint8Array} input
 * @param {Uint8Array} answer what every call must return
 * @param {number} calls per contender per round
 * @param {(input: Uint8Array) => Uint8Array} baseline
 * @param {[string, (input: Uint8Array) => Uint8Array][]} contenders
 * @returns {Record<string, number>}
 */
function compare(label, input, answer, calls, baseline, contenders) {
  sameBytes(baseline(input), answer, 'the hand-written host');
  for (const [name, run] of contenders) sameBytes(run(input), answer, name);
  // Warm up every contender, so that none pays for compilation inside a round.
  time(baseline, input, calls);
  for (const [, run] of contenders) time(run, input, calls);
  /** @type {number[]} */
  const baseTimes = [];
  /** @type {number[][]} */
  const times = contenders.map(() => []);
  /** @type {number[][]} */
  const roundRatios = contenders.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each contender against a baseline run right next to it, the order alternating.
    contenders.forEach(([, run], index) => {
      let base;
      let own;
      if (round % 2 === 0) {
        base = time(baseline, input, calls);
        own = time(run, input, calls);
      } else {
        own = time(run, input, calls);
        base = time(baseline, input, calls);
      }
      baseTimes.push(base);
      times[index].push(own);
      roundRatios[index].push(own / base);
    });
  }
  const perCall = (/** @type {number[]} */ values) => `${((median(values) / calls) * 1e6).toFixed(0)} ns`;
  console.log(`${label}: baseline ${perCall(baseTimes)}`);
  /** @type {Record<string, number>} */
  const ratios = {};
  contenders.forEach(([name], index) => {
    const ratio = median(roundRatios[index]);
    ratios[`${label} ${name}`] = ratio;
    console.log(`  ${name}: ${perCall(times[index])}, ratio ${ratio.toFixed(3)}`);
  });
  return ratios;
}

const module = await WebAssembly.compile(await readFile(guestPath('echo')));
const baseline = handWritten(await WebAssembly.instantiate(module));
const guest = await Guest.instantiate(module);
// The same package without its kept input block: every input allocated and freed, as the
// baseline does, to show what the reuse is worth.
const unkept = await Guest.instantiate(module, { reuseInputBytes: 0 });
const startLive = [guest.liveBlocks(), unkept.liveBlocks()];
/** @type {[string, (input: Uint8Array) => Uint8Array][]} */
const contenders = [
  ['package', (input) => guest.callBytes('echo', input)],
  ['package, reuseInputBytes: 0', (input) => unkept.callBytes('echo', input)],
];

console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run: ${ROUNDS} rounds; time per call (median), and the median over rounds of time / baseline time`);
/** @type {Record<string, number>} */
let ratios = {};
for (const { label, bytes, calls: fullCalls } of SIZES) {
  const calls = Math.max(2, Math.round(fullCalls * SCALE));
  const input = Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + 3) & 0xff);
  ratios = { ...ratios, ...compare(label, input, input, calls, baseline, contenders) };
}

// Host functions: relay("key") through env.fetch, which answers 16 bytes.
const ANSWER = Uint8Array.from({ length: 16 }, (_, i) => 0x41 + i);
const keyDecoder = new TextDecoder('utf-8', { fatal: true });
const imports = await WebAssembly.compile(await readFile(guestPath('imports')));
/** @type {Guest | undefined} */
let handWrittenImports;
const unused = () => {
  throw new Error('not called by relay');
};
handWrittenImports = await Guest.instantiate(imports, {
  imports: {
    env: {
      // What a careful hand-written host does: read the key, alloc the block, write it.
      fetch: (/** @type {number} */ ptr, /** @type {number} */ len) => {
        const { memory, alloc } = /** @type {any} */ (/** @type {Guest} */ (handWrittenImports).instance.exports);
        if (keyDecoder.decode(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0)).length === 0) return 0;
        const block = alloc(ANSWER.length + 4) >>> 0;
        if (block === 0) return 0;
        const view = new Uint8Array(memory.buffer);
        view.set([ANSWER.length, 0, 0, 0], block);
        view.set(ANSWER, block + 4);
        return block;
      },
      count: unused,
      store: unused,
      grow: unused,
      hostile: unused,
      trusted: unused,
    },
    guestmem: { last_error: () => 0 },
  },
});
// The imports the benchmark does not call, each with the type the guest's section declares
// (Guest.instantiate refuses any other).
const relaying = await Guest.instantiate(imports, {
  functions: {
    env: {
      fetch: hostFunction({ params: ['string'], result: 'bytes', fallible: true }, (key) => {
        if (key.length === 0) throw new Error('no key');
        return ANSWER;
      }),
      count: hostFunction({ params: ['string'], result: 'u32', fallible: true }, unused),
      store: hostFunction({ params: ['string', 'bytes'], fallible: true }, unused),
      grow: hostFunction({ params: ['bytes'], result: 'bytes' }, unused),
      hostile: hostFunction({ params: ['u32'], result: 'bytes', fallible: true }, unused),
      trusted: hostFunction({ params: ['u32'], result: 'bytes' }, unused),
    },
  },
});
const relayLive = relaying.liveBlocks();
expected = () => ANSWER.length;
const key = new TextEncoder().encode('key');
const relayRatios = compare(
  'host function, 16 B',
  key,
  ANSWER,
  Math.max(2, Math.round(50_000 * SCALE)),
  (input) => /** @type {Guest} */ (handWrittenImports).callBytes('relay', input),
  [['hostFunction', (input) => relaying.callBytes('relay', input)]],
);
if (relaying.liveBlocks() !== relayLive) throw new Error(`relay: live blocks went from ${relayLive} to ${relaying.liveBlocks()}`);
ratios = { ...ratios, ...relayRatios };

// The benchmark must not hide a leak: the package's calls leave the guest as they found it.
const endLive = [guest.liveBlocks(), unkept.liveBlocks()];
if (endLive.some((live, index) => live !== startLive[index])) throw new Error(`live blocks went from ${startLive} to ${endLive}`);

const ratio16 = ratios['16 B package'];
if (quick) {
  console.log(`quick run: 16 B ratio ${ratio16.toFixed(3)} (goal ${GOAL}, enforced in full runs only)`);
} else if (ratio16 > GOAL) {
  console.error(`16 B through the package takes ${ratio16.toFixed(3)}x the hand-written host's time: over the goal of ${GOAL}x`);
  process.exit(1);
} else {
  console.log(`16 B ratio ${ratio16.toFixed(3)}: within the goal of ${GOAL}x`);
}
