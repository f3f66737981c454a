// Pool: up to N instances of one module shared by any number of async callers, each call judged
// and the instance recycled after a trap, a memory high-water mark or a call quota. The
// JavaScript counterpart of the Rust host's `pool` (hosts/rust/src/pool), without its deadlines:
// a synchronous wasm call cannot be interrupted on the thread that runs it.

import { GuestError } from './errors.mjs';
import { Guest } from './guest.mjs';
import { readInterface } from './interface.mjs';
import { compile } from './load.mjs';

/** @import { InstantiateOptions } from './guest.mjs' */
/** @import { GuestSource } from './load.mjs' */

/** The most instances a pool keeps unless told otherwise. */
/** @type {number} */
export const DEFAULT_MAX_INSTANCES = 16;

/** A wasm page: linear memory grows and is measured in these. */
const PAGE = 64 * 1024;

/**
 * Why an instance was recycled (dropped, a fresh one made in its place when needed), as the Rust
 * host's `RecycleCause` names it:
 * - `trap`: a call trapped (a GuestError of kind `trap`, `host` or `dead`, or the guest is
 *   `trapped` after the call even though the error was caught): the instance is dead.
 * - `timeout`: never in JavaScript, which has no deadlines; named so that the metrics have the
 *   Rust and Python hosts' shape.
 * - `memory`: linear memory was above `recycleAbovePages` after a call (wasm memory never shrinks).
 * - `calls`: the instance served `recycleAfterCalls` calls.
 * - `demand`: the holder asked for it (`lease.recycle()`).
 * @typedef {'trap' | 'timeout' | 'memory' | 'calls' | 'demand'} RecycleCause
 */

/**
 * @typedef {object} PoolOptions
 * @property {number} [maxInstances] at most this many instances alive at once, idle or checked
 *   out (default {@link DEFAULT_MAX_INSTANCES}); a positive integer
 * @property {number} [recycleAbovePages] recycle an instance whose linear memory is more than this
 *   many 64 KiB pages after a call (default: never)
 * @property {number} [recycleAfterCalls] recycle an instance after it served this many calls
 *   (default: never); a positive integer
 * @property {InstantiateOptions | (() => InstantiateOptions)} [instanceOptions] what each new
 *   instance is instantiated with (`functions`, `imports`, `wasi`, ...), as for
 *   `Guest.instantiate`; a function is called for every new instance, which a `wasi` needs (a
 *   WASI instance initialises one guest only). The module's interface section is read once, not
 *   per instance, unless these give an `interface`.
 */

/**
 * @typedef {object} CreateOnlyOptions
 * @property {number} [prewarm] instances made before `Pool.create` resolves (default 0), so that
 *   the first checkouts do not wait for them
 * @typedef {PoolOptions & CreateOnlyOptions} PoolCreateOptions
 */

/**
 * @typedef {object} CheckoutOptions
 * @property {number} [timeout] how long to wait for an instance when all are out, in
 *   milliseconds (default: as long as it takes); 0 does not wait
 */

/**
 * Instances recycled, by cause.
 * @typedef {{ trap: number, timeout: number, memory: number, calls: number, demand: number }} Recycles
 */

/**
 * One live instance.
 * @typedef {object} InstanceMetrics
 * @property {number} id its number in the pool: 1 for the first made, counting up
 * @property {number} memoryPages linear memory after its last call, in 64 KiB pages
 * @property {number} peakMemoryPages the most linear memory seen after a call, in 64 KiB pages
 * @property {number} calls calls it served through `lease.call`
 * @property {boolean} checkedOut whether it is checked out
 */

/**
 * A snapshot of a pool's counters, from its creation to now: the Rust host's `PoolMetrics`, in
 * camelCase.
 * @typedef {object} PoolMetrics
 * @property {number} live instances alive: idle, checked out, or being made
 * @property {number} idle instances waiting in the pool
 * @property {number} maxInstances the most instances the pool makes
 * @property {number} created instances made (the first ones and every replacement)
 * @property {number} checkouts checkouts that got an instance
 * @property {number} waits checkouts that found every instance out and waited, whether they got
 *   one or not
 * @property {number} waitTime the time those checkouts waited, in all, in milliseconds
 * @property {number} busy checkouts that waited in vain (a `busy` GuestError)
 * @property {number} calls calls made through `lease.call`
 * @property {number} traps those that trapped
 * @property {number} timeouts always 0: JavaScript calls have no deadline
 * @property {Recycles} recycles instances recycled, by cause
 * @property {InstanceMetrics[]} instances the instances alive, idle or checked out, oldest first
 */

