import type { IncomingMessage } from 'node:http';
import { context, diag, propagation, trace } from '@opentelemetry/api';
import type { TextMapPropagator } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { cohortOptionsProblems } from '@otel-checkout/core';
import { errorSummary } from '../error-summary.js';
import { FLOW_HEALTH_COUNTERS } from '../flows/flow-health.js';
import { createFlows } from '../flows/flows.js';
import type { Flows } from '../flows/flows.js';
import { HealthCounters } from '../health.js';
import { NODE_HEALTH_COUNTERS } from '../health-names.js';
import type { NodeHealth } from '../health-names.js';
import { payments } from '../payments/payments.js';
import type { Payments } from '../payments/payments.js';
import { resolveBaggageLimits } from '../propagation/baggage-filter.js';
import type { BaggageLimits } from '../propagation/baggage-filter.js';
import { checkoutTracer, installRuntime, resetRuntime } from '../runtime.js';
import type { TracingMode } from '../runtime.js';
import type { NodeTracingOptions } from '../types.js';
import { BoundedExportProcessor } from './bounded-export-processor.js';
import { hasRegisteredTracerProvider } from './existing-provider.js';
import { buildExporter, sdkDisabledByEnv, tracesExporterIsNone } from './exporter.js';
import { resolveExportSettings } from './export-settings.js';
import { propagatorFromEnv } from './propagator-from-env.js';
import { samplerFromEnv } from './sampler-from-env.js';
import { disableHttpServerSpans, enableHttpServerSpans } from './http-server-spans.js';
import { buildInstrumentations, patchLoadedCoreModules } from './instrumentations.js';
import { checkRedactionInExistingSdk, redactionProcessors } from './redaction-wiring.js';
import { checkOptions } from './option-checks.js';
import { sayUnusedInCoexisting } from './coexisting-options.js';
import { buildResource, serviceVersionOf } from './resource.js';
import { installSigtermHook } from './signal-hook.js';
import { watchLateRegistration } from './late-registration.js';
import { startWithoutGlobalLoggerProvider } from './global-logger-provider.js';
import { settlesWithin } from './with-timeout.js';
import { lightServerSpanStarter } from '../spans/server-span-starter.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from '../version.js';

/** What `startCheckoutTracing` returns. */
export interface NodeTracingHandle {
  readonly payments: Payments;
  /**
   * `default`, `lean`, `coexisting` (the app runs its own SDK; only payment spans are added),
   * `disabled` when `OTEL_SDK_DISABLED=true` (nothing is started), or `not_started` when the
   * setup failed (the application runs untraced; the reason is in the diagnostic log).
   */
  readonly mode: TracingMode;
  /** The package's health counters (see the README); every counter present, zero until something happens. */
  health(): NodeHealth;
  /** Exports what is queued, within the shutdown timeout (coexisting: the app's provider's `forceFlush`, when it has one). */
  flush(): Promise<void>;
  /** Flushes and stops, within `shutdownTimeoutMillis`; spans still queued then are counted as dropped. */
  shutdown(): Promise<void>;
}

const DEFAULTS = {
  shutdownTimeoutMillis: 5000,
} as const;

let started: NodeTracingHandle | undefined;

/**
 * For the waits of `shutdown()`: the deadline's timer keeps the process alive, so an application
 * that awaits `shutdown()` gets it back within `shutdownTimeoutMillis` even when what it waits
 * for (a custom exporter's or flow store's promise) holds nothing and never settles.
 */
const HOLD_PROCESS = { holdProcess: true } as const;

/**
 * Starts tracing for a payment service (see the README for every option). One call per
 * process: a second call warns and returns the first handle, whose options stay in force (the
 * new ones are ignored). Never throws; an unusable option is replaced by its default (counted
 * in `configProblems`), and a setup that fails leaves the application running untraced, with
 * the reason in the diagnostic log and nothing it had started left running.
 */
export function startCheckoutTracing(options: NodeTracingOptions = {}): NodeTracingHandle {
  if (started) {
    diag.warn('@otel-checkout/node: startCheckoutTracing was called again; returning the existing handle (the new options are ignored)');
    return started;
  }
  const health = new HealthCounters();
  const parts: StartedParts = {};
  try {
    const checked = checkOptions(options, health);
    if (hasRegisteredTracerProvider()) started = startCoexisting(checked, health, parts);
    else if (sdkDisabledByEnv()) started = disabledHandle(health, checked);
    else started = startOwnSdk(checked, health, parts);
  } catch (error) {
    diag.error(`@otel-checkout/node: tracing setup failed; the application runs untraced: ${errorSummary(error)}`);
    resetRuntime();
    started = idleHandle(health, stopStartedParts(parts));
  }
  return started;
}

