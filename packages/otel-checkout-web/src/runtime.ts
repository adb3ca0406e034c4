import { diag, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import type { Redactor } from '@otel-checkout/core';
import { canaryAttributes, canaryBaggageEntries, cohortOf, createRedactor, formatTraceparent, redactSpanData } from '@otel-checkout/core';
import {
  ATTR_PAYMENT_CONTEXT_REJECTED,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  ATTR_PAYMENT_STAGE,
  PAYMENT_STAGE_VALUE_CHECKOUT,
  PAYMENT_STAGE_VALUE_RETURN,
  SPAN_NAME_PAYMENT_CHECKOUT,
  SPAN_NAME_PAYMENT_RETURN,
} from '@otel-checkout/semantic-conventions/incubating';
import type { ExportQueue } from './export/processor.js';
import { createExportQueue } from './export/processor.js';
import { envelope } from './export/otlp-json.js';
import { createTransport } from './export/transport.js';
import { detailAttributes } from './flow/attributes.js';
import type { FlowRuntime } from './flow/flow.js';
import { RecordingFlow } from './flow/flow.js';
import { NOOP_FLOW } from './flow/noop-flow.js';
import { handoffRecord, writeHandoff } from './handoff.js';
import type { HealthCounters } from './health.js';
import { newHealthCounters } from './health.js';
import type { ResolvedOptions } from './options.js';
import { observePageTimings } from './page-timings.js';
import type { RequestTrace } from './propagation/patch.js';
import { installPropagation } from './propagation/patch.js';
import { matchesTarget, parseUrl } from './propagation/url-match.js';
import { answerHandoff } from './resume/message-handoff.js';
import { decideResume } from './resume/resume.js';
import type { ChallengeOptions, CheckoutFlow, FlowDetails, ResumeOptions, WebHealth } from './types.js';
import { SCOPE_NAME, VERSION } from './version.js';

/**
 * `deployment.environment.name`, still incubating in the OpenTelemetry conventions, which ask
 * libraries to copy incubating names rather than import that entry point.
 */
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';

/** Flows open at once at most; the oldest is ended (as abandoned) beyond this. */
const MAX_OPEN_FLOWS = 32;

/** One started tracing setup: provider, export queue, patches and page listeners. */
export class Runtime implements FlowRuntime {
  readonly tracer: Tracer;
  readonly common: Attributes;
  readonly redirectWatchdogMillis: number;
  private readonly provider: TracerProvider;
  private readonly queue: ExportQueue;
  private readonly counters: HealthCounters = newHealthCounters();
  private readonly flows: RecordingFlow[] = [];
  private readonly scope: RecordingFlow[] = [];
  private readonly baggage: string | undefined;
  private readonly exportUrl: string;
  private readonly nativeFetch: typeof fetch;
  private pageTimings: () => Attributes = () => ({});
  private readonly cleanups: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: ResolvedOptions) {
    this.redirectWatchdogMillis = options.redirectWatchdogMillis;
    this.exportUrl = parseUrl(options.endpoint)?.href ?? options.endpoint;
    this.nativeFetch = globalThis.fetch;

    const cohort = options.stableUserId === undefined ? undefined : cohortOf(options.stableUserId, { salt: options.canarySalt, percent: options.canaryPercent });
    const releaseCohort = { release: options.release, cohort: cohort?.cohort, bucket: cohort?.bucket };
    this.common = canaryAttributes(releaseCohort);
    const entries = Object.entries(canaryBaggageEntries(releaseCohort));
    this.baggage = entries.length === 0 ? undefined : entries.map(([key, entry]) => `${key}=${encodeURIComponent(entry.value)}`).join(',');

    const resource: Attributes = { ...options.resourceAttributes, [ATTR_SERVICE_NAME]: options.serviceName };
    if (options.release !== undefined) resource[ATTR_SERVICE_VERSION] = options.release;
    if (options.environment !== undefined) resource[ATTR_DEPLOYMENT_ENVIRONMENT_NAME] = options.environment;

    let redact: ((span: ReadableSpan) => ReadableSpan) | undefined;
    if (options.redaction !== undefined) {
      const redactor: Redactor = createRedactor({ flowTokenParameter: options.tokenParam, ...options.redaction });
      redact = (span) => {
        // The ended SDK span is a plain object the exporter reads next; redacting it in place saves a copy.
        redactSpanData(span, redactor);
        return span;
      };
    }
    const transport = createTransport({ url: this.exportUrl, headers: options.headers, timeoutMillis: options.exportTimeoutMillis, fetch: this.nativeFetch });
    this.queue = createExportQueue(transport, envelope(resource, SCOPE_NAME, VERSION), options, this.counters, redact);
    // The trace SDK's own provider (the one sdk-trace-base's BasicTracerProvider and
    // sdk-trace-web's WebTracerProvider wrap), without their OTEL_* environment parsing (there
    // is no environment in a browser) and without `register()`: no global context manager or
    // propagators are installed, since flows carry their context explicitly. Both would only
    // add bytes to every checkout page.
    this.provider = new TracerProvider({
      resource: resourceFromAttributes(resource),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRate) }),
      spanProcessors: [this.queue],
    });
    this.tracer = this.provider.getTracer(SCOPE_NAME, VERSION);
    this.queue.resendSpilled();

    this.cleanups.push(installPropagation((method, url) => this.traceRequest(method, url)));
    this.listen();
    if (options.capturePageTimings) {
      const [timings, stop] = observePageTimings();
      this.pageTimings = timings;
      this.cleanups.push(stop);
    }
  }

  private listen(): void {
    if (typeof window === 'undefined' || typeof document === 'undefined') return;
    const add = <K extends keyof WindowEventMap>(type: K, listener: (event: WindowEventMap[K]) => void): void => {
      window.addEventListener(type, listener);
      this.cleanups.push(() => window.removeEventListener(type, listener));
    };
    add('pagehide', () => this.guard('flush at pagehide', () => this.pageLeft()));
    const onVisibility = (): void => {
      if (document.visibilityState === 'hidden') this.guard('flush when hidden', () => this.queue.dispatchLeaving());
      // Back from hidden: what could not leave then is sent now instead of waiting for the next page.
      else this.guard('resend spilled spans', () => this.queue.resendSpilled());
    };
    document.addEventListener('visibilitychange', onVisibility);
    this.cleanups.push(() => document.removeEventListener('visibilitychange', onVisibility));
    if (this.options.captureErrors) {
      add('error', (event) => this.guard('record a page error', () => this.active()?.recordPageError(event.error ?? event.message)));
      add('unhandledrejection', (event) => this.guard('record a rejection', () => this.active()?.recordPageError(event.reason)));
    }
  }

  /** The page is going away: flows still open end here (a redirecting one keeps outcome pending), and everything queued leaves now. */
  private pageLeft(): void {
    for (const flow of [...this.flows]) flow.end();
    this.queue.dispatchLeaving();
  }

  guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      diag.warn(`@otel-checkout/web: could not ${what}`, error);
    }
  }

  // --- FlowRuntime ---

  scoped<T>(flow: RecordingFlow, fn: () => T): T {
    this.scope.push(flow);
    try {
      return fn();
    } finally {
      this.scope.pop();
    }
  }

  ended(flow: RecordingFlow): void {
    const index = this.flows.indexOf(flow);
    if (index >= 0) this.flows.splice(index, 1);
  }

  leaving(flow: RecordingFlow, redirect: Span, watchdogMillis: number): void {
    if (!writeHandoff(handoffRecord(redirect.spanContext(), flow.details, Date.now(), this.options.handoffMaxAgeMillis))) {
      diag.warn('@otel-checkout/web: no sessionStorage for the handoff');
    }
    // Exported right after this task (keepalive requests outlive the page), so the click-to-navigate
    // path does no network work; whatever is left goes at pagehide.
    this.queue.exportSoon();
    if (watchdogMillis <= 0 || typeof document === 'undefined') return;
    const check = (): void => {
      if (!flow.redirecting || flow.isEnded) return;
      if (document.visibilityState === 'hidden') {
        // A hidden page proves nothing; judge when the shopper can see it again.
        document.addEventListener('visibilitychange', check, { once: true });
        return;
      }
      flow.pageLoadFailed();
    };
    setTimeout(check, watchdogMillis);
  }

  answerChallenge(flow: RecordingFlow, redirect: () => Span, options: ChallengeOptions | undefined): () => void {
    const origins = Array.isArray(options?.origins) ? options.origins.filter((o) => typeof o === 'string') : typeof location !== 'undefined' ? [location.origin] : [];
    const stop = answerHandoff(
      origins,
      () => (flow.isEnded ? undefined : handoffRecord(redirect().spanContext(), flow.details, Date.now(), this.options.handoffMaxAgeMillis)),
      () => {
        this.counters.contextsRejected += 1;
      },
    );
    // Stopped by the page or at shutdown, whichever comes first; a stopped answer leaves the
    // cleanup list, so repeated challenges do not pile up.
    const cleanup = (): void => {
      const at = this.cleanups.indexOf(cleanup);
      if (at >= 0) this.cleanups.splice(at, 1);
      stop();
    };
    this.cleanups.push(cleanup);
    return cleanup;
  }

  // --- propagation ---

  private traceRequest(method: string, rawUrl: string): RequestTrace | undefined {
    if (this.closed) return undefined;
    const url = parseUrl(rawUrl);
    if (url === undefined || url.href === this.exportUrl || !matchesTarget(url, this.options.propagateTo)) return undefined;
    const flow = this.scope[this.scope.length - 1] ?? this.active();
    if (flow === undefined) return undefined;
    const span = flow.startRequest(method, { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_FULL]: url.href, [ATTR_SERVER_ADDRESS]: url.hostname });
    const headers: Record<string, string> = { traceparent: formatTraceparent(span.spanContext()) };
    if (this.baggage !== undefined) headers.baggage = this.baggage;
    return {
      headers,
      end: (status, error) => {
        if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (error !== undefined || (status !== undefined && status >= 400)) {
          span.setAttribute(ATTR_ERROR_TYPE, status !== undefined && status >= 400 ? String(status) : error instanceof Error ? error.name : 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        flow.endRequest(span);
      },
    };
  }

  // --- Checkout ---

  begin(details?: FlowDetails): CheckoutFlow {
    if (this.closed) return NOOP_FLOW;
    const attributes: Attributes = {
      ...this.common,
      [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_CHECKOUT,
      ...detailAttributes(details),
      ...this.pageTimings(),
    };
    const root = this.tracer.startSpan(SPAN_NAME_PAYMENT_CHECKOUT, { kind: SpanKind.INTERNAL, root: true, attributes }, ROOT_CONTEXT);
    const flow = new RecordingFlow(this, root, typeof details === 'object' && details !== null ? details : {});
    this.track(flow);
    return flow;
  }

  async resume(options?: ResumeOptions): Promise<CheckoutFlow> {
    if (this.closed) return NOOP_FLOW;
    const decision = await decideResume({ tokenParam: this.options.tokenParam, fetch: this.nativeFetch }, typeof options === 'object' && options !== null ? options : {});
    if (this.closed) return NOOP_FLOW;
    const details = { ...decision.details, ...(typeof options?.details === 'object' && options.details !== null ? options.details : {}) };
    const attributes: Attributes = {
      ...this.common,
      [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_RETURN,
      [ATTR_PAYMENT_CONTEXT_SOURCE]: decision.source,
      ...detailAttributes(details),
    };
    if (decision.rejected !== undefined) {
      attributes[ATTR_PAYMENT_CONTEXT_REJECTED] = decision.rejected;
      this.counters.contextsRejected += 1;
    }
    const parent = decision.parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, decision.parent);
    const root = this.tracer.startSpan(
      SPAN_NAME_PAYMENT_RETURN,
      { kind: SpanKind.INTERNAL, root: decision.parent === undefined, attributes, links: decision.links },
      parent,
    );
    const flow = new RecordingFlow(this, root, details);
    this.track(flow);
    return flow;
  }

  /** Keeps at most MAX_OPEN_FLOWS open: a page that begins flows and never ends them must not grow without bound. */
  private track(flow: RecordingFlow): void {
    this.flows.push(flow);
    if (this.flows.length > MAX_OPEN_FLOWS) this.flows[0].end();
  }

  active(): RecordingFlow | undefined {
    for (let i = this.flows.length - 1; i >= 0; i--) if (!this.flows[i].isEnded) return this.flows[i];
    return undefined;
  }

  // --- handle ---

  health(): WebHealth {
    return { ...this.counters, queueLength: this.queue.length };
  }

  flush(): Promise<void> {
    return this.queue.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    for (const flow of [...this.flows]) flow.end();
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) this.guard('remove a listener', cleanup);
    await this.provider.shutdown().catch(() => undefined);
  }
}
