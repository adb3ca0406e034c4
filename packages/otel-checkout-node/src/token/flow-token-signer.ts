import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  checkFlowTokenAge,
  decodeFlowToken,
  encodeFlowTokenPayload,
  FLOW_TOKEN_MAC_LENGTH,
  FLOW_TOKEN_MAX_KEY_ID_LENGTH,
  joinFlowToken,
} from '@otel-checkout/core';
import {
  PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE,
  PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY,
} from '@otel-checkout/semantic-conventions/incubating';
import { FlowTokenKeyError } from '../flows/errors.js';
import type { FlowTokenKey, FlowTokenKeys, FlowTokenRejection, FlowTokenVerifyResult } from './types.js';

/** Shorter secrets are refused: a truncated 128-bit MAC deserves at least a 128-bit key. */
export const MIN_SECRET_BYTES = 16;
// The token format's rule for key ids (see encodeFlowTokenPayload).
const KEY_ID = new RegExp(`^[\\x21-\\x7e]{1,${FLOW_TOKEN_MAX_KEY_ID_LENGTH}}$`);

function secretBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}

/**
 * The problems with a key set, empty when it is usable. A key is named by its place in the set
 * (`keys.current`, `keys.previous[0]`), never by its id: these messages are logged, and a key
 * whose id and secret were swapped would otherwise have its secret printed.
 */
export function flowTokenKeyProblems(keys: FlowTokenKeys | undefined): string[] {
  if (keys === undefined || keys === null || typeof keys !== 'object') return ['no keys configured'];
  const previous: readonly unknown[] = Array.isArray(keys.previous) ? keys.previous : [];
  const all: Array<[string, unknown]> = [['keys.current', keys.current], ...previous.map((key, i): [string, unknown] => [`keys.previous[${i}]`, key])];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [place, key] of all) {
    if (key === undefined || key === null || typeof key !== 'object') {
      problems.push(`${place} is not an object { id, secret }`);
      continue;
    }
    const { id, secret } = key as Partial<FlowTokenKey>;
    if (typeof id !== 'string' || !KEY_ID.test(id)) problems.push(`${place} id must be 1..${FLOW_TOKEN_MAX_KEY_ID_LENGTH} printable ASCII characters`);
    else if (seen.has(id)) problems.push(`${place} id appears twice in the key set`);
    else seen.add(id);
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) problems.push(`${place} has no secret`);
    else if (secretBytes(secret).length < MIN_SECRET_BYTES) {
      problems.push(`${place} secret is shorter than ${MIN_SECRET_BYTES} bytes`);
    }
  }
  return problems;
}

/** Limits a verification applies, in seconds. */
export interface FlowTokenCheck {
  maxAgeSeconds: number;
  clockSkewSeconds: number;
}

/**
 * Mints and verifies flow tokens with HMAC-SHA256 (truncated to 16 bytes). Tokens are signed
 * with the current key; the current and every previous key verify, so keys rotate without
 * breaking tokens already handed to providers.
 */
export class FlowTokenSigner {
  private readonly currentId: string;
  private readonly keys = new Map<string, KeyObject>();

  /** @throws FlowTokenKeyError when the keys are unusable (see `flowTokenKeyProblems`). */
  constructor(keys: FlowTokenKeys) {
    const problems = flowTokenKeyProblems(keys);
    if (problems.length > 0) throw new FlowTokenKeyError(`flow token keys: ${problems.join('; ')}`);
    this.currentId = keys.current.id;
    for (const key of [keys.current, ...(keys.previous ?? [])]) {
      this.keys.set(key.id, createSecretKey(secretBytes(key.secret)));
    }
  }

  /** A token for the span context, or `undefined` when the ids are invalid. */
  mint(flow: { traceId: string; spanId: string; traceFlags: number }, nowSeconds: number): string | undefined {
    const payload = encodeFlowTokenPayload({
      traceId: flow.traceId,
      spanId: flow.spanId,
      traceFlags: flow.traceFlags,
      issuedAt: Math.floor(nowSeconds),
      keyId: this.currentId,
    });
    if (payload === undefined) return undefined;
    return joinFlowToken(payload, this.mac(this.keys.get(this.currentId)!, payload));
  }

  /** Verifies a token; never throws, whatever `token` is. */
  verify(token: unknown, check: FlowTokenCheck, nowSeconds: number): FlowTokenVerifyResult {
    const decoded = decodeFlowToken(token);
    if (!decoded.ok) return decoded;
    const { token: t } = decoded;
    const key = this.keys.get(t.keyId);
    if (key === undefined) return reject(PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY);
    const expected = this.mac(key, t.payload);
    // Both are FLOW_TOKEN_MAC_LENGTH bytes (decode guarantees the token's), as timingSafeEqual requires.
    if (!timingSafeEqual(t.mac, expected.subarray(0, FLOW_TOKEN_MAC_LENGTH))) {
      return reject(PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE);
    }
    const age = checkFlowTokenAge(t.issuedAt, Math.floor(nowSeconds), check.maxAgeSeconds, check.clockSkewSeconds);
    if (age !== undefined) return reject(age);
    return {
      ok: true,
      token: { traceId: t.traceId, spanId: t.spanId, traceFlags: t.traceFlags, issuedAt: t.issuedAt, keyId: t.keyId },
    };
  }

  private mac(key: KeyObject, payload: Uint8Array): Buffer {
    return createHmac('sha256', key).update(payload).digest();
  }
}

function reject(reason: FlowTokenRejection): FlowTokenVerifyResult {
  return { ok: false, reason };
}