/** One instance and what the pool keeps beside it. */
class Slot {
  /** @param {Guest} guest @param {number} id */
  constructor(guest, id) {
    this.guest = guest;
    this.id = id;
    this.memoryPages = pagesOf(guest);
    this.peakMemoryPages = this.memoryPages;
    this.calls = 0;
    this.checkedOut = false;
  }
}

/** @param {Guest} guest */
const pagesOf = (guest) => guest.memory.buffer.byteLength / PAGE;

/**
 * Whether `error` says the instance trapped: the Guest's `trap`, `host` (a host function failed
 * and the guest call trapped) and `dead` kinds, and a wasm trap out of a raw export call.
 * @param {unknown} error
 */
const isTrap = (error) =>
  error instanceof GuestError ? error.kind === 'trap' || error.kind === 'host' || error.kind === 'dead' : error instanceof WebAssembly.RuntimeError;

/**
 * @param {string} name
 * @param {number | undefined} value
 * @param {number} min
 */
function checkCount(name, value, min) {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new RangeError(`${name} must be an integer of at least ${min}, not ${value}`);
  }
}

/**
 * The pool's side of a lease: what {@link PooledGuest} needs of its {@link Pool}, kept out of the
 * pool's public members.
 * @typedef {{
 *   maxPages: number | undefined,
 *   maxCalls: number | undefined,
 *   counters: { calls: number, traps: number, recycles: Recycles },
 *   giveBack: (slot: Slot | undefined, recycled: boolean) => void,
 *   replace: (old: Slot | undefined) => Promise<Slot>,
 * }} Shared
 */

/** Each pool's {@link Shared}, for its leases. @type {WeakMap<Pool, Shared>} */
const sharedOf = new WeakMap();

/** Keeps the PooledGuest constructor to this module. */
const PROTECT = Symbol('guestmem pool');

const POOL_OPTIONS = Object.freeze(['maxInstances', 'recycleAbovePages', 'recycleAfterCalls', 'instanceOptions']);

/**
 * Up to `maxInstances` instances of one module for any number of async callers:
 * {@link Pool.checkout} hands out an idle instance, makes one while fewer than the maximum are
 * alive, or waits (first come, first served) for one to come back.
 */
