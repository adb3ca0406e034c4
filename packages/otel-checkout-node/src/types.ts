import type { IncomingMessage } from 'node:http';
import type { Attributes, Span, TextMapPropagator } from '@opentelemetry/api';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FlowsOptions } from './flows/flows.js';
import type { RequestView } from './http/request-view.js';
import type { RedactionSpanProcessorOptions } from './redaction/types.js';

/** `payment.outcome` values (see `@otel-checkout/semantic-conventions`). */
export type PaymentOutcome = 'succeeded' | 'failed' | 'cancelled' | 'pending' | 'stalled' | 'unknown';

/** `payment.failure.reason` values; any other string is recorded as given. */
export type FailureReason =
  | 'timeout'
  | 'network'
  | 'provider_error'
  | 'risk_rejected'
  | 'insufficient_funds'
  | 'user_cancelled'
  | 'invalid_request'
  | 'unmapped_status'
  | 'page_load_failed'
  | 'internal'
  | (string & {});

/** Wire encoding of OTLP/HTTP. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** What a payment is known to be; every field optional, recorded as `payment.*` attributes. */
export interface PaymentDetails {
  /** `payment.trade_no`: the merchant's trade number (searchable, never redacted); a safe integer is recorded as its decimal text. */
  tradeNo?: string | number;
  /** `payment.order.id`. */
  orderId?: string;
  /** `payment.method`, e.g. `card`, `wallet`. */
  method?: string;
  /** `payment.provider`, e.g. `stripe`, `alipay`. */
  provider?: string;
  /** `payment.amount`: an integer in the minor unit of `currency` (cents: 1999 for 19.99 EUR), as the registry defines it. */
  amount?: number;
  /** `payment.currency`, ISO 4217. */
  currency?: string;
  /** `payment.merchant.id`. */
  merchantId?: string;
}

/** The request as the payment extractor sees it: the framework-neutral view plus a safe JSON body. */
export interface PaymentRequest extends RequestView {
  /** The body as a JSON object: the parsed body, or the raw body parsed; `undefined` when not JSON. */
  json(): Record<string, unknown> | undefined;
}

/** Reads payment details from a request; may throw (the request proceeds, the error is counted). */
export type PaymentExtractor = (request: PaymentRequest) => PaymentDetails | undefined;

/** What the response tells about the payment, for the outcome hook. */
export interface ResponseInfo {
  /** The HTTP status code sent (500 when an error was thrown and nothing was sent). */
  statusCode: number;
  /** The error the handler threw or passed on, if any. */
  error?: unknown;
}

/** Maps a finished response to an outcome; `undefined` leaves the outcome unset. */
export type OutcomeHook = (
  response: ResponseInfo,
) => { outcome: PaymentOutcome; reason?: FailureReason; code?: string } | undefined;

/** Options shared by every payment middleware factory (`expressPayments`, `fastifyPayments`, ...). */
export interface PaymentMiddlewareOptions {
  /** Reads trade number, method, provider, amount, currency and merchant from the request. Default: none. */
  extract?: PaymentExtractor;
  /**
   * Maps the response status or thrown error to `payment.outcome`/`payment.failure.reason`.
   * Default: a 4xx is `failed`/`invalid_request` (also when the handler threw and the
   * application answered the error with a 4xx), a 5xx or any other thrown error is
   * `failed`/`internal`, anything else leaves the outcome to `recordOutcome`.
   */
  outcome?: OutcomeHook;
  /**
   * Stable user id for the canary cohort (`cohortOf`), read from the request. Default: none
   * (the cohort comes only from allow-listed incoming baggage).
   */
  userId?: (request: PaymentRequest) => string | undefined;
}

/** Canary cohort settings: the cohort is derived from a stable user id with `cohortOf`. */
export interface CohortOptions {
  /** Salt of the cohort hash; must be the same in browser and Node. Default: `''`. */
  salt?: string;
  /** Percentage (0-100) of users in the canary cohort. Default: `0`. */
  percent?: number;
}

/** Limits on the W3C baggage accepted from clients (untrusted). */
export interface BaggageOptions {
  /** Keys accepted from incoming baggage; every other entry is dropped and counted. Default: cohort and release keys. */
  allowedKeys?: readonly string[];
  /** Maximum number of entries kept. Default: `8`. */
  maxEntries?: number;
  /** Maximum length of one entry's value in characters. Default: `128`. */
  maxValueLength?: number;
  /** Maximum length of the whole `baggage` header; longer headers are dropped entirely. Default: `8192`. */
  maxHeaderLength?: number;
}

