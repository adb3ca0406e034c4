import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { expressCallback, expressPayments, MemoryFlowStore, payments } from '../../src/index.js';
import type { Flows, PaymentDetails, PaymentExtractor, TakeResult, WaitResult } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { MAX_IDENTIFIER_LENGTH, tradeNoText, unusableTradeNo } from '../../src/payments/trade-no.js';
import { Harness } from '../callback/harness.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const KEYS = { current: { id: 'k1', secret: 'long-identifiers-secret-0123456789' } };

/** A value of `length` characters, distinct per `tag` (so that no two requests share one). */
const identifier = (tag: string, length: number): string => `${tag}-`.padEnd(length, '7');

/** 90 KB, as a forged request under express.json()'s 100 kB limit can carry. */
const HUGE = 90_000;

const DETAIL_FIELDS = ['tradeNo', 'orderId', 'merchantId', 'method', 'provider', 'currency'] as const;
const ATTRIBUTE_OF: Record<(typeof DETAIL_FIELDS)[number], string> = {
  tradeNo: 'payment.trade_no',
  orderId: 'payment.order.id',
  merchantId: 'payment.merchant.id',
  method: 'payment.method',
  provider: 'payment.provider',
  currency: 'payment.currency',
};

describe('tradeNoText and unusableTradeNo: trade numbers longer than the maximum', () => {
  it(`the maximum is ${MAX_IDENTIFIER_LENGTH} characters`, () => {
    assert.equal(MAX_IDENTIFIER_LENGTH, 128);
  });

  it('a string of the maximum length is a trade number as it is', () => {
    const atMost = identifier('T', MAX_IDENTIFIER_LENGTH);
    assert.equal(tradeNoText(atMost), atMost);
    assert.equal(unusableTradeNo(atMost), undefined);
  });

  for (const length of [MAX_IDENTIFIER_LENGTH + 1, HUGE]) {
    it(`a string of ${length} characters is unusable, said by its length only`, () => {
      const long = identifier('T', length);
      assert.equal(tradeNoText(long), undefined);
      assert.equal(unusableTradeNo(long), `a string of ${length} characters, longer than ${MAX_IDENTIFIER_LENGTH}`);
    });
  }
});

