// The receiver against the real OTLP/HTTP exporters: what the SDK recorded must come out of
// the receiver exactly, in JSON and in protobuf, plain and gzipped.
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanWaitTimeoutError, buildTraceTrees, startOtlpReceiver } from '../src/index.js';
import type { OtlpReceiver, ReceivedSpan } from '../src/index.js';

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPJsonTraceExporter>[0]>;
const GZIP = 'gzip' as ExporterConfig['compression'];

const API_KIND_TO_OTLP: Record<SpanKind, number> = {
  [SpanKind.INTERNAL]: 1,
  [SpanKind.SERVER]: 2,
  [SpanKind.CLIENT]: 3,
  [SpanKind.PRODUCER]: 4,
  [SpanKind.CONSUMER]: 5,
};

const nanos = (time: HrTime): bigint => BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);

interface Pipeline {
  provider: BasicTracerProvider;
  memory: InMemorySpanExporter;
}

/** A provider exporting through the real exporter (batched) and, for the expected values, to memory. */
function pipeline(exporter: SpanExporter): Pipeline {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout-api', 'service.version': '1.4.2', 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(exporter)],
  });
  return { provider, memory };
}

/** A checkout-shaped trace: root → create (client) → provider call, with every attribute type, events, a link, statuses. */
function recordCheckoutTrace(provider: BasicTracerProvider): void {
  const tracer = provider.getTracer('otel-checkout-test', '0.0.1');
  const linked = tracer.startSpan('earlier.attempt');
  linked.end();
  const root = tracer.startSpan('checkout.pay', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'payment.trade_no': 'T-2026-0001',
      'payment.amount': 12999,
      'payment.attempt': -3,
      'payment.ratio': 0.125,
      'payment.callback.late': false,
      'checkout.flags': ['a', 'b', ''],
      'checkout.numbers': [1, 2.5, -7],
      'checkout.bools': [true, false],
      'checkout.empty': '',
    },
    links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'retry', 'link.attempt': 2 } }],
  });
  root.addEvent('payment.retry', { 'payment.attempt': 2, 'retry.reason': 'timeout' });
  root.addEvent('bare.event');
  const rootContext = trace.setSpan(context.active(), root);
  const create = tracer.startSpan('payment.create', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST' } }, rootContext);
  const provider_ = tracer.startSpan(
    'provider.call',
    { kind: SpanKind.SERVER, attributes: { 'payment.provider': 'acme' } },
    trace.setSpan(context.active(), create),
  );
  provider_.setStatus({ code: SpanStatusCode.ERROR, message: 'provider said no' });
  provider_.end();
  create.setStatus({ code: SpanStatusCode.OK });
  create.end();
  const consumer = tracer.startSpan('callback.consume', { kind: SpanKind.CONSUMER }, rootContext);
  consumer.end();
  const producer = tracer.startSpan('callback.produce', { kind: SpanKind.PRODUCER }, rootContext);
  producer.end();
  root.end();
}

/** The receiver's view of a span, minus transport details, from what the SDK recorded. */
function expectedFrom(span: ReadableSpan): Partial<ReceivedSpan> {
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: API_KIND_TO_OTLP[span.kind],
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: { ...span.attributes } as ReceivedSpan['attributes'],
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: nanos(event.time),
      attributes: { ...(event.attributes ?? {}) } as ReceivedSpan['attributes'],
      droppedAttributesCount: event.droppedAttributesCount ?? 0,
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      traceState: '',
      flags: 0,
      attributes: { ...(link.attributes ?? {}) } as ReceivedSpan['attributes'],
      droppedAttributesCount: link.droppedAttributesCount ?? 0,
    })),
    status: {
      code: span.status.code,
      codeName: (['UNSET', 'OK', 'ERROR'] as const)[span.status.code],
      message: span.status.message ?? '',
    },
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? '', attributes: {}, schemaUrl: '' },
  };
}

function comparable(span: ReceivedSpan): Partial<ReceivedSpan> {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    attributes: span.attributes,
    // Link flags carry the sampled bit plus OTLP's is-remote bits; checked separately.
    events: span.events,
    links: span.links.map((link) => ({ ...link, flags: 0 })),
    status: span.status,
    scope: span.scope,
  };
}

const encodings = [
  { encoding: 'json' as const, contentType: 'application/json', Exporter: OTLPJsonTraceExporter },
  { encoding: 'protobuf' as const, contentType: 'application/x-protobuf', Exporter: OTLPProtoTraceExporter },
];

