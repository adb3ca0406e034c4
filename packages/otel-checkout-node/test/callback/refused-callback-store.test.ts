import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createClient } from 'redis';
import { listenOnLoopback, startRedisServer } from '@otel-checkout/test-support';
import { expressCallback, FlowTokenSigner, MemoryFlowStore, RedisFlowStore } from '../../src/index.js';
import type { FlowContext, FlowRecord, Flows, FlowStore } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import type { RequestView } from '../../src/http/request-view.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { customFlowStore } from '../support/custom-store.js';
import { redisServerForSuite } from '../support/redis-for-suite.js';
import { startRestartableRedis, untilResolved } from '../flow-store/restartable-redis.js';
import { Harness, KEYS } from './harness.js';
import { listenWithSmallBodyLimit } from './small-body-express-app.js';

/**
 * A provider notification the route's parser refused (415, 413) that carries its flow's token:
 * its `payment.callback` span takes the flow's attributes and start time from the flow store's
 * record, read without ending the flow, which still waits for the provider's retry.
 */

const PARSE_FAILED = Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', status: 400 });
/** How long before the notification each flow's redirect was issued: not a whole number of seconds. */
const ISSUED_AGO_MS = 2_500;
const RELEASE = 'api-1.4.0';

/** The span's start, ms since the epoch. */
function startMs(span: ReadableSpan): number {
  return span.startTime[0] * 1000 + span.startTime[1] / 1e6;
}

/** What every refused span of a flow the store knows carries, as the flow's other callbacks do. */
function assertFlowAttributes(span: ReadableSpan, record: FlowRecord): void {
  assert.equal(span.parentSpanContext?.spanId, record.spanId, 'in its flow, by its token');
  assert.equal(span.attributes['payment.callback.refused'], true);
  assert.equal(span.attributes['payment.trade_no'], record.tradeNo);
  assert.equal(span.attributes['payment.provider'], 'acme');
  assert.equal(span.attributes['payment.method'], 'card');
  assert.equal(span.attributes['checkout.release'], RELEASE);
  assert.equal(span.attributes['checkout.canary.cohort'], 'canary');
  // From the record's millisecond time: the token's, in whole seconds, would be up to a second off.
  const delay = span.attributes['payment.callback.delay'] as number;
  assert.ok(Math.abs(delay * 1000 - (startMs(span) - record.issuedAt)) < 2, `delay ${delay} s, issued ${startMs(span) - record.issuedAt} ms before`);
}

interface StoreKind {
  name: string;
  make(): Promise<FlowStore>;
}

