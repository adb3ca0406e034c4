import {
  PAYMENT_FAILURE_REASON_VALUE_NETWORK,
  PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR,
  PAYMENT_FAILURE_REASON_VALUE_TIMEOUT,
} from '@otel-checkout/semantic-conventions';
import type { FailureReason } from '../types.js';

// Node's socket and DNS codes, and undici's (the global fetch): a timeout waiting to connect or for an answer.
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

// The provider could not be reached, or the connection broke before an answer came.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
]);

// AbortSignal.timeout rejects with a DOMException named TimeoutError; an abort is kept a timeout too,
// since a provider call is mostly aborted because it took too long.
const TIMEOUT_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError']);

// fetch wraps the socket error as `cause` (sometimes twice, or in an AggregateError when several
// addresses were tried); deeper than this is not an error chain a client library builds.
const MAX_DEPTH = 5;
const MAX_VISITED = 32;

/**
 * A failure reason guessed from a thrown error: timeouts and network errors by their usual codes and
 * names, looked for on the error, along its `cause` chain and in an AggregateError's `errors`.
 */
export function failureReasonOf(error: unknown): FailureReason {
  const seen = new Set<object>();
  let level: unknown[] = [error];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth += 1) {
    const next: unknown[] = [];
    for (const candidate of level) {
      if (typeof candidate !== 'object' || candidate === null || seen.has(candidate)) continue;
      if (seen.size >= MAX_VISITED) return PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR;
      seen.add(candidate);
      const reason = reasonOfOne(candidate);
      if (reason !== undefined) return reason;
      next.push(...linkedErrors(candidate));
    }
    level = next;
  }
  return PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR;
}

function reasonOfOne(candidate: object): FailureReason | undefined {
  const code = read(candidate, 'code');
  const name = read(candidate, 'name');
  if ((typeof name === 'string' && TIMEOUT_NAMES.has(name)) || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    return PAYMENT_FAILURE_REASON_VALUE_TIMEOUT;
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return PAYMENT_FAILURE_REASON_VALUE_NETWORK;
  return undefined;
}

function linkedErrors(candidate: object): unknown[] {
  const linked: unknown[] = [];
  const cause = read(candidate, 'cause');
  if (cause !== undefined) linked.push(cause);
  const errors = read(candidate, 'errors');
  if (Array.isArray(errors)) linked.push(...(errors as unknown[]).slice(0, MAX_VISITED));
  return linked;
}

// A thrown value is anything the caller's code made: a getter that throws must not stop the guess.
function read(candidate: object, key: string): unknown {
  try {
    return (candidate as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
