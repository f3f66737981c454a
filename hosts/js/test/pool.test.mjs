// node:test checks of the pool (src/pool.mjs): each recycling policy, traps, checkouts that wait
// and time out, many async users on one pool, and memory kept bounded with a leaking guest. The
// guests are upper and misbehave (server/plugins/misbehave: `panic_on` panics on "panic", `leak`
// leaks 1 KiB a call); `cargo run -p harness -- guests` builds both into target/guests:
//   GUESTMEM_GUEST_DIR=target/guests bash .ci/node-test.sh hosts/js/test/pool.test.mjs

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { DEFAULT_MAX_INSTANCES, GuestError, Pool, PooledGuest } from 'guestmem-host';
import { guestPath } from './guests.mjs';

const upper = await WebAssembly.compile(await readFile(guestPath('upper')));
const misbehave = await WebAssembly.compile(await readFile(guestPath('misbehave')));

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {unknown} error @param {import('guestmem-host').GuestErrorKind} kind */
const isKind = (error, kind) => error instanceof GuestError && error.kind === kind;

/** @param {Pool} pool */
const liveIds = (pool) => pool.metrics().instances.map((instance) => instance.id);

test('recycleAfterCalls: the instance serves its quota, then a fresh one takes its place', async () => {
  const pool = new Pool(upper, { maxInstances: 1, recycleAfterCalls: 3 });
  const lease = await pool.checkout();
  for (let call = 1; call <= 3; call += 1) {
    assert.equal(await lease.call((guest) => guest.callString('upper', `call ${call}`)), `CALL ${call}`);
    assert.equal(lease.instanceId, 1, `call ${call} ran on the first instance`);
  }
  assert.equal(lease.recycleCause, 'calls', 'the third call used up the quota');
  assert.equal(await lease.call((guest) => guest.callString('upper', 'fourth')), 'FOURTH');
  assert.equal(lease.instanceId, 2, 'the fourth call ran on a fresh instance');
  assert.equal(lease.calls, 1);
  assert.equal(lease.recycleCause, undefined);
  lease.release();
  const metrics = pool.metrics();
  assert.equal(metrics.created, 2);
  assert.deepEqual(metrics.recycles, { trap: 0, timeout: 0, memory: 0, calls: 1, demand: 0 });
  assert.equal(metrics.calls, 4);
  assert.deepEqual(liveIds(pool), [2], 'the recycled instance is gone from the pool');
  assert.equal(metrics.live, 1);
  assert.equal(metrics.idle, 1);
});

test('recycleAbovePages: an instance grown past the mark is replaced after the call', async () => {
  const probe = await Pool.create(misbehave, { maxInstances: 1, prewarm: 1 });
  const startPages = probe.metrics().instances[0].memoryPages;
  const limit = startPages + 2;
  const pool = new Pool(misbehave, { maxInstances: 1, recycleAbovePages: limit });
  const lease = await pool.checkout();
  let calls = 0;
  while (lease.recycleCause === undefined && calls < 1000) {
    assert.equal(await lease.call((guest) => guest.callString('leak', 'drip')), 'drip');
    calls += 1;
  }
  assert.equal(lease.recycleCause, 'memory', `after ${calls} leaking calls`);
  assert.ok(lease.guest.memory.buffer.byteLength / 65536 > limit, 'the condemned instance is above the mark');
  assert.equal(lease.instanceId, 1);
  await lease.call((guest) => guest.callString('leak', 'drip'));
  assert.equal(lease.instanceId, 2, 'the next call ran on a fresh instance');
  assert.ok(lease.guest.memory.buffer.byteLength / 65536 <= limit, 'the fresh instance is below the mark');
  lease.release();
  const metrics = pool.metrics();
  assert.equal(metrics.created, 2);
  assert.equal(metrics.recycles.memory, 1);
  assert.deepEqual(liveIds(pool), [2]);
});

