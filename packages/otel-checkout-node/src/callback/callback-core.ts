import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';
import { CALLBACK_ERRORS_KEY } from '../payments/context-keys.js';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_PAYMENT_CALLBACK_CORRELATION,
  ATTR_PAYMENT_CALLBACK_DELAY,
  ATTR_PAYMENT_CALLBACK_DUPLICATE,
  ATTR_PAYMENT_CALLBACK_LATE,
  ATTR_PAYMENT_CALLBACK_REFUSED,
  ATTR_PAYMENT_CONTEXT_REJECTED,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_PROVIDER_STATUS,
  ATTR_PAYMENT_STAGE,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_CALLBACK_CORRELATION_VALUE_NONE,
  PAYMENT_CALLBACK_CORRELATION_VALUE_PASSBACK,
  PAYMENT_CALLBACK_CORRELATION_VALUE_STORE,
  PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_BODY,
  PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_HEADER,
  PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_QUERY,
  PAYMENT_CONTEXT_REJECTED_VALUE_FLOW_MISMATCH,
  PAYMENT_CONTEXT_REJECTED_VALUE_MISSING,
  PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE,
  PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
  PAYMENT_STAGE_VALUE_CALLBACK,
  SPAN_NAME_PAYMENT_CALLBACK,
} from '@otel-checkout/semantic-conventions/incubating';
import type { Flows, FlowSpan } from '../flows/flows.js';
import {
  HEALTH_CALLBACKS,
  HEALTH_CALLBACKS_DUPLICATE,
  HEALTH_CALLBACKS_LATE,
  HEALTH_CALLBACKS_NOT_IN_STORE,
  HEALTH_CALLBACKS_REFUSED,
  HEALTH_CALLBACKS_UNCORRELATED,
  HEALTH_FLOW_STORE_FAILURES,
  HEALTH_FLOW_STORE_FALLBACKS,
  HEALTH_TOKENS_REJECTED,
} from '../flows/flow-health.js';
import { flowParentContext } from '../flows/parent-context.js';
import { addRecordedFlowAttributes } from '../flows/record-attributes.js';
import type { FlowRecord, TakeResult } from '../flow-store/types.js';
import type { HealthCounters } from '../health.js';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import type { RequestView } from '../http/request-view.js';
import { runHook } from '../middleware/guard.js';
import { paymentRequestOf, requestBodyOf } from '../middleware/payment-request-view.js';
import { outcomeAttributes } from '../payments/attributes.js';
import { cutStatus, mappedStatusOf, recordMappedStatus } from '../payments/map-provider-status.js';
import { tradeNoText, unusableTradeNo } from '../payments/trade-no.js';
import { noteUnreadBody } from './unread-body.js';
import type { PaymentOutcome, PaymentRequest } from '../types.js';
import { bodyFields, fieldValue, headerToken, queryParam } from './read-token-sources.js';
import { DEFAULT_TOKEN_HEADER, rememberTokenNames } from './token-header.js';
import type { CallbackFields, CallbackOptions, CallbackScope } from './types.js';


export interface CallbackEnvironment {
  flows: Flows;
  tracer: Tracer;
  health: HealthCounters;
}

type Correlation =
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_QUERY
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_BODY
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_HEADER
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_PASSBACK
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_STORE
  | typeof PAYMENT_CALLBACK_CORRELATION_VALUE_NONE;

interface FlowParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
  /** ms since the epoch */
  issuedAt: number;
}

/**
 * The framework-neutral core of the callback middleware. Finds the flow (token in the query,
 * the body, a header, the pass-back field; then the flow store by trade number, or without one
 * by the token's flow), starts
 * `payment.callback` (SERVER) as a child of the flow's `payment.create` span, and records
 * correlation, delay, duplicate/late marks and the outcome. A token that fails verification
 * never becomes a parent. Never rejects: on any internal failure the request goes on untraced.
 */
export async function beginCallback(view: RequestView, options: CallbackOptions, env: CallbackEnvironment): Promise<CallbackScope> {
  try {
    return await begin(view, options ?? {}, env);
  } catch (error) {
    return untracedAfter(error, env);
  }
}

