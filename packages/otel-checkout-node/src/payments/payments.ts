import { context, INVALID_SPAN_CONTEXT, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { canaryAttributes, readCanaryBaggage } from '@otel-checkout/core';
import {
  ATTR_PAYMENT_STAGE,
  PAYMENT_FAILURE_REASON_VALUE_INTERNAL,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_STAGE_VALUE_CREATE,
  SPAN_NAME_PAYMENT_CREATE,
} from '@otel-checkout/semantic-conventions';
import { ATTR_PAYMENT_FLOW_ALREADY_ENDED } from '@otel-checkout/semantic-conventions/incubating';
import { HEALTH_CALLS_OUTSIDE_FLOW } from '../health-names.js';
import { checkoutTracer, runtime } from '../runtime.js';
import type { FailureReason, PaymentDetails, PaymentOutcome, ProviderCall } from '../types.js';
import { addPaymentAttributes, copyAttributes, outcomeAttributes } from './attributes.js';
import { CALLBACK_ERRORS_KEY, SERVER_FLOW_KEY } from './context-keys.js';
import { detachedProviderCall, runProviderCall } from './provider-call.js';
import { recordSpanError } from './span-error.js';
import { requestScopeOf } from './request-scope.js';
import { tracingFailed } from './tracing-guard.js';
import { ServerFlowImpl } from './server-flow.js';
import type { ServerFlow } from './server-flow.js';

/** The server-side flow API (see docs/flow-model.md, "Public API"). */
export interface Payments {
  /**
   * Runs `fn` inside a new `payment.create` span; the root of a server-only flow when no context
   * came in. On a payment route, details not given here are those the middleware's `extract` found.
   */
  create<T>(details: PaymentDetails, fn: (flow: ServerFlow) => T | Promise<T>): Promise<T>;
  /** The flow of the active context. */
  current(): ServerFlow | undefined;
  /** A `payment.provider <operation>` CLIENT span around a call to the provider. */
  providerCall<T>(operation: string, fn: (call: ProviderCall) => T | Promise<T>): Promise<T>;
  /** Records the outcome on the current flow (and on the payment route's server span). */
  recordOutcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void;
  /**
   * Records an error thrown on a payment route that the application answered before the payment
   * middleware saw it (a NestJS exception filter, a framework's own error handler): its type and
   * an exception event on the route's server span, and the error for the `outcome` hook, as a
   * thrown error the middleware sees gets. On a provider's notify route, the exception on its
   * `payment.callback` span. Elsewhere it does nothing, so a global error handler may call it
   * for every error.
   */
  recordError(error: unknown): void;
  /** The return URL with the flow token appended. */
  returnUrl(url: string): string;
  /** The notify (callback) URL with the flow token appended. */
  notifyUrl(url: string): string;
  /** A flow token for the provider's pass-back field. */
  passback(): string;
}

function currentFlow(): ServerFlowImpl | undefined {
  const value = context.active().getValue(SERVER_FLOW_KEY);
  return value instanceof ServerFlowImpl ? value : undefined;
}

function outsideFlow(call: string): void {
  const health = runtime().health;
  health.increment(HEALTH_CALLS_OUTSIDE_FLOW);
  health.warnOnce(`outside-flow-${call}`, `payments.${call}() called outside payments.create(); nothing is traced for it`);
}

async function create<T>(given: PaymentDetails, fn: (flow: ServerFlow) => T | Promise<T>): Promise<T> {
  const parent = context.active();
  let details = given;
  let span: Span | undefined;
  let flow: ServerFlowImpl;
  let flowContext: Context;
  // Tracing never fails the payment: when `payment.create` cannot start (a sampler or span
  // processor that throws), `fn` runs untraced.
  try {
    const request = requestScopeOf(parent);
    details = withRouteDetails(given, request?.extracted);
    const baggage = propagation.getBaggage(parent);
    const incoming = readCanaryBaggage((key) => baggage?.getEntry(key)?.value);
    const release = incoming.release ?? runtime().release;
    const canary = { ...(release !== undefined ? { release } : {}), ...(incoming.cohort ? { cohort: incoming.cohort } : {}) };
    // Plain stores into one fresh object, as in the middleware: spreads make a slow dictionary-mode object.
    const attributes: Attributes = {};
    copyAttributes(attributes, canaryAttributes(canary));
    attributes[ATTR_PAYMENT_STAGE] = PAYMENT_STAGE_VALUE_CREATE;
    addPaymentAttributes(attributes, details);
    span = checkoutTracer().startSpan(SPAN_NAME_PAYMENT_CREATE, { kind: SpanKind.INTERNAL, attributes }, parent);
    flow = new ServerFlowImpl(span, details ?? {}, request, canary);
    // The extracted details are on the server span already.
    request?.annotate(given);
    flowContext = trace.setSpan(parent.setValue(SERVER_FLOW_KEY, flow), span);
  } catch (error) {
    tracingFailed('payment.create', error);
    endQuietly(span);
    const untraced = untracedFlow(details, parent);
    // Still the current flow, so `payments.*` calls inside find it rather than warn.
    return context.with(parent.setValue(SERVER_FLOW_KEY, untraced), () => fn(untraced));
  }
  try {
    return await context.with(flowContext, () => fn(flow));
  } catch (error) {
    try {
      recordSpanError(span, error);
      if (flow.outcome === undefined) {
        flow.outcome = PAYMENT_OUTCOME_VALUE_FAILED;
        span.setAttributes(outcomeAttributes(PAYMENT_OUTCOME_VALUE_FAILED, { reason: PAYMENT_FAILURE_REASON_VALUE_INTERNAL }));
      }
    } catch (tracingError) {
      tracingFailed('payment.create', tracingError);
    }
    throw error;
  } finally {
    try {
      // A flow final here may have been ended already by a callback that overtook this very
      // request (webhooks race API answers); that callback then counts as its end, not this span.
      const ending = flow.ending();
      if (ending !== undefined && (await settlesTrueWithin(ending, ENDED_BEFORE_WAIT_MS))) span.setAttribute(ATTR_PAYMENT_FLOW_ALREADY_ENDED, true);
      span.end();
      runtime().afterPaymentSpan?.();
    } catch (tracingError) {
      // A processor's onEnd that throws must not replace fn's result or error.
      tracingFailed('payment.create', tracingError);
    }
  }
}

// Every field of PaymentDetails, checked by the compiler both ways.
const DETAIL_KEYS = Object.keys({
  tradeNo: 0,
  orderId: 0,
  method: 0,
  provider: 0,
  amount: 0,
  currency: 0,
  merchantId: 0,
} satisfies Record<keyof PaymentDetails, 0>) as (keyof PaymentDetails)[];

/** `given`, with each detail it leaves out (undefined or null) taken from what the payment route extracted. */
function withRouteDetails(given: PaymentDetails, extracted: PaymentDetails | undefined): PaymentDetails {
  if (extracted === undefined || extracted === null || typeof extracted !== 'object') return given;
  const own: Partial<Record<keyof PaymentDetails, unknown>> = typeof given === 'object' && given !== null ? given : {};
  const merged: Record<string, unknown> = {};
  for (const key of DETAIL_KEYS) {
    const value = own[key] ?? extracted[key];
    if (value !== undefined && value !== null) merged[key] = value;
  }
  return merged;
}

/**
 * How long `payment.create` waits, when it ends with a final outcome, for the flow store to
 * say whether the flow had already ended: one store round trip (the memory store answers at
 * once, Redis in a millisecond or two). A slower store does not hold the payment longer; the
 * span then ends unmarked and the store finishes in the background.
 */
const ENDED_BEFORE_WAIT_MS = 100;

/** Whether `answer` resolves true within `ms`; false when it takes longer. */
function settlesTrueWithin(answer: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([answer, bound]).finally(() => clearTimeout(timer));
}

function endQuietly(span: Span | undefined): void {
  try {
    span?.end();
  } catch {
    // the span that failed is dropped with it
  }
}

/**
 * The flow `fn` gets when `payment.create` could not start: no span of its own, the caller's
 * trace context kept (its calls still propagate it), its URLs returned unchanged.
 */
function untracedFlow(details: PaymentDetails, parent: Context): ServerFlowImpl {
  const spanContext = trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT;
  return new ServerFlowImpl(trace.wrapSpanContext(spanContext), details ?? {}, undefined, {}, true);
}

/**
 * Bound to whatever TracerProvider is registered globally, so it works with
 * `startCheckoutTracing` and with an application's own SDK alike; before any SDK it makes
 * no spans and never fails.
 */
export const payments: Payments = Object.freeze({
  create,
  current: (): ServerFlow | undefined => currentFlow(),
  providerCall<T>(operation: string, fn: (call: ProviderCall) => T | Promise<T>): Promise<T> {
    const flow = currentFlow();
    if (flow) return flow.providerCall(operation, fn);
    outsideFlow('providerCall');
    const { call, callContext } = detachedProviderCall();
    return runProviderCall(call, callContext, fn);
  },
  recordOutcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void {
    const flow = currentFlow();
    if (flow) return flow.recordOutcome(outcome, failure);
    // On a payment route without `create` the outcome still belongs on the server span.
    const request = requestScopeOf();
    if (request) return request.recordOutcome(outcome, failure);
    outsideFlow('recordOutcome');
  },
  recordError(error: unknown): void {
    const request = requestScopeOf();
    if (request !== undefined) return request.recordError(error);
    // On a provider's notify route: on its payment.callback span.
    const onCallback = context.active().getValue(CALLBACK_ERRORS_KEY);
    if (typeof onCallback === 'function') (onCallback as (error: unknown) => void)(error);
  },
  returnUrl(url: string): string {
    const flow = currentFlow();
    if (flow) return flow.returnUrl(url);
    outsideFlow('returnUrl');
    return url;
  },
  notifyUrl(url: string): string {
    const flow = currentFlow();
    if (flow) return flow.notifyUrl(url);
    outsideFlow('notifyUrl');
    return url;
  },
  passback(): string {
    const flow = currentFlow();
    if (flow) return flow.passback();
    outsideFlow('passback');
    return '';
  },
});
