// The JavaScript host against the workspace's testdata/ (testdata/README.md), the cases the Rust
// and Python hosts' tests read too: every interface section through parseInterface and
// describeInterface, every result block through the reader the Guest uses, and the ABI version.
// No guest needs building: `npm --prefix hosts/js/test test`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ABI_VERSION, describeInterface, GuestError, parseInterface } from 'guestmem-host';
// Not part of the package's API: the pure reader behind every result the Guest takes.
import { resultLength } from '../src/result-block.mjs';
import { conformance, fromHex, resultBlockCases, sectionCases } from './testdata.mjs';

/** @param {Uint8Array} bytes */
const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

test(`the host speaks ABI version ${conformance.abi_version} (conformance.json)`, () => {
  assert.equal(ABI_VERSION, conformance.abi_version);
});

describe(`sections.json: ${sectionCases.length} interface sections`, () => {
  for (const each of sectionCases) {
    test(each.name, () => {
      const contents = fromHex(each.section);
      if ('describe' in each) {
        assert.equal(describeInterface(parseInterface(contents)), each.describe);
        return;
      }
      assert.throws(
        () => parseInterface(contents),
        (/** @type {unknown} */ error) => {
          assert.ok(error instanceof GuestError, `not a GuestError: ${error}`);
          assert.equal(error.kind, 'interface');
          assert.ok(error.message.includes(each.error), `${JSON.stringify(error.message)} lacks ${JSON.stringify(each.error)}`);
          return true;
        },
      );
    });
  }
});

// The reader names the problems as the file does; the Guest reports each as a GuestError of kind
// `bounds` whose message says which (`misaligned`, `length prefix`, `payload of N bytes`). It
// reads with no cap, so it never meets `too_long`.
describe(`result_blocks.json: ${resultBlockCases.length} result blocks`, () => {
  for (const each of resultBlockCases) {
    test(each.name, () => {
      const memory = Uint8Array.from({ length: each.memory_size }, (_, index) => index % 251);
      if (each.prefix_at !== null) new DataView(memory.buffer).setUint32(each.prefix_at, each.prefix, true);
      const read = resultLength(memory, each.ptr, each.cap);
      if ('payload' in each) {
        assert.equal(typeof read, 'number', `a problem: ${read}`);
        const len = /** @type {number} */ (read);
        assert.equal(toHex(memory.subarray(each.ptr + 4, each.ptr + 4 + len)), each.payload);
      } else {
        assert.equal(read, each.problem);
      }
    });
  }
});
