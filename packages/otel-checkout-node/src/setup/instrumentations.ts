import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import type { NodeTracingOptions } from '../types.js';

interface InstrumentationSet {
  http: HttpInstrumentation;
  express: ExpressInstrumentation;
  koa: KoaInstrumentation;
  fastify: FastifyOtelInstrumentation;
}

// One set of instrumentation objects per process. An instrumentation patches a module when
// it is first required; a new instance would never see modules required earlier, while the
// same instance re-patches them when enabled again (a restart after shutdown). Options are
// applied to the shared objects with setConfig on every start.
let shared: InstrumentationSet | undefined;

/**
 * Default mode's instrumentations: HTTP server and client spans (every outgoing call
 * propagates), Express and Koa, and `@fastify/otel` registered on each Fastify instance as
 * it is created. Lean mode has none.
 *
 * Express and Koa make one span per middleware layer; those are off unless
 * `frameworkSpans` is set, because they multiply the spans (and the cost) per request while
 * the route name, which is what matters, still reaches the HTTP server span.
 */
export function buildInstrumentations(options: NodeTracingOptions): Instrumentation[] {
  if (options.instrumentHttp === false) return [];
  const frameworkSpans = options.frameworkSpans === true;
  shared ??= {
    http: new HttpInstrumentation(),
    express: new ExpressInstrumentation(),
    koa: new KoaInstrumentation(),
    fastify: new FastifyOtelInstrumentation(),
  };
  shared.express.setConfig({
    ignoreLayersType: frameworkSpans ? [] : [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
  });
  shared.koa.setConfig({ ignoreLayersType: frameworkSpans ? [] : [KoaLayerType.MIDDLEWARE, KoaLayerType.ROUTER] });
  shared.fastify.setConfig({ registerOnInitialization: options.fastifyAutoRegister !== false });
  return [shared.http, shared.express, shared.koa, shared.fastify];
}
