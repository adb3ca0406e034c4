import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { diag, DiagLogLevel, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { startRedisServer } from '@otel-checkout/test-support';
import type { StartedRedisServer } from '@otel-checkout/test-support';
import { expressCallback, FlowTokenSigner, RedisFlowStore } from '../../src/index.js';
import type { CallbackOptions, FlowContext, Flows, FlowsOptions, PaymentOutcome, PaymentRequest } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { Harness, KEYS } from './harness.js';
import { customFlowStore } from '../support/custom-store.js';

const STATUS_TABLE = { PAID: 'succeeded', WAIT_BUYER_PAY: 'pending', DECLINED: { outcome: 'failed', reason: 'risk_rejected' } } as const;

interface App {
  url: string;
  close(): Promise<void>;
  /** trace id of the active span inside the handler, per request */
  activeInHandler: string[];
}

async function startApp(harness: Harness, flows: Flows, extra: CallbackOptions = {}): Promise<App> {
  const app = express();
  const activeInHandler: string[] = [];
  const options: CallbackOptions = {
    flows,
    tradeNo: (req) => {
      const body = req.json();
      return typeof body?.trade_no === 'string' ? body.trade_no : undefined;
    },
    passbackField: 'metadata.passback',
    status: (req) => req.json()?.status as string | undefined,
    statusTable: STATUS_TABLE,
    ...extra,
  };
  app.use((req, _res, next) => harness.withServerSpan((span) => (req.on('close', () => span.end()), next())));
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use(express.raw({ type: 'application/octet-stream' }));
  app.post('/notify', expressCallback(options), (_req, res) => {
    activeInHandler.push(trace.getActiveSpan()?.spanContext().spanId ?? '');
    res.send('success');
  });
  app.post('/notify-fails', expressCallback(options), (_req, res) => {
    res.status(503).send('try later');
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    activeInHandler,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs `fn` against an app with flows of its own, closing both afterwards. */
async function withOwnApp(
  harness: Harness,
  setup: { flows?: FlowsOptions; callback?: CallbackOptions },
  fn: (own: { app: App; flows: Flows; health: HealthCounters }) => Promise<void>,
): Promise<void> {
  const { flows, health } = harness.flows(setup.flows);
  const app = await startApp(harness, flows, setup.callback);
  try {
    await fn({ app, flows, health });
  } finally {
    await app.close();
    await flows.shutdown();
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

async function post(app: App, path: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const isForm = typeof body === 'string' && !headers['content-type'];
  const response = await fetch(app.url + path, {
    method: 'POST',
    headers: { 'content-type': isForm ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

function assertChildOf(span: ReadableSpan, flow: FlowContext): void {
  assert.equal(span.spanContext().traceId, flow.traceId, 'same trace as payment.create');
  assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'parent: payment.create');
}

describe('expressCallback', function () {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  let app: App;

  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(async () => {
    ({ flows, health } = harness.flows());
    app = await startApp(harness, flows);
    harness.reset();
  });
  afterEach(async () => {
    await app.close();
    await flows.shutdown();
  });

  it('token in the notify URL query: SERVER child of payment.create with correlation, outcome, delay, link to the HTTP span', async () => {
    const flow = harness.createFlow('T-query');
    const notify = flows.notifyUrl(flow, 'https://shop.example/notify?src=bank#frag');
    assert.match(notify, /^https:\/\/shop\.example\/notify\?src=bank&otc_flow=[A-Za-z0-9_-]+#frag$/);
    assert.equal(await post(app, pathOf(notify.replace('#frag', '')), { trade_no: 'T-query', status: 'PAID' }), 200);
    const [span] = harness.callbacks();
    assert.ok(span);
    assertChildOf(span, flow);
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.attributes['payment.stage'], 'callback');
    assert.equal(span.attributes['payment.callback.correlation'], 'token_query');
    assert.equal(span.attributes['payment.trade_no'], 'T-query');
    assert.equal(span.attributes['payment.provider'], 'acme');
    assert.equal(span.attributes['payment.method'], 'card');
    assert.equal(span.attributes['payment.outcome'], 'succeeded');
    assert.equal(span.attributes['payment.provider.status'], 'PAID');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.attributes['payment.context.rejected'], undefined);
    assert.equal(span.attributes['payment.callback.duplicate'], undefined);
    const delay = span.attributes['payment.callback.delay'] as number;
    assert.ok(delay >= 0 && delay < 5, `delay ${delay}`);
    const http = harness.exporter.getFinishedSpans().find((s) => s.name === 'POST')!;
    assert.deepEqual(span.links.map((l) => l.context.spanId), [http.spanContext().spanId], 'linked to the HTTP server span');
    assert.deepEqual(app.activeInHandler, [span.spanContext().spanId], 'the handler runs inside payment.callback');
  });

  it('token in a JSON body field, a form body, a raw (Buffer) body, a header and the pass-back field', async () => {
    const cases: Array<[string, (token: string) => [unknown, Record<string, string>?], string]> = [
      ['T-json', (t) => [{ otc_flow: t, trade_no: 'T-json' }], 'token_body'],
      ['T-form', (t) => [`otc_flow=${t}&trade_no=T-form`], 'token_body'],
      ['T-raw', (t) => [`otc_flow=${t}`, { 'content-type': 'application/octet-stream' }], 'token_body'],
      ['T-header', (t) => [{ trade_no: 'T-header' }, { 'x-otc-flow': t }], 'token_header'],
      ['T-passback', (t) => [{ metadata: { passback: t } }], 'passback'],
    ];
    const flowsByTrade = new Map<string, FlowContext>();
    for (const [tradeNo, build, _] of cases) {
      const flow = harness.createFlow(tradeNo);
      flowsByTrade.set(tradeNo, flow);
      const [body, headers] = build(flows.passback(flow));
      assert.equal(await post(app, '/notify', body, headers), 200);
    }
    const spans = harness.callbacks();
    assert.equal(spans.length, cases.length);
    cases.forEach(([tradeNo, , correlation], i) => {
      assert.equal(spans[i].attributes['payment.callback.correlation'], correlation, tradeNo);
      assertChildOf(spans[i], flowsByTrade.get(tradeNo)!);
    });
  });

  it('takes the token from the query, else the body, else the header, else the pass-back field; a bad one before a genuine one does not mark the span', async () => {
    await withOwnApp(harness, { flows: { store: false } }, async ({ app: tokenOnly, flows: f, health: h }) => {
      const [inQuery, inBody, inHeader, inPassback] = ['Q', 'B', 'H', 'P'].map((name) => harness.createFlow(`T-order-${name}`));
      const send = (sources: { query?: boolean; body?: boolean; header?: boolean }, queryToken = f.passback(inQuery)) =>
        post(
          tokenOnly,
          sources.query ? `/notify?otc_flow=${queryToken}` : '/notify',
          { ...(sources.body ? { otc_flow: f.passback(inBody) } : {}), metadata: { passback: f.passback(inPassback) } },
          sources.header ? { 'x-otc-flow': f.passback(inHeader) } : {},
        );
      await send({ query: true, body: true, header: true });
      await send({ body: true, header: true });
      await send({ header: true });
      await send({});
      const spans = harness.callbacks();
      assert.deepEqual(
        spans.map((span) => span.attributes['payment.callback.correlation']),
        ['token_query', 'token_body', 'token_header', 'passback'],
      );
      [inQuery, inBody, inHeader, inPassback].forEach((flow, i) => assertChildOf(spans[i], flow));
      assert.equal(h.get('tokensRejected'), 0);

      harness.reset();
      await send({ query: true, body: true }, 'not-a-token');
      const [span] = harness.callbacks();
      assertChildOf(span, inBody);
      assert.equal(span.attributes['payment.callback.correlation'], 'token_body');
      assert.equal(span.attributes['payment.context.rejected'], undefined, 'a genuine token correlates it');
      assert.equal(h.get('tokensRejected'), 1, 'the bad value is still counted');
    });
  });

  it('a token header sent twice: the same token both times correlates, two different tokens are rejected', async () => {
    await withOwnApp(harness, { flows: { store: false } }, async ({ app: tokenOnly, flows: f, health: h }) => {
      const [first, second] = ['A', 'B'].map((name) => harness.createFlow(`T-twice-${name}`));
      // What Node hands the application for a repeated header: its values joined with ", ".
      assert.equal(await post(tokenOnly, '/notify', {}, { 'x-otc-flow': `${f.passback(first)}, ${f.passback(first)}` }), 200);
      assert.equal(await post(tokenOnly, '/notify', {}, { 'x-otc-flow': `${f.passback(first)},${f.passback(second)}` }), 200);
      const [same, different] = harness.callbacks();
      assert.equal(same.attributes['payment.callback.correlation'], 'token_header');
      assertChildOf(same, first);
      assert.equal(different.attributes['payment.callback.correlation'], 'none');
      assert.notEqual(different.spanContext().traceId, first.traceId);
      assert.notEqual(different.spanContext().traceId, second.traceId);
      assert.equal(h.get('tokensRejected'), 1);
    });
  });

  it('store by trade number when the provider carries no token', async () => {
    const flow = harness.createFlow('T-store');
    flows.returnUrl(flow, 'https://shop.example/return');
    await flows.whenRecorded();
    await post(app, '/notify', { trade_no: 'T-store', status: 'DECLINED' });
    const [span] = harness.callbacks();
    assertChildOf(span, flow);
    assert.equal(span.attributes['payment.callback.correlation'], 'store');
    assert.equal(span.attributes['payment.outcome'], 'failed');
    assert.equal(span.attributes['payment.failure.reason'], 'risk_rejected');
  });

  it('the trade number from a raw form body (fields) finds the flow in the store', async () => {
    await withOwnApp(harness, { callback: { tradeNo: (_req, fields) => fields?.trade_no as string | undefined } }, async ({ app: app2, flows: f2 }) => {
      const flow = harness.createFlow('T-rawform');
      f2.returnUrl(flow, '/r');
      await f2.whenRecorded();
      await post(app2, '/notify', 'trade_no=T-rawform&status=PAID', { 'content-type': 'application/octet-stream' });
      const [span] = harness.callbacks();
      assertChildOf(span, flow);
      assert.equal(span.attributes['payment.callback.correlation'], 'store');
    });
  });

  it('no correlation at all: a new trace, payment.context.rejected = missing, counted', async () => {
    await post(app, '/notify', { trade_no: 'never-seen' });
    const [span] = harness.callbacks();
    assert.equal(span.parentSpanContext, undefined, 'a root span');
    assert.equal(span.attributes['payment.callback.correlation'], 'none');
    assert.equal(span.attributes['payment.context.rejected'], 'missing');
    assert.equal(span.attributes['payment.callback.delay'], undefined);
    assert.equal(health.get('callbacksUncorrelated'), 1);
  });

  it('two instances each on their own in-memory store: the callback joins its flow by token, and the store miss is counted and said', async () => {
    // The instance that minted the URL keeps the flow; the provider's callback lands on the other.
    await withOwnApp(harness, { flows: { sweeper: false } }, async ({ flows: minting }) => {
      const flow = harness.createFlow('T-other-instance');
      const notify = minting.notifyUrl(flow, 'http://x/notify');
      await minting.whenRecorded();
      await withOwnApp(harness, { flows: { sweeper: false } }, async ({ app: other, health: otherHealth }) => {
        const warnings: string[] = [];
        const record = (message: string): void => void warnings.push(message);
        diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
        try {
          await post(other, pathOf(notify), { trade_no: 'T-other-instance', status: 'PAID' });
          await post(other, pathOf(notify), { trade_no: 'T-other-instance', status: 'PAID' });
        } finally {
          diag.disable();
        }
        const said = warnings.filter((w) => w.includes('use RedisFlowStore'));
        assert.equal(said.length, 1, 'said once');
        // Both causes: a hook reading another field than the flow's trade number is as common.
        assert.match(said[0], /tradeNo hook reads another field/);
        const [span] = harness.callbacks();
        assertChildOf(span, flow);
        assert.equal(span.attributes['payment.callback.correlation'], 'token_query');
        assert.equal(otherHealth.get('callbacksNotInStore'), 2, 'each callback of the flow');
        assert.equal(otherHealth.get('callbacksUncorrelated'), 0);
      });
      assert.equal(await minting.store!.size(), 1, 'the minting instance still waits for it: it would report it stalled');
    });
    // A flow this store knows is no miss, nor is a callback without a genuine token.
    const known = harness.createFlow('T-known');
    await post(app, pathOf(flows.notifyUrl(known, 'http://x/notify')), { trade_no: 'T-known', status: 'PAID' });
    await post(app, '/notify', { trade_no: 'never-seen-either' });
    assert.equal(health.get('callbacksNotInStore'), 0);
  });

  it('a forged token never becomes a parent (new trace, bad_signature, counted)', async () => {
    const victim = harness.createFlow('T-forged');
    const forged = new FlowTokenSigner({ current: { id: 'k1', secret: 'attacker-guess-0123456789abcdef' } }).mint(victim, Date.now() / 1000)!;
    await post(app, `/notify?otc_flow=${forged}`, { trade_no: 'unknown-trade' });
    const [span] = harness.callbacks();
    assert.notEqual(span.spanContext().traceId, victim.traceId);
    assert.equal(span.parentSpanContext, undefined);
    assert.equal(span.attributes['payment.context.rejected'], 'bad_signature');
    assert.equal(span.attributes['payment.callback.correlation'], 'none');
    assert.equal(health.get('tokensRejected'), 1);
  });

  it('a forged token with a known trade number: the store record is the parent, the rejection is recorded', async () => {
    const flow = harness.createFlow('T-forged-store');
    flows.returnUrl(flow, '/r');
    await flows.whenRecorded();
    await post(app, '/notify?otc_flow=AAAAinvalid', { trade_no: 'T-forged-store' });
    const [span] = harness.callbacks();
    assertChildOf(span, flow);
    assert.equal(span.attributes['payment.callback.correlation'], 'store');
    assert.equal(span.attributes['payment.context.rejected'], 'malformed');
  });

  it('a valid token of another flow: the flow the store holds for this trade number wins (flow_mismatch)', async () => {
    const mine = harness.createFlow('T-mine');
    const other = harness.createFlow('T-other');
    flows.returnUrl(mine, '/r');
    const otherToken = flows.passback(other);
    await flows.whenRecorded();
    await post(app, `/notify?otc_flow=${otherToken}`, { trade_no: 'T-mine' });
    const [span] = harness.callbacks();
    assertChildOf(span, mine);
    assert.equal(span.attributes['payment.callback.correlation'], 'store');
    assert.equal(span.attributes['payment.context.rejected'], 'flow_mismatch');
  });

  it('an expired token is rejected (expired) and does not parent the callback', async () => {
    const flow = harness.createFlow('T-expired');
    const old = new FlowTokenSigner(KEYS).mint(flow, Date.now() / 1000 - 49 * 3600)!;
    await post(app, `/notify?otc_flow=${old}`, { trade_no: 'T-nothing-stored' });
    const [span] = harness.callbacks();
    assert.notEqual(span.spanContext().traceId, flow.traceId);
    assert.equal(span.attributes['payment.context.rejected'], 'expired');
  });

  it('duplicate notifications are marked; each is still a child of payment.create', async () => {
    const flow = harness.createFlow('T-dup');
    const notify = flows.notifyUrl(flow, 'http://x/notify');
    await flows.whenRecorded();
    for (let i = 0; i < 3; i++) await post(app, pathOf(notify), { trade_no: 'T-dup', status: 'PAID' });
    const spans = harness.callbacks();
    assert.deepEqual(spans.map((s) => s.attributes['payment.callback.duplicate']), [undefined, true, true]);
    for (const span of spans) assertChildOf(span, flow);
    assert.equal(health.get('callbacksDuplicate'), 2);
  });

  it('a "still pending" notification keeps the flow waiting: the final one ends it, not as a duplicate', async () => {
    const flow = harness.createFlow('T-pending');
    const notify = flows.notifyUrl(flow, 'http://x/notify');
    await flows.whenRecorded();
    await post(app, pathOf(notify), { trade_no: 'T-pending', status: 'WAIT_BUYER_PAY' });
    assert.equal(await flows.store!.size(), 1, 'waiting again after the pending notification');
    await post(app, pathOf(notify), { trade_no: 'T-pending', status: 'WAIT_BUYER_PAY' });
    await post(app, pathOf(notify), { trade_no: 'T-pending', status: 'PAID' });
    assert.equal(await flows.store!.size(), 0, 'the final notification took it');
    await post(app, pathOf(notify), { trade_no: 'T-pending', status: 'PAID' });
    const spans = harness.callbacks();
    assert.deepEqual(
      spans.map((s) => [s.attributes['payment.outcome'], s.attributes['payment.callback.duplicate']]),
      [
        ['pending', undefined],
        ['pending', undefined],
        ['succeeded', undefined],
        ['succeeded', true],
      ],
    );
    for (const span of spans) assertChildOf(span, flow);
    assert.equal(health.get('callbacksDuplicate'), 1);
  });

  it('a status the table does not map keeps the flow waiting too: recorded as unmapped, and the final notification ends the flow, not as a duplicate', async () => {
    const flow = harness.createFlow('T-unmapped');
    const notify = flows.notifyUrl(flow, 'http://x/notify');
    await flows.whenRecorded();
    await post(app, pathOf(notify), { trade_no: 'T-unmapped', status: 'UNDER_REVIEW' });
    assert.equal(await flows.store!.size(), 1, 'still waiting after the unmapped status');
    await post(app, pathOf(notify), { trade_no: 'T-unmapped', status: 'PAID' });
    assert.equal(await flows.store!.size(), 0, 'the final notification took it');
    const spans = harness.callbacks();
    assert.deepEqual(
      spans.map((s) => [s.attributes['payment.outcome'], s.attributes['payment.failure.reason'], s.attributes['payment.callback.duplicate']]),
      [
        ['unknown', 'unmapped_status', undefined],
        ['succeeded', undefined, undefined],
      ],
    );
    assert.deepEqual(
      spans[0].events.map((e) => [e.name, e.attributes?.['payment.provider.status']]),
      [['payment.status.unmapped', 'UNDER_REVIEW']],
    );
    for (const span of spans) assertChildOf(span, flow);
    assert.equal(health.get('callbacksDuplicate'), 0);
  });

  it('a flow whose only notification had an unmapped status is reported stalled at its deadline, in its trace, with that status', async () => {
    await withOwnApp(harness, { flows: { deadlines: 0.001, sweeper: { intervalMs: 10 } } }, async ({ app: quickApp, flows: quick }) => {
      const flow = harness.createFlow('T-unmapped-stalled');
      quick.notifyUrl(flow, 'http://x/notify');
      await quick.whenRecorded();
      await post(quickApp, '/notify', { trade_no: 'T-unmapped-stalled', status: 'UNDER_REVIEW' });
      const stalled = harness.whenExported((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === 'T-unmapped-stalled');
      quick.start();
      const stalledSpan = await stalled;
      assertChildOf(stalledSpan, flow);
      assert.equal(stalledSpan.attributes['payment.outcome'], 'stalled');
      assert.equal(stalledSpan.attributes['payment.provider.status'], 'UNDER_REVIEW', 'what the provider last said');
      assert.equal(stalledSpan.attributes['payment.stalled.notified'], true);
      assert.equal(harness.callbacks()[0].attributes['payment.failure.reason'], 'unmapped_status');
    });
  });

  it('a custom store without keepWaiting still keeps a "still pending" flow waiting, through put', async () => {
    const custom = customFlowStore();
    await withOwnApp(harness, { flows: { store: custom, sweeper: false } }, async ({ app: customApp, flows: customFlows }) => {
      const flow = harness.createFlow('T-pending-custom');
      const notify = customFlows.notifyUrl(flow, 'http://x/notify');
      await customFlows.whenRecorded();
      await post(customApp, pathOf(notify), { trade_no: 'T-pending-custom', status: 'WAIT_BUYER_PAY' });
      assert.equal(await custom.size(), 1);
      await post(customApp, pathOf(notify), { trade_no: 'T-pending-custom', status: 'PAID' });
      assert.deepEqual(
        harness.callbacks().map((s) => [s.attributes['payment.outcome'], s.attributes['payment.callback.duplicate']]),
        [
          ['pending', undefined],
          ['succeeded', undefined],
        ],
      );
    });
  });

  it('after a "still pending" notification the flow gets a new deadline, from that notification', async () => {
    await withOwnApp(harness, { flows: { deadlines: 600, sweeper: false } }, async ({ app: timedApp, flows: timed }) => {
      const flow = harness.createFlow('T-pending-deadline');
      const notify = timed.notifyUrl(flow, 'http://x/notify');
      await timed.whenRecorded();
      const notifiedAt = Date.now();
      await post(timedApp, pathOf(notify), { trade_no: 'T-pending-deadline', status: 'WAIT_BUYER_PAY' });
      assert.deepEqual(await timed.store!.claimExpired(notifiedAt + 590_000, 10, 1000), [], 'not due before its new deadline');
      const [claimed] = await timed.store!.claimExpired(Date.now() + 601_000, 10, 1000);
      assert.equal(claimed.record.tradeNo, 'T-pending-deadline');
      assert.equal(claimed.record.spanId, flow.spanId, 'still parented to payment.create');
    });
  });

  it('a flow that stalls after a "still pending" notification says so: its stalled span carries the last status, a custom store\'s too', async () => {
    for (const store of [undefined, customFlowStore()]) {
      await withOwnApp(harness, { flows: { deadlines: 0.001, sweeper: { intervalMs: 10 }, ...(store ? { store } : {}) } }, async ({ app: quickApp, flows: quick }) => {
        const tradeNo = store ? 'T-abandoned-custom' : 'T-abandoned';
        const flow = harness.createFlow(tradeNo);
        quick.notifyUrl(flow, 'http://x/notify');
        await quick.whenRecorded();
        await post(quickApp, '/notify', { trade_no: tradeNo, status: 'WAIT_BUYER_PAY' });
        const stalled = harness.whenExported((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === tradeNo);
        quick.start();
        const stalledSpan = await stalled;
        assertChildOf(stalledSpan, flow);
        assert.equal(stalledSpan.attributes['payment.provider.status'], 'WAIT_BUYER_PAY');
        assert.equal(stalledSpan.attributes['payment.stalled.notified'], true);
      });
    }
  });

  it('with an outcome hook deciding, the status the status hook reads is still recorded: on the callback, and on the stalled span after it', async () => {
    const outcome = (req: PaymentRequest) => (req.json()?.status === 'PAID' ? 'succeeded' : 'pending') as PaymentOutcome;
    await withOwnApp(harness, { flows: { deadlines: 0.001, sweeper: { intervalMs: 10 } }, callback: { outcome } }, async ({ app: quickApp, flows: quick }) => {
      const flow = harness.createFlow('T-hook-pending');
      quick.notifyUrl(flow, 'http://x/notify');
      await quick.whenRecorded();
      await post(quickApp, '/notify', { trade_no: 'T-hook-pending', status: 'WAIT_BUYER_PAY' });
      const stalled = harness.whenExported((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === 'T-hook-pending');
      quick.start();
      const stalledSpan = await stalled;
      const [callback] = harness.callbacks();
      assert.equal(callback.attributes['payment.outcome'], 'pending');
      assert.equal(callback.attributes['payment.provider.status'], 'WAIT_BUYER_PAY');
      assert.equal(stalledSpan.attributes['payment.provider.status'], 'WAIT_BUYER_PAY');
      assert.equal(stalledSpan.attributes['payment.stalled.notified'], true);
    });
  });

  it('the span that ends a flow carries its release and canary cohort, from the store', async () => {
    await withOwnApp(harness, { flows: { deadlines: 0.001, sweeper: { intervalMs: 10 } } }, async ({ app: quickApp, flows: quick }) => {
      const paid = harness.createFlow('T-cohort', { release: 'web-2026.12.2', cohort: 'canary' });
      quick.notifyUrl(paid, 'http://x/notify');
      const stalledFlow = harness.createFlow('T-cohort-stalled', { release: 'web-2026.12.1', cohort: 'stable' });
      quick.returnUrl(stalledFlow, '/r');
      await quick.whenRecorded();
      // Written by another process (or an older version): validated before it becomes an attribute.
      await quick.store!.put({ ...harness.createFlow('T-cohort-bad'), tradeNo: 'T-cohort-bad', issuedAt: Date.now(), release: 'x'.repeat(300), cohort: 'blue' }, Date.now() + 60_000);
      await post(quickApp, '/notify', { trade_no: 'T-cohort', status: 'PAID' });
      await post(quickApp, '/notify', { trade_no: 'T-cohort-bad', status: 'PAID' });
      const stalled = harness.whenExported((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === 'T-cohort-stalled');
      quick.start();
      const stalledSpan = await stalled;
      const [callback, bad] = harness.callbacks();
      assert.equal(callback.attributes['checkout.release'], 'web-2026.12.2');
      assert.equal(callback.attributes['checkout.canary.cohort'], 'canary');
      assert.equal(stalledSpan.attributes['checkout.release'], 'web-2026.12.1');
      assert.equal(stalledSpan.attributes['checkout.canary.cohort'], 'stable');
      assert.equal(stalledSpan.attributes['payment.method'], 'card');
      assert.equal(stalledSpan.attributes['payment.provider.status'], undefined, 'the provider said nothing');
      assert.equal(stalledSpan.attributes['payment.stalled.notified'], undefined);
      assert.equal(bad.attributes['checkout.release'], undefined);
      assert.equal(bad.attributes['checkout.canary.cohort'], undefined);
    });
  });

  it('a callback after the flow was declared stalled is marked late, parented from the tombstone', async () => {
    await withOwnApp(harness, { flows: { deadlines: 0.001, sweeper: { intervalMs: 10 } } }, async ({ app: quickApp, flows: quick }) => {
      const flow = harness.createFlow('T-late');
      quick.returnUrl(flow, '/r');
      await quick.whenRecorded();
      const stalled = harness.whenExported((s) => s.name === 'payment.callback.stalled');
      quick.start();
      await stalled;
      await post(quickApp, '/notify', { trade_no: 'T-late', status: 'PAID' });
      const [span] = harness.callbacks();
      assertChildOf(span, flow);
      assert.equal(span.attributes['payment.callback.late'], true);
      assert.equal(span.attributes['payment.callback.correlation'], 'store');
      const stalledSpan = harness.exporter.getFinishedSpans().find((s) => s.name === 'payment.callback.stalled')!;
      assertChildOf(stalledSpan, flow);
      assert.equal(stalledSpan.status.code, SpanStatusCode.ERROR);
    });
  });

  it('without a status table the raw provider status is still recorded, with no outcome', async () => {
    await withOwnApp(harness, { callback: { statusTable: undefined } }, async ({ app: app2 }) => {
      await post(app2, '/notify', { trade_no: 'x', status: 'WAIT_BUYER_PAY' });
      const [span] = harness.callbacks();
      assert.equal(span.attributes['payment.provider.status'], 'WAIT_BUYER_PAY');
      assert.equal(span.attributes['payment.outcome'], undefined);
    });
  });

  it('a 5xx answer to the provider marks the callback span as an error', async () => {
    await post(app, '/notify-fails', {});
    const [span] = harness.callbacks();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['http.response.status_code'], 503);
  });

  it('a throwing user hook is counted and the callback still goes through', async () => {
    const callback: CallbackOptions = {
      tradeNo: () => {
        throw new Error('bug in extractor');
      },
    };
    await withOwnApp(harness, { callback }, async ({ app: app2, health: h2 }) => {
      assert.equal(await post(app2, '/notify', { trade_no: 'x' }), 200);
      assert.equal(harness.callbacks().length, 1);
      assert.equal(h2.get('hookErrors'), 1);
    });
  });
});

describe('expressCallback with Redis killed mid-test', function () {
  this.timeout(30_000);
  const harness = new Harness();
  let redis: StartedRedisServer;
  before(async () => {
    harness.install();
    redis = await startRedisServer();
  });
  after(async () => {
    harness.uninstall();
    await redis.stop();
  });

  it('create and callback requests still succeed, within a bounded time; fallbacks are counted exactly', async () => {
    const commandTimeoutMs = 300;
    const store = new RedisFlowStore({ url: redis.url, commandTimeoutMs, connectTimeoutMs: 5000 });
    // Connected before the first payment, so no put before the crash waits for the connection.
    await store.ready();
    const warnings: string[] = [];
    const record = (message: string): void => void warnings.push(message);
    diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    const { flows, health } = harness.flows({ store });
    const app = await startApp(harness, flows);
    const create = express();
    create.post('/pay', (_req, res) => {
      const flow = harness.createFlow(`R-${Math.random().toString(36).slice(2)}`);
      res.json({ notify: flows.notifyUrl(flow, 'http://x/notify'), tradeNo: flow.tradeNo });
    });
    const createServer: Server = await new Promise((resolve) => {
      const s = create.listen(0, '127.0.0.1', () => resolve(s));
    });
    const createUrl = `http://127.0.0.1:${(createServer.address() as { port: number }).port}/pay`;
    const pay = async () => (await (await fetch(createUrl, { method: 'POST' })).json()) as { notify: string; tradeNo: string };
    try {
      const before = await Promise.all([pay(), pay(), pay()]);
      await flows.whenRecorded();
      assert.equal(health.get('flowStoreFallbacks'), 0);

      await redis.kill();
      const started = Date.now();
      const during = await Promise.all([pay(), pay(), pay(), pay()]);
      assert.ok(Date.now() - started < 1000, 'minting does not wait for Redis');
      await flows.whenRecorded();
      assert.equal(health.get('flowStoreFallbacks'), 4, 'one fallback per flow that could not be recorded');

      // Callbacks: two for flows recorded before the crash, two for flows minted during it.
      const callbackStart = Date.now();
      for (const p of [before[0], before[1], during[0], during[1]]) {
        assert.equal(await post(app, pathOf(p.notify), { trade_no: p.tradeNo }), 200);
      }
      assert.ok(Date.now() - callbackStart < 4 * commandTimeoutMs + 1000, 'each callback waited at most the command timeout');
      assert.equal(health.get('flowStoreFallbacks'), 8, 'plus one per callback that could not read the store');
      const spans = harness.callbacks();
      assert.equal(spans.length, 4);
      for (const span of spans) {
        assert.equal(span.attributes['payment.callback.correlation'], 'token_query', 'token-only correlation');
        assert.ok(span.parentSpanContext, 'still parented to payment.create');
      }
      // The outage is said once where flows are recorded and once where callbacks read them, not per request.
      assert.equal(warnings.filter((w) => w.includes('could not record a flow')).length, 1, warnings.join('\n'));
      assert.equal(warnings.filter((w) => w.includes('could not be read for a callback')).length, 1, warnings.join('\n'));
    } finally {
      diag.disable();
      await app.close();
      await new Promise((resolve) => createServer.close(resolve));
      await flows.shutdown();
    }
  });
});
