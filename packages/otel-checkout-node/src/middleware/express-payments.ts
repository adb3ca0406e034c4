import { context } from '@opentelemetry/api';
import { expressRequestView, expressRoute } from '../adapters/express.js';
import type { ExpressNext, ExpressRequestLike, ExpressResponseLike } from '../adapters/express.js';
import { onResponseDone } from '../adapters/response-end.js';
import { requestScopeOf } from '../payments/request-scope.js';
import type { PaymentMiddlewareOptions } from '../types.js';
import { beginPaymentRequest } from './payment-request.js';

export type ExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void;
export type ExpressErrorMiddleware = (error: unknown, req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void;

/** The payment middleware for Express; `errors` is an optional error handler to register after the routes. */
export interface ExpressPaymentsMiddleware extends ExpressMiddleware {
  /**
   * Records a thrown error (its type and exception event) on the request's span, then passes
   * it on. It finds the request through the active context, which Express keeps for errors
   * thrown in handlers and passed to `next` after an `await` or a Node callback.
   */
  readonly errors: ExpressErrorMiddleware;
}

/**
 * Express 4/5 payment middleware: `app.use('/pay', express.json(), expressPayments({ extract }))`.
 * Mount it after the body parser so the extractor sees the parsed body.
 */
export function expressPayments(options: PaymentMiddlewareOptions = {}): ExpressPaymentsMiddleware {
  const middleware: ExpressMiddleware = (req, res, next) => {
    const handle = beginPaymentRequest(expressRequestView(req), options);
    onResponseDone(res, (statusCode, sent, complete) => handle.finish(statusCode, expressRoute(req), sent, complete));
    context.with(handle.context, next);
  };
  const errors: ExpressErrorMiddleware = (error, _req, _res, next) => {
    requestScopeOf()?.recordError(error);
    next(error);
  };
  return Object.assign(middleware, { errors });
}
