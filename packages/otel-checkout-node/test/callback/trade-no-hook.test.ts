import assert from 'node:assert/strict';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { createServer } from 'node:http';
import { expressCallback } from '../../src/index.js';
import type { CallbackOptions, Flows } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { tradeNoText, unusableTradeNo } from '../../src/payments/trade-no.js';
import { Harness } from './harness.js';
import { captureWarnings } from '../support/capture-warnings.js';

/** An Express notify route whose tradeNo hook passes `out_trade_no` on as the provider sent it. */
async function notifyApp(flows: Flows, tradeNo: CallbackOptions['tradeNo']): Promise<StartedHttpServer> {
  const app = express();
  app.post('/notify', expressCallback({ flows, tradeNo, bodyParser: express.json() }), (_req, res) => {
    res.send('success');
  });
  // Answers a refused body quietly, as an application's own error handler would.
  app.use((error: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).send('refused');
  });
  return listenOnLoopback(createServer(app));
}

async function postJson(server: StartedHttpServer, body: string): Promise<void> {
  const response = await fetch(`${server.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'success');
}

describe('callback tradeNo hook: what it may return', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  let server: StartedHttpServer;
  // Typed as the user writes it (`as string`); at run time it is whatever the JSON held.
  const passedOn: CallbackOptions['tradeNo'] = (_request, fields) => fields?.out_trade_no as string | undefined;

  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(async () => {
    ({ flows, health } = harness.flows({ sweeper: false }));
    server = await notifyApp(flows, passedOn);
    harness.reset();
  });
  afterEach(async () => {
    await server.close();
    await flows.shutdown();
  });

  it('a JSON number is the flow recorded under its decimal string: found in the store, taken, not counted', async () => {
    const flow = harness.createFlow('12345');
    flows.returnUrl(flow, '/return');
    await flows.whenRecorded();
    const { warnings, restore } = captureWarnings();
    try {
      await postJson(server, '{"out_trade_no": 12345, "trade_status": "TRADE_SUCCESS"}');
    } finally {
      restore();
    }
    const [span] = harness.callbacks();
    assert.equal(span.attributes['payment.callback.correlation'], 'store');
    assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'child of payment.create');
    assert.equal(span.attributes['payment.trade_no'], '12345');
    assert.equal(await flows.store!.size(), 0, 'the flow was taken: it will not be reported stalled');
    assert.equal(health.get('hookErrors'), 0);
    assert.equal(health.get('callbacksUncorrelated'), 0);
    assert.deepEqual(warnings, []);
  });

  const unusable: Array<[string, string, RegExp]> = [
    ['an object', '{"out_trade_no": {"id": "T-1"}}', /returned an object/],
    ['a boolean', '{"out_trade_no": true}', /returned a boolean/],
    ['an array', '{"out_trade_no": ["T-1"]}', /returned an array/],
    ['a fraction', '{"out_trade_no": 12345.5}', /returned a number that is not a safe integer/],
    // Alipay-length trade numbers sent as JSON numbers: JSON.parse has already changed their last digits.
    ['a number past 2^53', '{"out_trade_no": 2088102122458901234}', /returned a number that is not a safe integer/],
  ];
  for (const [title, body, expected] of unusable) {
    it(`${title}: ignored (no trade number, the store not asked), counted in hookErrors and said once naming the hook`, async () => {
      const { warnings, restore } = captureWarnings();
      try {
        await postJson(server, body);
        await postJson(server, body);
      } finally {
        restore();
      }
      const callbacks = harness.callbacks();
      assert.equal(callbacks.length, 2, 'the callbacks are traced all the same');
      for (const span of callbacks) {
        assert.equal(span.attributes['payment.trade_no'], undefined);
        assert.equal(span.attributes['payment.callback.correlation'], 'none');
      }
      assert.equal(health.get('hookErrors'), 2, 'each callback');
      const said = warnings.filter((w) => w.includes('callback tradeNo hook'));
      assert.equal(said.length, 1, 'said once');
      assert.match(said[0], expected);
      assert.match(said[0], /neither a string nor a safe integer/);
      assert.doesNotMatch(said[0], /2088|12345|T-1/, 'the value itself is not logged');
    });
  }

  it('no trade number (undefined, null, an empty string) is no problem: not counted, not said', async () => {
    const { warnings, restore } = captureWarnings();
    try {
      await postJson(server, '{"trade_status": "TRADE_SUCCESS"}');
      await postJson(server, '{"out_trade_no": null}');
      await postJson(server, '{"out_trade_no": ""}');
    } finally {
      restore();
    }
    assert.equal(health.get('hookErrors'), 0);
    assert.deepEqual(warnings, []);
    for (const span of harness.callbacks()) assert.equal(span.attributes['payment.trade_no'], undefined);
  });

  it('a refused notification: a numeric trade number from the query is recorded as its decimal string', async () => {
    await server.close();
    server = await notifyApp(flows, (request) => Number(new URL(request.url, 'http://x').searchParams.get('trade_no')));
    const ended = harness.whenExported((span) => span.name === 'payment.callback');
    const response = await fetch(`${server.url}/notify?trade_no=777`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"out_trade_no": ' });
    assert.equal(response.status, 400);
    const span = await ended;
    assert.equal(span.attributes['payment.callback.refused'], true);
    assert.equal(span.attributes['payment.trade_no'], '777');
    assert.equal(health.get('hookErrors'), 0);
  });
});

describe('tradeNoText and unusableTradeNo', () => {
  const cases: Array<[unknown, string | undefined, boolean]> = [
    ['T-1', 'T-1', false],
    ['', undefined, false],
    [undefined, undefined, false],
    [null, undefined, false],
    [0, '0', false],
    [-42, '-42', false],
    [Number.MAX_SAFE_INTEGER, '9007199254740991', false],
    [Number.MAX_SAFE_INTEGER + 1, undefined, true],
    [1.5, undefined, true],
    [Number.NaN, undefined, true],
    [Number.POSITIVE_INFINITY, undefined, true],
    [12n, undefined, true],
    [{}, undefined, true],
    [[], undefined, true],
    [false, undefined, true],
    [Symbol('x'), undefined, true],
  ];
  for (const [value, tradeNo, unusable] of cases) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : Array.isArray(value) ? '[]' : typeof value === 'object' && value !== null ? '{}' : String(value);
    it(`${shown} → ${tradeNo ?? (unusable ? 'unusable' : 'none')}`, () => {
      assert.equal(tradeNoText(value), tradeNo);
      assert.equal(unusableTradeNo(value) !== undefined, unusable);
    });
  }
});
