import type { Tracer } from '@opentelemetry/api';
import type { HealthCounters } from '../health.js';
import { beginCallback, beginRefusedCallback } from '../callback/callback-core.js';
import type { CallbackOptions, CallbackScope } from '../callback/types.js';
import type { RequestView } from '../http/request-view.js';
import { MemoryFlowStore } from '../flow-store/memory-flow-store.js';
import type { FlowRecord, FlowStore, TakeResult } from '../flow-store/types.js';
import { StalledSweeper } from '../sweeper/stalled-sweeper.js';
import { flowTokenKeyProblems, FlowTokenSigner } from '../token/flow-token-signer.js';
import type { FlowTokenVerifyResult } from '../token/types.js';
import { PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY } from '@otel-checkout/semantic-conventions/incubating';
import { deadlineSeconds } from './deadlines.js';
import {
  HEALTH_FLOW_STORE_EVICTIONS,
  HEALTH_FLOW_STORE_FAILURES,
  HEALTH_FLOW_STORE_FALLBACKS,
  HEALTH_FLOW_STORE_RESETS,
  HEALTH_FLOWS_WITHOUT_TRADE_NO,
  HEALTH_TOKENS_MINTED,
  HEALTH_TOKENS_REJECTED,
} from './flow-health.js';
import { HEALTH_CONFIG_PROBLEMS } from '../health-names.js';
import { errorSummary } from '../error-summary.js';
import { checkedNumber, numberProblem } from './option-numbers.js';
import type { FlowDeadlineRule, FlowDeadlines, FlowsOptions } from './types.js';
import { reportUnknownOptions } from '../option-names.js';
import type { OptionNames } from '../option-names.js';
import type { StalledSweeperOptions } from '../sweeper/stalled-sweeper.js';
import type { FlowTokenKey, FlowTokenKeys } from '../token/types.js';
import { withTokenParam } from './url-token.js';

/**
 * The seam between the tracing setup / flow API and the cross-redirect machinery (flow
 * tokens, flow store, stalled sweeper). The setup calls `createFlows` once and keeps the
 * result; `payments.returnUrl/notifyUrl/passback` delegate to it, and the callback and
 * verify middleware find it through the runtime.
 */

export type { FlowsOptions } from './types.js';

/** The context of one flow's `payment.create` span, plus what the store needs to know. */
export interface FlowContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  tradeNo?: string;
  provider?: string;
  method?: string;
  /** The flow's release and canary cohort, remembered so its callback and stalled spans carry them. */
  release?: string;
  cohort?: string;
}

export interface FlowDependencies {
  tracer: Tracer;
  health: HealthCounters;
  /**
   * Resolves once spans ended so far are exported (the provider's `forceFlush`). The stalled
   * sweeper waits for it between batches so it never outruns the exporter. Default: none
   * (the sweeper then keeps to `sweeper.maxSpansPerSecond`).
   */
  flush?: () => Promise<void>;
}

/** A flow as its token names it: its `payment.create` span. */
export interface FlowSpan {
  traceId: string;
  spanId: string;
}

/** Where a token is used; each use has its own maximum age. */
export type FlowTokenUse = 'callback' | 'return';