async function begin(view: RequestView, options: CallbackOptions, env: CallbackEnvironment): Promise<CallbackScope> {
  const { flows, health } = env;
  // The names this callback takes tokens under become sensitive names for the redaction
  // processor before any span of this request ends (a recorded header or body holds the token).
  rememberTokenNames(options.header, options.bodyFields, options.passbackField);
  const active = context.active();
  const receivedAt = Date.now();
  // One reading of the body for the token search and every hook: parsed once, counted once.
  const body = requestBodyOf(view);
  const request = paymentRequestOf(view, health, body);
  const fields = bodyFields(body);
  health.increment(HEALTH_CALLBACKS);
  noteUnreadBody(view, health);

  const candidates: TokenCandidate[] = [
    [PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_QUERY, queryParam(view.url, flows.tokenParam)],
    ...(options.bodyFields ?? [flows.tokenParam]).map(
      (field): TokenCandidate => [PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_BODY, fieldValue(fields, field)],
    ),
    [PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_HEADER, headerToken(view, options.header ?? DEFAULT_TOKEN_HEADER)],
    [
      PAYMENT_CALLBACK_CORRELATION_VALUE_PASSBACK,
      options.passbackField === undefined ? undefined : fieldValue(fields, options.passbackField),
    ],
  ];
  let { parent, correlation, rejected } = firstGenuineToken(flows, candidates);
  const tradeNo = callbackTradeNo(request, fields, options, health);
  // Known before the store is asked: "still pending" (a QR code scanned, a transfer waiting for
  // funds) is progress, not the end, so the flow keeps waiting for its final notification
  // instead of being taken. So does a status the integration's table does not map: it cannot
  // tell progress from the end, and taking the flow would make the provider's final
  // notification a duplicate, its outcome counted nowhere. Awaited, like the take, so the
  // provider's next notification (sent once this one is answered) finds the flow.
  const outcome = decideOutcome(request, fields, options, health);
  const waits =
    outcome.outcome === PAYMENT_OUTCOME_VALUE_PENDING ||
    (outcome.outcome === PAYMENT_OUTCOME_VALUE_UNKNOWN && outcome.reason === PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS);
  // Without a trade number a genuine token still names its flow: the store finds it by the token's
  // `payment.create` span, and the callback ends it (or keeps it waiting) as it would by trade
  // number. Else the flow stays in the store, and is also reported stalled at its deadline.
  const bySpan: FlowSpan | undefined = tradeNo === undefined && parent !== undefined ? { traceId: parent.traceId, spanId: parent.spanId } : undefined;
  let taken: TakeResult | undefined;
  let storeFailed = false;
  if (flows.store !== undefined && (tradeNo !== undefined || bySpan !== undefined)) {
    try {
      if (tradeNo !== undefined) taken = waits ? await flows.keepWaiting(tradeNo, outcome.raw) : await flows.store.take(tradeNo);
      else if (bySpan !== undefined) taken = sameFlow(waits ? await flows.keepWaitingBySpan(bySpan, outcome.raw) : await flows.takeBySpan(bySpan), bySpan);
    } catch (error) {
      storeFailed = true;
      health.increment(HEALTH_FLOW_STORE_FAILURES);
      health.increment(HEALTH_FLOW_STORE_FALLBACKS);
      health.warnOnce('flow-store-take', 'the flow store could not be read for a callback; correlating by token only', error);
      // This callback is the flow's end (it is counted): the flow must leave the store once it is
      // back, or its deadline passes there and it is reported stalled, counted a second time.
      if (!waits) flows.deferTake(tradeNo ?? bySpan!);
    }
    if (bySpan !== undefined && taken === undefined && !storeFailed) {
      // A store of the application's own that cannot find a flow by its span: as before, the
      // callback does not end its flow there, which is then also reported stalled.
      health.increment(HEALTH_CALLBACKS_NOT_IN_STORE);
      health.warnOnce(
        'callback-store-without-span',
        'a callback carried a valid flow token but no trade number, and the flow store cannot find a flow by its token (it has no takeBySpan), so the callback does not end its flow there and the flow is also reported stalled at its deadline; give the callback middleware a tradeNo hook that reads the trade number from the notification, or implement takeBySpan and keepWaitingBySpan in the store',
      );
    }
  }
  const stored = taken?.record;
  if (bySpan !== undefined && taken !== undefined && stored === undefined) {
    // Most often a flow minted without a trade number (never in the store), or instances each on
    // an in-memory store of their own; either way, a flow of this token that one holds is also reported stalled.
    health.increment(HEALTH_CALLBACKS_NOT_IN_STORE);
    health.warnOnce(
      'callback-token-not-in-store',
      "a callback carried a valid flow token and no trade number, but the flow store does not know the token's flow (or not yet); if this keeps happening, either its flows are minted without a trade number (see flowsWithoutTradeNo; they are never in the store, nor reported stalled), or instances are on in-memory stores of their own (use RedisFlowStore), in which case the flows are also reported stalled",
    );
  } else if (taken !== undefined && stored === undefined && parent !== undefined) {
    // Its token is genuine, so the flow was recorded somewhere, but not under this trade number
    // in this store. Most often a tradeNo hook that reads another field than the one the flow was
    // recorded under, or several instances each on their own in-memory store; either way the
    // flow is reported stalled too.
    health.increment(HEALTH_CALLBACKS_NOT_IN_STORE);
    health.warnOnce(
      'callback-not-in-store',
      "a callback carried a valid flow token, but the flow store does not know the trade number its tradeNo hook read (or not yet); if this keeps happening, either the tradeNo hook reads another field than the one holding the trade number the flow was created with (compare the callback's payment.trade_no with payment.create's), or instances are on in-memory stores of their own (use RedisFlowStore); until then those flows are also reported stalled",
    );
  }
  if (stored !== undefined) {
    if (parent === undefined) {
      parent = stored;
      correlation = PAYMENT_CALLBACK_CORRELATION_VALUE_STORE;
    } else if (parent.traceId !== stored.traceId || parent.spanId !== stored.spanId) {
      // A genuine token of another flow: the store, keyed by this callback's trade number, is the authority.
      parent = stored;
      correlation = PAYMENT_CALLBACK_CORRELATION_VALUE_STORE;
      rejected = PAYMENT_CONTEXT_REJECTED_VALUE_FLOW_MISMATCH;
      health.increment(HEALTH_TOKENS_REJECTED);
    } else {
      parent = { ...parent, issuedAt: stored.issuedAt };
    }
  }
  if (parent === undefined) {
    rejected ??= storeFailed ? PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE : PAYMENT_CONTEXT_REJECTED_VALUE_MISSING;
    health.increment(HEALTH_CALLBACKS_UNCORRELATED);
  }

  const attributes: Attributes = {
    [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_CALLBACK,
    [ATTR_PAYMENT_CALLBACK_CORRELATION]: correlation,
  };
  if (tradeNo !== undefined) attributes[ATTR_PAYMENT_TRADE_NO] = tradeNo;
  else if (stored !== undefined) attributes[ATTR_PAYMENT_TRADE_NO] = stored.tradeNo;
  const provider = stored?.provider ?? options.provider;
  if (provider !== undefined) attributes[ATTR_PAYMENT_PROVIDER] = provider;
  if (stored !== undefined) addRecordedFlowAttributes(attributes, stored);
  if (parent !== undefined) attributes[ATTR_PAYMENT_CALLBACK_DELAY] = Math.max(0, (receivedAt - parent.issuedAt) / 1000);
  if (rejected !== undefined) attributes[ATTR_PAYMENT_CONTEXT_REJECTED] = rejected;
  if (taken?.duplicate) {
    attributes[ATTR_PAYMENT_CALLBACK_DUPLICATE] = true;
    health.increment(HEALTH_CALLBACKS_DUPLICATE);
  }
  if (taken?.late) {
    attributes[ATTR_PAYMENT_CALLBACK_LATE] = true;
    health.increment(HEALTH_CALLBACKS_LATE);
  }

  const span = startCallbackSpan(env.tracer, active, attributes, receivedAt, parent);
  outcome.record(span);
  return traced(trace.setSpan(active, span), span);
}

/**
 * A provider notification refused before the callback middleware saw it: the route's body
 * parser refused it (malformed JSON, a body over its limit, a content type it does not take),
 * or on Fastify a hook before the callback's failed. Without this the provider's call leaves no trace, and its
 * flow later shows as stalled as if the provider had never called.
 *
 * `payment.callback` starts with `payment.callback.refused` and the error's type, in its flow
 * when the token is in the notify URL's query or the header (the body was refused, so it is
 * not searched, and the hooks see none). With such a token, the flow store's record of the flow
 * gives the span the flow's trade number, provider, method, release and cohort, and its delay,
 * as a callback the middleware takes has them; the store is only read (`peekBySpan`). It records
 * no outcome and leaves the flow waiting: the provider will send the notification again, and
 * the flow is reported stalled when none gets through. Never rejects: on any internal failure
 * the request goes on untraced.
 */
export async function beginRefusedCallback(view: RequestView, options: CallbackOptions, error: unknown, env: CallbackEnvironment): Promise<CallbackScope> {
  try {
    return await beginRefused(view, options ?? {}, error, env);
  } catch (failure) {
    return untracedAfter(failure, env);
  }
}

async function beginRefused(view: RequestView, options: CallbackOptions, error: unknown, env: CallbackEnvironment): Promise<CallbackScope> {
  const { flows, health } = env;
  rememberTokenNames(options.header, options.bodyFields, options.passbackField);
  const active = context.active();
  const receivedAt = Date.now();
  // A refused notification is one the provider sent: counted with every other, so that the
  // refused, and the uncorrelated among them, are shares of `callbacks`.
  health.increment(HEALTH_CALLBACKS);
  health.increment(HEALTH_CALLBACKS_REFUSED);
  health.warnOnce(
    'callback-refused',
    "a provider callback was refused before the callback middleware (by the route's body parser, or on Fastify an earlier hook); its flow waits for the provider to send it again",
  );
  const { parent, correlation, rejected } = firstGenuineToken(flows, [
    [PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_QUERY, queryParam(view.url, flows.tokenParam)],
    [PAYMENT_CALLBACK_CORRELATION_VALUE_TOKEN_HEADER, headerToken(view, options.header ?? DEFAULT_TOKEN_HEADER)],
  ]);
  const request = paymentRequestOf({ method: view.method, url: view.url, headers: view.headers, secure: view.secure }, health);
  const tradeNo = callbackTradeNo(request, undefined, options, health);
  if (parent === undefined) health.increment(HEALTH_CALLBACKS_UNCORRELATED);
  // Read, never taken: the flow must still wait for the provider's retry.
  const stored = parent === undefined ? undefined : await recordOfFlow(flows, parent, health);

  const attributes: Attributes = {
    [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_CALLBACK,
    [ATTR_PAYMENT_CALLBACK_CORRELATION]: correlation,
    [ATTR_PAYMENT_CALLBACK_REFUSED]: true,
    [ATTR_ERROR_TYPE]: refusalType(error),
  };
  const recordedTradeNo = tradeNo ?? stored?.tradeNo;
  if (recordedTradeNo !== undefined) attributes[ATTR_PAYMENT_TRADE_NO] = recordedTradeNo;
  const provider = stored?.provider ?? options.provider;
  if (provider !== undefined) attributes[ATTR_PAYMENT_PROVIDER] = provider;
  if (stored !== undefined) addRecordedFlowAttributes(attributes, stored);
  // The record's time, in ms, as the flow's other callbacks have it; the token's is in whole seconds.
  const issuedAt = stored?.issuedAt ?? parent?.issuedAt;
  if (issuedAt !== undefined) attributes[ATTR_PAYMENT_CALLBACK_DELAY] = Math.max(0, (receivedAt - issuedAt) / 1000);
  const rejectedAs = rejected ?? (parent === undefined ? PAYMENT_CONTEXT_REJECTED_VALUE_MISSING : undefined);
  if (rejectedAs !== undefined) attributes[ATTR_PAYMENT_CONTEXT_REJECTED] = rejectedAs;

  const span = startCallbackSpan(env.tracer, active, attributes, receivedAt, parent);
  // Not an HTTP error the server made: a notification about a payment got lost on the way in.
  span.setStatus({ code: SpanStatusCode.ERROR, message: REFUSED_MESSAGE });
  return traced(trace.setSpan(active, span), span);
}

/**
 * The store's record of the flow a genuine token names, read without changing it; `undefined`
 * when the store does not hold it, cannot read by span (a custom store without `peekBySpan`), or
 * answers with another flow's record. A store that fails is counted as for a take, and the
 * callback goes on with what its token says.
 */
async function recordOfFlow(flows: Flows, flow: FlowSpan, health: HealthCounters): Promise<FlowRecord | undefined> {
  try {
    const record = await flows.peekBySpan({ traceId: flow.traceId, spanId: flow.spanId });
    return record?.traceId === flow.traceId && record.spanId === flow.spanId ? record : undefined;
  } catch (error) {
    health.increment(HEALTH_FLOW_STORE_FAILURES);
    health.increment(HEALTH_FLOW_STORE_FALLBACKS);
    health.warnOnce('flow-store-peek', 'the flow store could not be read for a refused callback; it is traced with what its flow token says', error);
    return undefined;
  }
}

const REFUSED_MESSAGE = 'the notification was refused before the callback middleware';

// Error codes and types are identifiers (`entity.parse.failed`, `FST_ERR_CTP_INVALID_MEDIA_TYPE`);
// anything else in those fields could be text from the request, which must not be recorded.
const ERROR_TYPE_SHAPE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** What refused the notification, as `error.type`: the error's code, else its type, else its name. */
function refusalType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    for (const key of ['code', 'type', 'name'] as const) {
      const value: unknown = (error as Record<string, unknown>)[key];
      if (typeof value === 'string' && ERROR_TYPE_SHAPE.test(value)) return value;
    }
  }
  return '_OTHER';
}

