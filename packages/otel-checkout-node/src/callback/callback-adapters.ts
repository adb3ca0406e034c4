import { context } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expressRequestView } from '../adapters/express.js';
import type { ExpressMiddleware } from '../middleware/express-payments.js';
import { asFastifyPlugin, fastifyRequestView, routeFilter } from '../adapters/fastify.js';
import type { FastifyHookDone, FastifyInstanceLike, FastifyRequestLike, FastifyRouteOptions } from '../adapters/fastify.js';
import { koaRequestView } from '../adapters/koa.js';
import type { KoaContextLike, KoaNext } from '../adapters/koa.js';
import { nodeHttpRequestView } from '../adapters/node-http.js';
import { onResponseDone } from '../adapters/response-end.js';
import type { RawResponse } from '../adapters/response-end.js';
import { readBoundedBody } from '../http/read-bounded-body.js';
import type { RequestView } from '../http/request-view.js';
import { runtime } from '../runtime.js';
import type { CallbackOptions, CallbackScope } from './types.js';

function begin(view: RequestView, options: CallbackOptions): Promise<CallbackScope> {
  const flows = options.flows ?? runtime().flows;
  return flows.beginCallback(view, options);
}

/** Resolves (never rejects) once the store was read for the flow a token names, within the store's bound. */
function beginRefused(view: RequestView, options: CallbackOptions, error: unknown): Promise<CallbackScope> {
  const flows = options.flows ?? runtime().flows;
  return flows.beginRefusedCallback(view, options, error);
}

/**
 * The view with the state of the request's body stream: `unread` when nothing consumed it (its
 * `readableEnded` is false), so that the core can tell a parser's placeholder from a parsed body.
 * Looked at, never read: the stream is the route parser's and the handler's.
 */
function withBodyStream(view: RequestView, stream: unknown): RequestView {
  const unread = typeof stream === 'object' && stream !== null && (stream as { readableEnded?: unknown }).readableEnded === false;
  return unread ? { ...view, bodyStream: 'unread' } : view;
}

/** Ends a callback's span when its response is over. */
function endWithResponse(scope: CallbackScope, res: RawResponse): void {
  onResponseDone(res, (statusCode, _sent, complete) => scope.end(statusCode, complete));
}