export interface Flows {
  /** Appends the flow token to a return URL given to the provider; records "redirect issued". */
  returnUrl(flow: FlowContext, url: string): string;
  /** Appends the flow token to a notify (callback) URL; records "redirect issued". */
  notifyUrl(flow: FlowContext, url: string): string;
  /** A token for the provider's pass-back/metadata field; records "redirect issued". */
  passback(flow: FlowContext): string;
  /**
   * The flow ended at `payment.create` (a final outcome there: the provider answered at once,
   * or the integration failed): once the store has recorded it, takes it out, leaving the
   * tombstone, so it is never reported stalled and a callback that still comes is a duplicate.
   * Resolves true when the flow had already ended before (its callback or its stalled span
   * took it first), false otherwise; never rejects. Undefined when the store never held the
   * flow (no URL was minted, no trade number, no store): then there is nothing to wait for.
   */
  complete(flow: FlowContext): Promise<boolean> | undefined;
  /**
   * A callback said the payment is still pending (or gave a status the table does not map):
   * the flow stays in the store, due again from now, so it waits for its final notification;
   * `lastStatus`, the provider's raw status, is kept for the stalled span. Resolves with what
   * the store found, as `take` does; rejects when the store fails (the caller counts it, as
   * for `take`).
   */
  keepWaiting(tradeNo: string, lastStatus?: string): Promise<TakeResult>;
  /**
   * A callback with a genuine flow token and no trade number ended its flow: takes the flow the
   * token names from the store, found by its `payment.create` span (trace and span id), as a
   * callback with a trade number takes it. Resolves with what the store found; `undefined` when
   * there is no store or it cannot find flows by span (a custom store without `takeBySpan`).
   * Rejects when the store fails (the caller counts it, as for `take`).
   */
  takeBySpan(flow: FlowSpan): Promise<TakeResult | undefined>;
  /** `keepWaiting` of the flow a token names, found as `takeBySpan` finds it; `undefined` as there. */
  keepWaitingBySpan(flow: FlowSpan, lastStatus?: string): Promise<TakeResult | undefined>;
  /**
   * The record of the flow a token names, found as `takeBySpan` finds it, read only: the flow is
   * neither ended nor changed (a refused notification leaves it waiting for the provider's
   * retry). `undefined` when the store does not hold it, or there is no store or it cannot read a
   * flow by span (a custom store without `peekBySpan`). Rejects when the store fails (the caller
   * counts it, as for `take`).
   */
  peekBySpan(flow: FlowSpan): Promise<FlowRecord | undefined>;
  /** Starts background work (the stalled sweeper) when configured. */
  start(): void;
  /** Stops background work. */
  shutdown(): Promise<void>;
  /** Verifies a token for a use (maximum age per use); never throws. Rejections are counted. */
  verifyToken(token: unknown, use: FlowTokenUse): FlowTokenVerifyResult;
  /** Starts the `payment.callback` span of a provider callback (the callback middleware's core). */
  beginCallback(view: RequestView, options: CallbackOptions): Promise<CallbackScope>;
  /**
   * Starts the `payment.callback` span of a provider callback refused before the callback
   * middleware (by `error`); resolves once the flow its token names was read from the store
   * (bounded by the store's timeout), never rejects.
   */
  beginRefusedCallback(view: RequestView, options: CallbackOptions, error: unknown): Promise<CallbackScope>;
  /** The query parameter that carries tokens. */
  readonly tokenParam: string;
  /** The flow store, when one is configured. */
  readonly store: FlowStore | undefined;
  /** Resolves when every flow handed to the store (or completed) so far is written or has failed (each bounded by the store's timeout). */
  whenRecorded(): Promise<void>;
  /**
   * A take for a flow whose end was decided (a final callback, or `payment.create` ending final)
   * failed because the store could not be reached: it is tried again (by trade number, or for a
   * callback without one by the flow's span, as `takeBySpan`) until the store answers
   * (with a backoff, for at most an hour), so that the flow is ended there too and not also
   * reported stalled once the store is back.
   */
  deferTake(flow: string | FlowSpan): void;
  /** Tries the deferred takes now (the package also does on its own); resolves when this attempt is over. */
  retryDeferredTakes(): Promise<void>;
}

const DEFAULT_TOKEN_PARAM = 'otc_flow';
/** Most takes waiting for the store to come back; more are given up (and counted). */
const MAX_DEFERRED_TAKES = 10_000;
/** How long a take waits for the store to come back before it is given up (and counted), ms. */
const DEFERRED_TAKE_MAX_AGE_MS = 3600_000;
/** Pause before the first retry of deferred takes, doubled after each failed round up to the longest, ms. */
const DEFERRED_TAKE_FIRST_RETRY_MS = 250;
const DEFERRED_TAKE_LONGEST_RETRY_MS = 5000;
/**
 * Create spans remembered per kind of record ("put in the store", "counted without a trade
 * number"), so a flow that mints several URLs is put once and counted once.
 */
const RECENTLY_SEEN_LIMIT = 10_000;

/** Adds `spanId` to a bounded set; false when it was already there. */
function firstSighting(seen: Set<string>, spanId: string): boolean {
  if (seen.has(spanId)) return false;
  seen.add(spanId);
  if (seen.size > RECENTLY_SEEN_LIMIT) seen.delete(seen.values().next().value as string);
  return true;
}

