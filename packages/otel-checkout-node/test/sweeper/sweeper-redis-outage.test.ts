import assert from 'node:assert/strict';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { HealthCounters } from '../../src/health.js';
import { RedisFlowStore, StalledSweeper } from '../../src/index.js';
import type { StalledSweeperDependencies } from '../../src/index.js';
import { startRestartableRedis } from '../flow-store/restartable-redis.js';
import type { RestartableRedis } from '../flow-store/restartable-redis.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const LEASE_MS = 60_000;

/** Retries `attempt` until it resolves: the store's client reconnects on its own, with no event a test can await. */
async function untilResolved<T>(attempt: () => Promise<T>, bound = 200): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= bound) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe('stalled sweepers when Redis goes away mid-batch (real redis-server, restarted with its data)', function () {
  this.timeout(30_000);
  let redis: RestartableRedis;
  let prefixSeq = 0;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const stores: RedisFlowStore[] = [];

  before(async () => {
    redis = await startRestartableRedis();
  });
  afterEach(async () => {
    exporter.reset();
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  after(async () => {
    await redis?.close();
    await provider.shutdown();
  });

  const replica = (prefix: string): RedisFlowStore => {
    const store = new RedisFlowStore({ url: redis.url, keyPrefix: prefix, batchTimeoutMs: 500, commandTimeoutMs: 500, connectTimeoutMs: 500 });
    stores.push(store);
    return store;
  };

  const sweeper = (store: RedisFlowStore, now: () => number, flush?: () => Promise<void>): StalledSweeper => {
    const deps: StalledSweeperDependencies = { store, tracer: provider.getTracer('t'), health: new HealthCounters(), now, ...(flush ? { flush } : {}) };
    return new StalledSweeper({ batchSize: 50, leaseMs: LEASE_MS, maxSpansPerSecond: 1e9 }, deps);
  };

  const stalled = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === 'payment.callback.stalled');

  async function putExpired(store: RedisFlowStore, count: number, tag: string, now: number): Promise<void> {
    await store.ready();
    for (let i = 0; i < count; i++) {
      await store.put({ traceId: TRACE_ID, spanId: (i + 1).toString(16).padStart(16, '0'), traceFlags: 1, tradeNo: `${tag}-${i}`, issuedAt: now - 60_000 }, now - 1);
    }
  }

  it('a sweeper whose export went out but whose acknowledgement failed acknowledges it once Redis is back: no replica emits the flows again unmarked', async () => {
    const prefix = `ack${prefixSeq++}:{flows}:`;
    const now = Date.now();
    const a = replica(prefix);
    const b = replica(prefix);
    await putExpired(a, 20, 'A', now);
    await b.ready();
    // Redis goes down after the batch was exported, before it is marked and acknowledged.
    const sweeperA = sweeper(a, () => now, () => redis.stop());
    await assert.rejects(sweeperA.sweepOnce(), { name: /FlowStore/ });
    assert.equal(stalled().length, 20, 'the batch was exported');
    await redis.start();
    // Back within the lease: the sweeper's next round acknowledges what it emitted.
    await untilResolved(() => sweeperA.sweepOnce());
    // Another replica, once the lease would have lapsed, finds nothing left to report.
    const later = now + LEASE_MS + 1;
    assert.equal(await untilResolved(() => sweeper(b, () => later).sweepOnce()), 0, 'every flow was acknowledged');
    const spans = stalled();
    assert.equal(spans.filter((s) => s.attributes['payment.stalled.repeat'] !== true).length, 20, 'one counted span per flow');
    assert.equal(new Set(spans.map((s) => s.attributes['payment.trade_no'])).size, 20);
    assert.equal(await a.size(), 0);
  });
});
