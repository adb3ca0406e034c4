import { collectedNumber } from '../flows/option-numbers.js';
import { ORPHAN_TAKE_MS } from './orphan-take.js';
import type { ClaimedFlow, FlowRecord, FlowStore, FlowStoreHealth, TakeResult, WaitResult } from './types.js';

/** Options of the in-process flow store. */
export interface MemoryFlowStoreOptions {
  /** Most live flows (and, separately, tombstones) kept; the oldest are evicted and counted. Default 100000. */
  maxEntries?: number;
  /** How long tombstones are kept, ms; a flow not swept within this after its deadline is dropped, not reported. Default 48 hours. */
  retentionMs?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called for each evicted flow or tombstone (the flows count them in the handle's health). Default: none. */
  onEvict?: () => void;
}

interface LiveEntry {
  record: FlowRecord;
  deadline: number;
  /** When the flow is next claimable: its deadline, then the end of its current lease. */
  dueAt: number;
  claims: number;
  /** Its stalled span was exported by a sweeper that has not acknowledged it (yet). */
  emitted: boolean;
  /** The time it was given to wait at its put (deadline minus issuedAt), ms; a "still pending" callback restarts it. */
  wait: number;
  /** Callbacks that took it while it was claimed and not yet exported (late ones; see `take`). */
  takes: number;
}

/** Takes of a trade number (or a span) the store did not know, remembered for a put that lags behind them. */
interface OrphanTake {
  /** The last such take, ms since the epoch. */
  takenAt: number;
  takes: number;
}

/** Takes by span (`takeBySpan`) of a flow the store did not know; keyed by span id. */
interface OrphanSpanTake extends OrphanTake {
  traceId: string;
}

interface Tombstone {
  record: FlowRecord;
  /** Callbacks that took the flow: 0 for a flow declared stalled and not called back yet. */
  takes: number;
  stalled: boolean;
  expiresAt: number;
}

interface DueItem {
  dueAt: number;
  tradeNo: string;
}

const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_RETENTION_MS = 48 * 3600 * 1000;

/**
 * The default flow store: one process, bounded, no I/O. Claims come from a min-heap of due
 * times with lazy deletion (stale heap items are skipped), so a sweep costs O(k log n).
 */
export class MemoryFlowStore implements FlowStore {
  private readonly live = new Map<string, LiveEntry>();
  private readonly tombs = new Map<string, Tombstone>();
  private readonly orphanTakes = new Map<string, OrphanTake>();
  /** Span id → trade number of each flow held, live or in its tombstone, for `takeBySpan`. */
  private readonly bySpan = new Map<string, string>();
  private readonly orphanSpanTakes = new Map<string, OrphanSpanTake>();
  private readonly heap: DueItem[] = [];
  private readonly maxEntries: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  // `onEvict` first, then the listeners added later (the flows' counter).
  private readonly evictionListeners = new Set<() => void>();
  private evicted = 0;

  readonly optionProblems: readonly string[];

  constructor(options: MemoryFlowStoreOptions = {}) {
    const problems: string[] = [];
    this.maxEntries = collectedNumber(options.maxEntries, 'count', DEFAULT_MAX_ENTRIES, 'MemoryFlowStore maxEntries', problems);
    this.retentionMs = collectedNumber(options.retentionMs, 'positive', DEFAULT_RETENTION_MS, 'MemoryFlowStore retentionMs', problems);
    this.optionProblems = problems;
    // Read when called, not when made: a clock replaced afterwards (a test's) is the one used.
    this.now = options.now ?? (() => Date.now());
    if (typeof options.onEvict === 'function') this.evictionListeners.add(options.onEvict);
  }

