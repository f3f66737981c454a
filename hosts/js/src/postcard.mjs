// Postcard schemas: typed values in postcard 1.x, the binary format of a guest's `Postcard<T>`
// (docs/ABI.md, "Typed values").

import { decoder, encoder, U32_MAX } from './bytes.mjs';
import { describeValue } from './errors.mjs';

/** Lets only the static members below make a Postcard. */
const POSTCARD_TOKEN = Symbol('Postcard');

/**
 * The value type of a Postcard schema.
 * @template P
 * @typedef {P extends Postcard<infer T> ? T : never} PostcardValue
 */

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
 * @template T
 */
export class Postcard {
  /** @type {(value: T, out: PostcardWriter, path: string) => void} */
  #write;
  /** @type {(input: PostcardReader, path: string) => T} */
  #read;
  /** The fewest bytes a value takes, so that a count can be checked against the input's length. */
  #least;

  /**
   * Made by the static members only.
   * @private
   * @param {symbol} token
   * @param {number} least
   * @param {(value: T, out: PostcardWriter, path: string) => void} write
   * @param {(input: PostcardReader, path: string) => T} read
   */
  constructor(token, least, write, read) {
    if (token !== POSTCARD_TOKEN) throw new TypeError('a Postcard schema is made with Postcard.u32, Postcard.struct(...) and the other static members');
    this.#least = least;
    this.#write = write;
    this.#read = read;
  }

  /**
   * The bytes of `value`.
   * @param {T} value
   * @returns {Uint8Array}
   * @throws {TypeError} when `value` is not of the schema's type, or out of its range
   */
  encode(value) {
    const out = new PostcardWriter();
    this.#write(value, out, '');
    return out.bytes.slice(0, out.len);
  }

  /**
   * The value `bytes` hold; every byte must be used.
   * @param {Uint8Array} bytes
   * @returns {T}
   * @throws {Error} when the bytes end early, are left over, or hold what the schema does not
   */
  decode(bytes) {
    const input = new PostcardReader(bytes);
    const value = this.#read(input, '');
    if (input.at !== bytes.length) input.fail('', `${bytes.length - input.at} bytes left over`);
    return value;
  }

  /**
   * A struct: its fields in order, with no names on the wire.
   * @template {Record<string, Postcard<any>>} F
   * @param {F} fields
   * @returns {Postcard<{ [K in keyof F]: PostcardValue<F[K]> }>}
   */
  static struct(fields) {
    const entries = Object.entries(fields);
    for (const [key, schema] of entries) {
      if (!(schema instanceof Postcard)) throw new TypeError(`Postcard.struct: field \`${key}\` is not a Postcard schema`);
    }
    return new Postcard(
      POSTCARD_TOKEN,
      entries.reduce((least, [, schema]) => least + schema.#least, 0),
      (value, out, path) => {
        if (typeof value !== 'object' || value === null) fail(path, value, 'an object');
        for (const [key, schema] of entries) {
          schema.#write(/** @type {Record<string, unknown>} */ (value)[key], out, `${path}${path === '' ? '' : '.'}${key}`);
        }
      },
      (input, path) => {
        /** @type {Record<string, unknown>} */
        const value = {};
        for (const [key, schema] of entries) value[key] = schema.#read(input, `${path}${path === '' ? '' : '.'}${key}`);
        return /** @type {{ [K in keyof F]: PostcardValue<F[K]> }} */ (value);
      },
    );
  }