/** A take tried again until the store answers (see `deferTake`). */
interface DeferredTake {
  /** When it first failed, ms since the epoch. */
  since: number;
  take: (store: FlowStore) => Promise<unknown>;
}

/** What the store was asked to record for one `payment.create` span. */
interface RecordedFlow {
  tradeNo: string;
  /** Settles (never rejects) when the store has recorded the flow or failed to. */
  recorded: Promise<void>;
}

export function createFlows(options: FlowsOptions | undefined, deps: FlowDependencies): Flows {
  const { health } = deps;
  const opts: FlowsOptions = checkedFlowsOptions(options, health);
  const tokenParam = opts.tokenParam ?? DEFAULT_TOKEN_PARAM;
  const skew = checkedNumber(opts.clockSkewSeconds, 'nonNegative', 60, 'flows.clockSkewSeconds', health);
  const maxAge: Record<FlowTokenUse, number> = {
    callback: checkedNumber(opts.callbackMaxAgeSeconds, 'nonNegative', 48 * 3600, 'flows.callbackMaxAgeSeconds', health),
    return: checkedNumber(opts.returnMaxAgeSeconds, 'nonNegative', 1800, 'flows.returnMaxAgeSeconds', health),
  };
  let signer: FlowTokenSigner | undefined;
  if (opts.keys !== undefined) {
    const problems = flowTokenKeyProblems(opts.keys);
    if (problems.length === 0) signer = new FlowTokenSigner(opts.keys);
    // Counted too: keys that cannot sign leave every flow without a token, which nothing else would show.
    else health.rejectOption('flows.keys', `option flows.keys: flow token keys unusable (${problems.join('; ')}); tokens are not minted`);
  }
  const store: FlowStore | undefined = opts.store === false ? undefined : (opts.store ?? new MemoryFlowStore());
  // A store's own options it replaced by defaults (it said so when made) count with the rest.
  const storeProblems = store?.optionProblems?.length ?? 0;
  if (storeProblems > 0) health.increment(HEALTH_CONFIG_PROBLEMS, storeProblems);
  // A store of the application's own whose subscription throws, or hands back no function,
  // costs the count, not the setup; said once as a configuration problem.
  const countFrom = (method: 'addEvictionListener' | 'addResetListener', counter: typeof HEALTH_FLOW_STORE_EVICTIONS | typeof HEALTH_FLOW_STORE_RESETS): (() => void) => {
    try {
      const stop = store?.[method]?.(() => health.increment(counter));
      if (stop === undefined || typeof stop === 'function') return () => guardStop(stop);
      health.rejectOption(`flows.store.${method}`, `option flows.store: its ${method} did not return a function; unsubscribing at shutdown is skipped`);
    } catch (error) {
      health.rejectOption(`flows.store.${method}`, `option flows.store: its ${method} threw (${errorSummary(error)}); ${counter} is not counted`);
    }
    return () => {};
  };
  // Evictions lose flows (no stalled span for them): counted whether the package or the
  // application made the store.
  const stopCountingEvictions = countFrom('addEvictionListener', HEALTH_FLOW_STORE_EVICTIONS);
  // So are the flows of a data set the store lost (a Redis restarted without persistence, or flushed).
  const stopCountingResets = countFrom('addResetListener', HEALTH_FLOW_STORE_RESETS);
  const recentlyPut = new Map<string, RecordedFlow>();
  // Flows that ended at `payment.create`: a URL minted afterwards must not put them back.
  const endedAtCreate = new Set<string>();
  // Apart from `recentlyPut`: a flow may mint a URL before its trade number is known and put once it is.
  const recentlyCountedWithoutTradeNo = new Set<string>();
  const pendingWrites = new Set<Promise<void>>();
  const track = (write: Promise<void>): void => {
    const settled = write.finally(() => pendingWrites.delete(settled));
    pendingWrites.add(settled);
  };
  let sweeper: StalledSweeper | undefined;

  // A flow whose end was decided while the store was away stays live in it, and once the store is
  // back (a restart with its data, a network partition healed) its deadline passes and it is
  // reported stalled: counted a second time, after its callback or `payment.create`. So the take
  // is remembered (the flow → when it first failed, and the take) and tried again until the store answers.
  const deferredTakes = new Map<string, DeferredTake>();
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = DEFERRED_TAKE_FIRST_RETRY_MS;
  let retrying: Promise<void> | undefined;
  let stopped = false;

  const giveUpTake = (): void => {
    health.increment(HEALTH_FLOW_STORE_FAILURES);
    health.warnOnce('flow-store-deferred-take', 'a flow that ended while the flow store was unreachable could not be ended there; it may also be reported stalled');
  };

  const scheduleRetry = (): void => {
    if (retryTimer !== undefined || stopped || deferredTakes.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void retryDeferredTakes().then(() => scheduleRetry());
    }, retryDelay);
    // A retry, not work of the application's: it must not keep the process alive.
    retryTimer.unref();
  };

  const retryRound = async (): Promise<void> => {
    if (store === undefined) return;
    for (const [key, { since, take }] of [...deferredTakes]) {
      if (Date.now() - since > DEFERRED_TAKE_MAX_AGE_MS) {
        deferredTakes.delete(key);
        giveUpTake();
        continue;
      }
      try {
        await take(store);
      } catch {
        // Still away: the rest waits for the next round.
        retryDelay = Math.min(2 * retryDelay, DEFERRED_TAKE_LONGEST_RETRY_MS);
        return;
      }
      deferredTakes.delete(key);
    }
    retryDelay = DEFERRED_TAKE_FIRST_RETRY_MS;
  };

  const retryDeferredTakes = (): Promise<void> => {
    retrying ??= retryRound().finally(() => (retrying = undefined));
    return retrying;
  };

  const deferTake = (flow: string | FlowSpan): void => {
    if (store === undefined || stopped) return;
    // Keys of the two kinds cannot meet: a trade number's starts with "t", a span's with "s".
    const key = typeof flow === 'string' ? `t:${flow}` : `s:${flow.traceId}-${flow.spanId}`;
    if (deferredTakes.has(key)) return;
    if (typeof flow !== 'string' && store.takeBySpan === undefined) return;
    if (deferredTakes.size >= MAX_DEFERRED_TAKES) {
      giveUpTake();
      return;
    }
    const take = typeof flow === 'string' ? (s: FlowStore) => s.take(flow) : (s: FlowStore) => s.takeBySpan!(flow.traceId, flow.spanId);
    deferredTakes.set(key, { since: Date.now(), take });
    scheduleRetry();
  };

  /** When a flow waiting from `start` is due: the deadline of its provider and method. */
  const deadlineFrom = (start: number, flow: Pick<FlowContext, 'provider' | 'method'>): number =>
    start + 1000 * deadlineSeconds(opts.deadlines, flow.provider, flow.method);

  const record = (flow: FlowContext): void => {
    if (store === undefined) return;
    if (flow.tradeNo === undefined || flow.tradeNo === '') {
      if (firstSighting(recentlyCountedWithoutTradeNo, flow.spanId)) health.increment(HEALTH_FLOWS_WITHOUT_TRADE_NO);
      health.warnOnce('flow-no-trade-no', 'a redirect was issued for a flow without a trade number; it is correlated by token only');
      return;
    }
    if (recentlyPut.has(flow.spanId) || endedAtCreate.has(flow.spanId)) return;
    const issuedAt = Date.now();
    const deadline = deadlineFrom(issuedAt, flow);
    let pending: Promise<void>;
    try {
      pending = store.put(
        {
          traceId: flow.traceId,
          spanId: flow.spanId,
          traceFlags: flow.traceFlags,
          tradeNo: flow.tradeNo,
          ...(flow.provider !== undefined ? { provider: flow.provider } : {}),
          ...(flow.method !== undefined ? { method: flow.method } : {}),
          ...(flow.release !== undefined ? { release: flow.release } : {}),
          ...(flow.cohort !== undefined ? { cohort: flow.cohort } : {}),
          issuedAt,
        },
        deadline,
      );
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Never awaited by the request: it goes on while the store records the flow (bounded by the store's timeout).
    const recorded = pending.catch((error: unknown) => {
      health.increment(HEALTH_FLOW_STORE_FAILURES);
      health.increment(HEALTH_FLOW_STORE_FALLBACKS);
      health.warnOnce('flow-store-put', 'the flow store could not record a flow; it is correlated by token only', error);
    });
    track(recorded);
    recentlyPut.set(flow.spanId, { tradeNo: flow.tradeNo, recorded });
    if (recentlyPut.size > RECENTLY_SEEN_LIMIT) recentlyPut.delete(recentlyPut.keys().next().value as string);
  };

  const complete = (flow: FlowContext): Promise<boolean> | undefined => {
    if (store === undefined || !firstSighting(endedAtCreate, flow.spanId)) return undefined;
    const put = recentlyPut.get(flow.spanId);
    // Never recorded (no URL minted, or no trade number): nothing waits for its callback.
    if (put === undefined) return undefined;
    const taken = put.recorded
      .then(() => store.take(put.tradeNo))
      .then(
        // Taken before: by a callback that came while `payment.create` was still running, or by a sweeper.
        (result) => result.duplicate || result.late,
        (error: unknown) => {
          health.increment(HEALTH_FLOW_STORE_FAILURES);
          health.warnOnce('flow-store-complete', 'the flow store could not close a flow that ended at payment.create; it is closed once the store answers again', error);
          deferTake(put.tradeNo);
          return false;
        },
      );
    track(taken.then(() => undefined));
    return taken;
  };

  const mint = (flow: FlowContext): string | undefined => {
    if (signer === undefined) {
      health.warnOnce(
        'flows-unconfigured',
        'flow token keys are not configured (flows.keys), so URLs are returned without a token: callbacks and return pages are correlated through the flow store by trade number only; that is enough when every callback carries the trade number and the store is shared (RedisFlowStore across instances)',
      );
      return undefined;
    }
    const token = signer.mint(flow, Date.now() / 1000);
    if (token !== undefined) health.increment(HEALTH_TOKENS_MINTED);
    return token;
  };

  const issue = (flow: FlowContext): string | undefined => {
    try {
      record(flow);
      return mint(flow);
    } catch (error) {
      health.warnOnce('flow-mint', 'a flow token could not be minted', error);
      return undefined;
    }
  };

  const withToken = (flow: FlowContext, url: string): string => {
    const token = issue(flow);
    if (token === undefined || typeof url !== 'string') return url;
    return withTokenParam(url, tokenParam, token);
  };

  /**
   * A store without `keepWaiting` (or `keepWaitingBySpan`): the flow is taken and put back, which
   * cannot tell whether a final notification or the end of `payment.create` took it in between.
   */
  const takeAndPutBack = async (s: FlowStore, taken: TakeResult, lastStatus: string | undefined): Promise<TakeResult> => {
    if (taken.record !== undefined && !taken.duplicate && !taken.late) {
      try {
        await s.put(lastStatus === undefined ? taken.record : { ...taken.record, lastStatus }, deadlineFrom(Date.now(), taken.record));
      } catch (error) {
        health.increment(HEALTH_FLOW_STORE_FAILURES);
        health.warnOnce('flow-store-keep-waiting', 'the flow store could not keep a pending flow waiting; its final callback will count as a duplicate', error);
      }
    }
    return taken;
  };

  const keepWaiting = async (tradeNo: string, lastStatus?: string): Promise<TakeResult> => {
    if (store === undefined) return { duplicate: false, late: false };
    if (store.keepWaiting !== undefined) return store.keepWaiting(tradeNo, Date.now(), lastStatus);
    return takeAndPutBack(store, await store.take(tradeNo), lastStatus);
  };

  const takeBySpan = async (flow: FlowSpan): Promise<TakeResult | undefined> => {
    if (store?.takeBySpan === undefined) return undefined;
    return store.takeBySpan(flow.traceId, flow.spanId);
  };

  const keepWaitingBySpan = async (flow: FlowSpan, lastStatus?: string): Promise<TakeResult | undefined> => {
    if (store?.keepWaitingBySpan !== undefined) return store.keepWaitingBySpan(flow.traceId, flow.spanId, Date.now(), lastStatus);
    if (store?.takeBySpan === undefined) return undefined;
    return takeAndPutBack(store, await store.takeBySpan(flow.traceId, flow.spanId), lastStatus);
  };

  const peekBySpan = async (flow: FlowSpan): Promise<FlowRecord | undefined> => {
    if (store?.peekBySpan === undefined) return undefined;
    return store.peekBySpan(flow.traceId, flow.spanId);
  };

  const flows: Flows = {
    tokenParam,
    store,
    whenRecorded: () => Promise.all([...pendingWrites]).then(() => undefined),
    deferTake,
    retryDeferredTakes,
    returnUrl: withToken,
    notifyUrl: withToken,
    passback: (flow) => issue(flow) ?? '',
    complete,
    keepWaiting,
    takeBySpan,
    keepWaitingBySpan,
    peekBySpan,
    verifyToken(token, use) {
      const result =
        signer === undefined
          ? ({ ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY } as const)
          : signer.verify(token, { maxAgeSeconds: maxAge[use], clockSkewSeconds: skew }, Date.now() / 1000);
      if (!result.ok) health.increment(HEALTH_TOKENS_REJECTED);
      return result;
    },
    beginCallback: (view, callbackOptions) =>
      beginCallback(view, callbackOptions, { flows, tracer: deps.tracer, health }),
    beginRefusedCallback: (view, callbackOptions, error) =>
      beginRefusedCallback(view, callbackOptions, error, { flows, tracer: deps.tracer, health }),
    start() {
      if (sweeper !== undefined || store === undefined || opts.sweeper === false) return;
      sweeper = new StalledSweeper(opts.sweeper ?? {}, {
        store,
        tracer: deps.tracer,
        health,
        ...(deps.flush !== undefined ? { flush: deps.flush } : {}),
      });
      sweeper.start();
    },
    async shutdown() {
      const running = sweeper;
      sweeper = undefined;
      await running?.stop();
      await flows.whenRecorded();
      // One last try for takes waiting for the store; those it cannot make are given up (counted).
      stopped = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      await retryDeferredTakes();
      for (let n = deferredTakes.size; n > 0; n--) giveUpTake();
      deferredTakes.clear();
      stopCountingEvictions();
      stopCountingResets();
      await store?.close();
    },
  };
  return flows;
}

const STORE_METHODS = ['put', 'take', 'claimExpired', 'ack', 'size', 'close'] as const;

/** Every option of `flows` and of the objects in it the flows read: any other name is reported. */
export const FLOWS_OPTION_NAMES: OptionNames<FlowsOptions> = {
  keys: true,
  tokenParam: true,
  callbackMaxAgeSeconds: true,
  returnMaxAgeSeconds: true,
  clockSkewSeconds: true,
  store: true,
  deadlines: true,
  sweeper: true,
};
export const SWEEPER_OPTION_NAMES: OptionNames<StalledSweeperOptions> = { intervalMs: true, batchSize: true, leaseMs: true, maxSpansPerSecond: true };
const DEADLINES_OPTION_NAMES: OptionNames<Exclude<FlowDeadlines, number>> = { default: true, rules: true };
export const DEADLINE_RULE_OPTION_NAMES: OptionNames<FlowDeadlineRule> = { provider: true, method: true, seconds: true };
export const KEYS_OPTION_NAMES: OptionNames<FlowTokenKeys> = { current: true, previous: true };
export const KEY_OPTION_NAMES: OptionNames<FlowTokenKey> = { id: true, secret: true };

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reports the names `flows.keys` and each key in it do not have (a misspelt `previous` would stop rotated keys from verifying). */
function reportUnknownKeyNames(keys: unknown, health: HealthCounters): void {
  if (!isObject(keys)) return;
  reportUnknownOptions(keys, KEYS_OPTION_NAMES, 'flows.keys', health);
  const { current, previous } = keys as Partial<Record<keyof FlowTokenKeys, unknown>>;
  if (isObject(current)) reportUnknownOptions(current, KEY_OPTION_NAMES, 'flows.keys.current', health);
  if (Array.isArray(previous)) {
    previous.forEach((key: unknown, i) => {
      if (isObject(key)) reportUnknownOptions(key, KEY_OPTION_NAMES, `flows.keys.previous[${i}]`, health);
    });
  }
}

/**
 * The flow options with each unusable one left out (so its default applies), counted and said
 * once, as `startCheckoutTracing` does with its own: a wrong token parameter, a store that is
 * not a FlowStore, deadlines that are not positive. Numbers read later are checked there.
 */
function checkedFlowsOptions(options: FlowsOptions | undefined, health: HealthCounters): FlowsOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    health.rejectOption('flows', 'option flows is not an object; flows use their defaults');
    return {};
  }
  const checked: FlowsOptions = { ...options };
  reportUnknownOptions(checked, FLOWS_OPTION_NAMES, 'flows', health);
  reportUnknownKeyNames(checked.keys, health);
  const tokenParam: unknown = checked.tokenParam;
  if (tokenParam !== undefined && (typeof tokenParam !== 'string' || tokenParam === '')) {
    delete checked.tokenParam;
    health.rejectOption('flows.tokenParam', `option flows.tokenParam is not a non-empty string; using ${DEFAULT_TOKEN_PARAM}`);
  }
  const store: unknown = checked.store;
  if (store !== undefined && store !== false && !STORE_METHODS.every((method) => typeof (store as Record<string, unknown> | null)?.[method] === 'function')) {
    delete checked.store;
    health.rejectOption('flows.store', `option flows.store is not a FlowStore (${STORE_METHODS.join(', ')}) nor false; using a MemoryFlowStore`);
  }
  if (checked.deadlines !== undefined) {
    const deadlines = checkedDeadlines(checked.deadlines, health);
    if (deadlines === undefined) delete checked.deadlines;
    else checked.deadlines = deadlines;
  }
  const sweeper: unknown = checked.sweeper;
  if (sweeper !== undefined && sweeper !== false && (typeof sweeper !== 'object' || sweeper === null)) {
    delete checked.sweeper;
    health.rejectOption('flows.sweeper', 'option flows.sweeper is neither an options object nor false; the sweeper runs with its defaults');
  } else if (isObject(sweeper)) {
    reportUnknownOptions(sweeper, SWEEPER_OPTION_NAMES, 'flows.sweeper', health);
  }
  return checked;
}

