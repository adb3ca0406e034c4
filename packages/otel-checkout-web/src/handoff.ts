import type { SpanContext } from '@opentelemetry/api';
import {
  PAYMENT_CONTEXT_REJECTED_VALUE_EXPIRED,
  PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED,
  PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE,
} from '@otel-checkout/semantic-conventions/incubating';
import { cleanDetails } from './flow/attributes.js';
import { parseTraceparent } from './traceparent.js';
import type { FlowDetails } from './types.js';

/**
 * The same-tab handoff: what the checkout page leaves in sessionStorage before it navigates to
 * the bank, so the return page (same tab, same origin) continues the trace from the redirect
 * span. sessionStorage is per tab, so another tab can never pick it up.
 */
export interface HandoffRecord {
  readonly v: 1;
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: number;
  /** When it was written and until when it counts, ms since the epoch. */
  readonly at: number;
  readonly exp: number;
  readonly details: FlowDetails;
  /** The flow's `payment.attempt` when it left; absent for the first (and in records of older builds). */
  readonly attempt?: number;
  /** Set on the record a return page keeps for its reloads: that page's address. */
  readonly taken?: string;
}

export const HANDOFF_KEY = 'otc.handoff';

export type HandoffRead =
  | { readonly ok: true; readonly record: HandoffRecord }
  | { readonly ok: false; readonly reason: string | undefined };

/**
 * The record for `context`. It keeps the known detail fields only (`cleanDetails`): it is parked
 * in sessionStorage and answered to challenge frames, and a page may pass its whole order, card
 * fields included, as the details of `begin()` or `resume()`.
 */
export function handoffRecord(context: SpanContext, { details, attempt }: Pick<HandoffRecord, 'details' | 'attempt'>, maxAgeMillis: number): HandoffRecord {
  const now = Date.now();
  return { v: 1, traceId: context.traceId, spanId: context.spanId, flags: context.traceFlags, at: now, exp: now + maxAgeMillis, details: cleanDetails(details), attempt };
}

/** Returns false when sessionStorage is unavailable or full. */
export function writeHandoff(record: HandoffRecord): boolean {
  try {
    // Absent (a ReferenceError), blocked (access throws in sandboxed frames) or full: all caught here.
    sessionStorage.setItem(HANDOFF_KEY, JSON.stringify(record));
    return true;
  } catch {
    return false;
  }
}

/** Validates a record from storage or from a message; `reason` is a `payment.context.rejected` value. */
export function parseHandoff(value: unknown, now: number): HandoffRead {
  const record = value as Partial<HandoffRecord> | null | undefined;
  if (
    // Also what is not an object at all: neither null nor a primitive has a `v` of 1.
    record?.v !== 1 ||
    typeof record.flags !== 'number' ||
    typeof record.at !== 'number' ||
    typeof record.exp !== 'number' ||
    // Strings: the template below would turn an array holding one id into that id.
    typeof record.traceId !== 'string' ||
    typeof record.spanId !== 'string' ||
    // Ids as a W3C traceparent holds them: lowercase hex of the right lengths, not all zeros.
    parseTraceparent(`00-${record.traceId}-${record.spanId}-00`) === undefined
  ) {
    return { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED };
  }
  if (now > record.exp || record.at > now + 60_000) return { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_EXPIRED };
  // Whoever wrote it may have put anything in it (any script of the origin shares
  // sessionStorage; a challenge answer comes from another window): the known detail fields
  // only, and the attempt only when it is a plausible count, else the flow counts from 1.
  const attempt = record.attempt as number;
  return { ok: true, record: { ...(record as HandoffRecord), details: cleanDetails(record.details), attempt: Number.isInteger(attempt) && attempt > 0 && attempt <= 1000 ? attempt : undefined } };
}

/** Reads and removes the record (one use only); `reason` undefined means there simply was none. */
export function takeHandoff(): HandoffRead {
  let text: string | null;
  try {
    // As in writeHandoff: no sessionStorage at all and storage blocked both throw here.
    text = sessionStorage.getItem(HANDOFF_KEY);
  } catch {
    return { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE };
  }
  if (text === null) return { ok: false, reason: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: left undefined, which parseHandoff calls malformed.
  }
  const read = parseHandoff(parsed, Date.now());
  const taken = read.ok ? read.record.taken : undefined;
  // A record a return page kept for its reloads (see `resume`): only a reload of that very
  // page takes it, and it stays for the next one; any other page finds nothing. Every other
  // record is taken once. (A page with sessionStorage has Navigation Timing: every browser
  // the package supports has both.)
  if (taken !== undefined && taken === location.href && (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.type === 'reload') return read;
  dropHandoff();
  return taken === undefined ? read : { ok: false, reason: undefined };
}

/**
 * Removes the record, if any. A new checkout or challenge calls this: a record an earlier
 * attempt left (the shopper went to the bank, pressed Back and pays again) must not be taken
 * by this attempt's challenge frame, which shares the tab's sessionStorage (an iframe) or gets
 * a copy of it (a popup), and would join the earlier attempt's trace.
 */
export function dropHandoff(): void {
  try {
    sessionStorage.removeItem(HANDOFF_KEY);
  } catch {
    // No storage (nothing to drop), or readable a moment ago: an expiry or the next redirect replaces it anyway.
  }
}