function describeRefusedWithStore(kind: StoreKind): void {
  describe(`a refused notification with its flow's token, on the ${kind.name}`, () => {
    const harness = new Harness();
    let store: FlowStore;
    let flows: Flows;
    let health: HealthCounters;
    before(() => harness.install());
    after(() => harness.uninstall());
    beforeEach(async () => {
      store = await kind.make();
      ({ flows, health } = harness.flows({ store }));
      harness.reset();
    });
    afterEach(() => flows.shutdown());

    /**
     * A flow waiting in the store, issued `ISSUED_AGO_MS` ago, and its token. Put by the test with
     * that time; the put the token's minting makes is of the same span, so the first record stays.
     */
    async function waitingFlow(tradeNo: string): Promise<{ flow: FlowContext; record: FlowRecord; token: string }> {
      const flow = harness.createFlow(tradeNo, { release: RELEASE, cohort: 'canary' });
      const record: FlowRecord = { traceId: flow.traceId, spanId: flow.spanId, traceFlags: flow.traceFlags, tradeNo, provider: 'acme', method: 'card', release: RELEASE, cohort: 'canary', issuedAt: Date.now() - ISSUED_AGO_MS };
      await store.put(record, Date.now() + 60_000);
      const token = flows.passback(flow);
      await flows.whenRecorded();
      return { flow, record, token };
    }

    async function refuse(view: Partial<RequestView>): Promise<ReadableSpan> {
      const scope = await flows.beginRefusedCallback({ method: 'POST', url: '/notify', headers: {}, ...view }, {}, PARSE_FAILED);
      scope.end(400);
      const span = harness.callbacks().at(-1);
      assert.ok(span, 'a payment.callback span');
      return span;
    }

    async function notify(token: string): Promise<ReadableSpan> {
      const scope = await flows.beginCallback({ method: 'POST', url: '/notify', headers: { 'x-otc-flow': token } }, {});
      scope.end(200);
      return harness.callbacks().at(-1)!;
    }

    it("carries the flow's trade number, provider, method, release and cohort, and its delay from the record", async () => {
      const { record, token } = await waitingFlow('RF-1');
      const byHeader = await refuse({ headers: { 'x-otc-flow': token } });
      assertFlowAttributes(byHeader, record);
      assert.equal(byHeader.attributes['payment.callback.correlation'], 'token_header');
      const byQuery = await refuse({ url: `/notify?otc_flow=${token}` });
      assertFlowAttributes(byQuery, record);
      assert.equal(byQuery.attributes['payment.callback.correlation'], 'token_query');
      assert.equal(health.get('callbacksRefused'), 2);
      assert.equal(health.get('flowStoreFailures'), 0);
    });

    it('leaves the flow waiting: the good notification that follows ends it, not as a duplicate', async () => {
      const { record, token } = await waitingFlow('RF-2');
      await refuse({ headers: { 'x-otc-flow': token } });
      await refuse({ headers: { 'x-otc-flow': token } });
      assert.equal(await store.size(), 1, 'still waiting');
      const good = await notify(token);
      assert.equal(good.attributes['payment.trade_no'], 'RF-2');
      assert.equal(good.attributes['payment.callback.duplicate'], undefined);
      assert.equal(good.attributes['payment.callback.late'], undefined);
      // The same clock as the refused ones: a trace's callbacks never run backwards.
      assert.ok(Math.abs((good.attributes['payment.callback.delay'] as number) * 1000 - (startMs(good) - record.issuedAt)) < 2);
      assert.equal(await store.size(), 0, 'ended');
      assert.equal((await notify(token)).attributes['payment.callback.duplicate'], true, "the provider's copy after that is one");
      assert.equal(health.get('callbacksDuplicate'), 1);
    });

    it('a refused notification of a flow whose write has not landed remembers nothing: the put that lands after it waits', async () => {
      const flow = harness.createFlow('RF-3', { release: RELEASE, cohort: 'canary' });
      const token = new FlowTokenSigner(KEYS).mint(flow, Date.now() / 1000)!;
      const refused = await refuse({ headers: { 'x-otc-flow': token } });
      assert.equal(refused.parentSpanContext?.spanId, flow.spanId);
      assert.equal(refused.attributes['payment.trade_no'], undefined, 'nothing to read yet');
      assert.equal(refused.attributes['payment.provider'], undefined);
      await store.put({ traceId: flow.traceId, spanId: flow.spanId, traceFlags: flow.traceFlags, tradeNo: 'RF-3', issuedAt: Date.now() }, Date.now() + 60_000);
      assert.equal(await store.size(), 1, 'the flow waits: the refusal was no take');
      assert.equal((await notify(token)).attributes['payment.callback.duplicate'], undefined);
    });

    it('through Express: a body over the parser\'s limit (413) is answered as before, its span carries the flow; the retry ends the flow', async () => {
      const server = await listenWithSmallBodyLimit(flows);
      try {
        const { flow, record } = await waitingFlow('RF-4');
        const notifyUrl = new URL(flows.notifyUrl(flow, 'http://shop.example/notify'));
        const send = (body: object) =>
          fetch(`${server.url}${notifyUrl.pathname}${notifyUrl.search}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const refusedEnded = harness.whenExported((span) => span.name === 'payment.callback');
        const refusedAnswer = await send({ trade_status: 'TRADE_SUCCESS', items: 'x'.repeat(100) });
        assert.equal(refusedAnswer.status, 413);
        assert.equal(await refusedAnswer.text(), 'refused');
        const refused = await refusedEnded;
        assertFlowAttributes(refused, record);
        assert.equal(refused.attributes['error.type'], 'entity.too.large');
        assert.equal(refused.attributes['http.response.status_code'], 413);
        assert.equal(await store.size(), 1);

        const goodEnded = harness.whenExported((span) => span.name === 'payment.callback');
        const goodAnswer = await send({ trade_status: 'TRADE_SUCCESS' });
        assert.equal(await goodAnswer.text(), 'success');
        const good = await goodEnded;
        assert.equal(good.attributes['payment.trade_no'], 'RF-4');
        assert.equal(good.attributes['payment.callback.duplicate'], undefined);
        assert.equal(await store.size(), 0);
      } finally {
        await server.close();
      }
    });
  });
}

describeRefusedWithStore({ name: 'MemoryFlowStore', make: () => Promise.resolve(new MemoryFlowStore()) });

describe('with RedisFlowStore (real redis-server)', () => {
  const redis = redisServerForSuite();
  describeRefusedWithStore({
    name: 'RedisFlowStore',
    make: async () => {
      const store = new RedisFlowStore({ url: redis.url, keyPrefix: redis.keyPrefix('refused') });
      await store.ready();
      return store;
    },
  });
});

describe('a refused notification with a token, on a store that cannot read its flow, or fails to', function () {
  this.timeout(20_000);
  const harness = new Harness();
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => harness.reset());

  /** A flow recorded through the flows, as an application's payment records it, and its token. */
  async function recordedFlow(flows: Flows, tradeNo: string): Promise<{ flow: FlowContext; token: string }> {
    const flow = harness.createFlow(tradeNo, { release: RELEASE, cohort: 'canary' });
    const token = flows.passback(flow);
    await flows.whenRecorded();
    return { flow, token };
  }

  async function refuse(flows: Flows, token: string): Promise<ReadableSpan> {
    const scope = await flows.beginRefusedCallback({ method: 'POST', url: '/notify', headers: { 'x-otc-flow': token } }, { provider: 'configured' }, PARSE_FAILED);
    scope.end(400);
    return harness.callbacks().at(-1)!;
  }

  it('a custom store without peekBySpan: as before, what the token says and the provider option, and the flow waits on', async () => {
    const store = customFlowStore();
    const { flows, health } = harness.flows({ store });
    try {
      const { flow, token } = await recordedFlow(flows, 'RC-1');
      const span = await refuse(flows, token);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['payment.provider'], 'configured');
      for (const key of ['payment.trade_no', 'payment.method', 'checkout.release', 'checkout.canary.cohort']) assert.equal(span.attributes[key], undefined, key);
      // The token's issue time, in whole seconds.
      const delay = span.attributes['payment.callback.delay'] as number;
      assert.ok(delay >= 0 && delay < 2, `delay ${delay}`);
      assert.equal(health.get('flowStoreFailures'), 0);
      assert.equal(health.get('callbacksNotInStore'), 0);
      assert.equal(await store.size(), 1);
    } finally {
      await flows.shutdown();
    }
  });

  it('RedisFlowStore down: the refusal is still answered at once, traced by its token, the failed read counted; the flow waits on', async () => {
    const redis = await startRestartableRedis();
    const store = new RedisFlowStore({ url: redis.url, commandTimeoutMs: 300, connectTimeoutMs: 300 });
    const { flows, health } = harness.flows({ store });
    const app = express();
    app.post('/notify', expressCallback({ flows, bodyParser: express.json() }), (_req, res) => {
      res.send('success');
    });
    app.use(((error: { status?: number }, _req, res, _next) => {
      res.status(error.status ?? 500).send('refused');
    }) as express.ErrorRequestHandler);
    const server = await listenOnLoopback(createServer(app));
    const captured = captureWarnings();
    try {
      await store.ready();
      const { flow, token } = await recordedFlow(flows, 'RD-1');
      await redis.stop();
      const ended = harness.whenExported((span) => span.name === 'payment.callback');
      const response = await fetch(`${server.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-otc-flow': token }, body: '{"trade_status":' });
      assert.equal(response.status, 400);
      assert.equal(await response.text(), 'refused');
      const span = await ended;
      assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'in its flow, by its token');
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['payment.trade_no'], undefined);
      assert.equal(health.get('callbacksRefused'), 1);
      assert.equal(health.get('flowStoreFailures'), 1);
      assert.equal(health.get('flowStoreFallbacks'), 1);
      assert.equal(captured.warnings.filter((w) => w.includes('could not be read for a refused callback')).length, 1, captured.warnings.join('\n'));
      await redis.start();
      assert.equal(await untilResolved(() => store.size()), 1, 'the flow still waits for the retry');
    } finally {
      captured.restore();
      await server.close();
      await flows.shutdown();
      await redis.close();
    }
  });

  it('RedisFlowStore that does not answer: the refusal is answered within commandTimeoutMs, counted', async () => {
    const redis = await startRedisServer();
    const commandTimeoutMs = 300;
    const store = new RedisFlowStore({ url: redis.url, commandTimeoutMs });
    const { flows, health } = harness.flows({ store });
    const admin = createClient({ url: redis.url });
    let pid: number | undefined;
    try {
      await store.ready();
      await admin.connect();
      pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
      const { flow, token } = await recordedFlow(flows, 'RH-1');
      // The server stops answering without closing its connections: only the store's bound ends the wait.
      process.kill(pid, 'SIGSTOP');
      const started = performance.now();
      const span = await refuse(flows, token);
      const waited = performance.now() - started;
      assert.ok(waited >= commandTimeoutMs - 5 && waited < commandTimeoutMs + 500, `waited ${waited} ms`);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(health.get('flowStoreFailures'), 1);
      assert.equal(health.get('flowStoreFallbacks'), 1);
      assert.equal(store.health().available, false);
    } finally {
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
      admin.destroy();
      await flows.shutdown();
      await redis.stop();
    }
  });
});
