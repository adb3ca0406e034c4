import http from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { gzip } from 'node:zlib';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { httpAgentFactoryFromOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { ownError } from '../error-summary.js';

/** OpenTelemetry's agent factory type (not exported by name). */
type HttpAgentFactory = ReturnType<typeof httpAgentFactoryFromOptions>;

/** What the transport needs of OpenTelemetry's resolved OTLP/HTTP configuration (options, then `OTEL_EXPORTER_OTLP_*`, then defaults). */
export interface OtlpHttpTransportConfig {
  url: string;
  headers: () => Promise<Record<string, string>>;
  compression: 'gzip' | 'none';
  agentFactory: HttpAgentFactory;
  userAgent?: string;
}

// OpenTelemetry's retry policy for OTLP/HTTP, unchanged: at most 5 retries, exponential
// backoff from 1 s by 1.5 up to 5 s with ±20% jitter, or the collector's Retry-After; never
// past the export's own deadline.
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;
/** Largest collector answer read, as OpenTelemetry's transport. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH']);
const DEFAULT_USER_AGENT = 'otel-checkout-node OTel-OTLP-Exporter-JavaScript';

/**
 * The OTLP/HTTP transport of the package's exporters: OpenTelemetry's transport behaviour
 * (status handling, retries, Retry-After, gzip, agent, user agent, response bound) plus
 * `abort()`. OpenTelemetry's own transport cannot be stopped: once `shutdown()` gave up on a
 * black-hole collector, its request stayed open until its timeout and its retry timers
 * (not unref'd) kept the process alive for seconds after `shutdown()` resolved. Here
 * `abort()` destroys the requests under way and cancels the retry waits, and every later
 * send fails at once; the retry waits are unref'd besides, since the request each waits to
 * make is what should keep a process alive, not the wait.
 */
export class AbortableHttpTransport implements IExporterTransport {
  private aborted = false;
  private agent: Promise<http.Agent | https.Agent> | undefined;
  private readonly requests = new Set<ClientRequest>();
  private readonly waits = new Set<() => void>();

  constructor(private readonly config: OtlpHttpTransportConfig) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let result = await this.sendOnce(data, timeoutMillis);
    let backoff = INITIAL_BACKOFF_MS;
    for (let retries = MAX_RETRIES; result.status === 'retryable' && retries > 0; retries -= 1) {
      const jittered = Math.max(0, Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS));
      backoff *= BACKOFF_MULTIPLIER;
      const waitMs = result.retryInMillis ?? jittered;
      if (waitMs > deadline - Date.now() || !(await this.pause(waitMs))) return result;
      result = await this.sendOnce(data, deadline - Date.now());
    }
    return result;
  }

  /** Ends every request under way and every retry wait; later sends fail at once. For a shutdown that gave up. */
  abort(): void {
    this.aborted = true;
    for (const request of this.requests) request.destroy(abandoned().error);
    this.requests.clear();
    for (const wake of this.waits) wake();
    this.waits.clear();
  }

  shutdown(): void {
    // Nothing of its own stays open: idle keep-alive sockets are unref'd by Node's agent.
  }

  /** Resolves true after `ms`, or false at once when aborted (before or during the wait). */
  private pause(ms: number): Promise<boolean> {
    if (this.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.waits.delete(wake);
        resolve(true);
      }, ms);
      timer.unref();
      this.waits.add(wake);
    });
  }

  private async sendOnce(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    if (this.aborted) return abandoned();
    const url = new URL(this.config.url);
    const [agent, headers, body] = await Promise.all([
      (this.agent ??= Promise.resolve(this.config.agentFactory(url.protocol))),
      this.config.headers(),
      this.config.compression === 'gzip' ? gzipped(data) : Promise.resolve(data),
    ]);
    if (this.aborted) return abandoned();
    const requestHeaders: Record<string, string> = {
      ...headers,
      'User-Agent': this.config.userAgent ? `${this.config.userAgent} ${DEFAULT_USER_AGENT}` : DEFAULT_USER_AGENT,
    };
    if (this.config.compression === 'gzip') requestHeaders['Content-Encoding'] = 'gzip';
    // Read at call time: the module objects instrumentation-http patched.
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<ExportResponse>((resolve) => {
      // Never traced, whoever calls: an export that made spans would be exported in turn.
      const req = context.with(suppressTracing(context.active()), () => request(url, { method: 'POST', headers: requestHeaders, agent }, (res) => readResponse(res, resolve)));
      this.requests.add(req);
      req.on('close', () => this.requests.delete(req));
      req.setTimeout(Math.max(1, timeoutMillis), () => {
        req.destroy();
        resolve({ status: 'retryable', error: ownError('Request timed out') });
      });
      req.on('error', (error: Error & { code?: unknown }) => {
        if (this.aborted) resolve(abandoned());
        else if (typeof error.code === 'string' && RETRYABLE_NETWORK_CODES.has(error.code)) resolve({ status: 'retryable', error });
        else resolve({ status: 'failure', error });
      });
      req.end(body);
    });
  }
}

function readResponse(res: IncomingMessage, resolve: (response: ExportResponse) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      resolve({ status: 'failure', error: ownError(`OTLP export response body exceeded ${MAX_RESPONSE_BYTES} bytes`) });
      res.destroy();
      return;
    }
    chunks.push(chunk);
  });
  const settle = (error?: Error): void => {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status <= 299) resolve(error ? { status: 'success' } : { status: 'success', data: Buffer.concat(chunks) });
    else if (RETRYABLE_STATUS.has(status)) resolve({ status: 'retryable', ...retryAfter(res), ...(error ? { error } : {}) });
    else resolve({ status: 'failure', error: error ?? new OTLPExporterError(res.statusMessage, status, Buffer.concat(chunks).toString()) });
  };
  res.on('end', () => settle());
  res.on('error', (error: Error) => settle(error));
}

/** The collector's Retry-After (seconds or an HTTP date), as OpenTelemetry reads it. */
function retryAfter(res: IncomingMessage): { retryInMillis?: number } {
  const header = res.headers['retry-after'];
  if (header === undefined) return {};
  const seconds = Number.parseInt(header, 10);
  if (Number.isInteger(seconds)) return { retryInMillis: seconds > 0 ? seconds * 1000 : -1 };
  const delay = new Date(header).getTime() - Date.now();
  return delay >= 0 ? { retryInMillis: delay } : {};
}

function gzipped(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => gzip(data, (error, result) => (error ? reject(error) : resolve(result))));
}

function abandoned(): { status: 'failure'; error: Error } {
  return { status: 'failure', error: ownError('export abandoned: tracing was shut down') };
}
