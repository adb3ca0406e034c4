/**
 * Health counters of the flow machinery (tokens, store, callbacks, sweeper); reported by the
 * tracing handle's `health()` next to the setup's own counters.
 */
export { HEALTH_TOKENS_REJECTED } from '../health-names.js';
export const HEALTH_TOKENS_MINTED = 'tokensMinted' as const;
/** A flow store operation failed or timed out. */
export const HEALTH_FLOW_STORE_FAILURES = 'flowStoreFailures' as const;
/** A callback or mint went on without the store (token-only correlation) because the store failed. */
export const HEALTH_FLOW_STORE_FALLBACKS = 'flowStoreFallbacks' as const;
/** Flows or tombstones the in-memory store dropped to stay within its size bound. */
export const HEALTH_FLOW_STORE_EVICTIONS = 'flowStoreEvictions' as const;
/**
 * Times the flow store noticed it had lost the flows waiting in it (its Redis restarted without
 * persistence, was flushed, failed over to a replica without them, or evicted them): flows
 * waiting then are never reported stalled.
 */
export const HEALTH_FLOW_STORE_RESETS = 'flowStoreResets' as const;
/**
 * Flows (not URLs: once per flow, however many URLs or pass-backs it mints) that minted without
 * a trade number while a flow store is configured: they can only be correlated by token and
 * never sweep as stalled.
 */
export const HEALTH_FLOWS_WITHOUT_TRADE_NO = 'flowsWithoutTradeNo' as const;
/**
 * Provider notifications the callback middleware traced (one `payment.callback` span each),
 * refused ones included: `callbacksUncorrelated`, `callbacksRefused` and `callbackBodiesUnread`
 * count among them, so each over this is a share.
 */
export const HEALTH_CALLBACKS = 'callbacks' as const;
/** Callbacks, refused ones included, whose flow could not be found (`payment.callback.correlation` = none). */
export const HEALTH_CALLBACKS_UNCORRELATED = 'callbacksUncorrelated' as const;
/**
 * Callbacks with a valid flow token whose flow the flow store did not give: by the trade number
 * the callback read, or, without one, by the token's flow (`takeBySpan`). The flow was recorded by
 * another process on its own in-memory store, evicted, lost in a restart, minted without a trade
 * number, or its write had not landed yet (then the store ends it when it lands); or, without a
 * trade number, the store is a custom one without `takeBySpan`. Otherwise the process (or store)
 * that holds such a flow reports it stalled although its callback came.
 */
export const HEALTH_CALLBACKS_NOT_IN_STORE = 'callbacksNotInStore' as const;
export const HEALTH_CALLBACKS_DUPLICATE = 'callbacksDuplicate' as const;
/**
 * Provider notifications refused before the callback middleware (the route's body parser
 * answered 400/413/415, or on Fastify an earlier hook failed): traced as
 * `payment.callback` with `payment.callback.refused`, their flows left waiting. Also in `callbacks`.
 */
export const HEALTH_CALLBACKS_REFUSED = 'callbacksRefused' as const;
/**
 * Callbacks whose request declared a body (Content-Length above zero, or Transfer-Encoding) that
 * reached the callback middleware neither parsed nor raw: no parser on the route took its content
 * type (or `httpCallback`'s `readBody` gave up on it, over `maxBodyBytes`), so a token or a field
 * in it could not be found.
 */
export const HEALTH_CALLBACK_BODIES_UNREAD = 'callbackBodiesUnread' as const;
export const HEALTH_CALLBACKS_LATE = 'callbacksLate' as const;
export const HEALTH_STALLED_EMITTED = 'stalledEmitted' as const;
/** Stalled spans emitted again because a sweeper died between claim and acknowledgement. */
export const HEALTH_STALLED_REPEATS = 'stalledRepeats' as const;

/** Every counter above, so the handle's `health()` can report them at zero before anything happened. */
export const FLOW_HEALTH_COUNTERS = [
  HEALTH_TOKENS_MINTED,
  HEALTH_FLOW_STORE_FAILURES,
  HEALTH_FLOW_STORE_FALLBACKS,
  HEALTH_FLOW_STORE_EVICTIONS,
  HEALTH_FLOW_STORE_RESETS,
  HEALTH_FLOWS_WITHOUT_TRADE_NO,
  HEALTH_CALLBACKS,
  HEALTH_CALLBACKS_UNCORRELATED,
  HEALTH_CALLBACKS_NOT_IN_STORE,
  HEALTH_CALLBACKS_DUPLICATE,
  HEALTH_CALLBACKS_REFUSED,
  HEALTH_CALLBACK_BODIES_UNREAD,
  HEALTH_CALLBACKS_LATE,
  HEALTH_STALLED_EMITTED,
  HEALTH_STALLED_REPEATS,
] as const;
