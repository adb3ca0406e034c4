import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_FAILURE_CODE,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_STAGE,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_STAGE_VALUE_QUERY,
  PAYMENT_STAGE_VALUE_REDIRECT,
  PAYMENT_STAGE_VALUE_SDK,
  SPAN_NAME_PAYMENT_QUERY,
  SPAN_NAME_PAYMENT_REDIRECT,
  SPAN_NAME_PAYMENT_SDK,
} from '@otel-checkout/semantic-conventions';
import {
  ATTR_CHECKOUT_SDK_NAME,
  ATTR_CHECKOUT_SDK_OPERATION,
  ATTR_CHECKOUT_SDK_VERSION,
  ATTR_PAYMENT_ATTEMPT,
  ATTR_PAYMENT_FALLBACK_METHOD,
  EVENT_PAYMENT_FALLBACK,
  EVENT_PAYMENT_RETRY,
  EVENT_PAYMENT_SDK_ERROR,
} from '@otel-checkout/semantic-conventions/incubating';
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE, ATTR_URL_FULL } from '@opentelemetry/semantic-conventions';
import { InvalidArgumentError } from '../errors.js';
import type {
  ChallengeOptions,
  CheckoutFlow,
  FailureReason,
  FlowDetails,
  PaymentMethod,
  PaymentOutcome,
  PollOptions,
  RedirectOptions,
  SdkInfo,
} from '../types.js';
import { detailAttributes } from './attributes.js';
import type { SdkHost } from './sdk-wrap.js';
import { wrapSdk } from './sdk-wrap.js';

/** What a flow needs from the running tracing setup. */
export interface FlowRuntime {
  readonly tracer: Tracer;
  /** Attributes every payment span carries (release, cohort). */
  readonly common: Attributes;
  readonly redirectWatchdogMillis: number;
  /** Makes `flow` the one that requests are attributed to while `fn` runs synchronously. */
  scoped<T>(flow: RecordingFlow, fn: () => T): T;
  ended(flow: RecordingFlow): void;
  /** Writes the same-tab handoff for `span`, hands queued spans to the browser, arms the watchdog. */
  leaving(flow: RecordingFlow, redirect: Span, watchdogMillis: number): void;
  answerChallenge(flow: RecordingFlow, redirect: () => Span, options: ChallengeOptions | undefined): () => void;
  /** Runs a user hook or callback-free piece of bookkeeping without letting it throw. */
  guard(what: string, fn: () => void): void;
}

