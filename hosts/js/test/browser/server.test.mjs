// The browser run's server serves what the pages need, on loopback, and nothing else.
// No browser needed: `npm --prefix hosts/js/test test` runs this.

import { after, before, test } from 'node:test';

import { serve } from './server.mjs';

/** @type {Awaited<ReturnType<typeof serve>>} */
let server;

before(async () => {
  server = await serve({ lifetimeMs: 60_000 });
});

after(() => server.close());

/** @param {string} path */
const get = (path) => fetch(`${server.origin}${path}`);

test('listens on 127.0.0.1 only', () => {
  if (!server.origin.startsWith('http://127.0.0.1:')) throw new Error(`origin ${server.origin}`);
});

test('serves the pages, the modules and a guest with their types', async () => {
  /** @type {[string, string][]} */
  const expected = [
    ['/js/browser/index.html', 'text/html'],
    ['/host/guestmem.mjs', 'text/javascript'],
    ['/host/src/guest.mjs', 'text/javascript'],
    ['/testdata/sections.json', 'application/json'],
    ['/testdata/guests.tsv', 'text/tab-separated-values'],
    ['/js/checks.mjs', 'text/javascript'],
    ['/wasm/upper.wasm', 'application/wasm'],
  ];
  for (const [path, type] of expected) {
    const response = await get(path);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    if (!(response.headers.get('content-type') ?? '').startsWith(type)) {
      throw new Error(`${path}: content-type ${response.headers.get('content-type')}, expected ${type}`);
    }
  }
});

test('refuses paths outside hosts/js/test, hosts/js and testdata, node_modules, other types and other methods', async () => {
  const refused = [
    '/js/%2e%2e/%2e%2e/%2e%2e/Cargo.toml',
    '/js/..%2f..%2f..%2fCargo.toml',
    // Types the server does serve, outside hosts/js/test: only the containment check refuses them.
    '/js/..%2fguestmem.mjs',
    '/js/..%2f..%2f..%2ftarget/wasm32-unknown-unknown/guest/upper.wasm',
    '/js/%2e%2e/%2e%2e/%2e%2e/target/wasm32-unknown-unknown/guest/upper.wasm',
    '/js/node_modules/playwright-core/package.json',
    '/js/package.json',
    '/host/package.json',
    '/host/test/package.json',
    '/testdata/README.md',
    '/testdata/..%2fCargo.toml',
    '/testdata/..%2fhosts/js/package.json',
    '/host/test/node_modules/playwright-core/index.mjs',
    '/host/%2e%2e/%2e%2e/Cargo.toml',
    // Served types, outside hosts/js: only the containment check refuses them.
    '/host/..%2f..%2ftarget/guests/upper.wasm',
    '/host/%2e%2e/%2e%2e/target/wasm32-unknown-unknown/guest/upper.wasm',
    '/wasm/..%2f..%2f..%2fCargo.toml',
    '/wasm/UPPER.wasm',
    '/Cargo.toml',
    '/',
  ];
  for (const path of refused) {
    const response = await get(path);
    await response.arrayBuffer();
    if (response.status !== 404) throw new Error(`${path}: HTTP ${response.status}, expected 404`);
  }
  const post = await fetch(`${server.origin}/js/checks.mjs`, { method: 'POST', body: 'x' });
  await post.arrayBuffer();
  if (post.status !== 404) throw new Error(`POST: HTTP ${post.status}, expected 404`);
});

test('closes itself when its lifetime is over', async () => {
  const short = await serve({ lifetimeMs: 50 });
  await new Promise((done) => setTimeout(done, 200));
  let refused = false;
  try {
    await fetch(`${short.origin}/js/checks.mjs`);
  } catch {
    refused = true;
  }
  await short.close();
  if (!refused) throw new Error('the server still answers after its lifetime');
});
