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

  it('the verify request reads the token from the query, else from a JSON body', () => {
    assert.equal(tokenOfVerifyRequest('/v?otc_flow=abc', { token: 'body' }, 'otc_flow'), 'abc');
    assert.equal(tokenOfVerifyRequest('/v', { token: 'body' }, 'otc_flow'), 'body');
    assert.equal(tokenOfVerifyRequest('/v', { token: 42 }, 'otc_flow'), undefined);
    assert.equal(tokenOfVerifyRequest('/v', null, 'otc_flow'), undefined);
  });
});
