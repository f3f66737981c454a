// The pool example of hosts/js/README.md ("Pools"), runnable from the workspace root:
// `node hosts/js/test/example-pool.mjs`. A test checks that the README shows exactly this code.
import { Pool } from 'guestmem-host';

const pool = await Pool.create('target/guests/misbehave.wasm', {
  maxInstances: 1, // at most this many instances alive, idle or checked out (16 by default)
  recycleAbovePages: 256, // drop an instance whose memory is over 16 MiB after a call...
  recycleAfterCalls: 10_000, // ...or that served this many calls
});
const lease = await pool.checkout({ timeout: 100 }); // an idle instance, a new one, or wait up to 100 ms
console.log(await lease.call((guest) => guest.callString('panic_on', 'abc'))); // ABC
try {
  await pool.checkout({ timeout: 10 }); // the only instance is out...
} catch (error) {
  console.log(error.kind); // busy: ...for longer than the timeout
}
try {
  await lease.call((guest) => guest.callString('panic_on', 'panic')); // the guest panics...
} catch (error) {
  console.log(error.kind); // trap: ...so the instance is recycled
}
console.log(await lease.call((guest) => guest.callString('panic_on', 'fine'))); // FINE, on a fresh instance
lease.release(); // back to the pool; pool.use(fn) checks out, runs fn(lease) and releases
const { calls, traps, recycles, created } = pool.metrics();
console.log(`calls ${calls} traps ${traps} recycles by trap ${recycles.trap} created ${created}`); // calls 3 traps 1 recycles by trap 1 created 2