/**
 * The trade number the `tradeNo` hook reads, or `undefined`. A value it cannot be (an object, a
 * boolean, a fraction, a number past 2^53) is counted with the hooks' errors and said once: else
 * the callback silently misses the store, logs nothing, and its flow is reported stalled although
 * the provider said how it ended.
 */
function callbackTradeNo(request: PaymentRequest, fields: CallbackFields, options: CallbackOptions, health: HealthCounters): string | undefined {
  if (options.tradeNo === undefined) return undefined;
  const returned: unknown = runHook(health, HEALTH_HOOK_ERRORS, 'callback tradeNo', undefined, (r) => options.tradeNo!(r, fields), request);
  const tradeNo = tradeNoText(returned);
  const unusable = tradeNo === undefined ? unusableTradeNo(returned) : undefined;
  if (unusable !== undefined) {
    unusableHookResult(
      health,
      'tradeNo',
      // A string here is one too long to be a trade number; anything else is of the wrong kind.
      `${unusable}${typeof returned === 'string' ? '' : ', neither a string nor a safe integer'}; the callback goes on without a trade number, so the flow store finds its flow only by a flow token the callback carries, if any (return the field as a string; a JSON number past 2^53 has lost digits already, so read such a field as text)`,
    );
  }
  return tradeNo;
}

