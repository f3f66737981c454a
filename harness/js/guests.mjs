// Where the node drivers find the example guests (Node only; a page fetches them from the server).
//
// By default the workspace's target/wasm32-unknown-unknown/guest; GUESTMEM_GUEST_DIR points the
// tests at another build, for example one made with another allocator back end:
//   CARGO_TARGET_DIR=/tmp/dl cargo build --profile guest --target wasm32-unknown-unknown \
//     --no-default-features --features dlmalloc -p echo ...
//   GUESTMEM_GUEST_DIR=/tmp/dl/wasm32-unknown-unknown/guest node --test harness/js

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { EXAMPLES, GUEST_DIR } from './checks.mjs';

const workspace = fileURLToPath(new URL('../../', import.meta.url));

/** The directory holding NAME.wasm for every guest, absolute. */
export const guestDir = resolve(workspace, process.env.GUESTMEM_GUEST_DIR ?? GUEST_DIR);

/** @param {string} name */
export const guestPath = (name) => resolve(guestDir, `${name}.wasm`);

/**
 * Every guest of EXAMPLES, read from {@link guestDir}; a guest that is not there is an Error that
 * says how to build it.
 * @returns {Promise<Record<string, Uint8Array | Error>>}
 */
export async function readGuests() {
  /** @type {Record<string, Uint8Array | Error>} */
  const modules = {};
  for (const name of EXAMPLES) {
    try {
      modules[name] = await readFile(guestPath(name));
    } catch (error) {
      modules[name] = new Error(
        `guest ${name} is not in ${guestDir} (${/** @type {Error} */ (error).message}); build it with ` +
          `cargo build --profile guest --target wasm32-unknown-unknown -p ${name}`,
      );
    }
  }
  return modules;
}
