import assert from 'node:assert/strict';
import { context, propagation } from '@opentelemetry/api';
import type { Server } from 'node:http';
import express from 'express';
import { expressCallback, MemoryFlowStore, payments } from '../../src/index.js';
import type { PaymentOutcome } from '../../src/index.js';
import { runtime } from '../../src/runtime.js';
import { KEYS } from '../callback/harness.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// Past every flow's deadline (30 minutes by default), within the store's retention (48 hours).
const PAST_DEADLINES = Date.now() + 3600 * 1000;

describe('a flow that ends at payment.create', () => {
  let session: TracingSession;
  let store: MemoryFlowStore;

  beforeEach(async () => {
    store = new MemoryFlowStore();
    session = await startTracingSession('memory', { instrumentHttp: false, release: 'api-2.0', flows: { keys: KEYS, store, sweeper: false } });
  });
  afterEach(() => session.stop());

  /** Runs a create that mints a notify URL and records `outcome` (or none); resolves once the store writes are done. */
  async function createFlow(tradeNo: string, outcome: PaymentOutcome | undefined, mintAfterOutcome = false): Promise<string> {
    let notifyUrl = '';
    await payments.create({ tradeNo, provider: 'acme', method: 'card' }, (flow) => {
      if (!mintAfterOutcome) notifyUrl = flow.notifyUrl('https://shop.example/notify');
      if (outcome) flow.recordOutcome(outcome, outcome === 'failed' ? { reason: 'risk_rejected' } : undefined);
      if (mintAfterOutcome) notifyUrl = flow.notifyUrl('https://shop.example/notify');
    });
    await runtime().flows.whenRecorded();
    return notifyUrl;
  }

  for (const outcome of ['succeeded', 'failed', 'cancelled'] as const) {
    it(`${outcome} there: the store lets it go, so it is never reported stalled`, async () => {
      await createFlow(`END-${outcome}`, outcome);
      assert.equal(await store.size(), 0);
      assert.deepEqual(await store.claimExpired(PAST_DEADLINES, 10, 1000), []);
      const late = await store.take(`END-${outcome}`);
      assert.equal(late.duplicate, true, 'a notification that still comes finds the tombstone');
      assert.equal(late.record?.tradeNo, `END-${outcome}`);
    });
  }

  for (const outcome of ['pending', 'unknown', undefined] as const) {
    it(`${outcome ?? 'no outcome'} there: it keeps waiting for its callback`, async () => {
      await createFlow(`WAIT-${outcome ?? 'none'}`, outcome);
      assert.equal(await store.size(), 1);
      const [claimed] = await store.claimExpired(PAST_DEADLINES, 10, 1000);
      assert.equal(claimed.record.tradeNo, `WAIT-${outcome ?? 'none'}`);
    });
  }

  it('the store remembers the release and cohort of payment.create, for the spans that end the flow', async () => {
    const bag = propagation.createBaggage({ 'checkout.release': { value: 'web-2026.12.2' }, 'checkout.canary.cohort': { value: 'canary' } });
    await context.with(propagation.setBaggage(context.active(), bag), () => createFlow('WAIT-canary', 'pending'));
    const [claimed] = await store.claimExpired(PAST_DEADLINES, 10, 1000);
    assert.equal(claimed.record.release, 'web-2026.12.2');
    assert.equal(claimed.record.cohort, 'canary');
    await createFlow('WAIT-own-release', undefined);
    const [own] = await store.claimExpired(PAST_DEADLINES, 10, 1000);
    assert.equal(own.record.release, 'api-2.0', "without baggage, this service's release");
    assert.equal(own.record.cohort, undefined);
  });

  it('the integration threw after minting the URL: failed there, and let go', async () => {
    await assert.rejects(
      payments.create({ tradeNo: 'END-threw', provider: 'acme' }, (flow) => {
        flow.notifyUrl('https://shop.example/notify');
        throw new Error('provider SDK crashed');
      }),
      /provider SDK crashed/,
    );
    await runtime().flows.whenRecorded();
    assert.equal(await store.size(), 0);
  });

  it('a URL minted after the final outcome does not put the flow back', async () => {
    await createFlow('END-then-mint', 'failed', true);
    assert.equal(await store.size(), 0);
    assert.deepEqual(await store.claimExpired(PAST_DEADLINES, 10, 1000), []);
  });

  /** A shop's notify endpoint on a loopback port, for as long as `use` runs. */
  async function withNotifyEndpoint(use: (notify: (notifyUrl: string, tradeNo: string, status?: string) => Promise<string>) => Promise<void>): Promise<void> {
    const app = express();
    app.use(express.json());
    const statusTable = { PAID: 'succeeded', WAIT_BUYER_PAY: 'pending' } as const;
    app.post('/notify', expressCallback({ tradeNo: (req) => req.json()?.trade_no as string | undefined, status: (req) => req.json()?.status as string | undefined, statusTable }), (_req, res) => {
      res.send('success');
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as { port: number };
    try {
      await use(async (notifyUrl, tradeNo, status = 'PAID') => {
        const target = new URL(notifyUrl);
        const response = await fetch(`http://127.0.0.1:${port}${target.pathname}${target.search}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ trade_no: tradeNo, status }),
        });
        return response.text();
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('the provider notifies anyway: the callback joins the flow as a duplicate, so it is not counted again', async () => {
    const notifyUrl = await createFlow('END-notified', 'succeeded');
    await withNotifyEndpoint(async (notify) => {
      assert.equal(await notify(notifyUrl, 'END-notified'), 'success');
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'END-notified');
      const callback = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['payment.trade_no'] === 'END-notified');
      assert.equal(callback.traceId, create.traceId);
      assert.equal(callback.parentSpanId, create.spanId);
      assert.equal(callback.attributes['payment.callback.duplicate'], true);
      assert.equal(callback.attributes['payment.outcome'], 'succeeded');
      assert.equal(create.attributes['payment.flow.already_ended'], undefined, 'create ended the flow: it counts');
    });
  });

  it('the provider notifies before payment.create returned: the callback ends the flow, and create is marked so it is not counted again', async () => {
    await withNotifyEndpoint(async (notify) => {
      await payments.create({ tradeNo: 'END-overtaken', provider: 'acme', method: 'card' }, async (flow) => {
        const notifyUrl = flow.notifyUrl('https://shop.example/notify');
        await runtime().flows.whenRecorded();
        // The webhook arrives while the shop still waits for the provider's answer.
        assert.equal(await notify(notifyUrl, 'END-overtaken'), 'success');
        flow.recordOutcome('succeeded');
      });
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'END-overtaken');
      const callback = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['payment.trade_no'] === 'END-overtaken');
      assert.equal(callback.parentSpanId, create.spanId);
      assert.equal(callback.attributes['payment.callback.duplicate'], undefined, 'the callback came first: it is the end');
      assert.equal(create.attributes['payment.outcome'], 'succeeded');
      assert.equal(create.attributes['payment.flow.already_ended'], true);
      assert.equal(await store.size(), 0);
    });
  });

  it('a "still pending" notification while payment.create runs takes nothing: create\'s final outcome still ends the flow', async () => {
    // The callback is held right after its store access, and create ends meanwhile: the
    // moment at which a pending notification that took the flow (to give it back) made
    // create's own end look like a duplicate, and the flow count nowhere.
    const take = store.take.bind(store);
    const keepWaiting = store.keepWaiting.bind(store);
    let callbackHeld: () => void = () => undefined;
    const whenCallbackHeld = new Promise<void>((resolve) => (callbackHeld = resolve));
    let releaseCallback: () => void = () => undefined;
    let hold: Promise<void> | undefined = new Promise<void>((resolve) => (releaseCallback = resolve));
    const heldOnce = async <T>(answer: Promise<T>): Promise<T> => {
      const result = await answer;
      const gate = hold;
      hold = undefined;
      if (gate !== undefined) {
        callbackHeld();
        await gate;
      }
      return result;
    };
    store.take = (tradeNo) => heldOnce(take(tradeNo));
    store.keepWaiting = (tradeNo, now) => heldOnce(keepWaiting(tradeNo, now));
    await withNotifyEndpoint(async (notify) => {
      let pendingAnswer: Promise<string> | undefined;
      await payments.create({ tradeNo: 'END-pending-meanwhile', provider: 'acme', method: 'card' }, async (flow) => {
        const notifyUrl = flow.notifyUrl('https://shop.example/notify');
        await runtime().flows.whenRecorded();
        pendingAnswer = notify(notifyUrl, 'END-pending-meanwhile', 'WAIT_BUYER_PAY');
        await whenCallbackHeld;
        flow.recordOutcome('succeeded');
      });
      await runtime().flows.whenRecorded();
      releaseCallback();
      assert.equal(await pendingAnswer, 'success');
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'END-pending-meanwhile');
      const pending = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['payment.trade_no'] === 'END-pending-meanwhile');
      assert.equal(pending.attributes['payment.outcome'], 'pending');
      assert.equal(pending.parentSpanId, create.spanId);
      assert.equal(pending.attributes['payment.callback.duplicate'], undefined);
      assert.equal(create.attributes['payment.flow.already_ended'], undefined, 'create ended the flow: it counts');
      assert.equal(await store.size(), 0);
      assert.deepEqual(await store.claimExpired(PAST_DEADLINES, 10, 1000), [], 'never reported stalled');
    });
  });

  it('a notification that reaches the store before the flow\'s own write ends the flow once the write lands', async () => {
    // The write of the flow is not awaited by the payment request; here it lags behind the
    // provider's notification (a store shared between instances, a client reconnecting).
    const put = store.put.bind(store);
    let releasePut: () => void = () => undefined;
    const putHeld = new Promise<void>((resolve) => (releasePut = resolve));
    store.put = async (record, deadline) => {
      await putHeld;
      return put(record, deadline);
    };
    await withNotifyEndpoint(async (notify) => {
      let notifyUrl = '';
      await payments.create({ tradeNo: 'END-before-write', provider: 'acme', method: 'card' }, (flow) => {
        notifyUrl = flow.notifyUrl('https://shop.example/notify');
        flow.recordOutcome('pending');
      });
      assert.equal(await notify(notifyUrl, 'END-before-write'), 'success');
      releasePut();
      await runtime().flows.whenRecorded();
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'END-before-write');
      const callback = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['payment.trade_no'] === 'END-before-write');
      assert.equal(callback.parentSpanId, create.spanId, 'correlated by its token');
      assert.equal(callback.attributes['payment.callback.duplicate'], undefined, 'the end of the flow');
      assert.equal(await store.size(), 0, 'the write landed as already taken');
      assert.deepEqual(await store.claimExpired(PAST_DEADLINES, 10, 1000), [], 'never reported stalled');
      assert.equal(await notify(notifyUrl, 'END-before-write'), 'success');
      const retry = await session.waitForSpan((s) => s.name === 'payment.callback' && s.attributes['payment.trade_no'] === 'END-before-write' && s.spanId !== callback.spanId);
      assert.equal(retry.attributes['payment.callback.duplicate'], true, "the provider's retry is a duplicate");
    });
  });

  it('a store slower than the wait does not hold payment.create: its span ends unmarked', async () => {
    const take = store.take.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    store.take = async (tradeNo) => {
      await held;
      return take(tradeNo);
    };
    try {
      // Resolves although the store has not answered (and never would, without the release below).
      await payments.create({ tradeNo: 'END-slow-store', provider: 'acme' }, (flow) => {
        flow.notifyUrl('https://shop.example/notify');
        flow.recordOutcome('succeeded');
      });
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'END-slow-store');
      assert.equal(create.attributes['payment.flow.already_ended'], undefined);
    } finally {
      release();
    }
    await runtime().flows.whenRecorded();
    assert.equal(await store.size(), 0, 'the store let the flow go in the background');
  });

  it('a store that fails to let go is counted and the request is unaffected', async () => {
    store.take = () => Promise.reject(new Error('store down'));
    const before = session.handle.health().flowStoreFailures;
    await createFlow('END-store-down', 'succeeded');
    assert.equal(session.handle.health().flowStoreFailures, before + 1);
  });
});