/**
 * What a setup has started so far: a setup that fails half-way stops it again, so that a
 * flow store's connection or the SDK's timers do not keep the process alive, nor half a
 * tracing setup run behind an idle handle.
 */
interface StartedParts {
  /** The flow store of the options, known before the flows that own it are made. */
  store?: { close(): Promise<void> };
  flows?: Flows;
  stopSdk?: () => Promise<void>;
}

/** Stops what a failed setup started, at once; never rejects. */
async function stopStartedParts(parts: StartedParts): Promise<void> {
  const closeFlows = async (): Promise<void> => {
    if (parts.flows !== undefined) await parts.flows.shutdown();
    else await parts.store?.close();
  };
  await Promise.all([
    closeFlows().catch((error: unknown) => diag.debug(`@otel-checkout/node: closing the flows of a failed setup failed: ${errorSummary(error)}`)),
    Promise.resolve()
      .then(parts.stopSdk)
      .catch((error: unknown) => diag.debug(`@otel-checkout/node: stopping the SDK of a failed setup failed: ${errorSummary(error)}`)),
  ]);
}

function commonRuntime(
  options: NodeTracingOptions,
  health: HealthCounters,
  parts: StartedParts,
  flush?: () => Promise<void>,
): { flows: Flows; baggageLimits: BaggageLimits } {
  for (const problem of cohortOptionsProblems(options.cohort)) health.rejectOption(`cohort-${problem}`, problem);
  const store = (options.flows as { store?: unknown } | undefined)?.store;
  if (typeof (store as { close?: unknown } | undefined)?.close === 'function') parts.store = store as { close(): Promise<void> };
  const flows = (parts.flows = createFlows(options.flows, { tracer: checkoutTracer(), health, ...(flush ? { flush } : {}) }));
  return { flows, baggageLimits: resolveBaggageLimits(options.baggage) };
}

/** The application already runs an OpenTelemetry SDK: add payment spans through it, create nothing global. */
function startCoexisting(options: NodeTracingOptions, health: HealthCounters, parts: StartedParts): NodeTracingHandle {
  diag.info('@otel-checkout/node: a TracerProvider is already registered; adding payment spans to it');
  const timeout = options.shutdownTimeoutMillis ?? DEFAULTS.shutdownTimeoutMillis;
  // The application's provider is its own to flush; this asks it to, within the bound. The
  // handle's `flush()` holds the process for that bound (so the code after `await flush()` runs
  // even when the provider's flush never settles); the sweeper's pacing, in the background, not.
  const flushAppProvider = async (holdProcess = false): Promise<void> => {
    const provider = globalProvider();
    const forceFlush = provider?.forceFlush;
    if (typeof forceFlush !== 'function') return;
    if (!(await settlesWithin(Promise.resolve().then(() => forceFlush.call(provider)), timeout, { holdProcess }))) {
      health.warnOnce('flush-timeout', `flush did not finish within ${timeout} ms`);
    }
  };
  // The sweeper paces stalled spans on the application's exporter too, when its provider can say
  // when that took them; otherwise it keeps to its rate ceiling.
  const canFlush = typeof globalProvider()?.forceFlush === 'function';
  const { flows, baggageLimits } = commonRuntime(options, health, parts, canFlush ? () => flushAppProvider() : undefined);
  defaultModeOnlyOptions(options, 'coexisting', health);
  sayUnusedInCoexisting(options, health);
  const afterPaymentSpan = options.redaction === false ? undefined : checkRedactionInExistingSdk(health);
  const release = options.release ?? options.serviceVersion;
  installRuntime({
    mode: 'coexisting',
    health,
    // The application's provider is registered already: look the tracer up once, not per span.
    tracer: trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION),
    flows,
    baggageLimits,
    ...(release ? { release } : {}),
    ...(options.cohort ? { cohort: options.cohort } : {}),
    ...(afterPaymentSpan ? { afterPaymentSpan } : {}),
  });
  flows.start();
  return makeHandle('coexisting', health, {
    flush: () => flushAppProvider(true),
    stop: async () => {
      const closing = flows.shutdown();
      // Settled in time: a failed close of the flow store is reported as the shutdown's failure.
      if (await settlesWithin(closing, timeout, HOLD_PROCESS)) await closing;
      else health.warnOnce('shutdown-timeout', `shutdown did not finish within ${timeout} ms`);
    },
    options,
  });
}

