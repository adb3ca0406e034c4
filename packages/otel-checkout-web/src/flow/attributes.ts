import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_AMOUNT,
  ATTR_PAYMENT_CURRENCY,
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_TRADE_NO,
} from '@otel-checkout/semantic-conventions';
import { warn } from '../safely.js';
import type { FlowDetails } from '../types.js';

let warnedAmount = false;

/**
 * Each detail field and its attribute. The first three are the ones every child span repeats;
 * `amount` is last, the one field that is not a string.
 */
const FIELDS: readonly (readonly [keyof FlowDetails, string])[] = [
  ['tradeNo', ATTR_PAYMENT_TRADE_NO],
  ['method', ATTR_PAYMENT_METHOD],
  ['provider', ATTR_PAYMENT_PROVIDER],
  ['currency', ATTR_PAYMENT_CURRENCY],
  ['merchantId', ATTR_PAYMENT_MERCHANT_ID],
  ['amount', ATTR_PAYMENT_AMOUNT],
];

/** Copies only the known, well-typed fields (a handoff record or message may carry anything). */
export function cleanDetails(details: unknown): FlowDetails {
  const out: Record<string, unknown> = {};
  if (typeof details !== 'object' || details === null) return out;
  for (const [key] of FIELDS) {
    const value = (details as Record<string, unknown>)[key];
    if (key === 'amount' ? Number.isSafeInteger(value) : typeof value === 'string') out[key] = value;
  }
  return out;
}

/**
 * Flow details as span attributes (all of them, or only those child spans repeat); values of the
 * wrong type and empty strings are ignored, never thrown on (a bad amount warns once).
 */
export function detailAttributes(details: Partial<FlowDetails> | undefined, all = true): Attributes {
  const out: Attributes = {};
  const clean = cleanDetails(details);
  for (const [key, attribute] of FIELDS.slice(0, all ? 6 : 3)) {
    const value = clean[key];
    if (value !== undefined && value !== '') out[attribute] = value;
  }
  const amount = details?.amount;
  if (all && amount !== undefined && clean.amount === undefined && !warnedAmount) {
    // 42.5 would be read as 42.5 cents: better no amount than a wrong one.
    warnedAmount = true;
    // Only its type: a form field, or a number past 2^53 (printed rounded, leading digits intact), may hold a card number.
    warn(`amount (${typeof amount}) is not an integer in minor units; ignored`);
  }
  return out;
}
