import type { RedactionOptions } from '@otel-checkout/core';
import { normalizeTarget } from './propagation/url-match.js';
import { warn } from './safely.js';
import type { PropagateTarget, WebTracingOptions } from './types.js';

/** Options with every default filled in. */
export interface ResolvedOptions {
  serviceName: string;
  release: string | undefined;
  environment: string | undefined;
  resourceAttributes: NonNullable<WebTracingOptions['resourceAttributes']>;
  endpoint: string;
  headers: Record<string, string>;
  /** Normalised (see `normalizeTarget`). */
  propagateTo: PropagateTarget[];
  sampleRate: number;
  stableUserId: string | undefined;
  canarySalt: string;
  canaryPercent: number;
  /** `undefined` when redaction is off. */
  redaction: RedactionOptions | undefined;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  redirectWatchdogMillis: number;
  handoffMaxAgeMillis: number;
  tokenParam: string;
  captureErrors: boolean;
  capturePageTimings: boolean;
}

type Scalar = Exclude<keyof ResolvedOptions, 'resourceAttributes' | 'headers' | 'propagateTo' | 'canarySalt' | 'canaryPercent' | 'redaction'>;

/** The defaults of every scalar option; `undefined` means "not set", and a string is expected then. */
const DEFAULTS: { [K in Scalar]: ResolvedOptions[K] } = {
  serviceName: 'checkout-web',
  release: undefined,
  environment: undefined,
  endpoint: '/v1/traces',
  sampleRate: 1,
  stableUserId: undefined,
  maxQueueSize: 512,
  maxExportBatchSize: 64,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
  redirectWatchdogMillis: 10_000,
  handoffMaxAgeMillis: 1_800_000,
  tokenParam: 'otc_flow',
  captureErrors: true,
  capturePageTimings: true,
};

/** Every option name, so a misspelt one is reported instead of silently doing nothing. */
const KNOWN = [...Object.keys(DEFAULTS), 'resourceAttributes', 'headers', 'propagateTo', 'canary', 'redaction'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reports one bad value: the option and what it should be. */
function report(key: string, expected: string, outcome = 'using the default'): void {
  warn(`option ${key} is not ${expected}; ${outcome}`);
}

/**
 * A list option (`key`): each entry as `parse` makes it, `undefined` when it is not set. A value
 * that is not a list (then `undefined`), and an entry that `parse` refuses (then left out), are
 * reported with what they must be.
 */
export function listOf<T>(key: string, value: unknown, parse: (entry: unknown) => T | undefined, expected = 'an http(s) URL'): T[] | undefined {
  if (Array.isArray(value)) return value.flatMap((entry, index) => parse(entry) ?? (report(`${key}[${index}]`, expected, 'ignored'), []));
  if (value !== undefined) report(key, 'an array');
  return undefined;
}

/** What a scalar option must be, or `undefined` when `value` is that; the type of `fallback` says which kind it is. */
function problem(key: string, value: unknown, fallback: unknown): string | undefined {
  if (key === 'endpoint') {
    // A path goes to the page's own origin; anything else must name http(s) itself.
    return typeof value === 'string' && (/^\/(?!\/)/.test(value) || normalizeTarget(value)) ? undefined : 'an http(s) URL or a /path';
  }
  if (typeof fallback === 'boolean') return typeof value === 'boolean' ? undefined : 'true or false';
  if (typeof fallback !== 'number') return typeof value === 'string' && value !== '' ? undefined : 'a non-empty string';
  // Sizes and counts start at 1, and a timeout or maximum age of 0 would refuse everything;
  // browsers fire longer timers at once.
  const low = /max|^exp|^han/.test(key) ? 1 : 0;
  const high = key === 'sampleRate' ? 1 : 2 ** 31 - 1;
  return typeof value === 'number' && value >= low && value <= high ? undefined : `a number from ${low} to ${high}`;
}

/**
 * The value of option `key` (of `startCheckoutTracing`, or of a call such as `flow.poll`):
 * `value` when it is what the option must be, a size or count with a fraction floored;
 * `fallback` when it is not set, and when it is bad, with one warning through `diag` naming the
 * option and what it must be. Never throws at the page.
 */
export function checked<T>(key: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  const expected = problem(key, value, fallback);
  if (expected === undefined) return (/max/.test(key) ? Math.floor(value as number) : value) as T;
  report(key, expected);
  return fallback;
}

/**
 * Fills in defaults. Each bad value is reported once through `diag`, naming the option and
 * what is wrong with it, and replaced by its default; nothing here throws at the page.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options: Partial<Record<keyof WebTracingOptions, unknown>> = isObject(input) ? input : {};
  if (input !== undefined && input !== options) warn('the options are not an object; using the defaults');
  const resolved = { ...DEFAULTS } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) {
    if (!KNOWN.includes(key)) report(key, 'a known option', 'ignored');
    else if (key in DEFAULTS) resolved[key] = checked(key, value, DEFAULTS[key as Scalar]);
  }

  const object = (key: 'resourceAttributes' | 'headers' | 'canary'): Record<string, unknown> => {
    const value = options[key] ?? {};
    if (isObject(value)) return value;
    report(key, 'an object');
    return {};
  };

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(object('headers'))) {
    let ok = false;
    try {
      // Checked by the platform's own rules: a header it refuses would make every export throw.
      ok = typeof value === 'string' && new Headers({ [name]: value }).has(name);
    } catch {
      // Refused: reported below.
    }
    if (ok) headers[name] = value as string;
    else report(`headers[${JSON.stringify(name)}]`, 'a valid header', 'ignored');
  }

  // The document's origin, not its address's: a sandboxed frame's is opaque ('null', which no
  // request matches), every request it makes is cross-origin, and our headers would make each
  // one need a CORS preflight that its server may not answer.
  const propagateTo = listOf('propagateTo', options.propagateTo, normalizeTarget, 'an http(s) URL or a RegExp') ?? (globalThis.origin ? [`${origin}/`] : []);

  const redaction = options.redaction;
  if (redaction !== undefined && typeof redaction !== 'boolean' && !isObject(redaction)) report('redaction', 'a boolean or an object');
  const { salt, percent } = object('canary');
  const canarySalt = typeof salt === 'string' ? salt : '';
  if (salt !== undefined && salt !== canarySalt) report('canary.salt', 'a string');
  // Clamped as core's cohortOf clamps it, so the browser and Node put a user in the same cohort.
  const canaryPercent = typeof percent === 'number' && Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
  if (percent !== undefined && percent !== canaryPercent) report('canary.percent', 'a number from 0 to 100', `using ${canaryPercent}`);
  return {
    ...(resolved as { [K in Scalar]: ResolvedOptions[K] }),
    resourceAttributes: object('resourceAttributes') as ResolvedOptions['resourceAttributes'],
    headers,
    propagateTo,
    // Off only when asked for explicitly (`false`, or `{ enabled: false }`, which the redactor
    // itself obeys): a typo must not leak card numbers.
    redaction: redaction === false ? undefined : isObject(redaction) ? redaction : {},
    canarySalt,
    canaryPercent,
  };
}
