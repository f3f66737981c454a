// Guests as people write them, under the JavaScript host: the std guest and the wasm32-wasip1
// builds (no_std and std), as the Rust harness builds them into target/guests, through the same
// conformance and example checks as the other guests. Guests that import WASI get node:wasi, a
// new one per instance (a WASI object initialises one instance only).
//
//   cargo run -p harness   # builds target/guests, then: npm --prefix hosts/js/test test

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

import { VARIANTS, WASI_ENV, guestChecks } from './checks.mjs';

const TIMEOUT_MS = 120_000;
const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const dir = resolve(workspace, process.env.GUESTMEM_VARIANT_DIR ?? 'target/guests');

/** @returns {import('guestmem-host').InstantiateOptions} */
const withWasi = () => ({ wasi: new WASI({ version: 'preview1', env: { ...WASI_ENV } }) });

/** Each variant's bytes, or the Error that says how to build it: read before any suite is declared. */
const modules = await Promise.all(
  Object.entries(VARIANTS).map(async ([file, name]) => {
    const path = resolve(dir, `${file}.wasm`);
    try {
      return { file, name, bytes: await readFile(path) };
    } catch (error) {
      return { file, name, error: new Error(`${path}: ${/** @type {Error} */ (error).message}; build it with cargo run -p harness -- guests`) };
    }
  }),
);

for (const { file, name, bytes, error } of modules) {
  describe(file, () => {
    if (bytes === undefined) {
      test('the guest is built', () => {
        throw error;
      });
      return;
    }
    // WASI for the guests that import it (the std ones), as the Rust harness does.
    const importsWasi = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).some(
      (entry) => entry.module === 'wasi_snapshot_preview1',
    );
    const base = importsWasi ? withWasi : () => ({});
    for (const check of guestChecks(name, bytes, base)) test(check.name, { timeout: TIMEOUT_MS }, check.run);
  });
}
