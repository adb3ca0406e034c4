import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Baggage, Context, Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType, setRPCMetadata } from '@opentelemetry/core';
import { canaryAttributes, canaryBaggageEntries, cohortOf, readCanaryBaggage } from '@otel-checkout/core';
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_URL_PATH, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions';
import { normalizeMethod, pathOf } from '../http/request-line.js';
import type { RequestView } from '../http/request-view.js';
import { endHttpServerSpan, serverErrorType } from '../http/server-span-end.js';
import { recordServerSpanError } from '../http/server-span-error.js';
import { HEALTH_EXTRACTOR_ERRORS, HEALTH_HOOK_ERRORS } from '../health-names.js';
import { filterContextBaggage } from '../propagation/baggage-filter.js';
import { PAYMENT_REQUEST_KEY } from '../payments/context-keys.js';
import { contextWithValue } from '../payments/layered-context.js';
import { errorType } from '../payments/span-error.js';
import { PaymentRequestScope } from '../payments/request-scope.js';
import { runtime } from '../runtime.js';
import { startOwnServerSpan } from '../spans/server-span-starter.js';
import type { PaymentDetails, PaymentMiddlewareOptions, PaymentRequest } from '../types.js';
import { addPaymentAttributes, copyAttributes, hasAttributes } from '../payments/attributes.js';
import { runHook } from './guard.js';
import { defaultOutcome } from './outcome.js';
import { paymentRequestOf } from './payment-request-view.js';

/**
 * One request on a payment route, as every framework adapter drives it:
 * `begin` (as early as the framework allows; it extracts at once unless told the body is not
 * parsed yet) → `extract` (once the body is parsed, for such frameworks) →
 * `recordError` (if the handler threw) → `finish` (when the response is done; `sent` is
 * `false` when the connection closed before the response's headers went out, `complete`
 * `false` when it closed before the whole response went out).
 * Run the rest of the request inside `context`.
 */
export interface PaymentRequestHandle {
  readonly context: Context;
  extract(view: RequestView): void;
  recordError(error: unknown): void;
  finish(statusCode: number, route?: string, sent?: boolean, complete?: boolean): void;
}

/** The shared core of every payment middleware. Never throws: a failure inside leaves the request untouched. */
export function beginPaymentRequest(view: RequestView, options: PaymentMiddlewareOptions, extractNow = true): PaymentRequestHandle {
  try {
    return new PaymentRequest_(view, options, extractNow);
  } catch (error) {
    const health = runtime().health;
    health.increment(HEALTH_HOOK_ERRORS);
    health.warnOnce('middleware-internal', 'payment middleware could not trace a request; it proceeds untraced', error);
    return passthrough();
  }
}

class PaymentRequest_ implements PaymentRequestHandle {
  readonly context: Context;
  private readonly scope: PaymentRequestScope;
  private readonly method: string;
  private view: RequestView;
  // One request object for both hooks, so a raw body is parsed (and a bad one counted) once.
  private request: PaymentRequest | undefined;
  private error: unknown;
  private finished = false;

