import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startRedisServer } from '@otel-checkout/test-support';
import type { StartedRedisServer } from '@otel-checkout/test-support';
import { RedisFlowStore } from '../../src/index.js';
import type { FlowStore } from '../../src/index.js';
import { flowStoreContract } from './flow-store-contract.js';

describe('RedisFlowStore (real redis-server)', function () {
  let redis: StartedRedisServer;
  let prefixSeq = 0;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });

  flowStoreContract(
    'RedisFlowStore (own client from url)',
    () => Promise.resolve(new RedisFlowStore({ url: redis.url, keyPrefix: `t${prefixSeq++}:{flows}:` })),
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
      () => Promise.resolve(new RedisFlowStore({ client, keyPrefix: `c${prefixSeq++}:{flows}:` })),
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
