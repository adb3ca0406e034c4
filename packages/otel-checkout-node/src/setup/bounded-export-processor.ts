import { TraceFlags } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { sanitizedError } from '../error-summary.js';
import type { HealthCounters } from '../health.js';
import { HEALTH_EXPORT_FAILURES, HEALTH_SPANS_DROPPED, HEALTH_SPANS_EXPORTED } from '../health-names.js';
import { MAX_TIMER_MS } from '../flows/option-numbers.js';

/** How much later than the counting exporter's bound the batch processor's own export timer fires. */
const BATCH_TIMEOUT_MARGIN_MS = 1000;

/** Queue and batch settings of the exporting processor. */
export interface ExportQueueSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/**
 * A BatchSpanProcessor behind a gate that keeps its own count of queued spans.
 *
 * The BatchSpanProcessor drops spans silently when its queue is full (it only logs a debug
 * line), so the gate refuses spans itself at the same bound and counts them. The exporter it
 * feeds is wrapped to count what was exported, what failed and what timed out; together
 * these make `spansDropped` complete. `onEnd` only pushes onto an array, so a slow or dead
 * collector never adds latency to a request, and memory stays bounded by `maxQueueSize`.
 */
export class BoundedExportProcessor implements SpanProcessor {
  private queued = 0;
  // Set once shutdown begins: the batch processor ignores spans that end after that.
  private closed = false;
  private readonly batch: BatchSpanProcessor;
  private readonly counting: CountingExporter;

  constructor(
    exporter: SpanExporter,
    private readonly health: HealthCounters,
    private readonly settings: ExportQueueSettings,
  ) {
    const counting = (this.counting = new CountingExporter(exporter, health, settings.exportTimeoutMillis, (count) => {
      this.queued = Math.max(0, this.queued - count);
    }));
    this.batch = new BatchSpanProcessor(counting, {
      // One more than the gate, so the batch processor itself never has to drop.
      maxQueueSize: settings.maxQueueSize + 1,
      maxExportBatchSize: settings.maxExportBatchSize,
      scheduledDelayMillis: settings.scheduledDelayMillis,
      // The counting exporter bounds each export and answers with a summary when time is up. The
      // batch processor's own timer, set to the same time, would fire first and hand its own
      // `Error('Timeout')`, stack and all, to the global error handler: it is kept out of the way.
      exportTimeoutMillis: Math.min(settings.exportTimeoutMillis + BATCH_TIMEOUT_MARGIN_MS, MAX_TIMER_MS),
    });
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.closed) {
      // Ended after shutdown began (a request still under way): the batch processor would
      // ignore it without a word.
      this.health.increment(HEALTH_SPANS_DROPPED);
      return;
    }
    if (this.queued >= this.settings.maxQueueSize) {
      this.health.increment(HEALTH_SPANS_DROPPED);
      this.health.warnOnce('export-queue-full', `export queue full (${this.settings.maxQueueSize} spans); dropping spans until the collector catches up`);
      return;
    }
    this.queued += 1;
    this.batch.onEnd(span);
  }

  /** Exports what is queued and waits for exports already under way (the batch processor alone does not). */
  async forceFlush(): Promise<void> {
    await this.batch.forceFlush();
    await this.counting.idle();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return this.batch.shutdown();
  }

  /**
   * After shutdown, or when it gave up waiting: counts as dropped the spans still queued and
   * those in exports under way (which are ended now, so they neither keep the process alive nor
   * count again when they fail later); returns how many. None after a shutdown that exported
   * everything; some when it gave up, or when the batch processor's flush stopped at its first
   * failed export and left the rest of its queue unsent.
   */
  abandonPending(): number {
    this.closed = true;
    const dropped = this.queued + this.counting.abandon();
    if (dropped > 0) this.health.increment(HEALTH_SPANS_DROPPED, dropped);
    this.queued = 0;
    return dropped;
  }
}

// Made when it happens, so nothing logs a stack pointing at this module's loading.
const abandonedError = (): Error => sanitizedError('export abandoned: shutdown gave up waiting');
const malformedResultError = (): Error => sanitizedError('the exporter answered without a valid result code');

/** An exporter's answer as counted: anything but `{ code: SUCCESS }` is a failed export. */
interface ReadResult {
  succeeded: boolean;
  error?: unknown;
}

/**
 * Reads what a custom exporter handed its result callback without trusting it: no result, a
 * non-object, a code that is neither SUCCESS nor FAILED or a getter that throws is a failed
 * export (its spans are dropped), never an answer that counts nowhere.
 */
