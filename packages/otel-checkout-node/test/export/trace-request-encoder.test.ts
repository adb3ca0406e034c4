import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { decodeProtobufRequest } from '@otel-checkout/test-support';
import { encodeTraceRequest } from '../../src/export/trace-request-encoder.js';

// The reference: OpenTelemetry's serializer. The package's encoder must write the same bytes.
const reference = (spans: ReadableSpan[]): Buffer => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
const ours = (spans: ReadableSpan[]): Buffer => Buffer.from(encodeTraceRequest(spans));

const hex = (bytes: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((array) => Buffer.from(array).toString('hex'));

// Strings of every width of UTF-8 (1-4 bytes), short and past the one-byte length (128).
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ minLength: 120, maxLength: 400 }),
);
const scalar = fc.oneof(
  text,
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((n) => n * 2 ** 22), // beyond 32 bits, both signs
  fc.constantFrom(0, -1, 2 ** 32, 2 ** 53, -(2 ** 53), 2 ** 62, -(2 ** 63), 2 ** 63, Number.MAX_SAFE_INTEGER),
  fc.double(),
);
const attributeValue = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(fc.oneof(scalar, fc.constant(null), fc.constant(undefined)), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
);
const attributes = fc.dictionary(text, attributeValue, { maxKeys: 14 }) as fc.Arbitrary<Attributes>;
const hrTime: fc.Arbitrary<HrTime> = fc.tuple(fc.integer({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 999_999_999 }));
const traceState = fc.option(
  fc.constantFrom('vendor=value', 'a=1,b=2', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE').map((value) => new TraceState(value)),
  { nil: undefined },
);
const spanContext: fc.Arbitrary<SpanContext> = fc.record({
  traceId: hex(16),
  spanId: hex(8),
  traceFlags: fc.constantFrom(TraceFlags.NONE, TraceFlags.SAMPLED, 0xff),
  isRemote: fc.option(fc.boolean(), { nil: undefined }),
  traceState,
});
const event: fc.Arbitrary<TimedEvent> = fc.record({
  name: text,
  time: hrTime,
  attributes: fc.option(attributes, { nil: undefined }),
  droppedAttributesCount: fc.option(fc.nat(1000), { nil: undefined }),
});
const link: fc.Arbitrary<Link> = fc.record({
  context: spanContext,
  attributes: fc.option(attributes, { nil: undefined }),
  droppedAttributesCount: fc.option(fc.nat(1000), { nil: undefined }),
});
const resources = [
  resourceFromAttributes({ 'service.name': 'checkout-api', 'service.version': '1.4.2', 'deployment.environment.name': 'prod' }),
  resourceFromAttributes({ 'service.name': 'payment-gateway' }),
];
const scopes = [
  { name: '@otel-checkout/node', version: '0.1.0', schemaUrl: undefined },
  { name: 'manual', version: undefined, schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
];

const span: fc.Arbitrary<ReadableSpan> = fc
  .record({
    context: spanContext,
    parent: fc.option(spanContext, { nil: undefined }),
    name: text,
    kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
    startTime: hrTime,
    endTime: hrTime,
    attributes,
    events: fc.array(event, { maxLength: 3 }),
    links: fc.array(link, { maxLength: 2 }),
    status: fc.record({
      code: fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR),
      message: fc.option(text, { nil: undefined }),
    }),
    dropped: fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300)),
    resource: fc.nat(resources.length - 1),
    scope: fc.nat(scopes.length - 1),
  })
  .map((s) => readableSpan(s));

function readableSpan(s: {
  context: SpanContext;
  parent: SpanContext | undefined;
  name: string;
  kind: SpanKind;
  startTime: HrTime;
  endTime: HrTime;
  attributes: Attributes;
  events: TimedEvent[];
  links: Link[];
  status: { code: SpanStatusCode; message?: string };
  dropped: [number, number, number];
  resource: number;
  scope: number;
}): ReadableSpan {
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => s.context,
    parentSpanContext: s.parent,
    startTime: s.startTime,
    endTime: s.endTime,
    status: s.status,
    attributes: s.attributes,
    links: s.links,
    events: s.events,
    duration: [0, 0],
    ended: true,
    resource: resources[s.resource],
    instrumentationScope: scopes[s.scope],
    droppedAttributesCount: s.dropped[0],
    droppedEventsCount: s.dropped[1],
    droppedLinksCount: s.dropped[2],
  };
}

