import assert from 'node:assert/strict';
import fc from 'fast-check';
import { context, createContextKey, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, AttributeValue, Context, HrTime, Span, SpanContext } from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Sampler, SpanLimits, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { lightServerSpanStarter } from '../../src/spans/server-span-starter.js';

/** A provider with small limits (so every limit is reached) whose spans land in memory. */
function pipeline(limits: SpanLimits = {}, sampler?: Sampler, extra: SpanProcessor[] = []) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'light-span-test' }),
    spanLimits: limits,
    ...(sampler ? { sampler } : {}),
    spanProcessors: [...extra, new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@otel-checkout/node', '0.1.0');
  const starter = lightServerSpanStarter(tracer);
  assert.ok(starter, 'the SDK tracer this package depends on has the shape the light span reads');
  return { exporter, tracer, starter };
}

const LIMITS: SpanLimits = {
  attributeCountLimit: 4,
  attributeValueLengthLimit: 6,
  eventCountLimit: 3,
  linkCountLimit: 2,
  attributePerEventCountLimit: 2,
  attributePerLinkCountLimit: 1,
};

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'url.full', '');
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }), // mixed: not an attribute value
  fc.constantFrom(null, undefined),
  fc.constant({ nested: true }), // not an attribute value
);
const attrs = fc.dictionary(key, value, { maxKeys: 5 }) as fc.Arbitrary<Attributes>;
const hrTime: fc.Arbitrary<HrTime> = fc.tuple(fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), fc.integer({ min: 0, max: 999_999_999 }));
const linkContext: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

type Operation = (span: Span) => void;
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.tuple(key, value).map(([k, v]): Operation => (span) => span.setAttribute(k, v as AttributeValue)),
  attrs.map((a): Operation => (span) => span.setAttributes(a)),
  fc.tuple(fc.string({ maxLength: 6 }), fc.option(attrs, { nil: undefined }), hrTime).map(([name, a, time]): Operation => (span) => span.addEvent(name, a, time)),
  fc.tuple(fc.string({ maxLength: 6 }), hrTime).map(([name, time]): Operation => (span) => span.addEvent(name, time)),
  fc.option(attrs, { nil: undefined }).map((a): Operation => (span) => span.addLink(a ? { context: linkContext, attributes: a } : { context: linkContext })),
  fc
    .tuple(fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR), fc.option(fc.string({ maxLength: 6 }), { nil: undefined }))
    .map(([code, message]): Operation => (span) => span.setStatus(message === undefined ? { code } : { code, message })),
  fc.string({ maxLength: 8 }).map((name): Operation => (span) => span.updateName(name)),
  fc
    .tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.constant(undefined)), fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), hrTime)
    .map(([message, code, time]): Operation => (span) => {
      const error = new Error(message) as Error & { code?: string };
      if (code !== undefined) error.code = code;
      span.recordException(error, time);
    }),
  hrTime.map((time): Operation => (span) => span.recordException(`plain ${time[0]}`, time)),
);

/** What an exporter sees of a span, without what differs by design between two spans (ids, times of the span itself). */
function visible(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    traceFlags: span.spanContext().traceFlags,
    parent: span.parentSpanContext?.spanId,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    status: span.status,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
    ended: span.ended,
  };
}

