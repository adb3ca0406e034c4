import type { RequestView } from '../http/request-view.js';
import type { HealthCounters } from '../health.js';
import { HEALTH_NON_JSON_BODIES } from '../health-names.js';
import type { PaymentRequest } from '../types.js';

/** Bodies larger than this are not parsed for the extractor. */
const MAX_PARSED_BODY_LENGTH = 64 * 1024;

/** The request view plus a `json()` that never throws: a body that is not JSON is counted and yields `undefined`. */
export function paymentRequestOf(view: RequestView, health: HealthCounters): PaymentRequest {
  let parsed: { value: Record<string, unknown> | undefined } | undefined;
  return {
    method: view.method,
    url: view.url,
    headers: view.headers,
    body: view.body,
    rawBody: view.rawBody,
    json(): Record<string, unknown> | undefined {
      parsed ??= { value: parseBody(view, health) };
      return parsed.value;
    },
  };
}

function parseBody(view: RequestView, health: HealthCounters): Record<string, unknown> | undefined {
  const { body, rawBody } = view;
  if (isPlainObject(body)) return body;
  const text = typeof body === 'string' ? body : rawBody === undefined ? undefined : typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  if (text === undefined || text.length === 0) return undefined;
  if (text.length > MAX_PARSED_BODY_LENGTH) {
    health.increment(HEALTH_NON_JSON_BODIES);
    health.warnOnce('body-too-large', 'a request body was too large to read payment details from');
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch {
    // Counted below: non-JSON bodies are expected (forms, XML callbacks) and must not fail the request.
  }
  health.increment(HEALTH_NON_JSON_BODIES);
  health.warnOnce('non-json-body', 'a request body was not a JSON object; payment details were not read from it');
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