  put(record: FlowRecord, deadline: number): Promise<void> {
    const existing = this.live.get(record.tradeNo);
    if (existing !== undefined && existing.record.spanId === record.spanId) return Promise.resolve();
    this.live.delete(record.tradeNo);
    if (existing !== undefined) this.unindex(existing.record);
    const orphan = this.orphanTake(record.tradeNo);
    this.orphanTakes.delete(record.tradeNo);
    // In the millisecond of its issue too: nothing can be called back before its URL exists.
    const byTradeNo = orphan !== undefined && orphan.takenAt >= record.issuedAt ? orphan.takes : 0;
    // A take by its own span is its own callback, whenever the flow was issued.
    const bySpan = this.orphanSpanTake(record.traceId, record.spanId)?.takes ?? 0;
    if (bySpan > 0) this.orphanSpanTakes.delete(record.spanId);
    if (byTradeNo + bySpan > 0) {
      // Its callback came first: the flow is recorded as taken, as if the put had landed in time.
      this.bury(record.tradeNo, { record, takes: byTradeNo + bySpan, stalled: false, expiresAt: this.now() + this.retentionMs });
      this.index(record);
      return Promise.resolve();
    }
    const tomb = this.tombs.get(record.tradeNo);
    this.tombs.delete(record.tradeNo);
    if (tomb !== undefined) this.unindex(tomb.record);
    this.live.set(record.tradeNo, { record, deadline, dueAt: deadline, claims: 0, emitted: false, wait: Math.max(0, deadline - record.issuedAt), takes: 0 });
    this.index(record);
    this.push({ dueAt: deadline, tradeNo: record.tradeNo });
    this.compact();
    while (this.live.size > this.maxEntries) {
      const oldest = this.live.keys().next().value as string;
      const evicted = this.live.get(oldest)!;
      this.live.delete(oldest);
      this.unindex(evicted.record);
      this.countEviction();
    }
    return Promise.resolve();
  }

  take(tradeNo: string): Promise<TakeResult> {
    const entry = this.live.get(tradeNo);
    if (entry !== undefined) {
      if (entry.claims > 0 && !entry.emitted) {
        // Claimed, its stalled span not exported yet: the callback is late (left out of the
        // counts), so the flow stays for its claimer to ack, or, if that claimer died before its
        // export, for the next claim once the lease lapses. Taken away here, it would count nowhere.
        const duplicate = entry.takes > 0;
        entry.takes += 1;
        return Promise.resolve({ record: entry.record, duplicate, late: true });
      }
      this.live.delete(tradeNo);
      const late = entry.claims > 0;
      this.bury(tradeNo, { record: entry.record, takes: 1, stalled: late, expiresAt: this.now() + this.retentionMs });
      return Promise.resolve({ record: entry.record, duplicate: false, late });
    }
    const tomb = this.tomb(tradeNo);
    if (tomb === undefined) {
      // A take already remembered for it makes this one a retry of that notification: a
      // duplicate, or two copies before the write landed would both count as the flow's end.
      const duplicate = this.orphanTake(tradeNo) !== undefined;
      this.rememberOrphanTake(tradeNo);
      return Promise.resolve({ duplicate, late: false });
    }
    const duplicate = tomb.takes > 0;
    tomb.takes += 1;
    return Promise.resolve({ record: tomb.record, duplicate, late: tomb.stalled });
  }

  takeBySpan(traceId: string, spanId: string): Promise<TakeResult> {
    const tradeNo = this.tradeNoOf(traceId, spanId);
    if (tradeNo !== undefined) return this.take(tradeNo);
    // A flow of this span id is held, but it is another trace's: nothing to remember (its put came already).
    if (this.bySpan.has(spanId)) return Promise.resolve({ duplicate: false, late: false });
    // Not known (yet): remembered for a put of this flow that lags behind, as `take` remembers a trade number.
    const orphan = this.orphanSpanTake(traceId, spanId);
    this.orphanSpanTakes.delete(spanId);
    this.orphanSpanTakes.set(spanId, { traceId, takenAt: this.now(), takes: (orphan?.takes ?? 0) + 1 });
    this.forgetOldOrphans(this.orphanSpanTakes);
    return Promise.resolve({ duplicate: orphan !== undefined, late: false });
  }

  peekBySpan(traceId: string, spanId: string): Promise<FlowRecord | undefined> {
    const tradeNo = this.tradeNoOf(traceId, spanId);
    if (tradeNo === undefined) return Promise.resolve(undefined);
    return Promise.resolve(this.live.get(tradeNo)?.record ?? this.tomb(tradeNo)?.record);
  }

  keepWaitingBySpan(traceId: string, spanId: string, now: number, lastStatus?: string): Promise<WaitResult> {
    const tradeNo = this.tradeNoOf(traceId, spanId);
    if (tradeNo === undefined) return Promise.resolve({ duplicate: false, late: false, waiting: false });
    return this.keepWaiting(tradeNo, now, lastStatus);
  }

