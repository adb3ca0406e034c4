import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startRedisServer } from '@otel-checkout/test-support';
import { FlowStoreError, FlowStoreTimeoutError, RedisFlowStore } from '../../src/index.js';
import type { FlowStore } from '../../src/index.js';
import { flowStoreContract } from './flow-store-contract.js';
import { redisServerForSuite } from '../support/redis-for-suite.js';

const CLOSE_WHILE_CONNECTING = join(import.meta.dirname, 'fixtures', 'close-while-connecting.ts');

describe('RedisFlowStore (real redis-server)', function () {
  const redis = redisServerForSuite();

  flowStoreContract(
    'RedisFlowStore (own client from url)',
    () => Promise.resolve(new RedisFlowStore({ url: redis.url, keyPrefix: redis.keyPrefix('t') })),
    (store) => store.close(),
  );

  describe('with a client the application manages', () => {
    let client: ReturnType<typeof createClient>;
    before(async () => {
      client = createClient({ url: redis.url });
      await client.connect();
    });
    after(() => client.destroy());

    flowStoreContract(
      'RedisFlowStore (given client)',
      () => Promise.resolve(new RedisFlowStore({ client, keyPrefix: redis.keyPrefix('c') })),
      (store: FlowStore) => store.close(),
    );

    it('keys live under the prefix with a TTL (nothing stays forever)', async () => {
      const store = new RedisFlowStore({ client, keyPrefix: 'ttl:{flows}:', retentionMs: 60_000 });
      await store.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'X', issuedAt: 1 }, Date.now() + 1000);
      const ttl = await client.pTTL('ttl:{flows}:f:X');
      assert.ok(ttl > 50_000 && ttl <= 61_000, `ttl ${ttl}`);
      await store.take('X');
      const tombTtl = await client.pTTL('ttl:{flows}:t:X');
      assert.ok(tombTtl > 50_000 && tombTtl <= 60_000, `tombstone ttl ${tombTtl}`);
      // A take of an unknown trade number is remembered for 10 minutes, no longer.
      await store.take('Y');
      const orphanTtl = await client.pTTL('ttl:{flows}:t:Y');
      assert.ok(orphanTtl > 590_000 && orphanTtl <= 600_000, `orphan take ttl ${orphanTtl}`);
      // A pending callback restarts the flow's wait (here 10 minutes), and its key's TTL with it.
      const now = Date.now();
      await store.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'Z', issuedAt: now - 599_000 }, now + 1000);
      assert.ok((await client.pTTL('ttl:{flows}:f:Z')) <= 61_000);
      await store.keepWaiting('Z', now);
      const waitingTtl = await client.pTTL('ttl:{flows}:f:Z');
      assert.ok(waitingTtl > 650_000 && waitingTtl <= 660_000, `waiting ttl ${waitingTtl}`);
      // A flow an older version wrote, without its wait: keepWaiting keeps its deadline rather than making it due now.
      await client.hDel('ttl:{flows}:f:Z', 'w');
      const dueBefore = await client.zScore('ttl:{flows}:due', 'Z');
      assert.equal((await store.keepWaiting('Z', now + 5000)).waiting, true);
      assert.equal(await client.zScore('ttl:{flows}:due', 'Z'), dueBefore);
      // A deadline beyond what Redis's TTLs can hold still gives the flow a TTL.
      await store.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'H', issuedAt: now }, now + 1e19);
      assert.ok((await client.pTTL('ttl:{flows}:f:H')) > 0, 'the flow expires');
      assert.equal((await store.keepWaiting('H', now)).waiting, true);
      assert.ok((await client.pTTL('ttl:{flows}:f:H')) > 0, 'and still does after keepWaiting');
      // A fractional retention is rounded up to whole milliseconds, which Redis's TTLs need.
      const fractional = new RedisFlowStore({ client, keyPrefix: 'frac:{flows}:', retentionMs: 1000.5 });
      await fractional.take('F');
      await fractional.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'F', issuedAt: 1 }, Date.now() + 1000);
      assert.ok((await client.pTTL('frac:{flows}:t:F')) > 0, 'the tombstone expires');
    });
  });

  describe('the span index (takeBySpan)', () => {
    let client: ReturnType<typeof createClient>;
    before(async () => {
      client = createClient({ url: redis.url });
      await client.connect();
    });
    after(() => client.destroy());

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const rec = (tradeNo: string, spanId: string, issuedAt = Date.now()) => ({ traceId, spanId, traceFlags: 1, tradeNo, issuedAt });
    const within = (ttl: number, expected: number, label: string) => assert.ok(ttl > expected - 10_000 && ttl <= expected, `${label}: ttl ${ttl}, expected about ${expected}`);

    it('lives as long as the flow, then as its tombstone, and goes with a flow another one replaces', async () => {
      const p = 'span:{flows}:';
      const store = new RedisFlowStore({ client, keyPrefix: p, retentionMs: 60_000 });
      const now = Date.now();
      // Live: the flow's expiry (its deadline plus the retention), kept in step by a pending notification.
      await store.put(rec('A', '00000000000000a1', now - 500_000), now + 100_000);
      assert.equal(await client.hGet(`${p}s:00000000000000a1`, 'n'), 'A');
      within(await client.pTTL(`${p}s:00000000000000a1`), 160_000, 'live');
      within(await client.pTTL(`${p}f:A`), 160_000, 'live flow');
      // Its wait (600 s) from now.
      await store.keepWaitingBySpan(traceId, '00000000000000a1', now);
      within(await client.pTTL(`${p}s:00000000000000a1`), 660_000, 'waiting again');
      within(await client.pTTL(`${p}f:A`), 660_000, 'waiting flow');
      // Taken: the tombstone's retention.
      assert.equal((await store.takeBySpan(traceId, '00000000000000a1')).record?.tradeNo, 'A');
      within(await client.pTTL(`${p}s:00000000000000a1`), 60_000, 'tombstone');
      within(await client.pTTL(`${p}t:A`), 60_000, 'tombstone itself');
      // Declared stalled: the tombstone's retention too.
      await store.put(rec('B', '00000000000000b1', now), now - 1);
      await store.claimExpired(now, 10, 60_000);
      await store.ack(['B']);
      within(await client.pTTL(`${p}s:00000000000000b1`), 60_000, 'stalled tombstone');
      assert.equal((await store.takeBySpan(traceId, '00000000000000b1')).late, true);
      // A flow put under the trade number of a live one replaces it, and its index.
      await store.put(rec('C', '00000000000000c1', now), now + 600_000);
      await store.put(rec('C', '00000000000000c2', now), now + 600_000);
      assert.equal(await client.exists(`${p}s:00000000000000c1`), 0);
      assert.equal(await client.hGet(`${p}s:00000000000000c2`, 'n'), 'C');
      // A take by span of a flow not written yet: remembered for 10 minutes, then the put's index.
      assert.equal((await store.takeBySpan(traceId, '00000000000000d1')).record, undefined);
      within(await client.pTTL(`${p}s:00000000000000d1`), 600_000, 'take before the write');
      await store.put(rec('D', '00000000000000d1', now), now + 600_000);
      assert.deepEqual({ ...(await client.hGetAll(`${p}s:00000000000000d1`)) }, { n: 'D' });
      within(await client.pTTL(`${p}s:00000000000000d1`), 60_000, 'taken at its put');
      assert.equal(await store.size(), 1, 'only C waits');
      // Nothing without an expiry.
      for (const key of await client.keys(`${p}s:*`)) assert.ok((await client.pTTL(key)) > 0, key);
    });
  });

  describe('closing while the first command connects', () => {
    // The store connects to its own database, so its connections are told apart from this one.
    const STORE_DB = 7;
    const record = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'C', issuedAt: 1 };
    let checker: ReturnType<typeof createClient>;
    before(async () => {
      checker = createClient({ url: redis.url });
      await checker.connect();
    });
    after(() => checker.destroy());

    const storeConnections = async (): Promise<number> => (await checker.clientList()).filter((c) => c.db === STORE_DB).length;

    it('a connection that completes after close is closed, not kept', async () => {
      const store = new RedisFlowStore({ url: `${redis.url}/${STORE_DB}`, keyPrefix: redis.keyPrefix('close') });
      const put = store.put(record, Date.now() + 60_000);
      // The store began loading the client module first, so once this import resolves its client
      // has begun opening its socket (no I/O has been processed in between): close lands mid-connect.
      await import('redis');
      await store.close();
      const refusal = await put.then(
        () => undefined,
        (error: unknown) => error,
      );
      // Each check is a round trip; the server drops a closed connection within the first few.
      let open = await storeConnections();
      for (let check = 0; open > 0 && check < 20; check++) open = await storeConnections();
      assert.equal(open, 0, 'no connection of the closed store stays open on the server');
      assert.ok(refusal instanceof FlowStoreError);
      assert.equal(refusal.message, 'flow store is closed', 'the command is refused, not sent on a connection of a closed store');
      await assert.rejects(store.take('C'), { name: 'FlowStoreError', message: 'flow store is closed' });
    });

    it('a script that closes its store mid-connect exits by itself', async () => {
      const child = spawn(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', CLOSE_WHILE_CONNECTING, `${redis.url}/${STORE_DB}`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      // Far longer than the script needs; only reached when something holds it open.
      const bound = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      clearTimeout(bound);
      assert.equal(signal, null, 'the script was still running at the bound: something held it open');
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(output), { put: 'flow store is closed' });
    });
  });

  it('fails fast and bounded when Redis is unreachable, counting failures', async () => {
    const dead = new RedisFlowStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200, connectTimeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(dead.take('T'), { name: /FlowStore(Timeout)?Error/ });
    await assert.rejects(dead.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo: 'T', issuedAt: 1 }, Date.now()));
    assert.ok(Date.now() - started < 1000, 'each call is bounded by the command timeout');
    const known = Date.now();
    await assert.rejects(dead.take('T'), { name: 'FlowStoreError' });
    assert.ok(Date.now() - known < 50, 'once the outage is known, calls fail at once');
    assert.equal(dead.health().available, false);
    assert.ok(dead.health().failures >= 2);
    await dead.close();
  });

  it('ready() settles within connectTimeoutMs with a FlowStoreError: Redis unreachable, or a malformed url', async () => {
    const unreachable = new RedisFlowStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(unreachable.ready(), FlowStoreTimeoutError);
    assert.ok(Date.now() - started < 1000, `settled after ${Date.now() - started} ms`);
    await unreachable.close();
    const malformed = new RedisFlowStore({ url: 'not a url', connectTimeoutMs: 200 });
    await assert.rejects(malformed.ready(), (error: unknown) => error instanceof FlowStoreError && /redis:\/\/ URL/.test(error.message));
    await malformed.close();
  });

  it('a full Redis (maxmemory, noeviction) refuses new flows, counted, and still ends the flows it holds', async () => {
    // Its own server: the limit must not reach the other tests.
    const full = await startRedisServer();
    const admin = createClient({ url: full.url });
    await admin.connect();
    const store = new RedisFlowStore({ client: admin, keyPrefix: 'oom:{flows}:' });
    try {
      const record = (tradeNo: string, issuedAt = Date.now()) => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo, issuedAt });
      await store.put(record('HELD'), Date.now() + 60_000);
      // A take that comes before its flow's write (see the orphan take), taken while there is room.
      await store.take('EARLY');
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      await admin.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: String(used - 64 * 1024) });
      const failuresBefore = store.health().failures;

      await assert.rejects(store.put(record('NEW'), Date.now() + 60_000), (error: unknown) => error instanceof FlowStoreError && /OOM/.test(String((error.cause as Error)?.message)));
      await assert.rejects(store.put(record('EARLY', Date.now() - 1000), Date.now() + 60_000), FlowStoreError);
      assert.equal(store.health().failures, failuresBefore + 2, 'each refused write is counted');
      assert.equal(await admin.exists(['oom:{flows}:f:NEW']), 0, 'nothing of a refused flow is written');
      assert.equal(await admin.zScore('oom:{flows}:due', 'NEW'), null);
      assert.equal(await admin.hGet('oom:{flows}:t:EARLY', 'r'), null, 'the early take is left as it was');

      // A callback still ends a flow the full Redis holds, once, and its copy is a duplicate.
      const taken = await store.take('HELD');
      assert.equal(taken.record?.tradeNo, 'HELD');
      assert.equal(taken.duplicate, false);
      assert.equal((await store.take('HELD')).duplicate, true);

      // With room again, new flows are taken as before.
      await admin.configSet({ maxmemory: '0' });
      await store.put(record('NEW'), Date.now() + 60_000);
      assert.equal((await store.take('NEW')).record?.tradeNo, 'NEW');
    } finally {
      await store.close();
      await admin.quit();
      await full.stop();
    }
  });

  it('a command waiting for Redis does not keep the process alive with its timeout', async () => {
    const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const silent = { sendCommand: () => new Promise<never>(() => undefined) };
    const store = new RedisFlowStore({ client: silent, commandTimeoutMs: 50 });
    const before = refTimers();
    const take = store.take('T');
    assert.equal(refTimers(), before, 'the timeout of a pending command is unref\'d');
    await assert.rejects(take, { name: 'FlowStoreTimeoutError' });
    await store.close();
  });
});
