import type { Span } from '@opentelemetry/api';
import { errorType } from '../payments/span-error.js';

// The error last recorded on each HTTP server span. Several parts see the same error on its
// way out (the payment middleware, then default mode's guard around the request listener),
// and the part that records it is not always the one that ends the span: a WeakMap keyed by
// the span lets both agree without a property on the span or the request.
const thrownOn = new WeakMap<Span, unknown>();

/**
 * Records an error a request's handler threw (or passed on) on its HTTP server span: the
 * exception event now, once per error however many parts report it, and its class as
 * `error.type` when the span ends (see `thrownErrorTypeOf`).
 */
export function recordServerSpanError(span: Span, error: unknown): void {
  // Ended already (the client went away before the handler threw): nothing left to record on.
  if (!span.isRecording()) return;
  if (thrownOn.has(span) && thrownOn.get(span) === error) return;
  thrownOn.set(span, error);
  span.recordException(error instanceof Error ? error : String(error));
}

/**
 * `error.type` of the last error recorded on the span, if any: it wins over the status code
 * when the span ends, as on the span lean mode's payment middleware ends.
 */
export function thrownErrorTypeOf(span: Span): string | undefined {
  return thrownOn.has(span) ? errorType(thrownOn.get(span)) : undefined;
}