/** Options of `startCheckoutTracing`; every field optional. */
export interface NodeTracingOptions {
  /** `service.name`. Default: `OTEL_SERVICE_NAME`, then `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, then `unknown_service:node`. */
  serviceName?: string;
  /** `service.version`; also the default release. Default: from `OTEL_RESOURCE_ATTRIBUTES`, else unset. */
  serviceVersion?: string;
  /** `deployment.environment.name`. Default: from `OTEL_RESOURCE_ATTRIBUTES`, else unset. */
  environment?: string;
  /** Extra resource attributes (kept small on purpose). Default: none. */
  resourceAttributes?: Attributes;
  /** OTLP/HTTP traces endpoint (absolute http(s) URL; anything else is replaced by the default, with a warning). Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`. */
  endpoint?: string;
  /** Headers sent with every export. Default: `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
  headers?: Record<string, string>;
  /** OTLP encoding. Default: `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, else `http/protobuf`. */
  protocol?: OtlpProtocol;
  /** Replaces the OTLP exporter (tests, custom backends). Default: the OTLP exporter. */
  exporter?: SpanExporter;
  /** Sampler (an object with `shouldSample`; anything else is replaced by the default). Default: `OTEL_TRACES_SAMPLER`, else ParentBased(AlwaysOn): every payment flow recorded. */
  sampler?: Sampler;
  /**
   * `true` = default mode: a server span for every request (made by this package) and a CLIENT
   * span for every outgoing call (instrumentation-http). `false` = lean mode: no HTTP/framework
   * instrumentation; the payment middleware makes the one server span. Default: `true`.
   */
  instrumentHttp?: boolean;
  /**
   * Requests to leave untraced in default mode (health checks, metrics scrapes): return `true`
   * and the request gets no server span, and nothing it calls is traced. Called once per
   * request with Node's `IncomingMessage`, before any framework sees it; keep it cheap. A hook
   * that throws traces the request and counts a `hookErrors`. Default: every request traced.
   */
  ignoreIncomingRequest?: (request: IncomingMessage) => boolean;
  /** Also make a span per Express/Koa middleware layer and per Fastify hook and route handler (default mode; runs instrumentation-express, which wraps every layer). Default: `false`. */
  frameworkSpans?: boolean;
  /** Register `@fastify/otel` on every Fastify instance as it is created (default mode only). Default: `true`. */
  fastifyAutoRegister?: boolean;
  /** Spans queued for export at most; beyond that spans are dropped and counted. Default: `OTEL_BSP_MAX_QUEUE_SIZE`, else `2048`. */
  maxQueueSize?: number;
  /** Spans per export request at most. Default: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, else `512`. */
  maxExportBatchSize?: number;
  /** Delay between exports in ms. Default: `OTEL_BSP_SCHEDULE_DELAY`, else `1000`. */
  scheduledDelayMillis?: number;
  /** Time one export may take in ms before it is abandoned and its spans counted as dropped. Default: `OTEL_BSP_EXPORT_TIMEOUT`, else `10000`. */
  exportTimeoutMillis?: number;
  /** Upper bound in ms of `shutdown()` (flush included). Default: `5000`. */
  shutdownTimeoutMillis?: number;
  /** Call `shutdown()` on SIGTERM (then re-raise the default behaviour). Default: `false`. */
  shutdownOnSigterm?: boolean;
  /** Mask card numbers, secrets and sensitive URL parameters before export; an object tunes the rules. Default: `true`. */
  redaction?: boolean | RedactionSpanProcessorOptions;
  /** Untrusted baggage limits. Default: see `BaggageOptions`. */
  baggage?: BaggageOptions;
  /** Canary cohort settings. Default: none (no cohort computed). */
  cohort?: CohortOptions;
  /** `checkout.release` recorded on payment spans and carried as baggage. Default: `serviceVersion`. */
  release?: string;
  /** Extra span processors, run before the exporting one (one without onStart, onEnd, forceFlush and shutdown is left out). Default: none. */
  spanProcessors?: SpanProcessor[];
  /** Replaces the propagator. Default: the guarded W3C tracecontext + baggage propagators, or those `OTEL_PROPAGATORS` names (see the README). */
  propagator?: TextMapPropagator;
  /** Flow tokens, flow store and stalled sweeper (see "Flows" in the README). Default: tokens not configured. */
  flows?: FlowsOptions;
}

/** A raw provider status → outcome table for `mapProviderStatus`. */
export type ProviderStatusTable = Readonly<
  Record<string, PaymentOutcome | { outcome: PaymentOutcome; reason?: FailureReason }>
>;

/** The result of `mapProviderStatus`. */
export interface MappedStatus {
  /** The raw status as a string (recorded as `payment.provider.status`). */
  readonly raw: string;
  readonly outcome: PaymentOutcome;
  readonly reason?: FailureReason;
  /** `false` when the table did not know the status (outcome `unknown`, reason `unmapped_status`). */
  readonly mapped: boolean;
}

/** The handle of one provider call (`payment.provider <operation>` CLIENT span). */
export interface ProviderCall {
  /** The CLIENT span around the call. */
  readonly span: Span;
  /** Adds `traceparent` (and allowed baggage) to outgoing headers; returns the same object. */
  inject<T extends Record<string, unknown>>(headers?: T): T;
  /** Records the provider's raw status mapped through `table`: the outcome, reason and whether the table knew it. */
  status(raw: string | number, table: ProviderStatusTable): MappedStatus;
  /** Records the provider's raw status as it is (no table: nothing to map, so nothing returned). */
  status(raw: string | number): undefined;
  /** Records the provider's raw status, mapped through `table` when given. */
  status(raw: string | number, table?: ProviderStatusTable): MappedStatus | undefined;
  /** Records `payment.provider.transaction_id`. */
  transactionId(id: string): void;
  /** Records `http.response.status_code` and `server.address` of the provider call. */
  http(info: { statusCode?: number; serverAddress?: string }): void;
  /** Records the provider-level outcome of this call. */
  outcome(outcome: PaymentOutcome, failure?: { reason?: FailureReason; code?: string }): void;
}
