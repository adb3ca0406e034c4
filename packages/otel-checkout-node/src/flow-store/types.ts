/**
 * What the flow store remembers about one flow between "redirect issued" and its callback
 * (or its stalled span). Times are milliseconds since the Unix epoch.
 */
export interface FlowRecord {
  /** The flow's `payment.create` span context: the parent of its callback and stalled spans. */
  traceId: string;
  spanId: string;
  traceFlags: number;
  tradeNo: string;
  provider?: string;
  method?: string;
  /** The flow's release (`checkout.release`), for its callback and stalled spans. */
  release?: string;
  /** The flow's canary cohort (`checkout.canary.cohort`), for its callback and stalled spans. */
  cohort?: string;
  /** When the redirect was issued (the first return/notify URL or pass-back was minted). */
  issuedAt: number;
  /**
   * The provider's raw status in the last notification that did not end the flow ("still
   * pending", or a status the table does not map), for its stalled span: a flow that stalls
   * after `WAIT_BUYER_PAY` was abandoned by the shopper, not lost by the provider. Absent until
   * such a notification came.
   */
  lastStatus?: string;
}

/** What `take` found for a trade number. */
export interface TakeResult {
  /** The flow's record, from the live entry or from its tombstone; absent when unknown. */
  record?: FlowRecord;
  /** A callback for this flow was already taken before (the provider retried). */
  duplicate: boolean;
  /** The flow was declared stalled (claimed by a sweeper) before this callback came. */
  late: boolean;
}

/** What `keepWaiting` found for a trade number. */
export interface WaitResult extends TakeResult {
  /** The flow was live and waits again, with a new deadline; nothing was taken. */
  waiting: boolean;
}

/** A flow handed to one sweeper under a lease. */
export interface ClaimedFlow {
  record: FlowRecord;
  /** How many times this flow has been claimed, this claim included. */
  claims: number;
  /**
   * A sweeper that claimed it before exported its stalled span (`markEmitted`) but did not
   * acknowledge it: this claim's span is a repeat. Absent from a store without `markEmitted`;
   * then a claim after the first counts as a repeat, although the sweeper before may have died
   * before its span was exported.
   */
  emitted?: boolean;
}

/** What the built-in stores report of themselves (`store.health()`). */
export interface FlowStoreHealth {
  /** Entries dropped to stay within the size bound (memory store). */
  evicted: number;
  /** Operations that failed or timed out (Redis store). */
  failures: number;
  /** False while the store is known to be unreachable. */
  available: boolean;
}

/**
 * Where flows wait for their callback. Every operation is atomic: with several processes
 * sharing one store, a flow is taken once and claimed by one sweeper at a time.
 */
