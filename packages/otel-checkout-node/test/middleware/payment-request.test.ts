import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { cohortOf } from '@otel-checkout/core';
import express from 'express';
import { expressPayments, httpPayments, payments } from '../../src/index.js';
import type { ResponseInfo } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_NON_JSON_BODIES } from '../../src/health-names.js';
import { paymentRequestOf } from '../../src/middleware/payment-request-view.js';
import { startTracingSession } from '../support/tracing-session.js';

describe('payment request body for extractors', () => {
  const cases: { title: string; view: { body?: unknown; rawBody?: string | Uint8Array }; json: unknown; counted: number }[] = [
    { title: 'a parsed object body', view: { body: { tradeNo: 'A' } }, json: { tradeNo: 'A' }, counted: 0 },
    { title: 'a raw JSON string', view: { rawBody: '{"tradeNo":"B"}' }, json: { tradeNo: 'B' }, counted: 0 },
    { title: 'a raw JSON buffer', view: { rawBody: Buffer.from('{"tradeNo":"C"}') }, json: { tradeNo: 'C' }, counted: 0 },
    { title: 'a byte body (express.raw)', view: { body: Buffer.from('{"tradeNo":"G"}') }, json: { tradeNo: 'G' }, counted: 0 },
    { title: 'a form body', view: { rawBody: 'trade_no=D&sign=abc' }, json: undefined, counted: 1 },
    { title: 'a raw body over 64 KiB', view: { rawBody: `{"pad":"${'x'.repeat(64 * 1024)}"}` }, json: undefined, counted: 1 },
    { title: 'XML', view: { body: '<xml><trade_no>E</trade_no></xml>' }, json: undefined, counted: 1 },
    { title: 'a JSON array', view: { rawBody: '[1,2]' }, json: undefined, counted: 1 },
    { title: 'no body', view: {}, json: undefined, counted: 0 },
  ];
  for (const testCase of cases) {
    it(`${testCase.title} → ${JSON.stringify(testCase.json)}`, () => {
      const health = new HealthCounters();
      const request = paymentRequestOf({ method: 'POST', url: '/pay', headers: {}, ...testCase.view }, health);
      assert.deepEqual(request.json(), testCase.json);
      assert.deepEqual(request.json(), testCase.json, 'parsed once, same answer');
      assert.equal(health.get(HEALTH_NON_JSON_BODIES), testCase.counted);
    });
  }
});

describe('canary cohort from a stable user id', () => {
  it('computes the cohort with cohortOf, records it and forwards it as baggage', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false, cohort: { salt: 'rollout-7', percent: 50 }, release: 'api-3' });
    const seen: string[] = [];
    const handler = httpPayments(
      async (_req, res) => {
        const traceId = await payments.create({}, (flow) => flow.traceId);
        const headers = await payments.create({}, (flow) => flow.providerCall('x', (call) => call.inject<Record<string, string>>()));
        seen.push(headers.baggage ?? '');
        res.end(traceId);
      },
      { userId: (request) => String(request.headers['x-user-id']) },
    );
    const app = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const response = await fetch(`${app.url}/pay`, { headers: { 'x-user-id': 'user-42' } });
      const traceId = await response.text();
      const expected = cohortOf('user-42', { salt: 'rollout-7', percent: 50 });
      const server = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
      assert.equal(server.attributes['checkout.canary.cohort'], expected.cohort);
      assert.equal(server.attributes['checkout.canary.bucket'], expected.bucket);
      assert.equal(server.attributes['checkout.release'], 'api-3');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.equal(create.attributes['checkout.canary.cohort'], expected.cohort);
      assert.equal(seen[0], `checkout.canary.cohort=${expected.cohort}`);
    } finally {
      await app.close();
      await session.stop();
    }
  });
});

describe('an unregistered outcome recorded in a payment route', () => {
  it('is counted in hookErrors once, though payment.create and the server span both record it', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const handler = httpPayments(async (_req, res) => {
      const traceId = await payments.create({ tradeNo: 'R-HOOK-ONCE' }, (flow) => {
        flow.recordOutcome('success' as 'succeeded');
        return flow.traceId;
      });
      res.end(traceId);
    });
    const app = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const before = session.handle.health().hookErrors;
      const traceId = await (await fetch(`${app.url}/pay`)).text();
      const server = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER');
      const create = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.create');
      assert.equal(server.attributes['payment.outcome'], 'unknown');
      assert.equal(create.attributes['payment.outcome'], 'unknown');
      assert.equal(session.handle.health().hookErrors, before + 1);
    } finally {
      await app.close();
      await session.stop();
    }
  });
});

