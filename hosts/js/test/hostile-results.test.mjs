// Property tests of the JavaScript host's readers (fast-check), the counterpart of the Rust host's
// fuzz target host_reader (fuzz/src/host_reader.rs): a hostile guest whose exports answer the
// pointers, lengths and traps fast-check picks, and whose memory holds bytes it picks. Whatever the
// guest does, the host gives exactly the bytes at `ptr + 4` (read here from a copy of memory taken
// when the guest answered) or a GuestError whose claim is true: never another exception, a wrong
// read or a hang. No guest needs building: `npm --prefix hosts/js/test test`.
//
// GUESTMEM_FC_RUNS sets the number of runs (default 1000); a failure prints fast-check's seed and
// path, which `fc.assert`'s `{ seed, path }` options replay.

import { test } from 'node:test';

import fc from 'fast-check';
import { Guest, GuestError } from 'guestmem-host';
import { assemble, call, i32, local, op, withMemoryMax } from './hostile.mjs';

const RUNS = Number(process.env.GUESTMEM_FC_RUNS ?? 1000);
const PAGE = 0x1_0000;
/** Where the honest `alloc` starts handing out blocks. */
const HEAP_START = 1024;

/** What the guest asks `script.answer` for: its first argument. */
const Kind = Object.freeze({ alloc: 0, realloc: 1, free: 2, dealloc: 3, lastError: 4, stats: 5, grow: 6, result: 7 });
const FUNCTIONS = Object.freeze(['hostile0', 'hostile1', 'hostile2']);

/**
 * The guest's answers, taken in order by the exports that return an i32 (`free` and `dealloc` take
 * one only when it is a trap): what a well-behaved guest says, a trap, an 8-aligned pointer inside
 * memory, the memory size less n (at the end, or past it), or any u32.
 * @typedef {{ honest: true } | { trap: true } | { inside: number } | { fromEnd: number } | { raw: number }} Answer
 * @typedef {{ inside: number } | { fromEnd: number }} Place
 * @typedef {{ at: Place, bytes: Uint8Array } | { at: Place, prefix: number } | { at: Place, toEnd: number }} Write
 * @typedef {{ call: number, read: 'bytes' | 'string' | 'view' | 'u32', inputs: Uint8Array[] }
 *   | { lastError: true } | { take: Answer } | { read: Answer, len: number }} Action
 * @typedef {{ answers: Answer[], writes: Write[], grow: number, action: Action }} Step
 * @typedef {{ kind: number, value: number | undefined, memory: Uint8Array }} Answered
 */

/** The hostile guest: every ABI export and `hostile0/1/2` (0, 1, 2 inputs) ask `script.answer`. */
const MODULE = (() => {
  const ask = (/** @type {number} */ kind, /** @type {number[]} */ arg) => [...i32(kind), ...arg, ...call(0)];
  // Grows memory by as many pages as it is told, then answers.
  const result = [...ask(Kind.grow, i32(0)), op.memoryGrow, 0x00, op.drop, ...ask(Kind.result, i32(0))];
  const bytes = assemble({
    imports: [{ module: 'script', name: 'answer', params: 2, results: 1 }],
    funcs: [
      { name: 'alloc', params: 1, results: 1, body: ask(Kind.alloc, local(0)) },
      { name: 'realloc', params: 2, results: 1, body: ask(Kind.realloc, local(1)) },
      { name: 'free', params: 1, results: 0, body: [...ask(Kind.free, local(0)), op.drop] },
      { name: 'dealloc', params: 2, results: 0, body: [...ask(Kind.dealloc, local(0)), op.drop] },
      { name: 'last_error', params: 0, results: 1, body: ask(Kind.lastError, i32(0)) },
      { name: 'abi_version', params: 0, results: 1, body: i32(1) },
      { name: 'live_blocks', params: 0, results: 1, body: ask(Kind.stats, i32(0)) },
      { name: 'hostile0', params: 0, results: 1, body: result },
      { name: 'hostile1', params: 2, results: 1, body: result },
      { name: 'hostile2', params: 4, results: 1, body: result },
    ],
  });
  return new WebAssembly.Module(new Uint8Array(withMemoryMax(bytes, 3).bytes));
})();

