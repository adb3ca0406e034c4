import { formatTraceparent } from '@otel-checkout/core';
import { PAYMENT_CONTEXT_REJECTED_VALUE_MISSING } from '@otel-checkout/semantic-conventions/incubating';
import type { Flows } from '../flows/flows.js';
import { queryParam } from '../callback/read-token-sources.js';
import { runtime } from '../runtime.js';
import type { FlowTokenRejection } from '../token/types.js';

/** The verify handler's answer to the browser (also the JSON body it sends). */
export type VerifyTokenAnswer =
  | { valid: true; traceparent: string }
  | { valid: false; reason: FlowTokenRejection | typeof PAYMENT_CONTEXT_REJECTED_VALUE_MISSING };

/** Options of the verify handlers and of `traceparentMeta`. */
export interface VerifyTokenOptions {
  /** The flows whose keys verify. Default: those of the running `startCheckoutTracing`. */
  flows?: Flows;
}

/**
 * Verifies a return-URL token (short maximum age) for the browser, which cannot check the
 * signature itself. The answer never echoes the token.
 */
export function verifyReturnToken(token: unknown, options: VerifyTokenOptions = {}): VerifyTokenAnswer {
  if (typeof token !== 'string' || token === '') return { valid: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_MISSING };
  const flows = options.flows ?? runtime().flows;
  const result = flows.verifyToken(token, 'return');
  return result.ok ? { valid: true, traceparent: formatTraceparent(result.token) } : { valid: false, reason: result.reason };
}

/**
 * `<meta name="traceparent" content="...">` for a server-rendered return page, when the
 * request URL carries a token that verifies (return-URL maximum age); an empty string otherwise.
 * The web package's `checkout.resume()` continues the flow from it.
 */
export function traceparentMeta(requestUrl: string, options: VerifyTokenOptions = {}): string {
  try {
    const flows = options.flows ?? runtime().flows;
    const answer = verifyReturnToken(tokenInUrl(requestUrl, flows.tokenParam), { flows });
    // traceparent is hex digits and dashes only, nothing to escape.
    return answer.valid ? `<meta name="traceparent" content="${answer.traceparent}">` : '';
  } catch {
    return '';
  }
}

/** The token in a request URL's query (path + query or absolute URL). */
function tokenInUrl(url: unknown, param: string): string | undefined {
  return typeof url === 'string' ? queryParam(url, param) : undefined;
}

/** The token a verify request carries: `?<tokenParam>=` in the URL, or `token` in a JSON body. */
export function tokenOfVerifyRequest(url: string, body: unknown, param: string): string | undefined {
  const inUrl = tokenInUrl(url, param);
  if (inUrl !== undefined) return inUrl;
  if (body !== null && typeof body === 'object' && typeof (body as { token?: unknown }).token === 'string') {
    return (body as { token: string }).token;
  }
  return undefined;
}
