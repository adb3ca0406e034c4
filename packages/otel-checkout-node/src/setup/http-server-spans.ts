import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core';
import type { RPCMetadata } from '@opentelemetry/core';
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_URL_PATH, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions';
import { expressRoute } from '../adapters/express.js';
import type { ExpressRequestLike } from '../adapters/express.js';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { normalizeMethod, pathOf, urlSchemeOf } from '../http/request-line.js';
import { runHook } from '../middleware/guard.js';
import { endHttpServerSpan } from '../http/server-span-end.js';
import { recordServerSpanError, thrownErrorTypeOf } from '../http/server-span-error.js';
import { errorType } from '../payments/span-error.js';
import { runtime } from '../runtime.js';
import { startOwnServerSpan } from '../spans/server-span-starter.js';
import { whenQueuedResponseLost } from '../http/queued-response.js';
import { EmitPatch } from './emit-patch.js';
import { koaRouteOf } from './koa-route-instrumentation.js';
import type { Emit, EmitterPrototype } from './emit-patch.js';
import { bindRequestEmitters, boundRequestContext, disableRequestEmitterContext, enableRequestEmitterContext } from './request-emitter-context.js';

let patches: EmitPatch[] = [];
let enabled = false;
let ignoreRequest: ((request: IncomingMessage) => boolean) | undefined;

/**
 * Default mode's HTTP server spans: one SERVER span per request on every `http` and `https`
 * server of the process, made here rather than by instrumentation-http, which default mode
 * keeps for outgoing calls only.
 *
 * Why not instrumentation-http's server spans: on a payment route they alone cost more CPU
 * per request than this package's whole budget for default mode (see bench/node-overhead),
 * mostly in attributes nobody searches a checkout by and in per-request work for metrics
 * this package does not record. This span carries what the HTTP semantic conventions require
 * of a server span (method, path, scheme, status code, route, error type), so backends group
 * and chart it like any other; the payment middleware adds the payment attributes to it.
 *
 * The span is the active one while the request's listener runs and in every event of the
 * request and its response (see request-emitter-context.ts), so a body read with
 * `req.on('data')` and a handler behind a body parser stay in the request's trace. Frameworks
 * name the route through the RPC metadata (`@fastify/otel` and the payment middleware do);
 * Express's matched route is read from the request when the response ends, Koa's router's
 * from the Koa context remembered for the request. The span ends on
 * the response's `close`, after `finish`, so the payment middleware's outcome is on it
 * before it ends.
 *
 * Patching the `Server` prototypes (not the module exports) covers servers from `require`
 * and `import` alike, created before or after the start.
 */
export function enableHttpServerSpans(ignore?: (request: IncomingMessage) => boolean): void {
  enabled = true;
  ignoreRequest = ignore;
  enableRequestEmitterContext();
  if (patches.length > 0) return;
  for (const prototype of [http.Server.prototype, https.Server.prototype] as unknown as EmitterPrototype[]) {
    patches.push(
      EmitPatch.install(prototype, (original) =>
        function emitWithServerSpan(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
          if (!enabled || !isRequestEvent(event)) return original.call(this, event, ...args);
          return traceRequest(this, original, event, args as [IncomingMessage, ServerResponse]);
        },
      ),
    );
  }
}

/**
 * Restores the prototypes (shutdown). A wrapper that something else wrapped in turn since
 * cannot be taken out of the chain; it stays and passes every event through until enabled
 * again. Spans of requests still under way end as usual.
 */
export function disableHttpServerSpans(): void {
  enabled = false;
  ignoreRequest = undefined;
  disableRequestEmitterContext();
  patches = patches.filter((patch) => !patch.restore());
}

/**
 * The events a server hands a request to its application with: 'request', and, when the
 * application listens for them, 'checkContinue' (a request with `Expect: 100-continue`) and
 * 'checkExpectation' (another `Expect`), which Node emits instead of 'request'.
 */
function isRequestEvent(event: string | symbol): event is string {
  return event === 'request' || event === 'checkContinue' || event === 'checkExpectation';
}

function traceRequest(server: unknown, original: Emit, event: string, [req, res]: [IncomingMessage, ServerResponse]): boolean {
  // A request handed on again (a 'checkContinue' listener that emits 'request' once it let the
  // body come) is traced already: one span per request, its context kept.
  const bound = boundRequestContext(req);
  if (bound !== undefined) return context.with(bound, () => original.call(server, event, req, res));
  // An ignored request (a health check, a metrics scrape) is not traced at all: no span, and
  // nothing it calls makes one, as with instrumentation-http's ignoreIncomingRequestHook.
  // A hook that throws traces the request (and is counted).
  if (ignoreRequest !== undefined && runHook(runtime().health, HEALTH_HOOK_ERRORS, 'ignoreIncomingRequest', false, ignoreRequest, req) === true) {
    const untraced = suppressTracing(ROOT_CONTEXT);
    // Its events too (a body read, a handler behind a body parser) run untraced.
    bindRequestEmitters(req, res, untraced);
    return context.with(untraced, () => original.call(server, event, req, res));
  }
  const started = startServerSpan(req, res);
  // Tracing must never cost the request: when the span could not start, it proceeds untraced.
  if (started === undefined) return original.call(server, event, req, res);
  const { span, requestContext } = started;
  return context.with(requestContext, () => {
    try {
      return original.call(server, event, req, res);
    } catch (error) {
      // Once, if the payment middleware recorded this error already; its class stays the
      // span's error.type when the span ends (see endServerSpan).
      recordServerSpanError(span, error);
      span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    }
  });
}

function startServerSpan(req: IncomingMessage, res: ServerResponse): { span: Span; requestContext: Context } | undefined {
  let span: Span | undefined;
  try {
    const method = normalizeMethod(req.method);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const attributes: Attributes = {};
    attributes[ATTR_HTTP_REQUEST_METHOD] = method;
    attributes[ATTR_URL_PATH] = pathOf(req.url);
    attributes[ATTR_URL_SCHEME] = urlSchemeOf(req.socket);
    const serverSpan = (span = startOwnServerSpan(method, attributes, parent));
    const rpc: RPCMetadata = { type: RPCType.HTTP, span: serverSpan };
    const requestContext = setRPCMetadata(trace.setSpan(parent, serverSpan), rpc);
    bindRequestEmitters(req, res, requestContext);
    // 'close' comes once per response (after 'finish', or alone when the connection closed
    // first), except to a response queued behind another whose connection closed first.
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      endServerSpan(serverSpan, method, rpc, req, res);
    };
    res.on('close', end);
    whenQueuedResponseLost(res, end, false);
    return { span: serverSpan, requestContext };
  } catch (error) {
    span?.end();
    const health = runtime().health;
    health.increment(HEALTH_HOOK_ERRORS);
    health.warnOnce('server-span', 'could not start an HTTP server span; the request proceeds untraced', error);
    return undefined;
  }
}

function endServerSpan(span: Span, method: string, rpc: RPCMetadata, req: IncomingMessage, res: ServerResponse): void {
  const route = rpc.route ?? expressRoute(req as unknown as ExpressRequestLike) ?? koaRouteOf(req);
  // A thrown error's class, when a handler threw (recorded by the payment middleware or the
  // listener's guard), is the error.type, as on lean mode's span; else the status code.
  const thrown = thrownErrorTypeOf(span);
  if (res.writableFinished) {
    endHttpServerSpan(span, method, { route, statusCode: res.statusCode, errorType: thrown });
  } else {
    endHttpServerSpan(span, method, { route, errorType: thrown ?? '_OTHER', errorMessage: 'connection closed before the response was complete' });
  }
}