const DEFAULT_DEADLINE_SECONDS = 1800;

/** Deadlines with every unusable part left out: a bad default or rule is counted and said once. */
function checkedDeadlines(deadlines: FlowDeadlines, health: HealthCounters): FlowDeadlines | undefined {
  if (typeof deadlines === 'number' || typeof deadlines !== 'object' || deadlines === null) {
    const problem = numberProblem(deadlines, 'positive', 'flows.deadlines', DEFAULT_DEADLINE_SECONDS);
    if (problem === undefined) return deadlines;
    health.rejectOption('flows.deadlines', problem);
    return undefined;
  }
  const checked: { default?: number; rules?: FlowDeadlineRule[] } = {};
  if (!Array.isArray(deadlines)) reportUnknownOptions(deadlines, DEADLINES_OPTION_NAMES, 'flows.deadlines', health);
  const fallback = numberProblem(deadlines.default, 'positive', 'flows.deadlines.default', DEFAULT_DEADLINE_SECONDS);
  if (fallback !== undefined) health.rejectOption('flows.deadlines.default', fallback);
  else if (deadlines.default !== undefined) checked.default = deadlines.default;
  if (deadlines.rules !== undefined) {
    if (!Array.isArray(deadlines.rules)) {
      health.rejectOption('flows.deadlines.rules', 'option flows.deadlines.rules is not an array; ignored');
    } else {
      checked.rules = deadlines.rules.filter((rule: FlowDeadlineRule) => {
        const usable =
          typeof rule === 'object' &&
          rule !== null &&
          numberProblem(rule.seconds, 'positive', 'seconds', 0) === undefined &&
          typeof rule.seconds === 'number' &&
          (rule.provider === undefined || typeof rule.provider === 'string') &&
          (rule.method === undefined || typeof rule.method === 'string');
        if (!usable) health.rejectOption('flows.deadlines.rules', 'a rule of flows.deadlines.rules is not { provider?: string, method?: string, seconds: positive number }; left out');
        // A misspelt `provider` or `method` makes a rule match every flow.
        else reportUnknownOptions(rule, DEADLINE_RULE_OPTION_NAMES, 'flows.deadlines.rules', health);
        return usable;
      });
    }
  }
  return checked;
}

/** Runs a store's unsubscribe; one that throws at shutdown must not stop the store's close. */
function guardStop(stop: (() => void) | undefined): void {
  try {
    stop?.();
  } catch {
    // Nothing left to count into: the flows are shutting down.
  }
}
