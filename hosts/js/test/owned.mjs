// Owned arguments under the JavaScript host ("Owned arguments" in docs/ABI.md), as
// harness/src/checks/owned.rs checks them under the Rust host: the host gives an input's block up
// with the call and never frees it; the guest frees it exactly once, or returns it as its result,
// on success, on failure, and when an earlier argument is bad. `live_blocks` tells a leak (one
// more) from a double free (a trap).

import { Guest } from 'guestmem-host';
import { hostileGuest, i32 } from './hostile.mjs';
import { equal, ok, pattern, raw, sameBytes, throwsGuest } from './support.mjs';

/** @typedef {import('./support.mjs').Check} Check */
/** @typedef {import('./types/in_place.js').Exports} InPlaceExports */
/** @typedef {import('./types/faults.js').Exports} FaultsExports */

const encoder = new TextEncoder();

/**
 * A hand-assembled guest (hostile.mjs) whose second alloc fails, with an export `take` described
 * as `take(data: owned bytes, text: string) -> bytes`: the owned block is placed, the next input
 * is not, and the guest is never called.
 */
function allocFailsAfterOwned() {
  const module = hostileGuest({ allocFailsAt: 2, extra: [{ name: 'take', params: 4, results: 1, body: i32(0) }] });
  const name = (/** @type {string} */ text) => [text.length, ...encoder.encode(text)];
  const entry = [1, 0, 0, ...name('take'), 2, ...name('data'), 0x81, ...name('text'), 2, 1, 0];
  const section = [...name('guestmem.interface'), ...entry];
  return Uint8Array.of(...module, 0, section.length, ...section);
}

/**
 * @param {Uint8Array} inPlaceBytes examples/in_place: ascii_upper(text: owned bytes), echo_owned(bytes: owned bytes)
 * @param {Uint8Array} faultsBytes harness/guests/faults: owned_fails, owned_after(text, data: owned), owned_panics
 * @returns {Check[]}
 */
export function ownedChecks(inPlaceBytes, faultsBytes) {
  return [
    {
      name: 'in_place: owned arguments are passed owned and freed by the guest, up to 1 MiB lent in place and 16 MiB copied',
      run: async () => {
        const guest = /** @type {Guest<InPlaceExports>} */ (await Guest.instantiate(inPlaceBytes));
        ok(guest.interface?.exports.every((fn) => fn.args[0].owned) === true, 'the section marks the arguments owned');
        const before = guest.liveBlocks();
        sameBytes(guest.callBytes('ascii_upper', encoder.encode('straße')), encoder.encode('STRAßE'), 'ascii_upper("straße")');
        sameBytes(guest.exports.ascii_upper(encoder.encode('in place')), encoder.encode('IN PLACE'), 'guest.exports.ascii_upper');
        for (const len of [0, 1, 16, 4096, 1 << 20]) {
          const input = pattern(len, len);
          const same = guest.callView('echo_owned', input, (view) => view.length === len && view.every((byte, index) => byte === input[index]));
          ok(same, `echo_owned of ${len} bytes changed them`);
        }
        const large = pattern(16 << 20, 3);
        sameBytes(guest.exports.echo_owned(large), large, 'guest.exports.echo_owned of 16 MiB');
        equal(guest.liveBlocks(), before, 'live_blocks over owned calls that succeed');
        // Borrowed calls still use the kept input block; owned inputs never went into it.
        equal(raw(guest).liveBlocks(), before, 'raw live_blocks: no kept input block was made for owned inputs');
      },
    },
    {
      name: 'in_place: a host that does not know the argument is owned passes it borrowed, and the guest refuses it',
      run: async () => {
        const unaware = await Guest.instantiate(inPlaceBytes, { interface: null });
        const refused = throwsGuest(() => unaware.callBytes('ascii_upper', 'abc'), 'error', 'ascii_upper passed borrowed');
        ok((refused.reason ?? '').startsWith('argument `text`: not an owned block'), `the reason ${JSON.stringify(refused.reason)}`);
        unaware.releaseInputBlock();
        equal(unaware.liveBlocks(), 0, 'live_blocks after a borrowed input was refused');
        equal(raw(unaware).liveBlocks(), 0, 'raw live_blocks: the input freed by the host, not taken');
      },
    },
    {
      name: 'faults: an owned block is freed by the guest when the export fails, on a bad earlier argument too',
      run: async () => {
        const guest = /** @type {Guest<FaultsExports>} */ (await Guest.instantiate(faultsBytes));
        const before = guest.liveBlocks();
        const failed = throwsGuest(() => guest.callBytes('owned_fails', 'data'), 'error', 'owned_fails');
        equal(failed.reason, 'owned_fails: refused', 'owned_fails');
        const typed = throwsGuest(() => guest.exports.owned_fails(encoder.encode('data')), 'error', 'guest.exports.owned_fails');
        equal(typed.reason, 'owned_fails: refused', 'guest.exports.owned_fails');
        // The host refuses text that is not UTF-8 before anything is placed...
        throwsGuest(() => guest.callBytes('owned_after', Uint8Array.of(0xff), 'data'), 'call', 'owned_after with a bad first argument');
        // ...so the guest's side is driven by hand: a bad first argument, then an owned block the
        // guest must free although the call fails before its body runs.
        const text = guest.alloc(Uint8Array.of(0xff));
        const block = guest.alloc(Uint8Array.of(0, 0, 0, 0, ...encoder.encode('data')));
        const result = raw(guest).call('owned_after', text.ptr, text.len, block.ptr + 4, 4);
        const message = guest.lastError();
        guest.dealloc(text);
        ok(result === 0 && (message ?? '').includes('argument `text`'), `owned_after by hand = ${result}, last_error ${JSON.stringify(message)}`);
        sameBytes(guest.callBytes('owned_after', 'ok', 'data'), encoder.encode('data'), 'owned_after');
        sameBytes(guest.exports.owned_after('ok', encoder.encode('data')), encoder.encode('data'), 'guest.exports.owned_after');
        equal(guest.liveBlocks(), before, 'live_blocks over owned calls that fail');
      },
    },
    {
      name: 'an owned block the guest never got is freed by the host: a later input could not be allocated',
      run: async () => {
        const guest = await Guest.instantiate(allocFailsAfterOwned());
        equal(guest.interface?.exports[0].args[0].owned, true, 'take(data: owned bytes, ...)');
        const failed = throwsGuest(() => guest.callBytes('take', 'owned', 'text'), 'alloc', 'take, whose second alloc fails');
        ok(failed.message.startsWith('alloc(4) returned 0'), failed.message);
        equal(raw(guest).liveBlocks(), 0, 'live_blocks: the owned block came back');
      },
    },
    {
      name: 'faults: a panic with an owned block traps with its reason; the block goes with the instance',
      run: async () => {
        const guest = /** @type {Guest<FaultsExports>} */ (await Guest.instantiate(faultsBytes));
        const trapped = throwsGuest(() => guest.callU32('owned_panics', 'data'), 'trap', 'owned_panics');
        ok((trapped.reason ?? '').includes('owned_panics: 4 bytes'), `the trap reason ${JSON.stringify(trapped.reason)}`);
        const typed = /** @type {Guest<FaultsExports>} */ (await Guest.instantiate(faultsBytes));
        throwsGuest(() => typed.exports.owned_panics(encoder.encode('data')), 'trap', 'guest.exports.owned_panics');
      },
    },
  ];
}
