// The package's call path against a minimal hand-written host, on the echo guest:
//
//   cargo build --profile guest --target wasm32-unknown-unknown -p echo
//   node harness/js/bench.mjs            # full: fails if 16 B through the package is over the goal
//   node harness/js/bench.mjs --quick    # CI: a few seconds, prints the ratios, checks nothing else
//
// The baseline is what an article's host does with raw exports: alloc, write the input, call
// echo, read the 4-byte length prefix and the bytes, free both. Each contender has its own
// instance; they run interleaved in rounds in one process (the order alternating), and the
// ratio reported is the median over rounds of package time / baseline time. The goal is on the
// package as users get it (with its kept input block); the package without it is shown too.

import { readFile } from 'node:fs/promises';

import { Guest } from 'guestmem-host';

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
  if (sink !== calls * input.length) throw new Error(`echo returned ${sink} bytes in all, expected ${calls * input.length}`);
  return elapsed;
}

/** @param {number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * @param {Uint8Array} actual
 * @param {Uint8Array} expected
 * @param {string} who
 */
function sameBytes(actual, expected, who) {
  if (actual.length !== expected.length || actual.some((byte, i) => byte !== expected[i])) {
    throw new Error(`${who}: echo returned other bytes than it was given`);
  }
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
const ratios = {};
for (const { label, bytes, calls: fullCalls } of SIZES) {
  const calls = Math.max(2, Math.round(fullCalls * SCALE));
  const input = Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + 3) & 0xff);
  sameBytes(baseline(input), input, 'the hand-written host');
  for (const [name, echo] of contenders) sameBytes(echo(input), input, name);
  // Warm up every contender, so that none pays for compilation inside a round.
  time(baseline, input, calls);
  for (const [, echo] of contenders) time(echo, input, calls);
  /** @type {number[]} */
  const baseTimes = [];
  /** @type {number[][]} */
  const times = contenders.map(() => []);
  /** @type {number[][]} */
  const roundRatios = contenders.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each contender against a baseline run right next to it, the order alternating.
    contenders.forEach(([, echo], index) => {
      let base;
      let own;
      if (round % 2 === 0) {
        base = time(baseline, input, calls);
        own = time(echo, input, calls);
      } else {
        own = time(echo, input, calls);
        base = time(baseline, input, calls);
      }
      baseTimes.push(base);
      times[index].push(own);
      roundRatios[index].push(own / base);
    });
  }
  const perCall = (/** @type {number[]} */ values) => `${((median(values) / calls) * 1e6).toFixed(0)} ns`;
  console.log(`${label}: baseline ${perCall(baseTimes)}`);
  contenders.forEach(([name], index) => {
    const ratio = median(roundRatios[index]);
    ratios[`${label} ${name}`] = ratio;
    console.log(`  ${name}: ${perCall(times[index])}, ratio ${ratio.toFixed(3)}`);
  });
}

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
