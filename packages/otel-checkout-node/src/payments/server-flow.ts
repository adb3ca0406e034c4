import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { canaryAttributes } from '@otel-checkout/core';
import type { ReleaseCohort } from '@otel-checkout/core';
import {
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_STAGE,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_STAGE_VALUE_PROVIDER,
  SPAN_NAME_PAYMENT_PROVIDER,
} from '@otel-checkout/semantic-conventions';
import type { FlowContext } from '../flows/flows.js';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { runtime, checkoutTracer } from '../runtime.js';
import type { FailureReason, PaymentDetails, PaymentOutcome, ProviderCall } from '../types.js';
import { copyAttributes, outcomeAttributes } from './attributes.js';
import { SERVER_FLOW_KEY } from './context-keys.js';
import { ProviderCallHandle, runProviderCall } from './provider-call.js';
import { tracingFailed } from './tracing-guard.js';
import type { PaymentRequestScope } from './request-scope.js';
import { MAX_IDENTIFIER_LENGTH, tradeNoText, unusableTradeNo } from './trade-no.js';

/** The explicit handle of one server-side flow (the `payment.create` span and what it knows). */
export interface ServerFlow {
  readonly traceId: string;
  readonly tradeNo: string | undefined;
  setTradeNo(tradeNo: string | number): void;
  providerCall<T>(operation: string, fn: (call: ProviderCall) => T | Promise<T>): Promise<T>;
  recordOutcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void;
  returnUrl(url: string): string;
  notifyUrl(url: string): string;
  passback(): string;
}

const MAX_OPERATION_LENGTH = 64;

// The outcomes that end a flow where they are recorded; `pending` and `unknown` still wait for the provider.
const FINAL_OUTCOMES: ReadonlySet<string> = new Set<PaymentOutcome>([
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
]);

/**
 * A provider or method as `payment.create` recorded it: a non-empty text of at most
 * `MAX_IDENTIFIER_LENGTH` characters. A longer one was left out there (and counted); kept here,
 * it would go on every provider span and into the flow store, for every callback and stalled
 * span to repeat.
 */
function keptDetail(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  return typeof text === 'string' && text.length > 0 && text.length <= MAX_IDENTIFIER_LENGTH ? text : undefined;
}

export class ServerFlowImpl implements ServerFlow {
  /** The outcome recorded on `payment.create`, if any. */
  outcome: PaymentOutcome | undefined;
  private currentTradeNo: string | undefined;
  /** The provider and method as `payment.create` recorded them (see `keptDetail`): what the provider spans and the flow store get. */
  private readonly provider: string | undefined;
  private readonly method: string | undefined;

  constructor(
    readonly span: Span,
    details: PaymentDetails,
    private readonly request: PaymentRequestScope | undefined,
    /** The flow's release and cohort, as recorded on `payment.create`. */
    private readonly canary: ReleaseCohort = {},
    /** `payment.create` could not start (see payments.ts): no token is minted nor flow recorded for a span that does not exist. */
    private readonly untraced = false,
  ) {
    this.currentTradeNo = tradeNoText(details.tradeNo);
    this.provider = keptDetail(details.provider);
    this.method = keptDetail(details.method);
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get tradeNo(): string | undefined {
    return this.currentTradeNo;
  }

  setTradeNo(given: string | number): void {
    // A number (a safe integer) is recorded as the text the flow is keyed by.
    const tradeNo = tradeNoText(given);
    if (tradeNo === undefined) {
      const problem = unusableTradeNo(given);
      if (problem !== undefined) {
        const health = runtime().health;
        health.increment(HEALTH_HOOK_ERRORS);
        health.warnOnce('set-trade-no-unusable', `flow.setTradeNo was given ${problem}; it is ignored`);
      }
      return;
    }
    this.currentTradeNo = tradeNo;
    this.span.setAttribute(ATTR_PAYMENT_TRADE_NO, tradeNo);
    this.request?.setTradeNo(tradeNo);
  }

  providerCall<T>(operation: string, fn: (call: ProviderCall) => T | Promise<T>): Promise<T> {
    const name = `${SPAN_NAME_PAYMENT_PROVIDER} ${String(operation).slice(0, MAX_OPERATION_LENGTH)}`;
    // Normally called inside `create`, where the flow's span (or a span under it) is active;
    // a flow kept and used later still parents its calls to its own span.
    const active = context.active();
    const parent = active.getValue(SERVER_FLOW_KEY) === this ? active : trace.setSpan(active, this.span);
    // The flow's identity goes on the provider's own span too, so a search by trade number, or
    // a cut by release and cohort, finds the span that holds the provider's answer.
    const attributes: Attributes = { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_PROVIDER };
    copyAttributes(attributes, canaryAttributes(this.canary));
    if (this.provider !== undefined) attributes[ATTR_PAYMENT_PROVIDER] = this.provider;
    if (this.method !== undefined) attributes[ATTR_PAYMENT_METHOD] = this.method;
    if (this.currentTradeNo !== undefined) attributes[ATTR_PAYMENT_TRADE_NO] = this.currentTradeNo;
    let span: Span;
    try {
      span = checkoutTracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    } catch (error) {
      // The call goes on without a span of its own; its headers still carry the flow's context.
      tracingFailed('payment.provider', error);
      span = trace.wrapSpanContext(this.span.spanContext());
    }
    const callContext = trace.setSpan(parent, span);
    return runProviderCall(new ProviderCallHandle(span, callContext), callContext, fn);
  }

  recordOutcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void {
    this.outcome = outcome;
    const attributes = outcomeAttributes(outcome, failure);
    this.span.setAttributes(attributes);
    this.request?.recordOutcomeAttributes(attributes);
  }

  /**
   * Called as `payment.create` ends. A flow with a final outcome there (the provider
   * answered at once, or the integration failed) waits for no callback: the flow store lets
   * it go, so it is not reported stalled and a late notification counts as a duplicate.
   * Resolves true when the flow had already ended before (see `Flows.complete`); undefined
   * when the flow does not end here or the store never held it.
   */
  ending(): Promise<boolean> | undefined {
    if (this.untraced || this.outcome === undefined || !FINAL_OUTCOMES.has(this.outcome)) return undefined;
    try {
      return runtime().flows.complete(this.flowContext());
    } catch (error) {
      runtime().health.warnOnce('flow-complete', 'a flow that ended at payment.create could not be closed in the flow store', error);
      return undefined;
    }
  }

  returnUrl(url: string): string {
    return this.untraced ? url : runtime().flows.returnUrl(this.flowContext(), url);
  }

  notifyUrl(url: string): string {
    return this.untraced ? url : runtime().flows.notifyUrl(this.flowContext(), url);
  }

  passback(): string {
    return this.untraced ? '' : runtime().flows.passback(this.flowContext());
  }

  private flowContext(): FlowContext {
    const spanContext = this.span.spanContext();
    const flow: FlowContext = { traceId: spanContext.traceId, spanId: spanContext.spanId, traceFlags: spanContext.traceFlags };
    if (this.currentTradeNo !== undefined) flow.tradeNo = this.currentTradeNo;
    if (this.provider !== undefined) flow.provider = this.provider;
    if (this.method !== undefined) flow.method = this.method;
    if (this.canary.release !== undefined) flow.release = this.canary.release;
    if (this.canary.cohort !== undefined) flow.cohort = this.canary.cohort;
    return flow;
  }
}

