import assert from 'node:assert/strict';
import { createTraceState, ProxyTracerProvider, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Link } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_PAYMENT_TRADE_NO } from '@otel-checkout/semantic-conventions';
import { HEALTH_HOOK_ERRORS, HEALTH_REDACTIONS } from '../../src/health-names.js';
import { HealthCounters } from '../../src/health.js';
import {
  createRedactionSpanProcessor,
  hasRedactionProcessor,
  isRedactionProcessor,
  RedactionSpanProcessor,
  redactionProcessorHasSeenSpans,
} from '../../src/redaction/redaction-span-processor.js';

const VISA = '4111111111111111';
const VISA_SPACED = '4111 1111 1111 1111';
const MASKED_VISA = '************1111';
/** A trade number that passes the Luhn check with a UnionPay prefix: a card by its looks. */
const LUHN_TRADE_NO = '6202411200000000';

function setup(order: 'redaction-first' | 'redaction-last', health = new HealthCounters(), onRedaction?: (n: number) => void) {
  const exporter = new InMemorySpanExporter();
  const redaction = createRedactionSpanProcessor(onRedaction ? { onRedaction } : {}, health);
  const exporting = new SimpleSpanProcessor(exporter);
  const spanProcessors: SpanProcessor[] = order === 'redaction-first' ? [redaction, exporting] : [exporting, redaction];
  const provider = new BasicTracerProvider({ spanProcessors });
  return { exporter, provider, health, tracer: provider.getTracer('redaction-test') };
}

/** Everything of an exported span that goes on the wire and can carry user data. */
function wireText(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    status: span.status,
    attributes: span.attributes,
    events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })),
    links: span.links.map((l) => ({ attributes: l.attributes })),
  });
}

