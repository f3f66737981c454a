// Where a guest's module comes from (bytes, a Response, a path or URL...), and the imports it is
// instantiated with besides host functions.

/**
 * Where a guest's code comes from: its bytes, a compiled module, a `Response` (or a promise of
 * one, such as `fetch(url)`), a `Blob`/`File`, or a path or URL (read from disk in Node, fetched
 * in a browser).
 * @typedef {BufferSource | WebAssembly.Module | Response | PromiseLike<Response> | Blob | string | URL} GuestSource
 */

/**
 * A WASI implementation with the shape of Node's `node:wasi` `WASI` (and of browser polyfills
 * such as @bjorn3/browser_wasi_shim): its imports, and `initialize` for a reactor.
 * @typedef {{
 *   initialize(instance: WebAssembly.Instance): unknown,
 *   getImportObject?: () => object,
 *   wasiImport?: WebAssembly.ModuleImports,
 * }} Wasi
 */

/**
 * The imports a WASI implementation offers: `getImportObject()` (node:wasi), else its
 * `wasiImport` as `wasi_snapshot_preview1`.
 * @param {Wasi} wasi
 * @returns {WebAssembly.Imports}
 */
export function wasiImports(wasi) {
  if (typeof wasi.getImportObject === 'function') return /** @type {WebAssembly.Imports} */ (wasi.getImportObject());
  if (wasi.wasiImport !== undefined) return { wasi_snapshot_preview1: wasi.wasiImport };
  throw new TypeError('the wasi option has neither getImportObject() nor wasiImport');
}

/**
 * `over` merged into `base`, one import module at a time: an entry of `over` wins.
 * @param {WebAssembly.Imports} base
 * @param {WebAssembly.Imports} over
 * @returns {WebAssembly.Imports}
 */
export function mergeImports(base, over) {
  /** @type {WebAssembly.Imports} */
  const merged = { ...base };
  for (const [module, entries] of Object.entries(over)) merged[module] = { ...base[module], ...entries };
  return merged;
}

const isNode = typeof globalThis.process === 'object' && typeof globalThis.process.versions?.node === 'string';

/**
 * @param {GuestSource} source
 * @returns {Promise<WebAssembly.Module>}
 */
export async function compile(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof source === 'string' || source instanceof URL) {
    const url = source instanceof URL ? source : toUrl(source);
    if (isNode && (url === undefined || url.protocol === 'file:')) {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(url ?? /** @type {string} */ (source)));
    }
    return compile(await fetch(url ?? /** @type {string} */ (source)));
  }
  if (isResponse(source)) {
    if (!source.ok) throw new Error(`fetching the guest from ${source.url || 'a Response'}: HTTP ${source.status}`);
    const type = source.headers.get('content-type') ?? '';
    if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
      return WebAssembly.compileStreaming(source);
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return WebAssembly.compile(await source.arrayBuffer());
  throw new TypeError(`cannot load a guest from ${Object.prototype.toString.call(source)}`);
}

/**
 * A string is a URL only with a scheme (`http:`, `file:`...); otherwise it is a path.
 * @param {string} text
 */
function toUrl(text) {
  if (!/^[a-z][a-z0-9+.-]+:/i.test(text)) {
    // Relative in a browser means relative to the page.
    return isNode ? undefined : new URL(text, globalThis.location?.href);
  }
  return new URL(text);
}

/**
 * @param {unknown} value
 * @returns {value is Response}
 */
function isResponse(value) {
  if (typeof Response !== 'undefined' && value instanceof Response) return true;
  const candidate = /** @type {{ arrayBuffer?: unknown, headers?: { get?: unknown } }} */ (value);
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof candidate.arrayBuffer === 'function' &&
    typeof candidate.headers?.get === 'function'
  );
}
