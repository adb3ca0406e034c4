import { diag } from '@opentelemetry/api';
import { cohortOptionsProblems } from '@otel-checkout/core';
import type { RedactionOptions } from '@otel-checkout/core';
import type { PropagateTarget, WebTracingOptions } from './types.js';

/** Options with every default filled in. */
export interface ResolvedOptions {
  serviceName: string;
  release: string | undefined;
  environment: string | undefined;
  resourceAttributes: NonNullable<WebTracingOptions['resourceAttributes']>;
  endpoint: string;
  headers: Record<string, string>;
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

/** Accepts a value of the default's type: non-empty strings, booleans, non-negative finite numbers (sampleRate at most 1, sizes at least 1). */
function valid(key: Scalar, value: unknown): boolean {
  const fallback = DEFAULTS[key];
  if (typeof fallback === 'number') {
    return typeof value === 'number' && Number.isFinite(value) && value >= (key.startsWith('max') ? 1 : 0) && (key !== 'sampleRate' || value <= 1);
  }
  if (typeof fallback === 'boolean') return typeof value === 'boolean';
  return typeof value === 'string' && value.length > 0;
}

function object<T>(value: unknown): Partial<T> {
  return typeof value === 'object' && value !== null ? (value) : {};
}

/** Fills in defaults; bad values warn through `diag` and fall back, never throw. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options = object<WebTracingOptions>(input);
  const resolved = { ...DEFAULTS } as Record<Scalar, unknown>;
  for (const key of Object.keys(DEFAULTS) as Scalar[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (valid(key, value)) resolved[key] = key.startsWith('max') ? Math.floor(value as number) : value;
    else diag.warn(`@otel-checkout/web: option ${key} is invalid; using the default`);
  }
  if (!['undefined', 'boolean', 'object'].includes(typeof options.redaction)) diag.warn('@otel-checkout/web: option redaction is invalid; redaction stays on');
  const canary = object<NonNullable<WebTracingOptions['canary']>>(options.canary);
  // cohortOf clamps and defaults by itself; this only tells the developer.
  for (const problem of cohortOptionsProblems(canary)) diag.warn(`@otel-checkout/web: option ${problem}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(object<Record<string, unknown>>(options.headers))) if (typeof value === 'string') headers[name] = value;
  return {
    ...(resolved as { [K in Scalar]: ResolvedOptions[K] }),
    resourceAttributes: object(options.resourceAttributes),
    headers,
    propagateTo: Array.isArray(options.propagateTo)
      ? options.propagateTo.filter((t) => typeof t === 'string' || t instanceof RegExp)
      : typeof location === 'undefined'
        ? []
        : [location.origin],
    // Anything but an explicit `false` keeps redaction on: a typo must not leak card numbers.
    redaction: options.redaction === false ? undefined : object<RedactionOptions>(options.redaction),
    canarySalt: typeof canary.salt === 'string' ? canary.salt : '',
    canaryPercent: typeof canary.percent === 'number' ? canary.percent : 0,
  };
}