  /**
   * A sequence (`Vec<T>`, a slice): a varint count, then the items.
   * @template I
   * @param {Postcard<I>} item
   * @returns {Postcard<I[]>}
   */
  static seq(item) {
    return new Postcard(
      POSTCARD_TOKEN,
      1,
      (value, out, path) => {
        if (!Array.isArray(value)) fail(path, value, 'an array');
        out.varint(value.length);
        value.forEach((element, index) => item.#write(element, out, `${path}[${index}]`));
      },
      (input, path) => {
        const count = input.varint(32, path);
        if (count * item.#least > input.bytes.length - input.at) {
          input.fail(path, `${count} items announced, ${input.bytes.length - input.at} bytes left`);
        }
        return Array.from({ length: count }, (_, index) => item.#read(input, `${path}[${index}]`));
      },
    );
  }

  /**
   * An `Option<T>`: `0` for `None` (`undefined`), `1` then the value.
   * @template I
   * @param {Postcard<I>} item
   * @returns {Postcard<I | undefined>}
   */
  static option(item) {
    return new Postcard(
      POSTCARD_TOKEN,
      1,
      (value, out, path) => {
        if (value === undefined || value === null) {
          out.byte(0);
        } else {
          out.byte(1);
          item.#write(value, out, path);
        }
      },
      (input, path) => {
        const tag = input.byte(path);
        if (tag === 0) return undefined;
        if (tag !== 1) input.fail(path, `an option tag of ${tag}`);
        return item.#read(input, path);
      },
    );
  }

  /** `bool`: one byte, 0 or 1. @type {Postcard<boolean>} */
  static bool = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(typeof value === 'boolean' ? Number(value) : fail(path, value, 'a boolean')),
    (input, path) => {
      const byte = input.byte(path);
      if (byte > 1) input.fail(path, `a bool of ${byte}`);
      return byte === 1;
    },
  );

  /** `u8`: one byte. @type {Postcard<number>} */
  static u8 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(integer(value, 0, 0xff, 'u8', path)),
    (input, path) => input.byte(path),
  );

  /** `i8`: one byte, two's complement. @type {Postcard<number>} */
  static i8 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.byte(integer(value, -0x80, 0x7f, 'i8', path) & 0xff),
    (input, path) => (input.byte(path) << 24) >> 24,
  );

  /** `u16`: a varint. @type {Postcard<number>} */
  static u16 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint(integer(value, 0, 0xffff, 'u16', path)),
    (input, path) => input.varint(16, path),
  );

  /** `i16`: zigzag, then a varint. @type {Postcard<number>} */
  static i16 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = integer(value, -0x8000, 0x7fff, 'i16', path);
      out.varint(((n << 1) ^ (n >> 15)) & 0xffff);
    },
    (input, path) => {
      const zigzag = input.varint(16, path);
      return (zigzag >>> 1) ^ -(zigzag & 1);
    },
  );

  /** `u32`: a varint of up to 5 bytes. @type {Postcard<number>} */
  static u32 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint(integer(value, 0, U32_MAX, 'u32', path)),
    (input, path) => input.varint(32, path),
  );

  /** `i32`: zigzag, then a varint. @type {Postcard<number>} */
  static i32 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = integer(value, -0x8000_0000, 0x7fff_ffff, 'i32', path);
      out.varint(((n << 1) ^ (n >> 31)) >>> 0);
    },
    (input, path) => {
      const zigzag = input.varint(32, path);
      return (zigzag >>> 1) ^ -(zigzag & 1);
    },
  );

  /** `u64`: a varint of up to 10 bytes, as a bigint. @type {Postcard<bigint>} */
  static u64 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.varint64(wide(value, false, path)),
    (input, path) => input.varint64(path),
  );

  /** `i64`: zigzag, then a varint, as a bigint. @type {Postcard<bigint>} */
  static i64 = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => {
      const n = wide(value, true, path);
      out.varint64(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
    },
    (input, path) => {
      const zigzag = input.varint64(path);
      return (zigzag >> 1n) ^ -(zigzag & 1n);
    },
  );

  /** `f32`: 4 bytes, little-endian. @type {Postcard<number>} */
  static f32 = new Postcard(
    POSTCARD_TOKEN,
    4,
    (value, out, path) => out.float(typeof value === 'number' ? value : fail(path, value, 'a number'), 4),
    (input, path) => new DataView(input.take(4, path).slice().buffer).getFloat32(0, true),
  );

  /** `f64`: 8 bytes, little-endian. @type {Postcard<number>} */
  static f64 = new Postcard(
    POSTCARD_TOKEN,
    8,
    (value, out, path) => out.float(typeof value === 'number' ? value : fail(path, value, 'a number'), 8),
    (input, path) => new DataView(input.take(8, path).slice().buffer).getFloat64(0, true),
  );

  /** `String`, `&str`: a varint length, then UTF-8. @type {Postcard<string>} */
  static string = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.prefixed(encoder.encode(typeof value === 'string' ? value : fail(path, value, 'a string'))),
    (input, path) => {
      const bytes = input.take(input.varint(32, path), path);
      try {
        return decoder.decode(bytes);
      } catch {
        return input.fail(path, 'a string that is not UTF-8');
      }
    },
  );

  /** `Vec<u8>`, `&[u8]`: a varint length, then the bytes. @type {Postcard<Uint8Array>} */
  static bytes = new Postcard(
    POSTCARD_TOKEN,
    1,
    (value, out, path) => out.prefixed(value instanceof Uint8Array ? value : fail(path, value, 'a Uint8Array')),
    (input, path) => input.take(input.varint(32, path), path).slice(),
  );
}

