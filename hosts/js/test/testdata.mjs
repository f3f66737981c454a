// The workspace's testdata/ (testdata/README.md): the wire format's cases and the guest table that
// the Rust, Python and JavaScript tests all read, so that no suite keeps a private copy. Read from
// disk in Node, and from the test server (browser/server.mjs serves /testdata/) in a page.

const root = new URL('../../../testdata/', import.meta.url);

/** @param {string} name a file of testdata/ */
async function read(name) {
  const url = new URL(name, root);
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return readFile(url, 'utf8');
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/**
 * The facts of the ABI the conformance checks use.
 * @type {{ abi_version: number, block_align: number, lengths: number[], impossible_lengths: number[] }}
 */
export const conformance = JSON.parse(await read('conformance.json'));

/**
 * Interface sections (hex), each with the text describe prints for it or words its error contains.
 * @type {({ name: string, section: string } & ({ describe: string } | { error: string }))[]}
 */
export const sectionCases = JSON.parse(await read('sections.json')).cases;

/**
 * Result blocks read out of a made-up memory: the payload (hex), or the problem.
 * @typedef {'misaligned' | 'prefix_out_of_bounds' | 'payload_out_of_bounds' | 'too_long'} ResultProblem
 * @type {({ name: string, memory_size: number, prefix_at: number | null, prefix: number, ptr: number, cap: number } & ({ payload: string } | { problem: ResultProblem }))[]}
 */
export const resultBlockCases = JSON.parse(await read('result_blocks.json')).cases;

/**
 * The rows of guests.tsv: the module's name (its file is NAME.wasm), its package and its target.
 * @type {{ name: string, package: string, target: string }[]}
 */
export const guestBuilds = (await read('guests.tsv'))
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [name, pkg, target] = line.split('\t');
    return { name, package: pkg, target };
  });

/**
 * The case of sections.json named `name`.
 * @param {string} name
 */
export function sectionCase(name) {
  const found = sectionCases.find((each) => each.name === name);
  if (found === undefined) throw new Error(`testdata/sections.json has no case named ${JSON.stringify(name)}`);
  return found;
}

/** @param {string} hex @returns {Uint8Array<ArrayBuffer>} */
export const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
