import { createContextKey } from '@opentelemetry/api';

/** The `ServerFlow` of the active `payments.create`. */
export const SERVER_FLOW_KEY = createContextKey('@otel-checkout/node server flow');
/** The payment request (server span and what is known about it) of the active payment route. */
export const PAYMENT_REQUEST_KEY = createContextKey('@otel-checkout/node payment request');
/**
 * How an error is recorded on the active provider callback's span (`payments.recordError`, for an
 * error the application answered itself): a function, set by the callback middleware.
 */
export const CALLBACK_ERRORS_KEY = createContextKey('@otel-checkout/node callback errors');
