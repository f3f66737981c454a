// The typed-exports example of hosts/js/README.md ("Typed exports"), runnable from the workspace
// root: `node hosts/js/test/example-exports.mjs`. A test checks that the README shows exactly this code.
import { Guest, Postcard } from 'guestmem-host';

const guest = await Guest.instantiate('target/guests/shapes.wasm'); // cargo run -p harness -- guests builds it
const { measure, measure_compact } = guest.exports; // a function per export its interface section describes
console.log(measure({ name: 'door', width: 80, height: 200 })); // JSON in and out: { name: 'door', area: 16000, square: false }

const Rect = Postcard.struct({ name: Postcard.string, width: Postcard.u32, height: Postcard.u32 }); // postcard: the Rust fields, in order
const Measured = Postcard.struct({ name: Postcard.string, area: Postcard.u64, square: Postcard.bool });
console.log(Measured.decode(measure_compact(Rect.encode({ name: 'tile', width: 30, height: 30 })))); // { name: 'tile', area: 900n, square: true }
try {
  measure({ name: 'door', width: 80, height: 0 }); // measure returns a Result: its Err is thrown
} catch (error) {
  console.log(error.kind, error.reason); // error `door` has no area
}
console.log('live blocks:', guest.liveBlocks()); // live blocks: 0
