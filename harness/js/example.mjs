// The README's JavaScript host, runnable from the workspace root: `node harness/js/example.mjs`.
import { Guest } from 'guestmem-host';

const guest = await Guest.instantiate('target/wasm32-unknown-unknown/guest/upper.wasm'); // or fetch(url), bytes, a Blob
console.log(guest.callString('upper', 'straße')); // STRASSE: the input is copied in and freed, the result read and freed
try {
  guest.callString('upper', new Uint8Array([0xff])); // not UTF-8: the guest returns 0...
} catch (error) {
  console.log(error.kind, error.reason); // ...and the Error carries last_error's message
}
console.log('live blocks:', guest.liveBlocks()); // live blocks: 0
