/* eslint-disable @typescript-eslint/require-await -- the exporters are async functions with nothing to await on purpose: that is what users write and what is tested */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { assertExitsAfterShutdown } from '../support/exits-after-shutdown.js';

type Callback = (result: ExportResult) => void;
type Export = (spans: ReadableSpan[], resultCallback: Callback) => unknown;

/** A custom exporter as an application may write one, against the `SpanExporter` interface. */
function exporterWith(exportFn: Export): SpanExporter {
  return { export: exportFn, shutdown: () => Promise.resolve() };
}

const failed = (): ExportResult => ({ code: ExportResultCode.FAILED, error: new Error('backend down') });
const succeeded = (): ExportResult => ({ code: ExportResultCode.SUCCESS });
// Each answers one export; all but the last answer are contract breaches.
const garbage = (value: unknown): Export => (_spans, callback) => callback(value as ExportResult);

/**
 * Every way a custom exporter answers an export: what the package must count for it. Spans
 * are made at once, so they go out in one export (`failures` is per export).
 */
const KINDS: { name: string; exportFn: Export; exported: boolean }[] = [
  { name: 'throws synchronously', exportFn: () => { throw new Error('sync'); }, exported: false },
  { name: 'is async and throws (a rejected promise)', exportFn: async () => { throw new Error('async'); }, exported: false },
  { name: 'returns a promise that rejects later, with no callback', exportFn: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 5)), exported: false },
  { name: 'is async, calls back FAILED and then throws', exportFn: async (_spans, callback) => { callback(failed()); throw new Error('after'); }, exported: false },
  { name: 'is async, calls back SUCCESS and then throws', exportFn: async (_spans, callback) => { callback(succeeded()); throw new Error('after'); }, exported: true },
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is tested
  { name: 'rejects with a non-Error', exportFn: () => Promise.reject('a string'), exported: false },
  { name: 'never calls back (the export times out)', exportFn: () => undefined, exported: false },
  { name: 'calls back twice, SUCCESS first', exportFn: (_spans, callback) => { callback(succeeded()); callback(failed()); }, exported: true },
  { name: 'calls back twice, FAILED first', exportFn: (_spans, callback) => { callback(failed()); callback(succeeded()); }, exported: false },
  { name: 'calls back with undefined', exportFn: garbage(undefined), exported: false },
  { name: 'calls back with null', exportFn: garbage(null), exported: false },
  { name: 'calls back with a number', exportFn: garbage(0), exported: false },
  { name: 'calls back with a string', exportFn: garbage('ok'), exported: false },
  { name: 'calls back with an object without a code', exportFn: garbage({}), exported: false },
  { name: 'calls back with a code neither SUCCESS nor FAILED', exportFn: garbage({ code: 2 }), exported: false },
  { name: 'calls back with a code of the wrong type', exportFn: garbage({ code: '0' }), exported: false },
  { name: 'calls back with a result whose code getter throws', exportFn: garbage({ get code(): never { throw new Error('getter'); } }), exported: false },
  { name: 'calls back garbage, then SUCCESS', exportFn: (_spans, callback) => { callback(undefined as unknown as ExportResult); callback(succeeded()); }, exported: false },
];

const SPANS = 5;

