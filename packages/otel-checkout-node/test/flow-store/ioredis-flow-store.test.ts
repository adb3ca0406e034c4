import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { FlowStoreError, FlowStoreTimeoutError, RedisFlowStore } from '../../src/index.js';
import type { FlowRecord, FlowStore } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { redisServerForSuite } from '../support/redis-for-suite.js';
import { flowStoreContract } from './flow-store-contract.js';
import { startRestartableRedis, untilResolved } from './restartable-redis.js';
import type { RestartableRedis } from './restartable-redis.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const POLICY_WARNING = /Redis flow store: Redis runs with maxmemory-policy (\S+),/;
const RESET_AFTER_RECONNECT = /Redis flow store: Redis came back from a reconnect without the flows it held/;

const record = (tradeNo: string, spanId: string, issuedAt = Date.now()): FlowRecord => ({ traceId: TRACE_ID, spanId, traceFlags: 1, tradeNo, provider: 'acme', issuedAt });

/** A connected ioredis client that lives through its server's restarts (its errors then are expected). */
async function ioredisClient(url: string, options: { keyPrefix?: string } = {}): Promise<Redis> {
  const client = new Redis(url, { ...options, lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('RedisFlowStore with an ioredis client (real redis-server)', function () {
  this.timeout(30_000);
  const redis = redisServerForSuite();
  let client: Redis;
  before(async () => {
    client = await ioredisClient(redis.url);
  });
  after(() => client.disconnect());

  flowStoreContract(
    'RedisFlowStore (ioredis client)',
    () => Promise.resolve(new RedisFlowStore({ client, keyPrefix: redis.keyPrefix('io') })),
    (store: FlowStore) => store.close(),
  );

  it("keeps the client's own keyPrefix before its own, in the keys its scripts build from others too (span index, claims)", async () => {
    const prefixed = await ioredisClient(redis.url, { keyPrefix: 'app:' });
    const prefix = redis.keyPrefix('iop');
    const store = new RedisFlowStore({ client: prefixed, keyPrefix: prefix, retentionMs: 60_000 });
    try {
      const now = Date.now();
      await store.put(record('P1', '00000000000000a1', now), now + 60_000);
      await store.put(record('P2', '00000000000000a2', now), now - 1);
      await store.put(record('P3', '00000000000000a3', now), now + 60_000);
      assert.equal((await store.keepWaitingBySpan(TRACE_ID, '00000000000000a3', now, 'WAIT_BUYER_PAY')).waiting, true);
      assert.equal((await store.peekBySpan(TRACE_ID, '00000000000000a3'))?.lastStatus, 'WAIT_BUYER_PAY');
      assert.equal((await store.takeBySpan(TRACE_ID, '00000000000000a1')).record?.tradeNo, 'P1');
      const claimed = await store.claimExpired(now, 10, 60_000);
      assert.deepEqual(claimed.map((c) => c.record.tradeNo), ['P2'], 'the claim finds the flow it names');
      await store.markEmitted(['P2']);
      await store.ack(['P2']);
      assert.equal((await store.take('P2')).late, true);
      assert.equal(await store.size(), 1);

      const all = (await client.keys('*')).filter((key) => key.includes(prefix)).sort();
      assert.deepEqual(
        all,
        ['due', 'f:P3', 'marker', 's:00000000000000a1', 's:00000000000000a2', 's:00000000000000a3', 't:P1', 't:P2'].map((key) => `app:${prefix}${key}`),
      );
      assert.equal(store.health().failures, 0);
    } finally {
      await store.close();
      prefixed.disconnect();
    }
  });

  it('takes any key prefix with a client that is not a cluster client, as before', async () => {
    const nodeRedis = createClient({ url: redis.url });
    await nodeRedis.connect();
    try {
      for (const given of [client, nodeRedis]) {
        const store = new RedisFlowStore({ client: given, keyPrefix: `notag${Math.random()}:` });
        await store.put(record('N1', '00000000000000b1'), Date.now() + 60_000);
        assert.equal((await store.take('N1')).record?.tradeNo, 'N1');
        await store.close();
      }
    } finally {
      nodeRedis.destroy();
    }
  });

  it('refuses, at once, a client it cannot send commands through', () => {
    for (const notAClient of [{}, { call: () => Promise.resolve() }, { send: () => Promise.resolve() }]) {
      assert.throws(
        () => new RedisFlowStore({ client: notAClient as never }),
        (error: unknown) => error instanceof FlowStoreError && /`client` is not a Redis client/.test(error.message),
      );
    }
  });

  describe('its checks of Redis, and its health', () => {
    let server: RestartableRedis | undefined;
    let logs: ReturnType<typeof captureWarnings>;
    beforeEach(() => {
      logs = captureWarnings();
    });
    afterEach(async () => {
      logs.restore();
      await server?.close();
      server = undefined;
    });

    it('says an eviction policy other than noeviction once per store, and checks again after each reconnect', async () => {
      server = await startRestartableRedis({ persistence: false, args: ['--maxmemory-policy', 'allkeys-lru'] });
      const given = await ioredisClient(server.url);
      const admin = await ioredisClient(server.url);
      const listening = given.listenerCount('ready');
      const store = new RedisFlowStore({ client: given, keyPrefix: 'policy:{flows}:' });
      try {
        await store.ready();
        assert.deepEqual(logs.warnings.map((w) => POLICY_WARNING.exec(w)?.[1]), ['allkeys-lru'], logs.warnings.join('\n'));
        assert.equal(given.listenerCount('ready'), listening + 1);
        // Dropped by the server: ioredis reconnects and says 'ready'; the store reads the policy again, and says nothing new.
        const policyReads = async (): Promise<number> => Number(/cmdstat_config\|get:calls=(\d+)/.exec(String(await admin.call('INFO', ['commandstats'])))?.[1] ?? 0);
        const before = await policyReads();
        assert.ok(before >= 1, 'read once already');
        await admin.call('CLIENT', ['KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
        await untilResolved(async () => assert.equal(await policyReads(), before + 1));
        await store.ready();
        assert.equal(logs.warnings.length, 1, 'once per store');
        await store.close();
        assert.equal(given.listenerCount('ready'), listening, 'no longer listening once closed');
      } finally {
        await store.close();
        given.disconnect();
        admin.disconnect();
      }
    });

    it('Redis away: operations fail within their bound, counted, ready() rejects; back without its data: the loss is noticed once and the store goes on', async () => {
      server = await startRestartableRedis({ persistence: false });
      const given = await ioredisClient(server.url);
      const store = new RedisFlowStore({ client: given, keyPrefix: 'away:{flows}:', commandTimeoutMs: 200, connectTimeoutMs: 300 });
      let resets = 0;
      store.addResetListener(() => resets++);
      try {
        await store.ready();
        await store.put(record('A1', '00000000000000c1'), Date.now() + 60_000);
        await server.stop();

        const started = Date.now();
        await assert.rejects(store.take('A1'), FlowStoreTimeoutError);
        assert.ok(Date.now() - started < 1000, `bounded (${Date.now() - started} ms)`);
        assert.deepEqual(store.health(), { evicted: 0, failures: 1, available: false });
        await assert.rejects(store.ready(), FlowStoreError);

        await server.start();
        await untilResolved(() => store.size());
        await store.ready();
        assert.equal(store.health().available, true);
        assert.equal(resets, 1);
        assert.equal(logs.warnings.filter((w) => RESET_AFTER_RECONNECT.test(w)).length, 1, logs.warnings.join('\n'));
        // (ioredis queued the take that timed out, and sent it once connected again: this one is its duplicate.)
        assert.equal((await store.take('A1')).record, undefined, 'the flow is gone');
        await store.put(record('A2', '00000000000000c2'), Date.now() + 60_000);
        assert.equal((await store.take('A2')).record?.tradeNo, 'A2');
      } finally {
        await store.close();
        given.disconnect();
      }
    });
  });
});
