import {
  PAYMENT_CONTEXT_REJECTED_VALUE_EXPIRED,
  PAYMENT_CONTEXT_REJECTED_VALUE_FUTURE,
  PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED,
  PAYMENT_CONTEXT_REJECTED_VALUE_UNSUPPORTED_VERSION,
} from '@otel-checkout/semantic-conventions/incubating';

/**
 * The flow token's wire format (see docs/flow-model.md, "The flow token"):
 *
 *   base64url( version | traceId(16) | spanId(8) | traceFlags | issuedAt(u32 BE) | keyIdLength | keyId | mac(16) )
 *
 * Only the format lives here, with no crypto: the browser decodes a token (to read the
 * trace id and check its age) but cannot check its signature; the Node package signs and
 * verifies. Nothing here uses Node or DOM APIs, so base64url is written by hand.
 */

export const FLOW_TOKEN_VERSION = 1;
/** Bytes of the truncated HMAC-SHA256 carried at the end of the token. */
export const FLOW_TOKEN_MAC_LENGTH = 16;
export const FLOW_TOKEN_MAX_KEY_ID_LENGTH = 16;

const FIXED_PAYLOAD_LENGTH = 1 + 16 + 8 + 1 + 4 + 1;
const MAX_TOKEN_BYTES = FIXED_PAYLOAD_LENGTH + FLOW_TOKEN_MAX_KEY_ID_LENGTH + FLOW_TOKEN_MAC_LENGTH;
// Longest base64url text that can hold MAX_TOKEN_BYTES; anything longer is rejected before any work.
const MAX_TOKEN_CHARS = Math.ceil((MAX_TOKEN_BYTES * 4) / 3);

/** What a token says; `issuedAt` is in whole seconds since the Unix epoch. */
export interface FlowTokenFields {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex characters (the flow's `payment.create` span), not all zero. */
  readonly spanId: string;
  /** W3C trace flags, 0..255. */
  readonly traceFlags: number;
  readonly issuedAt: number;
  /** 1..16 printable ASCII characters naming the signing key. */
  readonly keyId: string;
}

/** A decoded token: its fields, the signed bytes and the MAC to check them against. */
export interface DecodedFlowToken extends FlowTokenFields {
  readonly version: number;
  /** The signed part of the token. */
  readonly payload: Uint8Array;
  readonly mac: Uint8Array;
}

/** Why a token could not be decoded (values of `payment.context.rejected`). */
export type FlowTokenDecodeFailure =
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_UNSUPPORTED_VERSION;

export type FlowTokenDecodeResult =
  | { readonly ok: true; readonly token: DecodedFlowToken }
  | { readonly ok: false; readonly reason: FlowTokenDecodeFailure };

/** Why a token's issue time is not acceptable (values of `payment.context.rejected`). */
export type FlowTokenAgeFailure =
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_EXPIRED
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_FUTURE;

const HEX = /^[0-9a-f]+$/;
const KEY_ID = /^[\x21-\x7e]{1,16}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALPHABET_INDEX: Int16Array = (() => {
  const index = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) index[ALPHABET.charCodeAt(i)] = i;
  return index;
})();

/** base64url without padding (RFC 4648 section 5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Strict base64url decoding: no padding, no other characters, and unused trailing bits must
 * be zero, so every byte string has exactly one accepted spelling (a flipped spare bit
 * cannot make a second, "different" token that verifies).
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? ALPHABET_INDEX[code] : -1;
    if (digit < 0) return undefined;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
      value &= (1 << bits) - 1;
    }
  }
  if (value !== 0) return undefined;
  return out;
}

function hexToBytes(hex: string, into: Uint8Array, offset: number): void {
  for (let i = 0; i < hex.length; i += 2) into[offset + i / 2] = parseInt(hex.slice(i, i + 2), 16);
}

function bytesToHex(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}

function isValidId(hex: string, length: number): boolean {
  return hex.length === length && HEX.test(hex) && !/^0+$/.test(hex);
}

/**
 * The bytes to sign for `fields`, or `undefined` when a field is out of range (invalid
 * trace or span id, key id not 1..16 printable ASCII characters, time outside u32).
 */
