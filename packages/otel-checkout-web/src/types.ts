import type {
  PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS,
  PAYMENT_FAILURE_REASON_VALUE_INTERNAL,
  PAYMENT_FAILURE_REASON_VALUE_INVALID_REQUEST,
  PAYMENT_FAILURE_REASON_VALUE_NETWORK,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR,
  PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED,
  PAYMENT_FAILURE_REASON_VALUE_TIMEOUT,
  PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
} from '@otel-checkout/semantic-conventions';
import type { Attributes } from '@opentelemetry/api';
import type { RedactionOptions } from '@otel-checkout/core';

/** A value of `payment.failure.reason` (the registry's list; other strings are recorded as given). */
export type FailureReason =
  | typeof PAYMENT_FAILURE_REASON_VALUE_TIMEOUT
  | typeof PAYMENT_FAILURE_REASON_VALUE_NETWORK
  | typeof PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR
  | typeof PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED
  | typeof PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS
  | typeof PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED
  | typeof PAYMENT_FAILURE_REASON_VALUE_INVALID_REQUEST
  | typeof PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS
  | typeof PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED
  | typeof PAYMENT_FAILURE_REASON_VALUE_INTERNAL
  | (string & Record<never, never>);

/** A value of `payment.outcome`. */
export type PaymentOutcome =
  | typeof PAYMENT_OUTCOME_VALUE_SUCCEEDED
  | typeof PAYMENT_OUTCOME_VALUE_FAILED
  | typeof PAYMENT_OUTCOME_VALUE_CANCELLED
  | typeof PAYMENT_OUTCOME_VALUE_PENDING
  | typeof PAYMENT_OUTCOME_VALUE_STALLED
  | typeof PAYMENT_OUTCOME_VALUE_UNKNOWN;

/** A value of `payment.method` (`card`, `online_banking`, `wallet`, `credit`, ...). */
export type PaymentMethod = string;

/** What is known about a payment when the flow starts (everything optional; set more later). */
export interface FlowDetails {
  /** `payment.trade_no`: the merchant's trade number, if already known. */
  tradeNo?: string;
  /** `payment.method`: card, online_banking, wallet, credit, ... */
  method?: PaymentMethod;
  /** `payment.provider`: the payment provider or bank. */
  provider?: string;
  /** `payment.amount`: an integer in the minor unit of `currency` (cents: 1999 for 19.99 EUR), as the registry defines it. */
  amount?: number;
  /** `payment.currency`: ISO 4217 code. */
  currency?: string;
  /** `payment.merchant.id`. */
  merchantId?: string;
}

/** Which URLs receive `traceparent` and `baggage`: an origin (`https://api.example.com`), a URL prefix, or a RegExp tested on the full URL. */
export type PropagateTarget = string | RegExp;

/** Canary cohort assignment (see `cohortOf` in `@otel-checkout/core`). */
export interface CanaryOptions {
  /** Mixed into the hash so each rollout draws its own canary users. Default `''`. */
  salt?: string;
  /** Share of users (0..100) on the canary release. Default `0`. */
  percent?: number;
}