  keepWaiting(tradeNo: string, now: number, lastStatus?: string): Promise<WaitResult> {
    const entry = this.live.get(tradeNo);
    if (entry !== undefined) {
      if (entry.claims > 0) return Promise.resolve({ record: entry.record, duplicate: entry.takes > 0, late: true, waiting: false });
      const deadline = now + entry.wait;
      // An empty status is none, as in Redis (where it stands for none): the last one stays.
      const record = lastStatus === undefined || lastStatus === '' ? entry.record : { ...entry.record, lastStatus };
      // Re-inserted, so the live map's insertion order (what eviction drops first) stays oldest first.
      this.live.delete(tradeNo);
      this.live.set(tradeNo, { ...entry, record, deadline, dueAt: deadline });
      this.push({ dueAt: deadline, tradeNo });
      this.compact();
      return Promise.resolve({ record: entry.record, duplicate: false, late: false, waiting: true });
    }
    const tomb = this.tomb(tradeNo);
    if (tomb === undefined) return Promise.resolve({ duplicate: false, late: false, waiting: false });
    return Promise.resolve({ record: tomb.record, duplicate: tomb.takes > 0, late: tomb.stalled, waiting: false });
  }

  claimExpired(now: number, limit: number, leaseMs: number): Promise<ClaimedFlow[]> {
    const claimed: ClaimedFlow[] = [];
    const releasedAfter: DueItem[] = [];
    while (claimed.length < limit && this.heap.length > 0 && this.heap[0].dueAt <= now) {
      const item = this.pop()!;
      const entry = this.live.get(item.tradeNo);
      if (entry === undefined || entry.dueAt !== item.dueAt) continue;
      if (now - entry.deadline > this.retentionMs) {
        // Nobody swept it within the retention: too old to report as "stalled now".
        this.live.delete(item.tradeNo);
        this.unindex(entry.record);
        continue;
      }
      entry.claims++;
      entry.dueAt = now + leaseMs;
      releasedAfter.push({ dueAt: entry.dueAt, tradeNo: item.tradeNo });
      claimed.push({ record: entry.record, claims: entry.claims, emitted: entry.emitted });
    }
    for (const item of releasedAfter) this.push(item);
    this.compact();
    return Promise.resolve(claimed);
  }

