import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, Link, Span, SpanContext } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_FAILURE_CODE,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_STAGE,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_STAGE_VALUE_QUERY,
  PAYMENT_STAGE_VALUE_REDIRECT,
  PAYMENT_STAGE_VALUE_RETURN,
  PAYMENT_STAGE_VALUE_SDK,
  SPAN_NAME_PAYMENT_QUERY,
  SPAN_NAME_PAYMENT_REDIRECT,
  SPAN_NAME_PAYMENT_RETURN,
  SPAN_NAME_PAYMENT_SDK,
} from '@otel-checkout/semantic-conventions';
import {
  ATTR_CHECKOUT_SDK_NAME,
  ATTR_CHECKOUT_SDK_OPERATION,
  ATTR_CHECKOUT_SDK_VERSION,
  ATTR_PAYMENT_ATTEMPT,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  ATTR_PAYMENT_FALLBACK_METHOD,
  EVENT_PAYMENT_FALLBACK,
  EVENT_PAYMENT_RETRY,
  EVENT_PAYMENT_SDK_ERROR,
  PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE,
} from '@otel-checkout/semantic-conventions/incubating';
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE, ATTR_URL_FULL } from '@opentelemetry/semantic-conventions';
import type {
  ChallengeOptions,
  CheckoutFlow,
  FlowDetails,
  PaymentOutcome,
  PollOptions,
  RedirectOptions,
  SdkInfo,
} from '../types.js';
import { cleanDetails, detailAttributes } from './attributes.js';
import type { SdkHost, SdkName } from './sdk-wrap.js';
import { wrapSdk } from './sdk-wrap.js';
import { needsFunction, outcomeOf, pollLoop } from './poll.js';
import { NOOP_FLOW } from './noop-flow.js';
import { safely } from '../safely.js';
import { parseUrl } from '../propagation/url-match.js';

/** What a flow needs from the running tracing setup. */
export interface FlowRuntime {
  /** A span with the attributes every payment span carries (release, cohort) and `attributes`; a new trace without `parent`. */
  startSpan(name: string, attributes: Attributes, parent?: SpanContext, kind?: SpanKind, links?: Link[]): Span;
  /** Makes `flow` the one that requests are attributed to while `fn` runs synchronously. */
  scoped<T>(flow: RecordingFlow, fn: () => T): T;
  ended(flow: RecordingFlow): void;
  /**
   * Writes the same-tab handoff for `span`, hands queued spans to the browser, arms the
   * watchdog (for the redirect's own `watchdogMillis`, else the configured one).
   */
  leaving(flow: RecordingFlow, redirect: Span, watchdogMillis: number | undefined): void;
  /** Answers challenge frames with the handoff for `redirect()`, while it returns a span (until the flow ends). */
  answerChallenge(flow: RecordingFlow, redirect: () => Span | undefined, options: ChallengeOptions | undefined): () => void;
}

function errorType(error: unknown): string {
  if (error instanceof Error) return error.name || 'Error';
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return typeof error === 'string' ? 'Error' : '_OTHER';
}

/** An error's own message (an `Error`'s, or any object's that has one), else the value as text. */
function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** What identifies an SDK call, on its span and on its `payment.sdk.error` event. */
function sdkAttributes(info: SdkName, method: string): Attributes {
  const attributes: Attributes = { [ATTR_CHECKOUT_SDK_NAME]: info.name, [ATTR_CHECKOUT_SDK_OPERATION]: method };
  if (typeof info.version === 'string') attributes[ATTR_CHECKOUT_SDK_VERSION] = info.version;
  return attributes;
}

/** A flow that records, with what the runtime needs from it. */
export interface RecordingFlow extends CheckoutFlow, SdkHost {
  /**
   * The redirect span while a redirect is under way (the root ends at `pagehide` or with
   * `page_load_failed`): a watchdog armed for an earlier redirect can tell it is not this one.
   */
  redirecting?: Span;
  readonly details: FlowDetails;
  /** `payment.attempt` now: the handoff records carry it to the return page. */
  readonly attempt: number;
  /**
   * A CLIENT span for a propagated request. Not among the spans `end()` closes: the request
   * ends it when it completes, so a page whose own completion handler ends the flow (an XHR
   * `onload` runs before our `loadend`) still gets the response status on the span.
   */
  startRequest(method: string, attributes: Attributes): Span;
  /** Records a page error on the flow (exception event, no status change: the payment may still succeed). */
  recordError(error: unknown): void;
  /**
   * The page came back from the back-forward cache after `pagehide` ended this flow: it
   * carries on under a new root, `payment.return`, a child of the one that ended.
   */
  restored(): void;
  /** Restored from the back-forward cache and not yet paid for again: the next `begin()` continues it. */
  reopened?: boolean;
}

/**
 * A flow that records: `payment.checkout` (from `begin`) or `payment.return` (from `resume`)
 * and its children. A closure rather than a class, so its private state minifies.
 */
