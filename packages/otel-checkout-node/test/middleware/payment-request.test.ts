import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { cohortOf } from '@otel-checkout/core';
import { httpPayments, payments } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_NON_JSON_BODIES } from '../../src/health-names.js';
import { paymentRequestOf } from '../../src/middleware/payment-request-view.js';
import { startTracingSession } from '../support/tracing-session.js';

describe('payment request body for extractors', () => {
  const cases: { title: string; view: { body?: unknown; rawBody?: string | Uint8Array }; json: unknown; counted: number }[] = [
    { title: 'a parsed object body', view: { body: { tradeNo: 'A' } }, json: { tradeNo: 'A' }, counted: 0 },
    { title: 'a raw JSON string', view: { rawBody: '{"tradeNo":"B"}' }, json: { tradeNo: 'B' }, counted: 0 },
    { title: 'a raw JSON buffer', view: { rawBody: Buffer.from('{"tradeNo":"C"}') }, json: { tradeNo: 'C' }, counted: 0 },
    { title: 'a byte body (express.raw)', view: { body: Buffer.from('{"tradeNo":"G"}') }, json: { tradeNo: 'G' }, counted: 0 },
    { title: 'a form body', view: { rawBody: 'trade_no=D&sign=abc' }, json: undefined, counted: 1 },
    { title: 'a raw body over 64 KiB', view: { rawBody: `{"pad":"${'x'.repeat(64 * 1024)}"}` }, json: undefined, counted: 1 },
    { title: 'XML', view: { body: '<xml><trade_no>E</trade_no></xml>' }, json: undefined, counted: 1 },
    { title: 'a JSON array', view: { rawBody: '[1,2]' }, json: undefined, counted: 1 },
    { title: 'no body', view: {}, json: undefined, counted: 0 },
  ];
  for (const testCase of cases) {
    it(`${testCase.title} → ${JSON.stringify(testCase.json)}`, () => {
      const health = new HealthCounters();
      const request = paymentRequestOf({ method: 'POST', url: '/pay', headers: {}, ...testCase.view }, health);
      assert.deepEqual(request.json(), testCase.json);
      assert.deepEqual(request.json(), testCase.json, 'parsed once, same answer');
      assert.equal(health.get(HEALTH_NON_JSON_BODIES), testCase.counted);
    });
  }
});

describe('canary cohort from a stable user id', () => {
  it('computes the cohort with cohortOf, records it and forwards it as baggage', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false, cohort: { salt: 'rollout-7', percent: 50 }, release: 'api-3' });
    const seen: string[] = [];
    const handler = httpPayments(
      async (_req, res) => {
        const traceId = await payments.create({}, (flow) => flow.traceId);
        const headers = await payments.create({}, (flow) => flow.providerCall('x', (call) => call.inject<Record<string, string>>()));
        seen.push(headers.baggage ?? '');
        res.end(traceId);
      },
      { userId: (request) => String(request.headers['x-user-id']) },
    );
    const app = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const response = await fetch(`${app.url}/pay`, { headers: { 'x-user-id': 'user-42' } });
      const traceId = await response.text();
      const expected = cohortOf('user-42', { salt: 'rollout-7', percent: 50 });
      const server = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
      assert.equal(server.attributes['checkout.canary.cohort'], expected.cohort);
      assert.equal(server.attributes['checkout.canary.bucket'], expected.bucket);
      assert.equal(server.attributes['checkout.release'], 'api-3');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.equal(create.attributes['checkout.canary.cohort'], expected.cohort);
      assert.equal(seen[0], `checkout.canary.cohort=${expected.cohort}`);
    } finally {
      await app.close();
      await session.stop();
    }
  });
});
