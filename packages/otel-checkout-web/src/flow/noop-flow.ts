import type { CheckoutFlow, PaymentOutcome } from '../types.js';

const nothing = (): void => {};

/**
 * The flow handed out before `startCheckoutTracing`, after `shutdown`, or when a flow could not
 * be started: it records nothing but keeps the page's behaviour (redirects still navigate,
 * `run`/`query` still run the function, `wrapSdk` returns the SDK itself).
 */
export const NOOP_FLOW: CheckoutFlow = Object.freeze({
  traceId: '00000000000000000000000000000000',
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
    if (typeof url === 'string') location.assign(url);
  },
  prepareRedirect: () => Promise.resolve(),
  // Still the application's own call: its result or error is the caller's, as without tracing.
  query: async <T>(fn: () => Promise<T>): Promise<T> => fn(),
  poll: async <T>(fn: () => Promise<T>, toOutcome: (result: T) => PaymentOutcome | undefined) => {
    const result = await fn();
    return typeof toOutcome === 'function' ? toOutcome(result) : undefined;
  },
  answerChallenge: () => nothing,
});
