/* eslint-disable @typescript-eslint/no-explicit-any -- the framework is loaded at run time from the fixture's own install, so it is untyped here */
import { fastifyPayments } from '../../../src/index.js';
import type { AppFactory } from '../payment-middleware-suite.js';

/** The scenario app on Fastify (4 or 5), payment routes in their own encapsulated plugin. */
export function fastifyApp(load: () => any): AppFactory {
  return async (routes, options) => {
    const fastify = load();
    const app = fastify({ logger: false });
    await app.register(async (scope: any) => {
      await scope.register(fastifyPayments, options);
      scope.post('/pay/create', async (request: any) => routes.createPayment(request.body));
      scope.post('/pay/fail', () => Promise.resolve().then(() => routes.failPayment()));
      scope.post('/pay/refuse', () => Promise.resolve().then(() => routes.refusePayment()));
      scope.post('/pay/invalid', (_request: any, reply: any) => reply.code(400).send({ error: 'invalid' }));
      scope.post('/pay/stream', (_request: any, reply: any) => reply.type('text/plain').send(routes.streamPayment()));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  };
}

/** A span @fastify/otel makes for a hook or a route handler (with `frameworkSpans` only). */
export const fastifyInstrumentationSpan = (span: { attributes: Record<string, unknown> }): boolean => 'hook.name' in span.attributes;
