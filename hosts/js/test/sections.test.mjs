// Every build of testdata/guests.tsv, as the Rust harness keeps them in target/guests: each
// module's guestmem.interface section as the JavaScript host reads it, against what the module
// exports and imports (interface.mjs, sectionCheck). And the declarations in hosts/js/test/types,
// which type guest.exports in the checks: what `guestmem describe --typescript` writes today.
//
//   cargo run -p harness -- guests   # builds target/guests and the harness, then: npm --prefix hosts/js/test test

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { readInterface } from 'guestmem-host';
import { EXPECTED_TEXT, sectionCheck } from './interface.mjs';

const TIMEOUT_MS = 120_000;
const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const dir = resolve(workspace, process.env.GUESTMEM_VARIANT_DIR ?? 'target/guests');
const target = resolve(workspace, process.env.CARGO_TARGET_DIR ?? 'target');

/** The modules testdata/guests.tsv builds: the first column of each row. */
const builds = (await readFile(new URL('../../../testdata/guests.tsv', import.meta.url), 'utf8'))
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => line.split('\t')[0]);

/** Each build's bytes, or the Error that says how to build it: read before any test is declared. */
const modules = await Promise.all(
  builds.map(async (name) => {
    const path = resolve(dir, `${name}.wasm`);
    try {
      return { name, bytes: new Uint8Array(await readFile(path)) };
    } catch (error) {
      return { name, error: new Error(`${path}: ${/** @type {Error} */ (error).message}; build it with cargo run -p harness -- guests`) };
    }
  }),
);

describe(`interface sections of every build (${builds.length} in testdata/guests.tsv)`, () => {
  for (const { name, bytes, error } of modules) {
    if (bytes === undefined) {
      test(`${name} is built`, () => {
        throw error;
      });
      continue;
    }
    const check = sectionCheck(name, bytes);
    test(check.name, { timeout: TIMEOUT_MS }, check.run);
  }

  test('the guests built without the macros are the only ones without a section', async () => {
    const without = [];
    for (const { name, bytes } of modules) {
      if (bytes !== undefined && readInterface(await WebAssembly.compile(bytes)) === undefined) without.push(name);
    }
    // minimal (hand-written exports), bare_talc (an allocator, no guest) and shapes without formats.
    assert.deepEqual(without.sort(), [...builds.filter((name) => name.startsWith('minimal')), 'bare_talc', 'shapes-none'].sort());
    for (const name of Object.keys(EXPECTED_TEXT)) assert.ok(builds.includes(name), `testdata/guests.tsv builds ${name}`);
  });
});

/** The declarations in hosts/js/test/types, and the command that writes them. */
const declared = (await readdir(new URL('types/', import.meta.url))).filter((file) => file.endsWith('.d.ts'));
const guestmem = resolve(target, 'debug', process.platform === 'win32' ? 'guestmem.exe' : 'guestmem');

describe('hosts/js/test/types: the declarations guestmem describe --typescript writes', () => {
  test('there are some', () => assert.ok(declared.length >= 5, `types/ holds ${declared.join(', ')}`));
  for (const file of declared) {
    const name = file.slice(0, -'.d.ts'.length);
    test(`types/${file} = guestmem describe --typescript ${name}.wasm`, async () => {
      const { stdout } = await promisify(execFile)(guestmem, ['describe', resolve(dir, `${name}.wasm`), '--typescript']).catch((error) => {
        throw new Error(`${guestmem}: ${error.message}; build it with cargo build -p guestmem-cli`);
      });
      assert.equal(await readFile(new URL(`types/${file}`, import.meta.url), 'utf8'), stdout);
    });
  }
});
