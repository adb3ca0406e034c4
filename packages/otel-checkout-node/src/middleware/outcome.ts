import {
  PAYMENT_FAILURE_REASON_VALUE_INTERNAL,
  PAYMENT_FAILURE_REASON_VALUE_INVALID_REQUEST,
  PAYMENT_OUTCOME_VALUE_FAILED,
} from '@otel-checkout/semantic-conventions';
import type { OutcomeHook } from '../types.js';

/**
 * The default outcome of a payment route: a 5xx is a failure of ours (`internal`), a 4xx is a
 * rejected request (`invalid_request`), also when an error was thrown or passed on: the
 * application's error handler answered it as the client's fault (a body its parser refused,
 * a validation error with a 4xx status). Any other thrown error is `internal`. A success
 * response says nothing about the payment itself, which `recordOutcome` or the callback decides.
 */
export const defaultOutcome: OutcomeHook = ({ statusCode, error }) => {
  if (statusCode >= 400 && statusCode < 500) return { outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_INVALID_REQUEST };
  if (error !== undefined || statusCode >= 500) return { outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_INTERNAL };
  return undefined;
};
