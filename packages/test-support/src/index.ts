// Test helpers shared by the otel-checkout packages. Every export is named.

// --- ports and plain HTTP servers ---
export { freePort } from './free-port.js';
export { startHttpServer, listenOnLoopback } from './http-server.js';
export type { HttpHandler, StartedHttpServer } from './http-server.js';

// --- OTLP/HTTP trace receiver ---
export { startOtlpReceiver } from './otlp/receiver.js';
export { decodeProtobufRequest } from './otlp/decode-protobuf.js';
export { decodeJsonRequest } from './otlp/decode-json.js';
export { describeSpan, durationMs, formatValue } from './otlp/describe.js';
export type {
  AttributeValue,
  Attributes,
  OtlpEncoding,
  OtlpReceiver,
  OtlpReceiverOptions,
  OtlpResponseBehaviour,
  ReceivedEvent,
  ReceivedLink,
  ReceivedRequest,
  ReceivedResource,
  ReceivedScope,
  ReceivedSpan,
  ReceivedStatus,
  SpanKindName,
  SpanPredicate,
  SpanQuery,
  StatusCodeName,
  WaitOptions,
} from './types.js';

// --- trace trees ---
export { buildTraceTrees, formatTree, TraceForest, TraceTree } from './trace-tree.js';
export type { FormatTreeOptions, SpanNode } from './trace-tree.js';

// --- errors ---
export { OtlpDecodeError, ReceiverClosedError, SpanNotFoundError, SpanWaitTimeoutError, TestSupportError } from './errors.js';

// --- Redis server (redis-server.ts) ---
export { startRedisServer, RedisServerError } from './redis-server.js';
export type { StartedRedisServer } from './redis-server.js';

// --- Redis Cluster (redis-cluster.ts) ---
export { startRedisCluster } from './redis-cluster.js';
export type { RedisClusterNode, RedisClusterOptions, StartedRedisCluster } from './redis-cluster.js';