/** Options of `startCheckoutTracing`. Every field is optional; bad values are reported through `diag` and replaced by the default. */
export interface WebTracingOptions {
  /** `service.name` of the resource. Default `'checkout-web'`. */
  serviceName?: string;
  /** `service.version` and `checkout.release` (the front-end build). Default: not set. */
  release?: string;
  /** `deployment.environment.name`. Default: not set. */
  environment?: string;
  /** Extra resource attributes. Default `{}`. */
  resourceAttributes?: Attributes;
  /** OTLP/HTTP JSON traces endpoint (full URL or path). Default `'/v1/traces'`. Never instrumented. */
  endpoint?: string;
  /** Extra headers on export requests (they force a CORS preflight; the sendBeacon fallback cannot send them). Default `{}`. */
  headers?: Record<string, string>;
  /** URLs whose fetch/XHR requests carry the flow's `traceparent` and `baggage`. Default: the page's own origin only. */
  propagateTo?: PropagateTarget[];
  /** Share of flows recorded, 0..1, decided once per flow at its start. Default `1`. */
  sampleRate?: number;
  /** A stable user id for the canary cohort (hashed, never exported). Default: not set (no cohort). */
  stableUserId?: string;
  /** Canary salt and percentage. Default `{ salt: '', percent: 0 }`. */
  canary?: CanaryOptions;
  /**
   * The core redaction rules applied before export (card numbers, sensitive keys, the flow
   * token and sensitive URL parameters): `true`, `false` (off: only for local debugging), or
   * `RedactionOptions` from `@otel-checkout/core` to add keys and parameters. Default `true`.
   */
  redaction?: boolean | RedactionOptions;
  /** Spans waiting for export at most; further spans are dropped and counted. Default `512`. */
  maxQueueSize?: number;
  /** Spans per export request while the page is visible. Default `64`. */
  maxExportBatchSize?: number;
  /** Delay before a scheduled export, in ms. Default `1000`. */
  scheduledDelayMillis?: number;
  /** Abort an export request after this many ms. Default `10000`. */
  exportTimeoutMillis?: number;
  /** Record `page_load_failed` when the page is still visible this long after a redirect should have left it, in ms. Default `10000`. */
  redirectWatchdogMillis?: number;
  /** A same-tab handoff record older than this is rejected as `expired`, in ms. Default `1800000` (30 min). */
  handoffMaxAgeMillis?: number;
  /** Query parameter that carries the flow token on return URLs. Default `'otc_flow'`. */
  tokenParam?: string;
  /** Record `error` and `unhandledrejection` events on the active flow. Default `true`. */
  captureErrors?: boolean;
  /** Record page-load time and LCP on `payment.checkout`, in seconds. Default `true`. */
  capturePageTimings?: boolean;
}

/** Options of `checkout.resume()`. */
export interface ResumeOptions {
  /** The backend's token verify handler (GET, `?<tokenParam>=<token>`). Default: not set, so a URL token can only be a link. */
  verifyUrl?: string;
  /** Maximum age of a URL token before it is not even sent for verification, in seconds. Default `1800`. */
  tokenMaxAgeSeconds?: number;
  /** Origins allowed to hand the flow over through `postMessage` (popup or iframe return frames). Default `[]` (off). */
  messageOrigins?: string[];
  /** How long to wait for a `postMessage` handoff or the verify handler, in ms. Default `2000`. */
  timeoutMillis?: number;
  /** Extra attributes for the `payment.return` span. Default `{}`. */
  details?: FlowDetails;
}

/** Options of `flow.redirect()` and `flow.prepareRedirect()`. */
export interface RedirectOptions {
  /** Overrides `redirectWatchdogMillis` for this redirect; `0` disables the watchdog. */
  watchdogMillis?: number;
}

/** Options of `flow.poll()`. */
export interface PollOptions {
  /** Pause between status queries, in ms. Default `2000`. */
  intervalMillis?: number;
  /** Queries at most. Default `10`. */
  maxAttempts?: number;
}

/** Options of `flow.answerChallenge()` (the opener/parent side of a popup or iframe handoff). */
export interface ChallengeOptions {
  /** Origins of the return frame allowed to ask for the flow's context. Default: the page's own origin. */
  origins?: string[];
}

/**
 * The names of the methods of an SDK of type `T`, so a misspelt name in `SdkInfo.methods` does
 * not compile. Any string when TypeScript cannot know them: an SDK typed `any`, or one with an
 * index signature.
 */
export type SdkMethodName<T> = string extends keyof T
  ? string
  : { [K in keyof T]-?: NonNullable<T[K]> extends (...args: never[]) => unknown ? K : never }[keyof T] & string;

/** What the `payment.sdk` wrapper needs to know about an SDK of type `T`. */
export interface SdkInfo<T = Record<string, unknown>> {
  /** `checkout.sdk.name`. */
  name: string;
  /** `checkout.sdk.version`. */
  version?: string;
  /** Methods to trace; a name that is not a function of the SDK is reported once through `diag`. Default: every function property. */
  methods?: readonly SdkMethodName<T>[];
}

