/* eslint-disable @typescript-eslint/no-explicit-any -- the framework is passed in as a loaded module (fixtures install other majors), so it is untyped here */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  expressCallback,
  expressVerifyToken,
  fastifyCallback,
  fastifyVerifyToken,
  FlowTokenSigner,
  koaCallback,
  koaVerifyToken,
} from '../../src/index.js';
import type { CallbackOptions, FlowContext, Flows, PaymentRequest } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { Harness } from './harness.js';

export type CallbackFramework = 'express' | 'fastify' | 'koa';

/** What each framework's JSON parser names a malformed body, as `error.type`. */
const REFUSAL_TYPES: Record<CallbackFramework, RegExp> = {
  express: /^entity\.parse\.failed$/,
  fastify: /^(FST_ERR_CTP_INVALID_JSON_BODY|SyntaxError)$/,
  koa: /^SyntaxError$/, // co-body, under @koa/bodyparser, throws JSON.parse's own error
};

interface RunningApp {
  url: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** When the notify handler answers: at once, unless a test holds it back. */
interface AnswerGate {
  /** Called when the handler is reached, before it answers. */
  reached(): void;
  /** The handler answers once this resolves. */
  answerAfter(): Promise<void>;
}

/** POST /notify (callback middleware, JSON body when the framework parses it) and GET /verify-token. */
async function startApp(kind: CallbackFramework, framework: any, options: CallbackOptions, flows: Flows, seen: string[], gate: AnswerGate): Promise<RunningApp> {
  const handler = () => {
    seen.push(trace.getActiveSpan()?.spanContext().spanId ?? '');
    gate.reached();
    return gate.answerAfter();
  };
  if (kind === 'express') {
    const app = framework();
    app.post('/notify', expressCallback({ ...options, bodyParser: framework.json() }), async (_req: any, res: any) => {
      await handler();
      res.send('success');
    });
    app.get('/verify-token', expressVerifyToken({ flows }));
    const server = createServer(app);
    const url = await listen(server);
    return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  if (kind === 'fastify') {
    const app = framework();
    await app.register(async (scope: any) => {
      // Accepts the type (no 415) without parsing it, as a route set up to stop 415s does.
      scope.addContentTypeParser('text/xml', (_request: unknown, _payload: unknown, done: (error: null) => void) => done(null));
      await scope.register(fastifyCallback, options);
      scope.post('/notify', async () => {
        await handler();
        return 'success';
      });
    });
    app.get('/verify-token', fastifyVerifyToken({ flows }));
    const url: string = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  const app = new framework();
  const verify = koaVerifyToken({ flows });
  const callback = koaCallback({ ...options, bodyParser: koaBodyParser() });
  app.use(async (ctx: any, next: any) => {
    if (ctx.path === '/verify-token') return verify(ctx);
    return callback(ctx, async () => {
      await handler();
      ctx.body = 'success';
      await next();
    });
  });
  const server = createServer(app.callback());
  const url = await listen(server);
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * The callback middleware and verify handler on one framework: the flow found by token and by
 * store, the handler inside `payment.callback`, a forged token refused. Framework fixtures
 * call this with their own major version.
 */
export function describeCallbackMiddleware(name: string, kind: CallbackFramework, load: () => unknown): void {
  describe(`${name}: callback middleware and verify handler`, () => {
    const harness = new Harness();
    let flows: Flows;
    let health: HealthCounters;
    let app: RunningApp;
    const seen: string[] = [];
    const gate: AnswerGate = { reached: () => undefined, answerAfter: () => Promise.resolve() };
    const tradeNo = (req: PaymentRequest) => new URL(req.url, 'http://x').searchParams.get('trade_no') ?? (req.json()?.trade_no as string | undefined);

    before(() => harness.install());
    after(() => harness.uninstall());
    beforeEach(async () => {
      ({ flows, health } = harness.flows());
      seen.length = 0;
      gate.reached = () => undefined;
      gate.answerAfter = () => Promise.resolve();
      app = await startApp(kind, load(), { flows, tradeNo }, flows, seen, gate);
      harness.reset();
    });
    afterEach(async () => {
      await app.close();
      await flows.shutdown();
    });

    function checkOne(flow: FlowContext, correlation: string): void {
      const [span] = harness.callbacks();
      assert.ok(span, 'a payment.callback span');
      assert.equal(span.kind, SpanKind.SERVER);
      assert.equal(span.spanContext().traceId, flow.traceId);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'child of payment.create');
      assert.equal(span.attributes['payment.callback.correlation'], correlation);
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.deepEqual(seen, [span.spanContext().spanId], 'the handler runs inside payment.callback');
    }

    it('token in the notify URL query', async () => {
      const flow = harness.createFlow('Q-1');
      const path = new URL(flows.notifyUrl(flow, 'http://x/notify?trade_no=Q-1'));
      assert.equal((await fetch(app.url + path.pathname + path.search, { method: 'POST' })).status, 200);
      checkOne(flow, 'token_query');
    });

    it('token in a JSON body', async () => {
      const flow = harness.createFlow('B-1');
      const response = await fetch(`${app.url}/notify?trade_no=B-1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ otc_flow: flows.passback(flow), trade_no: 'B-1' }),
      });
      assert.equal(response.status, 200);
      checkOne(flow, 'token_body');
      assert.equal(health.get('callbackBodiesUnread'), 0);
    });

    it("a body of a content type the route's parser skips: the handler runs, the body's loss is counted", async () => {
      const flow = harness.createFlow('X-1');
      const response = await fetch(`${app.url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: `<notify><otc_flow>${flows.passback(flow)}</otc_flow></notify>`,
      });
      assert.equal(response.status, 200);
      const [span] = harness.callbacks();
      assert.equal(span.attributes['payment.callback.correlation'], 'none', 'the token in the body was not found');
      assert.equal(seen.length, 1, 'the handler ran');
      assert.equal(health.get('callbackBodiesUnread'), 1);
      assert.equal(health.get('callbacksUncorrelated'), 1);
      assert.equal(health.get('callbacks'), 1);
    });

    it('no token: the flow store by trade number', async () => {
      const flow = harness.createFlow('S-1');
      flows.returnUrl(flow, '/return');
      await flows.whenRecorded();
      assert.equal((await fetch(`${app.url}/notify?trade_no=S-1`, { method: 'POST' })).status, 200);
      checkOne(flow, 'store');
    });

    it('the token and no trade number (a provider that sends back only the pass-back): the flow ends in the store, the span has its trade number, a copy is a duplicate', async () => {
      const flow = harness.createFlow('N-1');
      flows.notifyUrl(flow, 'http://x/notify');
      await flows.whenRecorded();
      const send = () =>
        fetch(`${app.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ otc_flow: flows.passback(flow) }) });
      assert.equal((await send()).status, 200);
      checkOne(flow, 'token_body');
      assert.equal(await flows.store!.size(), 0, 'taken: it will not be reported stalled');
      assert.equal((await send()).status, 200);
      assert.deepEqual(
        harness.callbacks().map((span) => [span.attributes['payment.trade_no'], span.attributes['payment.provider'], span.attributes['payment.callback.duplicate']]),
        [
          ['N-1', 'acme', undefined],
          ['N-1', 'acme', true],
        ],
      );
    });

    it('a notification whose connection drops before the answer: an error without a status code, still in its flow', async () => {
      const flow = harness.createFlow('D-1');
      const handlerReached = new Promise<void>((resolve) => (gate.reached = resolve));
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      gate.answerAfter = () => answered;
      const callbackEnded = harness.whenExported((span) => span.name === 'payment.callback');
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`POST /notify?trade_no=D-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nx-otc-flow: ${flows.passback(flow)}\r\nContent-Length: 0\r\n\r\n`);
      await handlerReached;
      socket.destroy();
      const span = await callbackEnded;
      // The handler answers after the provider went away; nothing of that reaches the span.
      answer();
      assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'child of payment.create');
      assert.equal(span.attributes['http.response.status_code'], undefined, 'no status went to the provider');
      assert.equal(span.attributes['error.type'], '_OTHER');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(harness.callbacks().length, 1);
    });

    it('a notification its body parser refuses: payment.callback in its flow, marked refused, and the flow still waits for the next one', async () => {
      const flow = harness.createFlow('R-1');
      const notify = new URL(flows.notifyUrl(flow, 'http://x/notify?trade_no=R-1'));
      await flows.whenRecorded();
      const refusedEnded = harness.whenExported((span) => span.name === 'payment.callback');
      const refused = await fetch(app.url + notify.pathname + notify.search, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"trade_no": "R-1", "sign": "c2lnbmF0dXJlLW9mLXRoZS1wcm92aWRlcg", "status": ',
      });
      assert.equal(refused.status, 400);
      const span = await refusedEnded;
      assert.equal(span.spanContext().traceId, flow.traceId);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId, 'child of payment.create');
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['payment.callback.correlation'], 'token_query');
      assert.equal(span.attributes['payment.trade_no'], 'R-1', 'the tradeNo hook still reads the query');
      assert.equal(span.attributes['http.response.status_code'], 400);
      assert.equal(span.attributes['payment.outcome'], undefined);
      assert.match(String(span.attributes['error.type']), REFUSAL_TYPES[kind]);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.deepEqual(span.events, [], 'no exception event: parser messages quote the body');
      assert.doesNotMatch(JSON.stringify(span.attributes), /c2lnbmF0dXJl/);
      assert.deepEqual(seen, [], 'the handler never ran');

      // The provider sends it again, readable this time: it ends the flow, not as a duplicate.
      const final = await fetch(app.url + notify.pathname + notify.search, { method: 'POST' });
      assert.equal(final.status, 200);
      const callbacks = harness.callbacks();
      assert.equal(callbacks.length, 2);
      assert.equal(callbacks[1].attributes['payment.callback.refused'], undefined);
      assert.equal(callbacks[1].attributes['payment.callback.duplicate'], undefined);
      assert.equal(callbacks[1].parentSpanContext?.spanId, flow.spanId);
      // Both notifications the provider sent are callbacks; the refused one is also counted as such.
      assert.equal(health.get('callbacks'), 2);
      assert.equal(health.get('callbacksRefused'), 1);
      assert.equal(health.get('callbacksUncorrelated'), 0);
      assert.equal(health.get('callbackBodiesUnread'), 0, 'a refused body is counted as refused only');
    });

    it('verify handler: valid and forged tokens', async () => {
      const flow = harness.createFlow('V-1');
      const valid = flows.passback(flow);
      const forged = new FlowTokenSigner({ current: { id: 'k1', secret: 'somebody-elses-secret-0123' } }).mint(flow, Date.now() / 1000)!;
      const ask = async (token: string) => (await fetch(`${app.url}/verify-token?otc_flow=${token}`)).json();
      assert.deepEqual(await ask(valid), { valid: true, traceparent: `00-${flow.traceId}-${flow.spanId}-01` });
      assert.deepEqual(await ask(forged), { valid: false, reason: 'bad_signature' });
    });
  });
}