describe('outcome hook when a handler threw and nothing was sent', () => {
  /** An outcome hook that hands over what it was given, and the promise of its first call. */
  function watchOutcome(): { outcome: (info: ResponseInfo) => undefined; seen: Promise<ResponseInfo> } {
    let report: (info: ResponseInfo) => void = () => undefined;
    const seen = new Promise<ResponseInfo>((resolve) => (report = resolve));
    return { outcome: (info) => (report(info), undefined), seen };
  }

  /** An Express app whose payment route throws `message`; `answer` is the app's last error handler. */
  function throwingExpressApp(
    outcome: (info: ResponseInfo) => undefined,
    message: string,
    answer: (res: express.Response) => void,
  ): Promise<Awaited<ReturnType<typeof listenOnLoopback>>> {
    const pay = expressPayments({ outcome });
    const app = express();
    app.use(pay);
    app.post('/pay', () => {
      throw new Error(message);
    });
    app.use(pay.errors);
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => answer(res));
    return listenOnLoopback(createServer(app));
  }

  it('Express: the error handler closes the connection without answering → statusCode 500', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const { outcome, seen } = watchOutcome();
    // Gives up on the request without a word, as a crashed worker or a proxy timeout would.
    const server = await throwingExpressApp(outcome, 'charge failed', (res) => void res.destroy());
    try {
      await assert.rejects(fetch(`${server.url}/pay`, { method: 'POST' }));
      const info = await seen;
      assert.equal(info.statusCode, 500);
      assert.equal((info.error as Error).message, 'charge failed');
    } finally {
      await server.close();
      await session.stop();
    }
  });

  it('node:http: the handler set 201 then rejected, the client gave up → statusCode 500', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const { outcome, seen } = watchOutcome();
    let threw: () => void = () => undefined;
    const handlerThrew = new Promise<void>((resolve) => (threw = resolve));
    const handler = httpPayments(async (_req, res) => {
      res.statusCode = 201;
      await Promise.resolve();
      setImmediate(threw);
      throw new Error('provider unreachable');
    }, { outcome });
    // The app handles its handler's rejections, but answers nothing.
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res).catch(() => undefined)));
    const abort = new AbortController();
    try {
      const request = fetch(`${server.url}/pay`, { method: 'POST', signal: abort.signal });
      await handlerThrew;
      abort.abort();
      await assert.rejects(request);
      const info = await seen;
      assert.equal(info.statusCode, 500);
      assert.equal((info.error as Error).message, 'provider unreachable');
    } finally {
      await server.close();
      await session.stop();
    }
  });

  it('an error the app answered keeps the status it sent', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const { outcome, seen } = watchOutcome();
    // Providers' style: errors answered as 200 with a code in the body.
    const server = await throwingExpressApp(outcome, 'declined', (res) => void res.json({ code: 'FAIL' }));
    try {
      assert.equal((await fetch(`${server.url}/pay`, { method: 'POST' })).status, 200);
      const info = await seen;
      assert.equal(info.statusCode, 200);
      assert.equal((info.error as Error).message, 'declined');
    } finally {
      await server.close();
      await session.stop();
    }
  });
});

describe('lean mode server span of a request nobody answered', () => {
  it('a connection closed before any response: an error (_OTHER), no status code, outcome from the hook', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    let seenRequest: () => void = () => undefined;
    const requestSeen = new Promise<void>((resolve) => (seenRequest = resolve));
    // The handler waits on a provider that never answers.
    const handler = httpPayments(() => {
      seenRequest();
      return new Promise<void>(() => undefined);
    });
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    const abort = new AbortController();
    try {
      const request = fetch(`${server.url}/pay`, { method: 'POST', signal: abort.signal });
      await requestSeen;
      abort.abort();
      await assert.rejects(request);
      const span = await session.waitForSpan((s) => s.kind === 'SERVER');
      assert.equal(span.status, 'ERROR');
      assert.equal(span.attributes['error.type'], '_OTHER');
      assert.equal(span.attributes['http.response.status_code'], undefined, 'the 200 a response starts with went to no client');
      assert.equal(span.attributes['url.scheme'], 'http');
    } finally {
      await server.close();
      await session.stop();
    }
  });
});