describe('light server span', () => {
  it('shows an exporter what the SDK span shows after any sequence of operations, limits reached', () => {
    const { exporter, tracer, starter } = pipeline(LIMITS);
    const parent = trace.setSpanContext(ROOT_CONTEXT, { ...linkContext, isRemote: true });
    fc.assert(
      fc.property(attrs, fc.array(operation, { maxLength: 14 }), fc.array(operation, { maxLength: 2 }), (start, operations, afterEnd) => {
        exporter.reset();
        const sdk = tracer.startSpan('POST', { kind: SpanKind.SERVER, attributes: { ...start } }, parent);
        const light = starter('POST', { ...start }, parent);
        for (const span of [sdk, light]) {
          for (const apply of operations) apply(span);
          span.end();
          // Changes after the end are ignored by both.
          for (const apply of afterEnd) apply(span);
        }
        const [fromSdk, fromLight] = exporter.getFinishedSpans();
        assert.deepEqual(visible(fromLight), visible(fromSdk));
        assert.equal(fromLight.spanContext().traceId, fromSdk.spanContext().traceId, 'same trace as the parent');
      }),
      { numRuns: 300 },
    );
  });

  it('keeps wall-clock start, monotonic duration and explicit end times as the SDK reads them', () => {
    const { exporter, starter } = pipeline();
    const before = Date.now();
    const span = starter('GET', {}, ROOT_CONTEXT);
    span.end();
    const explicit = starter('GET', {}, ROOT_CONTEXT);
    explicit.end([1_800_000_000, 5]);
    const [ended, endedAt] = exporter.getFinishedSpans();
    const startMillis = ended.startTime[0] * 1000 + ended.startTime[1] / 1e6;
    assert.ok(startMillis >= before && startMillis <= Date.now(), 'started at the wall-clock time');
    assert.ok(ended.duration[0] === 0 && ended.duration[1] >= 0, 'a short, non-negative duration');
    assert.deepEqual(endedAt.endTime, [1_800_000_000, 5]);
  });

  it('makes a new trace without a parent, and nothing under suppressed tracing', () => {
    const { exporter, starter } = pipeline();
    const root = starter('GET', {}, ROOT_CONTEXT);
    assert.ok(root.isRecording());
    assert.equal(root.spanContext().traceFlags, TraceFlags.SAMPLED);
    root.end();
    assert.equal(exporter.getFinishedSpans()[0].parentSpanContext, undefined);
    const suppressed = starter('GET', {}, suppressTracing(ROOT_CONTEXT));
    assert.equal(suppressed.isRecording(), false);
    suppressed.end();
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  it("follows the sampler: dropped, recorded without sampling, and the sampler's attributes and trace state", () => {
    const dropped = pipeline({}, new AlwaysOffSampler());
    const off = dropped.starter('GET', {}, ROOT_CONTEXT);
    assert.equal(off.isRecording(), false);
    assert.equal(off.spanContext().traceFlags, TraceFlags.NONE);
    const recordOnly: Sampler = {
      shouldSample: () => ({ decision: SamplingDecision.RECORD, attributes: { 'sampler.rule': 'r1' }, traceState: new TraceState('vendor=1') }),
      toString: () => 'record only',
    };
    const recorded = pipeline({}, recordOnly, []);
    const span = recorded.starter('GET', { 'http.request.method': 'GET' }, ROOT_CONTEXT);
    assert.ok(span.isRecording());
    assert.equal(span.spanContext().traceFlags, TraceFlags.NONE);
    assert.equal(span.spanContext().traceState?.serialize(), 'vendor=1');
    span.end();
    // SimpleSpanProcessor exports sampled spans only, as the SDK's processors do.
    assert.equal(recorded.exporter.getFinishedSpans().length, 0);
    assert.deepEqual((span as unknown as ReadableSpan).attributes, { 'http.request.method': 'GET', 'sampler.rule': 'r1' });
  });

  it('calls every processor: onStart with the parent context, onEnding while still writable, then onEnd', () => {
    const calls: string[] = [];
    const key = createContextKey('request');
    const processor: SpanProcessor = {
      onStart: (_span, parentContext: Context) => calls.push(`start ${String(parentContext.getValue(key))}`),
      onEnding: (span) => {
        (span as unknown as Span).setAttribute('added.on_ending', true);
        calls.push('ending');
      },
      onEnd: (span) => calls.push(`end ${String(span.attributes['added.on_ending'])}`),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const { starter } = pipeline({}, undefined, [processor]);
    const span = starter('GET', {}, ROOT_CONTEXT.setValue(key, 'r-1'));
    span.end();
    assert.deepEqual(calls, ['start r-1', 'ending', 'end true']);
  });

  it('is a span of the API: the parent of spans the SDK makes in its context', () => {
    const { exporter, tracer, starter } = pipeline();
    const server = starter('POST', {}, ROOT_CONTEXT);
    tracer.startSpan('payment.create', {}, trace.setSpan(ROOT_CONTEXT, server)).end();
    server.end();
    const [child, parent] = exporter.getFinishedSpans();
    assert.equal(child.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(child.spanContext().traceId, parent.spanContext().traceId);
  });

  it('is not used with a tracer of another shape: the caller falls back to tracer.startSpan', async () => {
    assert.equal(lightServerSpanStarter(trace.getTracer('no provider registered')), undefined);
    const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())], instrumentations: [] });
    // The NodeSDK's tracer is the same SDK tracer: a starter is made for it once started.
    sdk.start();
    try {
      assert.ok(lightServerSpanStarter(trace.getTracer('@otel-checkout/node')));
    } finally {
      // Leave no global behind: the next test's start registers its own provider and propagators.
      await sdk.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    }
  });
});