/** Counters of the library's own health. */
export interface WebHealth {
  /** Spans the collector accepted (or the browser took as a beacon). */
  spansExported: number;
  /** Spans lost: queue full, export refused or failed, unload quota exhausted with nowhere to keep them. */
  spansDropped: number;
  /** Export requests that failed (network error, timeout, non-2xx answer). */
  exportFailures: number;
  /** Export requests sent with `navigator.sendBeacon`. */
  beaconsSent: number;
  /** Carried contexts refused: return-page rejections and postMessage requests from origins not allowed. */
  contextsRejected: number;
  /** Spans waiting for export now. */
  queueLength: number;
}

/**
 * One payment attempt in the browser. Every method is safe to call after the flow ended and
 * with wrong arguments. A flow that `pagehide` ended records again when the page comes back
 * from the back-forward cache (the shopper pressed Back on the provider's page), under a new
 * `payment.return` in the same trace.
 */
export interface CheckoutFlow {
  /**
   * The flow's trace id (32 hex characters). All zeros only for a flow handed out while tracing
   * does not run; a flow the sampler left out has a real one (its `traceparent` flags are 00).
   */
  readonly traceId: string;
  setTradeNo(tradeNo: string): void;
  set(details: Partial<FlowDetails>): void;
  /** Runs `fn` with this flow as the context of fetch/XHR requests started synchronously inside it. */
  run<T>(fn: () => T): T;
  /** Traces each call into a payment SDK as `payment.sdk <method>`; the SDK behaves as before, within the limits the README states. */
  wrapSdk<T extends object>(sdk: T, info: SdkInfo<T>): T;
  retry(reason?: FailureReason): void;
  fallback(toMethod: PaymentMethod): void;
  fail(reason: FailureReason, code?: string): void;
  succeed(): void;
  cancel(): void;
  /** Ends `payment.redirect`, writes the same-tab handoff, schedules the export for the next task, then navigates to `url`. */
  redirect(url: string, options?: RedirectOptions): void;
  /**
   * The same bookkeeping when the SDK navigates by itself. Resolves at once, without waiting
   * for any export: by then `payment.redirect` has ended and the same-tab handoff is written
   * (when sessionStorage takes it). The queued spans are exported in the next task, as
   * keepalive requests that outlive the navigation while the budget allows, and whatever is
   * still queued when the page goes is handed to the browser at `pagehide`.
   */
  prepareRedirect(options?: RedirectOptions): Promise<void>;
  /** One status query as a `payment.query` span; `toOutcome` maps the result to the outcome the shopper sees. */
  query<T>(fn: () => Promise<T>, toOutcome?: (result: T) => PaymentOutcome | undefined): Promise<T>;
  /** Repeats `query` until `toOutcome` gives an outcome other than pending (or attempts run out); records it on the flow. */
  poll<T>(fn: () => Promise<T>, toOutcome: (result: T) => PaymentOutcome | undefined, options?: PollOptions): Promise<PaymentOutcome | undefined>;
  /** Lets a popup or iframe return frame continue this flow over `postMessage`; returns "stop answering". */
  answerChallenge(options?: ChallengeOptions): () => void;
  end(): void;
}

/** Starting and resuming flows. */
export interface Checkout {
  /**
   * Starts `payment.checkout`, the root of a flow. The first call after the page came back
   * from the back-forward cache instead continues the restored flow as its next attempt
   * (`payment.retry`, reason `user_cancelled`) with these details, and returns it.
   */
  begin(details?: FlowDetails): CheckoutFlow;
  /** Starts a flow from the click on `target` itself; returns "remove listener". */
  onClick(target: EventTarget, getDetails?: (event: Event) => FlowDetails | undefined, onFlow?: (flow: CheckoutFlow) => void): () => void;
  /** On the return page: continues the flow by the order of trust; never rejects. */
  resume(options?: ResumeOptions): Promise<CheckoutFlow>;
  /** The most recently begun flow that has not ended. */
  active(): CheckoutFlow | undefined;
}

/** What `startCheckoutTracing` returns. */
export interface WebTracingHandle {
  readonly checkout: Checkout;
  health(): WebHealth;
  /** Exports every queued span; never rejects. */
  flush(): Promise<void>;
  /** Flushes, removes every patch and listener; never rejects. */
  shutdown(): Promise<void>;
}