export class Pool {
  /** @type {WebAssembly.Module} */
  #module;
  /** @type {InstantiateOptions | (() => InstantiateOptions)} */
  #instanceOptions;
  /** The interface read from the module once, for every instance. @type {import('./interface.mjs').Interface | null} */
  #interface;
  /** @type {number} */
  #maxInstances;
  /** Most recently returned last: it is handed out first. @type {Slot[]} */
  #idle = [];
  /** Idle, checked out, or being made: never more than `maxInstances`. */
  #live = 0;
  /** Every live instance, oldest first. @type {Slot[]} */
  #instances = [];
  /** Checkouts waiting, oldest first. @type {{ grant: (slot: Slot | null) => void }[]} */
  #waiters = [];
  #nextId = 1;
  #counters = {
    created: 0,
    checkouts: 0,
    waits: 0,
    waitTime: 0,
    busy: 0,
    calls: 0,
    traps: 0,
    /** @type {Recycles} */
    recycles: { trap: 0, timeout: 0, memory: 0, calls: 0, demand: 0 },
  };

  /**
   * Compiles `source` (anything `Guest.instantiate` takes) once and makes a pool of its instances,
   * `prewarm` of them made up front.
   * @param {GuestSource | PromiseLike<GuestSource>} source
   * @param {PoolCreateOptions} [options]
   * @returns {Promise<Pool>}
   * @throws {GuestError} `interface` when the module's interface section is malformed; what
   *   `Guest.instantiate` throws for a prewarmed instance
   * @throws {RangeError} for a bad count
   */
  static async create(source, options = {}) {
    const { prewarm = 0, ...rest } = options;
    checkCount('prewarm', prewarm, 0);
    const pool = new Pool(await compile(await source), rest);
    const slots = [];
    for (let made = 0; made < Math.min(prewarm, pool.#maxInstances); made += 1) {
      pool.#live += 1;
      slots.push(await pool.#instantiateReserved());
    }
    pool.#idle.push(...slots);
    return pool;
  }

  /**
   * A pool of `module`'s instances; none is made until a checkout needs one.
   * @param {WebAssembly.Module} module
   * @param {PoolOptions} [options]
   * @throws {GuestError} `interface` when the module's interface section is malformed
   * @throws {TypeError} for a module that is not a `WebAssembly.Module` (`Pool.create` compiles
   *   one), or an option it does not know
   * @throws {RangeError} for a bad count
   */
  constructor(module, options = {}) {
    if (!(module instanceof WebAssembly.Module)) {
      throw new TypeError('new Pool takes a WebAssembly.Module: Pool.create(source) compiles one from bytes, a path or a Response');
    }
    const unknown = Object.keys(options).filter((key) => !POOL_OPTIONS.includes(key));
    if (unknown.length > 0) {
      throw new TypeError(`unknown pool options ${unknown.join(', ')}: what each instance is instantiated with goes in { instanceOptions: { ... } }`);
    }
    const { maxInstances = DEFAULT_MAX_INSTANCES, recycleAbovePages, recycleAfterCalls, instanceOptions = {} } = options;
    checkCount('maxInstances', maxInstances, 1);
    checkCount('recycleAbovePages', recycleAbovePages, 0);
    checkCount('recycleAfterCalls', recycleAfterCalls, 1);
    if (typeof instanceOptions !== 'function' && (typeof instanceOptions !== 'object' || instanceOptions === null)) {
      throw new TypeError('instanceOptions must be the options of Guest.instantiate, or a function that returns them');
    }
    this.#module = module;
    this.#instanceOptions = instanceOptions;
    // Read once: a malformed section is refused here, and no instance reads it again.
    this.#interface = readInterface(module) ?? null;
    this.#maxInstances = maxInstances;
    sharedOf.set(this, {
      maxPages: recycleAbovePages,
      maxCalls: recycleAfterCalls,
      counters: this.#counters,
      giveBack: (slot, recycled) => {
        if (slot === undefined) return this.#lostInstance();
        slot.checkedOut = false;
        if (recycled) {
          this.#forget(slot);
          this.#lostInstance();
        } else {
          this.#idle.push(slot);
          this.#serveWaiters();
        }
      },
      replace: (old) => {
        // The old instance is gone before the new one is made.
        if (old !== undefined) this.#forget(old);
        return this.#instantiate();
      },
    });
  }

  /**
   * An instance for the caller alone until `lease.release()`: an idle one, a new one while fewer
   * than `maxInstances` are alive, or else the first one given back within `timeout`
   * milliseconds (waiting checkouts are served in the order they came).
   * @param {CheckoutOptions} [options]
   * @returns {Promise<PooledGuest>}
   * @throws {GuestError} `busy` when none came back in time; what `Guest.instantiate` throws when
   *   a new instance cannot be made
   */
  async checkout(options = {}) {
    const { timeout = Infinity } = options;
    if (!(typeof timeout === 'number' && timeout >= 0)) throw new RangeError(`timeout must be a number of milliseconds, 0 or more, not ${timeout}`);
    let slot = this.#idle.pop();
    if (slot === undefined && this.#live < this.#maxInstances) {
      this.#live += 1;
      slot = await this.#instantiateReserved();
    }
    if (slot === undefined) {
      slot = await this.#wait(timeout);
    } else {
      this.#counters.checkouts += 1;
    }
    return new PooledGuest(this, slot, PROTECT);
  }

  /**
   * Checks an instance out, runs `fn(lease)`, and releases the lease however `fn` ends.
   * @template T
   * @param {(lease: PooledGuest) => T | PromiseLike<T>} fn
   * @param {CheckoutOptions} [options]
   * @returns {Promise<T>} what `fn` returned
   * @throws {GuestError} as {@link Pool.checkout}; and whatever `fn` throws
   */
  async use(fn, options) {
    const lease = await this.checkout(options);
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  /**
   * The counters so far, and every live instance's: a plain object, a copy.
   * @returns {PoolMetrics}
   */
  metrics() {
    const counters = this.#counters;
    return {
      live: this.#live,
      idle: this.#idle.length,
      maxInstances: this.#maxInstances,
      created: counters.created,
      checkouts: counters.checkouts,
      waits: counters.waits,
      waitTime: counters.waitTime,
      busy: counters.busy,
      calls: counters.calls,
      traps: counters.traps,
      timeouts: 0,
      recycles: { ...counters.recycles },
      instances: this.#instances.map(({ id, memoryPages, peakMemoryPages, calls, checkedOut }) => ({
        id,
        memoryPages,
        peakMemoryPages,
        calls,
        checkedOut,
      })),
    };
  }

  /**
   * Waits for an instance given back (or a place freed) within `timeout` ms.
   * @param {number} timeout
   * @returns {Promise<Slot>}
   */
  async #wait(timeout) {
    const since = performance.now();
    /** @type {Slot | null} */
    let granted;
    try {
      granted = await new Promise((resolve, reject) => {
        /** @type {ReturnType<typeof setTimeout> | undefined} */
        let timer;
        const waiter = {
          /** @param {Slot | null} slot */
          grant: (slot) => {
            clearTimeout(timer);
            resolve(slot);
          },
        };
        const giveUp = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          const waited = performance.now() - since;
          this.#counters.busy += 1;
          reject(new GuestError(`all ${this.#maxInstances} pooled instances stayed busy for ${Math.round(waited)} ms`, { kind: 'busy' }));
        };
        if (timeout === 0) return giveUp();
        this.#waiters.push(waiter);
        if (timeout !== Infinity) timer = setTimeout(giveUp, timeout);
      });
    } finally {
      this.#counters.waits += 1;
      this.#counters.waitTime += performance.now() - since;
    }
    // null: an instance was dropped, and its place in `live` is this checkout's to fill.
    const slot = granted ?? (await this.#instantiateReserved());
    this.#counters.checkouts += 1;
    return slot;
  }

  /** Hands idle instances, then free places, to the waiting checkouts, oldest first. */
  #serveWaiters() {
    while (this.#waiters.length > 0) {
      const slot = this.#idle.pop();
      if (slot === undefined && this.#live >= this.#maxInstances) return;
      if (slot === undefined) this.#live += 1;
      /** @type {{ grant: (slot: Slot | null) => void }} */ (this.#waiters.shift()).grant(slot ?? null);
    }
  }

  /**
   * A fresh instance. The interface read once is given to it unless the instance options name one.
   * @returns {Promise<Slot>}
   */
  async #instantiate() {
    const options = typeof this.#instanceOptions === 'function' ? this.#instanceOptions() : this.#instanceOptions;
    const guest = await Guest.instantiate(this.#module, { interface: this.#interface, ...options });
    const slot = new Slot(guest, this.#nextId);
    this.#nextId += 1;
    this.#instances.push(slot);
    this.#counters.created += 1;
    return slot;
  }

  /**
   * {@link Pool.#instantiate} for a place already counted in `live`, which is given back (to a
   * waiting checkout, if any) when the instance cannot be made.
   * @returns {Promise<Slot>}
   */
  async #instantiateReserved() {
    try {
      return await this.#instantiate();
    } catch (error) {
      this.#lostInstance();
      throw error;
    }
  }

  /** An instance counted in `live` will not come: a waiting checkout may make one. */
  #lostInstance() {
    this.#live -= 1;
    this.#serveWaiters();
  }

  /** @param {Slot} slot */
  #forget(slot) {
    const at = this.#instances.indexOf(slot);
    if (at >= 0) this.#instances.splice(at, 1);
  }
}


