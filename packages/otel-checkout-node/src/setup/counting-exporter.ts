import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { HealthCounters } from '../health.js';
import { HEALTH_EXPORT_FAILURES, HEALTH_SPANS_DROPPED, HEALTH_SPANS_EXPORTED } from '../health-names.js';

/** What sends a batch of spans: a `SpanExporter` (an array of spans) or OTLP's export delegate (an encoded request). */
export interface BatchExporter<Batch> {
  export(batch: Batch, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * Counts the outcome of every export and bounds how long one may take: an export the
 * underlying exporter never answers is reported as failed after `timeoutMillis`.
 */
export class CountingExporter<Batch> {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly inner: BatchExporter<Batch>,
    private readonly spanCountOf: (batch: Batch) => number,
    private readonly health: HealthCounters,
    private readonly timeoutMillis: number,
    private readonly onHandedOver: (count: number) => void,
  ) {}

  export(batch: Batch, resultCallback: (result: ExportResult) => void): void {
    const spanCount = this.spanCountOf(batch);
    this.onHandedOver(spanCount);
    let settled = false;
    let markDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    this.inFlight.add(done);
    const settle = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.inFlight.delete(done);
      markDone();
      if (result.code === ExportResultCode.SUCCESS) {
        this.health.increment(HEALTH_SPANS_EXPORTED, spanCount);
      } else {
        this.health.increment(HEALTH_EXPORT_FAILURES);
        this.health.increment(HEALTH_SPANS_DROPPED, spanCount);
        this.health.warnOnce('export-failed', `span export failed; ${spanCount} spans dropped (counted in health().spansDropped)`, result.error);
      }
      resultCallback(result);
    };
    const timer = setTimeout(() => settle({ code: ExportResultCode.FAILED, error: new Error('export timed out') }), this.timeoutMillis);
    timer.unref();
    try {
      this.inner.export(batch, settle);
    } catch (error) {
      settle({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
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