describe('payment details longer than the maximum on a payment route', () => {
  let session: TracingSession;
  let store: MemoryFlowStore;
  let server: StartedHttpServer;

  /** Every detail from the JSON body as the client sent it. */
  const extract: PaymentExtractor = (request) => {
    const body = request.json() ?? {};
    return Object.fromEntries(DETAIL_FIELDS.map((field) => [field, body[field]]));
  };

  // A session each: every kind of problem is said once per tracing handle.
  beforeEach(async () => {
    store = new MemoryFlowStore();
    session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: KEYS, store, sweeper: false } });
    const app = express();
    // Room for several 90 KB fields.
    app.use(express.json({ limit: '1mb' }));
    app.post('/pay', expressPayments({ extract }), (req, res, next) => {
      const { given } = req.body as { given?: PaymentDetails };
      payments
        .create(given ?? {}, (flow) => {
          // Records the flow in the store, under the trade number the flow knows.
          flow.returnUrl('https://shop.example/return');
          return { traceId: flow.traceId, tradeNo: flow.tradeNo ?? null };
        })
        .then((result) => res.json(result), next);
    });
    server = await listenOnLoopback(createServer(app));
  });
  afterEach(async () => {
    await server.close();
    await session.stop();
  });

  /** One payment; the trade number its flow knows, and what its server span and `payment.create` recorded. */
  async function pay(body: Record<string, unknown>, given?: PaymentDetails): Promise<{ tradeNo: string | null; server: Record<string, unknown>; create: Record<string, unknown> }> {
    const response = await fetch(`${server.url}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, given }),
    });
    assert.equal(response.status, 200);
    const { traceId, tradeNo } = (await response.json()) as { traceId: string; tradeNo: string | null };
    const serverSpan = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    return { tradeNo, server: serverSpan.attributes, create: create.attributes };
  }

  const bodyOf = (tag: string, length: (field: string) => number): Record<string, string> =>
    Object.fromEntries(DETAIL_FIELDS.map((field) => [field, identifier(`${tag}${field}`, length(field))]));

  it('details of the maximum length are recorded on both spans, the flow stored under its trade number, nothing counted', async () => {
    const { warnings, restore } = captureWarnings();
    let paid;
    const body = bodyOf('A', () => MAX_IDENTIFIER_LENGTH);
    try {
      paid = await pay(body);
    } finally {
      restore();
    }
    assert.equal(paid.tradeNo, body.tradeNo);
    for (const field of DETAIL_FIELDS) {
      assert.equal(paid.server[ATTRIBUTE_OF[field]], body[field], `${field} on the server span`);
      assert.equal(paid.create[ATTRIBUTE_OF[field]], body[field], `${field} on payment.create`);
    }
    assert.equal(await store.size(), 1);
    assert.equal(session.handle.health().hookErrors, 0);
    assert.deepEqual(warnings, []);
  });

  for (const length of [MAX_IDENTIFIER_LENGTH + 1, HUGE]) {
    it(`details of ${length} characters: on no span, no flow stored, each counted once per request, said once`, async () => {
      const { warnings, restore } = captureWarnings();
      const paid = [];
      try {
        for (const tag of ['B', 'C', 'D']) paid.push(await pay(bodyOf(tag, () => length)));
      } finally {
        restore();
      }
      for (const { tradeNo, server: serverSpan, create } of paid) {
        assert.equal(tradeNo, null, 'the flow has no trade number');
        for (const field of DETAIL_FIELDS) {
          assert.ok(!(ATTRIBUTE_OF[field] in serverSpan), `${field} not on the server span`);
          assert.ok(!(ATTRIBUTE_OF[field] in create), `${field} not on payment.create`);
        }
      }
      assert.equal(await store.size(), 0, 'the store does not grow');
      assert.equal(session.handle.health().flowsWithoutTradeNo, 3);
      // Looked at on the server span and on payment.create, counted once per request and field.
      assert.equal(session.handle.health().hookErrors, 3 * DETAIL_FIELDS.length);
      for (const field of DETAIL_FIELDS) {
        const said = warnings.filter((w) => w.includes(`payment ${field} is a string of ${length} characters, longer than ${MAX_IDENTIFIER_LENGTH}`));
        assert.equal(said.length, 1, `${field}:\n${warnings.join('\n')}`);
      }
      assert.ok(!warnings.some((w) => w.includes('777777')), 'no value is logged');
    });
  }

  it('one detail too long leaves the others recorded', async () => {
    const body = bodyOf('E', (field) => (field === 'orderId' ? MAX_IDENTIFIER_LENGTH + 1 : 12));
    const paid = await pay(body);
    assert.equal(paid.tradeNo, body.tradeNo);
    assert.ok(!('payment.order.id' in paid.server) && !('payment.order.id' in paid.create));
    assert.equal(paid.create['payment.merchant.id'], body.merchantId);
    assert.equal(await store.size(), 1);
    assert.equal(session.handle.health().hookErrors, 1);
  });

  it('details too long given to payments.create: on neither span, counted once per request', async () => {
    const given: PaymentDetails = { tradeNo: identifier('F', HUGE), merchantId: identifier('G', MAX_IDENTIFIER_LENGTH + 1) };
    const body = bodyOf('H', () => 8);
    const paid = await pay(body, given);
    // What create is given wins over what the route extracted, even when it cannot be recorded.
    assert.equal(paid.tradeNo, null);
    assert.ok(!('payment.trade_no' in paid.create) && !('payment.merchant.id' in paid.create));
    // The server span keeps what the route extracted, and nothing of what create was given.
    assert.equal(paid.server['payment.trade_no'], body.tradeNo);
    assert.equal(paid.server['payment.merchant.id'], body.merchantId);
    assert.equal(await store.size(), 0);
    assert.equal(session.handle.health().hookErrors, 2);
  });

  it('a trade number of another unusable kind (a fraction) is counted the same way, once per request', async () => {
    const { warnings, restore } = captureWarnings();
    try {
      for (let i = 0; i < 2; i++) assert.equal((await pay({ tradeNo: 12.5 })).tradeNo, null);
    } finally {
      restore();
    }
    assert.equal(session.handle.health().hookErrors, 2);
    assert.equal(warnings.filter((w) => w.includes('payment tradeNo is a number that is not a safe integer')).length, 1, warnings.join('\n'));
  });

  it('outside a payment route: not recorded, counted once', async () => {
    const { tradeNo, traceId } = await payments.create({ tradeNo: identifier('I', HUGE), orderId: identifier('J', HUGE) }, (flow) => ({ tradeNo: flow.tradeNo, traceId: flow.traceId }));
    assert.equal(tradeNo, undefined);
    const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
    assert.ok(!('payment.trade_no' in create.attributes) && !('payment.order.id' in create.attributes));
    assert.equal(session.handle.health().hookErrors, 2);
  });

  it('a failure reason or code longer than the maximum is not recorded, counted, said once; one of the maximum length is', async () => {
    const { warnings, restore } = captureWarnings();
    const traceIds: string[] = [];
    try {
      for (const length of [MAX_IDENTIFIER_LENGTH, MAX_IDENTIFIER_LENGTH + 1, HUGE]) {
        traceIds.push(
          await payments.create({ tradeNo: `R-${length}` }, (flow) => {
            flow.recordOutcome('failed', { reason: identifier('reason', length), code: identifier('code', length) });
            return flow.traceId;
          }),
        );
      }
    } finally {
      restore();
    }
    const [atMost, ...longer] = await Promise.all(traceIds.map((traceId) => session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create')));
    assert.equal(atMost.attributes['payment.failure.reason'], identifier('reason', MAX_IDENTIFIER_LENGTH));
    assert.equal(atMost.attributes['payment.failure.code'], identifier('code', MAX_IDENTIFIER_LENGTH));
    for (const span of longer) {
      assert.equal(span.attributes['payment.outcome'], 'failed');
      assert.ok(!('payment.failure.reason' in span.attributes) && !('payment.failure.code' in span.attributes));
    }
    assert.equal(session.handle.health().hookErrors, 4);
    for (const field of ['reason', 'code']) {
      assert.equal(warnings.filter((w) => w.includes(`payment failure ${field} is a string of`)).length, 1, warnings.join('\n'));
    }
  });
});

/** A memory store that notes the length of each trade number it is asked for. */
class WatchedStore extends MemoryFlowStore {
  readonly asked: number[] = [];

  override take(tradeNo: string): Promise<TakeResult> {
    this.asked.push(tradeNo.length);
    return super.take(tradeNo);
  }

  override keepWaiting(tradeNo: string, now: number, lastStatus?: string): Promise<WaitResult> {
    this.asked.push(tradeNo.length);
    return super.keepWaiting(tradeNo, now, lastStatus);
  }
}

describe('callbacks with trade numbers longer than the maximum', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  let store: WatchedStore;
  let server: StartedHttpServer;

  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(async () => {
    store = new WatchedStore();
    ({ flows, health } = harness.flows({ sweeper: false, store }));
    const app = express();
    app.post(
      '/notify',
      expressCallback({ flows, tradeNo: (_request, fields) => fields?.out_trade_no as string, bodyParser: express.json() }),
      (_req, res) => void res.send('success'),
    );
    server = await listenOnLoopback(createServer(app));
    harness.reset();
  });
  afterEach(async () => {
    await server.close();
    await flows.shutdown();
  });

  async function notify(tradeNo: string): Promise<void> {
    const response = await fetch(`${server.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ out_trade_no: tradeNo }) });
    assert.equal(await response.text(), 'success');
  }

  it('a trade number of the maximum length finds its flow', async () => {
    const tradeNo = identifier('T', MAX_IDENTIFIER_LENGTH);
    const flow = harness.createFlow(tradeNo);
    flows.returnUrl(flow, '/return');
    await flows.whenRecorded();
    assert.equal(await store.size(), 1);
    await notify(tradeNo);
    const [span] = harness.callbacks();
    assert.equal(span.attributes['payment.callback.correlation'], 'store');
    assert.equal(span.attributes['payment.trade_no'], tradeNo);
    assert.equal(await store.size(), 0, 'taken');
    assert.equal(health.get('hookErrors'), 0);
  });

  it('forged notifications with long unknown trade numbers: the store is never asked (nothing remembered), not recorded, counted, said once', async () => {
    const { warnings, restore } = captureWarnings();
    try {
      for (const [i, length] of [MAX_IDENTIFIER_LENGTH + 1, HUGE, HUGE, HUGE].entries()) await notify(identifier(`F${i}`, length));
    } finally {
      restore();
    }
    assert.deepEqual(store.asked, [], 'no take (whose unknown trade numbers the store remembers for minutes)');
    const spans = harness.callbacks();
    assert.equal(spans.length, 4, 'each is traced');
    for (const span of spans) {
      assert.ok(!('payment.trade_no' in span.attributes));
      assert.equal(span.attributes['payment.callback.correlation'], 'none');
    }
    assert.equal(health.get('hookErrors'), 4);
    const said = warnings.filter((w) => w.includes('callback tradeNo hook returned'));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.match(said[0], new RegExp(`a string of ${MAX_IDENTIFIER_LENGTH + 1} characters, longer than ${MAX_IDENTIFIER_LENGTH};`));
    assert.doesNotMatch(said[0], /neither a string/, 'a string is not said to be none');
    assert.ok(!said[0].includes('777777'), 'the value is not logged');
  });
});

