import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { fastifyCallback, fastifyPayments, payments } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const SECRET = 'a-secret-of-32-characters-length';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

// An application that declares every route on the root instance, as NestJS does with its
// controllers: the plugins cannot be registered in a scope of the payment routes alone, so they
// are told which routes are theirs.
describe('the Fastify plugins on the root instance, limited to their routes', () => {
  let session: TracingSession;
  let app: FastifyInstance;
  let url: string;

  beforeEach(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: { current: { id: 'k1', secret: SECRET } }, sweeper: false } });
    app = Fastify();
    await app.register(fastifyPayments, {
      routes: ['/api/payments'],
      extract: (request) => ({ tradeNo: request.json()?.tradeNo as string | undefined, provider: 'acme' }),
    });
    await app.register(fastifyCallback, { routes: ['/api/payments/notify'], tradeNo: (_request, fields) => fields?.trade_no as string | undefined });
    app.post('/api/payments', () => payments.create({}, (flow) => ({ notifyUrl: flow.notifyUrl('http://127.0.0.1/api/payments/notify') })));
    app.post('/api/payments/notify', () => Promise.resolve('success'));
    app.get('/health', () => Promise.resolve('ok'));
    app.post('/orders', () => Promise.resolve({ id: 7 }));
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterEach(async () => {
    await app.close();
    await session.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('traces the payment and notify routes only: other routes, and bodies refused on them, pass untouched', async () => {
    const created = (await (await post('/api/payments', JSON.stringify({ tradeNo: 'NEST-1' }), { traceparent: TRACEPARENT })).json()) as { notifyUrl: string };
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await post('/orders', '{"id":')).status, 400, 'a body refused on another route is answered as before');
    assert.equal((await post('/orders', '{}')).status, 200);
    const notifyPath = new URL(created.notifyUrl).pathname + new URL(created.notifyUrl).search;
    assert.equal(await (await post(notifyPath, JSON.stringify({ trade_no: 'NEST-1', status: 'PAID' }))).text(), 'success');
    assert.equal((await post('/api/payments/notify', '{"trade_no":')).status, 400);

    const [server] = await session.waitForSpans((s) => s.kind === 'SERVER');
    const [create] = await session.waitForSpans((s) => s.name === 'payment.create');
    const callbacks = await session.waitForSpans((s) => s.name === 'payment.callback', 2);
    // The payment stays in the trace it came in with: no other plugin's span came between.
    assert.equal(server.traceId, TRACE_ID);
    assert.equal(server.attributes['http.route'], '/api/payments');
    assert.equal(server.attributes['payment.trade_no'], 'NEST-1');
    assert.equal(create.traceId, TRACE_ID);
    assert.equal(create.parentSpanId, server.spanId);
    const [correlated, refused] = [callbacks.find((s) => s.attributes['payment.callback.refused'] !== true), callbacks.find((s) => s.attributes['payment.callback.refused'] === true)];
    assert.equal(correlated?.traceId, TRACE_ID, 'the notification joins the flow by its token');
    assert.equal(correlated?.attributes['payment.trade_no'], 'NEST-1');
    assert.ok(refused, 'a notification refused by the parser on the notify route is traced as refused');
    // Nothing else: no server span for /health or /orders in lean mode, no callback span for them.
    assert.deepEqual(
      session.spans().map((s) => s.name).sort(),
      ['POST /api/payments', 'payment.callback', 'payment.callback', 'payment.create'],
    );
    const health = session.handle.health();
    assert.equal(health.callbacks, 2);
    assert.equal(health.callbacksRefused, 1);
    assert.equal(health.callbacksUncorrelated, 1, 'the refused one carried no token');
  });
});

describe('the Fastify plugins given routes that are not a list of paths', () => {
  it('say so once and apply to every route, as without the option', async () => {
    const logs = captureWarnings();
    const session = await startTracingSession('memory', { instrumentHttp: false });
    const app = Fastify();
    try {
      await app.register(fastifyPayments, { routes: 42 as unknown as string[] });
      app.get('/anything', () => Promise.resolve('ok'));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      assert.equal((await fetch(`${url}/anything`)).status, 200);
      const [server] = await session.waitForSpans((s) => s.kind === 'SERVER');
      assert.equal(server.attributes['http.route'], '/anything');
      assert.equal(logs.warnings.filter((w) => w.includes('option routes of fastifyPayments is not a list of route paths')).length, 1, logs.warnings.join('\n'));
    } finally {
      logs.restore();
      await app.close();
      await session.stop();
    }
  });
});
