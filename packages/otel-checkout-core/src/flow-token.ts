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
const MAX_TOKEN_CHARS = /* @__PURE__ */ Math.ceil((MAX_TOKEN_BYTES * 4) / 3);

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

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALPHABET_CODES: number[] = /* @__PURE__ */ Array.from(ALPHABET, (c) => c.charCodeAt(0));

function codesToString(codes: number[]): string {
  if (codes.length <= 4096) return String.fromCharCode.apply(null, codes);
  let out = '';
  for (let i = 0; i < codes.length; i += 4096) out += String.fromCharCode.apply(null, codes.slice(i, i + 4096));
  return out;
}

/** base64url without padding (RFC 4648 section 5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  const codes: number[] = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    codes.push(ALPHABET_CODES[n >> 18], ALPHABET_CODES[(n >> 12) & 63], ALPHABET_CODES[(n >> 6) & 63], ALPHABET_CODES[n & 63]);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    codes.push(ALPHABET_CODES[n >> 18], ALPHABET_CODES[(n >> 12) & 63]);
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    codes.push(ALPHABET_CODES[n >> 18], ALPHABET_CODES[(n >> 12) & 63], ALPHABET_CODES[(n >> 6) & 63]);
  }
  return codesToString(codes);
}

/**
 * Strict base64url decoding: no padding, no other characters, and unused trailing bits must
 * be zero, so every byte string has exactly one accepted spelling (a flipped spare bit
 * cannot make a second, "different" token that verifies).
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  // Four characters make three bytes; one left over makes none, so no encoder writes it.
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array((text.length * 3) >> 2);
  let at = 0;
  let bits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    // Its 6-bit value; -1 for anything else. (Tokens are decoded on callbacks and return
    // pages, not on every request: plain searches are fast enough and keep pages small.)
    const sextet = ALPHABET.indexOf(text[i]);
    if (sextet < 0) return undefined;
    // At most 13 bits are pending at once: 7 left over and 6 new.
    value = ((value << 6) | sextet) & 0x1fff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = value >> bits;
    }
  }
  // The 2 or 4 bits that make no byte at the end must be zero.
  return (value & ((1 << bits) - 1)) === 0 ? out : undefined;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Writes lowercase hex `hex` (of `length` characters) as bytes; false when it is not valid or all zero. */
function hexToBytes(hex: string, length: number, into: Uint8Array, offset: number): boolean {
  if (typeof hex !== 'string' || hex.length !== length) return false;
  let any = 0;
  for (let i = 0; i < length; i += 2) {
    const high = hexDigit(hex.charCodeAt(i));
    const low = hexDigit(hex.charCodeAt(i + 1));
    if (high < 0 || low < 0) return false;
    const byte = (high << 4) | low;
    into[offset + i / 2] = byte;
    any |= byte;
  }
  return any !== 0;
}

function bytesToHex(bytes: Uint8Array, from: number, to: number): string {
  return Array.from(bytes.subarray(from, to), (byte) => (byte < 16 ? '0' : '') + byte.toString(16)).join('');
}

/** All zeros: the W3C invalid trace or span id. */
const ALL_ZEROS = /^0+$/;

/**
 * The bytes to sign for `fields`, or `undefined` when a field is out of range (invalid
 * trace or span id, key id not 1..16 printable ASCII characters, time outside u32).
 */
export function encodeFlowTokenPayload(fields: FlowTokenFields): Uint8Array | undefined {
  const { traceId, spanId, traceFlags, issuedAt, keyId } = fields;
  if (!Number.isInteger(traceFlags) || traceFlags < 0 || traceFlags > 255) return undefined;
  if (!Number.isInteger(issuedAt) || issuedAt < 0 || issuedAt > 0xffffffff) return undefined;
  if (typeof keyId !== 'string' || keyId.length < 1 || keyId.length > FLOW_TOKEN_MAX_KEY_ID_LENGTH) return undefined;
  const payload = new Uint8Array(FIXED_PAYLOAD_LENGTH + keyId.length);
  payload[0] = FLOW_TOKEN_VERSION;
  if (!hexToBytes(traceId, 32, payload, 1) || !hexToBytes(spanId, 16, payload, 17)) return undefined;
  payload[25] = traceFlags;
  payload[26] = (issuedAt >>> 24) & 0xff;
  payload[27] = (issuedAt >>> 16) & 0xff;
  payload[28] = (issuedAt >>> 8) & 0xff;
  payload[29] = issuedAt & 0xff;
  payload[30] = keyId.length;
  for (let i = 0; i < keyId.length; i++) {
    const c = keyId.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
    payload[31 + i] = c;
  }
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
  const keyId = String.fromCharCode(...bytes.subarray(31, payloadLength));
  const traceId = bytesToHex(bytes, 1, 17);
  const spanId = bytesToHex(bytes, 17, 25);
  // The key id is printable ASCII without spaces (`!` to `~`).
  if (!/^[!-~]+$/.test(keyId) || ALL_ZEROS.test(traceId) || ALL_ZEROS.test(spanId)) return MALFORMED;
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
