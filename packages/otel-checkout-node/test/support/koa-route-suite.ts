/* eslint-disable @typescript-eslint/no-explicit-any -- Koa and its router are loaded at run time from the fixture's own install, so they are untyped here */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

    describe('in an ESM application', () => {
      // The application imports Koa and its router; it runs in the fixture's directory, so
      // both resolve to the fixture's own install. It prints its server spans' names and routes.
      const APP = `
        import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
        import checkout from '@otel-checkout/node';
        const { startCheckoutTracing } = checkout;
        const exporter = new InMemorySpanExporter();
        const handle = startCheckoutTracing({ exporter, serviceName: 'esm-app' });
        const { default: Koa } = await import('koa');
        const { default: Router } = await import('@koa/router');
        const router = new Router({ prefix: '/api' });
        router.get('/orders/:id', (ctx) => { ctx.body = 'ok'; });
        const app = new Koa();
        app.use(router.routes());
        const server = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        await (await fetch('http://127.0.0.1:' + server.address().port + '/api/orders/1')).text();
        await new Promise((resolve) => server.close(resolve));
        await handle.flush();
        const servers = exporter.getFinishedSpans().filter((span) => span.kind === 1);
        console.log(JSON.stringify(servers.map((span) => ({ name: span.name, route: span.attributes['http.route'] ?? null }))));
        await handle.shutdown();
      `;
      const hook = fileURLToPath(new URL('./esm/register-loader-hook.mjs', import.meta.url));
      const run = async (withHook: boolean): Promise<Array<{ name: string; route: string | null }>> => {
        const flags = ['--conditions=@otel-checkout/source', '--import', 'tsx', ...(withHook ? ['--import', hook] : [])];
        const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--input-type=module', '--eval', APP], { cwd: process.cwd() });
        return JSON.parse(stdout.trim().split('\n').pop()!) as Array<{ name: string; route: string | null }>;
      };

      it("names the route when the application registers OpenTelemetry's loader hook, as the README says to", async () => {
        assert.deepEqual(await run(true), [{ name: 'GET /api/orders/:id', route: '/api/orders/:id' }]);
      });

      it('(control) without the hook an imported Koa is not patched, so the route stays unnamed', async () => {
        assert.deepEqual(await run(false), [{ name: 'GET', route: null }]);
      });
    });
  });
}
