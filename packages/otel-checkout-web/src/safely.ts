import { diag } from '@opentelemetry/api';

/** A warning through `diag`, under the package's name: the page's logger shows whose it is. */
export function warn(message: string): void {
  diag.warn(`@otel-checkout/web: ${message}`);
}

/**
 * Runs `fn` and returns its result, or `fallback` if it throws: neither the page's hooks nor
 * this package's own bookkeeping may throw into the checkout page. The diagnostic names what
 * failed, never the error: a hook reads the payment form or the status answer, and its error
 * may quote them (console output can be shipped by monitoring tools).
 */
export function safely<T>(what: string, fn: () => T, fallback: T): T;
export function safely<T>(what: string, fn: () => T): T | undefined;
export function safely<T>(what: string, fn: () => T, fallback?: T): T | undefined {
  try {
    return fn();
  } catch {
    warn(`${what} failed`);
    return fallback;
  }
}