export interface FlowStore {
  /**
   * Records a flow with its callback deadline (ms). A second put for the same trade number
   * and the same `payment.create` span keeps the first (minting several URLs is one redirect).
   * A put that lands after a `take` for its trade number found nothing (the write lagged behind
   * the provider's notification, on a store shared between processes) records the flow as
   * taken: when that take came at or after the record's `issuedAt` and at most 10 minutes before the put.
   * So does a `takeBySpan` of the record's own trace and span id that found nothing, at most 10
   * minutes before, whenever the flow was issued (a span id names one flow).
   */
  put(record: FlowRecord, deadline: number): Promise<void>;
  /**
   * Removes the flow (once) and leaves a tombstone, so duplicates and late callbacks are
   * recognised. For a trade number it does not know, it remembers the take for 10 minutes,
   * for a put that lags behind it (see `put`); a take while one is remembered is a duplicate.
   * A flow a sweeper has claimed is late; while its stalled span is not marked exported
   * (`markEmitted`) the take leaves it claimed, for its claimer's `ack` or, if that claimer died
   * before exporting, for the next claim: a late callback is not counted, so the flow's stalled
   * span must still come out.
   */
  take(tradeNo: string): Promise<TakeResult>;
  /**
   * Optional, for a "still pending" callback, which is progress, not the flow's end: a live flow
   * no sweeper has claimed stays live, due again `now` plus the time it was given at its put
   * (its deadline minus its `issuedAt`), and is returned with `waiting: true`. Anything else is
   * reported as `take` reports it, and left as it is: a claimed flow (late), a flow already
   * ended (duplicate, or late after stalled), an unknown one. Atomic, so a final notification
   * or a `payment.create` ending at the same moment finds the flow live. Without it the package
   * takes the flow and `put`s it back, which cannot tell whether anything took it in between.
   * `lastStatus`, when given and not empty, becomes the live record's `lastStatus`, which later
   * claims return; without one (or with `''`) the record keeps the status it had.
   */
  keepWaiting?(tradeNo: string, now: number, lastStatus?: string): Promise<WaitResult>;
  /**
   * Optional, for a callback that carries the flow's token but no trade number (many providers
   * send back only the pass-back or metadata field): `take` of the flow the token names, found by
   * its `payment.create` span (`traceId` and `spanId`, which the token carries) instead of its
   * trade number, for as long as the flow or its tombstone is kept. Only a flow whose record has
   * both ids is taken, atomically with finding it: a token never takes another flow, not even one
   * put for the same trade number since. For a span it does not know, it remembers the take for 10
   * minutes as `take` does (a put of that span's flow landing after it records the flow as taken,
   * whenever it was issued), and a take while one is remembered is a duplicate. Without it such a
   * callback cannot end its flow, which is then also reported stalled (counted in
   * `callbacksNotInStore`, and said once).
   */
  takeBySpan?(traceId: string, spanId: string): Promise<TakeResult>;
  /**
   * Optional, with `takeBySpan`: `keepWaiting` of the flow found as `takeBySpan` finds it, for a
   * "still pending" callback without a trade number; a span it does not know is left alone and
   * nothing is remembered. Without it, such a callback takes the flow with `takeBySpan` and puts
   * it back, as `keepWaiting`'s absence does.
   */
  keepWaitingBySpan?(traceId: string, spanId: string, now: number, lastStatus?: string): Promise<WaitResult>;
  /**
   * Optional, for a notification refused before the callback middleware (its body could not be
   * parsed) that carries the flow's token: the record of the flow the token names, found as
   * `takeBySpan` finds it (both ids; live, or in its tombstone), read only. Nothing changes: the
   * flow is not taken, no take is remembered, a live flow keeps waiting for the notification the
   * provider sends again. `undefined` when the store holds no such flow. The refused callback's
   * span then carries the flow's trade number, provider, method, release and cohort, and its
   * delay from the record's `issuedAt`; without it, only what the token says. Keep it as bounded
   * as `take`: the refusal's answer waits for it.
   */
  peekBySpan?(traceId: string, spanId: string): Promise<FlowRecord | undefined>;
  /**
   * Claims up to `limit` flows whose deadline (or previous lease) is before `now`, leasing each
   * for `leaseMs`: until then no other claimer gets it; if not acknowledged by then, it is claimed again.
   */
  claimExpired(now: number, limit: number, leaseMs: number): Promise<ClaimedFlow[]>;
  /**
   * Optional: records that the stalled spans of these claimed flows were exported, just before
   * `ack`; it touches the same flows `ack` would (see there). A sweeper that dies between the
   * two leaves flows whose next claim is then a repeat (`emitted`); one that dies before its
   * export leaves flows whose next span is not.
   */
  markEmitted?(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void>;
  /**
   * Marks claimed flows as emitted: removes them and leaves "stalled" tombstones. A flow put for
   * one of these trade numbers since the claim (a new payment under the same trade number) is
   * not claimed, and stays. `spanIds`, when given, are the claimed flows' span ids (in the same
   * order): a flow of another span id under one of these trade numbers (a new payment that
   * another sweeper claimed since) is not the one claimed, and stays too.
   */
  ack(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void>;
  /** Live flows: not yet taken (a late take leaves a claimed flow until its ack) or acknowledged. */
  size(): Promise<number>;
  /**
   * The store's own state, for a readiness probe or a dashboard; the package does not call
   * it (its counters are in the tracing handle's `health()`), so a custom store may leave it out.
   */
  health?(): FlowStoreHealth;
  /**
   * Optional, for a store that evicts flows to stay bounded: calls `listener` for each flow or
   * tombstone evicted from now on and returns what removes it. The flows count evictions in
   * the handle's `flowStoreEvictions` through it, and unsubscribe at shutdown.
   */
  addEvictionListener?(listener: () => void): () => void;
  /**
   * Optional, for a store that can tell it lost the flows waiting in it (the Redis store: a
   * restart without persistence, a flush, its keys evicted): calls `listener` once for each such
   * loss it notices from now on and returns what removes it. Those flows are never reported
   * stalled; the flows count the losses in the handle's `flowStoreResets`, and unsubscribe at shutdown.
   */
  addResetListener?(listener: () => void): () => void;
  /**
   * Optional: the store's own options it could not use and replaced by their defaults (said
   * through `diag` when it was made). The flows count them in the handle's `configProblems`.
   */
  readonly optionProblems?: readonly string[];
  close(): Promise<void>;
}
