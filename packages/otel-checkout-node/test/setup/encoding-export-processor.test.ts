import assert from 'node:assert/strict';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, isTracingSuppressed } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeProtobufRequest } from '@otel-checkout/test-support';
import type { EncodedTraceRequest } from '../../src/export/otlp-protobuf-sender.js';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_EXPORT_FAILURES, HEALTH_SPANS_DROPPED, HEALTH_SPANS_EXPORTED } from '../../src/health-names.js';
import type { BatchExporter } from '../../src/setup/counting-exporter.js';
import { EncodingExportProcessor } from '../../src/setup/encoding-export-processor.js';
import type { ExportQueueSettings } from '../../src/setup/bounded-export-processor.js';

/** A sender the test answers by hand: each export waits until `answer` is called. */
class HeldSender implements BatchExporter<EncodedTraceRequest> {
  readonly requests: { request: EncodedTraceRequest; suppressed: boolean; answer: (result: ExportResult) => void }[] = [];
  private waiters: (() => void)[] = [];
  shutDown = false;

  export(request: EncodedTraceRequest, resultCallback: (result: ExportResult) => void): void {
    this.requests.push({ request, suppressed: isTracingSuppressed(context.active()), answer: resultCallback });
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once `count` exports have been started. */
  async started(count: number): Promise<void> {
    while (this.requests.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  names(index: number): string[] {
    return decodeProtobufRequest(this.requests[index].request.bytes, index).map((span) => span.name);
  }

  shutdown(): Promise<void> {
    this.shutDown = true;
    return Promise.resolve();
  }
}

const SUCCESS: ExportResult = { code: ExportResultCode.SUCCESS };
const FAILED: ExportResult = { code: ExportResultCode.FAILED, error: new Error('collector said no') };

function setUp(settings: Partial<ExportQueueSettings> = {}, extra: SpanProcessor[] = []) {
  const sender = new HeldSender();
  const health = new HealthCounters();
  const processor = new EncodingExportProcessor(sender, health, {
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    scheduledDelayMillis: 60_000,
    exportTimeoutMillis: 60_000,
    ...settings,
  });
  const provider = new BasicTracerProvider({ spanProcessors: [...extra, processor] });
  const tracer = provider.getTracer('encoding-test');
  const end = (...names: string[]): void => names.forEach((name) => tracer.startSpan(name, {}, ROOT_CONTEXT).end());
  return { sender, health, processor, provider, tracer, end };
}

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('encoding export processor', () => {
  it('sends a batch as soon as it holds maxExportBatchSize spans, encoded as OTLP protobuf', async () => {
    const { sender, health, processor, end } = setUp({ maxExportBatchSize: 3 });
    end('a', 'b');
    assert.equal(sender.requests.length, 0);
    end('c');
    await sender.started(1);
    assert.deepEqual(sender.names(0), ['a', 'b', 'c']);
    assert.equal(sender.requests[0].request.spanCount, 3);
    sender.requests[0].answer(SUCCESS);
    await processor.forceFlush();
    assert.equal(health.get(HEALTH_SPANS_EXPORTED), 3);
  });

  it('sends a partial batch scheduledDelayMillis after its first span', async () => {
    const { sender, end } = setUp({ scheduledDelayMillis: 5 });
    end('lonely');
    await sender.started(1);
    assert.deepEqual(sender.names(0), ['lonely']);
  });

  it('sends one export at a time; batches filled meanwhile follow in order', async () => {
    const { sender, processor, end } = setUp({ maxExportBatchSize: 2 });
    end(...names('s', 6));
    await sender.started(1);
    assert.equal(sender.requests.length, 1, 'the second batch waits for the first export');
    sender.requests[0].answer(SUCCESS);
    await sender.started(2);
    sender.requests[1].answer(SUCCESS);
    await sender.started(3);
    sender.requests[2].answer(SUCCESS);
    await processor.forceFlush();
    assert.deepEqual([0, 1, 2].map((i) => sender.names(i)), [['s0', 's1'], ['s2', 's3'], ['s4', 's5']]);
  });

  it('bounds what waits while the collector hangs, and counts every span it could not send', async () => {
    const { sender, health, processor, end } = setUp({ maxQueueSize: 25, maxExportBatchSize: 10 });
    end(...names('h', 200));
    await sender.started(1);
    // 10 in the hanging export, 25 waiting, the rest refused at once.
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 200 - 10 - 25);
    processor.abandonPending();
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 200 - 10);
    sender.requests[0].answer(FAILED);
    await processor.forceFlush();
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 200);
    assert.equal(health.get(HEALTH_EXPORT_FAILURES), 1);
    assert.equal(health.get(HEALTH_SPANS_EXPORTED), 0);
  });

  it('counts an export the sender never answers as failed after exportTimeoutMillis', async () => {
    const { sender, health, processor, end } = setUp({ exportTimeoutMillis: 20 });
    end('stuck');
    await processor.forceFlush();
    assert.equal(sender.requests.length, 1);
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 1);
    assert.equal(health.get(HEALTH_EXPORT_FAILURES), 1);
  });

  it('sends with tracing suppressed, so the export request makes no span of its own', async () => {
    // As in a started SDK: a context manager carries the suppression into the send.
    assert.ok(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
    try {
      const { sender, processor, end } = setUp();
      end('x');
      const flushed = processor.forceFlush();
      await sender.started(1);
      assert.equal(sender.requests[0].suppressed, true);
      sender.requests[0].answer(SUCCESS);
      await flushed;
    } finally {
      context.disable();
    }
  });

  it('ignores spans that are not sampled', async () => {
    const { sender, health, processor, tracer } = setUp();
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE });
    tracer.startSpan('not sampled', {}, unsampled).end();
    await processor.forceFlush();
    assert.equal(sender.requests.length, 0);
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 0);
  });

  it('drops and counts a span that cannot be encoded, and sends the rest of its batch', async () => {
    const breaker: SpanProcessor = {
      onStart: () => undefined,
      onEnd: (span: ReadableSpan) => {
        // A processor before this one leaves a span unreadable.
        if (span.name === 'broken') Object.defineProperty(span, 'events', { get: () => { throw new Error('unreadable'); } });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const { sender, health, processor, end } = setUp({}, [breaker]);
    end('before', 'broken', 'after');
    const flushed = processor.forceFlush();
    await sender.started(1);
    sender.requests[0].answer(SUCCESS);
    await flushed;
    assert.deepEqual(sender.names(0), ['before', 'after']);
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 1);
    assert.equal(health.get(HEALTH_SPANS_EXPORTED), 2);
  });

  it('flushes at shutdown, shuts the sender down, and exports nothing afterwards', async () => {
    const { sender, health, provider, end } = setUp();
    end('last');
    const stopping = provider.shutdown();
    await sender.started(1);
    sender.requests[0].answer(SUCCESS);
    await stopping;
    assert.equal(sender.shutDown, true);
    assert.equal(health.get(HEALTH_SPANS_EXPORTED), 1);
    end('too late');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(sender.requests.length, 1);
    assert.equal(health.get(HEALTH_SPANS_DROPPED), 0);
  });
});