/**
 * What the store found for a token's flow, when it is that flow (both ids of its record match): a
 * store of the application's own that answers with another flow's record gives no parent, no
 * trade number and no duplicate or late mark of another flow to this callback.
 */
function sameFlow(found: TakeResult | undefined, flow: FlowSpan): TakeResult | undefined {
  if (found?.record === undefined || (found.record.traceId === flow.traceId && found.record.spanId === flow.spanId)) return found;
  return { duplicate: false, late: false };
}

type TokenCandidate = [Correlation, string | undefined];

interface TokenSearch {
  parent: FlowParent | undefined;
  correlation: Correlation;
  /** Why the first bad token failed, when no genuine one was found. */
  rejected: string | undefined;
}

/** The first place, in the order given, holding a genuine flow token. */
function firstGenuineToken(flows: Flows, candidates: readonly TokenCandidate[]): TokenSearch {
  let rejected: string | undefined;
  for (const [correlation, value] of candidates) {
    if (value === undefined || value === '') continue;
    const result = flows.verifyToken(value, 'callback');
    // A bad value in an earlier place (counted by verifyToken) does not mark a callback
    // that a genuine token correlates.
    if (result.ok) return { parent: { ...result.token, issuedAt: result.token.issuedAt * 1000 }, correlation, rejected: undefined };
    rejected ??= result.reason;
  }
  return { parent: undefined, correlation: PAYMENT_CALLBACK_CORRELATION_VALUE_NONE, rejected };
}

