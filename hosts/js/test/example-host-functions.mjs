// The host-functions example of hosts/js/README.md ("Host functions"), runnable from the workspace
// root: `node hosts/js/test/example-host-functions.mjs`. A test checks that the README shows exactly
// this code.
import { Guest, hostFunction } from 'guestmem-host';

let salutation = 'Hello';
const guest = await Guest.instantiate('target/wasm32-unknown-unknown/guest/greet.wasm', {
  functions: {
    env: {
      // fn salutation() -> Result<String, String>: a string, or a throw the guest gets as its Err
      salutation: hostFunction({ result: 'string', fallible: true }, () => {
        if (salutation === undefined) throw new Error('no salutation today');
        return salutation;
      }),
      // fn log(line: &str)
      log: hostFunction({ params: ['string'] }, (line) => console.log('guest:', line)),
    },
  },
});
console.log(guest.callString('greet', 'guestmem')); // Hello, guestmem! (after "guest: Hello, guestmem!")
salutation = undefined;
try {
  guest.callString('greet', 'guestmem');
} catch (error) {
  console.log(error.kind, error.reason); // error no salutation today: the host's message, through the guest
}
console.log('live blocks:', guest.liveBlocks()); // live blocks: 0