describe('OTLP receiver with the real OpenTelemetry exporters', function () {
  let receiver: OtlpReceiver;
  let provider: BasicTracerProvider | undefined;

  beforeEach(async function () {
    receiver = await startOtlpReceiver();
  });

  afterEach(async function () {
    await provider?.shutdown();
    provider = undefined;
    await receiver.close();
  });

  for (const { encoding, contentType, Exporter } of encodings) {
    for (const compression of [undefined, GZIP]) {
      const label = `${encoding}${compression === undefined ? '' : ' + gzip'}`;

      it(`decodes every span field exactly (${label})`, async function () {
        const setup = pipeline(new Exporter({ url: receiver.tracesUrl, compression }));
        provider = setup.provider;
        recordCheckoutTrace(setup.provider);
        await setup.provider.forceFlush();
        const recorded = setup.memory.getFinishedSpans();
        assert.equal(recorded.length, 6);

        const received = await receiver.waitForSpans(() => true, { count: recorded.length });
        for (const expected of recorded) {
          const span = received.find((candidate) => candidate.spanId === expected.spanContext().spanId);
          assert.ok(span, `span ${expected.name} not received`);
          assert.deepStrictEqual(comparable(span), expectedFrom(expected), `span ${expected.name}`);
          assert.equal(span.encoding, encoding);
          assert.equal(span.flags & 0xff, 1, 'sampled flag');
          assert.deepStrictEqual(
            Object.fromEntries(
              ['service.name', 'service.version', 'deployment.environment.name'].map((key) => [key, span.resource.attributes[key]]),
            ),
            { 'service.name': 'checkout-api', 'service.version': '1.4.2', 'deployment.environment.name': 'test' },
          );
          assert.deepStrictEqual(span.resource.attributes, expected.resource.attributes);
        }

        const request = receiver.requests[0];
        assert.equal(request.contentType.split(';')[0], contentType);
        assert.equal(request.contentEncoding, compression === undefined ? '' : 'gzip');
        assert.equal(request.status, 200);
        assert.equal(receiver.rejectedCount, 0);
        if (compression !== undefined) assert.notDeepEqual(request.rawBody, request.body);
        // The decoded body is searchable: the trade number is in it, in clear.
        assert.ok(Buffer.from(request.body).includes('T-2026-0001'));
        assert.equal(received[0].raw, request.body);

        const forest = buildTraceTrees(receiver.spans);
        const tree = forest.tree(recorded.find((span) => span.name === 'checkout.pay')!.spanContext().traceId)!;
        const root = tree.get('checkout.pay');
        assert.deepStrictEqual(tree.roots, [root]);
        assert.deepStrictEqual(tree.orphans, []);
        assert.deepStrictEqual(
          tree.children(root).map((node) => node.span.name),
          ['payment.create', 'callback.consume', 'callback.produce'],
        );
        const create = tree.get({ name: 'payment.create', kind: 'CLIENT' });
        assert.deepStrictEqual(tree.children(create).map((node) => `${node.span.name}:${node.span.kindName}`), ['provider.call:SERVER']);
        assert.equal(tree.get('provider.call').span.status.codeName, 'ERROR');
        assert.equal(tree.get('provider.call').depth, 2);
      });
    }

    it(`retries through a failing collector without duplicating spans (${encoding})`, async function () {
      receiver.setResponse({ status: 503, retryAfterSeconds: 0, times: 1 });
      const setup = pipeline(new Exporter({ url: receiver.tracesUrl }));
      provider = setup.provider;
      const span = setup.provider.getTracer('t').startSpan('payment.query');
      span.end();
      await setup.provider.forceFlush();
      const [received] = await receiver.waitForSpans((candidate) => candidate.name === 'payment.query');
      assert.equal(received.spanId, span.spanContext().spanId);
      assert.deepStrictEqual(
        receiver.requests.map((request) => request.status),
        [503, 200],
      );
      assert.equal(receiver.requests[0].spans[0].name, 'payment.query', 'the refused request was still decoded');
      assert.equal(receiver.spans.length, 1, 'spans of the refused request are not counted as received');
    });
  }

  it('waitForSpans times out with a message listing what did arrive', async function () {
    const setup = pipeline(new OTLPJsonTraceExporter({ url: receiver.tracesUrl }));
    provider = setup.provider;
    const tracer = setup.provider.getTracer('t');
    tracer.startSpan('payment.create').end();
    tracer.startSpan('payment.redirect').end();
    await setup.provider.forceFlush();
    await receiver.waitForSpans(() => true, { count: 2 });

    const error: unknown = await receiver
      .waitForSpans('payment.callback', { count: 1, timeoutMs: 100 })
      .then(() => undefined, (reason: unknown) => reason);
    assert.ok(error instanceof SpanWaitTimeoutError, `expected a SpanWaitTimeoutError, got ${String(error)}`);
    assert.match(error.message, /timed out after 100 ms waiting for 1 span\(s\) named "payment\.callback"; 0 matched/, 'names the query');
    assert.match(error.message, /received 2 span\(s\) in 1 request\(s\), 0 rejected/);
    assert.match(error.message, /- payment\.create \[INTERNAL\] trace=[0-9a-f]{32} span=[0-9a-f]{16} root/);
    assert.match(error.message, /- payment\.redirect \[INTERNAL\]/);
  });

  it('waitForSpans resolves once enough matching spans arrive later', async function () {
    const setup = pipeline(new OTLPProtoTraceExporter({ url: receiver.tracesUrl }));
    provider = setup.provider;
    const waiting = receiver.waitForSpans((span) => span.name.startsWith('payment.'), { count: 2, timeoutMs: 10_000 });
    const byQuery = receiver.waitForSpan({ name: 'payment.return', kind: 'INTERNAL' });
    const tracer = setup.provider.getTracer('t');
    tracer.startSpan('payment.create').end();
    tracer.startSpan('unrelated').end();
    await setup.provider.forceFlush();
    tracer.startSpan('payment.return').end();
    await setup.provider.forceFlush();
    const spans = await waiting;
    assert.deepStrictEqual(
      spans.map((span) => span.name),
      ['payment.create', 'payment.return'],
    );
    assert.equal((await byQuery).spanId, spans[1].spanId);
  });
});
