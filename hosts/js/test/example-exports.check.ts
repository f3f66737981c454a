// The TypeScript example of hosts/js/README.md ("Typed exports"): compiled by
// `tsc -p tsconfig.host.json`, never run. A test checks that the README shows exactly this code.
import { Guest, Postcard } from 'guestmem-host';
import type { Exports } from './types/shapes.js';

const guest = await Guest.instantiate<Exports>('target/guests/shapes.wasm');
const Rect = Postcard.struct({ name: Postcard.string, width: Postcard.u32, height: Postcard.u32 });
const Measured = Postcard.struct({ name: Postcard.string, area: Postcard.u64, square: Postcard.bool });
const tile: { name: string; area: bigint; square: boolean } = Measured.decode(
  guest.exports.measure_compact(Rect.encode({ name: 'tile', width: 30, height: 30 })),
);
// @ts-expect-error: measure_compact takes the encoded bytes, a Uint8Array
guest.exports.measure_compact({ name: 'tile', width: 30, height: 30 });
// @ts-expect-error: Rect has no `depth`, and its width is a number
Rect.encode({ name: 'box', width: '1', height: 1, depth: 1 });
