// Where the node drivers find the example guests (Node only; a page fetches them from the server).
//
// By default the workspace's target/wasm32-unknown-unknown/guest, where `cargo build` puts them;
// GUESTMEM_GUEST_DIR points the tests at another directory, such as target/guests, where the
// harness keeps every build of testdata/guests.tsv, and GUESTMEM_GUEST_SUFFIX picks the builds
// with another allocator back end there:
//   cargo run -p harness -- guests
//   GUESTMEM_GUEST_DIR=target/guests GUESTMEM_GUEST_SUFFIX=-dlmalloc npm --prefix hosts/js/test test

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DESCRIBED_GUESTS, EXAMPLES, GUEST_DIR, HOST_FUNCTION_GUESTS } from './checks.mjs';

const workspace = fileURLToPath(new URL('../../../', import.meta.url));

/** The directory holding NAME.wasm for every guest, absolute. */
export const guestDir = resolve(workspace, process.env.GUESTMEM_GUEST_DIR ?? GUEST_DIR);

/** The suffix of the modules' names in {@link guestDir}, such as `-dlmalloc`. */
const suffix = process.env.GUESTMEM_GUEST_SUFFIX ?? '';

/**
 * The module of guest `name`; only the guests of EXAMPLES are built with every back end, so only
 * they take the suffix.
 * @param {string} name
 */
export const guestPath = (name) => resolve(guestDir, `${name}${EXAMPLES.includes(name) ? suffix : ''}.wasm`);

/**
 * Every guest of EXAMPLES, HOST_FUNCTION_GUESTS and DESCRIBED_GUESTS, read from {@link guestDir};
 * a guest that is not there is an Error that says how to build it.
 * @returns {Promise<Record<string, Uint8Array | Error>>}
 */
export async function readGuests() {
  /** @type {Record<string, Uint8Array | Error>} */
  const modules = {};
  for (const name of [...EXAMPLES, ...HOST_FUNCTION_GUESTS, ...DESCRIBED_GUESTS]) {
    try {
      modules[name] = await readFile(guestPath(name));
    } catch (error) {
      modules[name] = new Error(
        `guest ${name} is not in ${guestDir} (${/** @type {Error} */ (error).message}); build it with ` +
          `cargo build --profile guest --target wasm32-unknown-unknown -p ${name}, or every guest with ` +
          'cargo run -p harness -- guests',
      );
    }
  }
  return modules;
}
