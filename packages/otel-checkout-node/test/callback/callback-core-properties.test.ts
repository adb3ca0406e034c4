import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tokenOfVerifyRequest } from '../../src/verify/verify-token.js';
import { Harness } from './harness.js';

describe('callback core on arbitrary input', () => {
  const harness = new Harness();
  before(() => harness.install());
  after(() => harness.uninstall());

  it('never throws and never parents a callback to anything but a verified token or a stored flow', async () => {
    const { flows, health } = harness.flows({ store: false });
    const real = harness.createFlow('P-1');
    const valid = flows.passback(real);
    const junk = fc.oneof(fc.string({ maxLength: 120 }), fc.constant(valid.slice(0, -1)), fc.constant(`${valid}A`), fc.constant(valid.toLowerCase()));
    await fc.assert(
      fc.asyncProperty(
        junk,
        junk,
        fc.oneof(fc.anything(), junk, fc.uint8Array({ maxLength: 200 })),
        fc.string({ maxLength: 60 }),
        async (queryToken, headerToken, body, path) => {
          harness.reset();
          const scope = await flows.beginCallback(
            {
              method: 'POST',
              url: `/${path}?otc_flow=${encodeURIComponent(queryToken)}`,
              headers: { 'x-otc-flow': headerToken },
              body,
            },
            { tradeNo: () => 'P-1' },
          );
          scope.end(200);
          const [span] = harness.callbacks();
          assert.ok(span);
          assert.equal(span.parentSpanContext, undefined, 'no verified token, no store: a new trace');
          assert.equal(span.attributes['payment.callback.correlation'], 'none');
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(health.get('tokensRejected') > 0);
    await flows.shutdown();
  });

  it('a callback ends its flow exactly when its outcome is final: pending and unmapped statuses leave it waiting', async () => {
    const { flows } = harness.flows({ sweeper: false });
    const table = { PAID: 'succeeded', WAIT_BUYER_PAY: 'pending', DECLINED: { outcome: 'failed', reason: 'risk_rejected' }, CLOSED: 'cancelled', ODD: 'unknown' } as const;
    const status = fc.oneof(
      fc.constantFrom(...Object.keys(table)),
      fc.constantFrom(...Object.keys(table)).map((key) => key.toLowerCase()),
      fc.string({ maxLength: 20 }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(status, async (raw) => {
        harness.reset();
        const tradeNo = `S-${run++}`;
        flows.notifyUrl(harness.createFlow(tradeNo), 'http://x/notify');
        await flows.whenRecorded();
        const before = await flows.store!.size();
        const scope = await flows.beginCallback(
          { method: 'POST', url: '/notify', headers: {}, body: { trade_no: tradeNo, status: raw } },
          { tradeNo: (_request, fields) => fields?.trade_no as string, status: (_request, fields) => fields?.status as string, statusTable: table },
        );
        scope.end(200);
        const [span] = harness.callbacks();
        const waits = span.attributes['payment.outcome'] === 'pending' || span.attributes['payment.failure.reason'] === 'unmapped_status';
        assert.equal(await flows.store!.size(), waits ? before : before - 1, `status ${JSON.stringify(raw)}: ${String(span.attributes['payment.outcome'])}`);
        assert.equal(span.attributes['payment.callback.duplicate'], undefined);
      }),
      { numRuns: 150 },
    );
    await flows.shutdown();
  });

  it('the verify request reads the token from the query, else from a JSON body', () => {
    assert.equal(tokenOfVerifyRequest('/v?otc_flow=abc', { token: 'body' }, 'otc_flow'), 'abc');
    assert.equal(tokenOfVerifyRequest('/v', { token: 'body' }, 'otc_flow'), 'body');
    assert.equal(tokenOfVerifyRequest('/v', { token: 42 }, 'otc_flow'), undefined);
    assert.equal(tokenOfVerifyRequest('/v', null, 'otc_flow'), undefined);
  });
});
