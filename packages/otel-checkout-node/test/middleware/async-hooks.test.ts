/* eslint-disable @typescript-eslint/require-await -- the hooks are async functions with nothing to await on purpose: that is what users write and what is tested */
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import type { PaymentMiddlewareOptions } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';
import { runHook } from '../../src/middleware/guard.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

/** What a route answered and recorded for one payment, without what differs from request to request. */
interface Seen {
  status: number;
  body: string;
  /** The server span's `payment.*` and `checkout.*` attributes. */
  recorded: Record<string, unknown>;
}

const recordedKeys = (attributes: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(attributes).filter(([key]) => key.startsWith('payment.') || key.startsWith('checkout.')));

/**
 * Two payments through a node:http payment route with `options`, then a request to another path
 * of the same server: by then a rejection nobody handled has been reported. The route answers
 * 402 (the default outcome is `failed`), with the trade number its flow knows.
 */
async function payTwice(session: TracingSession, options: PaymentMiddlewareOptions): Promise<{ seen: Seen[]; unhandled: unknown[]; warnings: string[] }> {
  const route = httpPayments(async (_req, res) => {
    const { traceId, tradeNo } = await payments.create({}, (flow) => ({ traceId: flow.traceId, tradeNo: flow.tradeNo }));
    res.statusCode = 402;
    res.setHeader('x-trace-id', traceId);
    res.end(`trade number: ${tradeNo ?? 'none'}`);
  }, options);
  const server = await listenOnLoopback(
    createServer((req, res) => {
      if (req.url === '/ping') res.end('pong');
      else void route(req, res);
    }),
  );
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const { warnings, restore } = captureWarnings();
  const seen: Seen[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${server.url}/pay`, { method: 'POST', headers: { 'x-user-id': 'user-42' } });
      const body = await response.text();
      const traceId = response.headers.get('x-trace-id');
      const serverSpan = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
      seen.push({ status: response.status, body, recorded: recordedKeys(serverSpan.attributes) });
    }
    assert.equal(await (await fetch(`${server.url}/ping`)).text(), 'pong');
  } finally {
    restore();
    process.off('unhandledRejection', onUnhandled);
    await server.close();
  }
  return { seen, unhandled, warnings };
}

describe('payment middleware hooks that return a promise (async functions)', () => {
  let session: TracingSession;
  /** What the route answers and records with no hook at all. */
  let withoutHook: Seen;

  // A cohort, so that the userId hook is asked.
  const start = (): Promise<TracingSession> => startTracingSession('memory', { instrumentHttp: false, cohort: { salt: 'rollout-7', percent: 50 } });

  before(async () => {
    const baseline = await start();
    try {
      const { seen } = await payTwice(baseline, {});
      withoutHook = seen[0];
    } finally {
      await baseline.stop();
    }
    assert.equal(withoutHook.body, 'trade number: none');
    assert.equal(withoutHook.recorded['payment.outcome'], 'failed');
  });
  // A session each: every kind of problem is said once per tracing handle.
  beforeEach(async () => {
    session = await start();
  });
  afterEach(() => session.stop());

  const hooks: { kind: 'extract' | 'outcome' | 'userId'; counter: 'extractorErrors' | 'hookErrors'; resolving: PaymentMiddlewareOptions }[] = [
    // Each resolves with what, used, would show: a trade number, another outcome, a cohort.
    { kind: 'extract', counter: 'extractorErrors', resolving: { extract: (async () => ({ tradeNo: 'T-ASYNC' })) as unknown as PaymentMiddlewareOptions['extract'] } },
    { kind: 'outcome', counter: 'hookErrors', resolving: { outcome: (async () => ({ outcome: 'succeeded' })) as unknown as PaymentMiddlewareOptions['outcome'] } },
    { kind: 'userId', counter: 'hookErrors', resolving: { userId: (async () => 'user-42') as unknown as PaymentMiddlewareOptions['userId'] } },
  ];
  for (const { kind, counter, resolving } of hooks) {
    const rejecting: PaymentMiddlewareOptions = {
      [kind]: async () => {
        throw new Error(`${kind} bug`);
      },
    };
    for (const [how, options] of [
      ['rejects', rejecting],
      ['resolves', resolving],
    ] as const) {
      it(`${kind} hook that ${how}: no unhandled rejection, answered and recorded as without the hook, counted in ${counter}, said once`, async () => {
        const before = session.handle.health();
        const { seen, unhandled, warnings } = await payTwice(session, options);
        assert.deepEqual(unhandled, []);
        for (const payment of seen) assert.deepEqual(payment, withoutHook);
        const after = session.handle.health();
        assert.equal(after[counter] - before[counter], 2, 'each request');
        const other = counter === 'hookErrors' ? 'extractorErrors' : 'hookErrors';
        assert.equal(after[other], before[other]);
        const said = warnings.filter((w) => w.includes(`the ${kind} hook returned a promise`));
        assert.equal(said.length, 1, warnings.join('\n'));
        assert.match(said[0], /must be synchronous/);
      });
    }
  }
});

describe('runHook with a thenable that is no native promise', () => {
  const thenables: [string, () => PromiseLike<unknown>][] = [
    ['one whose then throws', () => ({ then: () => { throw new Error('then bug'); } }) as PromiseLike<unknown>],
    ['one that rejects through its then', () => ({ then: (_resolve: unknown, reject: (error: unknown) => void) => reject(new Error('rejected')) }) as PromiseLike<unknown>],
    ['a rejected promise of a subclass', () => new (class Later<T> extends Promise<T> {})((_resolve, reject) => reject(new Error('subclass')))],
  ];
  for (const [title, make] of thenables) {
    it(`${title}: the fallback, counted, no unhandled rejection`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      const health = new HealthCounters();
      try {
        assert.equal(runHook(health, 'hookErrors', 'test', 'fallback', make as unknown as () => string, undefined), 'fallback');
        // A macrotask later: past the microtasks the thenable's settlement and its report take.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      assert.deepEqual(unhandled, []);
      assert.equal(health.get('hookErrors'), 1);
    });
  }
});
