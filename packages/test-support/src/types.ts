// Public types of the test-support package: what the OTLP receiver hands to tests.

/** A decoded OTLP `AnyValue`: primitives, byte strings, arrays and key/value lists. */
export type AttributeValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

/** Attributes as a plain object; an OTLP int64 becomes a number when safe, a bigint otherwise. */
export type Attributes = Record<string, AttributeValue>;

/** Which wire encoding a request used. */
export type OtlpEncoding = 'protobuf' | 'json';

/** Span kind names of the OTLP `SpanKind` enum, without the `SPAN_KIND_` prefix. */
export type SpanKindName = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/** Status code names of the OTLP `Status.StatusCode` enum, without the `STATUS_CODE_` prefix. */
export type StatusCodeName = 'UNSET' | 'OK' | 'ERROR';

export interface ReceivedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface ReceivedLink {
  /** Lowercase hex, 32 characters. */
  traceId: string;
  /** Lowercase hex, 16 characters. */
  spanId: string;
  traceState: string;
  flags: number;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface ReceivedStatus {
  /** 0 unset, 1 ok, 2 error. */
  code: number;
  codeName: StatusCodeName;
  message: string;
}

export interface ReceivedResource {
  attributes: Attributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface ReceivedScope {
  name: string;
  version: string;
  attributes: Attributes;
  schemaUrl: string;
}

/** One span as it arrived on the wire, the same shape whichever encoding carried it. */
export interface ReceivedSpan {
  /** Lowercase hex, 32 characters. */
  traceId: string;
  /** Lowercase hex, 16 characters. */
  spanId: string;
  /** Lowercase hex, 16 characters; '' for a root span. */
  parentSpanId: string;
  traceState: string;
  /** W3C trace flags in the low 8 bits, OTLP context flags above. */
  flags: number;
  name: string;
  /** OTLP `SpanKind` number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  kindName: SpanKindName;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  droppedAttributesCount: number;
  events: ReceivedEvent[];
  droppedEventsCount: number;
  links: ReceivedLink[];
  droppedLinksCount: number;
  status: ReceivedStatus;
  resource: ReceivedResource;
  scope: ReceivedScope;
  encoding: OtlpEncoding;
  /** The request body this span came in, after content decoding (gzip undone). */
  raw: Uint8Array;
  /** Index of the request in `receiver.requests` that carried this span. */
  requestIndex: number;
}

/** One HTTP request the receiver saw, accepted or not. */
export interface ReceivedRequest {
  /** Position in `receiver.requests`. */
  index: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  contentEncoding: string;
  /** The body exactly as it came over the socket (still gzipped if it was). */
  rawBody: Uint8Array;
  /** The body after content decoding; this is what privacy assertions should search. */
  body: Uint8Array;
  /** Set when the body decoded as OTLP. */
  encoding?: OtlpEncoding;
  /** Spans decoded from this request (also for requests answered with a failure status). */
  spans: ReceivedSpan[];
  /** HTTP status the receiver answered with. */
  status: number;
  /** Why the request was rejected, when it was. */
  error?: string;
}

/** How the receiver answers export requests; used to simulate slow or failing collectors. */
export interface OtlpResponseBehaviour {
  /** HTTP status to answer with. Default 200. Spans of a non-2xx answer are not added to `spans`. */
  status?: number;
  /** Milliseconds to wait before answering. Default 0. */
  delayMs?: number;
  /** `Retry-After` header value in seconds, for 429/503 answers. Default: no header. */
  retryAfterSeconds?: number;
  /** Partial success to report in a 200 answer. Default: none (full success). */
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
  /** Apply this behaviour to the next N export requests only, then fall back to the previous one. Default: until changed. */
  times?: number;
}

export interface OtlpReceiverOptions {
  /** Path that accepts trace exports. Default `/v1/traces`. */
  path?: string;
  /** Answer CORS preflights and add CORS headers so browser pages on other origins can export. Default false. */
  cors?: boolean;
  /** Largest accepted request body in bytes, before and after decompression; larger bodies get 413. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Initial response behaviour. Default: 200 with an empty ExportTraceServiceResponse. */
  response?: OtlpResponseBehaviour;
}

export interface WaitOptions {
  /** How many matching spans to wait for. Default 1. */
  count?: number;
  /** Give up after this many milliseconds. Default 5000. */
  timeoutMs?: number;
}

export type SpanPredicate = (span: ReceivedSpan) => boolean;

/** A span name, a predicate, or fields that must all match (attributes compared deeply). */
export type SpanQuery = string | SpanPredicate | { name?: string; kind?: SpanKindName; attributes?: Attributes };

export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:4318`. */
  readonly url: string;
  /** Full URL of the trace export path, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly tracesUrl: string;
  readonly port: number;
  /** Spans of every accepted (2xx) export, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  /** Every request, accepted or rejected, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Requests rejected as undecodable (400), too large (413) or of an unsupported type (415). */
  readonly rejectedCount: number;
  /** Resolves with the first `count` matching spans; rejects with a `SpanWaitTimeoutError` listing what arrived. */
  waitForSpans(query: SpanQuery, options?: WaitOptions): Promise<ReceivedSpan[]>;
  /** Resolves with the first matching span. */
  waitForSpan(query: SpanQuery, options?: Omit<WaitOptions, 'count'>): Promise<ReceivedSpan>;
  /** Requests whose decoded body contains the text or bytes, e.g. a card number that must never leave the process. */
  requestsContaining(needle: string | Uint8Array): ReceivedRequest[];
  /**
   * Forget every span and request received so far. With `ignoreSpansStartedBefore` (ms since
   * the epoch), spans that arrive from now on but started before that moment are not kept in
   * `spans` either (their requests still are): late exports of an earlier test's page, sent
   * while its browser context closed, which a test waiting for spans by name would count.
   */
  clear(options?: { ignoreSpansStartedBefore?: number }): void;
  /** Change how the receiver answers; `undefined` restores the default 200. */
  setResponse(behaviour: OtlpResponseBehaviour | undefined): void;
  /** Stop listening; pending waits reject, delayed answers are cut off. */
  close(): Promise<void>;
}
