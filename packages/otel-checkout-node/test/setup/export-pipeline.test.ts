import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { freePort, startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { payments, startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { nodeHttpApp } from '../support/apps/node-http-app.js';
import { assertExitsAfterShutdown } from '../support/exits-after-shutdown.js';
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
    // Counts every span that ends, beside the package's own export.
    let ended = 0;
    const counting = { onStart: () => undefined, onEnd: () => void (ended += 1), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
    handle = startCheckoutTracing({
      endpoint: receiver.tracesUrl,
      maxQueueSize: 50,
      maxExportBatchSize: 10,
      scheduledDelayMillis: 10,
      exportTimeoutMillis: 500,
      shutdownTimeoutMillis: 1000,
      spanProcessors: [counting],
    });
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
    assert.ok(ended >= 505);
    assert.equal(health.spansDropped, ended, 'every span that ended was dropped, and counted');
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
    const shutdownStarted = Date.now();
    await handle.shutdown();
    assert.ok(Date.now() - shutdownStarted < 1500 + 500, `shut down in ${Date.now() - shutdownStarted} ms`);
    assert.equal(handle.health().spansDropped, 4);
    assert.equal(handle.health().spansExported, 0);
  });

  it('retries an export the collector refuses for now, as OpenTelemetry does (Retry-After, gzip from OTEL_EXPORTER_OTLP_COMPRESSION)', async () => {
    receiver = await startOtlpReceiver();
    receiver.setResponse({ status: 503, retryAfterSeconds: 0, times: 1 });
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
    try {
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10 });
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_COMPRESSION;
    }
    makeSpans(3);
    await handle.flush();
    await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 3 });
    // The refused batch was sent again and accepted: no export failed, nothing was dropped.
    assert.deepEqual([receiver.requests[0]?.status, receiver.requests[1]?.status], [503, 200]);
    assert.ok(receiver.requests.every((r) => r.contentEncoding === 'gzip'));
    assert.ok(handle.health().spansExported >= 3);
    assert.equal(handle.health().exportFailures, 0);
    assert.equal(handle.health().spansDropped, 0);
  });

  it('counts the spans of an export still under way as dropped when shutdown gives up, and not again when it fails later', async () => {
    const answers: ((result: ExportResult) => void)[] = [];
    let exportStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (exportStarted = resolve));
    // An exporter that takes spans and answers only when told to.
    const exporter: SpanExporter = {
      export: (_spans, resultCallback) => {
        answers.push(resultCallback);
        exportStarted();
      },
      shutdown: () => Promise.resolve(),
    };
    handle = startCheckoutTracing({ exporter, instrumentHttp: false, scheduledDelayMillis: 10, exportTimeoutMillis: 60_000, shutdownTimeoutMillis: 200 });
    makeSpans(5);
    await started;
    await handle.shutdown();
    assert.equal(handle.health().spansDropped, 5, 'counted when shutdown resolves, not when the export times out');
    for (const answer of answers) answer({ code: ExportResultCode.FAILED, error: new Error('collector gone') });
    assert.equal(handle.health().spansDropped, 5, 'the late failure does not count them twice');
    assert.equal(handle.health().spansExported, 0);
  });

  it('leaves nothing that keeps the process alive once shutdown gave up on a collector that never answers', async () => {
    receiver = await startOtlpReceiver({ response: { delayMs: 60_000 } });
    // Far longer than exiting takes, far shorter than the export's 10 s timeout and the retries after it.
    const output = await assertExitsAfterShutdown(join(__dirname, 'fixtures', 'black-hole-shutdown.ts'), [receiver.tracesUrl], 2000, 'the export');
    const health = JSON.parse(output) as Record<string, number>;
    assert.equal((await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 4 })).length, 4, 'the export reached the collector');
    assert.equal(health.spansDropped, 5, 'every span of the unanswered export counted as dropped');
    assert.equal(health.spansExported, 0);
  });
});
