import { createHmac } from 'node:crypto';
import { decodeFlowToken, encodeFlowTokenPayload, joinFlowToken } from '@otel-checkout/core';

/**
 * What an attacker can do with a return URL: keep the genuine token's trace and span ids but
 * sign it with a key they guessed. The backend's verify handler must reject it.
 */
export function forgeReturnUrl(returnUrl: string, tokenParam = 'otc_flow'): string {
  const url = new URL(returnUrl);
  const decoded = decodeFlowToken(url.searchParams.get(tokenParam));
  if (!decoded.ok) throw new Error(`the return URL carries no flow token (${decoded.reason})`);
  const payload = encodeFlowTokenPayload(decoded.token);
  if (payload === undefined) throw new Error('cannot re-encode the flow token');
  const mac = createHmac('sha256', 'a-guessed-secret-0123456789').update(payload).digest();
  url.searchParams.set(tokenParam, joinFlowToken(payload, mac));
  return url.toString();
}
