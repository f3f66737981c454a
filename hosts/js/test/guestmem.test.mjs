// node:test driver for the checks in checks.mjs, over every example guest: `npm --prefix hosts/js/test test`.
// The guests must be built first (or GUESTMEM_GUEST_DIR set: see guests.mjs):
//   cargo build --profile guest --target wasm32-unknown-unknown -p minimal
//   cargo build --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { WASI } from 'node:wasi';

import { Guest } from 'guestmem-host';
import { EXAMPLES, guestChecks, hostFunctionChecks, hostileChecks, libraryChecks, sourceChecks } from './checks.mjs';
import { guestDir, guestPath, readGuests } from './guests.mjs';
import { wasiGuest } from './hostile.mjs';
import { interfaceSuites } from './interface.mjs';
import { ownedChecks } from './owned.mjs';

/** A check that has not settled by then fails, naming itself, rather than stalling the run. */
const TIMEOUT_MS = 120_000;

const modules = await readGuests();
console.log(`guests from ${guestDir}`);

for (const name of [...EXAMPLES, 'greet']) {
  const module = modules[name];
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
    assert.deepEqual(guest.callBytes('echo', 'from a file'), new TextEncoder().encode('from a file'), 'echo from a file path');
  });
  test('instantiates from a file: URL', async () => {
    const guest = await Guest.instantiate(pathToFileURL(guestPath('echo')));
    assert.deepEqual(guest.callBytes('echo', 'from a URL'), new TextEncoder().encode('from a URL'), 'echo from a file: URL');
  });
});

describe('hostile guests', () => {
  for (const check of hostileChecks()) test(check.name, { timeout: TIMEOUT_MS }, check.run);
});

describe('host library', () => {
  for (const check of libraryChecks()) test(check.name, { timeout: TIMEOUT_MS }, check.run);
});

describe('host functions', () => {
  const { greet, imports } = modules;
  for (const module of [greet, imports]) {
    if (module instanceof Error) {
      test('the guests are built', () => {
        throw module;
      });
      return;
    }
  }
  const checks = hostFunctionChecks(/** @type {Uint8Array} */ (greet), /** @type {Uint8Array} */ (imports));
  for (const check of checks) test(check.name, { timeout: TIMEOUT_MS }, check.run);
});

// The interface section, typed values and owned arguments (interface.mjs, owned.mjs): the same
// suites as the page runs. sections.test.mjs checks the section of every build besides.
{
  const missing = Object.values(modules).find((module) => module instanceof Error);
  const built = /** @type {Record<string, Uint8Array>} */ (modules);
  const suites = missing === undefined ? [...interfaceSuites(built), { suite: 'owned arguments', checks: ownedChecks(built.in_place, built.faults) }] : [];
  if (missing !== undefined) {
    test('the guests of the interface checks are built', () => {
      throw missing;
    });
  }
  for (const { suite, checks } of suites) {
    describe(suite, () => {
      for (const check of checks) test(check.name, { timeout: TIMEOUT_MS }, check.run);
    });
  }
}

// Node only: node:wasi, with a reactor assembled by hand (hostile.mjs, wasiGuest).
describe('WASI (node:wasi)', () => {
  const env = { host_add: (/** @type {number} */ a, /** @type {number} */ b) => a + b };
  test('a reactor gets the WASI imports and the user imports, and initialize runs its _initialize', async () => {
    const wasi = new WASI({ version: 'preview1', env: { FIRST: '1', SECOND: '2' } });
    const guest = await Guest.instantiate(wasiGuest(), { wasi, imports: { env } });
    assert.equal(guest.callU32('initialized'), 1, '_initialize ran');
    assert.equal(guest.callU32('env_count'), 2, 'environ_sizes_get through node:wasi');
    assert.equal(guest.callU32('add_via_host', 20, 22), 42, 'the user import');
    assert.equal(guest.liveBlocks(), 0);
  });
  test('node:wasi needs initialize: without it, its imports fail (why the host calls it)', async () => {
    const wasi = new WASI({ version: 'preview1', env: { ONLY: '1' } });
    const module = await WebAssembly.compile(wasiGuest());
    const instance = await WebAssembly.instantiate(module, { ...wasi.getImportObject(), env });
    const guest = new Guest(instance);
    assert.throws(() => guest.callU32('env_count'), (/** @type {any} */ error) => error.kind === 'trap');
  });
});

