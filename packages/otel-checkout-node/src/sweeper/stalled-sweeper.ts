import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, Tracer } from '@opentelemetry/api';
import {
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_PROVIDER_STATUS,
  ATTR_PAYMENT_STALLED_NOTIFIED,
  ATTR_PAYMENT_STAGE,
  ATTR_PAYMENT_STALLED_REPEAT,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_STAGE_VALUE_STALLED,
  SPAN_NAME_PAYMENT_CALLBACK_STALLED,
} from '@otel-checkout/semantic-conventions/incubating';
import { errorSummary } from '../error-summary.js';
import type { HealthCounters } from '../health.js';
import { flowParentContext } from '../flows/parent-context.js';
import { addRecordedFlowAttributes } from '../flows/record-attributes.js';
import { HEALTH_FLOW_STORE_FAILURES, HEALTH_STALLED_EMITTED, HEALTH_STALLED_REPEATS } from '../flows/flow-health.js';
import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { checkedNumber } from '../flows/option-numbers.js';
import { cutStatus } from '../payments/map-provider-status.js';
import { settlesWithin } from '../setup/with-timeout.js';
import type { ClaimedFlow, FlowStore } from '../flow-store/types.js';

/** Options of the stalled-callback sweeper. */
export interface StalledSweeperOptions {
  /** Pause between sweeps when nothing is (or no more is) expired, ms. Default 5000. */
  intervalMs?: number;
  /** Flows claimed per batch, a whole number of 1 or more; keep it below the span processor's queue size. Default 256. */
  batchSize?: number;
  /** Lease on claimed flows, ms: another sweeper re-claims a flow not acknowledged by then. Default 60000. */
  leaseMs?: number;
  /** Emission ceiling when no `flush` is available to pace on, spans per second. Default 2000. */
  maxSpansPerSecond?: number;
}

export interface StalledSweeperDependencies {
  store: FlowStore;
  tracer: Tracer;
  health: HealthCounters;
  /**
   * Resolves when the spans handed to the exporter so far have been exported (e.g. the
   * provider's `forceFlush`). The sweeper waits for it after each batch, so it never emits
   * faster than the exporter accepts.
   */
  flush?: () => Promise<void>;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const ERROR_BACKOFF_MS = 1000;

/**
 * Finds flows whose callback did not come before their deadline and emits
 * `payment.callback.stalled` for each, into the flow's trace, then acknowledges them.
 * Several sweepers may share one store: claims are leased, so each flow goes to one of them;
 * a flow whose claimer died before acknowledging is claimed again, and its span is marked as a
 * repeat when that claimer had exported one.
 */
export class StalledSweeper {
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly minBatchMs: number;
  private readonly now: () => number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The last batch whose spans were emitted but whose `markEmitted`/`ack` failed (the store went
   * away in between). Acknowledged first thing in the next round: the flows stay leased to this
   * sweeper meanwhile, so a store back within the lease never lets another sweeper claim them
   * again and emit them a second time, unmarked (nothing recorded their export), counted twice.
   */
  private unacknowledged: { tradeNos: string[]; spanIds: string[]; claimedAt: number } | undefined;

  constructor(
    options: StalledSweeperOptions,
    private readonly deps: StalledSweeperDependencies,
  ) {
    const { health } = deps;
    const opts: StalledSweeperOptions = typeof options === 'object' && options !== null ? options : {};
    this.intervalMs = checkedNumber(opts.intervalMs, 'positive', 5000, 'flows.sweeper.intervalMs', health);
    // 1 or more, floored: a fraction below 1 would claim nothing and silently switch stalled detection off.
    this.batchSize = checkedNumber(opts.batchSize, 'count', 256, 'flows.sweeper.batchSize', health);
    this.leaseMs = checkedNumber(opts.leaseMs, 'positive', 60_000, 'flows.sweeper.leaseMs', health);
    this.minBatchMs = (1000 * this.batchSize) / checkedNumber(opts.maxSpansPerSecond, 'positive', 2000, 'flows.sweeper.maxSpansPerSecond', health);
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in progress is emitted and acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    this.interrupt();
    await this.loop;
    this.loop = undefined;
    // One last try for a batch the store could not acknowledge (bounded by the store's timeout).
    await this.acknowledgeLeftover().catch(() => undefined);
  }