test('the memory high-water mark keeps a leaking guest bounded', async () => {
  const startPages = (await Pool.create(misbehave, { prewarm: 1 })).metrics().instances[0].memoryPages;
  const limit = startPages + 4;
  const leaks = 3000; // 3 MiB of leaks: about 47 pages on one instance
  /** @param {Pool} pool */
  const run = async (pool) => {
    const users = Array.from({ length: 6 }, (_, user) =>
      (async () => {
        for (let call = user; call < leaks; call += 6) {
          const text = `leak ${call}`;
          assert.equal(await pool.use((lease) => lease.call((guest) => guest.callString('leak', text))), text);
        }
      })(),
    );
    await Promise.all(users);
    return pool.metrics();
  };
  const bounded = await run(new Pool(misbehave, { maxInstances: 2, recycleAbovePages: limit }));
  assert.equal(bounded.calls, leaks);
  assert.ok(bounded.recycles.memory >= 2, `recycled ${bounded.recycles.memory} times for memory`);
  assert.equal(bounded.created, bounded.live + bounded.recycles.memory);
  for (const instance of bounded.instances) {
    // The mark is checked after each call; a call grows memory by a page or so at most.
    assert.ok(instance.memoryPages <= limit && instance.peakMemoryPages <= limit, `instance ${instance.id}: ${instance.memoryPages} pages, peak ${instance.peakMemoryPages}, mark ${limit}`);
  }
  // The same load without the mark: memory only grows.
  const unbounded = await run(new Pool(misbehave, { maxInstances: 2 }));
  const peak = Math.max(...unbounded.instances.map((instance) => instance.peakMemoryPages));
  assert.ok(peak > limit + 8, `without the mark an instance reaches ${peak} pages`);
  assert.equal(unbounded.recycles.memory, 0);
});

test('a trap recycles the instance, and the pool serves the next call', async () => {
  const pool = new Pool(misbehave, { maxInstances: 1 });
  const lease = await pool.checkout();
  assert.equal(await lease.call((guest) => guest.callString('panic_on', 'calm')), 'CALM');
  await assert.rejects(
    lease.call((guest) => guest.callString('panic_on', 'panic please')),
    (error) => isKind(error, 'trap'),
  );
  assert.equal(lease.recycleCause, 'trap');
  assert.equal(lease.guest.trapped, true, 'until the next call, `guest` is the dead instance');
  assert.equal(await lease.call((guest) => guest.callString('panic_on', 'after')), 'AFTER', 'the next call on the lease works');
  assert.equal(lease.instanceId, 2);
  // A trap the caller catches inside `fn` is still a trap: the Guest is left `trapped`.
  const swallowed = await lease.call((guest) => {
    try {
      return guest.callString('panic_on', 'panic quietly');
    } catch {
      return 'caught';
    }
  });
  assert.equal(swallowed, 'caught');
  assert.equal(lease.recycleCause, 'trap');
  lease.release();
  // Across checkouts: the dead instance is not handed out again.
  assert.equal(await pool.use((next) => next.call((guest) => guest.callString('panic_on', 'next'))), 'NEXT');
  // A trap in a call made on lease.guest directly, which the pool cannot judge, is seen at release.
  const direct = await pool.checkout();
  const directId = direct.instanceId;
  assert.throws(() => direct.guest.callString('panic_on', 'panic direct'), (error) => isKind(error, 'trap'));
  direct.release();
  assert.ok(!liveIds(pool).includes(directId), 'released after a direct trap, the instance was dropped');
  assert.equal(await pool.use((next) => next.call((guest) => guest.callString('panic_on', 'fine'))), 'FINE');
  const metrics = pool.metrics();
  assert.equal(metrics.traps, 2, 'calls through lease.call that trapped');
  assert.equal(metrics.recycles.trap, 3);
  assert.equal(metrics.created, 4);
  assert.equal(metrics.live, 1);
  assert.equal(metrics.timeouts, 0);
});

test('lease.recycle() drops the instance on demand', async () => {
  const pool = new Pool(upper, { maxInstances: 2 });
  const lease = await pool.checkout();
  await lease.call((guest) => guest.callString('upper', 'a'));
  const id = lease.instanceId;
  lease.recycle();
  assert.equal(lease.released, true);
  assert.throws(() => lease.guest, /released/);
  await assert.rejects(lease.call((guest) => guest.callString('upper', 'b')), /released/);
  lease.release(); // a second release does nothing
  const metrics = pool.metrics();
  assert.equal(metrics.recycles.demand, 1);
  assert.equal(metrics.live, 0);
  assert.ok(!liveIds(pool).includes(id));
  assert.notEqual(await pool.use((next) => next.instanceId), id);
});

