// The README's JavaScript host (hosts/js/README.md), runnable from the workspace root:
// `node hosts/js/test/example.mjs`. A test checks that the README shows exactly this code.
import { Guest } from 'guestmem-host';

const guest = await Guest.instantiate('target/wasm32-unknown-unknown/guest/upper.wasm'); // Node: a path
console.log(guest.callString('upper', 'straße')); // STRASSE: the input is copied in, the result read and freed
try {
  guest.callString('upper', new Uint8Array([0xff])); // not UTF-8, where upper's interface says text: string...
} catch (error) {
  console.log(error.kind, error.message); // ...so the call is refused before the guest runs: call upper: refused ...
}
console.log('live blocks:', guest.liveBlocks()); // live blocks: 0
