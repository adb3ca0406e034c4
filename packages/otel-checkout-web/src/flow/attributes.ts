import { diag } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_AMOUNT,
  ATTR_PAYMENT_CURRENCY,
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_TRADE_NO,
} from '@otel-checkout/semantic-conventions';
import type { FlowDetails } from '../types.js';

let warnedAmount = false;

/** Flow details as span attributes; values of the wrong type are ignored, never thrown on (a bad amount warns once). */
export function detailAttributes(details: Partial<FlowDetails> | undefined, all = true): Attributes {
  const out: Attributes = {};
  if (typeof details !== 'object' || details === null) return out;
  const text = (key: string, value: unknown): void => {
    if (typeof value === 'string' && value.length > 0) out[key] = value;
  };
  text(ATTR_PAYMENT_TRADE_NO, details.tradeNo);
  text(ATTR_PAYMENT_METHOD, details.method);
  text(ATTR_PAYMENT_PROVIDER, details.provider);
  if (all) {
    text(ATTR_PAYMENT_CURRENCY, details.currency);
    text(ATTR_PAYMENT_MERCHANT_ID, details.merchantId);
    if (Number.isSafeInteger(details.amount)) out[ATTR_PAYMENT_AMOUNT] = details.amount;
    else if (details.amount !== undefined && !warnedAmount) {
      // 42.5 would be read as 42.5 cents: better no amount than a wrong one.
      warnedAmount = true;
      // Only its type: a form field, or a number past 2^53 (printed rounded, leading digits intact), may hold a card number.
      diag.warn(`@otel-checkout/web: amount (${typeof details.amount}) is not an integer in minor units; ignored`);
    }
  }
  return out;
}

/** Copies only the known, well-typed fields (a handoff record or message may carry anything). */
export function cleanDetails(details: unknown): FlowDetails {
  const out: FlowDetails = {};
  if (typeof details !== 'object' || details === null) return out;
  const d = details as Record<string, unknown>;
  for (const key of ['tradeNo', 'method', 'provider', 'currency', 'merchantId'] as const) {
    if (typeof d[key] === 'string') out[key] = d[key];
  }
  if (Number.isSafeInteger(d.amount)) out.amount = d.amount as number;
  return out;
}