describe('a custom exporter that breaks its contract: still bounded and counted', () => {
  let handle: NodeTracingHandle | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  let logs: ReturnType<typeof captureWarnings> | undefined;
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    logs = captureWarnings();
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    process.off('unhandledRejection', onUnhandled);
    logs?.restore();
  });

  for (const kind of KINDS) {
    it(`an exporter that ${kind.name}: every span ended is exported or dropped, once; no unhandled rejection; flush does not wait out its bound`, async () => {
      let ended = 0;
      const counting: SpanProcessor = { onStart: () => undefined, onEnd: () => void (ended += 1), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
      handle = startCheckoutTracing({
        exporter: exporterWith(kind.exportFn),
        instrumentHttp: false,
        spanProcessors: [counting],
        scheduledDelayMillis: 10,
        exportTimeoutMillis: 200,
        shutdownTimeoutMillis: 5000,
      });
      const tracer = trace.getTracer('misbehaving-exporter');
      for (let i = 0; i < SPANS; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
      const flushStarted = Date.now();
      await handle.flush();
      // The export's answer (or its 200 ms timeout) ends the flush, not the 5 s bound.
      assert.ok(Date.now() - flushStarted < 2000, `flush took ${Date.now() - flushStarted} ms`);
      const afterFlush = handle.health();
      assert.equal(afterFlush.spansExported + afterFlush.spansDropped, SPANS, `after flush: ${JSON.stringify(afterFlush)}`);
      await handle.shutdown();
      // Late answers (a second callback, a rejection after the callback) have had their turn.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const health = handle.health();
      assert.equal(ended, SPANS);
      assert.equal(health.spansExported + health.spansDropped, ended, `ended = exported + dropped: ${JSON.stringify(health)}`);
      assert.equal(health.spansExported, kind.exported ? SPANS : 0);
      assert.equal(health.exportFailures, kind.exported ? 0 : 1);
      assert.deepEqual(unhandled, []);
    });
  }

  it('says a failed export once through diag, by its summary; a malformed answer is named as such', async () => {
    handle = startCheckoutTracing({ exporter: exporterWith(garbage(undefined)), instrumentHttp: false, scheduledDelayMillis: 10 });
    trace.getTracer('misbehaving-exporter').startSpan('span', {}, ROOT_CONTEXT).end();
    await handle.flush();
    const said = logs?.warnings.filter((w) => w.includes('span export failed')) ?? [];
    assert.equal(said.length, 1, logs?.warnings.join('\n'));
    assert.match(said[0], /without a valid result code/);
  });

  it('an async exporter that rejects: the rejection is summarised, its message never logged', async () => {
    handle = startCheckoutTracing({
      exporter: exporterWith(async () => {
        throw new Error('card 4111111111111111 refused');
      }),
      instrumentHttp: false,
      scheduledDelayMillis: 10,
    });
    trace.getTracer('misbehaving-exporter').startSpan('span', {}, ROOT_CONTEXT).end();
    await handle.flush();
    const said = logs?.warnings.filter((w) => w.includes('span export failed')) ?? [];
    assert.equal(said.length, 1, logs?.warnings.join('\n'));
    assert.match(said[0], /message of \d+ characters, not logged/);
    assert.ok(!logs?.warnings.some((w) => w.includes('4111')), logs?.warnings.join('\n'));
  });
});

describe('a custom exporter (or flow store) whose shutdown never settles', () => {
  const VARIANTS = {
    exporter: 'own SDK, exports answered',
    'silent-exporter': 'own SDK, exports never answered either',
    'coexisting-store': 'the application\'s own SDK, with a flow store whose close never settles',
    'disabled-store': 'OTEL_SDK_DISABLED with a flow store whose close never settles',
    'own-store': 'own SDK, with a flow store whose close never settles and spans still queued',
  } as const;
  for (const [variant, title] of Object.entries(VARIANTS)) {
    it(`${title}: shutdown() resolves within shutdownTimeoutMillis although nothing else keeps the process alive, and the process goes on`, async () => {
      const output = await assertExitsAfterShutdown(join(__dirname, 'fixtures', 'shutdown-never-settles.ts'), [variant], 2000, 'the package');
      const result = JSON.parse(output) as { elapsed: number; mode: string; ended: number; spansExported: number; spansDropped: number };
      assert.ok(result.elapsed >= 250 && result.elapsed < 1300, `shutdown took ${result.elapsed} ms (bound 300 ms)`);
      if (variant === 'disabled-store' || variant === 'coexisting-store') {
        assert.equal(result.mode, variant === 'disabled-store' ? 'disabled' : 'coexisting');
        return;
      }
      assert.equal(result.mode, 'lean');
      assert.equal(result.ended, 3);
      if (variant === 'exporter' || variant === 'own-store') {
        // With the store's close hanging, the SDK still flushed the queue within the bound.
        assert.deepEqual([result.spansExported, result.spansDropped], [3, 0]);
      } else {
        // The export under way was never answered: its spans counted as dropped when shutdown gave up.
        assert.deepEqual([result.spansExported, result.spansDropped], [0, 3]);
      }
    });
  }
});

describe("the application's own SDK whose forceFlush never settles", () => {
  it('flush() resolves within shutdownTimeoutMillis although nothing else keeps the process alive', async () => {
    const output = await assertExitsAfterShutdown(join(__dirname, 'fixtures', 'flush-never-settles.ts'), [], 2000, 'the package');
    const result = JSON.parse(output) as { elapsed: number; mode: string };
    assert.equal(result.mode, 'coexisting');
    assert.ok(result.elapsed >= 250 && result.elapsed < 1300, `flush took ${result.elapsed} ms (bound 300 ms)`);
  });
});
