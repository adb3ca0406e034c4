import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import type expressModule from 'express';
import { expressPayments, httpPayments } from '../../src/index.js';
import { INSTRUMENTATION_NAME } from '../../src/version.js';
import { httpGet as get } from '../support/http-get.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TEST_CARD = '4111111111111111';

describe('default mode HTTP server spans', () => {
  let session: TracingSession;
  let downstream: StartedHttpServer;
  let app: StartedHttpServer;

  before(async () => {
    session = await startTracingSession('memory');
    // Loaded after the start, as an application would; frameworkSpans is off, so no Express layer is wrapped.
    const express = createRequire(__filename)('express') as typeof expressModule;
    downstream = await startHttpServer((_req, res) => void res.end('stock: 3'));
    const api = express.Router();
    api.get('/orders/:id', (_req, res) => {
      res.json({ ok: true });
    });
    api.get('/stock', async (_req, res) => {
      res.send((await get(`${downstream.url}/stock`)).body);
    });
    const application = express();
    application.use('/api', api);
    application.get('/unavailable', (_req, res) => {
      res.status(503).send('later');
    });
    app = await listenOnLoopback(http.createServer(application));
  });

  after(async () => {
    await app?.close();
    await downstream?.close();
    await session?.stop();
  });

  beforeEach(() => session.clear());

  it('makes one SERVER span per request on any route, named by the Express route, with the HTTP attributes', async () => {
    const response = await get(`${app.url}/api/orders/42?card=${TEST_CARD}`);
    assert.equal(response.status, 200);
    const span = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/api/orders/42');
    assert.equal(span.name, 'GET /api/orders/:id');
    assert.equal(span.attributes['http.route'], '/api/orders/:id');
    assert.equal(span.attributes['http.request.method'], 'GET');
    assert.equal(span.attributes['url.scheme'], 'http');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.status, 'UNSET');
    assert.equal(span.scope, INSTRUMENTATION_NAME, 'made by this package, not instrumentation-http');
    assert.ok(!JSON.stringify(span.attributes).includes(TEST_CARD), 'the query string is not recorded');
    const all = await session.trace(span.traceId);
    assert.deepEqual(
      all.filter((s) => s.kind !== 'CLIENT').map((s) => s.name),
      ['GET /api/orders/:id'],
      "one span besides the test client's: no Express layer spans unless frameworkSpans is on",
    );
  });

  it("joins the caller's trace, and outgoing calls get CLIENT spans that propagate it", async () => {
    const caller = trace.getTracer('test-caller').startSpan('caller');
    // The test's own http.get is traced too: its CLIENT span, child of the caller, carries the context.
    const response = await context.with(trace.setSpan(ROOT_CONTEXT, caller), () => get(`${app.url}/api/stock`));
    caller.end();
    assert.equal(response.body, 'stock: 3');
    const traceId = caller.spanContext().traceId;
    const server = await session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER' && s.attributes['url.path'] === '/api/stock');
    const [outgoing, downstreamServer] = await Promise.all([
      session.waitForSpan((s) => s.kind === 'CLIENT' && s.parentSpanId === server.spanId),
      session.waitForSpan((s) => s.traceId === traceId && s.kind === 'SERVER' && s.attributes['url.path'] === '/stock'),
    ]);
    const callerCall = await session.waitForSpan((s) => s.kind === 'CLIENT' && s.parentSpanId === caller.spanContext().spanId);
    assert.equal(server.parentSpanId, callerCall.spanId, "the server span joined the caller's trace");
    assert.equal(outgoing.scope, '@opentelemetry/instrumentation-http', 'instrumentation-http made the outgoing CLIENT span');
    assert.equal(downstreamServer.parentSpanId, outgoing.spanId, 'the outgoing call carried the trace context');
    assert.equal(server.attributes['http.route'], '/api/stock');
  });

  it('marks a 5xx answer as an error (error.type is the status code), a 4xx not', async () => {
    assert.equal((await get(`${app.url}/unavailable`)).status, 503);
    assert.equal((await get(`${app.url}/missing`)).status, 404);
    const failed = await session.waitForSpan((s) => s.attributes['url.path'] === '/unavailable');
    assert.equal(failed.status, 'ERROR');
    assert.equal(failed.attributes['error.type'], '503');
    assert.equal(failed.name, 'GET /unavailable');
    const missing = await session.waitForSpan((s) => s.attributes['url.path'] === '/missing');
    assert.equal(missing.status, 'UNSET');
    assert.equal(missing.attributes['http.response.status_code'], 404);
    assert.equal(missing.name, 'GET', 'no route matched, so the span keeps the method as its name');
    assert.equal(missing.attributes['http.route'], undefined);
  });

  it("keeps the request's context in listeners of the request and response (a body read with req.on)", async () => {
    const server = await startHttpServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        trace.getTracer('test-app').startSpan(`handled ${body}`).end();
        res.end('ok');
      });
    });
    try {
      const response = await fetch(`${server.url}/orders`, { method: 'POST', body: 'order-1' });
      assert.equal(await response.text(), 'ok');
      const handled = await session.waitForSpan((s) => s.name === 'handled order-1');
      const [serverSpan] = await session.waitForSpans((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/orders');
      assert.equal(handled.traceId, serverSpan.traceId);
      assert.equal(handled.parentSpanId, serverSpan.spanId);
    } finally {
      await server.close();
    }
  });

  it('keeps the context for a body that arrives after the headers, and in an Express handler behind express.json()', async () => {
    const express = createRequire(__filename)('express') as typeof expressModule;
    const application = express();
    application.use(express.json());
    application.post('/late', (req, res) => {
      res.on('finish', () => trace.getTracer('test-app').startSpan('response finished').end());
      trace.getTracer('test-app').startSpan(`handled ${(req.body as { order: string }).order}`).end();
      res.json({ ok: true });
    });
    let requestSeen!: () => void;
    const seen = new Promise<void>((resolve) => (requestSeen = resolve));
    const server = await listenOnLoopback(
      http.createServer((req, res) => {
        requestSeen();
        application(req, res);
      }),
    );
    try {
      const answered = new Promise<number>((resolve, reject) => {
        const request = http.request(`${server.url}/late`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.flushHeaders();
        // The body is sent only once the server has the headers, so it comes in a later read of the socket.
        void seen.then(() => request.end(JSON.stringify({ order: 'late-1' })));
      });
      assert.equal(await answered, 200);
      const [serverSpan] = await session.waitForSpans((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/late');
      for (const name of ['handled late-1', 'response finished']) {
        const span = await session.waitForSpan((s) => s.name === name);
        assert.equal(span.traceId, serverSpan.traceId, name);
        assert.equal(span.parentSpanId, serverSpan.spanId, name);
      }
    } finally {
      await server.close();
    }
  });

  it('ends the span as an error when the connection closes before the response is complete', async () => {
    let requestSeen!: () => void;
    const seen = new Promise<void>((resolve) => (requestSeen = resolve));
    const server = await startHttpServer(() => requestSeen());
    try {
      const request = http.get(`${server.url}/hangs`, { agent: false });
      request.on('error', () => undefined);
      await seen;
      request.destroy();
      const span = await session.waitForSpan((s) => s.attributes['url.path'] === '/hangs');
      assert.equal(span.status, 'ERROR');
      assert.equal(span.attributes['error.type'], '_OTHER');
      assert.equal(span.attributes['http.response.status_code'], undefined);
    } finally {
      await server.close();
    }
  });
});

describe('default mode HTTP server spans of requests whose handler throws', () => {
  let session: TracingSession;

  before(async () => {
    session = await startTracingSession('memory');
  });

  after(async () => {
    await session?.stop();
  });

  beforeEach(() => session.clear());

  /** The class thrown below: `error.type` must name it, not the status code the app answered with. */
  class DeclinedError extends Error {}

  it("keeps a throwing listener's error class as error.type, with one exception event", async () => {
    // A server that answers 500 for a listener that throws (Node would crash the process):
    // the throw passes through the package's patched emit on its way to this catch.
    const guarded = http.createServer(() => {
      throw new DeclinedError('card declined');
    });
    const emit = guarded.emit.bind(guarded);
    guarded.emit = ((event: string, ...args: unknown[]): boolean => {
      try {
        return Reflect.apply(emit, guarded, [event, ...args]) as boolean;
      } catch {
        const res = args[1] as http.ServerResponse;
        res.statusCode = 500;
        res.end('failed');
        return true;
      }
    }) as typeof guarded.emit;
    const server = await listenOnLoopback(guarded);
    try {
      assert.equal((await get(`${server.url}/throws`)).status, 500);
      const span = await session.waitForSpan((s) => s.attributes['url.path'] === '/throws');
      assert.equal(span.status, 'ERROR');
      assert.equal(span.attributes[ATTR_ERROR_TYPE], 'DeclinedError');
      assert.equal(span.attributes['http.response.status_code'], 500);
      assert.deepEqual(
        span.events.filter((e) => e.name === 'exception').map((e) => e.attributes[ATTR_EXCEPTION_TYPE]),
        ['Error'],
        'one exception event (its type is the name the error carries)',
      );
    } finally {
      await server.close();
    }
  });

  it('records an Express 5 payment handler that rejects, or passes an error to next later, as lean mode does (pay.errors)', async () => {
    const express = createRequire(__filename)('express') as typeof expressModule;
    const application = express();
    const pay = expressPayments();
    application.use('/pay', pay);
    application.get('/pay/async', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new DeclinedError('async decline');
    });
    application.get('/pay/later', (_req, _res, next) => {
      setImmediate(() => next(new RangeError('late decline')));
    });
    application.use(pay.errors);
    application.use((_error: unknown, _req: expressModule.Request, res: expressModule.Response, _next: expressModule.NextFunction) => {
      res.status(502).send('failed');
    });
    const server = await listenOnLoopback(http.createServer(application));
    try {
      for (const [path, type] of [
        ['/pay/async', 'DeclinedError'],
        ['/pay/later', 'RangeError'],
      ] as const) {
        assert.equal((await get(`${server.url}${path}`)).status, 502);
        const span = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === path);
        assert.equal(span.status, 'ERROR', path);
        assert.equal(span.attributes[ATTR_ERROR_TYPE], type, path);
        assert.equal(span.events.filter((e) => e.name === 'exception').length, 1, path);
      }
    } finally {
      await server.close();
    }
  });
});

