import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { OtlpDecodeError, ReceiverClosedError, SpanWaitTimeoutError } from '../errors.js';
import { listenOnLoopback } from '../http-server.js';
import type {
  OtlpEncoding,
  OtlpReceiver,
  OtlpReceiverOptions,
  OtlpResponseBehaviour,
  ReceivedRequest,
  ReceivedSpan,
  SpanPredicate,
  SpanQuery,
  WaitOptions,
} from '../types.js';
import { describeQuery, toPredicate } from '../span-query.js';
import { decodeJsonRequest } from './decode-json.js';
import { decodeProtobufRequest } from './decode-protobuf.js';
import { describeSpan } from './describe.js';
import { ExportTraceServiceResponse, RpcStatus } from './schema.js';

const DEFAULT_PATH = '/v1/traces';
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5000;

/** google.rpc.Code values used in failure bodies. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_UNAVAILABLE = 14;

interface Waiter {
  predicate: SpanPredicate;
  count: number;
  resolve(spans: ReceivedSpan[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** A refusal decided by the receiver itself (not a simulated collector failure). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headerValue(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim();
}

/** Picks the decoder from Content-Type; `text/plain` is what `navigator.sendBeacon(url, string)` sends. */
function encodingFor(contentType: string, body: Uint8Array): OtlpEncoding {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === 'application/json' || mediaType === 'text/plain') return 'json';
  if (mediaType === '') {
    const first = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').trimStart()[0];
    return first === '{' ? 'json' : 'protobuf';
  }
  throw new Refusal(415, `unsupported content type ${JSON.stringify(contentType)}`);
}

function decompress(body: Uint8Array, contentEncoding: string, maxBytes: number): Uint8Array {
  const coding = contentEncoding.toLowerCase();
  try {
    if (coding === '' || coding === 'identity') return body;
    if (coding === 'gzip' || coding === 'x-gzip') return new Uint8Array(gunzipSync(body, { maxOutputLength: maxBytes }));
    if (coding === 'deflate') return new Uint8Array(inflateSync(body, { maxOutputLength: maxBytes }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new Refusal(413, `body larger than ${maxBytes} bytes after decompression`);
    throw new Refusal(400, `body is not valid ${coding}: ${(error as Error).message}`);
  }
  throw new Refusal(415, `unsupported content encoding ${JSON.stringify(contentEncoding)}`);
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () =>
      tooLarge ? reject(new Refusal(413, `body larger than ${maxBytes} bytes`)) : resolve(new Uint8Array(Buffer.concat(chunks))),
    );
    request.on('error', reject);
  });
}

function successBody(encoding: OtlpEncoding, behaviour: OtlpResponseBehaviour): { type: string; body: Uint8Array | string } {
  const partial = behaviour.partialSuccess;
  if (encoding === 'protobuf') {
    const message = ExportTraceServiceResponse.fromObject(partial ? { partialSuccess: partial } : {});
    return { type: 'application/x-protobuf', body: ExportTraceServiceResponse.encode(message).finish() };
  }
  return { type: 'application/json', body: JSON.stringify(partial ? { partialSuccess: partial } : {}) };
}

function failureBody(encoding: OtlpEncoding | undefined, code: number, message: string): { type: string; body: Uint8Array | string } {
  if (encoding === 'protobuf') {
    return { type: 'application/x-protobuf', body: RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish() };
  }
  return { type: 'application/json', body: JSON.stringify({ code, message }) };
}

function summarise(spans: readonly ReceivedSpan[], requests: readonly ReceivedRequest[]): string {
  const rejected = requests.filter((request) => request.error !== undefined);
  const lines = [`received ${spans.length} span(s) in ${requests.length} request(s), ${rejected.length} rejected`];
  for (const span of spans) lines.push(`  - ${describeSpan(span)}`);
  for (const request of rejected) lines.push(`  ! request ${request.index} → ${request.status}: ${request.error}`);
  return lines.join('\n');
}

