import type { HealthCounters } from '../health.js';
import { HEALTH_CONFIG_PROBLEMS } from '../health-names.js';
import type { BaggageOptions, CohortOptions, NodeTracingOptions } from '../types.js';
import { MAX_TIMER_MS } from '../flows/option-numbers.js';
import { reportUnknownOptions } from '../option-names.js';
import type { OptionNames } from '../option-names.js';
import { usableRedactionOptions } from '../redaction/redaction-option-checks.js';

/** Every option of `startCheckoutTracing`: any other name is reported (a misspelt option would otherwise do nothing, silently). */
export const OPTION_NAMES: OptionNames<NodeTracingOptions> = {
  serviceName: true,
  serviceVersion: true,
  environment: true,
  resourceAttributes: true,
  endpoint: true,
  headers: true,
  protocol: true,
  exporter: true,
  sampler: true,
  instrumentHttp: true,
  ignoreIncomingRequest: true,
  frameworkSpans: true,
  fastifyAutoRegister: true,
  maxQueueSize: true,
  maxExportBatchSize: true,
  scheduledDelayMillis: true,
  exportTimeoutMillis: true,
  shutdownTimeoutMillis: true,
  shutdownOnSigterm: true,
  redaction: true,
  baggage: true,
  cohort: true,
  release: true,
  spanProcessors: true,
  propagator: true,
  flows: true,
};

export const BAGGAGE_OPTION_NAMES: OptionNames<BaggageOptions> = { allowedKeys: true, maxEntries: true, maxValueLength: true, maxHeaderLength: true };

export const COHORT_OPTION_NAMES: OptionNames<CohortOptions> = { salt: true, percent: true };


/**
 * Checks every option of `startCheckoutTracing` once, before anything is built, and returns
 * the options with each unusable one left out, so the rest of the setup sees only values it
 * can use and falls back to its default for the others. Each rejected option is counted in
 * `configProblems` and named once through `diag`.
 *
 * Shapes are checked, not only types: an object handed to the SDK unchecked (a sampler without
 * `shouldSample`, an empty object as a span processor) makes the setup look successful and
 * then fails inside every span the application starts.
 */
export function checkOptions(options: unknown, health: HealthCounters): NodeTracingOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    health.rejectOption('options', `startCheckoutTracing options are not an object (${typeof options}); using the defaults`);
    return {};
  }
  const checked: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  reportUnknownOptions(checked, OPTION_NAMES, '', health);
  const reject = (name: string, why: string, fallback = 'using the default'): void => {
    delete checked[name];
    health.rejectOption(name, `option ${name}${why.startsWith('=') ? '' : ' '}${why}; ${fallback}`);
  };

  for (const name of ['serviceName', 'serviceVersion', 'environment', 'release'] as const) {
    const value = checked[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) reject(name, `is not a non-empty string (${describe(value)})`);
  }
  for (const name of ['instrumentHttp', 'frameworkSpans', 'fastifyAutoRegister', 'shutdownOnSigterm'] as const) {
    const value = checked[name];
    if (value !== undefined && typeof value !== 'boolean') reject(name, `is not a boolean (${describe(value)})`);
  }
  for (const name of ['maxQueueSize', 'maxExportBatchSize'] as const) {
    const value = checked[name];
    if (value !== undefined && !isPositiveNumber(value)) reject(name, `=${describe(value)} is not a positive number`, `using ${BSP_VARIABLES[name]}, else the default`);
  }
  for (const name of ['scheduledDelayMillis', 'exportTimeoutMillis', 'shutdownTimeoutMillis'] as const) {
    const value = checked[name];
    if (value !== undefined && !(isPositiveNumber(value) && value <= MAX_TIMER_MS)) {
      reject(name, `=${describe(value)} is not a positive number of ms up to ${MAX_TIMER_MS}`, name === 'shutdownTimeoutMillis' ? undefined : `using ${BSP_VARIABLES[name]}, else the default`);
    }
  }
  if (checked.resourceAttributes !== undefined && !isPlainObject(checked.resourceAttributes)) {
    reject('resourceAttributes', 'is not an object of attributes', 'ignored');
  }
  if (checked.headers !== undefined && !isStringRecord(checked.headers)) {
    reject('headers', 'is not an object of string header values', 'using the OTEL_EXPORTER_OTLP_(TRACES_)HEADERS variables');
  }
  if (checked.endpoint !== undefined && !isHttpUrl(checked.endpoint)) {
    // Not echoed: an endpoint may carry credentials.
    reject('endpoint', 'is not an absolute http(s) URL', 'using the OTEL_EXPORTER_OTLP_* variables, else http://localhost:4318/v1/traces');
  }
  if (checked.protocol !== undefined && typeof checked.protocol !== 'string') reject('protocol', `is not a string (${describe(checked.protocol)})`);
  if (checked.sampler !== undefined && !hasMethods(checked.sampler, ['shouldSample'])) {
    reject('sampler', 'is not a Sampler (an object with a shouldSample function)', 'using OTEL_TRACES_SAMPLER, else ParentBased(AlwaysOn)');
  }
  if (checked.exporter !== undefined && !hasMethods(checked.exporter, ['export', 'shutdown'])) {
    reject('exporter', 'is not a SpanExporter (export and shutdown functions)', 'using the OTLP exporter');
  }
  if (checked.propagator !== undefined && !hasMethods(checked.propagator, ['inject', 'extract', 'fields'])) {
    reject('propagator', 'is not a TextMapPropagator (inject, extract and fields functions)', 'using W3C tracecontext + baggage');
  }
  if (checked.spanProcessors !== undefined) checked.spanProcessors = usableProcessors(checked.spanProcessors, health);
  if (checked.baggage !== undefined) checked.baggage = usableBaggage(checked.baggage, health);
  if (checked.redaction !== undefined && typeof checked.redaction !== 'boolean' && !isPlainObject(checked.redaction)) {
    reject('redaction', 'is neither a boolean nor an options object', 'redacting with the default rules');
  }
  // A misspelt rule (`sensitivekeys`) or a list given as a string would export unmasked what it was meant to mask.
  if (isPlainObject(checked.redaction)) checked.redaction = usableRedactionOptions(checked.redaction, 'redaction', health);
  if (checked.cohort !== undefined && !isPlainObject(checked.cohort)) reject('cohort', `is not an object { salt?, percent? } (${describe(checked.cohort)})`, 'no cohort is computed');
  else if (checked.cohort !== undefined) reportUnknownOptions(checked.cohort, COHORT_OPTION_NAMES, 'cohort', health);
  return checked;
}

