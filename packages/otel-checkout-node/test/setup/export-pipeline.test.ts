import * as assert from 'node:assert/strict';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { freePort, startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { payments, startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { nodeHttpApp } from '../support/apps/node-http-app.js';
import { scenarioMiddlewareOptions, scenarioRoutes, startFakeProvider } from '../support/payment-scenario.js';

function makeSpans(count: number): void {
  const tracer = trace.getTracer('load');
  for (let i = 0; i < count; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
}

describe('export pipeline with a slow, failing or dead collector', () => {
  let handle: NodeTracingHandle | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    await receiver?.close();
    handle = undefined;
    receiver = undefined;
  });

  it('counts every span exported to a healthy collector', async () => {
    receiver = await startOtlpReceiver();
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10 });
    makeSpans(25);
    await handle.flush();
    await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 25 });
    assert.equal(handle.health().spansExported, 25);
    assert.equal(handle.health().spansDropped, 0);
  });

  it('bounds the queue while the collector hangs: excess spans are dropped and counted, requests are not held up', async () => {
    receiver = await startOtlpReceiver({ response: { delayMs: 60_000 } });
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, maxQueueSize: 50, maxExportBatchSize: 10, scheduledDelayMillis: 10, exportTimeoutMillis: 500, shutdownTimeoutMillis: 1000 });
    const provider = await startFakeProvider();
    const app = await nodeHttpApp(scenarioRoutes(() => provider.url), scenarioMiddlewareOptions);
    try {
      // Requests complete while every export hangs: the request path never waits for the exporter.
      for (let i = 0; i < 5; i += 1) {
        const response = await fetch(`${app.url}/pay/create`, { method: 'POST', body: JSON.stringify({ tradeNo: `H-${i}` }) });
        assert.equal(response.status, 200);
      }
      makeSpans(500);
      const health = handle.health();
      assert.ok(health.spansDropped >= 500 - 50 - 10, `dropped ${health.spansDropped}`);
    } finally {
      await app.close();
      await provider.close();
    }
    await handle.shutdown();
    const health = handle.health();
    // Every span made is either exported or counted as dropped: nothing is lost silently.
    assert.equal(health.spansExported, 0);
    assert.ok(health.exportFailures >= 1);
  });

  it('counts the spans of exports the collector rejects', async () => {
    receiver = await startOtlpReceiver({ response: { status: 400 } });
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10, protocol: 'http/json' });
    makeSpans(7);
    await handle.flush();
    assert.equal(handle.health().spansDropped, 7);
    assert.equal(handle.health().exportFailures, 1);
    assert.equal(handle.health().spansExported, 0);
    assert.equal(receiver.requests[0]?.encoding, 'json');
  });

  it('counts the spans sent to a dead port and shuts down within its bound', async () => {
    const port = await freePort();
    handle = startCheckoutTracing({ endpoint: `http://127.0.0.1:${port}/v1/traces`, scheduledDelayMillis: 10, exportTimeoutMillis: 1000, shutdownTimeoutMillis: 1500 });
    await payments.create({ tradeNo: 'D-1' }, () => undefined);
    makeSpans(3);
    await handle.flush();
    await handle.shutdown();
    assert.equal(handle.health().spansDropped, 4);
    assert.equal(handle.health().spansExported, 0);
  });
});
