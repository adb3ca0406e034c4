import type { Context, Span } from '@opentelemetry/api';
import type { Flows } from '../flows/flows.js';
import type { FailureReason, PaymentOutcome, PaymentRequest, ProviderStatusTable } from '../types.js';

/** What a callback says about the payment, for the `outcome` hook. */
export interface CallbackOutcome {
  outcome: PaymentOutcome;
  reason?: FailureReason;
}

/** A callback body as fields: a parsed object as it is, a raw JSON or form body parsed; `undefined` when there is none. */
export type CallbackFields = Readonly<Record<string, unknown>> | undefined;

/** Options of the callback middleware (`expressCallback`, `fastifyCallback`, `koaCallback`, `httpCallback`). */
export interface CallbackOptions {
  /** Body fields (JSON or form, parsed or raw) that may carry the token. Default `[tokenParam]` (`otc_flow`). */
  bodyFields?: readonly string[];
  /** Request header that may carry the token. Default `x-otc-flow`. */
  header?: string;
  /** Body field that holds the value of `payments.passback()` (the provider's pass-back/metadata field). Default: none. */
  passbackField?: string;
  /**
   * Reads the trade number from the callback, to find the flow in the store; `fields` is the body
   * as fields (JSON or form, parsed or raw). A safe integer counts as its decimal string (a JSON
   * body's `12345` is the flow recorded as "12345"); any other value that is neither a string nor
   * `undefined` is ignored, counted in `hookErrors` and said once through `diag`. Default: none (store not used).
   */
  tradeNo?: (request: PaymentRequest, fields: CallbackFields) => string | number | undefined;
  /** `payment.provider` of the callback when the flow store does not know it. Default: the flow's provider. */
  provider?: string;
  /** Reads the provider's raw status from the callback (`payment.provider.status`), mapped through `statusTable` when given. Default: none. */
  status?: (request: PaymentRequest, fields: CallbackFields) => string | number | undefined;
  /**
   * Raw status → outcome table for `status` (as `mapProviderStatus`). A `pending` status, and
   * one the table does not map (`unknown`, `unmapped_status`), keep the flow waiting for the
   * provider's next notification instead of ending it. Default: none.
   */
  statusTable?: ProviderStatusTable;
  /** Decides the outcome directly; wins over `statusTable` (the raw status `status` reads is still recorded). `pending`, and `unknown` with reason `unmapped_status`, keep the flow waiting. Default: none. */
  outcome?: (request: PaymentRequest, fields: CallbackFields) => CallbackOutcome | PaymentOutcome | undefined;
  /** The flows to correlate with. Default: those of the running `startCheckoutTracing`. */
  flows?: Flows;
}

/** One callback request being traced; the adapter runs the handler inside `context` and calls `end`. */
export interface CallbackScope {
  /** The context to run the handler in (`payment.callback` active); the request's own context when not traced. */
  readonly context: Context;
  /** The `payment.callback` span, when one was started. */
  readonly span: Span | undefined;
  /** Records an error thrown by the handler. */
  recordError(error: unknown): void;
  /**
   * Ends the span with the response's status code (idempotent). `complete: false` says the
   * connection closed before the whole response went out: the span then records no status
   * code, and an error (`error.type` `_OTHER`).
   */
  end(statusCode?: number, complete?: boolean): void;
}