describe('default mode payment route on a request its caller did not sample', () => {
  it('reads the headers once: each bad one is counted once, and no second server span is started', async () => {
    const session = await startTracingSession('memory');
    const handler = httpPayments((_req, res) => {
      const active = trace.getActiveSpan();
      res.end(`${active?.spanContext().traceId} ${active?.isRecording()}`);
    });
    const server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const response = await fetch(`${server.url}/pay`, {
        method: 'POST',
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00`, tracestate: 'Bad=1,a=1', baggage: 'user.id=42' },
      });
      assert.equal(await response.text(), `${traceId} false`, 'in the caller\'s trace, not recorded');
      await session.handle.flush();
      const health = session.handle.health();
      assert.equal(health.malformedTracestate, 1);
      assert.equal(health.baggageDropped, 1);
      assert.deepEqual(session.spans(), []);
    } finally {
      await server.close();
      await session.stop();
    }
  });
});

describe('a client that goes away while the payment handler still runs', () => {
  for (const mode of ['lean', 'default'] as const) {
    it(`${mode} mode: the flow is traced; the ended server span is left alone, not warned about attribute by attribute`, async () => {
      const warnings: string[] = [];
      const record = (message: string): void => void warnings.push(message);
      diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
      const session = await startTracingSession('memory', { instrumentHttp: mode === 'default' });
      let handlerDone: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (handlerDone = resolve));
      const handler = httpPayments(async (_req, res) => {
        // Carries on after the client closed the connection, as a handler waiting on a provider does.
        if (!res.closed) await new Promise((resolve) => res.once('close', resolve));
        await payments.create({ tradeNo: 'GONE-1', provider: 'acme', method: 'card' }, (flow) => {
          flow.setTradeNo('GONE-2');
          flow.recordOutcome('failed', { reason: 'internal' });
        });
        handlerDone();
        throw new Error('nobody to answer');
      });
      const server = await listenOnLoopback(createServer((req, res) => void handler(req, res).catch(() => undefined)));
      const abort = new AbortController();
      try {
        const request = fetch(`${server.url}/pay`, { method: 'POST', signal: abort.signal });
        await new Promise((resolve) => setTimeout(resolve, 50));
        abort.abort();
        await assert.rejects(request);
        await done;
        const create = await session.waitForSpan((s) => s.name === 'payment.create');
        assert.equal(create.attributes['payment.trade_no'], 'GONE-2');
        const serverSpan = await session.waitForSpan((s) => s.kind === 'SERVER');
        assert.equal(serverSpan.attributes['error.type'], '_OTHER');
        assert.deepEqual(warnings.filter((w) => w.includes('ended Span')), []);
      } finally {
        await server.close();
        await session.stop();
        diag.disable();
      }
    });
  }
});

describe('httpPayments and a handler that rejects', () => {
  it('gives the app a promise that rejects the same way, with no unhandled rejection when the app handles it', async () => {
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const declined = new Error('declined');
    const handler = httpPayments(async () => {
      await Promise.resolve();
      throw declined;
    });
    const caught: unknown[] = [];
    const server = await listenOnLoopback(
      createServer((req, res) => {
        handler(req, res).catch((error: unknown) => {
          caught.push(error);
          res.statusCode = 502;
          res.end('handled');
        });
      }),
    );
    try {
      const response = await fetch(`${server.url}/pay`, { method: 'POST' });
      assert.equal(response.status, 502);
      assert.equal(await response.text(), 'handled');
      assert.deepEqual(caught, [declined], 'the app caught the handler’s own error');
      const span = await session.waitForSpan((s) => s.kind === 'SERVER');
      assert.equal(span.attributes['error.type'], 'Error');
      assert.ok(span.events.some((event) => event.name === 'exception'), 'the rejection is recorded on the span');
      // Unhandled rejections are reported once the microtask queue has drained: one turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await server.close();
      await session.stop();
    }
  });
});
