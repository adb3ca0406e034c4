import * as assert from 'node:assert/strict';
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { payments } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

describe('payments (server flow API)', () => {
  let session: TracingSession;
  before(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false, release: 'api-2.0' });
  });
  after(() => session.stop());
  beforeEach(() => session.clear());

  it('starts the root of a server-only flow when no context came in, and makes the sampling decision there', async () => {
    const traceId = await context.with(ROOT_CONTEXT, () =>
      payments.create({ tradeNo: 'R-1', provider: 'acme', method: 'card', amount: 999, currency: 'USD', merchantId: 'm-9', orderId: 'o-1' }, (flow) => {
        assert.equal(payments.current(), flow);
        assert.equal(flow.tradeNo, 'R-1');
        return flow.traceId;
      }),
    );
    const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.traceId === traceId);
    assert.equal(create.parentSpanId, '');
    assert.equal(create.kind, 'INTERNAL');
    assert.deepEqual(
      Object.fromEntries(Object.entries(create.attributes).filter(([k]) => k.startsWith('payment.') || k.startsWith('checkout.'))),
      {
        'payment.stage': 'create',
        'payment.trade_no': 'R-1',
        'payment.order.id': 'o-1',
        'payment.provider': 'acme',
        'payment.method': 'card',
        'payment.amount': 999,
        'payment.currency': 'USD',
        'payment.merchant.id': 'm-9',
        'checkout.release': 'api-2.0',
      },
    );
    assert.equal(payments.current(), undefined, 'no flow outside create');
  });

  it('records no amount that is not an integer in minor units, and says so once', async () => {
    const warnings: string[] = [];
    const record = (message: string): void => void warnings.push(message);
    diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const traceIds = await Promise.all(
        [42.5, '42.50', Number.NaN, 2 ** 60].map((amount) =>
          context.with(ROOT_CONTEXT, () => payments.create({ tradeNo: 'R-AMOUNT', amount: amount as number }, (flow) => flow.traceId)),
        ),
      );
      const spans = await session.waitForSpans((s) => s.name === 'payment.create' && traceIds.includes(s.traceId), traceIds.length);
      for (const span of spans) assert.equal(span.attributes['payment.amount'], undefined);
    } finally {
      diag.disable();
    }
    assert.equal(warnings.filter((w) => w.includes('not an integer in minor units')).length, 1, warnings.join('\n'));
  });

  it('keeps an unsampled incoming decision: the flow is not half-recorded', async () => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0, isRemote: true });
    const sampled = await context.with(parent, () => payments.create({ tradeNo: 'R-2' }, (flow) => flow.providerCall('charge', (call) => call.span.isRecording())));
    assert.equal(sampled, false);
  });

  it('nests provider calls under payment.create, records a thrown timeout as failed/timeout and rethrows', async () => {
    const timeout = Object.assign(new Error('provider timed out'), { name: 'TimeoutError' });
    let traceId = '';
    await assert.rejects(
      payments.create({ tradeNo: 'R-3', provider: 'acme' }, async (flow) => {
        traceId = flow.traceId;
        await payments.providerCall('refund', () => Promise.reject(timeout));
      }),
      /provider timed out/,
    );
    const [call] = await session.waitForSpans((s) => s.traceId === traceId && s.name === 'payment.provider refund');
    const [create] = await session.waitForSpans((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.equal(call.parentSpanId, create.spanId);
    assert.equal(call.status, 'ERROR');
    assert.equal(call.attributes['payment.outcome'], 'failed');
    assert.equal(call.attributes['payment.failure.reason'], 'timeout');
    assert.equal(call.attributes['error.type'], 'Error');
    assert.equal(create.status, 'ERROR');
    assert.equal(create.attributes['payment.failure.reason'], 'internal');
  });

  it('recordOutcome wins over the error default and is recorded on payment.create', async () => {
    const traceId = await payments.create({ tradeNo: 'R-4' }, (flow) => {
      payments.recordOutcome('failed', { reason: 'risk_rejected', code: 'R17' });
      return flow.traceId;
    });
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.equal(create.attributes['payment.outcome'], 'failed');
    assert.equal(create.attributes['payment.failure.reason'], 'risk_rejected');
    assert.equal(create.attributes['payment.failure.code'], 'R17');
  });

  it('recordOutcome leaves out an empty or null reason and code', async () => {
    const traceId = await payments.create({ tradeNo: 'R-5' }, (flow) => {
      payments.recordOutcome('failed', { reason: '', code: null as unknown as string });
      return flow.traceId;
    });
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.equal(create.attributes['payment.outcome'], 'failed');
    assert.ok(!('payment.failure.reason' in create.attributes), JSON.stringify(create.attributes));
    assert.ok(!('payment.failure.code' in create.attributes), JSON.stringify(create.attributes));
  });

  it('an outcome none of the registry\'s values (from a call or a status table) is recorded as unknown, counted and said once', async () => {
    const { warnings, restore } = captureWarnings();
    const before = session.handle.health().hookErrors;
    let traceId = '';
    try {
      traceId = await payments.create({ tradeNo: 'R-OUTCOME' }, async (flow) => {
        // A table written with another word for success, and plain JavaScript's recordOutcome.
        await flow.providerCall('charge', (call) => call.status('OK', { OK: 'success' as 'succeeded' }));
        payments.recordOutcome('paid' as 'succeeded');
        return flow.traceId;
      });
    } finally {
      restore();
    }
    const [call] = await session.waitForSpans((s) => s.traceId === traceId && s.name === 'payment.provider charge');
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.equal(call.attributes['payment.outcome'], 'unknown');
    assert.equal(call.attributes['payment.provider.status'], 'OK');
    assert.equal(create.attributes['payment.outcome'], 'unknown');
    assert.equal(session.handle.health().hookErrors, before + 2, 'counted each time');
    const said = warnings.filter((w) => w.includes('is none of succeeded, failed, cancelled, pending, stalled, unknown'));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.match(said[0], /payment outcome "success"/);
  });

  it('carries allow-listed cohort baggage onto payment.create', async () => {
    const baggage = propagation.createBaggage({ 'checkout.canary.cohort': { value: 'stable' }, 'checkout.release': { value: 'web-9' } });
    const traceId = await context.with(propagation.setBaggage(ROOT_CONTEXT, baggage), () => payments.create({}, (flow) => flow.traceId));
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.equal(create.attributes['checkout.canary.cohort'], 'stable');
    assert.equal(create.attributes['checkout.release'], 'web-9');
  });

  it("a provider call carries the flow's trade number, method, release and cohort, so a search by them finds the provider's answer", async () => {
    const baggage = propagation.createBaggage({ 'checkout.canary.cohort': { value: 'canary' } });
    const traceId = await context.with(propagation.setBaggage(ROOT_CONTEXT, baggage), () =>
      payments.create({ provider: 'acme', method: 'card' }, async (flow) => {
        // A trade number known only once the flow started (the shop's order was created in it).
        flow.setTradeNo('R-PROVIDER');
        await flow.providerCall('charge', (call) => call.status('OK', { OK: 'succeeded' }));
        return flow.traceId;
      }),
    );
    const call = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.provider charge');
    assert.equal(call.attributes['payment.trade_no'], 'R-PROVIDER');
    assert.equal(call.attributes['payment.method'], 'card');
    assert.equal(call.attributes['payment.provider'], 'acme');
    assert.equal(call.attributes['checkout.release'], 'api-2.0');
    assert.equal(call.attributes['checkout.canary.cohort'], 'canary');
  });

  it('outside a flow: warns once, counts, and degrades (URLs unchanged, provider call made without a span)', async () => {
    const before = session.handle.health().callsOutsideFlow;
    assert.equal(payments.returnUrl('https://shop.test/return?x=1'), 'https://shop.test/return?x=1');
    assert.equal(payments.notifyUrl('https://shop.test/notify'), 'https://shop.test/notify');
    assert.equal(payments.passback(), '');
    payments.recordOutcome('succeeded');
    const result = await payments.providerCall('charge', (call) => {
      call.status('PAID');
      return call.span.isRecording();
    });
    assert.equal(result, false);
    assert.equal(session.handle.health().callsOutsideFlow, before + 5);
    await session.handle.flush();
    assert.equal(session.spans().filter((s) => s.name.startsWith('payment.provider')).length, 0);
  });

  it('a provider call injects the call context into outgoing headers', async () => {
    const headers: Record<string, string> = await payments.create({}, (flow) => flow.providerCall('charge', (call) => ({ ...call.inject<Record<string, string>>({ accept: 'application/json' }), spanId: call.span.spanContext().spanId, traceId: flow.traceId })));
    assert.equal(headers.accept, 'application/json');
    assert.equal(headers.traceparent, `00-${headers.traceId}-${headers.spanId}-01`);
  });
});
