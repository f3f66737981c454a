// Calls checked against a guest's interface section before the guest runs (docs/ABI.md,
// "Interface section"), and arguments and results converted by their kinds for `guest.exports`.

import { decoder, toBytes } from './bytes.mjs';
import { describeValue, GuestError, messageOf } from './errors.mjs';
import { BLOCK_KINDS, INTEGER_RANGES, TEXT_KINDS, U32_KINDS } from './interface.mjs';

/** @import { Arg } from './guest.mjs' */
/** @import { Input } from './bytes.mjs' */
/** @import { InterfaceArgument, InterfaceFunction, Kind } from './interface.mjs' */

/**
 * What the interface says of one export, as calls use it: which arguments are owned, and what
 * {@link fits} checks, precomputed (an {@link ArgCheck} per argument, the `READS_*` bits of the
 * methods that read its result).
 * @typedef {{ fn: InterfaceFunction, owned: boolean[] | undefined, checks: ArgCheck[], reads: number }} Described
 */

/** @param {InterfaceFunction} fn `1 argument (text: string)` */
export const countArguments = (fn) =>
  `${fn.args.length} argument${fn.args.length === 1 ? '' : 's'} (${fn.args.map((arg) => `${arg.name}: ${arg.kind}`).join(', ')})`;

/**
 * The error of a call refused before the guest ran.
 * @param {string} name
 * @param {string} problem
 * @param {unknown} [cause]
 */
export const refused = (name, problem, cause) =>
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
export const argCheck = (kind) =>
  TEXT_KINDS.has(kind) ? ARG_TEXT : BLOCK_KINDS.has(kind) ? ARG_BYTES : kind === 'u64' || kind === 'i64' || kind === 'none' ? ARG_NONE : ARG_NUMBER;
/** The call methods that read a result kind, as bits: callBytes and callView, callString, callU32. */
export const READS_BLOCK = 1;
export const READS_TEXT = 2;
export const READS_U32 = 4;
/** The result kinds each bit's methods read. @type {Record<number, ReadonlySet<Kind>>} */
const READABLE = { [READS_BLOCK]: BLOCK_KINDS, [READS_TEXT]: TEXT_KINDS, [READS_U32]: U32_KINDS };

/**
 * Whether a call through `callBytes` and friends fits the interface; the fast check of every
 * call, whose failures {@link refuseUnfit} explains.
 * @param {Described} described
 * @param {readonly Arg[]} args
 * @param {number} reads the method's `READS_*` bit
 */
export function fits(described, args, reads) {
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
export function refuseUnfit(fn, args, reads, method) {
  if (!READABLE[reads].has(fn.result)) throw refused(fn.name, `it returns ${fn.result} (its interface says), which ${method} does not read`);
  if (args.length !== fn.args.length) throw refused(fn.name, `it takes ${countArguments(fn)}, not ${args.length}`);
  for (let index = 0; index < args.length; index += 1) {
    const value = args[index];
    const { name, kind } = fn.args[index];
    if (BLOCK_KINDS.has(kind)) {
      if (typeof value === 'number' || typeof value === 'bigint') throw refused(fn.name, `argument \`${name}\` (${kind}) is bytes, not ${describeValue(value)}`);
      if ((kind === 'string' || kind === 'json') && typeof value !== 'string') checkUtf8(fn.name, name, kind, value);
    } else if (argCheck(kind) === ARG_NONE) {
      throw refused(fn.name, `argument \`${name}\` (${kind}) cannot be passed by ${method}${kind === 'none' ? '' : ': call it through guest.exports, which takes a bigint'}`);
    } else if (typeof value !== 'number') {
      throw refused(fn.name, `argument \`${name}\` (${kind}) is a number, not ${describeValue(value)}`);
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
export function exportArgument(fnName, arg, value) {
  const { name, kind } = arg;
  /** @param {string} wanted @returns {never} */
  const wrong = (wanted) => {
    throw refused(fnName, `argument \`${name}\` (${kind}) takes ${wanted}, not ${describeValue(value)}`);
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
export function resultValue(kind, value) {
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
