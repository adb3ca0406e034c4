import { HEALTH_HOOK_ERRORS } from '../health-names.js';
import { runtime } from '../runtime.js';

/**
 * Tracing must never fail the application's payment code: an error from inside tracing (a
 * sampler or span processor that throws, a broken provider) is counted in `hookErrors`, said
 * once per kind, and the application's code goes on untraced.
 */
export function tracingFailed(where: string, error: unknown): void {
  const health = runtime().health;
  health.increment(HEALTH_HOOK_ERRORS);
  health.warnOnce(`tracing-failed-${where}`, `tracing failed in ${where}; the application's code goes on untraced`, error);
}