function readResult(result: unknown): ReadResult {
  try {
    if ((typeof result !== 'object' && typeof result !== 'function') || result === null) return { succeeded: false, error: malformedResultError() };
    const { code } = result as { code?: unknown };
    if (code === ExportResultCode.SUCCESS) return { succeeded: true };
    const { error } = result as { error?: unknown };
    if (code === ExportResultCode.FAILED) return { succeeded: false, error };
    return { succeeded: false, error: error ?? malformedResultError() };
  } catch (error) {
    return { succeeded: false, error };
  }
}

/** A custom exporter's `export` may be `async` (or return a promise) against the interface: its result, when a thenable. */
function thenableOf(value: unknown): PromiseLike<unknown> | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  return typeof (value as { then?: unknown }).then === 'function' ? (value as PromiseLike<unknown>) : undefined;
}

/**
 * Counts the outcome of every export and bounds how long one may take: an export the
 * underlying exporter never answers is reported as failed after `timeoutMillis`.
 */
export class CountingExporter implements SpanExporter {
  private readonly inFlight = new Set<Promise<void>>();
  /** Exports under way: how to give each up, and its span count. */
  private readonly underWay = new Map<() => void, number>();
  private abandoned = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly health: HealthCounters,
    private readonly timeoutMillis: number,
    private readonly onHandedOver: (count: number) => void,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.onHandedOver(spans.length);
    if (this.abandoned) {
      // Counted as dropped when shutdown gave up (they were queued then): not sent, not counted again.
      resultCallback({ code: ExportResultCode.FAILED, error: abandonedError() });
      return;
    }
    let settled = false;
    let markDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    this.inFlight.add(done);
    // The first answer counts, once: the exporter's callback, its sync throw or async rejection,
    // the timeout or shutdown giving up; whatever comes after is ignored.
    const settle = (result: unknown, count = true): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.inFlight.delete(done);
      this.underWay.delete(giveUp);
      markDone();
      if (!count) {
        // Given up at shutdown: counted as dropped by `abandon`.
        resultCallback({ code: ExportResultCode.FAILED, error: abandonedError() });
        return;
      }
      const { succeeded, error } = readResult(result);
      if (succeeded) {
        this.health.increment(HEALTH_SPANS_EXPORTED, spans.length);
        resultCallback({ code: ExportResultCode.SUCCESS });
        return;
      }
      this.health.increment(HEALTH_EXPORT_FAILURES);
      this.health.increment(HEALTH_SPANS_DROPPED, spans.length);
      let summary: Error;
      try {
        this.health.warnOnce('export-failed', `span export failed; ${spans.length} spans dropped (counted in health().spansDropped)`, error);
        // The batch processor hands a failed result's error to the global error handler, whose
        // default logs all of it (a collector's answer body included): it gets the summary only.
        summary = sanitizedError('span export failed', error);
      } catch {
        // An error that cannot even be looked at (a revoked proxy): the answer still goes back.
        summary = sanitizedError('span export failed');
      }
      resultCallback({ code: ExportResultCode.FAILED, error: summary });
    };
    const fail = (error: unknown): void => settle({ code: ExportResultCode.FAILED, error });
    const giveUp = (): void => settle(undefined, false);
    this.underWay.set(giveUp, spans.length);
    const timer = setTimeout(() => fail(sanitizedError('export timed out')), this.timeoutMillis);
    timer.unref();
    try {
      const returned: unknown = this.inner.export(spans, settle);
      // `export` returns nothing by the interface; an `async` one that throws returns a rejected
      // promise, which would otherwise reach the process as an unhandled rejection.
      thenableOf(returned)?.then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  }

  /**
   * Gives up every export under way (their results, when they come, are ignored) and every
   * later one, and stops the exporter's own requests when it can; returns how many spans the
   * exports under way held.
   */
  abandon(): number {
    this.abandoned = true;
    let spans = 0;
    for (const [giveUp, count] of [...this.underWay]) {
      spans += count;
      giveUp();
    }
    const inner = this.inner as SpanExporter & { abandon?: () => void };
    try {
      inner.abandon?.();
    } catch {
      // Best effort: the spans are counted either way.
    }
    return spans;
  }

  /** Resolves when every export started so far has been answered (or timed out). */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async shutdown(): Promise<void> {
    await this.idle();
    await this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