/**
 * The value of an answer in a memory of `size` bytes, as a u32.
 * @param {Answer} answer
 * @param {number} size
 */
function resolve(answer, size) {
  if ('inside' in answer) return (answer.inside * 8) % size;
  if ('fromEnd' in answer) return (size - answer.fromEnd) >>> 0;
  if ('raw' in answer) return answer.raw >>> 0;
  return 0;
}

/**
 * Makes `writes` in `memory`, each cut at its end.
 * @param {Uint8Array} memory
 * @param {Write[]} writes
 */
function apply(memory, writes) {
  const size = memory.length;
  for (const write of writes) {
    const at = 'inside' in write.at ? (write.at.inside * 8) % size : Math.max(0, size - write.at.fromEnd);
    let bytes;
    if ('bytes' in write) bytes = write.bytes;
    else {
      const value = 'prefix' in write ? write.prefix : size - at - 4 + write.toEnd;
      bytes = new Uint8Array(new Uint32Array([value >>> 0]).buffer);
    }
    memory.set(bytes.subarray(0, Math.max(0, size - at)), at);
  }
}

/** The store of one instance: the step's script, and what the guest answered. */
class Script {
  /** @type {Answer[]} */
  answers = [];
  /** @type {Write[]} */
  writes = [];
  grow = 0;
  bump = HEAP_START;
  /** @type {Answered[]} */
  log = [];
  /** @type {WebAssembly.Memory | undefined} */
  memory;

  /**
   * `script.answer(kind, arg)`: the next answer; throwing traps the guest.
   * @param {number} kind
   * @param {number} arg
   */
  answer(kind, arg) {
    const memory = /** @type {WebAssembly.Memory} */ (this.memory);
    if (kind === Kind.grow) {
      const pages = this.grow;
      this.grow = 0;
      return pages;
    }
    /** @type {Answer | undefined} */
    let answer;
    if (kind === Kind.free || kind === Kind.dealloc) {
      if (this.answers.length === 0 || !('trap' in this.answers[0])) return 0;
      answer = this.answers.shift();
    } else {
      answer = this.answers.shift() ?? { honest: true };
    }
    answer ??= { honest: true };
    if (kind === Kind.result) apply(new Uint8Array(memory.buffer), this.writes.splice(0));
    let value;
    if ('trap' in answer) value = undefined;
    else if (kind === Kind.alloc && 'honest' in answer) value = this.alloc(memory, arg >>> 0);
    else value = resolve(answer, memory.buffer.byteLength);
    const copy = kind === Kind.result || kind === Kind.lastError ? new Uint8Array(memory.buffer).slice() : new Uint8Array(0);
    this.log.push({ kind, value, memory: copy });
    if (value === undefined) throw new Error('the hostile guest traps');
    return value | 0;
  }

  /**
   * A fresh block past the last one, growing memory if need be; 0 when it cannot.
   * @param {WebAssembly.Memory} memory
   * @param {number} len
   */
  alloc(memory, len) {
    const ptr = this.bump;
    const end = Math.ceil((ptr + len) / 8) * 8;
    const size = memory.buffer.byteLength;
    if (end > size) {
      try {
        memory.grow(Math.ceil((end - size) / PAGE));
      } catch {
        return 0;
      }
    }
    this.bump = end;
    return ptr;
  }

  /**
   * The latest answer of `kind` in this step.
   * @param {number} kind
   */
  last(kind) {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i].kind === kind) return this.log[i];
    return undefined;
  }
}

/**
 * The payload of the result block at `ptr` for an honest reader, or undefined when `ptr` is not a
 * multiple of 8 or the block does not lie inside memory. Plain numbers: nothing wraps.
 * @param {Uint8Array} memory
 * @param {number} ptr
 */
function payload(memory, ptr) {
  if (ptr % 8 !== 0 || ptr + 4 > memory.length) return undefined;
  const len = (memory[ptr] | (memory[ptr + 1] << 8) | (memory[ptr + 2] << 16) | (memory[ptr + 3] << 24)) >>> 0;
  if (ptr + 4 + len > memory.length) return undefined;
  return memory.subarray(ptr + 4, ptr + 4 + len);
}

