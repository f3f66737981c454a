// node:test driver for the checks in checks.mjs, over every example guest: `node --test harness/js`.
// The guests must be built first (or GUESTMEM_GUEST_DIR set: see guests.mjs):
//   cargo build --profile guest --target wasm32-unknown-unknown -p minimal
//   cargo build --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo

import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { Guest } from './guestmem.mjs';
import { guestChecks, hostileChecks, sourceChecks } from './checks.mjs';
import { guestDir, guestPath, readGuests } from './guests.mjs';

const modules = await readGuests();
console.log(`guests from ${guestDir}`);

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
    const guest = await Guest.instantiate(guestPath('echo'));
    if (guest.callString('echo', 'from a file') !== 'from a file') throw new Error('echo from a file path');
  });
  test('instantiates from a file: URL', async () => {
    const guest = await Guest.instantiate(pathToFileURL(guestPath('echo')));
    if (guest.callString('echo', 'from a URL') !== 'from a URL') throw new Error('echo from a file: URL');
  });
});

describe('hostile guests', () => {
  for (const check of hostileChecks()) test(check.name, check.run);
});