/**
 * An instance checked out of a {@link Pool} (a lease), the holder's alone until
 * {@link PooledGuest.release}. Make calls through {@link PooledGuest.call}: each is counted and
 * judged, and the instance recycled when it trapped, grew past the memory mark or served its
 * quota. `guest` is the instance, for what `call` does not cover; the pool does not see calls made
 * on it directly (a trap among them is seen at `release`).
 */
export class PooledGuest {
  /** @type {Shared} */
  #shared;
  /** Undefined only when a recycled instance could not be replaced. @type {Slot | undefined} */
  #slot;
  /** Set when the instance is condemned: the next call gets a fresh one, release drops it. @type {RecycleCause | undefined} */
  #recycle;
  #released = false;
  #running = false;
  #releaseAfterCall = false;

  /**
   * Made by {@link Pool.checkout} only.
   * @param {Pool} pool
   * @param {Slot} slot
   * @param {symbol} token
   */
  constructor(pool, slot, token) {
    if (token !== PROTECT) throw new TypeError('a PooledGuest comes from pool.checkout()');
    this.#shared = /** @type {Shared} */ (sharedOf.get(pool));
    slot.checkedOut = true;
    this.#slot = slot;
  }

  /**
   * Runs `fn(guest)` on the instance (`fn` may be async), counts the call and judges its
   * outcome, as the Rust host's `PooledGuest::call` does: the instance is recycled after a trap
   * (kind `trap`, `host`, `dead`, or `guest.trapped` after the call even if `fn` caught it), when
   * linear memory is above `recycleAbovePages` pages afterwards, or once it served
   * `recycleAfterCalls` calls. The next call on this lease then runs on a fresh instance (and
   * `release` drops the old one). One call at a time per lease.
   * @template T
   * @param {(guest: Guest) => T | PromiseLike<T>} fn
   * @returns {Promise<T>} what `fn` returned
   * @throws what `fn` throws; what `Guest.instantiate` throws when a recycled instance cannot be
   *   replaced (the next call tries again); an Error for a released lease or a call while another
   *   call of this lease runs
   */
  async call(fn) {
    this.#usable('call');
    if (this.#running) throw new Error('a pooled instance runs one call at a time: await the running call first');
    this.#running = true;
    try {
      if (this.#recycle !== undefined || this.#slot === undefined) {
        const old = this.#slot;
        this.#slot = undefined;
        this.#recycle = undefined;
        const fresh = await this.#shared.replace(old);
        fresh.checkedOut = true;
        this.#slot = fresh;
      }
      const slot = this.#slot;
      let trapped = false;
      try {
        return await fn(slot.guest);
      } catch (error) {
        trapped = isTrap(error);
        throw error;
      } finally {
        this.#judge(slot, trapped || slot.guest.trapped);
      }
    } finally {
      this.#running = false;
      if (this.#releaseAfterCall) this.#giveBack();
    }
  }

  /**
   * Counts a call on `slot` and decides whether it condemned the instance.
   * @param {Slot} slot
   * @param {boolean} trapped
   */
  #judge(slot, trapped) {
    const counters = this.#shared.counters;
    const pages = pagesOf(slot.guest);
    slot.memoryPages = pages;
    slot.peakMemoryPages = Math.max(slot.peakMemoryPages, pages);
    slot.calls += 1;
    counters.calls += 1;
    if (trapped) counters.traps += 1;
    const { maxPages, maxCalls } = this.#shared;
    /** @type {RecycleCause | undefined} */
    const cause = trapped
      ? 'trap'
      : maxPages !== undefined && pages > maxPages
        ? 'memory'
        : maxCalls !== undefined && slot.calls >= maxCalls
          ? 'calls'
          : undefined;
    if (cause !== undefined) this.#condemn(cause);
  }

  /** @param {RecycleCause} cause */
  #condemn(cause) {
    this.#recycle = cause;
    this.#shared.counters.recycles[cause] += 1;
  }

