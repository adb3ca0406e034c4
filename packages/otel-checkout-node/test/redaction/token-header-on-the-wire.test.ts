import assert from 'node:assert/strict';
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpCallback, payments } from '../../src/index.js';
import { KEYS } from '../callback/harness.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TRADE_NO = 'T20261204000047';

// The callback middleware reads the flow token from the `x-otc-flow` header by default. An
// application that records request headers as `http.request.header.<name>` attributes (a
// common request hook; instrumentation-http's headersToSpanAttributes in an application's own
// SDK) records that header too: its name must count as sensitive, like `authorization`.
describe("the flow token in the callback's default header, recorded as a header attribute (OTLP protobuf on the wire)", () => {
  let session: TracingSession;
  let app: StartedHttpServer;

  before(async () => {
    session = await startTracingSession('protobuf', { flows: { keys: KEYS, sweeper: false } });
    const notify = httpCallback((req, res) => {
      const span = trace.getActiveSpan();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') span?.setAttribute(`http.request.header.${name}`, [value]);
      }
      res.end('success');
    });
    // A callback whose token comes in a header and a pass-back field of its own choosing; the
    // handler records the headers and the raw body (as integrations do while debugging one).
    const custom = httpCallback(
      (req, res, body) => {
        const span = trace.getActiveSpan();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') span?.setAttribute(`http.request.header.${name}`, [value]);
        }
        span?.setAttribute('app.callback_body', body?.toString('utf8') ?? '');
        res.end('success');
      },
      { readBody: true, header: 'x-acme-ref', passbackField: 'metadata.shop_ref' },
    );
    app = await listenOnLoopback(http.createServer((req, res) => void (req.url === '/notify-custom' ? custom(req, res) : notify(req, res))));
  });

  after(async () => {
    await app?.close();
    await session?.stop();
  });

  it('is not exported', async () => {
    const token = await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, (flow) => flow.passback());
    assert.ok(typeof token === 'string' && token.length > 40, 'a token was minted');
    await (await fetch(`${app.url}/notify`, { method: 'POST', headers: { 'x-otc-flow': token }, body: '' })).text();
    const callback = await session.waitForSpan((s) => s.name === 'payment.callback');
    assert.equal(callback.attributes['payment.callback.correlation'], 'token_header', 'the token correlated the callback');
    assert.deepEqual(callback.attributes['http.request.header.x-otc-flow'], ['[REDACTED]']);
    assert.deepEqual(session.receiver!.requestsContaining(token), [], 'the token was exported');
  });

  it("is not exported from a callback's own header and pass-back field either", async () => {
    const [first, second] = await payments.create({ tradeNo: `${TRADE_NO}-2`, provider: 'acme' }, (flow) => [flow.passback(), flow.passback()]);
    const body = JSON.stringify({ trade_no: `${TRADE_NO}-2`, metadata: { shop_ref: second } });
    await (
      await fetch(`${app.url}/notify-custom`, { method: 'POST', headers: { 'x-acme-ref': first, 'content-type': 'application/json' }, body })
    ).text();
    const callback = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['app.callback_body'] !== undefined);
    assert.equal(callback.attributes['payment.callback.correlation'], 'token_header', 'the token correlated the callback');
    assert.deepEqual(callback.attributes['http.request.header.x-acme-ref'], ['[REDACTED]']);
    assert.equal(callback.attributes['app.callback_body'], JSON.stringify({ trade_no: `${TRADE_NO}-2`, metadata: { shop_ref: '[REDACTED]' } }));
    for (const token of [first, second]) assert.deepEqual(session.receiver!.requestsContaining(token), [], 'the token was exported');
  });
});
