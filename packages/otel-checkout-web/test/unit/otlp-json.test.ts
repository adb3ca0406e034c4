import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeJsonRequest } from '@otel-checkout/test-support';
import { encodeSpan, envelope, utf8Length } from '../../src/export/otlp-json.js';

describe('OTLP/HTTP JSON encoding', () => {
  it('encodes a span so the reference decoder reads back ids, kind, times, attributes, events, links and status', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('t');
    const linked = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 };
    const span = tracer.startSpan('payment.checkout', {
      kind: SpanKind.CLIENT,
      startTime: [1_700_000_000, 5],
      attributes: { s: 'x', i: 42, d: 1.5, b: true, a: ['p', 'q'], n: [1, 2], big: 2 ** 40 },
      links: [{ context: linked, attributes: { 'payment.context.rejected': 'unverified' } }],
    });
    span.addEvent('payment.retry', { 'payment.attempt': 2 }, [1_700_000_000, 999_999_999]);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' });
    span.end([1_700_000_001, 0]);
    const [readable] = exporter.getFinishedSpans();
    const { head, tail } = envelope({ 'service.name': 'shop' }, '@otel-checkout/web', '0.1.0');
    const body = head + encodeSpan(readable) + tail;
    const [decoded] = decodeJsonRequest(new TextEncoder().encode(body), 0);
    assert.ok(decoded);
    assert.equal(decoded.name, 'payment.checkout');
    assert.equal(decoded.kindName, 'CLIENT');
    assert.equal(decoded.traceId, readable.spanContext().traceId);
    assert.equal(decoded.startTimeUnixNano, 1_700_000_000_000_000_005n);
    assert.equal(decoded.endTimeUnixNano, 1_700_000_001_000_000_000n);
    assert.deepEqual(decoded.attributes, { s: 'x', i: 42, d: 1.5, b: true, a: ['p', 'q'], n: [1, 2], big: 2 ** 40 });
    assert.equal(decoded.events[0].timeUnixNano, 1_700_000_000_999_999_999n);
    assert.deepEqual(decoded.events[0].attributes, { 'payment.attempt': 2 });
    assert.equal(decoded.links[0].spanId, linked.spanId);
    assert.deepEqual(decoded.links[0].attributes, { 'payment.context.rejected': 'unverified' });
    assert.deepEqual([decoded.status.codeName, decoded.status.message], ['ERROR', 'declined']);
    assert.equal(decoded.resource.attributes['service.name'], 'shop');
    assert.equal(decoded.scope.name, '@otel-checkout/web');
  });

  it('counts UTF-8 bytes exactly (the keepalive budget is in bytes)', () => {
    for (const text of ['', 'ascii', 'é', '€', '😀', 'a\uD800b', '\uDC00', 'mixed é€😀 text']) {
      assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
    }
  });
});