/** A payment server span as the middleware records it. */
function paymentSpan(overrides: Partial<{ attributes: Attributes; name: string }> = {}): ReadableSpan {
  return readableSpan({
    context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED },
    parent: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a3ce929d0e0e4736', traceFlags: TraceFlags.SAMPLED, isRemote: true },
    name: overrides.name ?? 'POST /pay',
    kind: SpanKind.SERVER,
    startTime: [1_764_400_000, 123_456_789],
    endTime: [1_764_400_000, 987_654_321],
    attributes: overrides.attributes ?? {
      'payment.trade_no': '2026112200012345',
      'payment.amount': 128.5,
      'http.response.status_code': 200,
      'checkout.canary': false,
    },
    events: [],
    links: [],
    status: { code: SpanStatusCode.UNSET },
    dropped: [0, 0, 0],
    resource: 0,
    scope: 0,
  });
}

describe('OTLP protobuf trace request encoder', () => {
  it('writes the same bytes as the OpenTelemetry serializer for arbitrary spans', () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 12 }), (spans) => {
        assert.deepEqual(ours(spans), reference(spans));
      }),
      { numRuns: 300 },
    );
  });

  it('writes the same bytes for a batch of 512 payment spans (lengths past one and two varint bytes)', () => {
    const spans = Array.from({ length: 512 }, (_, i) => paymentSpan({ attributes: { 'payment.trade_no': `T${i}`, 'payment.amount': i * 1.5 } }));
    const encoded = ours(spans);
    assert.ok(encoded.length > 2 ** 14, 'the scope spans need a three-byte length');
    assert.deepEqual(encoded, reference(spans));
  });

  it('decodes, per the OTLP definitions, to the span it was given', () => {
    const [decoded] = decodeProtobufRequest(ours([paymentSpan()]), 0);
    assert.ok(decoded);
    assert.equal(decoded.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(decoded.spanId, '00f067aa0ba902b7');
    assert.equal(decoded.parentSpanId, 'a3ce929d0e0e4736');
    assert.equal(decoded.name, 'POST /pay');
    assert.equal(decoded.resource.attributes['service.name'], 'checkout-api');
    assert.equal(decoded.kindName, 'SERVER');
    // Sampled, and the parent's remoteness known and true.
    assert.equal(decoded.flags, 0x301);
    assert.deepEqual(decoded.attributes, {
      'payment.trade_no': '2026112200012345',
      'payment.amount': 128.5,
      'http.response.status_code': 200,
      'checkout.canary': false,
    });
    assert.equal(decoded.startTimeUnixNano, 1_764_400_000_123_456_789n);
    assert.equal(decoded.endTimeUnixNano, 1_764_400_000_987_654_321n);
  });

  it('encodes attribute names it has seen before from its cache, and names past the cache limit as well', () => {
    // Many distinct names (beyond the cache's bound) still encode exactly.
    const spans = Array.from({ length: 700 }, (_, i) => paymentSpan({ attributes: { [`app.custom_${i}`]: i, 'payment.trade_no': 'T' } }));
    assert.deepEqual(ours(spans), reference(spans));
    assert.deepEqual(ours(spans), reference(spans));
  });

  it('writes the same bytes for a span past 16 KiB and 2 MiB of lengths, and for lone surrogates', () => {
    const stack = `Error: declined\n${'    at charge (/srv/app/provider.js:10:5)\n'.repeat(3000)}`;
    const big = paymentSpan({ attributes: { 'exception.stacktrace': stack, 'app.note': 'half \ud800 a pair', 'app.blob': 'x'.repeat(3 * 2 ** 20) } });
    const encoded = ours([big]);
    assert.ok(encoded.length > 3 * 2 ** 20);
    assert.deepEqual(encoded, reference([big]));
  });

  it('encodes no spans as an empty request', () => {
    assert.deepEqual(ours([]), reference([]));
    assert.equal(ours([]).length, 0);
  });
});
