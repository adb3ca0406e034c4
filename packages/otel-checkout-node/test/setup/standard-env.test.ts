import * as assert from 'node:assert/strict';
import { context, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startHttpServer, startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver, StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments, MemoryFlowStore, payments, startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { hasRegisteredTracerProvider } from '../../src/setup/existing-provider.js';
import { httpGet } from '../support/http-get.js';
import { captureWarnings } from '../support/capture-warnings.js';

const VARIABLES = ['OTEL_TRACES_EXPORTER', 'OTEL_SDK_DISABLED'] as const;

function makeSpans(count: number): void {
  const tracer = trace.getTracer('load');
  for (let i = 0; i < count; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
}

describe('standard environment variables that turn tracing off', () => {
  const saved: Partial<Record<(typeof VARIABLES)[number], string>> = {};
  let handle: NodeTracingHandle | undefined;
  let receiver: OtlpReceiver;
  let logs: ReturnType<typeof captureWarnings>;
  const servers: StartedHttpServer[] = [];
  beforeEach(async () => {
    for (const key of VARIABLES) saved[key] = process.env[key];
    receiver = await startOtlpReceiver();
    logs = captureWarnings(DiagLogLevel.INFO);
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    logs.restore();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await receiver.close();
    for (const key of VARIABLES) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('OTEL_TRACES_EXPORTER=none: as in the NodeSDK, no span is made or exported, and an incoming trace context still reaches outgoing calls', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'none';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10 });
    assert.equal(handle.mode, 'default');
    assert.equal(logs.warnings.filter((w) => w.includes('OTEL_TRACES_EXPORTER is "none"')).length, 1, logs.warnings.join('\n'));

    const seen: (string | undefined)[] = [];
    const provider = await startHttpServer((request, response) => {
      seen.push(request.headers.traceparent as string | undefined);
      response.end('ok');
    });
    servers.push(provider);
    const app = await startHttpServer((_request, response) => {
      void (async () => {
        // Through the package's flow API, and through a plain call that instrumentation-http sees.
        const recording = await payments.create({ tradeNo: 'N-1' }, (flow) =>
          flow.providerCall('charge', async (call) => {
            await httpGet(`${provider.url}/charge`, call.inject<Record<string, string>>({}));
            return call.span.isRecording();
          }),
        );
        await httpGet(`${provider.url}/plain`);
        response.end(String(recording));
      })();
    });
    servers.push(app);
    const traceId = 'c'.repeat(32);
    const answer = await httpGet(`${app.url}/pay`, { traceparent: `00-${traceId}-${'d'.repeat(16)}-01` });
    assert.equal(answer.body, 'false', 'no span records');
    assert.equal(seen.length, 2);
    for (const traceparent of seen) assert.equal(traceparent?.split('-')[1], traceId, `the incoming trace goes on: ${traceparent}`);

    makeSpans(3);
    await handle.flush();
    await handle.shutdown();
    assert.equal(receiver.requests.length, 0, 'nothing was posted');
    assert.equal(handle.health().spansExported, 0);
  });

  it('OTEL_TRACES_EXPORTER=none: a provider call sends each header once and header problems count once, as with an exporter', async () => {
    // By trace id: span ids differ between the two runs.
    const seen: { baggage: unknown; traceId: unknown }[] = [];
    const provider = await startHttpServer((request, response) => {
      seen.push({ baggage: request.headers.baggage, traceId: String(request.headers.traceparent).split('-')[1] });
      response.end('{}');
    });
    servers.push(provider);
    for (const variable of ['otlp', 'none']) {
      process.env.OTEL_TRACES_EXPORTER = variable;
      seen.length = 0;
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10 });
      const app = await startHttpServer(
        httpPayments(async (_request, response) => {
          await payments.create({ tradeNo: 'N-2' }, (flow) =>
            flow.providerCall('charge', async (call) => {
              // Global fetch: instrumentation-undici's, which must leave the caller's headers alone.
              await (await fetch(`${provider.url}/charge`, { headers: call.inject<Record<string, string>>({}) })).text();
            }),
          );
          response.end('ok');
        }),
      );
      servers.push(app);
      // Untraced, so that the test's own client adds no header of its own.
      const send = (headers: Record<string, string>): Promise<unknown> => context.with(suppressTracing(ROOT_CONTEXT), () => httpGet(`${app.url}/pay`, headers));
      await send({ baggage: 'checkout.release=1.4.0,user.id=42' });
      await send({ traceparent: `00-${'e'.repeat(32)}-${'f'.repeat(16)}-01`, tracestate: 'good=1,Bad Key=2' });
      await send({ traceparent: `00-${'e'.repeat(32)}-${'f'.repeat(16)}-01`, tracestate: `big=${'x'.repeat(600)}` });
      // Each header once (the baggage's allow-listed entry, not twice), each problem counted once.
      assert.deepEqual(
        seen.map(({ baggage }) => baggage),
        ['checkout.release=1.4.0', undefined, undefined],
        variable,
      );
      assert.deepEqual(
        seen.slice(1).map(({ traceId }) => traceId),
        ['e'.repeat(32), 'e'.repeat(32)],
        variable,
      );
      const { malformedTracestate, oversizeHeaders, baggageDropped } = handle.health();
      assert.deepEqual({ malformedTracestate, oversizeHeaders, baggageDropped }, { malformedTracestate: 1, oversizeHeaders: 1, baggageDropped: 1 }, variable);
      await handle.shutdown();
      handle = undefined;
    }
  });

  it('OTEL_TRACES_EXPORTER=none does not override an exporter given in code, and none after another exporter is ignored', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'otlp,none';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10, instrumentHttp: false });
    makeSpans(2);
    await handle.flush();
    assert.equal(handle.health().spansExported, 2);
    assert.ok(!logs.warnings.some((w) => w.includes('OTEL_TRACES_EXPORTER')), logs.warnings.join('\n'));
    await handle.shutdown();

    process.env.OTEL_TRACES_EXPORTER = 'none';
    const exporter = new InMemorySpanExporter();
    handle = startCheckoutTracing({ exporter, scheduledDelayMillis: 10, instrumentHttp: false });
    makeSpans(2);
    await handle.flush();
    assert.equal(exporter.getFinishedSpans().length, 2);
  });

  it('OTEL_TRACES_EXPORTER naming an exporter other than otlp or none: exported with OTLP all the same, counted and said once', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'console,zipkin';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10, instrumentHttp: false });
    makeSpans(2);
    await handle.flush();
    assert.equal(handle.health().spansExported, 2);
    assert.equal(handle.health().configProblems, 2);
    const said = logs.warnings.filter((w) => w.includes('is not supported here; spans are exported with OTLP/HTTP'));
    assert.equal(said.length, 1, logs.warnings.join('\n'));
    assert.match(said[0], /OTEL_TRACES_EXPORTER "console"/);
  });

  it('OTEL_SDK_DISABLED=true: mode "disabled", said once, nothing started or exported; the flow API runs untraced and the store is still closed', async () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    let closes = 0;
    const store = new MemoryFlowStore();
    const close = store.close.bind(store);
    store.close = () => {
      closes += 1;
      return close();
    };
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10, flows: { keys: { current: { id: 'k1', secret: 'disabled-test-secret-0123456789' } }, store } });
    assert.equal(handle.mode, 'disabled');
    assert.equal(logs.warnings.filter((w) => w.includes('disabled by OTEL_SDK_DISABLED')).length, 1, logs.warnings.join('\n'));
    assert.equal(hasRegisteredTracerProvider(), false);
    assert.equal(await context.with(ROOT_CONTEXT, () => payments.create({ tradeNo: 'D-1' }, (flow) => flow.tradeNo)), 'D-1');
    makeSpans(2);
    await handle.flush();
    await handle.shutdown();
    assert.equal(receiver.requests.length, 0);
    assert.equal(closes, 1);
  });
});
