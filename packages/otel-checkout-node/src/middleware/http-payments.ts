import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { nodeHttpRequestView } from '../adapters/node-http.js';
import type { NodeHttpHandler } from '../adapters/node-http.js';
import { onResponseDone } from '../adapters/response-end.js';
import type { PaymentMiddlewareOptions } from '../types.js';
import { beginPaymentRequest } from './payment-request.js';

/**
 * Wraps a `node:http` request handler (sync or async) for payment routes:
 * `http.createServer(httpPayments(async (req, res) => ..., { extract }))`. A synchronous
 * throw is recorded and rethrown. A returned promise comes back as a promise that settles
 * the same way, a rejection recorded first: an app that catches it sees the same error, and
 * one that ignores it (as `http.createServer` does) gets the same unhandled rejection it
 * would get without this wrapper. Other return values are returned unchanged.
 */
export function httpPayments<H extends NodeHttpHandler>(handler: H, options: PaymentMiddlewareOptions = {}): (req: IncomingMessage, res: ServerResponse) => ReturnType<H> {
  return (req, res) => {
    const handle = beginPaymentRequest(nodeHttpRequestView(req), options);
    onResponseDone(res, (statusCode, sent, complete) => handle.finish(statusCode, undefined, sent, complete));
    let result: unknown;
    try {
      result = context.with(handle.context, () => handler(req, res));
    } catch (error) {
      handle.recordError(error);
      throw error;
    }
    if (isPromiseLike(result)) {
      // Returned, not left aside: a rejected side promise would be unhandled even when the
      // app handles the promise it was given.
      return result.then(undefined, (error: unknown) => {
        handle.recordError(error);
        throw error;
      }) as ReturnType<H>;
    }
    return result as ReturnType<H>;
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
