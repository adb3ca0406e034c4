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

/** A flow handed to one sweeper under a lease. */
export interface ClaimedFlow {
  record: FlowRecord;
  /** How many times this flow has been claimed, this claim included; above 1 means a repeat. */
  claims: number;
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
   */
  put(record: FlowRecord, deadline: number): Promise<void>;
  /** Removes the flow (once) and leaves a tombstone, so duplicates and late callbacks are recognised. */
  take(tradeNo: string): Promise<TakeResult>;
  /**
   * Optional: puts back a flow that one `take` returned, with a new deadline, unless another
   * `take` came for its trade number since, it was declared stalled, or a new flow replaced
   * it; resolves with whether it was put back. A "still pending" callback gives its flow back
   * this way, atomically, so the final notification, if it came meanwhile, is not followed
   * by a stalled span. Without it the package uses `put`, which cannot tell.
   */
  reopen?(record: FlowRecord, deadline: number): Promise<boolean>;
  /**
   * Claims up to `limit` flows whose deadline (or previous lease) is before `now`, leasing each
   * for `leaseMs`: until then no other claimer gets it; if not acknowledged by then, it is claimed again.
   */
  claimExpired(now: number, limit: number, leaseMs: number): Promise<ClaimedFlow[]>;
  /** Marks claimed flows as emitted: removes them and leaves "stalled" tombstones. */
  ack(tradeNos: readonly string[]): Promise<void>;
  /** Live (not yet taken or acknowledged) flows. */
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
   * Optional: the store's own options it could not use and replaced by their defaults (said
   * through `diag` when it was made). The flows count them in the handle's `configProblems`.
   */
  readonly optionProblems?: readonly string[];
  close(): Promise<void>;
}