/** `payment.callback`, a child of the flow's `payment.create` span, or the root of a new trace. */
function startCallbackSpan(tracer: Tracer, active: Context, attributes: Attributes, receivedAt: number, parent: FlowParent | undefined): Span {
  // The HTTP server span instrumentation-http made for this request sits in a trace of its
  // own (the provider sent no traceparent); link it so one can go from one to the other.
  const links: Link[] = [];
  const serverSpan = trace.getSpan(active);
  if (serverSpan !== undefined && serverSpan.spanContext().traceId !== '') links.push({ context: serverSpan.spanContext() });
  return tracer.startSpan(
    SPAN_NAME_PAYMENT_CALLBACK,
    { kind: SpanKind.SERVER, attributes, links, startTime: receivedAt },
    parent === undefined ? ROOT_CONTEXT : flowParentContext(parent),
  );
}

interface OutcomeDecision {
  outcome: PaymentOutcome | undefined;
  reason?: string;
  /** The provider's raw status, when the outcome was mapped from it. */
  raw?: string;
  /** Records the outcome (and the provider's status) on the callback's span. */
  record(span: Span): void;
}

const NO_OUTCOME: OutcomeDecision = { outcome: undefined, record: () => undefined };

/** The callback's outcome, from the user's hook or the provider's status, decided before its span starts. */
function decideOutcome(request: PaymentRequest, fields: CallbackFields, options: CallbackOptions, health: HealthCounters): OutcomeDecision {
  if (options.outcome !== undefined) {
    const decided = runHook(health, HEALTH_HOOK_ERRORS, 'callback outcome', undefined, (r) => options.outcome!(r, fields), request);
    const outcome = typeof decided === 'string' ? decided : typeof decided?.outcome === 'string' ? decided.outcome : undefined;
    if (outcome === undefined && decided !== undefined && decided !== null) unusableHookResult(health, 'outcome', 'neither an outcome nor { outcome, reason? }; the status, if any, decides');
    if (outcome !== undefined) {
      const reason = typeof decided === 'object' && decided !== null ? decided.reason : undefined;
      const attributes = outcomeAttributes(outcome, reason === undefined ? undefined : { reason });
      // The hook decides the outcome, but the provider's raw status, when a `status` hook reads
      // it, is still what on-call searches for, and what a stalled span says the flow last heard.
      const read = rawStatusOf(request, fields, options, health);
      const raw = read === undefined ? undefined : cutStatus(read);
      if (raw !== undefined) attributes[ATTR_PAYMENT_PROVIDER_STATUS] = raw;
      return { outcome, reason, raw, record: (span) => span.setAttributes(attributes) };
    }
  }
  const raw = rawStatusOf(request, fields, options, health);
  if (raw !== undefined) {
    if (options.statusTable !== undefined) {
      const mapped = mappedStatusOf(options.statusTable, raw);
      return { outcome: mapped.outcome, reason: mapped.reason, raw: mapped.raw, record: (span) => recordMappedStatus(span, mapped) };
    }
    // Without a table the raw status is still worth recording: it is what on-call searches for.
    return { outcome: undefined, record: (span) => span.setAttribute(ATTR_PAYMENT_PROVIDER_STATUS, cutStatus(raw)) };
  }
  return NO_OUTCOME;
}

