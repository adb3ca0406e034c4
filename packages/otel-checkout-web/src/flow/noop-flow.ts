import { INVALID_TRACEID } from '@opentelemetry/api';
import type { CheckoutFlow, PaymentOutcome, PollOptions } from '../types.js';
import { needsFunction, outcomeOf, pollLoop } from './poll.js';

const nothing = (): void => {};

/**
 * The flow handed out before `startCheckoutTracing`, after `shutdown`, or when a flow could not
 * be started: it records nothing but keeps the page's behaviour (redirects still navigate,
 * `run`/`query`/`poll` still run the function as a recording flow would, `wrapSdk` returns the
 * SDK itself), so turning tracing off never changes what the page does.
 */
export const NOOP_FLOW: CheckoutFlow = Object.freeze({
  traceId: INVALID_TRACEID,
  setTradeNo: nothing,
  set: nothing,
  run: <T>(fn: () => T): T => (typeof fn === 'function' ? fn() : (undefined as T)),
  wrapSdk: <T extends object>(sdk: T): T => sdk,
  retry: nothing,
  fallback: nothing,
  fail: nothing,
  succeed: nothing,
  cancel: nothing,
  end: nothing,
  redirect(url: string): void {
    if (typeof url === 'string') globalThis.location?.assign(url);
  },
  prepareRedirect: () => Promise.resolve(),
  // Still the application's own call: its result or error is the caller's, as without tracing.
  async query<T>(fn: () => Promise<T>, toOutcome?: (result: T) => PaymentOutcome | undefined): Promise<T> {
    needsFunction(fn, 'query');
    const result = await fn();
    // A recording flow calls the hook too (for its span); poll reads the outcome through it.
    outcomeOf(toOutcome, result);
    return result;
  },
  poll: <T>(fn: () => Promise<T>, toOutcome: (result: T) => PaymentOutcome | undefined, options?: PollOptions) => pollLoop(NOOP_FLOW, fn, toOutcome, options),
  answerChallenge: () => nothing,
});
