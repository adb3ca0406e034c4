import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { CallbackFields, Flows, PaymentRequest } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import type { RequestView } from '../../src/http/request-view.js';
import { Harness } from './harness.js';

const PARSE_FAILED = Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', status: 400 });

describe('a callback refused before the callback middleware', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows, health } = harness.flows());
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  async function refuse(view: Partial<RequestView>, error: unknown = PARSE_FAILED, options = {}) {
    const scope = await flows.beginRefusedCallback({ method: 'POST', url: '/notify', headers: {}, ...view }, options, error);
    scope.end(400);
    const [span] = harness.callbacks();
    assert.ok(span, 'a payment.callback span');
    return span;
  }

  it('with the token in the header: SERVER child of payment.create, refused, with the delay; no outcome; counted', async () => {
    const flow = harness.createFlow('H-1');
    const span = await refuse({ headers: { 'x-otc-flow': flows.passback(flow) } });
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.parentSpanContext?.spanId, flow.spanId);
    assert.equal(span.attributes['payment.stage'], 'callback');
    assert.equal(span.attributes['payment.callback.correlation'], 'token_header');
    assert.equal(span.attributes['payment.callback.refused'], true);
    assert.equal(span.attributes['error.type'], 'entity.parse.failed');
    assert.equal(typeof span.attributes['payment.callback.delay'], 'number');
    assert.equal(span.attributes['payment.context.rejected'], undefined);
    assert.equal(span.attributes['payment.outcome'], undefined);
    assert.equal(span.attributes['http.response.status_code'], 400);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(health.get('callbacksRefused'), 1);
    assert.equal(health.get('callbacks'), 1, 'a refused notification is a callback too');
    assert.equal(health.get('callbacksUncorrelated'), 0);
  });

  it('the body is not searched and the hooks see none, even a body the framework left half set', async () => {
    const flow = harness.createFlow('B-1');
    const seen: Array<{ json: unknown; fields: CallbackFields; body: unknown }> = [];
    const tradeNo = (request: PaymentRequest, fields: CallbackFields) => {
      seen.push({ json: request.json(), fields, body: request.body });
      return new URL(request.url, 'http://x').searchParams.get('trade_no') ?? undefined;
    };
    const span = await refuse({ url: '/notify?trade_no=B-1', body: { otc_flow: flows.passback(flow), trade_no: 'B-1' } }, PARSE_FAILED, { tradeNo });
    assert.deepEqual(seen, [{ json: undefined, fields: undefined, body: undefined }]);
    assert.equal(span.attributes['payment.trade_no'], 'B-1');
    assert.equal(span.attributes['payment.callback.correlation'], 'none', 'a token in the body is not taken');
    assert.equal(span.attributes['payment.context.rejected'], 'missing');
    assert.equal(span.parentSpanContext, undefined, 'a new trace');
    assert.equal(health.get('callbacksUncorrelated'), 1);
    assert.equal(health.get('callbackBodiesUnread'), 0, 'refused, not unread');
  });

  it('counters: refused and uncorrelated notifications are shares of callbacks, whatever the mix', async () => {
    const flow = harness.createFlow('M-1');
    const token = flows.passback(flow);
    await refuse({});
    await refuse({ headers: { 'x-otc-flow': token } });
    await refuse({ url: '/notify?otc_flow=forged' });
    const accepted = await flows.beginCallback({ method: 'POST', url: '/notify', headers: { 'x-otc-flow': token } }, {});
    accepted.end(200);
    const unknown = await flows.beginCallback({ method: 'POST', url: '/notify', headers: {} }, {});
    unknown.end(200);
    assert.equal(harness.callbacks().length, 5, 'one payment.callback span each');
    assert.equal(health.get('callbacks'), 5);
    assert.equal(health.get('callbacksRefused'), 3);
    assert.equal(health.get('callbacksUncorrelated'), 3, 'two refused without a genuine token, one accepted');
    assert.ok(health.get('callbacksUncorrelated') <= health.get('callbacks'));
  });

  it('leaves the flow in the store: the next notification takes it, not as a duplicate', async () => {
    const flow = harness.createFlow('S-1');
    flows.returnUrl(flow, '/return');
    await flows.whenRecorded();
    await refuse({ url: '/notify?trade_no=S-1' }, PARSE_FAILED, { tradeNo: () => 'S-1' });
    const scope = await flows.beginCallback({ method: 'POST', url: '/notify?trade_no=S-1', headers: {} }, { tradeNo: () => 'S-1' });
    scope.end(200);
    const [, final] = harness.callbacks();
    assert.equal(final.attributes['payment.callback.correlation'], 'store');
    assert.equal(final.attributes['payment.callback.duplicate'], undefined);
  });

  it('a forged token in the query is rejected, never a parent', async () => {
    const span = await refuse({ url: '/notify?otc_flow=not-a-token' });
    assert.equal(span.parentSpanContext, undefined);
    assert.equal(span.attributes['payment.context.rejected'], 'malformed');
  });

  const errorTypes: Array<[string, unknown, string]> = [
    ['a Fastify error: its code', Object.assign(new Error('Unsupported Media Type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'FST_ERR_CTP_INVALID_MEDIA_TYPE'],
    ['a body-parser error: its type', PARSE_FAILED, 'entity.parse.failed'],
    ['an error with neither: its name', new RangeError('too deep'), 'RangeError'],
    ['a code that is text from the request: the next field', Object.assign(new TypeError('x'), { code: 'card 4111 1111 1111 1111' }), 'TypeError'],
    ['nothing usable', Object.assign(Object.create(null) as object, { name: 'a name with spaces' }), '_OTHER'],
    ['a thrown string', '400 Bad Request', '_OTHER'],
    ['null', null, '_OTHER'],
  ];
  for (const [title, error, expected] of errorTypes) {
    it(`error.type from ${title}`, async () => {
      assert.equal((await refuse({}, error)).attributes['error.type'], expected);
    });
  }

  it('a tradeNo hook that throws is counted; the refusal is still traced', async () => {
    const span = await refuse({}, PARSE_FAILED, {
      tradeNo: () => {
        throw new Error('hook failed');
      },
    });
    assert.equal(span.attributes['payment.callback.refused'], true);
    assert.equal(health.get('hookErrors'), 1);
  });
});
