import { context } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_AMOUNT,
  ATTR_PAYMENT_CURRENCY,
  ATTR_PAYMENT_FAILURE_CODE,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_ORDER_ID,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
} from '@otel-checkout/semantic-conventions';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { runtime } from '../runtime.js';
import type { FailureReason, PaymentDetails, PaymentOutcome } from '../types.js';
import { requestScopeOf } from './request-scope.js';
import type { PaymentRequestScope } from './request-scope.js';
import { MAX_IDENTIFIER_LENGTH, tooLong, tradeNoText, unusableTradeNo } from './trade-no.js';

/** `payment.*` attributes for the details that are set and of the right type. */
export function paymentAttributes(details: PaymentDetails | undefined): Attributes {
  return addPaymentAttributes({}, details);
}

/**
 * Adds the `payment.*` attributes of `details` to `attributes` (returned). Building one object
 * with plain property stores is several times cheaper per request than merging objects.
 */
export function addPaymentAttributes(attributes: Attributes, details: PaymentDetails | undefined): Attributes {
  if (!details || typeof details !== 'object') return attributes;
  const tradeNo = tradeNoText(details.tradeNo);
  if (tradeNo !== undefined) attributes[ATTR_PAYMENT_TRADE_NO] = tradeNo;
  else refuseIfUnusableTradeNo(details);
  setDetail(attributes, ATTR_PAYMENT_ORDER_ID, details, 'orderId');
  setDetail(attributes, ATTR_PAYMENT_METHOD, details, 'method');
  setDetail(attributes, ATTR_PAYMENT_PROVIDER, details, 'provider');
  setDetail(attributes, ATTR_PAYMENT_CURRENCY, details, 'currency');
  setDetail(attributes, ATTR_PAYMENT_MERCHANT_ID, details, 'merchantId');
  const amount = typeof details.amount === 'string' ? Number(details.amount) : details.amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) attributes[ATTR_PAYMENT_AMOUNT] = amount;
  else if (amount !== undefined) {
    // 42.5 is most likely 42.50 in major units; recorded, it would sum and compare wrongly with
    // the integers of minor units every other hop records.
    runtime().health.warnOnce('amount-not-minor-units', `payment amount ${shownAmount(amount)} is not an integer in minor units (4250 for 42.50 EUR); it is not recorded`);
  }
  return attributes;
}

/**
 * Counted and said once: a trade number that is recorded nowhere cannot be searched for, nor its
 * flow found by a callback. Nor is the flow stored under it (`tradeNoText` is the flow's rule too).
 */
function refuseIfUnusableTradeNo(details: PaymentDetails): void {
  const value: unknown = details.tradeNo;
  const unusable = unusableTradeNo(value);
  if (unusable === undefined) return;
  if (typeof value === 'string') {
    refuseDetail(details, 'tradeNo', 'trade-no-too-long', `payment tradeNo is ${unusable}; it is not recorded, nor its flow stored under it (no provider takes a trade number that long)`);
  } else {
    refuseDetail(details, 'tradeNo', 'trade-no-unusable', `payment tradeNo is ${unusable}, neither a string nor a safe integer; it is not recorded (a JSON number past 2^53 has lost digits already, so read such a field as text)`);
  }
}

/**
 * The details whose refused values each payment route's request has counted already, by field.
 * On a payment route the same value is looked at up to three times: in what the middleware's
 * `extract` returned (the server span), in what `payments.create` starts from, which takes each
 * detail it is not given from those (`payment.create`), and in what `create` was given (the server
 * span again). Counted each time, one bad field would count two or three times per request.
 */
const refusedInRequest = new WeakMap<PaymentRequestScope, Map<keyof PaymentDetails, unknown>>();

/**
 * A detail left out for its value: counted with the hooks' errors once per request (see above;
 * outside a payment route each value is looked at once) and said once per `kind`, without the
 * value, which came from the request.
 */
function refuseDetail(details: PaymentDetails, field: keyof PaymentDetails, kind: string, message: string): void {
  const health = runtime().health;
  if (firstRefusalInRequest(details, field)) health.increment(HEALTH_HOOK_ERRORS);
  health.warnOnce(kind, message);
}

function firstRefusalInRequest(details: PaymentDetails, field: keyof PaymentDetails): boolean {
  const scope = requestScopeOf(context.active());
  if (scope === undefined) return true;
  const value: unknown = details[field];
  const extracted = scope.extracted;
  // `payments.create`'s details, with a value taken from the extracted ones: counted when the middleware read them.
  if (extracted !== details && typeof extracted === 'object' && extracted !== null && Object.is(extracted[field], value)) return false;
  let refused = refusedInRequest.get(scope);
  if (refused === undefined) refusedInRequest.set(scope, (refused = new Map<keyof PaymentDetails, unknown>()));
  if (refused.has(field) && Object.is(refused.get(field), value)) return false;
  refused.set(field, value);
  return true;
}

