import * as assert from 'node:assert/strict';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { startHttpServer, startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver, StartedHttpServer } from '@otel-checkout/test-support';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';

const VARIABLES = ['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'OTEL_BSP_EXPORT_TIMEOUT'] as const;

function makeSpans(count: number, prefix = 'span'): void {
  const tracer = trace.getTracer('load');
  for (let i = 0; i < count; i += 1) tracer.startSpan(`${prefix} ${i}`, {}, ROOT_CONTEXT).end();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the export processor and the OTEL_BSP_* variables', () => {
  const saved: Partial<Record<string, string>> = {};
  let handle: NodeTracingHandle | undefined;
  let receiver: OtlpReceiver | undefined;
  let collector: StartedHttpServer | undefined;
  let logs: ReturnType<typeof captureWarnings>;
  beforeEach(() => {
    for (const key of VARIABLES) saved[key] = process.env[key];
    logs = captureWarnings();
  });
  afterEach(async () => {
    await handle?.shutdown();
    await receiver?.close();
    await collector?.close();
    handle = undefined;
    receiver = undefined;
    collector = undefined;
    logs.restore();
    for (const key of VARIABLES) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_MAX_EXPORT_BATCH_SIZE shape the exports: full batches go at once, the rest waits for the delay', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '20000';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '5';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    makeSpans(12);
    await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 10 });
    // Past the package's default delay (1000 ms): the last two are still waiting for theirs.
    await sleep(1500);
    assert.deepEqual(
      receiver.requests.map((request) => request.spans.length),
      [5, 5],
    );
    assert.equal(handle.health().spansExported, 10);
    await handle.flush();
    assert.equal(handle.health().spansExported, 12);
    assert.equal(handle.health().configProblems, 0);
    assert.deepEqual(logs.warnings, []);
  });

  it('OTEL_BSP_MAX_QUEUE_SIZE bounds the queue while the collector hangs: the excess is dropped and counted', async () => {
    collector = await startHttpServer((request) => void request.resume());
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '5';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '5';
    handle = startCheckoutTracing({ endpoint: `${collector.url}/v1/traces`, instrumentHttp: false, exportTimeoutMillis: 60_000, shutdownTimeoutMillis: 200 });
    // Five go to the collector that hangs, five wait in the queue, the other ten are dropped.
    makeSpans(20);
    assert.equal(handle.health().spansDropped, 10);
    assert.equal(handle.health().configProblems, 0);
  });

  it('options given in code win over the variables', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '1';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10, maxExportBatchSize: 100 });
    makeSpans(3);
    // No flush: the option's 10 ms delay, not the variable's minute, sends them, in one request.
    await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 3 });
    assert.deepEqual(
      receiver.requests.map((request) => request.spans.length),
      [3],
    );
  });

  it('a value that is not a whole number in range is said once, counted and ignored; a batch larger than the queue is cut to it', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '-5';
    process.env.OTEL_BSP_EXPORT_TIMEOUT = '0';
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '10';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '50';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    assert.equal(handle.health().configProblems, 3, logs.warnings.join('\n'));
    assert.ok(logs.warnings.some((w) => w.includes('OTEL_BSP_SCHEDULE_DELAY="-5" is not a whole number of ms from 0 to 2147483647; using the default (1000)')), logs.warnings.join('\n'));
    assert.ok(logs.warnings.some((w) => w.includes('OTEL_BSP_EXPORT_TIMEOUT="0" is not a whole number of ms from 1 to 2147483647; using the default (10000)')), logs.warnings.join('\n'));
    assert.ok(logs.warnings.some((w) => w.includes('larger than the queue (10); using 10')), logs.warnings.join('\n'));
    assert.equal(logs.warnings.length, 3, logs.warnings.join('\n'));
    makeSpans(25);
    await handle.flush();
    assert.ok(receiver.requests.every((request) => request.spans.length <= 10));
    assert.equal(handle.health().spansExported + handle.health().spansDropped, 25);
  });

  it('OTEL_BSP_SCHEDULE_DELAY=0 exports without waiting', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '0';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    makeSpans(2);
    await receiver.waitForSpans((s) => s.name.startsWith('span '), { count: 2, timeoutMs: 500 });
    assert.equal(handle.health().configProblems, 0);
  });
});
