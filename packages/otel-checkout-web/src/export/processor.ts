import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Envelope } from './otlp-json.js';
import { encodeSpan, utf8Length } from './otlp-json.js';
import type { SendResult, Transport } from './transport.js';
import { KEEPALIVE_BUDGET_BYTES } from './transport.js';
import { spill, takeSpilled } from './spill.js';
import type { HealthCounters } from '../health.js';
import { warn } from '../safely.js';

export interface QueueOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

/** Body size of one batch when the page is leaving: small, so several fit the keepalive budget and one lost beacon loses little. */
export const LEAVING_BATCH_BYTES = 16_000;
/**
 * Bytes of encoded spans queued at most, whatever `maxQueueSize` says: spans are bounded in
 * number of attributes, not in their length, so a few huge values (a response body quoted in
 * an error) must not hold the page's memory while the collector is down.
 */
export const MAX_QUEUED_BYTES = 2_000_000;
/** Export requests in flight at most while the page is visible. */
const MAX_CONCURRENT_EXPORTS = 2;
/**
 * Body size of one batch while the page is visible: small enough that the requests in flight
 * all go as keepalive, since a navigation may follow any moment and cancels plain requests.
 */
const VISIBLE_BATCH_BYTES = KEEPALIVE_BUDGET_BYTES / MAX_CONCURRENT_EXPORTS;

/** The span processor plus what the page lifecycle needs from it. */
export interface ExportQueue extends SpanProcessor {
  readonly length: number;
  /**
   * The page is being hidden or left: hand every queued span to the browser right now, in
   * small batches, by keepalive while the budget lasts, then by beacon; what the browser
   * refuses is kept for the next page (spill.ts). Synchronous on purpose: after `pagehide`
   * returns there may be no later task.
   */
  sendLeaving(): void;
  /** Exports what is queued in the next task. */
  sendSoon(): void;
  /** Sends what an earlier page of this tab could not. */
  sendSpilled(): void;
}

interface Refused {
  body: string;
  count: number;
}

/**
 * Queues ended spans (redacted and encoded once) and exports them in batches. The queue is
 * bounded: when the collector is down or slow, new spans are dropped and counted, so memory
 * stays bounded and nothing waits on the network. A closure rather than a class, so its
 * private state minifies.
 */
export function createExportQueue(
  transport: Transport,
  { head, tail }: Envelope,
  options: QueueOptions,
  health: HealthCounters,
  redact: ((span: ReadableSpan) => ReadableSpan) | undefined,
): ExportQueue {
  const queue: { json: string; bytes: number }[] = [];
  let queuedBytes = 0;
  const inFlight = new Set<Promise<void>>();
  const overhead = utf8Length(head) + tail.length;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let warned = false;

  const drop = (count: number, why: string): void => {
    health.spansDropped += count;
    if (warned) return;
    warned = true;
    // One diagnostic for the page's lifetime: the counters tell the rest. Why, not the error,
    // which would quote what the span holds.
    warn(`spans dropped (${why}); further drops only counted`);
  };

  const cancelTimer = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };

  const schedule = (delay: number): void => {
    if (closed) return;
    if (timer !== undefined) {
      if (delay > 0) return;
      cancelTimer();
    }
    timer = setTimeout(() => {
      timer = undefined;
      while (queue.length > 0 && inFlight.size < MAX_CONCURRENT_EXPORTS) sendBatch();
    }, delay);
  };

  /** `spillable`: the body of a request sent as the page was hidden or left, kept for the next page if it fails. */
  const track = (result: Promise<SendResult>, count: number, spillable?: string): void => {
    const sent = result.then((outcome) => {
      if (outcome === 'ok' || outcome === 'beacon') {
        health.spansExported += count;
        if (outcome === 'beacon') health.beaconsSent++;
      } else {
        health.exportFailures++;
        // What a hidden page could not send waits for the next page, as what it could not even try does.
        const lost = spillable === undefined ? count : spill([{ body: spillable, count }], Date.now());
        if (lost > 0) drop(lost, `export failed: ${outcome}`);
      }
      inFlight.delete(sent);
      if (queue.length > 0 && spillable === undefined) schedule(options.scheduledDelayMillis);
    });
    inFlight.add(sent);
  };

  /** `refused` only as the page is hidden or left: it then takes what the browser would not. */
  function sendBatch(refused?: Refused[]): void {
    const maxBytes = refused ? LEAVING_BATCH_BYTES : VISIBLE_BATCH_BYTES;
    const batch: string[] = [];
    let bytes = overhead;
    while (queue.length > 0 && batch.length < options.maxExportBatchSize) {
      const next = queue[0];
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      batch.push(next.json);
      bytes += next.bytes;
      queuedBytes -= next.bytes;
      queue.shift();
    }
    if (batch.length === 0) return;
    const body = head + batch.join(',') + tail;
    if (!refused) return track(transport.send(body, bytes), batch.length);
    const pending = transport.sendLeaving(body, bytes);
    if (pending !== undefined) track(pending, batch.length, body);
    else refused.push({ body, count: batch.length });
  }

  const forceFlush = (): Promise<void> => {
    cancelTimer();
    while (queue.length > 0) sendBatch();
    // Promise.all takes the set's members as they are now: exports started later are not awaited.
    return Promise.all(inFlight).then(() => undefined);
  };

  return {
    get length() {
      return queue.length;
    },
    onStart() {},
    onEnd(span) {
      if (closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      let json: string;
      try {
        json = encodeSpan(redact === undefined ? span : redact(span));
      } catch {
        return drop(1, 'encoding failed');
      }
      const bytes = utf8Length(json) + 1;
      if (queue.length >= options.maxQueueSize || queuedBytes + bytes > MAX_QUEUED_BYTES) return drop(1, 'queue full');
      queuedBytes += bytes;
      queue.push({ json, bytes });
      schedule(queue.length >= options.maxExportBatchSize ? 0 : options.scheduledDelayMillis);
    },
    forceFlush,
    sendLeaving() {
      cancelTimer();
      const refused: Refused[] = [];
      while (queue.length > 0) sendBatch(refused);
      if (refused.length === 0) return;
      const lost = spill(refused, Date.now());
      if (lost > 0) drop(lost, 'unload quota spent');
    },
    sendSoon() {
      schedule(0);
    },
    sendSpilled() {
      for (const { body, count } of takeSpilled(Date.now())) track(transport.send(body, utf8Length(body)), count);
    },
    shutdown() {
      const flushed = forceFlush();
      closed = true;
      return flushed;
    },
  };
}