function errorType(error: unknown): string {
  if (error instanceof Error) return error.name || 'Error';
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return typeof error === 'string' ? 'Error' : '_OTHER';
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** What identifies an SDK call, on its span and on its `payment.sdk.error` event. */
function sdkAttributes(info: SdkInfo, method: string): Attributes {
  const attributes: Attributes = { [ATTR_CHECKOUT_SDK_NAME]: info.name, [ATTR_CHECKOUT_SDK_OPERATION]: method };
  if (typeof info.version === 'string') attributes[ATTR_CHECKOUT_SDK_VERSION] = info.version;
  return attributes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A flow that records: `payment.checkout` (from `begin`) or `payment.return` (from `resume`) and its children. */
export class RecordingFlow implements CheckoutFlow, SdkHost {
  readonly traceId: string;
  private current: Span;
  private readonly children = new Set<Span>();
  private done = false;
  private attempt = 1;
  private redirectSpan: Span | undefined;
  /** Set when a redirect is under way: the root ends at `pagehide` or with `page_load_failed`. */
  redirecting = false;
  readonly details: FlowDetails;

  constructor(
    private readonly runtime: FlowRuntime,
    readonly root: Span,
    details: FlowDetails,
  ) {
    this.current = root;
    this.details = { ...details };
    this.traceId = root.spanContext().traceId;
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** The context fetch/XHR requests of this flow are parented to (the innermost SDK call, or the root). */
  context(): Context {
    return trace.setSpan(ROOT_CONTEXT, this.current);
  }

  private child(name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL, parent: Span = this.current): Span {
    const span = this.runtime.tracer.startSpan(
      name,
      { kind, attributes: { ...this.runtime.common, ...detailAttributes(this.details, false), ...attributes } },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    this.children.add(span);
    return span;
  }

  private endChild(span: Span): void {
    this.children.delete(span);
    span.end();
  }

  /** A CLIENT span for a propagated request. */
  startRequest(method: string, attributes: Attributes): Span {
    return this.child(method, attributes, SpanKind.CLIENT);
  }

  endRequest(span: Span): void {
    this.endChild(span);
  }

  setTradeNo(tradeNo: string): void {
    if (typeof tradeNo !== 'string' || tradeNo.length === 0) return;
    this.details.tradeNo = tradeNo;
    if (!this.done) this.root.setAttribute(ATTR_PAYMENT_TRADE_NO, tradeNo);
  }

  set(details: Partial<FlowDetails>): void {
    const attributes = detailAttributes(details);
    if (typeof details === 'object' && details !== null) Object.assign(this.details, details);
    if (!this.done) this.root.setAttributes(attributes);
  }

  run<T>(fn: () => T): T {
    if (typeof fn !== 'function') return undefined as T;
    return this.runtime.scoped(this, fn);
  }

  wrapSdk<T extends object>(sdk: T, info: SdkInfo): T {
    try {
      return wrapSdk(this, sdk, info);
    } catch {
      return sdk;
    }
  }

  // --- SdkHost ---

  startCall(info: SdkInfo, method: string): Span {
    const attributes = { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_SDK, ...sdkAttributes(info, method) };
    return this.child(`${SPAN_NAME_PAYMENT_SDK} ${method}`, attributes, SpanKind.INTERNAL, this.root);
  }

  within<T>(span: Span, fn: () => T): T {
    const previous = this.current;
    this.current = span;
    try {
      return this.runtime.scoped(this, fn);
    } finally {
      this.current = previous;
    }
  }

  failed(span: Span, error: unknown, info: SdkInfo, method: string): void {
    this.runtime.guard('record an SDK error', () => {
      const type = errorType(error);
      span.addEvent(EVENT_PAYMENT_SDK_ERROR, { [ATTR_ERROR_TYPE]: type, [ATTR_EXCEPTION_MESSAGE]: errorMessage(error), ...sdkAttributes(info, method) });
      span.setAttribute(ATTR_ERROR_TYPE, type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    });
    this.endChild(span);
  }

  succeeded(span: Span): void {
    this.endChild(span);
  }

  // --- the shopper's journey ---

  retry(reason?: FailureReason): void {
    if (this.done) return;
    this.attempt += 1;
    const attributes: Attributes = { [ATTR_PAYMENT_ATTEMPT]: this.attempt };
    if (typeof reason === 'string') attributes[ATTR_PAYMENT_FAILURE_REASON] = reason;
    this.root.addEvent(EVENT_PAYMENT_RETRY, attributes);
    this.root.setAttribute(ATTR_PAYMENT_ATTEMPT, this.attempt);
  }

  fallback(toMethod: PaymentMethod): void {
    if (this.done || typeof toMethod !== 'string' || toMethod.length === 0) return;
    const attributes: Attributes = { [ATTR_PAYMENT_FALLBACK_METHOD]: toMethod };
    if (this.details.method !== undefined) attributes[ATTR_PAYMENT_METHOD] = this.details.method;
    this.root.addEvent(EVENT_PAYMENT_FALLBACK, attributes);
    this.root.setAttribute(ATTR_PAYMENT_FALLBACK_METHOD, toMethod);
    this.set({ method: toMethod });
  }

  fail(reason: FailureReason, code?: string): void {
    if (this.done) return;
    this.root.setAttribute(ATTR_PAYMENT_OUTCOME, PAYMENT_OUTCOME_VALUE_FAILED);
    if (typeof reason === 'string') this.root.setAttribute(ATTR_PAYMENT_FAILURE_REASON, reason);
    if (typeof code === 'string' || typeof code === 'number') this.root.setAttribute(ATTR_PAYMENT_FAILURE_CODE, String(code));
    this.root.setStatus({ code: SpanStatusCode.ERROR, message: typeof reason === 'string' ? reason : undefined });
    this.end();
  }

  succeed(): void {
    if (this.done) return;
    this.root.setAttribute(ATTR_PAYMENT_OUTCOME, PAYMENT_OUTCOME_VALUE_SUCCEEDED);
    this.end();
  }

  cancel(): void {
    if (this.done) return;
    this.root.setAttribute(ATTR_PAYMENT_OUTCOME, PAYMENT_OUTCOME_VALUE_CANCELLED);
    this.root.setAttribute(ATTR_PAYMENT_FAILURE_REASON, PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED);
    this.end();
  }

  /** The watchdog fired: the bank page never replaced this one. */
  pageLoadFailed(): void {
    this.redirecting = false;
    this.fail(PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED);
  }

  private ensureRedirectSpan(url: string | undefined): Span {
    if (this.redirectSpan !== undefined) return this.redirectSpan;
    const attributes: Attributes = { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_REDIRECT };
    if (url !== undefined) attributes[ATTR_URL_FULL] = url;
    const span = this.child(SPAN_NAME_PAYMENT_REDIRECT, attributes, SpanKind.INTERNAL, this.root);
    this.redirectSpan = span;
    this.endChild(span);
    return span;
  }

  private bookkeeping(url: string | undefined, options: RedirectOptions | undefined): void {
    if (this.done) return;
    this.runtime.guard('prepare the redirect', () => {
      const redirect = this.ensureRedirectSpan(url);
      this.root.setAttribute(ATTR_PAYMENT_OUTCOME, PAYMENT_OUTCOME_VALUE_PENDING);
      this.redirecting = true;
      const watchdog = typeof options?.watchdogMillis === 'number' ? options.watchdogMillis : this.runtime.redirectWatchdogMillis;
      this.runtime.leaving(this, redirect, watchdog);
    });
  }

  redirect(url: string, options?: RedirectOptions): void {
    if (typeof url !== 'string') return;
    this.bookkeeping(url, options);
    if (typeof location !== 'undefined') location.assign(url);
  }

  prepareRedirect(options?: RedirectOptions): Promise<void> {
    this.bookkeeping(undefined, options);
    return Promise.resolve();
  }

  async query<T>(fn: () => Promise<T>, toOutcome?: (result: T) => PaymentOutcome | undefined): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('query needs a function returning a promise');
    const span = this.child(SPAN_NAME_PAYMENT_QUERY, { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_QUERY, [ATTR_PAYMENT_ATTEMPT]: this.attempt }, SpanKind.INTERNAL, this.root);
    try {
      const result = await this.within(span, fn);
      if (typeof toOutcome === 'function') {
        this.runtime.guard('map a query result', () => {
          const outcome = toOutcome(result);
          if (typeof outcome === 'string') span.setAttribute(ATTR_PAYMENT_OUTCOME, outcome);
        });
      }
      return result;
    } catch (error) {
      span.recordException(error instanceof Error ? error : errorMessage(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      this.endChild(span);
    }
  }

  async poll<T>(
    fn: () => Promise<T>,
    toOutcome: (result: T) => PaymentOutcome | undefined,
    options?: PollOptions,
  ): Promise<PaymentOutcome | undefined> {
    const interval = typeof options?.intervalMillis === 'number' && options.intervalMillis >= 0 ? options.intervalMillis : 2000;
    const attempts = typeof options?.maxAttempts === 'number' && options.maxAttempts >= 1 ? Math.floor(options.maxAttempts) : 10;
    let outcome: PaymentOutcome | undefined;
    for (let i = 0; i < attempts && !this.done; i++) {
      if (i > 0) {
        this.attempt += 1;
        await sleep(interval);
      }
      try {
        let mapped: PaymentOutcome | undefined;
        await this.query(fn, (result) => (mapped = typeof toOutcome === 'function' ? toOutcome(result) : undefined));
        outcome = mapped;
      } catch {
        // A failed query is on its span; the next attempt may succeed.
        continue;
      }
      if (outcome !== undefined && outcome !== PAYMENT_OUTCOME_VALUE_PENDING) break;
    }
    if (outcome !== undefined && !this.done) {
      this.root.setAttribute(ATTR_PAYMENT_OUTCOME, outcome);
      if (outcome !== PAYMENT_OUTCOME_VALUE_PENDING) this.end();
    }
    return outcome;
  }

  answerChallenge(options?: ChallengeOptions): () => void {
    if (this.done) return () => {};
    return this.runtime.answerChallenge(this, () => this.ensureRedirectSpan(undefined), options);
  }

  /** Records a page error on the flow (exception event, no status change: the payment may still succeed). */
  recordPageError(error: unknown): void {
    if (this.done) return;
    this.root.recordException(error instanceof Error ? error : { name: errorType(error), message: errorMessage(error) });
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.redirecting = false;
    for (const span of this.children) span.end();
    this.children.clear();
    this.root.end();
    this.runtime.ended(this);
  }
}
