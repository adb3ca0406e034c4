import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { SpanKind, trace } from '@opentelemetry/api';
import Fastify from 'fastify';
import Koa from 'koa';
import { fastifyCallback, httpCallback, koaCallback } from '../../src/index.js';
import type { CallbackOptions, FlowContext, Flows, PaymentRequest } from '../../src/index.js';
import { Harness } from './harness.js';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const tradeFromQuery: CallbackOptions['tradeNo'] = (req) => new URL(req.url, 'http://x').searchParams.get('trade_no') ?? undefined;

describe('callback middleware on Fastify, Koa and node:http', () => {
  const harness = new Harness();
  let flows: Flows;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows } = harness.flows());
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  function check(flow: FlowContext, correlation: string, activeInHandler: string | undefined): void {
    const [span] = harness.callbacks();
    assert.ok(span, 'a payment.callback span');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.spanContext().traceId, flow.traceId);
    assert.equal(span.parentSpanContext?.spanId, flow.spanId);
    assert.equal(span.attributes['payment.callback.correlation'], correlation);
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(activeInHandler, span.spanContext().spanId, 'the handler runs inside payment.callback');
  }

  it('Fastify plugin: token in a JSON body, handler inside the callback span', async () => {
    const app = Fastify();
    let active: string | undefined;
    await app.register(async (scope) => {
      await scope.register(fastifyCallback, { flows, tradeNo: (req: PaymentRequest) => req.json()?.trade_no as string });
      scope.post('/notify', (_request, reply) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        void reply.send('success');
      });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const flow = harness.createFlow('F-1');
      const response = await fetch(`${url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ otc_flow: flows.passback(flow), trade_no: 'F-1' }),
      });
      assert.equal(await response.text(), 'success');
      check(flow, 'token_body', active);
    } finally {
      await app.close();
    }
  });

  it('Koa middleware: no token, found in the store by the trade number in the query', async () => {
    const app = new Koa();
    let active: string | undefined;
    app.use(koaCallback({ flows, tradeNo: tradeFromQuery }));
    app.use((ctx) => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      ctx.body = 'success';
    });
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own promise
    const server = createServer(app.callback());
    const url = await listen(server);
    try {
      const flow = harness.createFlow('K-1');
      flows.returnUrl(flow, '/return');
      await flows.whenRecorded();
      assert.equal((await fetch(`${url}/notify?trade_no=K-1`, { method: 'POST' })).status, 200);
      check(flow, 'store', active);
    } finally {
      await close(server);
    }
  });

  it('node:http wrapper: token in a header', async () => {
    let active: string | undefined;
    const server = createServer(
      httpCallback((_req, res) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        res.end('success');
      }, { flows }),
    );
    const url = await listen(server);
    try {
      const flow = harness.createFlow('H-1');
      assert.equal((await fetch(`${url}/notify`, { method: 'POST', headers: { 'x-otc-flow': flows.passback(flow) } })).status, 200);
      check(flow, 'token_header', active);
    } finally {
      await close(server);
    }
  });
});
