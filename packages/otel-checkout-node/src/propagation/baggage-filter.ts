import { propagation } from '@opentelemetry/api';
import type { Baggage, BaggageEntry, Context } from '@opentelemetry/api';
import { CANARY_BAGGAGE_KEYS, createRedactor, readCanaryBaggage } from '@otel-checkout/core';
import type { Redactor } from '@otel-checkout/core';
import type { HealthCounters } from '../health.js';
import { holdsBearerToken } from './bearer-token.js';
import { HEALTH_BAGGAGE_DROPPED } from '../health-names.js';
import type { BaggageOptions } from '../types.js';

export interface BaggageLimits {
  allowedKeys: ReadonlySet<string>;
  maxEntries: number;
  maxValueLength: number;
  maxHeaderLength: number;
}

const DEFAULT_BAGGAGE_MAX_ENTRIES = 8;
const DEFAULT_BAGGAGE_MAX_VALUE_LENGTH = 128;
/** The W3C baggage specification's own limit for the whole header. */
const DEFAULT_BAGGAGE_MAX_HEADER_LENGTH = 8192;

export function resolveBaggageLimits(options: BaggageOptions | undefined): BaggageLimits {
  return {
    allowedKeys: new Set(options?.allowedKeys ?? CANARY_BAGGAGE_KEYS),
    maxEntries: positiveOr(options?.maxEntries, DEFAULT_BAGGAGE_MAX_ENTRIES),
    maxValueLength: positiveOr(options?.maxValueLength, DEFAULT_BAGGAGE_MAX_VALUE_LENGTH),
    maxHeaderLength: positiveOr(options?.maxHeaderLength, DEFAULT_BAGGAGE_MAX_HEADER_LENGTH),
  };
}

const CANARY_KEYS: ReadonlySet<string> = new Set(CANARY_BAGGAGE_KEYS);

/**
 * A release or cohort value exactly as `canaryBaggageEntries` writes it (a version-like string;
 * `canary` or `stable`). Any other value under those keys is never read, only forwarded: to
 * every outgoing call, the payment provider's included, whatever the client put there.
 */
function isCanaryValue(key: string, value: string): boolean {
  const read = readCanaryBaggage((name) => (name === key ? value : undefined));
  return read.release === value || read.cohort === value;
}

/** Counts `dropped` incoming baggage entries (none: nothing) and says so once. */
export function countDroppedBaggage(health: HealthCounters, dropped: number): void {
  if (dropped === 0) return;
  health.increment(HEALTH_BAGGAGE_DROPPED, dropped);
  health.warnOnce('baggage-dropped', 'dropped incoming baggage entries that are not allow-listed, exceed the limits, are not a valid release or cohort, or hold what redaction would mask');
}

let valueRules: Redactor | undefined;

/**
 * Whether the redaction rules would change `value` (a card number, a `token=...` pair, a URL
 * with a secret parameter), or it holds a bearer token under any name. A release of the right shape can still be a card number, and an
 * application's own allow-listed key can hold anything: kept baggage is forwarded unredacted
 * to every outgoing call, so such a value is not kept at all.
 */
export function holdsSecret(value: string): boolean {
  return holdsBearerToken(value) || (valueRules ??= createRedactor()).redactText(value) !== value;
}

/**
 * Keeps only allow-listed baggage entries within the limits (the release and cohort only with
 * values of their shape, and no value the redaction rules would change); everything else is
 * dropped and counted. Baggage from clients is untrusted: it would otherwise be forwarded to
 * every downstream service and could be copied onto spans.
 */
function filterBaggage(baggage: Baggage, limits: BaggageLimits, health: HealthCounters): Baggage | undefined {
  const kept: Record<string, BaggageEntry> = {};
  let keptCount = 0;
  let dropped = 0;
  let hadProperties = false;
  for (const [key, entry] of baggage.getAllEntries()) {
    if (
      !limits.allowedKeys.has(key) ||
      entry.value.length > limits.maxValueLength ||
      keptCount >= limits.maxEntries ||
      (CANARY_KEYS.has(key) && !isCanaryValue(key, entry.value)) ||
      holdsSecret(entry.value)
    ) {
      dropped += 1;
      continue;
    }
    // Metadata (properties) is not needed by anyone here and is dropped on purpose: the
    // propagator would forward it as it came, unread.
    if (entry.metadata !== undefined) hadProperties = true;
    kept[key] = { value: entry.value };
    keptCount += 1;
  }
  countDroppedBaggage(health, dropped);
  if (dropped === 0 && !hadProperties) return baggage;
  return keptCount === 0 ? undefined : propagation.createBaggage(kept);
}

/** The context with its baggage filtered (or removed when nothing is left). */
export function filterContextBaggage(context: Context, limits: BaggageLimits, health: HealthCounters): Context {
  const baggage = propagation.getBaggage(context);
  if (baggage === undefined) return context;
  const filtered = filterBaggage(baggage, limits, health);
  if (filtered === baggage) return context;
  return filtered === undefined ? propagation.deleteBaggage(context) : propagation.setBaggage(context, filtered);
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
