import { createRequire, syncBuiltinESMExports } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, INVALID_SPAN_CONTEXT, propagation, trace } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { UndiciRequest } from '@opentelemetry/instrumentation-undici';
import type { NodeTracingOptions } from '../types.js';
import { KoaRouteInstrumentation } from './koa-route-instrumentation.js';

interface InstrumentationSet {
  http: HttpInstrumentation;
  undici: UndiciInstrumentation;
  express: ExpressInstrumentation;
  koa: KoaInstrumentation;
  koaRoutes: KoaRouteInstrumentation;
  /** Route names and the `request` span only: no span per hook or handler. */
  fastify: FastifyOtelInstrumentation;
  /** With `frameworkSpans`: also a span per Fastify hook and route handler. */
  fastifyLayers: FastifyOtelInstrumentation;
}

// One set of instrumentation objects per process. An instrumentation patches a module when
// it is first required; a new instance would never see modules required earlier, while the
// same instance re-patches them when enabled again (a restart after shutdown). They are
// created disabled (an instrumentation enables itself on construction otherwise), so only
// those a start lists are ever switched on; options are applied with setConfig on every start.
let shared: InstrumentationSet | undefined;

/**
 * Default mode's instrumentations; lean mode has none. The HTTP server spans are this
 * package's own (see http-server-spans.ts); instrumentation-http makes the CLIENT spans of
 * outgoing `http`/`https` calls and instrumentation-undici those of Node's global `fetch`
 * (undici, which does not go through the `http` module), so every outgoing call propagates
 * the trace. The package's own export requests run with tracing suppressed, so neither
 * makes a span of them.
 *
 * Routes reach the server span through the RPC metadata: from `@fastify/otel` (registered
 * on each Fastify instance as it is created), from the payment middleware on payment routes,
 * and from the Koa instrumentation's router layers when `frameworkSpans` is on. Express's
 * route is read from the request when the response ends, and Koa's from the context
 * koa-route-instrumentation.ts remembers for it, so instrumentation-express, which wraps
 * every layer of every request, runs only when `frameworkSpans` asks for its spans.
 */
export function buildInstrumentations(options: NodeTracingOptions): Instrumentation[] {
  if (options.instrumentHttp === false) return [];
  const frameworkSpans = options.frameworkSpans === true;
  shared ??= {
    http: new HttpInstrumentation({ enabled: false }),
    // Subscribes to undici's diagnostics channels when enabled: `fetch` is covered whenever it
    // was first used, no module needs patching.
    undici: new UndiciInstrumentation({ enabled: false }),
    express: new ExpressInstrumentation({ enabled: false }),
    koa: new KoaInstrumentation({ enabled: false }),
    koaRoutes: new KoaRouteInstrumentation(),
    // Two, since @fastify/otel reads its hook options only when made. It patches no module (it
    // registers through Fastify's diagnostics channel), so an instance made now misses nothing.
    fastify: new FastifyOtelInstrumentation({ enabled: false, instrumentHooks: false, instrumentHandler: false }),
    fastifyLayers: new FastifyOtelInstrumentation({ enabled: false }),
  };
  shared.http.setConfig({ disableIncomingRequestInstrumentation: true });
  // instrumentation-undici skips every request while its config says `enabled: false` (as it
  // was made), even once enable() subscribed it: the config must say enabled too.
  shared.undici.setConfig({ enabled: true, ignoreRequestHook: alreadyPropagated });
  shared.koa.setConfig({ ignoreLayersType: frameworkSpans ? [] : [KoaLayerType.MIDDLEWARE, KoaLayerType.ROUTER] });
  const fastify = frameworkSpans ? shared.fastifyLayers : shared.fastify;
  fastify.setConfig({ registerOnInitialization: options.fastifyAutoRegister !== false });
  const routesAndCalls = [shared.http, shared.undici, shared.koaRoutes, shared.koa, fastify];
  return frameworkSpans ? [...routesAndCalls, shared.express] : routesAndCalls;
}

/**
 * A fetch whose caller propagated a context already (`call.inject(headers)` of a provider
 * call, whose CLIENT span is the call's span): instrumentation-undici would add a second
 * `traceparent` header beside it (it can only add headers), which a receiver must reject as
 * malformed, and a second CLIENT span. Such a request is left as the caller made it.
 *
 * Without a span to propagate (no tracer provider with `OTEL_TRACES_EXPORTER=none`, and no
 * incoming trace) the caller's `call.inject` writes the context's `baggage` alone, and
 * instrumentation-undici would add the same `baggage` again. So a request that carries no
 * `traceparent` is left alone too when the context has no valid span and the request already
 * carries each header the propagator would add, with the same value; one that carries other
 * values (the application's own `baggage` header) still gets the context's.
 */
function alreadyPropagated(request: UndiciRequest): boolean {
  if (headerValues(request.headers, TRACEPARENT).length > 0) return true;
  const active = context.active();
  if (trace.isSpanContextValid(trace.getSpanContext(active) ?? INVALID_SPAN_CONTEXT)) return false;
  const wouldAdd: Record<string, string> = {};
  propagation.inject(active, wouldAdd);
  const names = Object.keys(wouldAdd);
  return names.length > 0 && names.every((name) => headerValues(request.headers, name).includes(wouldAdd[name]));
}

const TRACEPARENT = 'traceparent';

/** The values of the header `name` (lower case) in undici's raw headers: `name: value\r\n` lines (v5) or a flat name, value list. */
function headerValues(headers: UndiciRequest['headers'], name: string): string[] {
  const values: string[] = [];
  if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon === name.length && line.slice(0, colon).toLowerCase() === name) values.push(line.slice(colon + 1).trim());
    }
    return values;
  }
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i];
    if (typeof key !== 'string' || key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = headers[i + 1];
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  return values;
}

/**
 * Makes instrumentation-http patch `http` and `https` now, even when the application loaded
 * them before the start. An instrumentation patches a module when it is next required, and
 * core modules are usually loaded long before (by the framework, or by the file that starts
 * tracing); without this, outgoing calls would go untraced until something required `http`
 * again. The patch is applied to the module objects in place, and `syncBuiltinESMExports`
 * carries it to `import { request } from 'node:http'` bindings as well.
 */
export function patchLoadedCoreModules(): void {
  const load = createRequire(__filename);
  load('http');
  load('https');
  syncBuiltinESMExports();
}
