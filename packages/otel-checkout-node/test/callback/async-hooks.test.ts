/* eslint-disable @typescript-eslint/require-await -- the hooks are async functions with nothing to await on purpose: that is what users write and what is tested */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { expressCallback } from '../../src/index.js';
import type { CallbackOptions, Flows } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { Harness } from './harness.js';
import { captureWarnings } from '../support/capture-warnings.js';

type Hooks = Pick<CallbackOptions, 'tradeNo' | 'status' | 'outcome'>;

/** What the provider was answered and the callback span recorded, without what differs from callback to callback. */
interface Seen {
  answer: string;
  recorded: Record<string, unknown>;
}

const RECORDED_TRADE_NO = 'T-ASYNC';

describe('callback hooks that return a promise (async functions)', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  /** What a route without the hook answers and records for the same notification. */
  let withoutHook: Seen;

  /**
   * Two notifications of a paid trade to an Express notify route with `hooks` and a status table,
   * then a request to another route of the same server: by then a rejection nobody handled has
   * been reported.
   */
  async function notifyTwice(hooks: Hooks): Promise<{ seen: Seen[]; unhandled: unknown[]; warnings: string[] }> {
    const app = express();
    app.post('/notify', expressCallback({ flows, ...hooks, statusTable: { TRADE_SUCCESS: 'succeeded' }, bodyParser: express.json() }), (_req, res) => {
      res.send('success');
    });
    app.get('/ping', (_req, res) => void res.send('pong'));
    const server = await listenOnLoopback(createServer(app));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const { warnings, restore } = captureWarnings();
    const answers: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${server.url}/notify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ out_trade_no: RECORDED_TRADE_NO, trade_status: 'TRADE_SUCCESS' }),
        });
        answers.push(`${response.status} ${await response.text()}`);
      }
      assert.equal(await (await fetch(`${server.url}/ping`)).text(), 'pong');
    } finally {
      restore();
      process.off('unhandledRejection', onUnhandled);
      await server.close();
    }
    const spans = harness.callbacks();
    assert.equal(spans.length, 2);
    const seen = spans.map((span, i) => ({
      answer: answers[i],
      recorded: Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith('payment.'))),
    }));
    return { seen, unhandled, warnings };
  }

  /** Flows of their own, with a flow recorded that a hook's resolved trade number would find and take. */
  async function freshFlows(): Promise<void> {
    ({ flows, health } = harness.flows({ sweeper: false }));
    flows.returnUrl(harness.createFlow(RECORDED_TRADE_NO), '/return');
    await flows.whenRecorded();
    harness.reset();
  }

  before(async () => {
    harness.install();
    await freshFlows();
    try {
      ({ seen: [withoutHook] } = await notifyTwice({}));
    } finally {
      await flows.shutdown();
    }
    assert.equal(withoutHook.answer, '200 success');
    assert.equal(withoutHook.recorded['payment.callback.correlation'], 'none');
    assert.equal(withoutHook.recorded['payment.outcome'], undefined);
  });
  after(() => harness.uninstall());
  beforeEach(freshFlows);
  afterEach(() => flows.shutdown());

  // Each resolves with what, used, would show: the recorded flow's trade number, a mapped status, an outcome.
  const cases: { hook: keyof Hooks; resolving: Hooks }[] = [
    { hook: 'tradeNo', resolving: { tradeNo: (async () => RECORDED_TRADE_NO) as unknown as CallbackOptions['tradeNo'] } },
    { hook: 'status', resolving: { status: (async () => 'TRADE_SUCCESS') as unknown as CallbackOptions['status'] } },
    { hook: 'outcome', resolving: { outcome: (async () => 'succeeded') as unknown as CallbackOptions['outcome'] } },
  ];
  for (const { hook, resolving } of cases) {
    const rejecting: Hooks = {
      [hook]: async () => {
        throw new Error(`${hook} bug`);
      },
    };
    for (const [how, hooks] of [
      ['rejects', rejecting],
      ['resolves', resolving],
    ] as const) {
      it(`${hook} hook that ${how}: no unhandled rejection, answered and recorded as without it, counted in hookErrors, said once`, async () => {
        const { seen, unhandled, warnings } = await notifyTwice(hooks);
        assert.deepEqual(unhandled, []);
        for (const callback of seen) assert.deepEqual(callback, withoutHook);
        assert.equal(await flows.store!.size(), 1, 'the recorded flow was not taken');
        assert.equal(health.get('hookErrors'), 2, 'each callback');
        const said = warnings.filter((w) => w.includes(`the callback ${hook} hook returned a promise`));
        assert.equal(said.length, 1, warnings.join('\n'));
        assert.match(said[0], /must be synchronous/);
      });
    }
  }
});