function startOwnSdk(options: NodeTracingOptions, health: HealthCounters, parts: StartedParts): NodeTracingHandle {
  const mode: TracingMode = options.instrumentHttp === false ? 'lean' : 'default';
  const ignoreIncomingRequest = defaultModeOnlyOptions(options, mode, health);
  const resource = buildResource(options, health);
  // The sweeper paces stalled spans on export completions; the export processor is built
  // after the flows, hence the late-bound reference.
  const exportingRef: { current?: BoundedExportProcessor } = {};
  const { flows, baggageLimits } = commonRuntime(options, health, parts, () => exportingRef.current?.forceFlush() ?? Promise.resolve());
  const settings = resolveExportSettings(options, health);
  // As the NodeSDK does with OTEL_TRACES_EXPORTER=none: no tracer provider at all (so no span is
  // made, nor any processor run), while the context manager, propagator and instrumentations
  // still carry an incoming trace context on to outgoing calls.
  const exportNone = tracesExporterIsNone(options);
  if (exportNone) diag.warn('@otel-checkout/node: OTEL_TRACES_EXPORTER is "none": no spans are recorded or exported; incoming trace context is still propagated');
  const exporting = exportNone ? undefined : new BoundedExportProcessor(buildExporter(options, settings.exportTimeoutMillis, health), health, settings);
  exportingRef.current = exporting;
  const spanProcessors: SpanProcessor[] = exporting
    ? [...redactionProcessors(options.redaction, health), ...(options.spanProcessors ?? []), exporting]
    : [];
  // null: OTEL_PROPAGATORS=none, no propagator registered.
  const propagator: TextMapPropagator | null = options.propagator ?? propagatorFromEnv(baggageLimits, health);
  const instrumentations: Instrumentation[] = buildInstrumentations(options);
  // Without a provider (OTEL_TRACES_EXPORTER=none) nothing samples: the variables are not read.
  const sampler = options.sampler ?? (exporting ? samplerFromEnv(health) : undefined);
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors,
    ...(sampler ? { sampler } : {}),
    textMapPropagator: propagator,
    instrumentations,
    // Metrics come from spans in the collector; logs are not this package's business.
    metricReaders: [],
    logRecordProcessors: [],
  });
  let unwatch: (() => void) | undefined;
  // Leaves the process as before the start, so tracing can be started again (tests, hot reload).
  const releaseGlobals = (): void => {
    unwatch?.();
    for (const instrumentation of instrumentations) instrumentation.disable();
    disableHttpServerSpans();
    trace.disable();
    propagation.disable();
    context.disable();
  };
  startWithoutGlobalLoggerProvider(() => sdk.start());
  // An application SDK started after this one is left unused: say so when it tries to register.
  if (exporting) unwatch = watchLateRegistration(health);
  parts.stopSdk = async () => {
    releaseGlobals();
    await sdk.shutdown();
  };
  // The SDK only enables instrumentations whose config says disabled; after a shutdown (which
  // disabled them) the same objects must be switched on again explicitly.
  for (const instrumentation of instrumentations) instrumentation.enable();
  if (mode === 'default') {
    patchLoadedCoreModules();
    enableHttpServerSpans(ignoreIncomingRequest);
  }
  const release = options.release ?? serviceVersionOf(resource);
  const tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const startServerSpan = lightServerSpanStarter(tracer);
  if (startServerSpan === undefined) diag.debug('@otel-checkout/node: the SDK tracer has an unexpected shape; server spans are made by tracer.startSpan');
  installRuntime({
    mode,
    health,
    tracer,
    ...(startServerSpan ? { startServerSpan } : {}),
    flows,
    baggageLimits,
    ...(release ? { release } : {}),
    ...(options.cohort ? { cohort: options.cohort } : {}),
    ...(exportNone ? { recordsNothing: true } : {}),
  });
  flows.start();
  const timeout = options.shutdownTimeoutMillis ?? DEFAULTS.shutdownTimeoutMillis;
  return makeHandle(mode, health, {
    flush: async () => {
      if (exporting && !(await settlesWithin(exporting.forceFlush(), timeout, HOLD_PROCESS))) health.warnOnce('flush-timeout', `flush did not finish within ${timeout} ms`);
    },
    stop: async () => {
      // Flows first: the sweeper's last batch of stalled spans must reach the exporter before
      // the SDK flushes and closes it. Flows get half the bound at most, so a flow store whose
      // close never settles cannot keep the SDK from exporting what is queued.
      const deadline = Date.now() + timeout;
      const closingFlows = flows.shutdown();
      const flowsFinished = await settlesWithin(closingFlows, timeout / 2, HOLD_PROCESS);
      const sdkFinished = await settlesWithin(sdk.shutdown(), Math.max(0, deadline - Date.now()), HOLD_PROCESS);
      const finished = flowsFinished && sdkFinished;
      // Whatever is still queued or under way now will not be sent: counted, never lost silently.
      const dropped = exporting?.abandonPending() ?? 0;
      if (!finished) health.warnOnce('shutdown-timeout', `shutdown did not finish within ${timeout} ms; ${dropped} queued spans were dropped`);
      else if (dropped > 0) health.warnOnce('shutdown-dropped', `shutdown could not export ${dropped} queued spans; they were dropped`);
      releaseGlobals();
      // Last, once the rest is stopped: a failed close of the flow store is reported as the shutdown's failure.
      if (flowsFinished) await closingFlows;
    },
    options,
  });
}

