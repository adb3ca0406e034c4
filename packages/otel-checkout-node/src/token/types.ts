import type { FlowTokenAgeFailure, FlowTokenDecodeFailure, FlowTokenFields } from '@otel-checkout/core';
import type {
  PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE,
  PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY,
} from '@otel-checkout/semantic-conventions/incubating';

/** One HMAC key: `id` (1..16 printable ASCII characters, carried in the token) and its secret (at least 16 bytes). */
export interface FlowTokenKey {
  id: string;
  secret: string | Uint8Array;
}

/** Signing keys: tokens are signed with `current`; `current` and every `previous` key verify. */
export interface FlowTokenKeys {
  current: FlowTokenKey;
  previous?: readonly FlowTokenKey[];
}

/** Why a token was refused (values of `payment.context.rejected`). */
export type FlowTokenRejection =
  | FlowTokenDecodeFailure
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_UNKNOWN_KEY
  | typeof PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE
  | FlowTokenAgeFailure;

/** What a verified token says; `issuedAt` in seconds since the Unix epoch. */
export type VerifiedFlowToken = FlowTokenFields;

export type FlowTokenVerifyResult =
  | { readonly ok: true; readonly token: VerifiedFlowToken }
  | { readonly ok: false; readonly reason: FlowTokenRejection };
