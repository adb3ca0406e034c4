import { context } from '@opentelemetry/api';
import { ATTR_PAYMENT_TRADE_NO } from '@otel-checkout/semantic-conventions';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { FailureReason, PaymentDetails, PaymentOutcome } from '../types.js';
import { outcomeAttributes, paymentAttributes, setAttributesSafely } from './attributes.js';
import { PAYMENT_REQUEST_KEY } from './context-keys.js';

/**
 * One request on a payment route: the server span that carries its payment attributes
 * (instrumentation-http's, the app's own, or one the middleware started) and whether an
 * outcome was recorded explicitly, which then wins over the one guessed from the response.
 */
export class PaymentRequestScope {
  outcomeRecorded = false;
  /**
   * What the payment middleware's `extract` found on this request, for `payments.create` to
   * start from: the route already knows the trade number, provider and method, and a handler
   * should not have to pass them again for its flow to be recorded and watched.
   */
  extracted: PaymentDetails | undefined = undefined;

  constructor(
    readonly serverSpan: Span,
    /** True when the middleware started (and so must end) the server span itself. */
    readonly owned: boolean,
    /** The payment middleware's request, which records a thrown error when the request ends. */
    private readonly errors?: { recordError(error: unknown): void },
  ) {
    // Only a span someone else made can be reached from a context that lacks this scope
    // (see below); one the middleware made is only ever reached through its own context.
    if (!owned) scopesByServerSpan.set(serverSpan, this);
  }

  /**
   * False once the server span ended: a client that went away (a closed tab, a dropped mobile
   * connection) ends it while the handler still runs. What the handler records afterwards has
   * no span to go to; written anyway, each attribute would cost a diagnostic warning.
   */
  private get open(): boolean {
    return this.serverSpan.isRecording();
  }

  annotate(details: PaymentDetails | undefined): void {
    if (this.open) setAttributesSafely(this.serverSpan, paymentAttributes(details));
  }

  setTradeNo(tradeNo: string): void {
    if (this.open) this.serverSpan.setAttribute(ATTR_PAYMENT_TRADE_NO, tradeNo);
  }

  /**
   * Records an error the handler threw or passed on. Error middleware finds the request
   * through the active context rather than a property set on the framework's request object:
   * adding a property to a request object costs a new hidden class per request.
   */
  recordError(error: unknown): void {
    this.errors?.recordError(error);
  }

  recordOutcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void {
    this.outcomeRecorded = true;
    if (this.open) this.serverSpan.setAttributes(outcomeAttributes(outcome, failure));
  }

  /** The outcome a flow recorded, as its attributes: checked (and an unregistered outcome counted) once, by the flow. */
  recordOutcomeAttributes(attributes: Attributes): void {
    this.outcomeRecorded = true;
    if (this.open) this.serverSpan.setAttributes(attributes);
  }
}

// Framework instrumentations (for example @fastify/otel) run handlers in a context they
// captured before the middleware ran; the HTTP server span reachable through the RPC
// metadata then leads back to the scope.
const scopesByServerSpan = new WeakMap<Span, PaymentRequestScope>();

/** The payment request of a context, when it is inside a payment route. */
export function requestScopeOf(ctx: Context = context.active()): PaymentRequestScope | undefined {
  const value = ctx.getValue(PAYMENT_REQUEST_KEY);
  if (value instanceof PaymentRequestScope) return value;
  const rpc = getRPCMetadata(ctx);
  if (rpc?.type === RPCType.HTTP && rpc.span) return scopesByServerSpan.get(rpc.span);
  return undefined;
}
