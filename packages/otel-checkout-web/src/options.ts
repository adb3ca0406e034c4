import { diag } from '@opentelemetry/api';
import { cohortOptionsProblems } from '@otel-checkout/core';
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
  redact: boolean;
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

function text(options: WebTracingOptions, key: keyof WebTracingOptions, fallback: string): string;
function text(options: WebTracingOptions, key: keyof WebTracingOptions, fallback: undefined): string | undefined;
function text(options: WebTracingOptions, key: keyof WebTracingOptions, fallback: string | undefined): string | undefined {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value === 'string' && value.length > 0) return value;
  diag.warn(`@otel-checkout/web: option ${key} must be a non-empty string; using the default`);
  return fallback;
}

function count(options: WebTracingOptions, key: keyof WebTracingOptions, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  diag.warn(`@otel-checkout/web: option ${key} must be a number in ${min}..${max}; using ${fallback}`);
  return fallback;
}

function flag(options: WebTracingOptions, key: keyof WebTracingOptions, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  diag.warn(`@otel-checkout/web: option ${key} must be a boolean; using ${String(fallback)}`);
  return fallback;
}

/** Fills in defaults; bad values warn through `diag` and fall back, never throw. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options = (typeof input === 'object' && input !== null ? input : {}) as WebTracingOptions;
  const canary = typeof options.canary === 'object' && options.canary !== null ? options.canary : {};
  for (const problem of cohortOptionsProblems(canary)) diag.warn(`@otel-checkout/web: ${problem}`);
  const propagateTo = Array.isArray(options.propagateTo)
    ? options.propagateTo.filter((t) => typeof t === 'string' || t instanceof RegExp)
    : typeof location !== 'undefined'
      ? [location.origin]
      : [];
  const headers: Record<string, string> = {};
  if (typeof options.headers === 'object' && options.headers !== null) {
    for (const [name, value] of Object.entries(options.headers)) if (typeof value === 'string') headers[name] = value;
  }
  return {
    serviceName: text(options, 'serviceName', 'checkout-web'),
    release: text(options, 'release', undefined),
    environment: text(options, 'environment', undefined),
    resourceAttributes: typeof options.resourceAttributes === 'object' && options.resourceAttributes !== null ? options.resourceAttributes : {},
    endpoint: text(options, 'endpoint', '/v1/traces'),
    headers,
    propagateTo,
    sampleRate: count(options, 'sampleRate', 1, 0, 1),
    stableUserId: text(options, 'stableUserId', undefined),
    canarySalt: typeof canary.salt === 'string' ? canary.salt : '',
    canaryPercent: typeof canary.percent === 'number' ? canary.percent : 0,
    redact: flag(options, 'redact', true),
    maxQueueSize: Math.floor(count(options, 'maxQueueSize', 512, 1)),
    maxExportBatchSize: Math.floor(count(options, 'maxExportBatchSize', 64, 1)),
    scheduledDelayMillis: count(options, 'scheduledDelayMillis', 1000, 0),
    exportTimeoutMillis: count(options, 'exportTimeoutMillis', 10_000, 1),
    redirectWatchdogMillis: count(options, 'redirectWatchdogMillis', 10_000, 0),
    handoffMaxAgeMillis: count(options, 'handoffMaxAgeMillis', 1_800_000, 1),
    tokenParam: text(options, 'tokenParam', 'otc_flow'),
    captureErrors: flag(options, 'captureErrors', true),
    capturePageTimings: flag(options, 'capturePageTimings', true),
  };
}