/** Fewer digits than the shortest card number. */
const SHOWN_AMOUNT_DIGITS = 12;

/**
 * The rejected amount as the log shows it: a short number as it is (42.5 says what went
 * wrong), anything else by its type only. The value comes from the request (an extractor that
 * passes a body field on), and a field that holds a card number must not reach the log.
 */
function shownAmount(amount: unknown): string {
  if (typeof amount === 'number' && String(amount).replace(/\D/g, '').length <= SHOWN_AMOUNT_DIGITS) return String(amount);
  return Array.isArray(amount) ? '(an array)' : `(a ${typeof amount})`;
}

const REGISTERED_OUTCOMES: ReadonlySet<unknown> = new Set<PaymentOutcome>([
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
]);

// An outcome is a word the code chose; anything else could be text from a request.
const SHOWN_OUTCOME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/**
 * An outcome that is none of the registry's values (`'success'`, `'paid'`: from plain
 * JavaScript, a status table or a hook) is recorded as `unknown`, counted with the hooks' errors
 * and said once. Recorded as it came, it would be a series of its own that the success-rate rules
 * and dashboards, which count the registry's values, never see.
 */
function unregisteredOutcome(outcome: unknown): PaymentOutcome {
  const health = runtime().health;
  health.increment(HEALTH_HOOK_ERRORS);
  const shown = typeof outcome === 'string' && SHOWN_OUTCOME.test(outcome) ? `"${outcome}"` : `(a ${typeof outcome})`;
  health.warnOnce('outcome-unregistered', `payment outcome ${shown} is none of ${[...REGISTERED_OUTCOMES].join(', ')}; it is recorded as unknown`);
  return PAYMENT_OUTCOME_VALUE_UNKNOWN;
}

/** Attributes of an outcome and its failure reason/code. */
export function outcomeAttributes(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): Attributes {
  const attributes: Attributes = { [ATTR_PAYMENT_OUTCOME]: REGISTERED_OUTCOMES.has(outcome) ? outcome : unregisteredOutcome(outcome) };
  // A null (from plain JS) or empty reason or code says nothing; recorded, it would be a
  // dashboard series of its own.
  if (failure?.reason != null && failure.reason !== '') setFailureDetail(attributes, ATTR_PAYMENT_FAILURE_REASON, 'reason', String(failure.reason));
  if (failure?.code != null && failure.code !== '') setFailureDetail(attributes, ATTR_PAYMENT_FAILURE_CODE, 'code', String(failure.code));
  return attributes;
}

/**
 * A failure reason or code, unless longer than `MAX_IDENTIFIER_LENGTH`: a hook may pass on a
 * field of the provider's notification, and a word or a code is never that long. Outcomes are
 * checked once per recorded outcome, so counted each time.
 */
function setFailureDetail(attributes: Attributes, key: string, field: 'reason' | 'code', value: string): void {
  if (value.length <= MAX_IDENTIFIER_LENGTH) {
    attributes[key] = value;
    return;
  }
  const health = runtime().health;
  health.increment(HEALTH_HOOK_ERRORS);
  health.warnOnce(`failure-${field}-too-long`, `payment failure ${field} is ${tooLong(value)}; it is not recorded`);
}

export function setAttributesSafely(span: Span, attributes: Attributes): void {
  if (hasAttributes(attributes)) span.setAttributes(attributes);
}

/** Copies every attribute of `source` onto `target` (no intermediate arrays, unlike `Object.assign`'s slow path). */
export function copyAttributes(target: Attributes, source: Attributes): void {
  for (const key in source) target[key] = source[key];
}

export function hasAttributes(attributes: Attributes): boolean {
  for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) return true;
  return false;
}

/**
 * A string detail (an identifier or a short name) as it is, a finite number as its text; a string
 * longer than `MAX_IDENTIFIER_LENGTH` is left out, counted and said once: these are recorded
 * unredacted on every span of the flow, and an extractor passes on whatever the request holds.
 */
function setDetail(attributes: Attributes, key: string, details: PaymentDetails, field: 'orderId' | 'method' | 'provider' | 'currency' | 'merchantId'): void {
  const value: unknown = details[field];
  if (typeof value === 'string') {
    if (value.length > MAX_IDENTIFIER_LENGTH) refuseDetail(details, field, `${field}-too-long`, `payment ${field} is ${tooLong(value)}; it is not recorded`);
    else if (value.length > 0) attributes[key] = value;
  } else if (typeof value === 'number' && Number.isFinite(value)) attributes[key] = String(value);
}
