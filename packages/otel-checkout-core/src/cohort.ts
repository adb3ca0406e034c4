import {
  ATTR_CHECKOUT_CANARY_BUCKET,
  ATTR_CHECKOUT_CANARY_COHORT,
  ATTR_CHECKOUT_RELEASE,
  CHECKOUT_CANARY_COHORT_VALUE_CANARY,
  CHECKOUT_CANARY_COHORT_VALUE_STABLE,
} from '@otel-checkout/semantic-conventions/incubating';
import { utf8Bytes } from './utf8.js';

/**
 * The canary cohort of a user, computed the same way in the browser and in Node so every
 * hop of a flow agrees without asking anyone:
 *
 *   bytes  = UTF-8(salt + ':' + stableUserId)   (lone surrogates encoded as U+FFFD)
 *   hash   = 32-bit FNV-1a over bytes           (offset basis 2166136261, prime 16777619)
 *   bucket = hash mod 100                        (hash taken as an unsigned 32-bit integer)
 *   cohort = 'canary' when bucket < percent, otherwise 'stable'
 *
 * Changing the salt reshuffles everyone; raising the percentage only moves users from
 * stable to canary, never back, because a user's bucket does not depend on it.
 */

/** A value of `checkout.canary.cohort`. */
export type CanaryCohort = typeof CHECKOUT_CANARY_COHORT_VALUE_CANARY | typeof CHECKOUT_CANARY_COHORT_VALUE_STABLE;

/** How users are split between the canary and the stable release. */
export interface CohortOptions {
  /** Mixed into the hash so each rollout draws its own canary users. Default `''`. */
  salt?: string;
  /**
   * Share of users in the canary, 0..100 (fractions allowed: bucket < percent). Out-of-range
   * values are clamped; a non-finite value counts as 0, because a broken configuration must
   * not put users on the canary. Default 0.
   */
  percent?: number;
}

/** Where one user falls. */
export interface CohortAssignment {
  /** 0..99, fixed for a given salt and user id. */
  readonly bucket: number;
  readonly cohort: CanaryCohort;
}

/** The release and cohort that travel with a flow, as spans attributes and as W3C baggage. */
export interface ReleaseCohort {
  /** The application release (for example the front-end build id); travels as `checkout.release`. */
  release?: string;
  /** The user's cohort; travels as `checkout.canary.cohort`. */
  cohort?: CanaryCohort;
  /** The user's bucket; recorded on spans only (not in baggage: the cohort is what hops need). */
  bucket?: number;
}

/** FNV-1a 32-bit offset basis. */
const FNV_OFFSET_BASIS = 0x811c9dc5;
/** FNV-1a 32-bit prime. */
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-8 bytes of `input`, as an unsigned integer. */
export function fnv1a32(input: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8Bytes(input)) {
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * The bucket and cohort of `stableUserId`. Never throws.
 *
 * An empty (or missing) id means the user is not known well enough to be followed across
 * hops: the result is `{ bucket: 99, cohort: 'stable' }`, even at 100 percent, so anonymous
 * traffic never lands on the canary by accident.
 */
export function cohortOf(stableUserId: string, options: CohortOptions = {}): CohortAssignment {
  const percent = normalizePercent(options.percent);
  if (typeof stableUserId !== 'string' || stableUserId.length === 0) {
    return { bucket: 99, cohort: CHECKOUT_CANARY_COHORT_VALUE_STABLE };
  }
  const salt = typeof options.salt === 'string' ? options.salt : '';
  const bucket = fnv1a32(`${salt}:${stableUserId}`) % 100;
  return {
    bucket,
    cohort: bucket < percent ? CHECKOUT_CANARY_COHORT_VALUE_CANARY : CHECKOUT_CANARY_COHORT_VALUE_STABLE,
  };
}

/**
 * What is wrong with cohort options, as human-readable problems (empty when they are fine).
 * `cohortOf` works with any input; setups call this once to warn through their logger.
 */
export function cohortOptionsProblems(options: CohortOptions | undefined): string[] {
  const problems: string[] = [];
  if (options === undefined) return problems;
  const { percent, salt } = options;
  if (percent !== undefined) {
    if (typeof percent !== 'number' || !Number.isFinite(percent)) {
      problems.push(`canary percent ${String(percent)} is not a finite number; using 0`);
    } else if (percent < 0 || percent > 100) {
      problems.push(`canary percent ${percent} is outside 0..100; clamped to ${normalizePercent(percent)}`);
    }
  }
  if (salt !== undefined && typeof salt !== 'string') {
    problems.push('canary salt is not a string; using the empty salt');
  }
  return problems;
}

function normalizePercent(percent: unknown): number {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) return 0;
  return Math.min(100, Math.max(0, percent));
}