/** The provider's raw status from the `status` hook, as it returned it; `undefined` without a hook or a usable status. */
function rawStatusOf(request: PaymentRequest, fields: CallbackFields, options: CallbackOptions, health: HealthCounters): string | number | undefined {
  if (options.status === undefined) return undefined;
  const raw: unknown = runHook(health, HEALTH_HOOK_ERRORS, 'callback status', undefined, (r) => options.status!(r, fields), request);
  if (typeof raw === 'string' || typeof raw === 'number') return raw;
  if (raw !== undefined && raw !== null) unusableHookResult(health, 'status', 'neither a string nor a number; no status is recorded');
  return undefined;
}

/**
 * A hook that answered with a value of the wrong kind (an object where a status was meant, from
 * plain JavaScript or a field read as it came): counted with the hooks' errors and said once, as
 * a hook that threw is, so that the callback's missing status or outcome has a visible cause.
 * The value itself is not logged: it comes from the provider's notification.
 */
function unusableHookResult(health: HealthCounters, hook: 'tradeNo' | 'status' | 'outcome', what: string): void {
  health.increment(HEALTH_HOOK_ERRORS);
  health.warnOnce(`callback-${hook}-result`, `the callback ${hook} hook returned ${what}`);
}

function traced(ctx: Context, span: Span): CallbackScope {
  let ended = false;
  const recordError = (error: unknown): void => {
    if (ended) return;
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  };
  return {
    // Found there by `payments.recordError`, for an error a framework answered itself.
    context: ctx.setValue(CALLBACK_ERRORS_KEY, recordError),
    span,
    recordError,
    end(statusCode?: number, complete = true) {
      if (ended) return;
      ended = true;
      if (!complete) {
        // The provider did not get this answer (its connection closed first, or midway): the
        // status the handler set is not what it saw, and it will send the notification again.
        span.setAttribute(ATTR_ERROR_TYPE, '_OTHER');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the response was complete' });
      } else if (typeof statusCode === 'number') {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
        if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/** After an internal failure: counted and said once, and the request goes on untraced. */
function untracedAfter(failure: unknown, env: CallbackEnvironment): CallbackScope {
  env.health.increment(HEALTH_HOOK_ERRORS);
  env.health.warnOnce('callback-internal', 'a provider callback could not be traced; it proceeds untraced', failure);
  return untraced(context.active());
}

/** A scope that changes nothing: the request proceeds exactly as without the middleware. */
function untraced(ctx: Context): CallbackScope {
  return { context: ctx, span: undefined, recordError: () => undefined, end: () => undefined };
}
