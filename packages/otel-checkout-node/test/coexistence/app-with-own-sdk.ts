// An application that runs its own OpenTelemetry SDK and adds @otel-checkout/node. Run as a
// child process: its global SDK must not mix with other tests.
// argv[2]: 'with-redaction' adds the package's RedactionSpanProcessor to the app's SDK;
// 'without-http-instrumentation' adds it too but leaves HTTP instrumentation out of the SDK.
import { createRequire } from 'node:module';
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { CompositePropagator, getRPCMetadata } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as NodeHttp from 'node:http';
import type * as CheckoutNode from '../../src/index.js';

async function main(): Promise<void> {
  const withHttpInstrumentation = process.argv[2] !== 'without-http-instrumentation';
  const withRedaction = process.argv[2] !== 'without-redaction';
  const warnings: string[] = [];
  diag.setLogger(
    { error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const load = createRequire(__filename);
  const node = load('../../src/index.ts') as typeof CheckoutNode;
  const exporter = new InMemorySpanExporter();
  // Counts the flushes the app's provider is asked for (handle.flush() must reach it).
  let flushes = 0;
  // Resolved by the first flush after a stalled span ended: the sweeper pacing on the app's exporter.
  let stalledEnded = false;
  let sweeperFlushed: () => void = () => undefined;
  const whenSweeperFlushed = new Promise<boolean>((resolve) => (sweeperFlushed = () => resolve(true)));
  const flushCounter: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => {
      if (span.name === 'payment.callback.stalled') stalledEnded = true;
    },
    forceFlush: () => {
      flushes += 1;
      if (stalledEnded) sweeperFlushed();
      return Promise.resolve();
    },
    shutdown: () => Promise.resolve(),
  };
  const processors: SpanProcessor[] = [new SimpleSpanProcessor(exporter), flushCounter];
  if (withRedaction) processors.unshift(new node.RedactionSpanProcessor());
  // The guarded propagators as the README shows them for an application's own SDK: made before
  // startCheckoutTracing, without arguments.
  const textMapPropagator = new CompositePropagator({ propagators: [new node.GuardedTraceContextPropagator(), new node.GuardedBaggagePropagator()] });
  const sdk = new NodeSDK({
    spanProcessors: processors,
    textMapPropagator,
    instrumentations: withHttpInstrumentation ? [new HttpInstrumentation()] : [],
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const http = load('node:http') as typeof NodeHttp;

  let rpcSpanId = '';
  const handle = node.startCheckoutTracing({
    serviceName: 'ignored-here',
    // A flow that stalls at once, for the sweeper in this mode.
    flows: { keys: { current: { id: 'k1', secret: 'coexistence-secret-0123456789' } }, deadlines: 0.001, sweeper: { intervalMs: 10 } },
  });
  const handler = node.httpPayments(
    async (_req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse) => {
      // What a framework instrumentation reads to name the route on the server span.
      // The first request's: the one the client traced.
      rpcSpanId ||= getRPCMetadata(context.active())?.span?.spanContext().spanId ?? '';
      await node.payments.create({ tradeNo: 'C-1' }, (flow) => flow.recordOutcome('failed', { reason: `card ${'4111111111111111'}` }));
      res.end('ok');
    },
    { extract: () => ({ provider: 'acme', amount: 5 }) },
  );
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = trace.getTracer('client').startSpan('client', { kind: SpanKind.CLIENT });
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, client), headers);
  const response = await fetch(`http://127.0.0.1:${port}/pay`, { method: 'POST', headers });
  await response.text();
  // Bad headers from a client: the request goes on, the guarded propagators count them.
  const hostile = await fetch(`http://127.0.0.1:${port}/pay`, {
    method: 'POST',
    headers: { traceparent: '00-not-a-trace-01', baggage: 'user.email=a%40b.example,checkout.canary.cohort=canary' },
  });
  const hostileStatus = hostile.status;
  await hostile.text();
  client.end();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const flushesBefore = flushes;
  await handle.flush();
  const flushedByHandle = flushes - flushesBefore;
  await node.payments.create({ tradeNo: 'C-STALLED', provider: 'acme' }, (flow) => void flow.notifyUrl('https://shop.example/notify'));
  // A timer that holds the process: the sweeper's own timers do not, and without it the
  // process could end here, output unwritten, while the sweeper sleeps.
  let giveUp: NodeJS.Timeout | undefined;
  const sweeperPacedOnAppProvider = await Promise.race([whenSweeperFlushed, new Promise<boolean>((resolve) => (giveUp = setTimeout(() => resolve(false), 10_000)))]);
  clearTimeout(giveUp);
  const spans = exporter.getFinishedSpans();
  process.stdout.write(
    JSON.stringify({
      mode: handle.mode,
      clientSpanId: client.spanContext().spanId,
      clientTraceId: client.spanContext().traceId,
      rpcSpanId,
      flushedByHandle,
      hostileStatus,
      health: { malformedTraceparent: handle.health().malformedTraceparent, baggageDropped: handle.health().baggageDropped },
      sweeperPacedOnAppProvider,
      warnings,
      spans: spans.map((s) => ({ name: s.name, kind: s.kind, traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, parentSpanId: s.parentSpanContext?.spanId ?? '', attributes: s.attributes })),
    }),
  );
  await sdk.shutdown().catch(() => undefined);
}

void main();