interface Lifecycle {
  flush(): Promise<void>;
  stop(): Promise<void>;
  options: NodeTracingOptions;
}

function makeHandle(mode: TracingMode, health: HealthCounters, lifecycle: Lifecycle): NodeTracingHandle {
  let stopping: Promise<void> | undefined;
  let removeSigterm: (() => void) | undefined;
  const handle: NodeTracingHandle = {
    payments,
    mode,
    health: () => healthSnapshot(health),
    flush: () => (stopping ? Promise.resolve() : lifecycle.flush().catch(() => undefined)),
    shutdown: () => {
      stopping ??= (async () => {
        removeSigterm?.();
        try {
          await lifecycle.stop();
        } catch (error) {
          diag.error(`@otel-checkout/node: shutdown failed: ${errorSummary(error)}`);
        }
        resetRuntime();
        if (started === handle) started = undefined;
      })();
      return stopping;
    },
  };
  if (lifecycle.options.shutdownOnSigterm) removeSigterm = installSigtermHook(() => handle.shutdown());
  return handle;
}

/**
 * The handle when `OTEL_SDK_DISABLED=true`: as the NodeSDK then starts nothing, neither does
 * the package (no SDK, no flows, no patching); its exports run untraced, as before a start.
 */
function disabledHandle(health: HealthCounters, options: NodeTracingOptions): NodeTracingHandle {
  diag.warn('@otel-checkout/node: tracing is disabled by OTEL_SDK_DISABLED=true; nothing is started');
  const store = (options.flows as { store?: { close?: unknown } } | undefined)?.store;
  const timeout = options.shutdownTimeoutMillis ?? DEFAULTS.shutdownTimeoutMillis;
  return makeHandle('disabled', health, {
    flush: () => Promise.resolve(),
    // The flow store given is the package's to close, as in a started setup (within the bound).
    stop: async () => {
      if (typeof store?.close !== 'function') return;
      const closing = Promise.resolve().then(() => (store as { close(): Promise<void> }).close());
      // Settled in time: a failed close is reported as the shutdown's failure.
      if (await settlesWithin(closing, timeout, HOLD_PROCESS)) await closing;
      else health.warnOnce('shutdown-timeout', `shutdown did not finish within ${timeout} ms`);
    },
    options,
  });
}

/** The handle of a setup that failed: `shutdown` waits (bounded) until what it had started is stopped. */
function idleHandle(health: HealthCounters, stopping: Promise<void>): NodeTracingHandle {
  return makeHandle('not_started', health, {
    flush: () => Promise.resolve(),
    stop: async () => {
      await settlesWithin(stopping, DEFAULTS.shutdownTimeoutMillis, HOLD_PROCESS);
    },
    options: {},
  });
}

/**
 * Options that only shape the spans default mode makes: said once when they cannot apply
 * (lean mode makes no span outside payment routes; with the application's own SDK its HTTP
 * instrumentation makes them), or when the hook is not a function. Returns the usable hook.
 */
function defaultModeOnlyOptions(
  options: NodeTracingOptions,
  mode: TracingMode,
  health: HealthCounters,
): ((request: IncomingMessage) => boolean) | undefined {
  if (options.frameworkSpans === true && mode !== 'default') {
    health.rejectOption('frameworkSpans', `option frameworkSpans applies to default mode only; it has no effect in ${mode} mode`);
  }
  const ignore = options.ignoreIncomingRequest as unknown;
  if (ignore === undefined) return undefined;
  if (typeof ignore !== 'function') {
    health.rejectOption('ignoreIncomingRequest', 'option ignoreIncomingRequest is not a function; every request is traced');
    return undefined;
  }
  if (mode !== 'default') {
    health.rejectOption('ignoreIncomingRequest', `option ignoreIncomingRequest applies to default mode only; it has no effect in ${mode} mode`);
    return undefined;
  }
  return ignore as (request: IncomingMessage) => boolean;
}

/** The globally registered provider, unwrapped from the API's proxy, when it has `forceFlush`. */
function globalProvider(): { forceFlush?: () => Promise<void> } | undefined {
  const registered = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (typeof registered.getDelegate === 'function' ? registered.getDelegate() : registered) as { forceFlush?: () => Promise<void> } | undefined;
  return provider;
}

function healthSnapshot(health: HealthCounters): NodeHealth {
  const zeros = Object.fromEntries([...NODE_HEALTH_COUNTERS, ...FLOW_HEALTH_COUNTERS].map((name) => [name, 0]));
  return Object.freeze({ ...zeros, ...health.snapshot() }) as NodeHealth;
}
