import { context, INVALID_SPAN_CONTEXT, propagation, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_PROVIDER_TRANSACTION_ID,
  ATTR_PAYMENT_PROVIDER_STATUS,
} from '@otel-checkout/semantic-conventions/incubating';
import { PAYMENT_OUTCOME_VALUE_FAILED } from '@otel-checkout/semantic-conventions';
import { ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS } from '@opentelemetry/semantic-conventions';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { runtime } from '../runtime.js';
import type { FailureReason, MappedStatus, PaymentOutcome, ProviderCall, ProviderStatusTable } from '../types.js';
import { outcomeAttributes } from './attributes.js';
import { failureReasonOf } from './failure-reason.js';
import { cutStatus, mapProviderStatusOn } from './map-provider-status.js';
import { recordSpanError } from './span-error.js';
import { tracingFailed } from './tracing-guard.js';
import { MAX_IDENTIFIER_LENGTH, tooLong } from './trade-no.js';

/** The handle given to a `providerCall` callback. */
export class ProviderCallHandle implements ProviderCall {
  outcomeSet = false;

  constructor(
    readonly span: Span,
    private readonly callContext: Context,
  ) {}

  inject<T extends Record<string, unknown>>(headers?: T): T {
    const carrier = headers ?? ({} as T);
    try {
      propagation.inject(this.callContext, carrier);
    } catch {
      // A carrier that cannot take headers is the caller's to fix; the call itself goes on.
    }
    return carrier;
  }

  status(raw: string | number, table: ProviderStatusTable): MappedStatus;
  status(raw: string | number): undefined;
  status(raw: string | number, table?: ProviderStatusTable): MappedStatus | undefined;
  status(raw: string | number, table?: ProviderStatusTable): MappedStatus | undefined {
    if (table === undefined) {
      this.span.setAttribute(ATTR_PAYMENT_PROVIDER_STATUS, cutStatus(raw));
      return undefined;
    }
    this.outcomeSet = true;
    return mapProviderStatusOn(this.span, table, raw);
  }

  transactionId(id: string): void {
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const text = String(id);
    // An id from the provider's answer, recorded unredacted (it is searched for): no provider's
    // is longer, and a bound keeps a malformed answer from putting megabytes into a span.
    if (text.length <= MAX_IDENTIFIER_LENGTH) {
      this.span.setAttribute(ATTR_PAYMENT_PROVIDER_TRANSACTION_ID, text);
      return;
    }
    const health = runtime().health;
    health.increment(HEALTH_HOOK_ERRORS);
    health.warnOnce('transaction-id-too-long', `provider transaction id is ${tooLong(text)}; it is not recorded`);
  }

  http(info: { statusCode?: number; serverAddress?: string }): void {
    if (typeof info?.statusCode === 'number') this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, info.statusCode);
    if (typeof info?.serverAddress === 'string') this.span.setAttribute(ATTR_SERVER_ADDRESS, info.serverAddress);
  }

  outcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void {
    this.outcomeSet = true;
    this.span.setAttributes(outcomeAttributes(outcome, failure));
  }
}

/** Runs `fn` with `call` active and ends its span; a thrown error marks the call failed and is rethrown. */
export async function runProviderCall<T>(call: ProviderCallHandle, callContext: Context, fn: (call: ProviderCall) => T | Promise<T>): Promise<T> {
  try {
    return await context.with(callContext, () => fn(call));
  } catch (error) {
    try {
      recordCallError(call, error);
    } catch (tracingError) {
      tracingFailed('payment.provider', tracingError);
    }
    throw error;
  } finally {
    try {
      call.span.end();
    } catch (tracingError) {
      // A processor's onEnd that throws must not replace fn's result or error.
      tracingFailed('payment.provider', tracingError);
    }
  }
}

function recordCallError(call: ProviderCallHandle, error: unknown): void {
  const span = call.span;
  recordSpanError(span, error);
  if (!call.outcomeSet) {
    span.setAttributes(outcomeAttributes(PAYMENT_OUTCOME_VALUE_FAILED, { reason: failureReasonOf(error) }));
  }
}

/** A provider call outside any flow: no span of its own (a non-recording one), but headers still carry the active context. */
export function detachedProviderCall(): { call: ProviderCallHandle; callContext: Context } {
  const callContext = context.active();
  const spanContext = trace.getSpanContext(callContext) ?? INVALID_SPAN_CONTEXT;
  return { call: new ProviderCallHandle(trace.wrapSpanContext(spanContext), callContext), callContext };
}