export function encodeFlowTokenPayload(fields: FlowTokenFields): Uint8Array | undefined {
  const { traceId, spanId, traceFlags, issuedAt, keyId } = fields;
  if (!isValidId(traceId, 32) || !isValidId(spanId, 16)) return undefined;
  if (!Number.isInteger(traceFlags) || traceFlags < 0 || traceFlags > 255) return undefined;
  if (!Number.isInteger(issuedAt) || issuedAt < 0 || issuedAt > 0xffffffff) return undefined;
  if (!KEY_ID.test(keyId)) return undefined;
  const payload = new Uint8Array(FIXED_PAYLOAD_LENGTH + keyId.length);
  payload[0] = FLOW_TOKEN_VERSION;
  hexToBytes(traceId, payload, 1);
  hexToBytes(spanId, payload, 17);
  payload[25] = traceFlags;
  payload[26] = (issuedAt >>> 24) & 0xff;
  payload[27] = (issuedAt >>> 16) & 0xff;
  payload[28] = (issuedAt >>> 8) & 0xff;
  payload[29] = issuedAt & 0xff;
  payload[30] = keyId.length;
  for (let i = 0; i < keyId.length; i++) payload[31 + i] = keyId.charCodeAt(i);
  return payload;
}

/** The token text for a signed payload; `mac` is truncated to FLOW_TOKEN_MAC_LENGTH bytes. */
export function joinFlowToken(payload: Uint8Array, mac: Uint8Array): string {
  const bytes = new Uint8Array(payload.length + FLOW_TOKEN_MAC_LENGTH);
  bytes.set(payload, 0);
  bytes.set(mac.subarray(0, FLOW_TOKEN_MAC_LENGTH), payload.length);
  return encodeBase64Url(bytes);
}

const MALFORMED = { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED } as const;

/**
 * Reads a token's fields without checking its signature. Never throws: anything that is not
 * a well-formed token of a known version is `malformed` or `unsupported_version`.
 */
export function decodeFlowToken(token: unknown): FlowTokenDecodeResult {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) return MALFORMED;
  const bytes = decodeBase64Url(token);
  if (bytes === undefined || bytes.length < 1) return MALFORMED;
  if (bytes[0] !== FLOW_TOKEN_VERSION) {
    return { ok: false, reason: PAYMENT_CONTEXT_REJECTED_VALUE_UNSUPPORTED_VERSION };
  }
  if (bytes.length < FIXED_PAYLOAD_LENGTH + 1 + FLOW_TOKEN_MAC_LENGTH) return MALFORMED;
  const keyIdLength = bytes[30];
  if (keyIdLength < 1 || keyIdLength > FLOW_TOKEN_MAX_KEY_ID_LENGTH) return MALFORMED;
  const payloadLength = FIXED_PAYLOAD_LENGTH + keyIdLength;
  if (bytes.length !== payloadLength + FLOW_TOKEN_MAC_LENGTH) return MALFORMED;
  let keyId = '';
  for (let i = 31; i < payloadLength; i++) {
    const c = bytes[i];
    if (c < 0x21 || c > 0x7e) return MALFORMED;
    keyId += String.fromCharCode(c);
  }
  const traceId = bytesToHex(bytes, 1, 17);
  const spanId = bytesToHex(bytes, 17, 25);
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return MALFORMED;
  const issuedAt = ((bytes[26] << 24) >>> 0) + (bytes[27] << 16) + (bytes[28] << 8) + bytes[29];
  return {
    ok: true,
    token: {
      version: FLOW_TOKEN_VERSION,
      traceId,
      spanId,
      traceFlags: bytes[25],
      issuedAt,
      keyId,
      payload: bytes.subarray(0, payloadLength),
      mac: bytes.subarray(payloadLength),
    },
  };
}

/**
 * Checks an issue time against a maximum age and a clock-skew allowance (all in seconds).
 * Returns the rejection reason, or `undefined` when the age is acceptable.
 */
export function checkFlowTokenAge(
  issuedAt: number,
  nowSeconds: number,
  maxAgeSeconds: number,
  skewSeconds: number,
): FlowTokenAgeFailure | undefined {
  if (issuedAt > nowSeconds + skewSeconds) return PAYMENT_CONTEXT_REJECTED_VALUE_FUTURE;
  if (nowSeconds - issuedAt > maxAgeSeconds + skewSeconds) return PAYMENT_CONTEXT_REJECTED_VALUE_EXPIRED;
  return undefined;
}
