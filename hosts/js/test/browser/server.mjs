// A small static server for the browser run, on 127.0.0.1 only, that stops itself.
//
//   /js/...              files under hosts/js/test (not node_modules)
//   /host/...            the guestmem-host package (hosts/js), which the pages' import map names
//   /testdata/...        the workspace's testdata/ (JSON and TSV only), which testdata.mjs reads
//   /wasm/NAME.wasm      guests from target/wasm32-unknown-unknown/guest (or GUESTMEM_GUEST_DIR)
//
// `node hosts/js/test/browser/server.mjs` serves the demo for a person to try; it stops after
// ten minutes, or on Ctrl-C.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { guestPath } from '../guests.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const jsRoot = resolve(here, '..');
const hostRoot = resolve(here, '../..');
const testdataRoot = resolve(here, '../../../../testdata');

/** Content types by extension: the pages' and the modules'. */
const TYPES = /** @type {Record<string, string>} */ ({
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
});

/** The test data's, served under /testdata/ only (so no package.json is). */
const DATA_TYPES = /** @type {Record<string, string>} */ ({
  '.json': 'application/json; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
});

/** URL prefix -> the directory it serves, and the types it serves. */
const ROOTS = /** @type {[string, string, Record<string, string>][]} */ ([
  ['/js/', jsRoot, TYPES],
  ['/host/', hostRoot, TYPES],
  ['/testdata/', testdataRoot, DATA_TYPES],
]);

/**
 * The file a request path names and its content type, or undefined when it names nothing this
 * server serves.
 * @param {string} path the URL's pathname
 * @returns {{ file: string, type: string } | undefined}
 */
function fileFor(path) {
  const wasm = /^\/wasm\/([a-z0-9_]+\.wasm)$/.exec(path);
  if (wasm) return { file: guestPath(wasm[1].slice(0, -'.wasm'.length)), type: TYPES['.wasm'] };
  const served = ROOTS.find(([prefix]) => path.startsWith(prefix));
  if (served === undefined) return undefined;
  const [prefix, root, types] = served;
  const file = resolve(root, decodeURIComponent(path.slice(prefix.length)));
  const inside = relative(root, file);
  if (inside.startsWith('..') || inside.split(sep).includes('node_modules')) return undefined;
  const type = types[extname(file)];
  return type === undefined ? undefined : { file, type };
}

/**
 * Starts the server on a free loopback port.
 * @param {{ lifetimeMs?: number, log?: (line: string) => void }} [options]
 *   `lifetimeMs`: the server closes itself after this long, whatever happens (default 5 min)
 * @returns {Promise<{ origin: string, close: () => Promise<void> }>}
 */
export async function serve({ lifetimeMs = 5 * 60_000, log = () => {} } = {}) {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const served = request.method === 'GET' ? fileFor(path) : undefined;
    let status = 404;
    try {
      if (served !== undefined) {
        const body = await readFile(served.file);
        status = 200;
        response.writeHead(200, { 'content-type': served.type, 'cache-control': 'no-store' });
        response.end(body);
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } finally {
      log(`${status} ${request.method} ${path}`);
    }
  });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const close = () =>
    new Promise((done) => {
      clearTimeout(deadline);
      server.closeAllConnections();
      server.close(() => done(undefined));
    });
  const deadline = setTimeout(() => {
    log(`server: lifetime of ${lifetimeMs} ms is over, closing`);
    void close();
  }, lifetimeMs);
  return { origin: `http://127.0.0.1:${address.port}`, close };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { origin, close } = await serve({ lifetimeMs: 10 * 60_000, log: console.log });
  console.log(`demo: ${origin}/js/browser/index.html  checks: ${origin}/js/browser/checks.html  (stops in 10 minutes)`);
  process.once('SIGINT', () => void close());
}
