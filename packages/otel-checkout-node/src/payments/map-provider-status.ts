import { trace } from '@opentelemetry/api';
import { maskCutDigits } from '@otel-checkout/core';
import type { Span } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_PROVIDER_STATUS,
  EVENT_PAYMENT_STATUS_UNMAPPED,
} from '@otel-checkout/semantic-conventions/incubating';
import {
  PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
} from '@otel-checkout/semantic-conventions';
import { HEALTH_UNMAPPED_STATUSES } from '../health-names.js';
import { runtime } from '../runtime.js';
import type { FailureReason, MappedStatus, PaymentOutcome, ProviderStatusTable } from '../types.js';
import { outcomeAttributes } from './attributes.js';

export const MAX_STATUS_LENGTH = 128;

/**
 * A raw provider status as the package records it: at most `MAX_STATUS_LENGTH` characters.
 * A status that is cut has the digits at its new end masked (`maskCutDigits`): a card number
 * a provider echoes in a long status text and that the cut splits has lost its last digits
 * and its Luhn check, so the redaction processor would no longer recognise it, and its first
 * digits would be exported (and kept in the flow store as the flow's last status).
 */
export function cutStatus(raw: string | number): string {
  const status = String(raw);
  return status.length <= MAX_STATUS_LENGTH ? status : maskCutDigits(status.slice(0, MAX_STATUS_LENGTH));
}

/**
 * Maps a provider's raw status to `payment.outcome` through `table` and records the result
 * on the active span (normally the provider call's): `payment.provider.status`,
 * `payment.outcome` and, when there is one, `payment.failure.reason`.
 *
 * Lookup is exact first, then case-insensitive. A status the table does not know is the
 * situation integrations meet in the field (new provider states, merchant-specific codes):
 * it becomes outcome `unknown`, reason `unmapped_status`, and the span gets a
 * `payment.status.unmapped` event carrying the raw status, so it can be searched for.
 * Never throws.
 */
export function mapProviderStatus(table: ProviderStatusTable, raw: string | number): MappedStatus {
  return mapProviderStatusOn(trace.getActiveSpan(), table, raw);
}

export function mapProviderStatusOn(span: Span | undefined, table: ProviderStatusTable, raw: string | number): MappedStatus {
  const result = mappedStatusOf(table, raw);
  recordMappedStatus(span, result);
  return result;
}

/** The mapping alone, recording nothing: for a caller that must know the outcome before its span starts. */
export function mappedStatusOf(table: ProviderStatusTable, raw: string | number): MappedStatus {
  const status = cutStatus(raw);
  const entry = lookup(table, status);
  return entry === undefined
    ? { raw: status, outcome: PAYMENT_OUTCOME_VALUE_UNKNOWN, reason: PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS, mapped: false }
    : { raw: status, ...entry, mapped: true };
}

/** Records a mapping on `span` (and counts an unmapped status), as `mapProviderStatus` does. */
export function recordMappedStatus(span: Span | undefined, result: MappedStatus): void {
  if (!result.mapped) {
    runtime().health.increment(HEALTH_UNMAPPED_STATUSES);
    span?.addEvent(EVENT_PAYMENT_STATUS_UNMAPPED, { [ATTR_PAYMENT_PROVIDER_STATUS]: result.raw });
  }
  span?.setAttributes({
    [ATTR_PAYMENT_PROVIDER_STATUS]: result.raw,
    ...outcomeAttributes(result.outcome, result.reason === undefined ? undefined : { reason: result.reason }),
  });
}

function lookup(table: ProviderStatusTable, status: string): { outcome: PaymentOutcome; reason?: FailureReason } | undefined {
  if (table === null || typeof table !== 'object') return undefined;
  let value = Object.prototype.hasOwnProperty.call(table, status) ? table[status] : undefined;
  if (value === undefined) {
    const lower = status.toLowerCase();
    const key = Object.keys(table).find((candidate) => candidate.toLowerCase() === lower);
    value = key === undefined ? undefined : table[key];
  }
  if (typeof value === 'string') return { outcome: value };
  if (value && typeof value === 'object' && typeof value.outcome === 'string') {
    return value.reason === undefined ? { outcome: value.outcome } : { outcome: value.outcome, reason: value.reason };
  }
  return undefined;
}
