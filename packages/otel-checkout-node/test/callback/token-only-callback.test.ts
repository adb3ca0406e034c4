import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { expressCallback, FlowTokenSigner, MemoryFlowStore, RedisFlowStore } from '../../src/index.js';
import type { CallbackOptions, FlowContext, Flows, FlowStore, FlowsOptions } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { customFlowStore } from '../support/custom-store.js';
import { startRestartableRedis, untilResolved } from '../flow-store/restartable-redis.js';
import { redisServerForSuite } from '../support/redis-for-suite.js';
import { Harness, KEYS } from './harness.js';

/**
 * Provider notifications that carry the flow's token but no trade number (many providers send back
 * only the pass-back or metadata field): the flow store finds the flow by the token's
 * `payment.create` span, so the callback ends the flow there as one with a trade number does.
 */

const STATUS_TABLE = { TRADE_SUCCESS: 'succeeded', WAIT_BUYER_PAY: 'pending' } as const;
// Flows are due this long after their redirect was issued.
const DEADLINE_SECONDS = 0.3;

interface App {
  url: string;
  close(): Promise<void>;
}

/**
 * POST /notify: a tradeNo hook that reads `out_trade_no`, which these notifications lack; POST
 * /notify-no-hook: no tradeNo hook at all. Both read the status, and the token from the query, the
 * `otc_flow` body field (JSON or form), the `x-otc-flow` header and the `metadata.ref` pass-back field.
 */
