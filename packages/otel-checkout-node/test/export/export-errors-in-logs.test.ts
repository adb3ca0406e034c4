import * as assert from 'node:assert/strict';
import { format } from 'node:util';
import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';

const STATUS_TEXT = 'Nope Status Text';
const BODY = 'nope: bad request 4111111111111111';

/**
 * Every diagnostic line, printed as a console logger would (`util.format` shows an error's
 * message, stack and properties), and every error OpenTelemetry hands to its global error
 * handler, printed the same way and as its default handler does.
 */
function captureLogs(): { lines: string[]; handled: unknown[]; text: () => string; restore: () => void } {
  const lines: string[] = [];
  const handled: unknown[] = [];
  const record = (message: string, ...args: unknown[]): void => void lines.push(format(message, ...args));
  diag.setLogger({ error: record, warn: record, info: record, debug: record, verbose: record }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  const defaultHandler = loggingErrorHandler();
  setGlobalErrorHandler((error) => {
    handled.push(error);
    lines.push(format('global error handler: %o', error));
    // OpenTelemetry's default: the error flattened to JSON, through diag.
    defaultHandler(error);
  });
  return {
    lines,
    handled,
    text: () => lines.join('\n'),
    restore: () => {
      setGlobalErrorHandler(loggingErrorHandler());
      diag.disable();
    },
  };
}

function makeSpans(count: number): void {
  const tracer = trace.getTracer('load');
  for (let i = 0; i < count; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
}

function assertNotLogged(text: string, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" was logged:\n${text}`);
}

describe('export errors in the logs: the package summary only', () => {
  let handle: NodeTracingHandle | undefined;
  let collector: StartedHttpServer | undefined;
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(async () => {
    await handle?.shutdown();
    await collector?.close();
    handle = undefined;
    collector = undefined;
    logs.restore();
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`a collector answering 400 with a body (${protocol}): neither its status text nor its body is logged, by the package or by OpenTelemetry`, async () => {
      collector = await startHttpServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(400, STATUS_TEXT, { 'content-type': 'text/plain' });
          response.end(BODY);
        });
      });
      // Two rounds, exported on the batch processor's timer (which reports a failure to the global
      // error handler) and by a flush (which rejects with it): the package warns once.
      handle = startCheckoutTracing({ endpoint: `${collector.url}/v1/traces`, protocol, instrumentHttp: false, scheduledDelayMillis: 10 });
      makeSpans(3);
      while (handle.health().exportFailures === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      makeSpans(3);
      await handle.flush();
      assert.equal(handle.health().exportFailures, 2);
      assertNotLogged(logs.text(), STATUS_TEXT, 'nope', '4111111111111111');
      assert.ok(logs.text().includes('span export failed'), logs.text());
      assert.ok(logs.handled.length >= 1, 'OpenTelemetry still hears of the failure');
      for (const error of logs.handled) {
        assert.ok(error instanceof Error);
        assert.match(error.message, /^span export failed: OTLPExporterError \[400\] \(message of 16 characters, not logged\)$/);
        assert.equal(error.stack, undefined);
        assert.equal(error.name, 'OTLPExporterError', 'the class name stays, as the SDK metrics read it');
      }
    });
  }

  it('a collector that accepts an export with an unreadable answer or a partial success message: neither is logged as it came', async () => {
    let answer: () => { type: string; body: string } = () => ({ type: 'application/json', body: `not json: ${BODY}` });
    collector = await startHttpServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const { type, body } = answer();
        response.writeHead(200, { 'content-type': type });
        response.end(body);
      });
    });
    handle = startCheckoutTracing({ endpoint: `${collector.url}/v1/traces`, protocol: 'http/json', instrumentHttp: false, scheduledDelayMillis: 10 });
    makeSpans(2);
    await handle.flush();
    answer = () => ({ type: 'application/json', body: JSON.stringify({ partialSuccess: { rejectedSpans: 1, errorMessage: `span rejected: ${BODY}` } }) });
    makeSpans(2);
    await handle.flush();
    assert.equal(handle.health().spansExported, 4, 'accepted exports stay accepted');
    assertNotLogged(logs.text(), 'nope', '4111111111111111');
    assert.ok(logs.text().includes('is not an OTLP response'), logs.text());
    assert.ok(logs.text().includes('"rejectedSpans":1'), logs.text());
  });

  it('a collector that never answers: the timed-out export reaches the global error handler as the summary, without a stack', async () => {
    // Accepts every export and never answers it.
    collector = await startHttpServer((request) => void request.resume());
    handle = startCheckoutTracing({ endpoint: `${collector.url}/v1/traces`, instrumentHttp: false, scheduledDelayMillis: 10, exportTimeoutMillis: 150, shutdownTimeoutMillis: 200 });
    makeSpans(3);
    while (handle.health().exportFailures === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // Past the time the batch processor's own timer would have fired too.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.ok(logs.handled.length >= 1, 'OpenTelemetry still hears of the failure');
    for (const error of logs.handled) {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^span export failed: /);
      assert.equal(error.stack, undefined, `${error.name}: ${error.message}`);
    }
    assert.ok(!logs.text().includes('"stack"'), logs.text());
    assert.ok(!logs.text().includes('BatchSpanProcessorBase'), logs.text());
  });

  it('an export given up at shutdown is reported without a stack (it would point wherever the error was made, not at the export)', async () => {
    let exportStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (exportStarted = resolve));
    // A collector that never answers, as an exporter.
    const exporter: SpanExporter = {
      export: () => exportStarted(),
      shutdown: () => Promise.resolve(),
    };
    handle = startCheckoutTracing({ exporter, instrumentHttp: false, scheduledDelayMillis: 10, exportTimeoutMillis: 60_000, shutdownTimeoutMillis: 200 });
    makeSpans(2);
    await started;
    await handle.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const abandoned = logs.handled.filter((error) => error instanceof Error && error.message.includes('export abandoned'));
    assert.equal(abandoned.length, 1, logs.text());
    assert.equal((abandoned[0] as Error).stack, undefined);
    assert.ok(!logs.text().includes('"stack"'), logs.text());
  });
});