describe("default mode CLIENT spans of Node's global fetch", () => {
  it('traces a fetch from a payment route: a CLIENT span under the server span, its traceparent sent', async () => {
    const session = await startTracingSession('memory');
    const seen: (string | undefined)[] = [];
    const downstream = await startHttpServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.end('stock: 3');
    });
    const payment = httpPayments(async (_req, res) => {
      const stock = await fetch(`${downstream.url}/stock`);
      res.end(await stock.text());
    });
    const app = await listenOnLoopback(http.createServer((req, res) => void payment(req, res)));
    try {
      const answer = await get(`${app.url}/pay/check`);
      assert.equal(answer.body, 'stock: 3');
      const server = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/pay/check');
      const client = await session.waitForSpan((s) => s.kind === 'CLIENT' && s.parentSpanId === server.spanId);
      assert.equal(client.scope, '@opentelemetry/instrumentation-undici');
      assert.equal(client.traceId, server.traceId);
      assert.deepEqual(seen, [`00-${client.traceId}-${client.spanId}-01`], 'the fetch carried the trace context');
    } finally {
      await app.close();
      await downstream.close();
      await session.stop();
    }
  });

  // The batch processor already exports under suppressed tracing; this holds the whole path to
  // it with default mode's http and fetch instrumentations active (the transport suppresses
  // tracing itself too, for exports started elsewhere).
  it("makes no span of the package's own exports, through the export pipeline", async () => {
    const session = await startTracingSession('protobuf');
    try {
      trace.getTracer('test-app').startSpan('one').end();
      await session.waitForSpan((s) => s.name === 'one');
      trace.getTracer('test-app').startSpan('two').end();
      await session.waitForSpan((s) => s.name === 'two');
      assert.deepEqual(
        session.spans().filter((s) => s.kind === 'CLIENT'),
        [],
        'an export request made a span',
      );
    } finally {
      await session.stop();
    }
  });
});