  /**
   * Claims, emits and acknowledges expired flows until none is left; returns how many were
   * emitted. What `start()` runs on a timer, for callers that drive sweeping themselves.
   */
  async sweepOnce(): Promise<number> {
    await this.acknowledgeLeftover();
    let emitted = 0;
    for (;;) {
      const started = this.now();
      const claimed = await this.deps.store.claimExpired(started, this.batchSize, this.leaseMs);
      if (claimed.length === 0) return emitted;
      for (const flow of claimed) this.emit(flow);
      emitted += claimed.length;
      await this.pace(started);
      const tradeNos = claimed.map((flow) => flow.record.tradeNo);
      // The span ids name the flows claimed, not a new payment under the same trade number.
      const spanIds = claimed.map((flow) => flow.record.spanId);
      const batch = { tradeNos, spanIds, claimedAt: started };
      this.unacknowledged = batch;
      await this.acknowledge(batch);
      this.unacknowledged = undefined;
      if (claimed.length < this.batchSize || (!this.running && this.loop !== undefined)) return emitted;
    }
  }

  private async acknowledge({ tradeNos, spanIds }: { tradeNos: string[]; spanIds: string[] }): Promise<void> {
    // Exported, not yet acknowledged: dying now leaves flows whose next span is a repeat.
    await this.deps.store.markEmitted?.(tradeNos, spanIds);
    await this.deps.store.ack(tradeNos, spanIds);
  }

  private async acknowledgeLeftover(): Promise<void> {
    const leftover = this.unacknowledged;
    if (leftover === undefined) return;
    try {
      await this.acknowledge(leftover);
      this.unacknowledged = undefined;
    } catch (error) {
      // Past its lease another sweeper may claim the flows anyway: it no longer holds up new claims.
      if (this.now() - leftover.claimedAt >= this.leaseMs) this.unacknowledged = undefined;
      throw error;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.intervalMs;
      try {
        await this.sweepOnce();
      } catch (error) {
        this.deps.health.increment(HEALTH_FLOW_STORE_FAILURES);
        this.deps.health.warnOnce('sweeper-store', 'stalled sweeper cannot reach the flow store; retrying', error);
        wait = Math.min(this.intervalMs, ERROR_BACKOFF_MS);
      }
      if (this.running) await this.sleep(wait);
    }
  }

  private emit({ record, claims, emitted }: ClaimedFlow): void {
    // A repeat is a flow whose stalled span an earlier claimer exported; a store that cannot
    // say so counts every later claim as one.
    const repeat = emitted ?? claims > 1;
    try {
      const attributes: Attributes = {
        [ATTR_PAYMENT_STAGE]: PAYMENT_STAGE_VALUE_STALLED,
        [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_STALLED,
        [ATTR_PAYMENT_TRADE_NO]: record.tradeNo,
      };
      if (record.provider !== undefined) attributes[ATTR_PAYMENT_PROVIDER] = record.provider;
      addRecordedFlowAttributes(attributes, record);
      // What the provider last said, when it said something that was not the end: a flow that
      // stalls after "waiting for the buyer" was abandoned, not lost. Read back from a store, so checked.
      const lastStatus: unknown = record.lastStatus;
      if (typeof lastStatus === 'string' && lastStatus !== '') {
        attributes[ATTR_PAYMENT_STALLED_NOTIFIED] = true;
        attributes[ATTR_PAYMENT_PROVIDER_STATUS] = cutStatus(lastStatus);
      }
      if (repeat) attributes[ATTR_PAYMENT_STALLED_REPEAT] = true;
      const span = this.deps.tracer.startSpan(
        SPAN_NAME_PAYMENT_CALLBACK_STALLED,
        { kind: SpanKind.INTERNAL, startTime: record.issuedAt, attributes },
        flowParentContext(record),
      );
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'no final callback before the deadline' });
      span.end(this.now());
      this.deps.health.increment(HEALTH_STALLED_EMITTED);
      if (repeat) this.deps.health.increment(HEALTH_STALLED_REPEATS);
    } catch (error) {
      // The flow is acknowledged all the same (it would fail again at every lease), so its stalled
      // span is lost: counted, or nothing would tell that a flow went uncounted.
      this.deps.health.increment(HEALTH_HOOK_ERRORS);
      diag.error(`@otel-checkout/node: emitting a stalled span failed: ${errorSummary(error)}`);
    }
  }

  /** Waits until the exporter took the batch (or, without a flush, for the rate ceiling). */
  private async pace(batchStarted: number): Promise<void> {
    if (this.deps.flush !== undefined) {
      const flush = this.deps.flush;
      const flushed = Promise.resolve()
        .then(() => flush())
        .catch((error: unknown) => diag.debug(`@otel-checkout/node: flush while sweeping failed: ${errorSummary(error)}`));
      // Within half the lease: the batch is acknowledged before another sweeper may claim it
      // again, so a slow exporter never makes two live sweepers emit the same flows unmarked.
      await settlesWithin(flushed, this.leaseMs / 2);
      return;
    }
    const rest = this.minBatchMs - (this.now() - batchStarted);
    if (rest > 0) await this.sleep(rest);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }

  private interrupt(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    this.wake = undefined;
  }
}
