import { context } from '@opentelemetry/api';
import { koaRequestView, koaRoute } from '../adapters/koa.js';
import type { KoaContextLike, KoaNext } from '../adapters/koa.js';
import { onResponseDone } from '../adapters/response-end.js';
import type { PaymentMiddlewareOptions } from '../types.js';
import { beginPaymentRequest } from './payment-request.js';

export type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

/** Koa 2/3 payment middleware: `app.use(bodyParser()); app.use(koaPayments({ extract }))` (or on a router). */
export function koaPayments(options: PaymentMiddlewareOptions = {}): KoaMiddleware {
  return async (ctx, next) => {
    const handle = beginPaymentRequest(koaRequestView(ctx), options);
    onResponseDone(ctx.res, (statusCode, sent, complete) => handle.finish(statusCode, koaRoute(ctx), sent, complete));
    try {
      await context.with(handle.context, next);
    } catch (error) {
      handle.recordError(error);
      throw error;
    }
  };
}
