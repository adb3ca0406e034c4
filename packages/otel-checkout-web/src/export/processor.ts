import { diag, TraceFlags } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Envelope } from './otlp-json.js';
import { encodeSpan, utf8Length } from './otlp-json.js';
import type { SendResult, Transport } from './transport.js';
import { spill, takeSpilled } from './spill.js';
import type { HealthCounters } from '../health.js';

export interface QueueOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

/** Body size of one batch when the page is leaving: small, so several fit the keepalive budget and one lost beacon loses little. */
export const LEAVING_BATCH_BYTES = 16_000;
/** Body size of one batch while the page is visible. */
const VISIBLE_BATCH_BYTES = 512_000;
/** Export requests in flight at most while the page is visible. */
const MAX_CONCURRENT_EXPORTS = 2;

interface Queued {
  json: string;
  bytes: number;
}

/**
 * Queues ended spans (redacted and encoded once) and exports them in batches. The queue is
 * bounded: when the collector is down or slow, new spans are dropped and counted, so memory
 * stays bounded and nothing waits on the network.
 */
export class ExportQueue implements SpanProcessor {
  private queue: Queued[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = new Set<Promise<void>>();
  private closed = false;
  private warned = false;

  constructor(
    private readonly transport: Transport,
    private readonly envelope: Envelope,
    private readonly options: QueueOptions,
    private readonly health: HealthCounters,
    private readonly redact: ((span: ReadableSpan) => ReadableSpan) | undefined,
  ) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    let json: string;
    try {
      json = encodeSpan(this.redact === undefined ? span : this.redact(span));
    } catch (error) {
      this.drop(1, 'a span could not be encoded', error);
      return;
    }
    if (this.queue.length >= this.options.maxQueueSize) {
      this.drop(1, 'the export queue is full');
      return;
    }
    this.queue.push({ json, bytes: utf8Length(json) + 1 });
    if (this.queue.length >= this.options.maxExportBatchSize) this.schedule(0);
    else this.schedule(this.options.scheduledDelayMillis);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Exports everything queued now; resolves when every request settled. Never rejects. */
  forceFlush(): Promise<void> {
    this.cancelTimer();
    while (this.queue.length > 0) this.sendBatch(false, VISIBLE_BATCH_BYTES);
    return Promise.all([...this.inFlight]).then(() => undefined);
  }

  /**
   * The page is being hidden or left: hand every queued span to the browser right now, in
   * small batches, by keepalive while the budget lasts and then by beacon. Synchronous on
   * purpose: after `pagehide` returns there may be no later task.
   */
  dispatchLeaving(): void {
    this.cancelTimer();
    const refused: { body: string; count: number }[] = [];
    while (this.queue.length > 0) this.sendBatch(true, LEAVING_BATCH_BYTES, refused);
    if (refused.length === 0) return;
    const lost = spill(refused, Date.now());
    if (lost > 0) this.drop(lost, 'the browser refused an export at unload');
  }

  /** Exports what is queued in the next task. */
  exportSoon(): void {
    this.schedule(0);
  }

  shutdown(): Promise<void> {
    const flushed = this.forceFlush();
    this.closed = true;
    return flushed;
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) {
      if (delay > 0) return;
      this.cancelTimer();
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.exportVisible();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private exportVisible(): void {
    while (this.queue.length > 0 && this.inFlight.size < MAX_CONCURRENT_EXPORTS) this.sendBatch(false, VISIBLE_BATCH_BYTES);
  }

  private sendBatch(leaving: boolean, maxBytes: number, refused?: { body: string; count: number }[]): void {
    const { head, tail } = this.envelope;
    const overhead = utf8Length(head) + tail.length;
    const batch: string[] = [];
    let bytes = overhead;
    while (this.queue.length > 0 && batch.length < this.options.maxExportBatchSize) {
      const next = this.queue[0];
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      batch.push(next.json);
      bytes += next.bytes;
      this.queue.shift();
    }
    if (batch.length === 0) return;
    const body = head + batch.join(',') + tail;
    if (leaving) {
      const pending = this.transport.sendLeaving(body, bytes);
      if (pending !== undefined) this.track(pending, batch.length, true);
      else refused?.push({ body, count: batch.length });
      return;
    }
    this.track(this.transport.send(body, bytes, false), batch.length, false);
  }

  /** Sends what an earlier page of this tab could not (see spill.ts). */
  resendSpilled(): void {
    for (const { body, count } of takeSpilled(Date.now())) this.track(this.transport.send(body, utf8Length(body), false), count, false);
  }

  private track(result: Promise<SendResult>, count: number, leaving: boolean): void {
    const sent = result.then((result) => {
      if (result === 'ok' || result === 'beacon') {
        this.health.spansExported += count;
        if (result === 'beacon') this.health.beaconsSent += 1;
      } else {
        if (result === 'failed') this.health.exportFailures += 1;
        this.drop(count, result === 'failed' ? 'the collector did not accept an export' : 'the browser refused an export at unload');
      }
      this.inFlight.delete(sent);
      if (this.queue.length > 0 && !leaving) this.schedule(this.options.scheduledDelayMillis);
    });
    this.inFlight.add(sent);
  }

  private drop(count: number, why: string, error?: unknown): void {
    this.health.spansDropped += count;
    if (this.warned) return;
    this.warned = true;
    // One diagnostic for the page's lifetime: the counters tell the rest.
    diag.warn(`@otel-checkout/web: spans dropped (${why}); further drops are only counted`, error);
  }
}
