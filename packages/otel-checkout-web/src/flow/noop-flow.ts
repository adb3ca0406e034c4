import type { CheckoutFlow, PaymentOutcome, SdkInfo } from '../types.js';

const ZERO_TRACE_ID = '00000000000000000000000000000000';

function navigate(url: unknown): void {
  if (typeof url === 'string' && typeof location !== 'undefined') location.assign(url);
}

/**
 * The flow handed out before `startCheckoutTracing`, after `shutdown`, or when a flow could not
 * be started: it records nothing but keeps the page's behaviour (redirects still navigate,
 * `run`/`query` still run the function, `wrapSdk` returns the SDK itself).
 */
export class NoopFlow implements CheckoutFlow {
  readonly traceId = ZERO_TRACE_ID;
  setTradeNo(): void {}
  set(): void {}
  run<T>(fn: () => T): T {
    return fn();
  }
  wrapSdk<T extends object>(sdk: T, _info: SdkInfo): T {
    return sdk;
  }
  retry(): void {}
  fallback(): void {}
  fail(): void {}
  succeed(): void {}
  cancel(): void {}
  redirect(url: string): void {
    navigate(url);
  }
  prepareRedirect(): Promise<void> {
    return Promise.resolve();
  }
  query<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async poll<T>(fn: () => Promise<T>, toOutcome: (result: T) => PaymentOutcome | undefined): Promise<PaymentOutcome | undefined> {
    return toOutcome(await fn());
  }
  answerChallenge(): () => void {
    return () => {};
  }
  end(): void {}
}