/** The standard variable an export queue option falls back to (see export-settings.ts). */
const BSP_VARIABLES = {
  maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE',
  maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY',
  exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT',
} as const;

const PROCESSOR_METHODS = ['onStart', 'onEnd', 'forceFlush', 'shutdown'] as const;

/** The span processors that have every method the SDK calls; the others are left out. */
function usableProcessors(value: unknown, health: HealthCounters): unknown[] | undefined {
  if (!Array.isArray(value)) {
    health.rejectOption('spanProcessors', 'option spanProcessors is not an array; ignored');
    return undefined;
  }
  const usable = (value as unknown[]).filter((processor) => hasMethods(processor, PROCESSOR_METHODS));
  const dropped = value.length - usable.length;
  if (dropped > 0) {
    health.increment(HEALTH_CONFIG_PROBLEMS, dropped - 1);
    health.rejectOption('spanProcessors', `${dropped} of option spanProcessors are not SpanProcessors (${PROCESSOR_METHODS.join(', ')} functions); left out`);
  }
  return usable;
}

const BAGGAGE_NUMBERS = ['maxEntries', 'maxValueLength', 'maxHeaderLength'] as const;

function usableBaggage(value: unknown, health: HealthCounters): BaggageOptions | undefined {
  if (!isPlainObject(value)) {
    health.rejectOption('baggage', 'option baggage is not an object; using the default limits');
    return undefined;
  }
  const baggage: Record<string, unknown> = { ...value };
  reportUnknownOptions(baggage, BAGGAGE_OPTION_NAMES, 'baggage', health);
  for (const name of BAGGAGE_NUMBERS) {
    if (baggage[name] !== undefined && !isPositiveNumber(baggage[name])) {
      delete baggage[name];
      health.rejectOption(`baggage.${name}`, `option baggage.${name}=${describe(value[name])} is not a positive number; using the default`);
    }
  }
  const keys = baggage.allowedKeys;
  if (keys !== undefined && !(Array.isArray(keys) && keys.every((key) => typeof key === 'string'))) {
    delete baggage.allowedKeys;
    health.rejectOption('baggage.allowedKeys', 'option baggage.allowedKeys is not an array of strings; using the default keys');
  }
  return baggage;
}

export function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringRecord(value: unknown): boolean {
  return isPlainObject(value) && Object.values(value).every((item) => typeof item === 'string');
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
}

/** What the OTLP exporter can send to: an absolute http: or https: URL. */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A short, safe rendering of a rejected value for the log (never a long or secret string in full). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
