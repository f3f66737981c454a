// node:test driver for the checks in checks.mjs, over every example guest: `node --test harness/js`.
// The guests must be built first:
//   cargo build --profile guest --target wasm32-unknown-unknown -p minimal
//   cargo build --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo

import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Guest } from './guestmem.mjs';
import { GUEST_DIR, GUESTS, guestChecks, hostileChecks, sourceChecks } from './checks.mjs';

const workspace = new URL('../../', import.meta.url);
const guestUrl = (/** @type {string} */ name) => new URL(`${GUEST_DIR}/${name}.wasm`, workspace);

/** @type {Record<string, Uint8Array | Error>} */
const modules = {};
for (const name of Object.keys(GUESTS)) {
  try {
    modules[name] = await readFile(guestUrl(name));
  } catch (error) {
    modules[name] = new Error(
      `guest ${name} is not built (${/** @type {Error} */ (error).message}); run ` +
        `cargo build --profile guest --target wasm32-unknown-unknown -p ${name}`,
    );
  }
}

for (const [name, module] of Object.entries(modules)) {
  describe(name, () => {
    if (module instanceof Error) {
      test('the guest is built', () => {
        throw module;
      });
      return;
    }
    for (const check of guestChecks(name, module)) test(check.name, check.run);
  });
}

describe('loading', () => {
  const echo = modules.echo;
  if (echo instanceof Error) {
    test('the echo guest is built', () => {
      throw echo;
    });
    return;
  }
  for (const check of sourceChecks(echo)) test(check.name, check.run);
  // Node only: a guest from a file, by path and by file: URL.
  test('instantiates from a file path', async () => {
    const guest = await Guest.instantiate(fileURLToPath(guestUrl('echo')));
    if (guest.callString('echo', 'from a file') !== 'from a file') throw new Error('echo from a file path');
  });
  test('instantiates from a file: URL', async () => {
    const guest = await Guest.instantiate(guestUrl('echo'));
    if (guest.callString('echo', 'from a URL') !== 'from a URL') throw new Error('echo from a file: URL');
  });
});

describe('hostile guests', () => {
  for (const check of hostileChecks()) test(check.name, check.run);
});
