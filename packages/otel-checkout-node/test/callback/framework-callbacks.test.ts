import { createServer } from 'node:http';
import type { Server } from 'node:http';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import Fastify from 'fastify';
import Koa from 'koa';
import { expressCallback, fastifyCallback, httpCallback, koaCallback } from '../../src/index.js';
import type { Flows, HttpCallbackHandler, HttpCallbackOptions } from '../../src/index.js';
import { describeCallbackMiddleware } from './callback-suite.js';
import { Harness } from './harness.js';
import { listenWithSmallBodyLimit } from './small-body-express-app.js';

// The root install's majors; the framework fixtures run the same suite on the others.
describeCallbackMiddleware('Express 5', 'express', () => express);
describeCallbackMiddleware('Fastify 5', 'fastify', () => Fastify);
describeCallbackMiddleware('Koa 3', 'koa', () => Koa);

describe('callbacks refused before the callback middleware, as each framework refuses them', () => {
  const harness = new Harness();
  let flows: Flows;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows } = harness.flows());
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  it('Fastify: a content type it has no parser for (415), with its error code', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(fastifyCallback, { flows });
      scope.post('/notify', () => Promise.resolve('success'));
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const flow = harness.createFlow('X-1');
      const ended = harness.whenExported((span) => span.name === 'payment.callback');
      const response = await fetch(`${url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml', 'x-otc-flow': flows.passback(flow) },
        body: '<notify><trade_no>X-1</trade_no></notify>',
      });
      assert.equal(response.status, 415);
      const span = await ended;
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['error.type'], 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
      assert.equal(span.attributes['http.response.status_code'], 415);
    } finally {
      await app.close();
    }
  });

  it('Express: a body over the parser\'s limit (413), with its type; the answer stays the application\'s own', async () => {
    const server = await listenWithSmallBodyLimit(flows);
    try {
      const flow = harness.createFlow('E-1');
      const notify = new URL(flows.notifyUrl(flow, 'http://x/notify'));
      const ended = harness.whenExported((span) => span.name === 'payment.callback');
      const response = await fetch(`${server.url}${notify.pathname}${notify.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ trade_no: 'E-1', items: 'x'.repeat(100) }),
      });
      assert.equal(response.status, 413);
      assert.equal(await response.text(), 'refused');
      const span = await ended;
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.correlation'], 'token_query');
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['error.type'], 'entity.too.large');
      assert.equal(span.attributes['http.response.status_code'], 413);
    } finally {
      await server.close();
    }
  });

  it('Koa: a parser that answers itself instead of passing the request on is a refusal; the handler does not run', async () => {
    const app = new Koa();
    let handled = false;
    const answersItself = (ctx: Koa.Context): Promise<void> => {
      ctx.status = 415;
      ctx.body = 'unsupported';
      return Promise.resolve();
    };
    const callback = koaCallback({ flows, bodyParser: answersItself });
    app.use((ctx, next) =>
      callback(ctx, async () => {
        handled = true;
        ctx.body = 'success';
        await next();
      }),
    );
    const handle = app.callback();
    const server = await listenOnLoopback(createServer((req, res) => void handle(req, res)));
    try {
      const flow = harness.createFlow('K-1');
      const ended = harness.whenExported((span) => span.name === 'payment.callback');
      const response = await fetch(`${server.url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml', 'x-otc-flow': flows.passback(flow) },
        body: '<notify/>',
      });
      assert.equal(response.status, 415);
      const span = await ended;
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['error.type'], '_OTHER');
      assert.equal(span.attributes['http.response.status_code'], 415);
      assert.equal(handled, false);
    } finally {
      await server.close();
    }
  });

  it('Express: a parser that throws instead of calling next is a refusal too, answered by Express', async () => {
    const app = express();
    const throwingParser = (): void => {
      throw Object.assign(new Error('cannot parse'), { code: 'EPARSE' });
    };
    app.post('/notify', expressCallback({ flows, bodyParser: throwingParser }), (_req, res) => {
      res.send('success');
    });
    const server = await listenOnLoopback(createServer(app));
    try {
      const ended = harness.whenExported((span) => span.name === 'payment.callback');
      const response = await fetch(`${server.url}/notify`, { method: 'POST' });
      assert.equal(response.status, 500);
      const span = await ended;
      assert.equal(span.attributes['payment.callback.refused'], true);
      assert.equal(span.attributes['error.type'], 'EPARSE');
      assert.equal(span.attributes['payment.callback.correlation'], 'none');
    } finally {
      await server.close();
    }
  });
});

describe('node:http callback wrapper', () => {
  const harness = new Harness();
  let flows: Flows;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows } = harness.flows());
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  it('token in a header; the handler runs inside payment.callback', async () => {
    let active: string | undefined;
    const server: Server = createServer(
      httpCallback((_req, res) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        res.end('success');
      }, { flows }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const flow = harness.createFlow('H-1');
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/notify`;
      assert.equal((await fetch(url, { method: 'POST', headers: { 'x-otc-flow': flows.passback(flow) } })).status, 200);
      const [span] = harness.callbacks();
      assert.equal(span.kind, SpanKind.SERVER);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.correlation'], 'token_header');
      assert.equal(active, span.spanContext().spanId);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a notification whose connection drops before the answer: an error without a status code', async () => {
    const flow = harness.createFlow('H-2');
    let reached!: () => void;
    const handlerReached = new Promise<void>((resolve) => (reached = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const handler: HttpCallbackHandler = (_req, res) => {
      reached();
      void answered.then(() => res.end('success'));
    };
    await withHttpCallback(handler, {}, async (url) => {
      const callbackEnded = harness.whenExported((span) => span.name === 'payment.callback');
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nx-otc-flow: ${flows.passback(flow)}\r\nContent-Length: 0\r\n\r\n`);
      await handlerReached;
      socket.destroy();
      const span = await callbackEnded;
      answer();
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['http.response.status_code'], undefined);
      assert.equal(span.attributes['error.type'], '_OTHER');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    });
  });

  /** Serves `httpCallback(handler, options)` on a free port for the duration of `run`. */
  async function withHttpCallback(
    handler: HttpCallbackHandler,
    options: HttpCallbackOptions,
    run: (url: string) => Promise<void>,
  ): Promise<void> {
    const server: Server = createServer(httpCallback(handler, { flows, ...options }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      await run(`http://127.0.0.1:${(server.address() as { port: number }).port}/notify`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('readBody: finds the token in a form body and hands the body to the handler', async () => {
    let received: string | undefined;
    await withHttpCallback(
      (_req, res, body) => {
        received = body?.toString('utf8');
        res.end('success');
      },
      { readBody: true, passbackField: 'passback_params' },
      async (url) => {
        const flow = harness.createFlow('H-2');
        const form = new URLSearchParams({ trade_status: 'TRADE_SUCCESS', passback_params: flows.passback(flow) }).toString();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
        assert.equal(response.status, 200);
        assert.equal(received, form);
        const [span] = harness.callbacks();
        assert.equal(span.parentSpanContext?.spanId, flow.spanId);
        assert.equal(span.attributes['payment.callback.correlation'], 'passback');
      },
    );
  });

  it('readBody: a body over maxBodyBytes is not searched and reaches the handler whole', async () => {
    let received = '';
    await withHttpCallback(
      (req, res, body) => {
        assert.equal(body, undefined);
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (received += chunk));
        req.on('end', () => res.end('success'));
      },
      { readBody: true, maxBodyBytes: 16 },
      async (url) => {
        const flow = harness.createFlow('H-3');
        // Streamed without Content-Length, so the bound is hit while reading.
        const payload = JSON.stringify({ otc_flow: flows.passback(flow), padding: 'x'.repeat(5000) });
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(payload));
            controller.close();
          },
        });
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stream,
          duplex: 'half',
        });
        assert.equal(response.status, 200);
        assert.equal(received, payload);
        const [span] = harness.callbacks();
        assert.equal(span.attributes['payment.callback.correlation'], 'none');
      },
    );
  });
});