  constructor(view: RequestView, private readonly options: PaymentMiddlewareOptions, extractNow: boolean) {
    const rt = runtime();
    const active = context.active();
    this.method = normalizeMethod(view.method);
    this.view = view;
    const existing = serverSpanOf(active);
    let ctx = existing ? active : propagation.extract(active, view.headers);
    // Filtered here too: inside an app's SDK the propagator that extracted it is not ours.
    // Baggage the guarded propagator already filtered passes unchanged and is not counted twice.
    ctx = filterContextBaggage(ctx, rt.baggageLimits, rt.health);
    // Every attribute known now goes on the span in one call (each call costs a sanitizing
    // pass), in a fresh object filled with plain stores: merging objects (Object.assign,
    // spreads) turned it into a slow dictionary-mode object and cost several microseconds.
    const attributes: Attributes = {};
    const cohortBaggage = this.addCanaryAttributes(attributes, ctx);
    const extracted = extractNow ? this.runExtractor() : undefined;
    addPaymentAttributes(attributes, extracted);
    let span: Span;
    if (existing) {
      // instrumentation-http (ours or the app's) or an outer payment middleware already made
      // the one server span: annotate it.
      span = existing;
      if (hasAttributes(attributes)) span.setAttributes(attributes);
    } else {
      // Lean mode, or an SDK without HTTP instrumentation: this middleware makes the server
      // span. Nested payment middleware finds it through this request's scope. The RPC
      // metadata instrumentation-http leaves for the framework instrumentations (to name the
      // route) is set only when an app's SDK may run them: lean mode runs none, and every
      // context entry is copied again on each context derived from this one.
      attributes[ATTR_HTTP_REQUEST_METHOD] = this.method;
      attributes[ATTR_URL_PATH] = pathOf(view.url);
      attributes[ATTR_URL_SCHEME] = view.secure === true ? 'https' : 'http';
      span = startOwnServerSpan(this.method, attributes, ctx);
      ctx = trace.setSpan(ctx, span);
      if (rt.mode !== 'lean') ctx = setRPCMetadata(ctx, { type: RPCType.HTTP, span });
    }
    this.scope = new PaymentRequestScope(span, existing === undefined, this);
    this.scope.extracted = extracted;
    if (cohortBaggage) ctx = propagation.setBaggage(ctx, cohortBaggage);
    this.context = contextWithValue(ctx, PAYMENT_REQUEST_KEY, this.scope);
  }

  private paymentRequest(): PaymentRequest {
    return (this.request ??= paymentRequestOf(this.view, runtime().health));
  }

  extract(view: RequestView): void {
    // The view of a request whose body is parsed now (Fastify's preValidation).
    this.view = view;
    this.request = undefined;
    const extracted = this.runExtractor();
    this.scope.extracted = extracted;
    this.scope.annotate(extracted);
  }

  private runExtractor(): PaymentDetails | undefined {
    const extractor = this.options.extract;
    if (!extractor) return undefined;
    const request = this.paymentRequest();
    return runHook(runtime().health, HEALTH_EXTRACTOR_ERRORS, 'extract', undefined, extractor, request);
  }

  recordError(error: unknown): void {
    this.error = error ?? new Error('unknown error');
    // On the server span whoever made it: default mode's span (and an app SDK's) shows the
    // error exactly as the span this middleware makes in lean mode does.
    recordServerSpanError(this.scope.serverSpan, this.error);
  }

