import { context } from '@opentelemetry/api';
import { asFastifyPlugin, fastifyRequestView, fastifyRoute, routeFilter } from '../adapters/fastify.js';
import type { FastifyHookDone, FastifyInstanceLike, FastifyRequestLike, FastifyRouteOptions } from '../adapters/fastify.js';
import { onResponseDone } from '../adapters/response-end.js';
import type { PaymentMiddlewareOptions } from '../types.js';
import { beginPaymentRequest } from './payment-request.js';
import type { PaymentRequestHandle } from './payment-request.js';

const handles = new WeakMap<object, PaymentRequestHandle>();

function reenter(request: FastifyRequestLike, done: FastifyHookDone): void {
  const handle = handles.get(request);
  if (handle) context.with(handle.context, done);
  else done();
}

/** Options of `fastifyPayments`: those of every payment middleware, plus the routes it applies to. */
export interface FastifyPaymentsOptions extends PaymentMiddlewareOptions, FastifyRouteOptions {}

/**
 * Fastify 4/5 payment plugin. Its hooks apply to the instance it is registered on and that
 * instance's children, so register it inside the plugin that holds the payment routes:
 * `app.register(async (scope) => { await scope.register(fastifyPayments, { extract }); scope.post('/pay', ...) })`,
 * or name them in `routes`.
 */
export const fastifyPayments = asFastifyPlugin(function fastifyPayments(
  instance: FastifyInstanceLike,
  options: FastifyPaymentsOptions,
  done: (error?: Error) => void,
): void {
  // Registered without options by plain JavaScript, or called directly: the defaults.
  const opts: FastifyPaymentsOptions = options ?? {};
  const applies = routeFilter(opts.routes, 'fastifyPayments');
  instance.addHook('onRequest', (request, reply, next) => {
    if (!applies(request)) {
      next();
      return;
    }
    // The body is parsed after onRequest: payment details are read in preValidation.
    const handle = beginPaymentRequest(fastifyRequestView(request), opts, false);
    handles.set(request, handle);
    onResponseDone(reply.raw, (statusCode, sent, complete) => handle.finish(statusCode, fastifyRoute(request), sent, complete));
    context.with(handle.context, next);
  });
  instance.addHook('preValidation', (request, _reply, next) => {
    handles.get(request)?.extract(fastifyRequestView(request));
    reenter(request, next);
  });
  instance.addHook('preHandler', (request, _reply, next) => reenter(request, next));
  instance.addHook('onError', (request, _reply, error, next) => {
    handles.get(request)?.recordError(error);
    next();
  });
  done();
}, 'otel-checkout-payments');