  markEmitted(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void> {
    tradeNos.forEach((tradeNo, i) => {
      const entry = this.claimedEntry(tradeNo, spanIds?.[i]);
      if (entry !== undefined) entry.emitted = true;
    });
    return Promise.resolve();
  }

  ack(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void> {
    const expiresAt = this.now() + this.retentionMs;
    for (const [i, tradeNo] of tradeNos.entries()) {
      const entry = this.claimedEntry(tradeNo, spanIds?.[i]);
      if (entry === undefined) continue;
      this.live.delete(tradeNo);
      // Callbacks that came while it was claimed (late) make a later copy a duplicate.
      this.bury(tradeNo, { record: entry.record, takes: entry.takes, stalled: true, expiresAt });
    }
    return Promise.resolve();
  }

  /**
   * The live flow of `tradeNo` if it is claimed (and is the flow of `spanId`, when given): a new
   * flow put for the trade number since the claim has no claims, or another span id.
   */
  private claimedEntry(tradeNo: string, spanId: string | undefined): LiveEntry | undefined {
    const entry = this.live.get(tradeNo);
    if (entry === undefined || entry.claims === 0) return undefined;
    return spanId === undefined || entry.record.spanId === spanId ? entry : undefined;
  }

  size(): Promise<number> {
    return Promise.resolve(this.live.size);
  }

  health(): FlowStoreHealth {
    return { evicted: this.evicted, failures: 0, available: true };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private orphanTake(tradeNo: string): OrphanTake | undefined {
    const orphan = this.orphanTakes.get(tradeNo);
    return orphan !== undefined && orphan.takenAt + ORPHAN_TAKE_MS > this.now() ? orphan : undefined;
  }

  private rememberOrphanTake(tradeNo: string): void {
    const takes = (this.orphanTake(tradeNo)?.takes ?? 0) + 1;
    this.orphanTakes.delete(tradeNo);
    this.orphanTakes.set(tradeNo, { takenAt: this.now(), takes });
    this.forgetOldOrphans(this.orphanTakes);
  }

  private orphanSpanTake(traceId: string, spanId: string): OrphanSpanTake | undefined {
    const orphan = this.orphanSpanTakes.get(spanId);
    return orphan !== undefined && orphan.traceId === traceId && orphan.takenAt + ORPHAN_TAKE_MS > this.now() ? orphan : undefined;
  }

  /** Oldest first: drops expired orphan takes, and the oldest beyond the bound (they are not flows, so not counted as evictions). */
  private forgetOldOrphans(orphans: Map<string, OrphanTake>): void {
    const expiredBefore = this.now() - ORPHAN_TAKE_MS;
    for (const [key, orphan] of orphans) {
      if (orphan.takenAt > expiredBefore && orphans.size <= this.maxEntries) break;
      orphans.delete(key);
    }
  }

  /** The trade number of the flow of this trace and span id, live or in its tombstone; `undefined` when the store holds no such flow. */
  private tradeNoOf(traceId: string, spanId: string): string | undefined {
    const tradeNo = this.bySpan.get(spanId);
    if (tradeNo === undefined) return undefined;
    const held = this.live.get(tradeNo)?.record ?? this.tomb(tradeNo)?.record;
    // The record decides, not the index: a token never takes another flow, nor one of another trace.
    return held !== undefined && held.spanId === spanId && held.traceId === traceId ? tradeNo : undefined;
  }

  private index(record: FlowRecord): void {
    this.bySpan.delete(record.spanId);
    this.bySpan.set(record.spanId, record.tradeNo);
    // Every removal of a flow or tombstone unindexes it; this only guards against a path that missed one.
    if (this.bySpan.size > this.live.size + this.tombs.size + 1024) {
      this.bySpan.clear();
      for (const [tradeNo, entry] of this.live) this.bySpan.set(entry.record.spanId, tradeNo);
      for (const [tradeNo, tomb] of this.tombs) this.bySpan.set(tomb.record.spanId, tradeNo);
    }
  }

  /** Drops the index entry of a record that left the store (as a live flow or a tombstone), unless the store still holds it. */
  private unindex(record: FlowRecord): void {
    if (this.bySpan.get(record.spanId) !== record.tradeNo) return;
    const held = this.live.get(record.tradeNo)?.record ?? this.tombs.get(record.tradeNo)?.record;
    if (held?.spanId === record.spanId) return;
    this.bySpan.delete(record.spanId);
  }

  private tomb(tradeNo: string): Tombstone | undefined {
    const tomb = this.tombs.get(tradeNo);
    if (tomb !== undefined && tomb.expiresAt <= this.now()) {
      this.tombs.delete(tradeNo);
      this.unindex(tomb.record);
      return undefined;
    }
    return tomb;
  }

  private bury(tradeNo: string, tomb: Tombstone): void {
    const replaced = this.tombs.get(tradeNo);
    this.tombs.delete(tradeNo);
    this.tombs.set(tradeNo, tomb);
    if (replaced !== undefined) this.unindex(replaced.record);
    // Insertion order is expiry order (one retention for all), so expired ones sit at the front.
    const now = this.now();
    for (const [key, t] of this.tombs) {
      if (t.expiresAt > now && this.tombs.size <= this.maxEntries) break;
      this.tombs.delete(key);
      this.unindex(t.record);
      if (t.expiresAt > now) this.countEviction();
    }
  }

  /** Calls `listener` for each eviction from now on, besides `onEvict`; returns what removes it. */
  addEvictionListener(listener: () => void): () => void {
    this.evictionListeners.add(listener);
    return () => this.evictionListeners.delete(listener);
  }

  private countEviction(): void {
    this.evicted++;
    for (const listener of this.evictionListeners) {
      try {
        listener();
      } catch {
        // a counting hook must not break the store
      }
    }
  }

  /** Rebuilds the heap when stale items (taken or re-leased flows) outnumber live ones. */
  private compact(): void {
    if (this.heap.length <= 2 * this.live.size + 1024) return;
    this.heap.length = 0;
    for (const [tradeNo, entry] of this.live) this.push({ dueAt: entry.dueAt, tradeNo });
  }

  private push(item: DueItem): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].dueAt <= item.dueAt) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): DueItem | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].dueAt < heap[left].dueAt ? right : left;
      if (heap[child].dueAt >= last.dueAt) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