/** The baggage keys the release and cohort travel under (allow-list them on receipt). */
export const CANARY_BAGGAGE_KEYS: readonly string[] = /* @__PURE__ */ Object.freeze([ATTR_CHECKOUT_RELEASE, ATTR_CHECKOUT_CANARY_COHORT]);

/** Longest release string accepted from baggage; longer values are ignored. */
const MAX_RELEASE_LENGTH = 128;
/** Version-like strings only (`web-2026.11.3`, `api-1.4.0+sha.9f2c`, `eu/42`): safe in baggage, attributes and dashboards. */
const RELEASE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+\-:/@]*$/;

/**
 * The W3C baggage entries for a release and cohort, shaped like `@opentelemetry/api`'s
 * `Record<string, BaggageEntry>` so `propagation.createBaggage(entries)` or
 * `baggage.setEntry(key, entry)` take them as they are. Missing or invalid values are left
 * out; the bucket never travels.
 */
export function canaryBaggageEntries(value: ReleaseCohort): Record<string, { value: string }> {
  const entries: Record<string, { value: string }> = {};
  const release = validRelease(value.release);
  if (release !== undefined) entries[ATTR_CHECKOUT_RELEASE] = { value: release };
  const cohort = validCohort(value.cohort);
  if (cohort !== undefined) entries[ATTR_CHECKOUT_CANARY_COHORT] = { value: cohort };
  return entries;
}

/**
 * Reads the release and cohort back from baggage through `getEntryValue` (for example
 * `(key) => baggage?.getEntry(key)?.value`). Values that are not what `canaryBaggageEntries`
 * writes (unknown cohort, over-long or oddly-charactered release) are ignored, because
 * baggage from browsers is untrusted.
 */
export function readCanaryBaggage(getEntryValue: (key: string) => string | undefined): ReleaseCohort {
  const result: ReleaseCohort = {};
  const release = validRelease(safeGet(getEntryValue, ATTR_CHECKOUT_RELEASE));
  if (release !== undefined) result.release = release;
  const cohort = validCohort(safeGet(getEntryValue, ATTR_CHECKOUT_CANARY_COHORT));
  if (cohort !== undefined) result.cohort = cohort;
  return result;
}

/** Span attributes for a release and cohort (`checkout.release`, `checkout.canary.cohort`, `checkout.canary.bucket`). */
export function canaryAttributes(value: ReleaseCohort): Record<string, string | number> {
  const attributes: Record<string, string | number> = {};
  const release = validRelease(value.release);
  if (release !== undefined) attributes[ATTR_CHECKOUT_RELEASE] = release;
  const cohort = validCohort(value.cohort);
  if (cohort !== undefined) attributes[ATTR_CHECKOUT_CANARY_COHORT] = cohort;
  // Number.isInteger is false for anything but a number (no bucket, or one given as text).
  const bucket = value.bucket as number;
  if (Number.isInteger(bucket) && bucket >= 0 && bucket <= 99) attributes[ATTR_CHECKOUT_CANARY_BUCKET] = bucket;
  return attributes;
}

function safeGet(getEntryValue: (key: string) => string | undefined, key: string): unknown {
  try {
    return getEntryValue(key);
  } catch {
    return undefined;
  }
}

function validRelease(release: unknown): string | undefined {
  if (typeof release !== 'string') return undefined;
  const trimmed = release.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_RELEASE_LENGTH && RELEASE_PATTERN.test(trimmed) ? trimmed : undefined;
}

function validCohort(cohort: unknown): CanaryCohort | undefined {
  return cohort === CHECKOUT_CANARY_COHORT_VALUE_CANARY || cohort === CHECKOUT_CANARY_COHORT_VALUE_STABLE ? cohort : undefined;
}
