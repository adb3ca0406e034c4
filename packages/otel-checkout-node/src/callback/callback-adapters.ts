import { context } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expressRequestView } from '../adapters/express.js';
import type { ExpressNext, ExpressRequestLike, ExpressResponseLike } from '../adapters/express.js';
import { asFastifyPlugin, fastifyRequestView } from '../adapters/fastify.js';
import type { FastifyHookDone, FastifyInstanceLike, FastifyRequestLike } from '../adapters/fastify.js';
import { koaRequestView } from '../adapters/koa.js';
import type { KoaContextLike, KoaNext } from '../adapters/koa.js';
import { nodeHttpRequestView } from '../adapters/node-http.js';
import { onResponseDone } from '../adapters/response-end.js';
import { readBoundedBody } from '../http/read-bounded-body.js';
import type { RequestView } from '../http/request-view.js';
import { runtime } from '../runtime.js';
import type { CallbackOptions, CallbackScope } from './types.js';

function begin(view: RequestView, options: CallbackOptions): Promise<CallbackScope> {
  const flows = options.flows ?? runtime().flows;
  return flows.beginCallback(view, options);
}

/**
 * Express 4/5 middleware for the provider's callback (notify) route. Mount it after the body
 * parser so tokens in the body are found: `app.post('/notify', express.urlencoded(), expressCallback({ tradeNo }), handler)`.
 */
export function expressCallback(options: CallbackOptions = {}) {
  return function otelCheckoutCallback(req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext): void {
    void begin(expressRequestView(req), options).then((scope) => {
      onResponseDone(res, (statusCode, _sent, complete) => scope.end(statusCode, complete));
      context.with(scope.context, next);
    });
  };
}

const fastifyScopes = new WeakMap<object, CallbackScope>();

/**
 * Fastify 4/5 plugin for callback routes: register it in the plugin that holds the notify
 * route. It starts the callback span once the body is parsed (`preValidation`), runs the
 * handler inside it and ends it when the response is sent.
 */
export const fastifyCallback = asFastifyPlugin(function fastifyCallback(
  instance: FastifyInstanceLike,
  options: CallbackOptions,
  done: (error?: Error) => void,
): void {
  // Registered without options by plain JavaScript, or called directly: the defaults.
  const opts: CallbackOptions = options ?? {};
  instance.addHook('preValidation', (request, reply, next) => {
    void begin(fastifyRequestView(request), opts).then((scope) => {
      fastifyScopes.set(request, scope);
      onResponseDone(reply.raw, (statusCode, _sent, complete) => scope.end(statusCode, complete));
      context.with(scope.context, next);
    });
  });
  instance.addHook('preHandler', (request: FastifyRequestLike, _reply, next: FastifyHookDone) => {
    const scope = fastifyScopes.get(request);
    if (scope) context.with(scope.context, next);
    else next();
  });
  instance.addHook('onError', (request, _reply, error, next) => {
    fastifyScopes.get(request)?.recordError(error);
    next();
  });
  done();
}, 'otel-checkout-callback');

/** Koa 2/3 middleware for callback routes; put it after the body parser. */
export function koaCallback(options: CallbackOptions = {}) {
  return async function otelCheckoutCallback(ctx: KoaContextLike, next: KoaNext): Promise<void> {
    const scope = await begin(koaRequestView(ctx), options);
    onResponseDone(ctx.res, (statusCode, _sent, complete) => scope.end(statusCode, complete));
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
   * stream has been read. Default `false`: query, header and flow store only.
   */
  readBody?: boolean;
  /** With `readBody`: larger bodies are not searched and stay unread for the handler. Default 65536 bytes. */
  maxBodyBytes?: number;
}

/** A `node:http` handler of callback requests; `body` is set when `readBody` read it. */
export type HttpCallbackHandler = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => unknown;

const DEFAULT_MAX_BODY_BYTES = 65_536;

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
      const view: RequestView = body === undefined ? nodeHttpRequestView(req) : { ...nodeHttpRequestView(req), rawBody: body };
      return begin(view, options).then((scope) => {
        onResponseDone(res, (statusCode, _sent, complete) => scope.end(statusCode, complete));
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
