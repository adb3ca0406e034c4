import type { HealthCounters } from '../health.js';

/**
 * Runs a user-supplied hook on `argument`: if it throws, the error is counted and logged once
 * (per `kind`) and `fallback` is returned, so a bug in a hook never fails a request. The
 * argument is passed on rather than captured, so the hooks run per request need no closure.
 */
export function runHook<A, T>(health: HealthCounters, counter: string, kind: string, fallback: T, hook: (argument: A) => T, argument: A): T {
  try {
    return hook(argument);
  } catch (error) {
    health.increment(counter);
    health.warnOnce(kind, `the ${kind} hook threw; the request goes on without it`, error);
    return fallback;
  }
}
