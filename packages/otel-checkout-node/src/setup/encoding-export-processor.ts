import { context, TraceFlags } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { EncodedTraceRequest } from '../export/otlp-protobuf-sender.js';
import { TraceRequestBuilder } from '../export/trace-request-encoder.js';
import type { HealthCounters } from '../health.js';
import { HEALTH_SPANS_DROPPED } from '../health-names.js';
import type { ExportQueueSettings } from './bounded-export-processor.js';
import { CountingExporter } from './counting-exporter.js';
import type { BatchExporter } from './counting-exporter.js';

/**
 * The exporting processor of the default protobuf export: it encodes each span into the
 * OTLP request as the span ends, and keeps bytes, not span objects, until the export.
 *
 * A batch processor keeps every ended span object (its attributes, events, times) until the
 * next export, long enough for the garbage collector to copy it and move it to the old
 * generation, and then reads it back cold to encode it. Encoded at `onEnd`, the span is read
 * while still in cache and is garbage at once, and a queued span costs its encoded size
 * (a few hundred bytes) instead of its object graph.
 *
 * Batching behaves as the SDK's batch processor's: a batch is sent when it holds
 * `maxExportBatchSize` spans or `scheduledDelayMillis` after its first span, one export at a
 * time; at most `maxQueueSize` spans wait, and every span refused, failed or abandoned is
 * counted in `spansDropped`. `onEnd` never waits on the network.
 */
export class EncodingExportProcessor implements SpanProcessor {
  private readonly builder = new TraceRequestBuilder();
  private readonly ready: EncodedTraceRequest[] = [];
  private readonly counting: CountingExporter<EncodedTraceRequest>;
  /** Spans encoded and not yet handed to the sender: in the builder or in `ready`. */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The export under way; settles after the next one (if any) has been started. */
  private sending: Promise<void> | undefined;
  private stopped = false;

  constructor(
    sender: BatchExporter<EncodedTraceRequest>,
    private readonly health: HealthCounters,
    private readonly settings: ExportQueueSettings,
  ) {
    this.counting = new CountingExporter(sender, (request) => request.spanCount, health, settings.exportTimeoutMillis, (count) => {
      this.queued -= count;
    });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    // After shutdown nothing is exported, as with the SDK's batch processor: spans of requests
    // still in flight then belong to a tracer that has stopped, and are not counted as dropped.
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.settings.maxQueueSize) {
      this.drop(1);
      this.health.warnOnce('export-queue-full', `export queue full (${this.settings.maxQueueSize} spans); dropping spans until the collector catches up`);
      return;
    }
    try {
      this.builder.add(span);
    } catch (error) {
      // A span the encoder cannot read (a hand-made ReadableSpan, say) is lost alone, not its batch.
      this.drop(1);
      this.health.warnOnce('span-encoding', 'a span could not be encoded for export; it was dropped', error);
      return;
    }
    this.queued += 1;
    if (this.builder.spanCount >= this.settings.maxExportBatchSize) {
      this.seal();
      this.sendNext();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.seal();
        this.sendNext();
      }, this.settings.scheduledDelayMillis);
      // A pending batch must not keep the process alive; shutdown flushes it.
      this.timer.unref();
    }
  }

  /** Sends every span ended so far and waits for the exports (each bounded by the export timeout). */
  async forceFlush(): Promise<void> {
    this.seal();
    this.sendNext();
    while (this.sending) await this.sending;
    await this.counting.idle();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    await this.counting.shutdown();
  }

  /** Counts the spans still waiting as dropped and forgets them (called when shutdown gives up waiting). */
  abandonPending(): void {
    this.clearTimer();
    this.drop(this.queued);
    this.queued = 0;
    this.ready.length = 0;
    this.builder.clear();
  }

  /** Turns the spans in the builder into a request ready to send. */
  private seal(): void {
    this.clearTimer();
    const spanCount = this.builder.spanCount;
    if (spanCount === 0) return;
    let bytes: Uint8Array;
    try {
      bytes = this.builder.build();
    } catch (error) {
      this.drop(spanCount);
      this.queued -= spanCount;
      this.health.warnOnce('span-encoding', 'a batch of spans could not be encoded for export; it was dropped', error);
      return;
    } finally {
      this.builder.clear();
    }
    this.ready.push({ bytes, spanCount });
  }

  /** Starts the next export unless one is under way; each export's end starts the one after. */
  private sendNext(): void {
    if (this.sending || this.ready.length === 0) return;
    const request = this.ready.shift()!;
    this.sending = new Promise<void>((resolve) => {
      const done = (): void => {
        this.sending = undefined;
        this.sendNext();
        resolve();
      };
      // The export's own HTTP request must not be traced: its span would be exported in turn.
      context.with(suppressTracing(context.active()), () => this.counting.export(request, done));
    });
  }

  private drop(count: number): void {
    if (count > 0) this.health.increment(HEALTH_SPANS_DROPPED, count);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
