/* eslint-disable @typescript-eslint/no-explicit-any -- Koa and its router are loaded at run time from the fixture's own install, so they are untyped here */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { koaPayments } from '../../src/index.js';
import { startTracingSession } from './tracing-session.js';
import type { TracingSession } from './tracing-session.js';
import { koaInstrumentationSpan } from './apps/koa-app.js';

/**
 * Default mode names every Koa route by its @koa/router template, payment route or not,
 * without `frameworkSpans` (so without a span per router layer). Tracing is started and
 * stopped twice, as a test run or a hot reload does, to show the patch comes back with it.
 */
export function describeKoaRoutes(framework: string, loadKoa: () => any, loadRouter: () => any): void {
  describe(`${framework} routes in default mode`, () => {
    let session: TracingSession;
    let app: StartedHttpServer;

    const start = async (): Promise<void> => {
      session = await startTracingSession('memory');
      const Koa = loadKoa();
      const Router = loadRouter();
      const api = new Router({ prefix: '/api' });
      api.get('/orders/:id', (ctx: any) => {
        ctx.body = { id: ctx.params.id };
      });
      api.post('/pay/:provider', koaPayments({ extract: (request) => ({ tradeNo: request.headers['x-trade-no'] as string }) }), (ctx: any) => {
        ctx.body = { ok: true };
      });
      const application = new Koa();
      application.on('error', () => undefined);
      application.use(api.routes());
      app = await listenOnLoopback(createServer(application.callback()));
    };
    const stop = async (): Promise<void> => {
      await app?.close();
      await session?.stop();
    };

    const serverSpan = (path: string) => session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === path);

    describe('first start', () => {
      before(start);
      after(stop);

      it('names a non-payment route by its template, prefix included, with no span per router layer', async () => {
        const response = await fetch(`${app.url}/api/orders/42`);
        assert.deepEqual(await response.json(), { id: '42' });
        const span = await serverSpan('/api/orders/42');
        assert.equal(span.name, 'GET /api/orders/:id');
        assert.equal(span.attributes['http.route'], '/api/orders/:id');
        assert.equal(span.attributes['http.response.status_code'], 200);
        const all = await session.trace(span.traceId);
        assert.equal(all.filter(koaInstrumentationSpan).length, 0, `no Koa layer spans: ${all.map((s) => s.name).join(', ')}`);
      });

      it('names a payment route the same way, on the one server span that carries the payment attributes', async () => {
        const response = await fetch(`${app.url}/api/pay/acme`, { method: 'POST', headers: { 'x-trade-no': 'T-77' } });
        assert.equal(response.status, 200);
        const span = await serverSpan('/api/pay/acme');
        assert.equal(span.name, 'POST /api/pay/:provider');
        assert.equal(span.attributes['http.route'], '/api/pay/:provider');
        assert.equal(span.attributes['payment.trade_no'], 'T-77');
      });

      it('leaves a request no route matched named by its method alone', async () => {
        const response = await fetch(`${app.url}/api/missing`);
        assert.equal(response.status, 404);
        const span = await serverSpan('/api/missing');
        assert.equal(span.name, 'GET');
        assert.equal(span.attributes['http.route'], undefined);
      });
    });

    describe('after a stop and a new start', () => {
      before(start);
      after(stop);

      it('still names the route', async () => {
        await fetch(`${app.url}/api/orders/7`);
        const span = await serverSpan('/api/orders/7');
        assert.equal(span.attributes['http.route'], '/api/orders/:id');
      });
    });
  });
}