/**
 * A real OTLP/HTTP trace receiver on a free port of 127.0.0.1. Decodes protobuf and JSON
 * exports (gzip or deflate too), keeps every request body, and answers like a collector.
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const path = options.path ?? DEFAULT_PATH;
  const cors = options.cors ?? false;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let standing: OtlpResponseBehaviour = options.response ?? {};
  let temporary: { behaviour: OtlpResponseBehaviour; remaining: number } | undefined;
  const spans: ReceivedSpan[] = [];
  // Spans that started before this (ns since the epoch) are not kept: see `clear`.
  let keepSpansFrom = 0n;
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<Waiter>();
  const delays = new Set<NodeJS.Timeout>();
  let closed = false;

  const nextBehaviour = (): OtlpResponseBehaviour => {
    if (temporary === undefined) return standing;
    const { behaviour } = temporary;
    temporary.remaining -= 1;
    if (temporary.remaining <= 0) temporary = undefined;
    return behaviour;
  };

  const matching = (predicate: SpanPredicate): ReceivedSpan[] => spans.filter((span) => predicate(span));

  const settleWaiters = (): void => {
    for (const waiter of waiters) {
      let found: ReceivedSpan[];
      try {
        found = matching(waiter.predicate);
      } catch (error) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error as Error);
        continue;
      }
      if (found.length >= waiter.count) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(found.slice(0, waiter.count));
      }
    }
  };

  const setCorsHeaders = (request: IncomingMessage, response: ServerResponse): void => {
    if (!cors) return;
    // Echoing the origin (with credentials allowed) instead of '*' lets sendBeacon, which always
    // sends credentials, pass the CORS check too; requests without an Origin get '*'.
    const origin = headerValue(request, 'origin');
    if (origin !== '') {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('access-control-allow-credentials', 'true');
      response.setHeader('vary', 'Origin');
    } else {
      response.setHeader('access-control-allow-origin', '*');
    }
  };

  const send = (response: ServerResponse, status: number, payload?: { type: string; body: Uint8Array | string }): void => {
    if (response.writableEnded || response.destroyed) return;
    response.statusCode = status;
    if (payload) response.setHeader('content-type', payload.type);
    response.end(payload?.body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    setCorsHeaders(request, response);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS' && cors && url.pathname === path) {
      response.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      const asked = headerValue(request, 'access-control-request-headers');
      response.setHeader('access-control-allow-headers', asked === '' ? 'content-type, content-encoding' : asked);
      response.setHeader('access-control-max-age', '600');
      send(response, 204);
      request.resume();
      return;
    }
    const record: ReceivedRequest = {
      index: requests.length,
      method,
      path: url.pathname,
      headers: { ...request.headers },
      contentType: headerValue(request, 'content-type'),
      contentEncoding: headerValue(request, 'content-encoding'),
      rawBody: new Uint8Array(0),
      body: new Uint8Array(0),
      spans: [],
      status: 0,
    };
    requests.push(record);
    let encoding: OtlpEncoding | undefined;
    try {
      if (url.pathname !== path) throw new Refusal(404, `no OTLP endpoint at ${url.pathname}`);
      if (method !== 'POST') {
        response.setHeader('allow', cors ? 'POST, OPTIONS' : 'POST');
        throw new Refusal(405, `method ${method} not allowed`);
      }
      record.rawBody = await readBody(request, maxBodyBytes);
      record.body = decompress(record.rawBody, record.contentEncoding, maxBodyBytes);
      encoding = encodingFor(record.contentType, record.body);
      try {
        record.spans =
          encoding === 'protobuf' ? decodeProtobufRequest(record.body, record.index) : decodeJsonRequest(record.body, record.index);
      } catch (error) {
        if (error instanceof OtlpDecodeError) throw new Refusal(400, error.message);
        throw error;
      }
      record.encoding = encoding;
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      request.resume();
      record.status = error.status;
      record.error = error.message;
      send(response, error.status, failureBody(encoding, RPC_INVALID_ARGUMENT, error.message));
      return;
    }

    const behaviour = nextBehaviour();
    const status = behaviour.status ?? 200;
    record.status = status;
    const accepted = status >= 200 && status < 300;
    if (accepted) {
      for (const span of record.spans) if (span.startTimeUnixNano >= keepSpansFrom) spans.push(span);
      settleWaiters();
    }
    const answer = (): void => {
      if (behaviour.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(behaviour.retryAfterSeconds));
      send(
        response,
        status,
        accepted ? successBody(encoding, behaviour) : failureBody(encoding, RPC_UNAVAILABLE, `simulated collector answer ${status}`),
      );
    };
    const delayMs = behaviour.delayMs ?? 0;
    if (delayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      delays.delete(timer);
      answer();
    }, delayMs);
    delays.add(timer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { type: 'text/plain', body: `receiver failed: ${String(error)}` });
    });
  });
  const started = await listenOnLoopback(server);

  const waitForSpans = (query: SpanQuery, waitOptions: WaitOptions = {}): Promise<ReceivedSpan[]> => {
    const predicate = toPredicate(query);
    const count = waitOptions.count ?? 1;
    const timeoutMs = waitOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      if (closed) {
        reject(new ReceiverClosedError('the OTLP receiver is closed'));
        return;
      }
      const found = matching(predicate);
      if (found.length >= count) {
        resolve(found.slice(0, count));
        return;
      }
      const waiter: Waiter = {
        predicate,
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          const matched = matching(predicate).length;
          reject(
            new SpanWaitTimeoutError(
              `timed out after ${timeoutMs} ms waiting for ${count} span(s) ${describeQuery(query)}; ` +
                `${matched} matched.\n${summarise(spans, requests)}`,
            ),
          );
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  };

  return {
    url: started.url,
    tracesUrl: `${started.url}${path}`,
    port: started.port,
    spans,
    requests,
    get rejectedCount() {
      return requests.filter((request) => request.error !== undefined).length;
    },
    waitForSpans,
    async waitForSpan(query, waitOptions = {}) {
      const [span] = await waitForSpans(query, { ...waitOptions, count: 1 });
      return span;
    },
    requestsContaining(needle) {
      const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength);
      return requests.filter((request) => Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).includes(bytes));
    },
    clear(clearOptions) {
      spans.length = 0;
      requests.length = 0;
      const from = clearOptions?.ignoreSpansStartedBefore;
      keepSpansFrom = from === undefined ? 0n : BigInt(Math.floor(from)) * 1_000_000n;
    },
    setResponse(behaviour) {
      if (behaviour === undefined) {
        standing = {};
        temporary = undefined;
      } else if (behaviour.times !== undefined) {
        temporary = { behaviour, remaining: behaviour.times };
      } else {
        standing = behaviour;
        temporary = undefined;
      }
    },
    async close() {
      closed = true;
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new ReceiverClosedError(`the OTLP receiver closed while waiting.\n${summarise(spans, requests)}`));
      }
      waiters.clear();
      await started.close();
    },
  };
}