describe('RedactionSpanProcessor', () => {
  for (const order of ['redaction-first', 'redaction-last'] as const) {
    it(`keeps card numbers and secrets from the exporter (${order})`, async () => {
      const { exporter, provider, health, tracer } = setup(order);
      const linked = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
      const startLink: Link = { context: linked, attributes: { note: `from ${VISA}`, token: 'abc' } };
      const span = tracer.startSpan(`charge ${VISA}`, {
        attributes: { [ATTR_PAYMENT_TRADE_NO]: LUHN_TRADE_NO, 'app.card': VISA_SPACED },
        links: [startLink],
      });
      span.setAttribute('url.full', `https://shop.example/pay/return?trade_no=${LUHN_TRADE_NO}&otc_flow=AQAAAQ&sign=zz`);
      span.setAttribute('http.request.header.authorization', ['Bearer eyJhbGciOi']);
      span.setAttribute('app.echo', LUHN_TRADE_NO);
      span.setAttribute('payment.amount', 129.9);
      span.addEvent(`card ${VISA} entered`, { 'app.field': `value ${VISA}` });
      span.recordException(new Error(`card ${VISA} declined`));
      span.addLink({ context: linked, attributes: { 'app.why': `retry of ${VISA}` } });
      span.setStatus({ code: SpanStatusCode.ERROR, message: `declined ${VISA}` });
      span.updateName(`charge ${VISA} (renamed)`);
      span.end();
      await provider.forceFlush();

      const [exported] = exporter.getFinishedSpans();
      assert.ok(exported);
      const text = wireText(exported);
      assert.ok(!text.includes(VISA) && !text.includes(VISA_SPACED), text);
      assert.ok(!text.includes('AQAAAQ') && !text.includes('eyJhbGciOi') && !text.includes('"abc"'), text);
      assert.equal(exported.name, `charge ${MASKED_VISA} (renamed)`);
      assert.deepEqual(exported.status, { code: SpanStatusCode.ERROR, message: `declined ${MASKED_VISA}` });
      assert.equal(exported.attributes[ATTR_PAYMENT_TRADE_NO], LUHN_TRADE_NO, 'the trade number stays searchable');
      assert.equal(exported.attributes['app.echo'], '************0000', 'the same digits elsewhere are masked');
      assert.equal(exported.attributes['app.card'], MASKED_VISA);
      assert.equal(
        exported.attributes['url.full'],
        `https://shop.example/pay/return?trade_no=${LUHN_TRADE_NO.replace(/^\d{12}/, '************')}&otc_flow=REDACTED&sign=REDACTED`,
      );
      assert.deepEqual(exported.attributes['http.request.header.authorization'], ['[REDACTED]']);
      assert.equal(exported.attributes['payment.amount'], 129.9);
      const [entered, exception] = exported.events;
      assert.equal(entered?.name, `card ${MASKED_VISA} entered`);
      assert.deepEqual(entered?.attributes, { 'app.field': `value ${MASKED_VISA}` });
      assert.equal(exception?.name, 'exception');
      assert.equal(exception?.attributes?.['exception.message'], `card ${MASKED_VISA} declined`);
      assert.match(String(exception?.attributes?.['exception.stacktrace']), new RegExp(`^Error: card \\*{12}1111 declined\\n\\s+at `));
      assert.deepEqual(exported.links[0]?.attributes, { note: `from ${MASKED_VISA}`, token: '[REDACTED]' });
      assert.deepEqual(exported.links[1]?.attributes, { 'app.why': `retry of ${MASKED_VISA}` });
      assert.equal(health.get(HEALTH_REDACTIONS), 15);
      await provider.shutdown();
    });
  }

  it('changes nothing and counts nothing for an ordinary payment span', async () => {
    const { exporter, provider, health, tracer } = setup('redaction-first');
    const attributes = {
      [ATTR_PAYMENT_TRADE_NO]: 'T2026112200001',
      'payment.stage': 'create',
      'payment.amount': 129.9,
      'http.response.status_code': 200,
      'url.full': 'https://shop.example/api/pay?lang=en',
      'app.started_at': 1732000000007,
      'app.flag': true,
    };
    tracer.startSpan('payment.create', { attributes }).end();
    await provider.forceFlush();
    assert.deepEqual(exporter.getFinishedSpans()[0]?.attributes, attributes);
    assert.equal(exporter.getFinishedSpans()[0]?.name, 'payment.create');
    assert.equal(health.get(HEALTH_REDACTIONS), 0);
    await provider.shutdown();
  });

  it("drops the trace state members that hold secrets, of the span and of its links: an application's own propagator keeps them", async () => {
    const { exporter, provider, health, tracer } = setup('redaction-first');
    const traceState = createTraceState(`congo=t61rcWkgMzE,vendor=${VISA},acme=authorization:Bearer-x,rojo=00f067aa0ba902b7`);
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true, traceState });
    const link: Link = { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, traceState } };
    tracer.startSpan('payment.callback', { links: [link] }, parent).end();
    tracer.startSpan('clean', {}, trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, traceState: createTraceState('congo=t61rcWkgMzE') })).end();
    await provider.forceFlush();
    const [withSecrets, clean] = exporter.getFinishedSpans();
    assert.equal(withSecrets?.spanContext().traceState?.serialize(), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    assert.equal(withSecrets?.links[0]?.context.traceState?.serialize(), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    assert.equal(health.get(HEALTH_REDACTIONS), 4, 'two members, twice');
    assert.equal(clean?.spanContext().traceState?.serialize(), 'congo=t61rcWkgMzE');
    assert.equal(traceState.serialize(), `congo=t61rcWkgMzE,vendor=${VISA},acme=authorization:Bearer-x,rojo=00f067aa0ba902b7`, 'the caller\'s trace state is not changed');
    await provider.shutdown();
  });

  it('reports each redacted span to onRedaction and survives a hook that throws', async () => {
    const counts: number[] = [];
    const { provider, tracer } = setup('redaction-first', new HealthCounters(), (n) => counts.push(n));
    tracer.startSpan('a', { attributes: { cvv: '123', pan: VISA } }).end();
    tracer.startSpan('b').end();
    assert.deepEqual(counts, [2]);
    await provider.shutdown();

    const health = new HealthCounters();
    const throwing = setup('redaction-first', health, () => {
      throw new Error('hook bug');
    });
    assert.doesNotThrow(() => throwing.tracer.startSpan('c', { attributes: { cvv: '123' } }).end());
    await throwing.provider.forceFlush();
    assert.equal(throwing.exporter.getFinishedSpans()[0]?.attributes.cvv, '[REDACTED]');
    assert.equal(health.get(HEALTH_HOOK_ERRORS), 1);
    assert.equal(health.get(HEALTH_REDACTIONS), 1);
    await throwing.provider.shutdown();
  });

  it('an async onRedaction that rejects is counted as a hook error, never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const health = new HealthCounters();
    let rejected!: () => void;
    const settled = new Promise<void>((resolve) => (rejected = resolve));
    // What an `async` hook that throws returns, given where a plain function is typed.
    const asyncHook = ((): Promise<never> => {
      rejected();
      return Promise.reject(new Error('async hook bug'));
    }) as unknown as (n: number) => void;
    const rejecting = setup('redaction-first', health, asyncHook);
    try {
      rejecting.tracer.startSpan('d', { attributes: { cvv: '123' } }).end();
      await settled;
      // A turn for the rejection handler, then one for Node to report an unhandled rejection.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
      assert.equal(health.get(HEALTH_HOOK_ERRORS), 1);
      assert.equal(health.get(HEALTH_REDACTIONS), 1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rejecting.provider.shutdown();
    }
  });

  it('applies configured rules', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [
        createRedactionSpanProcessor({ sensitiveKeys: ['bank_account'], sensitiveQueryParameters: ['ref'] }, new HealthCounters()),
        new SimpleSpanProcessor(exporter),
      ],
    });
    provider
      .getTracer('t')
      .startSpan('x', { attributes: { 'customer.bank_account': 'DE89370400440532013000', 'url.full': 'https://h/r?ref=9&a=1' } })
      .end();
    await provider.forceFlush();
    assert.deepEqual(exporter.getFinishedSpans()[0]?.attributes, {
      'customer.bank_account': '[REDACTED]',
      'url.full': 'https://h/r?ref=REDACTED&a=1',
    });
    await provider.shutdown();
  });

  it('redacts in onEnd when the SDK never calls onEnding', () => {
    const processor = new RedactionSpanProcessor({}, new HealthCounters());
    const span = { name: `x ${VISA}`, attributes: { cvv: 1 }, events: [], links: [], status: { code: 0 } };
    processor.onEnd(span as unknown as ReadableSpan);
    assert.deepEqual(span.attributes, { cvv: '[REDACTED]' });
    assert.equal(span.name, `x ${MASKED_VISA}`);
  });

  it('counts into the running handle when no counters are given', async () => {
    // Without explicit counters the processor reports to the runtime's counters; it must not throw either way.
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [createRedactionSpanProcessor(), new SimpleSpanProcessor(exporter)] });
    provider.getTracer('t').startSpan('x', { attributes: { password: 'p' } }).end();
    await provider.forceFlush();
    assert.equal(exporter.getFinishedSpans()[0]?.attributes.password, '[REDACTED]');
    assert.equal(redactionProcessorHasSeenSpans(), true);
    await provider.shutdown();
  });

  describe('values the attribute length limit cut', () => {
    const LIMIT = 24;
    /** `text` then the card, cut by the SDK at LIMIT: the card loses its last digits and every check. */
    const cutCard = (text: string): string => `${text}${VISA}`;

    function limitedSetup(options: Parameters<typeof createRedactionSpanProcessor>[0] = {}) {
      const exporter = new InMemorySpanExporter();
      const health = new HealthCounters();
      const provider = new BasicTracerProvider({
        spanLimits: { attributeValueLengthLimit: LIMIT },
        spanProcessors: [createRedactionSpanProcessor(options, health), new SimpleSpanProcessor(exporter)],
      });
      return { exporter, health, provider, tracer: provider.getTracer('cut-test') };
    }

    it('masks a card cut at the end of span, event and link attributes and string arrays', async () => {
      const { exporter, health, provider, tracer } = limitedSetup();
      const linked = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
      const span = tracer.startSpan('charge', { links: [{ context: linked, attributes: { 'app.from': cutCard('linked from card ') } }] });
      span.setAttribute('app.note', cutCard('charged the card '));
      span.setAttribute('app.cards', [cutCard('first card was '), 'short 4111']);
      span.setAttribute('url.full', `https://b.io/c/${VISA}/x`);
      span.recordException(new Error(cutCard('refused card ')));
      span.end();
      const [exported] = exporter.getFinishedSpans();
      assert.ok(exported);
      // The SDK cut every value here before the processor saw it.
      assert.equal(exported.attributes['app.note'], 'charged the card *******');
      assert.deepEqual(exported.attributes['app.cards'], ['first card was *********', 'short 4111']);
      assert.equal(exported.attributes['url.full'], 'https://b.io/c/*********');
      assert.equal(exported.events[0]?.attributes?.['exception.message'], 'refused card ***********');
      assert.equal(exported.links[0]?.attributes?.['app.from'], 'linked from card *******');
      assert.doesNotMatch(wireText(exported), /\d{7}/, 'no run of seven digits is left anywhere');
      assert.equal(health.get(HEALTH_REDACTIONS), 5);
      await provider.shutdown();
    });

    it('leaves values shorter than the limit, exempt identifiers and spans without a limit alone', async () => {
      const { exporter, provider, tracer } = limitedSetup();
      const span = tracer.startSpan('charge');
      span.setAttribute('app.short', 'order 20261203123456');
      span.setAttribute(ATTR_PAYMENT_TRADE_NO, `T${'2'.repeat(LIMIT + 5)}`);
      span.end();
      const unlimited = setup('redaction-first');
      const whole = unlimited.tracer.startSpan('charge');
      whole.setAttribute('app.note', `order ${'3'.repeat(40)}`);
      whole.end();
      assert.deepEqual(exporter.getFinishedSpans()[0]?.attributes, {
        'app.short': 'order 20261203123456',
        [ATTR_PAYMENT_TRADE_NO]: `T${'2'.repeat(LIMIT - 1)}`,
      });
      assert.equal(unlimited.exporter.getFinishedSpans()[0]?.attributes['app.note'], `order ${'3'.repeat(40)}`);
      await provider.shutdown();
      await unlimited.provider.shutdown();
    });

    it('follows cardNumbers: false and configured exempt keys', async () => {
      const off = limitedSetup({ cardNumbers: false });
      off.tracer.startSpan('a', { attributes: { 'app.note': cutCard('charged the card ') } }).end();
      const exempt = limitedSetup({ exemptKeys: ['shop.reference'] });
      exempt.tracer.startSpan('b', { attributes: { 'shop.reference': cutCard('charged the card ') } }).end();
      assert.equal(off.exporter.getFinishedSpans()[0]?.attributes['app.note'], 'charged the card 4111111');
      assert.equal(exempt.exporter.getFinishedSpans()[0]?.attributes['shop.reference'], 'charged the card 4111111');
      await off.provider.shutdown();
      await exempt.provider.shutdown();
    });
  });

  describe('detection in an application SDK', () => {
    it('recognises the processor by its marker, also across package copies', () => {
      assert.equal(isRedactionProcessor(createRedactionSpanProcessor()), true);
      assert.equal(isRedactionProcessor({ [Symbol.for('@otel-checkout/node.RedactionSpanProcessor')]: true }), true);
      assert.equal(isRedactionProcessor(new SimpleSpanProcessor(new InMemorySpanExporter())), false);
      assert.equal(isRedactionProcessor(undefined), false);
      assert.equal(isRedactionProcessor('processor'), false);
    });

    it('finds it in a provider, behind the global proxy too', async () => {
      const withIt = new BasicTracerProvider({
        spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter()), createRedactionSpanProcessor()],
      });
      const withoutIt = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
      assert.equal(hasRedactionProcessor(withIt), true);
      assert.equal(hasRedactionProcessor(withoutIt), false);
      assert.equal(hasRedactionProcessor(new BasicTracerProvider()), false);
      const proxy = new ProxyTracerProvider();
      proxy.setDelegate(withIt);
      assert.equal(hasRedactionProcessor(proxy), true);
      assert.equal(hasRedactionProcessor(new ProxyTracerProvider()), undefined, 'the no-op provider cannot be looked into');
      assert.equal(hasRedactionProcessor({ getTracer: () => undefined }), undefined);
      await withIt.shutdown();
      await withoutIt.shutdown();
    });
  });
});