  finish(statusCode: number, route?: string, sent = true, complete = sent): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.finishUnguarded(statusCode, route, sent, complete);
    } catch (error) {
      runtime().health.warnOnce('middleware-finish', 'payment middleware could not finish a request span', error);
    }
  }

  private finishUnguarded(statusCode: number, route: string | undefined, sent: boolean, complete: boolean): void {
    const span = this.scope.serverSpan;
    const health = runtime().health;
    const hook = this.options.outcome;
    if (!this.scope.outcomeRecorded) {
      // As ResponseInfo documents: a thrown error with nothing sent is a 500, not the 200 a
      // response starts with (nor a status the handler set before throwing), which no client saw.
      const info = this.error === undefined ? { statusCode } : { statusCode: sent ? statusCode : 500, error: this.error };
      // The default is also the fallback of a user hook that throws.
      const fallback = defaultOutcome(info);
      const outcome = hook ? runHook(health, HEALTH_HOOK_ERRORS, 'outcome', fallback, hook, info) : fallback;
      if (outcome) this.scope.recordOutcome(outcome.outcome, outcome);
    }
    const thrown = this.error === undefined ? undefined : errorType(this.error);
    if (!this.scope.owned) {
      // Default mode's span takes the class from recordServerSpanError when it ends (a status
      // code must not replace it); an app SDK's span gets it here, as before its end.
      // Not for an error answered with a 4xx: the client's mistake, as endHttpServerSpan has it.
      if (thrown !== undefined && serverErrorType({ statusCode: complete ? statusCode : undefined, errorType: thrown }) !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, thrown);
      }
      // The server span ends after this: the framework's route reaches it through the RPC
      // metadata, as a route from the framework instrumentations does.
      const rpc = getRPCMetadata(this.context);
      if (route && rpc?.type === RPCType.HTTP && rpc.route === undefined) rpc.route = route;
      return;
    }
    if (complete) {
      endHttpServerSpan(span, this.method, { route, statusCode, errorType: thrown });
    } else {
      // The client did not get this answer (nothing of it, or its headers and part of its body):
      // the status code is not what it saw, as default mode's span records it.
      endHttpServerSpan(span, this.method, { route, errorType: thrown ?? '_OTHER', errorMessage: 'connection closed before the response was complete' });
    }
  }

  /**
   * Release and cohort: from (allow-listed) incoming baggage, else computed here from the
   * user id. Only a cohort computed here is added to the baggage (so downstream hops agree),
   * which is returned; this service's own release is recorded, not forwarded as the flow's release.
   */
  private addCanaryAttributes(attributes: Attributes, ctx: Context): Baggage | undefined {
    const rt = runtime();
    const baggage = propagation.getBaggage(ctx);
    const incoming = baggage === undefined ? undefined : readCanaryBaggage((key) => baggage.getEntry(key)?.value);
    const release = incoming?.release ?? rt.release;
    let cohort = incoming?.cohort;
    let bucket: number | undefined;
    const userIdHook = this.options.userId;
    if (cohort === undefined && userIdHook && rt.cohort) {
      const userId = runHook(rt.health, HEALTH_HOOK_ERRORS, 'userId', undefined, userIdHook, this.paymentRequest());
      if (typeof userId === 'string' && userId.length > 0) {
        ({ cohort, bucket } = cohortOf(userId, rt.cohort));
      }
    }
    if (cohort === undefined) {
      if (release !== undefined) copyAttributes(attributes, release === rt.release ? releaseAttributes(release) : canaryAttributes({ release }));
      return undefined;
    }
    copyAttributes(attributes, canaryAttributes({ ...(release ? { release } : {}), cohort, ...(bucket !== undefined ? { bucket } : {}) }));
    if (bucket === undefined) return undefined;
    let next = baggage ?? propagation.createBaggage();
    for (const [key, entry] of Object.entries(canaryBaggageEntries({ cohort }))) next = next.setEntry(key, entry);
    return next;
  }
}

// The service's own release is the same on every request: validated and shaped once.
let releaseCache: { release: string; attributes: Attributes } | undefined;
function releaseAttributes(release: string): Attributes {
  if (releaseCache?.release !== release) releaseCache = { release, attributes: canaryAttributes({ release }) };
  return releaseCache.attributes;
}

/**
 * The HTTP server span of the active context, while it is the request's: an outer payment
 * middleware's (through its scope), or instrumentation-http's or this package's (through
 * their RPC metadata).
 */
function serverSpanOf(ctx: Context): Span | undefined {
  const outer = ctx.getValue(PAYMENT_REQUEST_KEY);
  if (outer instanceof PaymentRequestScope && isCurrent(outer.serverSpan)) return outer.serverSpan;
  const rpc = getRPCMetadata(ctx);
  if (rpc?.type === RPCType.HTTP && rpc.span !== undefined && isCurrent(rpc.span)) return rpc.span;
  return undefined;
}

/**
 * Recording, or never sampled: an unsampled request's span records nothing, but it is still
 * the request's server span. Starting another would read the headers a second time and count
 * every bad one twice. A sampled span that no longer records has ended, unless no span records
 * at all (no tracer provider, `OTEL_TRACES_EXPORTER=none`): then the one found is the request's.
 */
function isCurrent(span: Span): boolean {
  return span.isRecording() || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0 || runtime().recordsNothing === true;
}

function passthrough(): PaymentRequestHandle {
  return { context: context.active(), extract: () => undefined, recordError: () => undefined, finish: () => undefined };
}
