import type { SpanContext } from '@opentelemetry/api';
import { PAYMENT_CONTEXT_REJECTED_VALUE_UNVERIFIED } from '@otel-checkout/semantic-conventions/incubating';
import { parseTraceparent } from '../traceparent.js';

export type VerifyResult = { readonly ok: true; readonly parent: SpanContext } | { readonly ok: false; readonly reason: string };

const REASON = /^[a-z_]{1,32}$/;

/**
 * Asks the backend's verify handler about a URL token: `GET verifyUrl?<param>=<token>`,
 * answered with JSON `{ "valid": true, "traceparent": "00-…" }` or `{ "valid": false,
 * "reason": "bad_signature" }`. Anything else (network error, timeout, odd JSON) leaves the
 * token unverified. Never rejects.
 */
export async function verifyToken(fetchFn: typeof fetch, verifyUrl: string, param: string, token: string, timeoutMillis: number): Promise<VerifyResult> {
  const unverified: VerifyResult = { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_UNVERIFIED };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMillis);
  try {
    const url = new URL(verifyUrl, location.href);
    url.searchParams.set(param, token);
    const response = await fetchFn.call(globalThis, url.href, { credentials: 'same-origin', signal: abort.signal, headers: { Accept: 'application/json' } });
    // Any JSON: null, a number or a string has neither `valid` nor a `reason`, so it is unverified.
    const body = (await response.json()) as { valid?: unknown; traceparent?: unknown; reason?: unknown } | null;
    if (body?.valid === true) {
      const parent = parseTraceparent(body.traceparent);
      return parent === undefined ? unverified : { ok: true, parent };
    }
    const reason = body?.reason;
    return typeof reason === 'string' && REASON.test(reason) ? { ok: false, reason } : unverified;
  } catch {
    return unverified;
  } finally {
    clearTimeout(timer);
  }
}