const lenient = new TextDecoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** @param {Uint8Array} bytes */
function isUtf8(bytes) {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {boolean} condition
 * @param {string} what
 */
function check(condition, what) {
  if (!condition) throw new Error(what);
}

/**
 * @param {Uint8Array} actual
 * @param {Uint8Array | undefined} expected
 * @param {string} what
 */
function sameBytes(actual, expected, what) {
  check(expected !== undefined, `${what}: read a block that is not inside memory`);
  check(
    actual.length === expected?.length && actual.every((byte, i) => byte === expected[i]),
    `${what}: a wrong read (${actual.length} bytes, memory holds ${expected?.length})`,
  );
}

/**
 * The text of the last `last_error` block in this step, as the host decodes it, if it lies inside
 * memory; `null` when the guest answered 0.
 * @param {Script} script
 */
function lastMessage(script) {
  const answered = script.last(Kind.lastError);
  if (answered?.value === undefined) return undefined;
  if (answered.value === 0) return null;
  const bytes = payload(answered.memory, answered.value);
  return bytes === undefined ? undefined : lenient.decode(bytes);
}

/**
 * What a GuestError claims must be true of what the guest did in this step.
 * @param {GuestError} error
 * @param {Script} script
 * @param {boolean} dead the instance had trapped before this step
 * @param {string | undefined} name the function called, if one was
 */
function checkError(error, script, dead, name) {
  const trapped = script.log.some((answered) => answered.value === undefined);
  switch (error.kind) {
    case 'dead':
      check(dead, `dead without a trap: ${error.message}`);
      break;
    case 'trap':
      check(trapped, `a trap the guest did not make: ${error.message}`);
      if (error.reason !== undefined) check(error.reason === lastMessage(script), `a trap's reason: ${error.reason}`);
      break;
    case 'alloc': {
      const zero = script.log.some((a) => (a.kind === Kind.alloc || a.kind === Kind.realloc) && a.value === 0);
      check(zero, `an alloc error, yet no alloc returned 0: ${error.message}`);
      break;
    }
    case 'bounds': {
      // The message names the pointer it refused; a result must really lie outside memory.
      const result = script.last(Kind.result);
      if (name !== undefined && error.message.startsWith(`${name} result at`) && result?.value !== undefined) {
        check(payload(result.memory, result.value) === undefined, `refused a result inside memory: ${error.message}`);
      }
      break;
    }
    case 'error': {
      check(script.last(Kind.result)?.value === 0, `an error, yet the guest answered non-zero: ${error.message}`);
      const message = lastMessage(script);
      if (message !== undefined) check(error.reason === (message ?? undefined), `the reason ${error.reason}, not ${message}`);
      break;
    }
    case 'utf8': {
      const result = script.last(Kind.result);
      const bytes = result?.value === undefined ? undefined : payload(result.memory, result.value);
      check(bytes !== undefined && !isUtf8(bytes), `a utf8 error for ${bytes === undefined ? 'no block' : 'UTF-8'}`);
      break;
    }
    default:
      throw new Error(`an error of kind ${error.kind}: ${error.message}`);
  }
}

/**
 * Runs one step against `guest` and checks the outcome.
 * @param {Guest} guest
 * @param {Script} script
 * @param {Step} step
 */
function run(guest, script, step) {
  const dead = guest.trapped;
  script.answers = [...step.answers];
  script.grow = step.grow;
  script.log = [];
  const memory = () => new Uint8Array(guest.memory.buffer);
  const { action } = step;
  if ('call' in action) script.writes = [...step.writes];
  else apply(memory(), step.writes);
  /** @type {string | undefined} */
  let name;
  try {
    if ('call' in action) {
      name = FUNCTIONS[action.call];
      const args = action.inputs.slice(0, action.call);
      while (args.length < action.call) args.push(new Uint8Array(0));
      const result = () => {
        const answered = script.last(Kind.result);
        check(answered?.value !== undefined, `${name}: a result the guest never gave`);
        return payload(answered?.memory ?? new Uint8Array(0), answered?.value ?? 0);
      };
      switch (action.read) {
        case 'bytes':
          sameBytes(guest.callBytes(name, ...args), result(), name);
          break;
        case 'string': {
          const text = guest.callString(name, ...args);
          const bytes = result();
          check(bytes !== undefined && isUtf8(bytes) && text === lenient.decode(bytes), `${name}: a wrong string`);
          break;
        }
        case 'view':
          sameBytes(guest.callView(name, ...args, (/** @type {Uint8Array} */ view) => view.slice()), result(), name);
          break;
        case 'u32': {
          const value = guest.callU32(name, ...args);
          check(value === script.last(Kind.result)?.value, `${name}: callU32 gave ${value}, not the guest's answer`);
          break;
        }
      }
    } else if ('lastError' in action) {
      const message = guest.lastError();
      check(message === (lastMessage(script) ?? undefined), `lastError gave ${message}`);
    } else if ('take' in action) {
      const before = memory().slice();
      const ptr = resolve(action.take, before.length);
      if (ptr !== 0) sameBytes(guest.takeResult(ptr, 'taken'), payload(before, ptr), 'takeResult');
    } else {
      const before = memory().slice();
      const ptr = resolve(action.read, before.length);
      const bytes = guest.read(ptr, action.len);
      sameBytes(bytes, ptr + action.len <= before.length ? before.subarray(ptr, ptr + action.len) : undefined, 'read');
    }
  } catch (error) {
    if (!(error instanceof GuestError)) throw error;
    checkError(error, script, dead, name);
  }
}

// Pointers and writes meet often at a few places low in memory, and at the end of memory.
const inside = fc.record({ inside: fc.oneof(fc.nat(7), fc.nat(0x3fff)) });
const fromEnd = fc.record({ fromEnd: fc.nat(64) });
const place = fc.oneof(inside, fromEnd);
/** @type {fc.Arbitrary<Answer>} */
const answer = fc.oneof(
  { weight: 3, arbitrary: fc.constant(/** @type {Answer} */ ({ honest: true })) },
  // Rare: a trap ends the instance, and every later step only checks that it stays dead.
  { weight: 1, arbitrary: fc.constant(/** @type {Answer} */ ({ trap: true })) },
  { weight: 6, arbitrary: inside },
  { weight: 3, arbitrary: fromEnd },
  { weight: 2, arbitrary: fc.record({ raw: fc.nat({ max: 0xffff_ffff }) }) },
);
/** @type {fc.Arbitrary<Write>} */
const write = fc.oneof(
  fc.record({ at: place, bytes: fc.uint8Array({ maxLength: 48 }) }),
  fc.record({ at: place, prefix: fc.nat({ max: 0xffff_ffff }) }),
  fc.record({ at: place, toEnd: fc.integer({ min: -8, max: 8 }) }),
);
/** @type {fc.Arbitrary<Action>} */
const action = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      call: fc.integer({ min: 0, max: FUNCTIONS.length - 1 }),
      read: fc.constantFrom(/** @type {const} */ ('bytes'), 'string', 'view', 'u32'),
      inputs: fc.array(
        fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.nat(70_000).map((len) => new Uint8Array(len).fill(7))),
        { maxLength: 2 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant(/** @type {Action} */ ({ lastError: true })) },
  { weight: 1, arbitrary: fc.record({ take: answer }) },
  { weight: 1, arbitrary: fc.record({ read: answer, len: fc.nat(70_000) }) },
);
/** @type {fc.Arbitrary<Step>} */
const step = fc.record({
  answers: fc.array(answer, { maxLength: 6 }),
  writes: fc.array(write, { maxLength: 4 }),
  grow: fc.nat(2),
  action,
});

test('a hostile guest gets a GuestError or an exact read from the JavaScript host', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
      const script = new Script();
      const instance = new WebAssembly.Instance(MODULE, {
        script: { answer: (/** @type {number} */ kind, /** @type {number} */ arg) => script.answer(kind, arg) },
      });
      script.memory = /** @type {WebAssembly.Memory} */ (instance.exports.memory);
      const guest = new Guest(instance);
      for (const each of steps) run(guest, script, each);
    }),
    { numRuns: RUNS },
  );
});