describe('default mode HTTP server spans after shutdown', () => {
  it('leave the Server prototypes as they were, and can be started again', async () => {
    const hadOwnEmit = Object.prototype.hasOwnProperty.call(http.Server.prototype, 'emit');
    let session = await startTracingSession('memory');
    assert.ok(Object.prototype.hasOwnProperty.call(http.Server.prototype, 'emit'), 'patched while running');
    await session.stop();
    assert.equal(Object.prototype.hasOwnProperty.call(http.Server.prototype, 'emit'), hadOwnEmit);
    for (const prototype of [http.IncomingMessage.prototype, http.ServerResponse.prototype]) {
      assert.equal(Object.prototype.hasOwnProperty.call(prototype, 'emit'), false, 'request and response emit as before');
    }

    session = await startTracingSession('memory');
    const server = await startHttpServer((_req, res) => void res.end('again'));
    try {
      assert.equal((await get(`${server.url}/again`)).body, 'again');
      const span = await session.waitForSpan((s) => s.attributes['url.path'] === '/again');
      assert.equal(span.kind, 'SERVER');
    } finally {
      await server.close();
      await session.stop();
    }
  });
});

describe('default mode HTTP server spans with ignoreIncomingRequest', () => {
  it('leaves ignored requests and everything they call untraced, traces the rest, and survives a hook that throws', async () => {
    const session = await startTracingSession('memory', {
      ignoreIncomingRequest: (request) => {
        if (request.url === '/boom') throw new Error('hook bug');
        return request.url === '/healthz';
      },
    });
    const downstream = await startHttpServer((_req, res) => void res.end('db: ok'));
    let healthCheckArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (healthCheckArrived = resolve));
    const app = await startHttpServer((req, res) => {
      if (req.url === '/healthz') {
        // A health check that reads its body, which comes after the headers, then calls a
        // dependency from the body's 'end' listener: neither the check nor the call is traced.
        req.resume();
        req.on('end', () => void get(`${downstream.url}/ping`).then((answer) => res.end(answer.body)));
        healthCheckArrived();
        return;
      }
      res.end('ok');
    });
    try {
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(`${app.url}/healthz`, { method: 'POST', agent: false }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        request.flushHeaders();
        // The body only once the server has the request: its 'end' comes from the socket later.
        void arrived.then(() => request.end('{"deep":true}'));
      });
      assert.deepEqual(await answer, { status: 200, body: 'db: ok' });
      assert.equal((await get(`${app.url}/orders`)).status, 200);
      assert.equal((await get(`${app.url}/boom`)).status, 200);
      await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/orders');
      await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/boom');
      const spans = session.spans();
      assert.equal(spans.filter((s) => s.attributes['url.path'] === '/healthz').length, 0, 'no span for the ignored request');
      // The test's own calls are traced (CLIENT spans for /healthz, /orders, /boom); the check's call is not.
      assert.equal(spans.filter((s) => s.kind === 'CLIENT' && String(s.attributes['url.full']).endsWith('/ping')).length, 0, 'no span for the call it made');
      // The dependency saw no trace context: its server span starts a trace of its own.
      const ping = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/ping');
      assert.equal(ping.parentSpanId, '');
      assert.equal(session.handle.health().hookErrors, 1);
    } finally {
      await app.close();
      await downstream.close();
      await session.stop();
    }
  });
});