  /**
   * The instance: the one the last call ran on (a condemned one until the next `call` replaces
   * it). Calls made on it directly are not counted or judged.
   * @returns {Guest}
   * @throws {Error} after `release`, or when a recycled instance could not be replaced (`call`
   *   tries again)
   */
  get guest() {
    return this.#current('guest').guest;
  }

  /** The instance's number in the pool (1 for the first made); a replacement has a new one. */
  get instanceId() {
    return this.#current('instanceId').id;
  }

  /** Calls the instance has served through `call`, in this lease and earlier ones. */
  get calls() {
    return this.#current('calls').calls;
  }

  /**
   * Why the instance will be dropped at the next call or at `release`, if it will.
   * @returns {RecycleCause | undefined}
   */
  get recycleCause() {
    return this.#recycle;
  }

  /** Whether the lease was released (or recycled): it can no longer be used. */
  get released() {
    return this.#released;
  }

  /**
   * Gives the instance back to the pool, or drops it if it was condemned (or trapped in a call
   * made on `guest` directly). Later calls on the lease throw; a second release does nothing. If
   * a call of this lease is running, the instance goes back when it ends.
   */
  release() {
    if (this.#released) return;
    this.#released = true;
    if (this.#running) {
      this.#releaseAfterCall = true;
      return;
    }
    this.#giveBack();
  }

  /**
   * Drops the instance instead of giving it back, and releases the lease: the pool makes a fresh
   * one in its place when it needs one.
   */
  recycle() {
    if (this.#released) return;
    if (this.#recycle === undefined && this.#slot !== undefined) this.#condemn('demand');
    this.release();
  }

  #giveBack() {
    this.#releaseAfterCall = false;
    const slot = this.#slot;
    // A trap in a call made on `guest` directly, which the pool did not see.
    if (slot !== undefined && this.#recycle === undefined && slot.guest.trapped) this.#condemn('trap');
    this.#slot = undefined;
    this.#shared.giveBack(slot, this.#recycle !== undefined);
  }

  /** @param {string} what */
  #usable(what) {
    if (this.#released) throw new Error(`${what}: the pooled instance was released`);
  }

  /** @param {string} what @returns {Slot} */
  #current(what) {
    this.#usable(what);
    if (this.#slot === undefined) throw new Error(`${what}: a recycled instance could not be replaced: call \`call\` to try again`);
    return this.#slot;
  }
}
