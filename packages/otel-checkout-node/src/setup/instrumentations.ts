import { createRequire, syncBuiltinESMExports } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
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
  fastify: FastifyOtelInstrumentation;
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
    fastify: new FastifyOtelInstrumentation({ enabled: false }),
  };
  shared.http.setConfig({ disableIncomingRequestInstrumentation: true });
  // instrumentation-undici skips every request while its config says `enabled: false` (as it
  // was made), even once enable() subscribed it: the config must say enabled too.
  shared.undici.setConfig({ enabled: true, ignoreRequestHook: carriesTraceparent });
  shared.koa.setConfig({ ignoreLayersType: frameworkSpans ? [] : [KoaLayerType.MIDDLEWARE, KoaLayerType.ROUTER] });
  shared.fastify.setConfig({ registerOnInitialization: options.fastifyAutoRegister !== false });
  const routesAndCalls = [shared.http, shared.undici, shared.koaRoutes, shared.koa, shared.fastify];
  return frameworkSpans ? [...routesAndCalls, shared.express] : routesAndCalls;
}

/**
 * A fetch whose caller propagated a context already (`call.inject(headers)` of a provider
 * call, whose CLIENT span is the call's span): instrumentation-undici would add a second
 * `traceparent` header beside it (it can only add headers), which a receiver must reject as
 * malformed, and a second CLIENT span. Such a request is left as the caller made it.
 */
function carriesTraceparent(request: UndiciRequest): boolean {
  const { headers } = request;
  if (typeof headers === 'string') return TRACEPARENT_LINE.test(headers);
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (typeof name === 'string' && name.length === TRACEPARENT.length && name.toLowerCase() === TRACEPARENT) return true;
  }
  return false;
}

const TRACEPARENT = 'traceparent';
const TRACEPARENT_LINE = /(^|\r\n)traceparent:/i;

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