async function startApp(flows: Flows): Promise<App> {
  const app = express();
  const common: CallbackOptions = {
    flows,
    passbackField: 'metadata.ref',
    status: (_req, fields) => fields?.trade_status as string | undefined,
    statusTable: STATUS_TABLE,
  };
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.post('/notify', expressCallback({ ...common, tradeNo: (_req, fields) => fields?.out_trade_no as string | undefined }), (_req, res) => {
    res.send('success');
  });
  app.post('/notify-no-hook', expressCallback(common), (_req, res) => {
    res.send('success');
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function post(app: App, path: string, body: string | object, headers: Record<string, string> = {}): Promise<void> {
  const form = typeof body === 'string';
  const response = await fetch(app.url + path, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: form ? body : JSON.stringify(body),
  });
  await response.text();
  assert.equal(response.status, 200);
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One way a notification carries the token, and nothing else of the flow. */
type Carrier = 'header' | 'body field' | 'pass-back' | 'query';
const CARRIERS: readonly Carrier[] = ['header', 'body field', 'pass-back', 'query'];
const CORRELATION: Record<Carrier, string> = { header: 'token_header', 'body field': 'token_body', 'pass-back': 'passback', query: 'token_query' };

/** Sends a notification with `status` that carries the flow's token the `carrier` way, and no trade number. */
function notifyByToken(app: App, flows: Flows, flow: FlowContext, carrier: Carrier, status: string): Promise<void> {
  switch (carrier) {
    case 'header':
      return post(app, '/notify', { trade_status: status }, { 'x-otc-flow': flows.passback(flow) });
    case 'body field':
      return post(app, '/notify', `otc_flow=${flows.passback(flow)}&trade_status=${status}`);
    case 'pass-back':
      return post(app, '/notify', { metadata: { ref: flows.passback(flow) }, trade_status: status });
    case 'query':
      return post(app, pathOf(flows.notifyUrl(flow, 'http://shop.example/notify-no-hook')), { trade_status: status });
  }
}

/** Flows with these trade numbers, each waiting for its callback in the store (notify URL minted, recorded). */
async function waitingFlows(harness: Harness, flows: Flows, ...tradeNos: string[]): Promise<FlowContext[]> {
  const made = tradeNos.map((tradeNo) => harness.createFlow(tradeNo));
  for (const flow of made) flows.notifyUrl(flow, 'http://shop.example/notify');
  await flows.whenRecorded();
  return made;
}

function callbacksOf(harness: Harness, flow: FlowContext): ReadableSpan[] {
  return harness.callbacks().filter((span) => span.spanContext().traceId === flow.traceId);
}

function stalledSpans(harness: Harness): ReadableSpan[] {
  return harness.exporter.getFinishedSpans().filter((span) => span.name === 'payment.callback.stalled');
}

/**
 * Lets every flow's deadline pass, starts the sweeper and waits for the stalled span of `control`
 * (a flow that got no callback): the sweeper claims every due flow in one batch, so any other
 * flow still waiting is reported stalled with it.
 */
async function sweepAfterDeadlines(harness: Harness, flows: Flows, control: FlowContext): Promise<ReadableSpan[]> {
  await sleep(DEADLINE_SECONDS * 1000 + 50);
  const controlStalled = harness.whenExported((span) => span.name === 'payment.callback.stalled' && span.spanContext().traceId === control.traceId);
  flows.start();
  await controlStalled;
  return stalledSpans(harness);
}

interface StoreKind {
  name: string;
  make(): FlowStore;
}

function describeTokenOnlyCallbacks(kind: StoreKind): void {
  describe(`a callback with a genuine flow token and no trade number (${kind.name})`, function () {
    this.timeout(20_000);
    const harness = new Harness();
    let flows: Flows;
    let health: HealthCounters;
    let store: FlowStore;
    let app: App;

    before(() => harness.install());
    after(() => harness.uninstall());
    beforeEach(async () => {
      store = kind.make();
      const options: FlowsOptions = { store, deadlines: DEADLINE_SECONDS, sweeper: { intervalMs: 20 } };
      ({ flows, health } = harness.flows(options));
      app = await startApp(flows);
      harness.reset();
    });
    afterEach(async () => {
      await app.close();
      await flows.shutdown();
    });

    it('in a header, a body field, the pass-back field or the query ends its flow: no stalled span follows, the span has what the store recorded, a copy is a duplicate', async () => {
      const byCarrier = new Map(CARRIERS.map((carrier) => [carrier, harness.createFlow(`TOK-${carrier}`, { release: 'web-2026.12.2', cohort: 'canary' })]));
      const control = harness.createFlow('TOK-control');
      flows.notifyUrl(control, 'http://shop.example/notify');
      // Recorded as the payment route records them: each flow mints its notify URL (and the pass-back).
      for (const flow of byCarrier.values()) flows.notifyUrl(flow, 'http://shop.example/notify');
      await flows.whenRecorded();

      for (const [carrier, flow] of byCarrier) await notifyByToken(app, flows, flow, carrier, 'TRADE_SUCCESS');
      assert.equal(await store.size(), 1, 'only the control flow still waits');
      for (const [carrier, flow] of byCarrier) {
        const [span] = callbacksOf(harness, flow);
        assert.equal(span.parentSpanContext?.spanId, flow.spanId, `${carrier}: a child of payment.create`);
        assert.deepEqual(
          {
            correlation: span.attributes['payment.callback.correlation'],
            tradeNo: span.attributes['payment.trade_no'],
            provider: span.attributes['payment.provider'],
            method: span.attributes['payment.method'],
            release: span.attributes['checkout.release'],
            cohort: span.attributes['checkout.canary.cohort'],
            outcome: span.attributes['payment.outcome'],
            duplicate: span.attributes['payment.callback.duplicate'],
            rejected: span.attributes['payment.context.rejected'],
          },
          {
            correlation: CORRELATION[carrier],
            tradeNo: `TOK-${carrier}`,
            provider: 'acme',
            method: 'card',
            release: 'web-2026.12.2',
            cohort: 'canary',
            outcome: 'succeeded',
            duplicate: undefined,
            rejected: undefined,
          },
          carrier,
        );
        const delay = span.attributes['payment.callback.delay'] as number;
        assert.ok(delay >= 0 && delay < 5, `${carrier}: delay ${delay} s, from the redirect the store recorded`);
      }

      // The provider sends each notification again.
      for (const [carrier, flow] of byCarrier) await notifyByToken(app, flows, flow, carrier, 'TRADE_SUCCESS');
      for (const [carrier, flow] of byCarrier) {
        assert.deepEqual(
          callbacksOf(harness, flow).map((span) => [span.attributes['payment.callback.duplicate'], span.attributes['payment.trade_no']]),
          [
            [undefined, `TOK-${carrier}`],
            [true, `TOK-${carrier}`],
          ],
          carrier,
        );
      }
      assert.equal(health.get('callbacksDuplicate'), CARRIERS.length);
      assert.equal(health.get('callbacksNotInStore'), 0);
      assert.equal(health.get('callbacksUncorrelated'), 0);

      const stalled = await sweepAfterDeadlines(harness, flows, control);
      assert.deepEqual(
        stalled.map((span) => span.attributes['payment.trade_no']),
        ['TOK-control'],
        'no flow whose final callback came is also reported stalled',
      );
    });

    it('"still pending", then final, by token only: the flow waits, then ends once; its copy is a duplicate', async () => {
      const [flow, control] = await waitingFlows(harness, flows, 'TOK-pending', 'TOK-pending-control');

      await notifyByToken(app, flows, flow, 'pass-back', 'WAIT_BUYER_PAY');
      assert.equal(await store.size(), 2, 'the pending notification took nothing');
      await notifyByToken(app, flows, flow, 'header', 'WAIT_BUYER_PAY');
      await notifyByToken(app, flows, flow, 'pass-back', 'TRADE_SUCCESS');
      assert.equal(await store.size(), 1, 'the final notification took it');
      await notifyByToken(app, flows, flow, 'pass-back', 'TRADE_SUCCESS');
      assert.deepEqual(
        callbacksOf(harness, flow).map((span) => [span.attributes['payment.outcome'], span.attributes['payment.callback.duplicate'], span.attributes['payment.trade_no']]),
        [
          ['pending', undefined, 'TOK-pending'],
          ['pending', undefined, 'TOK-pending'],
          ['succeeded', undefined, 'TOK-pending'],
          ['succeeded', true, 'TOK-pending'],
        ],
      );
      const stalled = await sweepAfterDeadlines(harness, flows, control);
      assert.deepEqual(
        stalled.map((span) => span.attributes['payment.trade_no']),
        ['TOK-pending-control'],
      );
    });

    it('a flow that only ever heard "still pending" by token is reported stalled, with that status', async () => {
      const [flow] = await waitingFlows(harness, flows, 'TOK-abandoned');
      await notifyByToken(app, flows, flow, 'query', 'WAIT_BUYER_PAY');
      const [stalled] = await sweepAfterDeadlines(harness, flows, flow);
      assert.equal(stalled.attributes['payment.provider.status'], 'WAIT_BUYER_PAY');
      assert.equal(stalled.attributes['payment.stalled.notified'], true);
    });

    it("a token of one flow never takes another: not a new payment's under the same trade number, nor a flow's of another trace with its span id", async () => {
      // The first payment under the trade number, then a second one that replaces it in the store.
      const first = harness.createFlow('TOK-same');
      flows.notifyUrl(first, 'http://shop.example/notify');
      const second = harness.createFlow('TOK-same');
      flows.notifyUrl(second, 'http://shop.example/notify');
      await flows.whenRecorded();

      await notifyByToken(app, flows, first, 'pass-back', 'TRADE_SUCCESS');
      const [firstSpan] = callbacksOf(harness, first);
      assert.equal(firstSpan.parentSpanContext?.spanId, first.spanId, 'still in its own trace, by its token');
      assert.equal(firstSpan.attributes['payment.callback.correlation'], 'passback');
      assert.equal(firstSpan.attributes['payment.trade_no'], undefined, 'not the second flow\'s record');
      assert.equal(health.get('callbacksNotInStore'), 1, 'its flow is not in the store any more');

      // Genuinely signed, naming the second flow's span id in another trace.
      const elsewhere = { ...second, traceId: '0af7651916cd43dd8448eb211c80319c' };
      const token = new FlowTokenSigner(KEYS).mint(elsewhere, Date.now() / 1000)!;
      await post(app, '/notify', { metadata: { ref: token }, trade_status: 'TRADE_SUCCESS' });
      assert.equal(await store.size(), 1, 'the second flow still waits for its own callback');

      await notifyByToken(app, flows, second, 'header', 'TRADE_SUCCESS');
      const [secondSpan] = callbacksOf(harness, second);
      assert.equal(secondSpan.attributes['payment.trade_no'], 'TOK-same');
      assert.equal(secondSpan.attributes['payment.callback.duplicate'], undefined, 'its own end, not a copy of another');
      assert.equal(await store.size(), 0);
    });
  });
}

describeTokenOnlyCallbacks({ name: 'MemoryFlowStore', make: () => new MemoryFlowStore() });

describe('with RedisFlowStore (real redis-server)', () => {
  const redis = redisServerForSuite();
  describeTokenOnlyCallbacks({ name: 'RedisFlowStore', make: () => new RedisFlowStore({ url: redis.url, keyPrefix: redis.keyPrefix('tok') }) });
});

describe('a callback with a token and no trade number, on a store that cannot find flows by span, or fails to', function () {
  this.timeout(20_000);
  const harness = new Harness();
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => harness.reset());

  async function withApp(store: FlowStore, fn: (own: { app: App; flows: Flows; health: HealthCounters }) => Promise<void>): Promise<void> {
    const { flows, health } = harness.flows({ store, deadlines: DEADLINE_SECONDS, sweeper: { intervalMs: 20 } });
    const app = await startApp(flows);
    try {
      await fn({ app, flows, health });
    } finally {
      await app.close();
      await flows.shutdown();
    }
  }

  it('a custom store without takeBySpan: as before (the flow waits on, and is reported stalled), but counted and said once, naming the remedy', async () => {
    const store = customFlowStore();
    const captured = captureWarnings();
    try {
      await withApp(store, async ({ app, flows, health }) => {
        const [flow] = await waitingFlows(harness, flows, 'TOK-custom');
        await notifyByToken(app, flows, flow, 'pass-back', 'TRADE_SUCCESS');
        await notifyByToken(app, flows, flow, 'query', 'WAIT_BUYER_PAY');
        assert.equal(await store.size(), 1, 'the store could not be asked: the flow still waits');
        const spans = callbacksOf(harness, flow);
        assert.deepEqual(
          spans.map((span) => [span.attributes['payment.callback.correlation'], span.attributes['payment.outcome'], span.attributes['payment.trade_no']]),
          [
            ['passback', 'succeeded', undefined],
            ['token_query', 'pending', undefined],
          ],
        );
        for (const span of spans) assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'still in its flow, by its token');
        assert.equal(health.get('callbacksNotInStore'), 2);
        assert.equal(health.get('flowStoreFallbacks'), 0, 'the store did not fail');
        const said = captured.warnings.filter((w) => w.includes('takeBySpan'));
        assert.equal(said.length, 1, captured.warnings.join('\n'));
        assert.match(said[0], /tradeNo hook/);
        assert.match(said[0], /reported stalled/);
        const [stalled] = await sweepAfterDeadlines(harness, flows, flow);
        assert.equal(stalled.attributes['payment.trade_no'], 'TOK-custom');
      });
    } finally {
      captured.restore();
    }
  });

  it('a store that fails to find it: counted as a failed take, correlated by token, and the take is made once the store answers', async () => {
    const memory = new MemoryFlowStore();
    let reachable = false;
    const store = customFlowStore(
      {
        takeBySpan: (traceId, spanId) => (reachable ? memory.takeBySpan(traceId, spanId) : Promise.reject(new Error('store away'))),
        keepWaitingBySpan: (traceId, spanId, now, lastStatus) =>
          reachable ? memory.keepWaitingBySpan(traceId, spanId, now, lastStatus) : Promise.reject(new Error('store away')),
      },
      memory,
    );
    const captured = captureWarnings();
    try {
      await withApp(store, async ({ app, flows, health }) => {
        const [final, pending] = await waitingFlows(harness, flows, 'TOK-away-final', 'TOK-away-pending');
        await notifyByToken(app, flows, final, 'header', 'TRADE_SUCCESS');
        await notifyByToken(app, flows, pending, 'header', 'WAIT_BUYER_PAY');
        assert.equal(health.get('flowStoreFailures'), 2);
        assert.equal(health.get('flowStoreFallbacks'), 2);
        assert.equal(health.get('callbacksNotInStore'), 0, 'a failure, not a store without the method');
        assert.equal(captured.warnings.filter((w) => w.includes('could not be read for a callback')).length, 1, captured.warnings.join('\n'));
        const [finalSpan] = callbacksOf(harness, final);
        assert.equal(finalSpan.parentSpanContext?.spanId, final.spanId, 'correlated by its token');
        assert.equal(finalSpan.attributes['payment.callback.correlation'], 'token_header');

        reachable = true;
        await flows.retryDeferredTakes();
        assert.equal((await memory.take('TOK-away-final')).duplicate, true, 'the final callback ended its flow once the store answered');
        assert.equal((await memory.take('TOK-away-pending')).duplicate, false, 'a pending one is no end: nothing was deferred for it');
      });
    } finally {
      captured.restore();
    }
  });

  it('RedisFlowStore down at the callback, back with its data: the deferred take by span ends the flow, so it is never reported stalled', async () => {
    const redis = await startRestartableRedis();
    // Bounds well above a loaded machine's pauses: with Redis stopped, the store's own client
    // (no offline queue) fails each command at once, so they never make the test wait.
    const store = new RedisFlowStore({ url: redis.url, commandTimeoutMs: 2000, connectTimeoutMs: 2000 });
    try {
      await store.ready();
      await withApp(store, async ({ app, flows, health }) => {
        const [flow, control] = await waitingFlows(harness, flows, 'TOK-redis-away', 'TOK-redis-control');
        await redis.stop();
        await notifyByToken(app, flows, flow, 'body field', 'TRADE_SUCCESS');
        assert.equal(health.get('flowStoreFallbacks'), 1);
        assert.equal(callbacksOf(harness, flow)[0].parentSpanContext?.spanId, flow.spanId, 'correlated by its token');
        await redis.start();
        // The store's client reconnects on its own; the deferred take is tried once it answers.
        await untilResolved(() => store.size());
        await flows.retryDeferredTakes();
        assert.equal(await store.size(), 1, 'the deferred take ended the flow; only the control flow waits');
        const stalled = await sweepAfterDeadlines(harness, flows, control);
        assert.deepEqual(
          stalled.map((span) => span.attributes['payment.trade_no']),
          ['TOK-redis-control'],
        );
      });
    } finally {
      // Closed whatever happened: a store left open keeps reconnecting, and the suite never ends.
      await store.close();
      await redis.close();
    }
  });
});
