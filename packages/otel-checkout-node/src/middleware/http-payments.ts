import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { nodeHttpRequestView } from '../adapters/node-http.js';
import type { NodeHttpHandler } from '../adapters/node-http.js';
import { onResponseDone } from '../adapters/response-end.js';
import type { PaymentMiddlewareOptions } from '../types.js';
import { beginPaymentRequest } from './payment-request.js';

/**
 * Wraps a `node:http` request handler (sync or async) for payment routes:
 * `http.createServer(httpPayments(async (req, res) => ..., { extract }))`. What the handler
 * returns is returned unchanged (so a promise can still be awaited or caught); a synchronous
 * throw is rethrown; a rejection is recorded and stays exactly as unhandled as it was.
 */
export function httpPayments<H extends NodeHttpHandler>(handler: H, options: PaymentMiddlewareOptions = {}): (req: IncomingMessage, res: ServerResponse) => ReturnType<H> {
  return (req, res) => {
    const handle = beginPaymentRequest(nodeHttpRequestView(req), options);
    onResponseDone(res, (statusCode, sent) => handle.finish(statusCode, undefined, sent));
    let result: unknown;
    try {
      result = context.with(handle.context, () => handler(req, res));
    } catch (error) {
      handle.recordError(error);
      throw error;
    }
    if (isPromiseLike(result)) {
      // Rethrown so an unhandled rejection stays exactly as unhandled as it was without us.
      void result.then(undefined, (error: unknown) => {
        handle.recordError(error);
        throw error;
      });
    }
    return result as ReturnType<H>;
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
