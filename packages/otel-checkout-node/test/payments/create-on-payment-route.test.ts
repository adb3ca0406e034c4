import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import express from 'express';
import { expressPayments, httpPayments, payments } from '../../src/index.js';
import type { PaymentExtractor } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const extract: PaymentExtractor = (request) => {
  const body = request.json();
  return { tradeNo: body?.tradeNo as string, provider: 'acme', method: 'card', amount: 1999, currency: 'EUR' };
};

const paymentKeys = (attributes: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(attributes).filter(([key]) => key.startsWith('payment.') && key !== 'payment.stage'));

describe('payments.create on a payment route starts from what the route extracted', () => {
  let session: TracingSession;
  before(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false });
  });
  after(() => session.stop());
  beforeEach(() => session.clear());

  it('Express: details not given to create are the extracted ones, and the flow knows its trade number', async () => {
    const app = express();
    app.use(express.json());
    app.post('/pay', expressPayments({ extract }), (_req, res, next) => {
      payments
        .create({}, (flow) => ({ traceId: flow.traceId, tradeNo: flow.tradeNo }))
        .then((result) => res.json(result), next);
    });
    const server = await listenOnLoopback(createServer(app));
    try {
      const response = await fetch(`${server.url}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tradeNo: 'EXT-1' }) });
      const { traceId, tradeNo } = (await response.json()) as { traceId: string; tradeNo: string };
      assert.equal(tradeNo, 'EXT-1');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.deepEqual(paymentKeys(create.attributes), {
        'payment.trade_no': 'EXT-1',
        'payment.provider': 'acme',
        'payment.method': 'card',
        'payment.amount': 1999,
        'payment.currency': 'EUR',
      });
    } finally {
      await server.close();
    }
  });

  it('node:http: details given to create win over the extracted ones, field by field', async () => {
    const handler = httpPayments(
      async (_req, res) => {
        const result = await payments.create({ provider: 'other-psp', orderId: 'o-7' }, (flow) => ({ traceId: flow.traceId, tradeNo: flow.tradeNo }));
        res.end(JSON.stringify(result));
      },
      { extract: () => ({ tradeNo: 'EXT-2', provider: 'acme', method: 'wallet' }) },
    );
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const { traceId, tradeNo } = (await (await fetch(`${server.url}/pay`, { method: 'POST' })).json()) as { traceId: string; tradeNo: string };
      assert.equal(tradeNo, 'EXT-2');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.deepEqual(paymentKeys(create.attributes), {
        'payment.trade_no': 'EXT-2',
        'payment.order.id': 'o-7',
        'payment.provider': 'other-psp',
        'payment.method': 'wallet',
      });
      // The server span keeps what the route extracted, plus what create was given.
      const serverSpan = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
      assert.equal(serverSpan.attributes['payment.trade_no'], 'EXT-2');
      assert.equal(serverSpan.attributes['payment.order.id'], 'o-7');
    } finally {
      await server.close();
    }
  });

  it('a trade number the extractor read as a JSON number is the flow\'s as text; one that is no safe integer is left out and said once', async () => {
    const { warnings, restore } = captureWarnings();
    const handler = httpPayments(
      async (_req, res) => {
        const result = await payments.create({}, (flow) => ({ traceId: flow.traceId, tradeNo: flow.tradeNo ?? null }));
        res.end(JSON.stringify(result));
      },
      { extract: (request) => ({ tradeNo: Number(request.headers['x-trade-no']) }) },
    );
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const send = async (tradeNo: string): Promise<{ traceId: string; tradeNo: string | null }> =>
        (await (await fetch(`${server.url}/pay`, { method: 'POST', headers: { 'x-trade-no': tradeNo } })).json()) as { traceId: string; tradeNo: string | null };
      const whole = await send('20261205001');
      assert.equal(whole.tradeNo, '20261205001');
      const create = await session.waitForSpan((s) => s.traceId === whole.traceId && s.name === 'payment.create');
      assert.equal(create.attributes['payment.trade_no'], '20261205001');
      for (const unusable of ['12.5', '2026120500100000001']) {
        const result = await send(unusable);
        assert.equal(result.tradeNo, null);
        const span = await session.waitForSpan((s) => s.traceId === result.traceId && s.name === 'payment.create');
        assert.equal(span.attributes['payment.trade_no'], undefined);
      }
    } finally {
      await server.close();
      restore();
    }
    const said = warnings.filter((w) => w.includes('payment tradeNo is a number that is not a safe integer'));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.ok(!said[0].includes('2026120500100000001') && !said[0].includes('12.5'), 'the value itself is not logged');
  });

  it('an extractor that found nothing (or threw) leaves create with its own details', async () => {
    const handler = httpPayments(
      async (_req, res) => {
        const result = await payments.create({ tradeNo: 'OWN-1' }, (flow) => ({ traceId: flow.traceId, tradeNo: flow.tradeNo }));
        res.end(JSON.stringify(result));
      },
      {
        extract: () => {
          throw new Error('no body');
        },
      },
    );
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const { traceId, tradeNo } = (await (await fetch(`${server.url}/pay`, { method: 'POST' })).json()) as { traceId: string; tradeNo: string };
      assert.equal(tradeNo, 'OWN-1');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.deepEqual(paymentKeys(create.attributes), { 'payment.trade_no': 'OWN-1' });
    } finally {
      await server.close();
    }
  });
});
