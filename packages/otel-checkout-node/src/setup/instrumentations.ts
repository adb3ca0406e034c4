import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import type { NodeTracingOptions } from '../types.js';

/**
 * Default mode's instrumentations: HTTP server and client spans (every outgoing call
 * propagates), Express and Koa, and `@fastify/otel` registered on each Fastify instance as
 * it is created. Lean mode has none.
 */
export function buildInstrumentations(options: NodeTracingOptions): Instrumentation[] {
  if (options.instrumentHttp === false) return [];
  return [
    new HttpInstrumentation(),
    new ExpressInstrumentation(),
    new KoaInstrumentation(),
    new FastifyOtelInstrumentation({ registerOnInitialization: options.fastifyAutoRegister !== false }),
  ];
}
