// guestmem-host: the JavaScript host of guestmem guests (npm package, types in guestmem.d.ts).
//
// ES modules, no dependencies, no build step, for Node >= 20 and browsers. The contract they
// implement is docs/ABI.md (ABI version 1); the code links to it rather than restating it. This
// file is the package's one entry point: it only re-exports, one concern per module in src/.
//
//   import { Guest } from 'guestmem-host';
//   const guest = await Guest.instantiate(fetch('upper.wasm'));
//   guest.callString('upper', 'straße'); // 'STRASSE'

export { ABI_VERSION, abiExportName, REQUIRED_EXPORTS } from './src/abi.mjs';
export { GuestError } from './src/errors.mjs';
export { DEFAULT_RESULT_CAP, DEFAULT_REUSE_INPUT_BYTES, Guest } from './src/guest.mjs';
export { hostFunction } from './src/host-functions.mjs';
export { describeInterface, INTERFACE_SECTION, parseInterface, readInterface } from './src/interface.mjs';
export { DEFAULT_MAX_INSTANCES, Pool, PooledGuest } from './src/pool.mjs';
export { Postcard } from './src/postcard.mjs';

// The public types, each documented where it is defined.

/** @typedef {import('./src/errors.mjs').GuestErrorKind} GuestErrorKind */
/** @typedef {import('./src/bytes.mjs').Input} Input */
/** @typedef {import('./src/guest.mjs').Block} Block */
/** @typedef {import('./src/guest.mjs').Arg} Arg */
/** @typedef {import('./src/guest.mjs').GuestOptions} GuestOptions */
/** @typedef {import('./src/guest.mjs').InstantiateOptions} InstantiateOptions */
/** @typedef {import('./src/load.mjs').GuestSource} GuestSource */
/** @typedef {import('./src/load.mjs').Wasi} Wasi */
/** @typedef {import('./src/host-functions.mjs').HostParam} HostParam */
/** @typedef {import('./src/host-functions.mjs').HostResult} HostResult */
/** @typedef {import('./src/host-functions.mjs').HostSignature} HostSignature */
/** @typedef {import('./src/host-functions.mjs').HostFunction} HostFunction */
/** @typedef {import('./src/host-functions.mjs').HostFunctions} HostFunctions */
/**
 * @template K
 * @typedef {import('./src/host-functions.mjs').HostValue<K>} HostValue
 */
/**
 * @template {HostSignature} S
 * @typedef {import('./src/host-functions.mjs').HostArgs<S>} HostArgs
 */
/**
 * @template {HostSignature} S
 * @typedef {import('./src/host-functions.mjs').HostReturn<S>} HostReturn
 */
/** @typedef {import('./src/interface.mjs').Kind} Kind */
/** @typedef {import('./src/interface.mjs').InterfaceArgument} InterfaceArgument */
/** @typedef {import('./src/interface.mjs').InterfaceFunction} InterfaceFunction */
/** @typedef {import('./src/interface.mjs').Interface} Interface */
/**
 * @template P
 * @typedef {import('./src/postcard.mjs').PostcardValue<P>} PostcardValue
 */
/** @typedef {import('./src/pool.mjs').PoolOptions} PoolOptions */
/** @typedef {import('./src/pool.mjs').PoolCreateOptions} PoolCreateOptions */
/** @typedef {import('./src/pool.mjs').CheckoutOptions} CheckoutOptions */
/** @typedef {import('./src/pool.mjs').RecycleCause} RecycleCause */
/** @typedef {import('./src/pool.mjs').Recycles} Recycles */
/** @typedef {import('./src/pool.mjs').InstanceMetrics} InstanceMetrics */
/** @typedef {import('./src/pool.mjs').PoolMetrics} PoolMetrics */