test('a checkout waits while every instance is out, then fails as busy after its timeout', async () => {
  const pool = new Pool(upper, { maxInstances: 1 });
  const held = await pool.checkout();
  const started = performance.now();
  await assert.rejects(pool.checkout({ timeout: 60 }), (error) => isKind(error, 'busy') && /stayed busy/.test(/** @type {Error} */ (error).message));
  const waited = performance.now() - started;
  assert.ok(waited >= 55, `rejected after ${waited} ms, not before the timeout`);
  await assert.rejects(pool.checkout({ timeout: 0 }), (error) => isKind(error, 'busy'), 'timeout 0 does not wait');
  let metrics = pool.metrics();
  assert.equal(metrics.busy, 2);
  assert.equal(metrics.waits, 2);
  assert.ok(metrics.waitTime >= 55);
  assert.equal(metrics.checkouts, 1);
  assert.equal(metrics.live, 1, 'a busy checkout makes no instance');
  held.release();
  // Once it is back, a checkout gets it at once.
  assert.equal(await pool.use((lease) => lease.instanceId, { timeout: 0 }), 1);
  metrics = pool.metrics();
  assert.equal(metrics.checkouts, 2);
  assert.equal(metrics.created, 1);
});

test('a waiting checkout gets the instance another releases, first come first served', async () => {
  const pool = new Pool(upper, { maxInstances: 1 });
  const held = await pool.checkout();
  /** @type {string[]} */
  const order = [];
  const first = pool.checkout({ timeout: 5000 }).then((lease) => (order.push('first'), lease));
  const second = pool.checkout({ timeout: 5000 }).then((lease) => (order.push('second'), lease));
  await sleep(20);
  assert.deepEqual(order, [], 'both wait while the instance is out');
  held.release();
  const got = await first;
  assert.equal(got.instanceId, 1, 'the released instance, not a new one');
  assert.deepEqual(order, ['first']);
  // The holder's instance was recycled: the waiter gets a fresh one in its place.
  await got.call((guest) => guest.callString('upper', 'x'));
  got.recycle();
  const next = await second;
  assert.equal(next.instanceId, 2);
  assert.equal(await next.call((guest) => guest.callString('upper', 'y')), 'Y');
  next.release();
  const metrics = pool.metrics();
  assert.equal(metrics.waits, 2);
  assert.equal(metrics.busy, 0);
  assert.equal(metrics.checkouts, 3);
  assert.equal(metrics.created, 2);
});

test('many concurrent async users share one pool', async () => {
  const maxInstances = 4;
  const pool = new Pool(upper, { maxInstances, recycleAfterCalls: 25 });
  const users = 64;
  const callsEach = 3;
  let out = 0;
  let mostOut = 0;
  const answers = await Promise.all(
    Array.from({ length: users }, (_, user) =>
      pool.use(async (lease) => {
        out += 1;
        mostOut = Math.max(mostOut, out);
        const results = [];
        for (let call = 0; call < callsEach; call += 1) {
          results.push(
            await lease.call(async (guest) => {
              await sleep(1); // other users run meanwhile
              return guest.callString('upper', `user ${user} call ${call}`);
            }),
          );
        }
        out -= 1;
        return results;
      }, { timeout: 10_000 }),
    ),
  );
  answers.forEach((results, user) =>
    assert.deepEqual(results, Array.from({ length: callsEach }, (_, call) => `USER ${user} CALL ${call}`)),
  );
  assert.equal(mostOut, maxInstances, 'as many users at once as instances, no more');
  const metrics = pool.metrics();
  assert.equal(metrics.checkouts, users);
  assert.equal(metrics.calls, users * callsEach);
  assert.ok(metrics.waits >= users - maxInstances, `${metrics.waits} checkouts waited`);
  assert.equal(metrics.busy, 0);
  // 192 calls, a quota of 25, 4 instances holding fewer than 25 each: at least 4 recycled.
  assert.ok(metrics.recycles.calls >= 4, `${metrics.recycles.calls} recycled for their quota`);
  assert.equal(metrics.created, metrics.live + metrics.recycles.calls);
  assert.equal(metrics.live, maxInstances);
  assert.equal(metrics.idle, maxInstances);
  assert.equal(
    metrics.instances.reduce((sum, instance) => sum + instance.calls, 0),
    users * callsEach - 25 * metrics.recycles.calls,
    "the live instances' calls and the recycled ones' quotas add up to every call",
  );
  assert.ok(metrics.instances.every((instance) => !instance.checkedOut));
});

