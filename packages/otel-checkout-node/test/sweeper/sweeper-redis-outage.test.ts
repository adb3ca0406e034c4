import assert from 'node:assert/strict';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createClient } from 'redis';
import { HealthCounters } from '../../src/health.js';
import { Harness } from '../callback/harness.js';
import { MemoryFlowStore, RedisFlowStore, StalledSweeper } from '../../src/index.js';
import type { StalledSweeperDependencies } from '../../src/index.js';
import { startRestartableRedis, untilResolved } from '../flow-store/restartable-redis.js';
import type { RestartableRedis } from '../flow-store/restartable-redis.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const LEASE_MS = 60_000;

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

  describe('callbacks and flows ending at payment.create while Redis is down', () => {
    const harness = new Harness();
    before(() => harness.install());
    after(() => harness.uninstall());
    afterEach(() => harness.reset());

    const notify = async (flows: ReturnType<Harness['flows']>['flows'], notifyUrl: string, tradeNo: string, status: string): Promise<void> => {
      const url = new URL(notifyUrl);
      const scope = await flows.beginCallback(
        { method: 'POST', url: `${url.pathname}${url.search}`, headers: {}, body: { trade_no: tradeNo, status } },
        { tradeNo: (_r, fields) => fields?.trade_no as string, status: (_r, fields) => fields?.status as string, statusTable: { PAID: 'succeeded', WAIT: 'pending' } },
      );
      scope.end(200);
    };

    it('a flow whose final callback or payment.create end could not reach the store is ended there once it is back: never also reported stalled', async () => {
      const store = replica(`down${prefixSeq++}:{flows}:`);
      await store.ready();
      const { flows, health } = harness.flows({ store, sweeper: false });
      try {
        const calledBack = harness.createFlow('D-callback');
        const endedAtCreate = harness.createFlow('D-create');
        const notifyUrl = flows.notifyUrl(calledBack, 'http://shop/notify');
        flows.notifyUrl(endedAtCreate, 'http://shop/notify');
        await flows.whenRecorded();
        assert.equal(await store.size(), 2);

        await redis.stop();
        // The checkout's own request and the provider's notification go on, bounded, while Redis is away.
        const started = Date.now();
        await notify(flows, notifyUrl, 'D-callback', 'PAID');
        assert.equal(await flows.complete(endedAtCreate), false);
        assert.ok(Date.now() - started < 2000, `bounded (${Date.now() - started} ms)`);
        const [callback] = harness.callbacks();
        assert.equal(callback.attributes['payment.callback.correlation'], 'token_query');
        assert.equal(callback.attributes['payment.outcome'], 'succeeded', 'this callback is the flow\'s end');
        assert.ok(health.get('flowStoreFallbacks') >= 1);
        assert.ok(health.get('flowStoreFailures') >= 2);

        await redis.start();
        await untilResolved(() => store.size());
        // The package retries on its own, with a backoff; here at once.
        await flows.retryDeferredTakes();
        // Past every deadline: a flow still waiting in the store would be reported stalled now.
        const sweeps = sweeper(store, () => Date.now() + 10 * 3600_000);
        assert.equal(await sweeps.sweepOnce(), 0, 'both flows had ended: no stalled span counts them a second time');
        assert.deepEqual(stalled(), []);
        // And the store works again: a new flow is recorded and taken by its callback.
        const next = harness.createFlow('D-next');
        const nextUrl = flows.notifyUrl(next, 'http://shop/notify');
        await flows.whenRecorded();
        assert.equal(await store.size(), 1);
        const fallbacks = health.get('flowStoreFallbacks');
        await notify(flows, nextUrl, 'D-next', 'PAID');
        assert.equal(await store.size(), 0);
        assert.equal(health.get('flowStoreFallbacks'), fallbacks);
      } finally {
        await flows.shutdown();
      }
    });

    it('a slow Redis (every command held for a second) adds at most the command timeout to a callback, and nothing to minting; what timed out is counted', async () => {
      const commandTimeoutMs = 150;
      const store = new RedisFlowStore({ url: redis.url, keyPrefix: `slow${prefixSeq++}:{flows}:`, commandTimeoutMs });
      stores.push(store);
      await store.ready();
      const controller = createClient({ url: redis.url });
      await controller.connect();
      const { flows, health } = harness.flows({ store, sweeper: false });
      try {
        const flow = harness.createFlow('S-1');
        const notifyUrl = flows.notifyUrl(flow, 'http://shop/notify');
        await flows.whenRecorded();
        await controller.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
        const minting = Date.now();
        const pending = flows.notifyUrl(harness.createFlow('S-2'), 'http://shop/notify');
        assert.ok(pending.includes('otc_flow='));
        assert.ok(Date.now() - minting < 50, 'minting does not wait for Redis');
        const started = Date.now();
        await notify(flows, notifyUrl, 'S-1', 'PAID');
        const completed = flows.complete(flow);
        const took = Date.now() - started;
        assert.ok(took >= commandTimeoutMs - 10 && took < commandTimeoutMs + 200, `the callback waited ${took} ms`);
        assert.equal(await completed, false);
        const [callback] = harness.callbacks();
        assert.equal(callback.attributes['payment.outcome'], 'succeeded');
        assert.ok(health.get('flowStoreFailures') >= 1);
        await flows.whenRecorded();
        assert.equal(health.get('flowStoreFallbacks'), 2, 'the callback read by token only, and the flow that could not be recorded');
        // Once the pause ends the commands held run; the store answers at once again.
        await controller.sendCommand(['PING']);
        await flows.retryDeferredTakes();
        assert.equal((await store.take('S-1')).duplicate, true, 'the flow ended in the store');
      } finally {
        await flows.shutdown();
        controller.destroy();
      }
    });

    it('retries a deferred take on its own once the store answers, and gives up what it cannot do by shutdown, counted', async () => {
      const memory = new MemoryFlowStore();
      let reachable = false;
      let answered!: (tradeNo: string) => void;
      const retried = new Promise<string>((resolve) => (answered = resolve));
      const store = Object.assign(Object.create(memory) as MemoryFlowStore, {
        take: async (tradeNo: string) => {
          if (!reachable) throw new Error('store away');
          const result = await memory.take(tradeNo);
          answered(tradeNo);
          return result;
        },
      });
      const { flows, health } = harness.flows({ store, sweeper: false });
      const flow = harness.createFlow('M-1');
      const notifyUrl = flows.notifyUrl(flow, 'http://shop/notify');
      await flows.whenRecorded();
      await notify(flows, notifyUrl, 'M-1', 'PAID');
      assert.equal(await memory.size(), 1, 'the take failed: the flow is still there');
      reachable = true;
      assert.equal(await retried, 'M-1');
      assert.equal(await memory.size(), 0, 'ended by the retried take');
      // Another that never gets through: given up at shutdown, and counted.
      reachable = false;
      const other = harness.createFlow('M-2');
      const otherUrl = flows.notifyUrl(other, 'http://shop/notify');
      await flows.whenRecorded();
      await notify(flows, otherUrl, 'M-2', 'PAID');
      const failures = health.get('flowStoreFailures');
      await flows.shutdown();
      assert.equal(health.get('flowStoreFailures'), failures + 1);
    });
  });
});
