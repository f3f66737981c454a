// node:test driver for the checks in checks.mjs, over every example guest: `node --test harness/js`.
// The guests must be built first (or GUESTMEM_GUEST_DIR set: see guests.mjs):
//   cargo build --profile guest --target wasm32-unknown-unknown -p minimal
//   cargo build --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo

import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { Guest } from 'guestmem-host';
import { guestChecks, hostileChecks, sourceChecks } from './checks.mjs';
import { guestDir, guestPath, readGuests } from './guests.mjs';

/** A check that has not settled by then fails, naming itself, rather than stalling the run. */
const TIMEOUT_MS = 120_000;

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
    for (const check of guestChecks(name, module)) test(check.name, { timeout: TIMEOUT_MS }, check.run);
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
  for (const check of sourceChecks(echo)) test(check.name, { timeout: TIMEOUT_MS }, check.run);
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
  for (const check of hostileChecks()) test(check.name, { timeout: TIMEOUT_MS }, check.run);
});

// example.mjs is the snippet README.md shows: it must run and print what its comments say.
test('the README example runs', { skip: process.env.GUESTMEM_GUEST_DIR && 'it reads the default guest directory' }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['harness/js/example.mjs'], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
  });
  const lines = stdout.trimEnd().split('\n');
  if (lines.length !== 3 || lines[0] !== 'STRASSE' || !/^error .*UTF-8/.test(lines[1]) || lines[2] !== 'live blocks: 0') {
    throw new Error(`example.mjs printed:\n${stdout}`);
  }
});
