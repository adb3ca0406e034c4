import assert from 'node:assert/strict';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { HealthCounters } from '../../src/health.js';
import { MemoryFlowStore, StalledSweeper } from '../../src/index.js';

const FLOWS = 2000;

async function expiredStore(count: number): Promise<MemoryFlowStore> {
  const store = new MemoryFlowStore();
  const past = Date.now() - 1000;
  for (let i = 0; i < count; i++) {
    await store.put({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: (i + 1).toString(16).padStart(16, '0'), traceFlags: 1, tradeNo: `P${i}`, issuedAt: past }, past);
  }
  return store;
}

/** A provider whose export queue holds only 50 spans, exporting to a collector that takes 20 ms per request. */
function smallQueueProvider(receiver: OtlpReceiver): BasicTracerProvider {
  return new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: receiver.tracesUrl }), {
        maxQueueSize: 50,
        maxExportBatchSize: 25,
        scheduledDelayMillis: 5000,
      }),
    ],
  });
}

describe('stalled sweeper pacing', function () {
  this.timeout(60_000);
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver({ response: { delayMs: 20 } });
  });
  afterEach(() => receiver.clear());
  after(() => receiver.close());

  it('a burst of expired flows does not overflow a small export queue when paced on export completions', async () => {
    const provider = smallQueueProvider(receiver);
    const health = new HealthCounters();
    const sweeper = new StalledSweeper(
      { batchSize: 25 },
      { store: await expiredStore(FLOWS), tracer: provider.getTracer('t'), health, flush: () => provider.forceFlush() },
    );
    assert.equal(await sweeper.sweepOnce(), FLOWS);
    await provider.shutdown();
    const stalled = receiver.spans.filter((s) => s.name === 'payment.callback.stalled');
    assert.equal(stalled.length, FLOWS, 'every stalled span reached the collector');
    assert.equal(new Set(stalled.map((s) => s.attributes['payment.trade_no'])).size, FLOWS);
    assert.equal(health.get('stalledEmitted'), FLOWS);
  });

  it('(control) the same burst unpaced overflows that queue and loses spans', async () => {
    const provider = smallQueueProvider(receiver);
    const sweeper = new StalledSweeper(
      { batchSize: FLOWS, maxSpansPerSecond: 1e9 },
      { store: await expiredStore(FLOWS), tracer: provider.getTracer('t'), health: new HealthCounters() },
    );
    await sweeper.sweepOnce();
    await provider.shutdown();
    assert.ok(receiver.spans.length < FLOWS / 2, `only ${receiver.spans.length} of ${FLOWS} made it`);
  });

  it('waits for a slow exporter at most half the lease, so it acknowledges before another sweeper may claim the batch again', async () => {
    const store = await expiredStore(10);
    const provider = smallQueueProvider(receiver);
    const sweeper = new StalledSweeper(
      { batchSize: 10, leaseMs: 400 },
      // An exporter that never finishes.
      { store, tracer: provider.getTracer('t'), health: new HealthCounters(), flush: () => new Promise(() => undefined) },
    );
    const started = Date.now();
    assert.equal(await sweeper.sweepOnce(), 10);
    assert.ok(Date.now() - started < 400, `acknowledged within the lease (${Date.now() - started} ms)`);
    assert.equal(await store.size(), 0);
    assert.deepEqual(await store.claimExpired(Date.now() + 10_000, 100, 400), [], 'nothing left to claim again');
    await provider.shutdown();
  });

  it('start() sweeps on its own and stop() returns promptly while it waits', async () => {
    const provider = smallQueueProvider(receiver);
    const store = await expiredStore(10);
    const sweeper = new StalledSweeper({ intervalMs: 60_000 }, { store, tracer: provider.getTracer('t'), health: new HealthCounters(), flush: () => provider.forceFlush() });
    sweeper.start();
    await receiver.waitForSpans((s) => s.name === 'payment.callback.stalled', { count: 10 });
    const stopping = Date.now();
    await sweeper.stop();
    assert.ok(Date.now() - stopping < 1000, 'stop does not wait for the interval');
    assert.equal(await store.size(), 0);
    await provider.shutdown();
  });

  it('a stalled span that cannot be emitted (a span processor throws) is counted, not lost silently', async () => {
    const health = new HealthCounters();
    const throwing = {
      onStart: () => undefined,
      onEnd: () => {
        throw new Error('processor broken');
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = new BasicTracerProvider({ spanProcessors: [throwing] });
    const sweeper = new StalledSweeper({}, { store: await expiredStore(3), tracer: provider.getTracer('t'), health, flush: () => Promise.resolve() });
    assert.equal(await sweeper.sweepOnce(), 3);
    assert.equal(health.get('stalledEmitted'), 0);
    assert.equal(health.get('hookErrors'), 3, 'each flow whose stalled span was lost');
  });

  it('keeps running when the store fails, and counts it', async () => {
    const health = new HealthCounters();
    let calls = 0;
    let secondCall!: () => void;
    const retried = new Promise<void>((resolve) => (secondCall = resolve));
    const failing = Object.assign(new MemoryFlowStore(), {
      claimExpired: () => {
        if (++calls === 2) secondCall();
        return Promise.reject(new Error('store down'));
      },
    });
    const provider = new BasicTracerProvider();
    const sweeper = new StalledSweeper({ intervalMs: 10 }, { store: failing, tracer: provider.getTracer('t'), health });
    sweeper.start();
    await retried;
    await sweeper.stop();
    assert.ok(health.get('flowStoreFailures') >= 2);
  });
});
