import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startRedisServer } from '@otel-checkout/test-support';
import type { StartedRedisServer } from '@otel-checkout/test-support';
import { payments, RedisFlowStore } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';

const KEYS = { current: { id: 'k1', secret: 'redis-privacy-test-secret-0123456789' } };
const PREFIX = 'privacy:{flows}:';

// The flow store is shared infrastructure (often with other applications, dumps and replicas):
// it keeps what correlation needs (trade number, span context, provider, method, release,
// cohort, times), never the flow token nor its signature.
describe('what the Redis flow store writes (real redis-server)', () => {
  let redis: StartedRedisServer;
  let client: ReturnType<typeof createClient>;
  before(async () => {
    redis = await startRedisServer();
    client = createClient({ url: redis.url });
    await client.connect();
  });
  after(async () => {
    client?.destroy();
    await redis?.stop();
  });

  /** Every key under the prefix and every value in it, as text. */
  async function dump(): Promise<string> {
    const out: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${PREFIX}*` })) {
      for (const key of keys) {
        const type = await client.type(key);
        const value = type === 'hash' ? await client.hGetAll(key) : type === 'zset' ? await client.zRangeWithScores(key, 0, -1) : await client.get(key);
        out.push(`${key} ${JSON.stringify(value)}`);
      }
    }
    return out.join('\n');
  }

  it('holds the trade number and the span context, never the token minted for the flow', async () => {
    const store = new RedisFlowStore({ url: redis.url, keyPrefix: PREFIX });
    await store.ready();
    const session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: KEYS, store, sweeper: false } });
    try {
      const minted = await payments.create({ tradeNo: 'T-REDIS-1', provider: 'acme', method: 'card' }, (flow) => ({
        traceId: flow.traceId,
        returnUrl: flow.returnUrl('https://shop.example/return'),
        notifyUrl: flow.notifyUrl('https://shop.example/notify'),
        passback: flow.passback(),
      }));
      const tokens = [minted.returnUrl, minted.notifyUrl].map((url) => new URL(url).searchParams.get('otc_flow')!).concat(minted.passback);
      for (const token of tokens) assert.ok(token.length > 40, token);
      let stored = '';
      for (let attempt = 0; attempt < 100 && !stored.includes('T-REDIS-1'); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        stored = await dump();
      }
      assert.ok(stored.includes('T-REDIS-1') && stored.includes(minted.traceId), stored);
      // The taken flow's tombstone keeps the record too.
      await store.take('T-REDIS-1');
      stored += `\n${await dump()}`;
      for (const token of tokens) {
        // The whole token, and its signature part alone (the last 22 characters hold the MAC).
        assert.ok(!stored.includes(token) && !stored.includes(token.slice(-22)), `the token is in Redis:\n${stored}`);
      }
      assert.ok(!stored.includes(KEYS.current.secret), stored);
    } finally {
      await session.stop();
    }
  });
});
