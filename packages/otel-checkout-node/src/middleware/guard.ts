import type { HealthCounters } from '../health.js';

/**
 * Runs a user-supplied hook: if it throws, the error is counted and logged once (per
 * `kind`) and `fallback` is returned, so a bug in a hook never fails a request.
 */
export function runHook<T>(health: HealthCounters, counter: string, kind: string, fallback: T, hook: () => T): T {
  try {
    return hook();
  } catch (error) {
    health.increment(counter);
    health.warnOnce(kind, `the ${kind} hook threw; the request goes on without it`, error);
    return fallback;
  }
}
