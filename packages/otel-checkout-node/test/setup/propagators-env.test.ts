import * as assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { httpGet } from '../support/http-get.js';

const TRACE_ID = 'a1'.repeat(16);
const INCOMING = {
  traceparent: `00-${TRACE_ID}-${'b2'.repeat(8)}-01`,
  'x-b3-traceid': 'c3'.repeat(16),
  'x-b3-spanid': 'd4'.repeat(8),
  'x-b3-sampled': '1',
  baggage: 'checkout.release=1.4.0',
};

/**
 * OTEL_PROPAGATORS with the package's own SDK: what a service with it set receives and sends on.
 * An app server calls a provider server; both are real servers on 127.0.0.1.
 */
describe('OTEL_PROPAGATORS', () => {
  const saved = process.env.OTEL_PROPAGATORS;
  let handle: NodeTracingHandle | undefined;
  let logs: ReturnType<typeof captureWarnings>;
  const servers: StartedHttpServer[] = [];
  let sent: IncomingHttpHeaders[];
  let exporter: InMemorySpanExporter;

  /** Starts tracing, sends one request with W3C and B3 headers, returns what the provider got and the app's server span. */
  async function oneRequest(): Promise<{ provider: IncomingHttpHeaders; serverTraceId: string | undefined }> {
    exporter = new InMemorySpanExporter();
    handle = startCheckoutTracing({ exporter, scheduledDelayMillis: 10 });
    const provider = await startHttpServer((request, response) => {
      sent.push(request.headers);
      response.end('ok');
    });
    servers.push(provider);
    const app = await startHttpServer((_request, response) => {
      void httpGet(`${provider.url}/charge`).then(() => response.end('ok'));
    });
    servers.push(app);
    // Sent untraced, so that the client's own instrumentation does not replace the headers.
    await context.with(suppressTracing(ROOT_CONTEXT), () => httpGet(`${app.url}/pay`, INCOMING));
    await handle.flush();
    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
    return { provider: sent[0], serverTraceId: server?.spanContext().traceId };
  }

  /**
   * What was said, but for OpenTelemetry's complaint, on each start after the first, that the
   * instrumentations get their logger from the LoggerProvider the previous NodeSDK shut down.
   */
  const warnings = (): string[] => logs.warnings.filter((w) => !w.startsWith('A shutdown LoggerProvider'));

  beforeEach(() => {
    sent = [];
    logs = captureWarnings();
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    logs.restore();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    if (saved === undefined) delete process.env.OTEL_PROPAGATORS;
    else process.env.OTEL_PROPAGATORS = saved;
  });

  it('none: no trace context is joined or sent on, said once, not a configuration problem', async () => {
    process.env.OTEL_PROPAGATORS = 'none';
    const { provider, serverTraceId } = await oneRequest();
    assert.notEqual(serverTraceId, TRACE_ID, 'the incoming trace is not joined');
    assert.equal(provider.traceparent, undefined);
    assert.equal(provider.baggage, undefined);
    assert.equal(handle?.health().configProblems, 0);
    assert.equal(warnings().filter((w) => w.includes('OTEL_PROPAGATORS is "none"')).length, 1, warnings().join('\n'));
  });

  it('tracecontext alone: the W3C trace is joined, baggage is neither read nor sent on', async () => {
    process.env.OTEL_PROPAGATORS = 'tracecontext';
    const { provider, serverTraceId } = await oneRequest();
    assert.equal(serverTraceId, TRACE_ID);
    assert.equal(String(provider.traceparent).split('-')[1], TRACE_ID);
    assert.equal(provider.baggage, undefined);
    assert.deepEqual(warnings(), []);
  });

  it('b3: not made (the guarded W3C pair is used), said once with the reason, counted', async () => {
    process.env.OTEL_PROPAGATORS = 'b3, xray';
    const { provider, serverTraceId } = await oneRequest();
    assert.equal(serverTraceId, TRACE_ID, 'the W3C parent, not the B3 one');
    assert.equal(String(provider.traceparent).split('-')[1], TRACE_ID);
    assert.equal(provider.baggage, 'checkout.release=1.4.0');
    assert.equal(provider['x-b3-traceid'], undefined);
    assert.equal(handle?.health().configProblems, 2);
    assert.equal(warnings().length, 1, warnings().join('\n'));
    assert.match(warnings()[0], /OTEL_PROPAGATORS names "b3", "xray", which the package does not make: .*guarded propagators .*untrusted clients.*; using tracecontext,baggage/);
  });

  it('tracecontext,baggage is the default: no word', async () => {
    process.env.OTEL_PROPAGATORS = 'tracecontext,baggage';
    const { provider, serverTraceId } = await oneRequest();
    assert.equal(serverTraceId, TRACE_ID);
    assert.equal(provider.baggage, 'checkout.release=1.4.0');
    assert.deepEqual(warnings(), []);
  });
});
