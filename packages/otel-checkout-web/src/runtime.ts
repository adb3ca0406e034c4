import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, Sampler } from '@opentelemetry/sdk-trace';
import { ParentBasedSampler, SamplingDecision, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { CANARY_BAGGAGE_KEYS, canaryAttributes, cohortOf, formatTraceparent, Redactor } from '@otel-checkout/core';
import {
  ATTR_PAYMENT_CONTEXT_REJECTED,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  ATTR_PAYMENT_STAGE,
  PAYMENT_CONTEXT_REJECTED_VALUE_MISSING,
  PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE,
  PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_STAGE_VALUE_CHECKOUT,
  PAYMENT_STAGE_VALUE_RETURN,
  SPAN_NAME_PAYMENT_CHECKOUT,
  SPAN_NAME_PAYMENT_RETURN,
} from '@otel-checkout/semantic-conventions/incubating';
import { createExportQueue } from './export/processor.js';
import { envelope } from './export/otlp-json.js';
import { createTransport } from './export/transport.js';
import { detailAttributes } from './flow/attributes.js';
import type { FlowRuntime } from './flow/flow.js';
import type { RecordingFlow } from './flow/flow.js';
import { createFlow } from './flow/flow.js';
import { NOOP_FLOW } from './flow/noop-flow.js';
import { dropHandoff, handoffRecord, writeHandoff } from './handoff.js';
import { newHealthCounters } from './health.js';
import { listOf } from './options.js';
import type { ResolvedOptions } from './options.js';
import { observePageTimings } from './page-timings.js';
import { installPropagation } from './propagation/patch.js';
import { matchesTarget, originOf, parseUrl } from './propagation/url-match.js';
import { answerHandoff } from './resume/message-handoff.js';
import { decideResume } from './resume/resume.js';
import { safely, warn } from './safely.js';
import type { CheckoutFlow, FlowDetails, ResumeOptions, WebHealth } from './types.js';
import { SCOPE_NAME, VERSION } from './version.js';

/**
 * `deployment.environment.name`, still incubating in the OpenTelemetry conventions, which ask
 * libraries to copy incubating names rather than import that entry point.
 */
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';

/**
 * The root sampler: `rate` of the flows, by the last 32 bits of the trace id (random, so the
 * share holds). Written here because `TraceIdRatioBasedSampler` would add about 0.2 KB gzip to
 * every checkout page for the same decision.
 */
function ratioSampler(rate: number): Sampler {
  return {
    shouldSample: (_context, traceId) => ({ decision: parseInt(traceId.slice(-8), 16) < rate * 2 ** 32 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD }),
  };
}

/** Flows open at once at most; the oldest is ended beyond this (without an outcome, as at pagehide). */
const MAX_OPEN_FLOWS = 32;

/** One started tracing setup, as `checkout` and the handle use it. */
export interface Runtime {
  begin(details?: FlowDetails): CheckoutFlow;
  resume(options?: ResumeOptions): Promise<CheckoutFlow>;
  active(): RecordingFlow | undefined;
  health(): WebHealth;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts one tracing setup: provider, export queue, patches and page listeners. A closure
 * rather than a class, so its private state minifies on every checkout page.
 */
export function createRuntime(options: ResolvedOptions): Runtime {
  const counters = newHealthCounters();
  const flows: RecordingFlow[] = [];
  /** The flows `run()` made current, innermost last. */
  const scope: RecordingFlow[] = [];
  /** How to end each traced request still in flight. */
  const requests = new Set<(status?: number, error?: unknown) => void>();
  const cleanups = new Set<() => void>();
  /** Stops the answering of the last `answerChallenge()`. */
  let stopAnswering = (): void => {};
  /** The flows the last `pagehide` ended: they carry on if the page comes back from the back-forward cache. */
  let leftOpen: RecordingFlow[] = [];
  let pageTimings: () => Attributes = () => ({});
  let closed = false;
  const exportUrl = parseUrl(options.endpoint)?.href ?? options.endpoint;
  const nativeFetch = globalThis.fetch;

  const cohort = options.stableUserId === undefined ? undefined : cohortOf(options.stableUserId, { salt: options.canarySalt, percent: options.canaryPercent });
  const common = canaryAttributes({ release: options.release, ...cohort });
  // The release and cohort, as validated for the spans, travel as baggage; the bucket does not.
  const baggage =
    CANARY_BAGGAGE_KEYS.filter((key) => common[key] !== undefined)
      .map((key) => `${key}=${encodeURIComponent(String(common[key]))}`)
      .join(',') || undefined;

  const resource: Attributes = { ...options.resourceAttributes, [ATTR_SERVICE_NAME]: options.serviceName };
  if (options.release !== undefined) resource[ATTR_SERVICE_VERSION] = options.release;
  if (options.environment !== undefined) resource[ATTR_DEPLOYMENT_ENVIRONMENT_NAME] = options.environment;

  let redact: ((span: ReadableSpan) => ReadableSpan) | undefined;
  if (options.redaction !== undefined) {
    const redactor = new Redactor({ flowTokenParameter: options.tokenParam, ...options.redaction });
    // The resource rides on every export request and no span processor sees it: a secret or a
    // card number in resourceAttributes would otherwise leave the page as it was given.
    redactor.redactAttributes(resource);
    redact = (span) => {
      // The ended SDK span is a plain object the exporter reads next; redacting it in place saves a copy.
      redactor.redactSpan(span);
      return span;
    };
  }
  const transport = createTransport({ url: exportUrl, headers: options.headers, timeoutMillis: options.exportTimeoutMillis, fetch: nativeFetch });
  const queue = createExportQueue(transport, envelope(resource, SCOPE_NAME, VERSION), options, counters, redact);
  // The trace SDK's own provider (the one sdk-trace-base's BasicTracerProvider and
  // sdk-trace-web's WebTracerProvider wrap), without their OTEL_* environment parsing (there
  // is no environment in a browser) and without `register()`: no global context manager or
  // propagators are installed, since flows carry their context explicitly. Both would only
  // add bytes to every checkout page.
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    sampler: new ParentBasedSampler({ root: ratioSampler(options.sampleRate) }),
    spanProcessors: [queue],
  });
  const tracer = provider.getTracer(SCOPE_NAME, VERSION);

  /** Ended flows leave the list, so the most recent open one is the last. */
  const active = (): RecordingFlow | undefined => flows[flows.length - 1];

  /**
   * The page is leaving or tracing shuts down: open flows end, and so do the requests still in
   * flight, which would otherwise never be exported.
   */
  const endAll = (): void => {
    for (const flow of [...flows]) flow.end();
    for (const end of requests) end();
  };

  const host: FlowRuntime = {
    startSpan: (name, attributes, parent, kind, links) =>
      tracer.startSpan(name, { kind, attributes: { ...common, ...attributes }, links }, parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent)),
    scoped(flow, fn) {
      scope.push(flow);
      try {
        return fn();
      } finally {
        scope.pop();
      }
    },
    ended(flow) {
      const index = flows.indexOf(flow);
      if (index >= 0) flows.splice(index, 1);
    },
    leaving(flow, redirect, requested) {
      const watchdogMillis = typeof requested === 'number' ? requested : options.redirectWatchdogMillis;
      if (!writeHandoff(handoffRecord(redirect.spanContext(), flow, options.handoffMaxAgeMillis))) {
        warn('no sessionStorage, no handoff');
      }
      // Exported right after this task (keepalive requests outlive the page), so the click-to-navigate
      // path does no network work; whatever is left goes at pagehide.
      queue.sendSoon();
      // None for 0, and none for what no timer can wait (Infinity, NaN, past 2^31 - 1 ms): a
      // browser fires such a timer at once, which would record a redirect under way as failed.
      if (!(watchdogMillis > 0 && watchdogMillis < 2 ** 31) || typeof document === 'undefined') return;
      const check = (): void => {
        // Not this redirect any more: the flow ended (which clears it) or redirected again.
        if (flow.redirecting !== redirect) return;
        if (document.visibilityState === 'hidden') {
          // A hidden page proves nothing; judge when the shopper can see it again.
          document.addEventListener('visibilitychange', check, { once: true });
          return;
        }
        // The bank page never replaced this one (the redirect is still this flow's, so it is open).
        flow.fail(PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED);
      };
      setTimeout(check, watchdogMillis);
    },
    answerChallenge(flow, redirect, challenge) {
      dropHandoff();
      // Only the newest challenge answers: a return frame takes the first answer, and a flow
      // left open (the shopper closed its popup and paid again) would answer before the new one.
      stopAnswering();
      // By default the page's own origin (nothing to answer without a window, and no location then).
      const origins = listOf('origins', challenge?.origins, originOf) ?? [globalThis.location?.origin];
      // Stopped by the page, by the next challenge or at shutdown, whichever comes first.
      return (stopAnswering = answerHandoff(
        origins,
        () => {
          const span = redirect();
          return span && handoffRecord(span.spanContext(), flow, options.handoffMaxAgeMillis);
        },
        () => {
          counters.contextsRejected++;
        },
      ));
    },
  };

  /** Keeps at most MAX_OPEN_FLOWS open: a page that begins flows and never ends them must not grow without bound. */
  const track = (flow: RecordingFlow): RecordingFlow => {
    flows.push(flow);
    if (flows.length > MAX_OPEN_FLOWS) flows[0].end();
    return flow;
  };

  queue.sendSpilled();
  cleanups.add(() => stopAnswering());

  cleanups.add(
    installPropagation((method, rawUrl) => {
      if (closed) return undefined;
      // Resolved as fetch and XHR resolve it: against the document's base URL, which a <base>
      // element may point at another origin; without a document (a worker), against the address.
      const url = parseUrl(rawUrl, globalThis.document?.baseURI);
      if (url === undefined || url.href === exportUrl || !matchesTarget(url, options.propagateTo)) return undefined;
      const flow = scope[scope.length - 1] ?? active();
      if (flow === undefined) return undefined;
      const span = flow.startRequest(method, { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_FULL]: url.href, [ATTR_SERVER_ADDRESS]: url.hostname });
      const headers: Record<string, string> = { traceparent: formatTraceparent(span.spanContext()) };
      if (baggage !== undefined) headers.baggage = baggage;
      const end = (status?: number, error?: unknown): void => {
        // Once only: the request completing, the page leaving and shutdown may all try.
        if (!requests.delete(end)) return;
        if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        // No status (undefined) is never at least 400.
        const failed = status! >= 400;
        if (error !== undefined || failed) {
          span.setAttribute(ATTR_ERROR_TYPE, failed ? String(status) : error instanceof Error ? error.name : 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
      requests.add(end);
      return { headers, end };
    }),
  );

  let resumed: Promise<CheckoutFlow> | undefined;
  const resumeOnce = async (resumeOptions?: ResumeOptions): Promise<CheckoutFlow> => {
    if (closed) return NOOP_FLOW;
    const decision = await decideResume(options.tokenParam, nativeFetch, resumeOptions ?? {});
    if (closed) return NOOP_FLOW;
    const details: FlowDetails = { ...decision.details, ...resumeOptions?.details };
    const attributes: Attributes = { [ATTR_PAYMENT_CONTEXT_SOURCE]: decision.source };
    const rejected = decision.rejected;
    if (rejected !== undefined) {
      attributes[ATTR_PAYMENT_CONTEXT_REJECTED] = rejected;
      // The counter is for contexts refused; with nothing carried (or nothing readable) there was none.
      if (rejected !== PAYMENT_CONTEXT_REJECTED_VALUE_MISSING && rejected !== PAYMENT_CONTEXT_REJECTED_VALUE_STORAGE_UNAVAILABLE) counters.contextsRejected++;
    }
    // Kept for reloads of this page, which then continue from the same parent: by then the
    // handoff is taken and the token gone from the address. A reload keeps the record it found.
    if (decision.parent !== undefined && decision.source !== PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD) {
      writeHandoff({ ...handoffRecord(decision.parent, { details, attempt: decision.attempt }, options.handoffMaxAgeMillis), taken: location.href });
    }
    const root = host.startSpan(SPAN_NAME_PAYMENT_RETURN, { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_RETURN, ...detailAttributes(details), ...attributes }, decision.parent, undefined, decision.links);
    return track(createFlow(host, root, details, decision.attempt));
  };

  if (typeof window !== 'undefined' && typeof document !== 'undefined') {
    const add = <E extends Event>(target: EventTarget, type: string, listener: (event: E) => void): void => {
      const guarded = (event: Event): void => safely(`${type} handling`, () => listener(event as E));
      target.addEventListener(type, guarded);
      cleanups.add(() => target.removeEventListener(type, guarded));
    };
    // The page is going away: flows still open end here (a redirecting one keeps outcome
    // pending), and everything queued leaves now.
    add(window, 'pagehide', () => {
      leftOpen = [...flows];
      endAll();
      queue.sendLeaving();
    });
    // Back from the provider's page (or any other) to this very page, restored from the
    // back-forward cache: the page's flow objects are the shopper's checkout still, so they
    // keep recording, in the trace they began.
    add(window, 'pageshow', (event: PageTransitionEvent) => {
      if (event.persisted) for (const flow of leftOpen.splice(0)) track(flow).restored();
    });
    add(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') queue.sendLeaving();
      // Back from hidden: what could not leave then is sent now instead of waiting for the next page.
      else queue.sendSpilled();
    });
    if (options.captureErrors) {
      add(window, 'error', (event: ErrorEvent) => active()?.recordError(event.error ?? event.message));
      add(window, 'unhandledrejection', (event: PromiseRejectionEvent) => active()?.recordError(event.reason));
    }
  }
  if (options.capturePageTimings) {
    const [timings, stop] = observePageTimings();
    pageTimings = timings;
    cleanups.add(stop);
  }

  return {
    begin(details) {
      if (closed) return NOOP_FLOW;
      dropHandoff();
      const last = active();
      // Pay again after Back from the provider's page: the restored flow's next attempt, in its
      // trace, rather than a second trace that nothing links to the first.
      if (last?.reopened) {
        last.reopened = false;
        last.retry(PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED);
        last.set(details ?? {});
        return last;
      }
      const root = host.startSpan(SPAN_NAME_PAYMENT_CHECKOUT, { [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_CHECKOUT, ...detailAttributes(details), ...pageTimings() });
      // The page load's figures go on the first checkout of the page load only: a single-page
      // app's later checkouts did not wait for that load, and each would count it once more.
      pageTimings = () => ({});
      return track(createFlow(host, root, details));
    },

    // Once per page: a second call (the return page's component mounted again, an effect run
    // twice) gets the first call's flow. Run again, it would find the handoff taken and the
    // token gone, start a return without context, and drop the record kept for reloads.
    resume: (resumeOptions) => (resumed ??= resumeOnce(resumeOptions)),

    active,

    health: () => ({ ...counters, queueLength: queue.length }),

    flush: () => queue.forceFlush().catch(() => undefined),

    async shutdown() {
      if (closed) return;
      endAll();
      closed = true;
      for (const cleanup of cleanups) safely('shutdown handling', cleanup);
      await provider.shutdown().catch(() => undefined);
    },
  };
}