/** Options of `expressCallback`: those of every callback middleware, plus the route's body parser. */
export interface ExpressCallbackOptions extends CallbackOptions {
  /**
   * The route's body parser (`express.json()`, `express.urlencoded()`, ...), run by the
   * middleware before the callback span starts, instead of mounted before it: a notification
   * it refuses (malformed JSON, a body over its limit) then is traced
   * (`payment.callback.refused`), and its error passed on, so the answer stays the
   * application's own. Default: none (mount the parser before the middleware; refusals are
   * then not traced).
   */
  // Node's request and response, as body-parser types its parsers; a method signature, so a
  // handler typed for Express's own request and response (subtypes of these) fits too.
  bodyParser?(this: void, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
}

/**
 * Express 4/5 middleware for the provider's callback (notify) route. Give it the route's body
 * parser, so tokens in the body are found and a body the parser refuses is traced:
 * `app.post('/notify', expressCallback({ tradeNo, bodyParser: express.urlencoded() }), handler)`.
 * Mounting the parser before it works too, without tracing refusals.
 */
export function expressCallback(options: ExpressCallbackOptions = {}): ExpressMiddleware {
  const traceCallback: ExpressMiddleware = function otelCheckoutCallback(req, res, next) {
    // Express's request is Node's IncomingMessage.
    void begin(withBodyStream(expressRequestView(req), req), options).then((scope) => {
      endWithResponse(scope, res);
      context.with(scope.context, next);
    });
  };
  const parser = options.bodyParser;
  if (parser === undefined) return traceCallback;
  return function otelCheckoutCallback(req, res, next) {
    let parsed = false;
    const refused = (error: unknown): void => {
      void beginRefused(expressRequestView(req), options, error).then((scope) => {
        endWithResponse(scope, res);
        context.with(scope.context, () => next(error));
      });
    };
    try {
      // Express's request and response are Node's, which the adapter describes structurally.
      parser(req as unknown as IncomingMessage, res as unknown as ServerResponse, (error?: unknown) => {
        if (parsed) return;
        parsed = true;
        // Express's own signals to skip the rest of the route or router: not a refusal.
        if (error === 'route' || error === 'router') next(error);
        else if (error === undefined || error === null) traceCallback(req, res, next);
        else refused(error);
      });
    } catch (error) {
      if (parsed) throw error;
      parsed = true;
      refused(error);
    }
  };
}

const fastifyScopes = new WeakMap<object, CallbackScope>();

/** Options of `fastifyCallback`: those of every callback middleware, plus the routes it applies to. */
export interface FastifyCallbackOptions extends CallbackOptions, FastifyRouteOptions {}

/**
 * Fastify 4/5 plugin for callback routes: register it in the plugin that holds the notify
 * route, or name the notify route in `routes`. It starts the callback span once the body is
 * parsed (`preValidation`), runs the handler inside it and ends it when the response is sent. A
 * notification the route's content-type parser refuses (400, 413, 415) reaches `onError` first,
 * and is traced as refused.
 */
export const fastifyCallback = asFastifyPlugin(function fastifyCallback(
  instance: FastifyInstanceLike,
  options: FastifyCallbackOptions,
  done: (error?: Error) => void,
): void {
  // Registered without options by plain JavaScript, or called directly: the defaults.
  const opts: FastifyCallbackOptions = options ?? {};
  const applies = routeFilter(opts.routes, 'fastifyCallback');
  instance.addHook('preValidation', (request, reply, next) => {
    if (!applies(request)) {
      next();
      return;
    }
    void begin(withBodyStream(fastifyRequestView(request), request.raw), opts).then((scope) => {
      fastifyScopes.set(request, scope);
      endWithResponse(scope, reply.raw);
      context.with(scope.context, next);
    });
  });
  instance.addHook('preHandler', (request: FastifyRequestLike, _reply, next: FastifyHookDone) => {
    const scope = fastifyScopes.get(request);
    if (scope) context.with(scope.context, next);
    else next();
  });
  instance.addHook('onError', (request, reply, error, next) => {
    const scope = fastifyScopes.get(request);
    if (scope !== undefined) {
      scope.recordError(error);
      next();
      return;
    }
    if (!applies(request)) {
      next();
      return;
    }
    // No scope: the error came before this plugin's preValidation, so the content-type
    // parser (or a hook before it) refused the notification. Traced as refused; Fastify
    // answers as before.
    void beginRefused(fastifyRequestView(request), opts, error).then((refused) => {
      fastifyScopes.set(request, refused);
      endWithResponse(refused, reply.raw);
      next();
    });
  });
  done();
}, 'otel-checkout-callback');

/** Options of `koaCallback`: those of every callback middleware, plus the route's body parser. */
export interface KoaCallbackOptions extends CallbackOptions {
  /**
   * The route's body parser (`bodyParser()` of `@koa/bodyparser`, `koa-body`, ...), run by the
   * middleware before the callback span starts, instead of mounted before it: Koa's errors
   * travel back up the chain, so a notification the parser refuses (400, 413, 415) would
   * otherwise never reach the middleware. Refused, it is traced (`payment.callback.refused`)
   * and the parser's error is thrown on, so Koa answers as before. Default: none (mount the
   * parser before the middleware; refusals are then not traced).
   */
  // A method signature, so a parser typed for Koa's own context (a subtype of this one) fits.
  bodyParser?(this: void, ctx: KoaContextLike, next: KoaNext): Promise<unknown>;
}

/** Koa 2/3 middleware for callback routes; put it after the body parser, or give it the parser (`bodyParser`). */
export function koaCallback(options: KoaCallbackOptions = {}) {
  return async function otelCheckoutCallback(ctx: KoaContextLike, next: KoaNext): Promise<void> {
    if (options.bodyParser !== undefined) {
      let parsed = false;
      try {
        await options.bodyParser(ctx, () => {
          parsed = true;
          return Promise.resolve();
        });
      } catch (error) {
        endWithResponse(await beginRefused(koaRequestView(ctx), options, error), ctx.res);
        throw error;
      }
      if (!parsed) {
        // The parser answered itself instead of passing the request on: a refusal without an
        // error, and the rest of the route must not run, as it would not after the parser.
        endWithResponse(await beginRefused(koaRequestView(ctx), options, undefined), ctx.res);
        return;
      }
    }
    const scope = await begin(withBodyStream(koaRequestView(ctx), ctx.req), options);
    endWithResponse(scope, ctx.res);
    try {
      await context.with(scope.context, next);
    } catch (error) {
      scope.recordError(error);
      throw error;
    }
  };
}

/** Options of `httpCallback`: those of every callback middleware, plus body reading. */
export interface HttpCallbackOptions extends CallbackOptions {
  /**
   * Read the request body before the handler, so tokens in `bodyFields`/`passbackField` (JSON
   * or form) are found; the handler then gets the body as its third argument, since the
   * stream has been read. A client that aborts mid-body still reaches the handler, with no body
   * and `req.errored` set (not `req.destroyed`, which Node sets on every request whose body was
   * read to the end). Default `false`: query, header and flow store only.
   */
  readBody?: boolean;
  /** With `readBody`: larger bodies are not searched and stay unread for the handler. Default 65536 bytes. */
  maxBodyBytes?: number;
}

/** A `node:http` handler of callback requests; `body` is set when `readBody` read it. */
export type HttpCallbackHandler = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => unknown;

const DEFAULT_MAX_BODY_BYTES = 65_536;

/** Why `httpCallback` has no body to search. */
function unreadBodyStream(req: IncomingMessage, options: HttpCallbackOptions): RequestView['bodyStream'] {
  // Without readBody the body is the handler's to read: there is nothing to warn about. A body
  // lost with its connection (`req.errored`; the provider sends it again) is nobody's mistake
  // either, nor is one something before httpCallback read to the end (there is no parser to name).
  // `req.destroyed` alone tells neither apart: Node sets it on every request whose body was read.
  if (options.readBody !== true || req.errored !== null || req.readableEnded || req.destroyed) return 'not-searched';
  // Still unread after readBody: readBoundedBody left it in the stream, over maxBodyBytes.
  return 'over-limit';
}

/**
 * Wraps a `node:http` handler of callback requests. There is no body parser in `node:http`:
 * by default the token is found in the query or the header, else the flow store by trade
 * number; with `readBody: true` the body (bounded) is searched too and handed to the handler.
 */
export function httpCallback(handler: HttpCallbackHandler, options: HttpCallbackOptions = {}) {
  const maxBodyBytes =
    typeof options.maxBodyBytes === 'number' && options.maxBodyBytes > 0 ? options.maxBodyBytes : DEFAULT_MAX_BODY_BYTES;
  return function otelCheckoutCallback(req: IncomingMessage, res: ServerResponse): void {
    const bodyRead = options.readBody === true ? readBoundedBody(req, maxBodyBytes) : Promise.resolve(undefined);
    void bodyRead.then((body) => {
      const view: RequestView = { ...nodeHttpRequestView(req), ...(body === undefined ? { bodyStream: unreadBodyStream(req, options) } : { rawBody: body }) };
      return begin(view, options).then((scope) => {
        endWithResponse(scope, res);
        context.with(scope.context, () => {
          let result: unknown;
          try {
            result = body === undefined ? handler(req, res) : handler(req, res, body);
          } catch (error) {
            scope.recordError(error);
            // Rethrown outside our promise chain: the application sees its own error as it would without us.
            process.nextTick(() => {
              throw error;
            });
            return;
          }
          if (result instanceof Promise) {
            // Rethrowing keeps the rejection as unhandled (or handled) as it was without us.
            void result.catch((error: unknown) => {
              scope.recordError(error);
              throw error;
            });
          }
        });
      });
    });
  };
}
