import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import type { NodeTracingOptions } from '../types.js';

// One set of instrumentation objects per process. An instrumentation patches a module when
// it is first required; a new instance would never see modules required earlier, while the
// same instance re-patches them when enabled again (a restart after shutdown).
const cache = new Map<boolean, Instrumentation[]>();

/**
 * Default mode's instrumentations: HTTP server and client spans (every outgoing call
 * propagates), Express and Koa, and `@fastify/otel` registered on each Fastify instance as
 * it is created. Lean mode has none.
 */
export function buildInstrumentations(options: NodeTracingOptions): Instrumentation[] {
  if (options.instrumentHttp === false) return [];
  const autoRegister = options.fastifyAutoRegister !== false;
  let list = cache.get(autoRegister);
  if (!list) {
    list = [
      new HttpInstrumentation(),
      new ExpressInstrumentation(),
      new KoaInstrumentation(),
      new FastifyOtelInstrumentation({ registerOnInitialization: autoRegister }),
    ];
    cache.set(autoRegister, list);
  }
  return list;
}