describe('what a flow hands on: its provider calls and the flow store', () => {
  let session: TracingSession;
  let store: MemoryFlowStore;
  beforeEach(async () => {
    store = new MemoryFlowStore();
    session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: KEYS, store, sweeper: false } });
  });
  afterEach(() => session.stop());

  it('a provider or method longer than the maximum goes on no provider span and into no store record', async () => {
    const traceId = await payments.create({ tradeNo: 'T-KEPT', provider: identifier('P', HUGE), method: identifier('M', MAX_IDENTIFIER_LENGTH + 1) }, async (flow) => {
      flow.returnUrl('https://shop.example/return');
      await flow.providerCall('charge', () => undefined);
      return flow.traceId;
    });
    const call = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.provider charge');
    assert.equal(call.attributes['payment.trade_no'], 'T-KEPT');
    assert.ok(!('payment.provider' in call.attributes) && !('payment.method' in call.attributes), JSON.stringify(Object.keys(call.attributes)));
    const { record } = await store.take('T-KEPT');
    assert.ok(record !== undefined, 'the flow is stored');
    assert.equal(record.provider, undefined);
    assert.equal(record.method, undefined);
  });

  it("a provider's transaction id longer than the maximum is not recorded, counted and said once; one of the maximum length is", async () => {
    const { warnings, restore } = captureWarnings();
    let traceId = '';
    try {
      traceId = await payments.create({ tradeNo: 'T-TXN' }, async (flow) => {
        await flow.providerCall('long', (call) => call.transactionId(identifier('X', HUGE)));
        await flow.providerCall('long-again', (call) => call.transactionId(identifier('Y', MAX_IDENTIFIER_LENGTH + 1)));
        await flow.providerCall('at-most', (call) => call.transactionId(identifier('Z', MAX_IDENTIFIER_LENGTH)));
        return flow.traceId;
      });
    } finally {
      restore();
    }
    const calls = await session.waitForSpans((s) => s.traceId === traceId && s.name.startsWith('payment.provider '), 3);
    const byName = new Map(calls.map((s) => [s.name, s.attributes]));
    assert.ok(!('payment.provider.transaction_id' in byName.get('payment.provider long')!));
    assert.ok(!('payment.provider.transaction_id' in byName.get('payment.provider long-again')!));
    assert.equal(byName.get('payment.provider at-most')!['payment.provider.transaction_id'], identifier('Z', MAX_IDENTIFIER_LENGTH));
    assert.equal(session.handle.health().hookErrors, 2);
    const said = warnings.filter((w) => w.includes('provider transaction id is a string of'));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.ok(!warnings.some((w) => w.includes('777777')), 'no value is logged');
  });

  it('flow.setTradeNo with a value too long, or of no usable kind, is ignored, counted and said once', async () => {
    const { warnings, restore } = captureWarnings();
    let tradeNo: string | undefined;
    try {
      tradeNo = await payments.create({ tradeNo: 'T-SET' }, (flow) => {
        flow.setTradeNo(identifier('S', HUGE));
        flow.setTradeNo(12.5);
        return flow.tradeNo;
      });
    } finally {
      restore();
    }
    assert.equal(tradeNo, 'T-SET');
    assert.equal(session.handle.health().hookErrors, 2);
    assert.equal(warnings.filter((w) => w.includes('flow.setTradeNo was given')).length, 1, warnings.join('\n'));
  });
});