/**
 * @param {string} path
 * @param {unknown} value
 * @param {string} wanted
 * @returns {never}
 */
function fail(path, value, wanted) {
  throw new TypeError(`postcard: ${path === '' ? '' : `field \`${path}\`: `}${describeValue(value)} is not ${wanted}`);
}

/**
 * @param {unknown} value
 * @param {number} min
 * @param {number} max
 * @param {string} kind
 * @param {string} path
 * @returns {number}
 */
function integer(value, min, max, kind, path) {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fail(path, value, `a ${kind}`);
}

/**
 * @param {unknown} value
 * @param {boolean} signed
 * @param {string} path
 * @returns {bigint}
 */
function wide(value, signed, path) {
  const kind = signed ? 'i64' : 'u64';
  if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) return fail(path, value, `a ${kind} (a bigint)`);
  const big = BigInt(value);
  return (signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big)) === big ? big : fail(path, value, `a ${kind}`);
}

/** The bytes a Postcard schema writes, grown as needed. */
class PostcardWriter {
  bytes = new Uint8Array(64);
  len = 0;

  /** @param {number} more */
  #reserve(more) {
    if (this.len + more <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.len + more, 2 * this.bytes.length));
    grown.set(this.bytes.subarray(0, this.len));
    this.bytes = grown;
  }

  /** @param {number} value */
  byte(value) {
    this.#reserve(1);
    this.bytes[this.len++] = value;
  }

  /** @param {number} value a u32 */
  varint(value) {
    this.#reserve(5);
    while (value >= 0x80) {
      this.bytes[this.len++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.len++] = value;
  }

  /** @param {bigint} value a u64 */
  varint64(value) {
    this.#reserve(10);
    while (value >= 0x80n) {
      this.bytes[this.len++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.bytes[this.len++] = Number(value);
  }

  /** @param {number} value @param {4 | 8} size */
  float(value, size) {
    this.#reserve(size);
    const view = new DataView(this.bytes.buffer, this.len, size);
    if (size === 4) view.setFloat32(0, value, true);
    else view.setFloat64(0, value, true);
    this.len += size;
  }

  /** @param {Uint8Array} bytes a varint length, then the bytes */
  prefixed(bytes) {
    this.varint(bytes.length);
    this.#reserve(bytes.length);
    this.bytes.set(bytes, this.len);
    this.len += bytes.length;
  }
}

/** The bytes a Postcard schema reads, and where it is. */
class PostcardReader {
  at = 0;

  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`postcard: decode takes a Uint8Array, not ${describeValue(bytes)}`);
    this.bytes = bytes;
  }

  /**
   * @param {string} path
   * @param {string} problem
   * @returns {never}
   */
  fail(path, problem) {
    throw new Error(`postcard: ${path === '' ? '' : `field \`${path}\`: `}${problem} (at byte ${this.at})`);
  }

  /** @param {string} path */
  byte(path) {
    return this.at < this.bytes.length ? this.bytes[this.at++] : this.fail(path, 'the input ends early');
  }

  /** @param {number} len @param {string} path */
  take(len, path) {
    if (len > this.bytes.length - this.at) this.fail(path, 'the input ends early');
    return this.bytes.subarray(this.at, (this.at += len));
  }

  /**
   * An unsigned varint of at most `bits` bits (16 or 32; a length is a u32 on wasm32).
   * @param {16 | 32} bits
   * @param {string} path
   */
  varint(bits, path) {
    let value = 0;
    // ceil(bits / 7) bytes at most: 3 for 16 bits, 5 for 32.
    for (let shift = 0; shift < bits; shift += 7) {
      const byte = this.byte(path);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value < 2 ** bits ? value : this.fail(path, `a varint of ${value} does not fit ${bits} bits`);
    }
    return this.fail(path, `a varint longer than a ${bits}-bit value's`);
  }

  /** @param {string} path */
  varint64(path) {
    let value = 0n;
    for (let shift = 0n; shift < 64n; shift += 7n) {
      const byte = this.byte(path);
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value < 1n << 64n ? value : this.fail(path, `a varint of ${value} does not fit 64 bits`);
    }
    return this.fail(path, "a varint longer than a 64-bit value's");
  }
}