export function createFlow(runtime: FlowRuntime, firstRoot: Span, initial: FlowDetails | undefined, firstAttempt = 1): RecordingFlow {
  const children = new Set<Span>();
  /** The flow's proxy of each SDK object it wrapped. */
  const proxies = new WeakMap<object, object>();
  // The known fields only (none from what is not an object): these details go to sessionStorage
  // and to challenge frames (the handoff record), and a page may hand over its whole order or
  // form object.
  const details = cleanDetails(initial);
  /** `payment.checkout` or `payment.return`; a new `payment.return` after a restore from the back-forward cache. */
  let root = firstRoot;
  /** The innermost SDK call running, or the root: what requests are parented to. */
  let current = root;
  let done = false;
  /** Goes on counting on the return page, from what the handoff carried. */
  let attempt = firstAttempt;
  let redirectSpan: Span | undefined;

  /** A span under `parent` (by default the root), INTERNAL unless `kind` says otherwise. */
  const start = (name: string, attributes: Attributes, parent = root, kind?: SpanKind): Span =>
    runtime.startSpan(name, { ...detailAttributes(details, false), ...attributes }, parent.spanContext(), kind);

  /** A span that `end()` closes if it is still open then. */
  const child = (name: string, attributes: Attributes): Span => {
    const span = start(name, attributes);
    children.add(span);
    return span;
  };

  // Once only: the flow may have ended it already (the page ended the flow inside a query or SDK call).
  const endChild = (span: Span): void => {
    if (children.delete(span)) span.end();
  };

  const redirectSpanOf = (url?: string): Span => {
    // A navigation to a URL is a redirect of its own (a fallback after a challenge, say); a
    // challenge and prepareRedirect() know no URL and share the latest.
    if (redirectSpan !== undefined && url === undefined) return redirectSpan;
    const attributes: Attributes = { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_REDIRECT };
    // Absolute, as on CLIENT spans: resolved as the navigation resolves it (against the document's
    // base URL). The redaction rules see the absolute URL at export, so the token is still removed.
    if (url !== undefined) attributes[ATTR_URL_FULL] = parseUrl(url, globalThis.document?.baseURI)?.href ?? url;
    redirectSpan = child(SPAN_NAME_PAYMENT_REDIRECT, attributes);
    endChild(redirectSpan);
    return redirectSpan;
  };

  const bookkeeping = (url: string | undefined, options: RedirectOptions | undefined): void => {
    if (done) return;
    safely('redirect handling', () => {
      const redirect = redirectSpanOf(url);
      root.setAttribute(ATTR_PAYMENT_OUTCOME, PAYMENT_OUTCOME_VALUE_PENDING);
      flow.redirecting = redirect;
      runtime.leaving(flow, redirect, options?.watchdogMillis);
    });
  };

  /** Records the outcome (and why, when it is not a success) and ends the flow. */
  const finish = (outcome: PaymentOutcome, reason?: unknown): void => {
    if (done) return;
    root.setAttribute(ATTR_PAYMENT_OUTCOME, outcome);
    if (typeof reason === 'string') root.setAttribute(ATTR_PAYMENT_FAILURE_REASON, reason);
    flow.end();
  };

  const flow: RecordingFlow = {
    traceId: root.spanContext().traceId,
    details,

    get attempt() {
      return attempt;
    },

    startRequest: (method, attributes) => start(method, attributes, current, SpanKind.CLIENT),

    setTradeNo(tradeNo) {
      // Not empty: an empty one would replace the known one in the handoff record. `set` ignores
      // a value that is not a string.
      if (tradeNo) flow.set({ tradeNo });
    },

    set(more) {
      const attributes = detailAttributes(more);
      Object.assign(details, cleanDetails(more));
      if (!done) root.setAttributes(attributes);
    },

    run<T>(fn: () => T): T {
      return typeof fn === 'function' ? runtime.scoped(flow, fn) : (undefined as T);
    },

    wrapSdk: <T extends object>(sdk: T, info: SdkInfo<T>): T => safely('wrapSdk', () => wrapSdk(flow, sdk, info, proxies), sdk),

    // --- SdkHost ---

    startSpan: (info, method) => child(`${SPAN_NAME_PAYMENT_SDK} ${method}`, { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_SDK, ...sdkAttributes(info, method) }),

    within<T>(span: Span, fn: () => T): T {
      const previous = current;
      current = span;
      try {
        return runtime.scoped(flow, fn);
      } finally {
        current = previous;
      }
    },

    failed(span, error, info, method) {
      safely('SDK error handling', () => {
        const type = errorType(error);
        const message = errorMessage(error);
        span.addEvent(EVENT_PAYMENT_SDK_ERROR, { [ATTR_ERROR_TYPE]: type, [ATTR_EXCEPTION_MESSAGE]: message, ...sdkAttributes(info, method) });
        span.setAttribute(ATTR_ERROR_TYPE, type);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      });
      endChild(span);
    },

    succeeded: endChild,

    // --- the shopper's journey ---

    retry(reason) {
      if (done) return;
      attempt++;
      const attributes: Attributes = { [ATTR_PAYMENT_ATTEMPT]: attempt };
      if (typeof reason === 'string') attributes[ATTR_PAYMENT_FAILURE_REASON] = reason;
      root.addEvent(EVENT_PAYMENT_RETRY, attributes);
      root.setAttribute(ATTR_PAYMENT_ATTEMPT, attempt);
    },

    fallback(toMethod) {
      if (done || typeof toMethod !== 'string' || toMethod.length === 0) return;
      const attributes: Attributes = { [ATTR_PAYMENT_FALLBACK_METHOD]: toMethod };
      if (details.method !== undefined) attributes[ATTR_PAYMENT_METHOD] = details.method;
      root.addEvent(EVENT_PAYMENT_FALLBACK, attributes);
      root.setAttribute(ATTR_PAYMENT_FALLBACK_METHOD, toMethod);
      flow.set({ method: toMethod });
    },

    fail(reason, code) {
      if (done) return;
      if (typeof code === 'string' || typeof code === 'number') root.setAttribute(ATTR_PAYMENT_FAILURE_CODE, String(code));
      root.setStatus({ code: SpanStatusCode.ERROR, message: typeof reason === 'string' ? reason : undefined });
      finish(PAYMENT_OUTCOME_VALUE_FAILED, reason);
    },

    succeed: () => finish(PAYMENT_OUTCOME_VALUE_SUCCEEDED),

    cancel: () => finish(PAYMENT_OUTCOME_VALUE_CANCELLED, PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED),

    redirect(url, options) {
      if (typeof url === 'string') bookkeeping(url, options);
      // Navigates exactly as a flow that records nothing does.
      NOOP_FLOW.redirect(url);
    },

    prepareRedirect(options) {
      bookkeeping(undefined, options);
      return Promise.resolve();
    },

    async query<T>(fn: () => Promise<T>, toOutcome?: (result: T) => PaymentOutcome | undefined): Promise<T> {
      needsFunction(fn, 'query');
      const span = child(SPAN_NAME_PAYMENT_QUERY, { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_QUERY, [ATTR_PAYMENT_ATTEMPT]: attempt });
      try {
        const result = await flow.within(span, fn);
        const outcome = outcomeOf(toOutcome, result);
        if (typeof outcome === 'string') span.setAttribute(ATTR_PAYMENT_OUTCOME, outcome);
        return result;
      } catch (error) {
        span.recordException(error instanceof Error ? error : errorMessage(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
        throw error;
      } finally {
        endChild(span);
      }
    },

    async poll<T>(fn: () => Promise<T>, toOutcome: (result: T) => PaymentOutcome | undefined, options?: PollOptions): Promise<PaymentOutcome | undefined> {
      // Polling is not a retry: `payment.attempt` stays as it is (only `retry()` counts).
      const outcome = await pollLoop(flow, fn, toOutcome, options);
      if (typeof outcome !== 'string' || done) return outcome;
      // A final outcome ends the flow the way the matching call would, so a failure polled is
      // recorded with ERROR status, as fail() records one. Without a reason: the page only
      // learns that the payment failed, not why, and a decline is not a provider's error (the
      // backend's callback span carries the provider's reason).
      if (outcome === PAYMENT_OUTCOME_VALUE_FAILED) {
        root.setStatus({ code: SpanStatusCode.ERROR });
        finish(outcome);
      } else if (outcome === PAYMENT_OUTCOME_VALUE_CANCELLED) flow.cancel();
      else if (outcome === PAYMENT_OUTCOME_VALUE_PENDING) root.setAttribute(ATTR_PAYMENT_OUTCOME, outcome);
      else finish(outcome);
      return outcome;
    },

    answerChallenge(options) {
      return done ? () => {} : runtime.answerChallenge(flow, () => (done ? undefined : redirectSpanOf()), options);
    },

    recordError(error) {
      if (!done) root.recordException(error instanceof Error ? error : { name: errorType(error), message: errorMessage(error) });
    },

    restored() {
      // The shopper is on this page again (typically Back from the provider's page): a return
      // without a carried context, in the same trace. The next redirect is a new one.
      current = root = runtime.startSpan(
        SPAN_NAME_PAYMENT_RETURN,
        { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_RETURN, ...detailAttributes(details), [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE },
        root.spanContext(),
      );
      redirectSpan = undefined;
      done = false;
      flow.reopened = true;
    },

    end() {
      if (done) return;
      done = true;
      flow.redirecting = undefined;
      for (const span of children) span.end();
      children.clear();
      root.end();
      runtime.ended(flow);
    },
  };
  return flow;
}
