// Public surface of @otel-checkout/node. Every export is named.

// --- tracing setup, middleware, flow API, redaction, baggage ---
export { startCheckoutTracing } from './setup/start-checkout-tracing.js';
export { payments } from './payments/payments.js';
export { mapProviderStatus } from './payments/map-provider-status.js';
export { expressPayments } from './middleware/express-payments.js';
export { fastifyPayments } from './middleware/fastify-payments.js';
export { koaPayments } from './middleware/koa-payments.js';
export { httpPayments } from './middleware/http-payments.js';
export { GuardedTraceContextPropagator } from './propagation/guarded-trace-context-propagator.js';
export { GuardedBaggagePropagator } from './propagation/guarded-baggage-propagator.js';
export {
  RedactionSpanProcessor,
  createRedactionSpanProcessor,
  isRedactionProcessor,
  hasRedactionProcessor,
  redactionProcessorHasSeenSpans,
} from './redaction/redaction-span-processor.js';
export type { RedactionSpanProcessorOptions } from './redaction/types.js';
export {
  HEALTH_SPANS_EXPORTED,
  HEALTH_SPANS_DROPPED,
  HEALTH_EXPORT_FAILURES,
  HEALTH_TOKENS_REJECTED,
  HEALTH_BAGGAGE_DROPPED,
  HEALTH_REDACTIONS,
  HEALTH_EXTRACTOR_ERRORS,
  HEALTH_HOOK_ERRORS,
  HEALTH_MALFORMED_TRACEPARENT,
  HEALTH_MALFORMED_TRACESTATE,
  HEALTH_MALFORMED_BAGGAGE,
  HEALTH_OVERSIZE_HEADERS,
  HEALTH_NON_JSON_BODIES,
  HEALTH_UNMAPPED_STATUSES,
  HEALTH_CALLS_OUTSIDE_FLOW,
  HEALTH_CONFIG_PROBLEMS,
} from './health-names.js';
export type { NodeTracingHandle } from './setup/start-checkout-tracing.js';
export type { TracingMode } from './runtime.js';
export type { Payments } from './payments/payments.js';
export type { ServerFlow } from './payments/server-flow.js';
export type { NodeHealth } from './health-names.js';
export type {
  NodeTracingOptions,
  PaymentMiddlewareOptions,
  PaymentDetails,
  PaymentExtractor,
  PaymentRequest,
  PaymentOutcome,
  FailureReason,
  OtlpProtocol,
  OutcomeHook,
  ResponseInfo,
  CohortOptions,
  BaggageOptions,
  ProviderCall,
  ProviderStatusTable,
  MappedStatus,
} from './types.js';
export type { ExpressPaymentsMiddleware, ExpressMiddleware, ExpressErrorMiddleware } from './middleware/express-payments.js';
export type { FastifyPaymentsOptions } from './middleware/fastify-payments.js';
export type { KoaMiddleware } from './middleware/koa-payments.js';
export type { RequestView } from './http/request-view.js';

// --- flow tokens, callback correlation, flow stores, stalled sweeper ---
export { expressCallback, fastifyCallback, koaCallback, httpCallback } from './callback/callback-adapters.js';
export { expressVerifyToken, fastifyVerifyToken, koaVerifyToken, httpVerifyToken } from './verify/verify-handlers.js';
export { verifyReturnToken, traceparentMeta } from './verify/verify-token.js';
export { FlowTokenSigner, flowTokenKeyProblems } from './token/flow-token-signer.js';
export { MemoryFlowStore } from './flow-store/memory-flow-store.js';
export { RedisFlowStore } from './flow-store/redis-flow-store.js';
export { StalledSweeper } from './sweeper/stalled-sweeper.js';
export { FlowError, FlowTokenKeyError, FlowStoreError, FlowStoreTimeoutError } from './flows/errors.js';
export {
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
  HEALTH_CALLBACKS_LATE,
  HEALTH_CALLBACKS_REFUSED,
  HEALTH_CALLBACK_BODIES_UNREAD,
  HEALTH_STALLED_EMITTED,
  HEALTH_STALLED_REPEATS,
  FLOW_HEALTH_COUNTERS,
} from './flows/flow-health.js';
export type { FlowsOptions, FlowDeadlines, FlowDeadlineRule } from './flows/types.js';
export type { Flows, FlowContext, FlowTokenUse } from './flows/flows.js';
export type { CallbackOptions, CallbackOutcome, CallbackScope, CallbackFields } from './callback/types.js';
export type { ExpressCallbackOptions, FastifyCallbackOptions, HttpCallbackHandler, HttpCallbackOptions, KoaCallbackOptions } from './callback/callback-adapters.js';
export type { VerifyTokenAnswer, VerifyTokenOptions } from './verify/verify-token.js';
export type { FlowTokenKey, FlowTokenKeys, FlowTokenRejection, FlowTokenVerifyResult, VerifiedFlowToken } from './token/types.js';
export type { FlowTokenCheck } from './token/flow-token-signer.js';
export type { FlowStore, FlowRecord, TakeResult, WaitResult, ClaimedFlow, FlowStoreHealth } from './flow-store/types.js';
export type { MemoryFlowStoreOptions } from './flow-store/memory-flow-store.js';
export type { RedisFlowStoreOptions, RedisCommandClient, RedisClusterCommandClient, RedisCallClient, RedisFlowStoreClient } from './flow-store/redis-flow-store.js';
export type { StalledSweeperOptions, StalledSweeperDependencies } from './sweeper/stalled-sweeper.js';

export type { HealthSnapshot } from './health.js';