// example.mjs and example-host-functions.mjs are snippets hosts/js/README.md shows: each must be
// the same code, run, and print what its comments say.
/**
 * The first block of `language` in hosts/js/README.md after `heading` (from the top without one).
 * @param {string} [heading]
 * @param {string} [language]
 */
async function readmeSnippet(heading, language = 'js') {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const from = heading === undefined ? 0 : readme.indexOf(`\n${heading}\n`);
  assert.ok(from >= 0, `the README has no ${heading}`);
  return new RegExp(`\`\`\`${language}\\n([^]*?)\`\`\``).exec(readme.slice(from))?.[1];
}

/**
 * An example's code without the comment lines that open it (which say where it comes from).
 * @param {string} file
 */
async function exampleCode(file) {
  const lines = (await readFile(new URL(file, import.meta.url), 'utf8')).split('\n');
  const start = lines.findIndex((line) => !line.startsWith('// '));
  return lines.slice(start).join('\n');
}

/**
 * Runs an example from the workspace root, as a user would, and returns what it printed.
 * @param {string} file
 */
async function runExample(file) {
  const { stdout } = await promisify(execFile)(process.execPath, [`hosts/js/test/${file}`], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
  });
  return stdout.trimEnd().split('\n');
}

test('the hosts/js README example is example.mjs', async () => {
  assert.equal(await exampleCode('example.mjs'), await readmeSnippet());
});

test("the workspace README's JavaScript example is example.mjs", async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('**JavaScript**');
  assert.ok(from >= 0, 'the README has no **JavaScript** paragraph');
  assert.equal(await exampleCode('example.mjs'), /```js\n([^]*?)```/.exec(readme.slice(from))?.[1]);
});

// It reads target/wasm32-unknown-unknown/guest/upper.wasm, where a user's `cargo build` puts it.
test('the README example runs', async () => {
  const lines = await runExample('example.mjs');
  if (lines.length !== 3 || lines[0] !== 'STRASSE' || !/^call upper: refused before the guest ran: .*not UTF-8/.test(lines[1]) || lines[2] !== 'live blocks: 0') {
    throw new Error(`example.mjs printed:\n${lines.join('\n')}`);
  }
});

test('the hosts/js README host-functions example is example-host-functions.mjs', async () => {
  assert.equal(await exampleCode('example-host-functions.mjs'), await readmeSnippet('## Host functions'));
});

test('the hosts/js README typed-exports examples are example-exports.mjs and example-exports.check.ts', async () => {
  assert.equal(await exampleCode('example-exports.mjs'), await readmeSnippet('## Typed exports'));
  assert.equal(await exampleCode('example-exports.check.ts'), await readmeSnippet('## Typed exports', 'ts'));
});

// It reads target/guests/shapes.wasm (cargo run -p harness -- guests).
test('the README typed-exports example runs', async () => {
  assert.deepEqual(await runExample('example-exports.mjs'), [
    "{ name: 'door', area: 16000, square: false }",
    "{ name: 'tile', area: 900n, square: true }",
    'error `door` has no area',
    'live blocks: 0',
  ]);
});

// It reads target/wasm32-unknown-unknown/guest/greet.wasm (cargo build ... -p greet).
test('the README host-functions example runs', async () => {
  assert.deepEqual(await runExample('example-host-functions.mjs'), [
    'guest: Hello, guestmem!',
    'Hello, guestmem!',
    'error no salutation today',
    'live blocks: 0',
  ]);
});
