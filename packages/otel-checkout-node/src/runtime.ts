import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type { CohortOptions } from '@otel-checkout/core';
import { createFlows } from './flows/flows.js';
import type { Flows } from './flows/flows.js';
import { HealthCounters } from './health.js';
import { resolveBaggageLimits } from './propagation/baggage-filter.js';
import type { BaggageLimits } from './propagation/baggage-filter.js';
import type { ServerSpanStarter } from './spans/server-span-starter.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './version.js';

/**
 * How the package runs: its own SDK with HTTP instrumentation, its own lean SDK, inside the app's
 * SDK, not at all because `OTEL_SDK_DISABLED=true`, or not (yet) started.
 */
export type TracingMode = 'default' | 'lean' | 'coexisting' | 'disabled' | 'not_started';

/**
 * What the module-level `payments` object and the middleware read at call time. Before
 * `startCheckoutTracing` (and after shutdown) it holds working defaults, so nothing the
 * package exports ever fails for lack of setup.
 */
export interface Runtime {
  readonly mode: TracingMode;
  readonly health: HealthCounters;
  readonly flows: Flows;
  readonly baggageLimits: BaggageLimits;
  readonly release?: string;
  readonly cohort?: CohortOptions;
  /** The tracer to use once started (looked up once). */
  readonly tracer?: Tracer;
  /** Starts the server spans the package makes itself, when it runs its own SDK (see spans/server-span-starter.ts). */
  readonly startServerSpan?: ServerSpanStarter;
  /** Called after each payment span ends (used to detect an app SDK without the redaction processor). */
  readonly afterPaymentSpan?: () => void;
  /**
   * True when no tracer provider is registered (`OTEL_TRACES_EXPORTER=none`): every span is a
   * non-recording one, so a span that does not record may still be the request's own.
   */
  readonly recordsNothing?: boolean;
}

/**
 * The tracer of the globally registered provider. Looked up per call until tracing starts
 * (so a later registration is used); cached for the life of a started runtime.
 */
export function checkoutTracer(): Tracer {
  return current?.tracer ?? trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
}

function idleRuntime(): Runtime {
  const health = new HealthCounters();
  return {
    mode: 'not_started',
    health,
    flows: createFlows(undefined, { tracer: checkoutTracer(), health }),
    baggageLimits: resolveBaggageLimits(undefined),
  };
}

// Created on first use, not at import: the flow machinery imports this module too, and an
// import cycle must not run `createFlows` before its module has finished loading.
let current: Runtime | undefined;

export function runtime(): Runtime {
  current ??= idleRuntime();
  return current;
}

export function installRuntime(next: Runtime): void {
  current = next;
}

export function resetRuntime(): void {
  current = undefined;
}