test('metrics have the Rust PoolMetrics fields, in camelCase', async () => {
  const pool = await Pool.create(guestPath('upper'), { prewarm: 2, maxInstances: 3 });
  const lease = await pool.checkout();
  const metrics = pool.metrics();
  assert.deepEqual(Object.keys(metrics).sort(), [
    'busy', 'calls', 'checkouts', 'created', 'idle', 'instances', 'live', 'maxInstances', 'recycles', 'timeouts', 'traps', 'waitTime', 'waits',
  ]);
  assert.deepEqual(Object.keys(metrics.recycles).sort(), ['calls', 'demand', 'memory', 'timeout', 'trap']);
  assert.deepEqual(metrics.instances.map((instance) => Object.keys(instance).sort()), [
    ['calls', 'checkedOut', 'id', 'memoryPages', 'peakMemoryPages'],
    ['calls', 'checkedOut', 'id', 'memoryPages', 'peakMemoryPages'],
  ]);
  assert.equal(metrics.live, 2);
  assert.equal(metrics.idle, 1);
  assert.equal(metrics.maxInstances, 3);
  assert.deepEqual(metrics.instances.map((instance) => instance.checkedOut), [false, true], 'the last made is handed out first');
  assert.equal(DEFAULT_MAX_INSTANCES, 16);
  assert.equal(new Pool(upper).metrics().maxInstances, 16);
  lease.release();
});

test('pool options are checked', async () => {
  assert.throws(() => new Pool(upper, { maxInstances: 0 }), RangeError);
  assert.throws(() => new Pool(upper, { recycleAfterCalls: 0 }), RangeError);
  assert.throws(() => new Pool(upper, { recycleAbovePages: -1 }), RangeError);
  // @ts-expect-error: imports go in instanceOptions
  assert.throws(() => new Pool(upper, { imports: {} }), /instanceOptions/);
  const bytes = await readFile(guestPath('upper'));
  // (WebAssembly.Module has no members in TypeScript's lib, so only the run refuses bytes.)
  assert.throws(() => new Pool(bytes), /WebAssembly.Module/);
  // @ts-expect-error: a lease comes from checkout
  assert.throws(() => new PooledGuest(new Pool(upper), {}, Symbol('guestmem pool')), TypeError);
  await assert.rejects(new Pool(upper).checkout({ timeout: -1 }), RangeError);
});

test('instanceOptions as a function: called for every new instance', async () => {
  let made = 0;
  const pool = new Pool(upper, {
    maxInstances: 2,
    instanceOptions: () => {
      made += 1;
      return { reuseInputBytes: 0 };
    },
  });
  const [a, b] = await Promise.all([pool.checkout(), pool.checkout()]);
  assert.equal(made, 2);
  assert.deepEqual([a.instanceId, b.instanceId].sort(), [1, 2]);
  a.release();
  b.release();
});

// example-pool.mjs is the snippet under "Pools" in hosts/js/README.md: the same code, and it runs.
test('the hosts/js README pool example is example-pool.mjs, and it runs', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('\n## Pools\n');
  assert.ok(from >= 0, 'the README has no ## Pools');
  const snippet = /```js\n([^]*?)```/.exec(readme.slice(from))?.[1];
  const lines = (await readFile(new URL('example-pool.mjs', import.meta.url), 'utf8')).split('\n');
  assert.equal(lines.slice(lines.findIndex((line) => !line.startsWith('// '))).join('\n'), snippet);
  const { stdout } = await promisify(execFile)(process.execPath, ['hosts/js/test/example-pool.mjs'], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
  });
  assert.deepEqual(stdout.trimEnd().split('\n'), ['ABC', 'busy', 'trap', 'FINE', 'calls 3 traps 1 recycles by trap 1 created 2']);
});
