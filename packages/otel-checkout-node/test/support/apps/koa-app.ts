/* eslint-disable @typescript-eslint/no-explicit-any -- the framework is loaded at run time from the fixture's own install, so it is untyped here */
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { koaPayments } from '../../../src/index.js';
import type { AppFactory } from '../payment-middleware-suite.js';

/** The scenario app on Koa (2 or 3), with a minimal JSON body reader in place of a body-parser package. */
export function koaApp(load: () => any): AppFactory {
  return async (routes, options) => {
    const Koa = load();
    const app = new Koa();
    app.on('error', () => undefined);
    app.use(async (ctx: any, next: () => Promise<void>) => {
      let raw = '';
      for await (const chunk of ctx.req) raw += String(chunk);
      ctx.request.rawBody = raw;
      try {
        ctx.request.body = raw ? JSON.parse(raw) : undefined;
      } catch {
        ctx.request.body = undefined;
      }
      await next();
    });
    const pay = koaPayments(options);
    app.use(async (ctx: any, next: () => Promise<void>) => (ctx.path.startsWith('/pay/') ? pay(ctx, next) : next()));
    app.use(async (ctx: any) => {
      if (ctx.path === '/pay/create') ctx.body = await routes.createPayment(ctx.request.body);
      else if (ctx.path === '/pay/fail') routes.failPayment();
      else if (ctx.path === '/pay/refuse') routes.refusePayment();
      else if (ctx.path === '/pay/stream') {
        ctx.type = 'text/plain';
        ctx.body = routes.streamPayment();
      } else if (ctx.path === '/pay/invalid') {
        ctx.status = 400;
        ctx.body = { error: 'invalid' };
      }
    });
    return listenOnLoopback(createServer(app.callback()));
  };
}

/** A span only @opentelemetry/instrumentation-koa makes. */
export const koaInstrumentationSpan = (span: { attributes: Record<string, unknown> }): boolean => 'koa.type' in span.attributes;
