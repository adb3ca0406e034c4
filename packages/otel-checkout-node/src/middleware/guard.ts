import type { HealthCounters } from '../health.js';

/**
 * Runs a user-supplied hook on `argument`: if it throws, the error is counted and logged once
 * (per `kind`) and `fallback` is returned, so a bug in a hook never fails a request. The
 * argument is passed on rather than captured, so the hooks run per request need no closure.
 *
 * Hooks are synchronous: the request's spans are annotated while it is under way, so there is
 * nothing to wait for an answer with. An `async` hook (or any hook that returns a promise or
 * another thenable) is a hook error too, counted in the same counter and said once: its promise
 * is given a rejection handler, so a hook that rejects never becomes an unhandled rejection
 * (which ends a Node process), and no value it settles with is used.
 */
export function runHook<A, T>(health: HealthCounters, counter: string, kind: string, fallback: T, hook: (argument: A) => T, argument: A): T {
  let result: T;
  try {
    result = hook(argument);
    if (!isThenable(result)) return result;
  } catch (error) {
    health.increment(counter);
    health.warnOnce(kind, `the ${kind} hook threw; the request goes on without it`, error);
    return fallback;
  }
  ignoreSettlement(result);
  health.increment(counter);
  health.warnOnce(
    `${kind} promise`,
    `the ${kind} hook returned a promise (an async function?); hooks must be synchronous, so what it resolves or rejects with is not used, and the request goes on without it`,
  );
  return fallback;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  // Only objects and functions can have a `then`; reading it on anything else would box a primitive.
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

const ignore = (): void => undefined;

/**
 * Handles the settlement of a hook's promise without using it. `Promise.resolve` hands a native
 * promise back as it is, whose rejection the handler then marks handled, and adopts any other
 * thenable (calling its `then` later, where a throw only rejects the adopting promise).
 */
function ignoreSettlement(thenable: PromiseLike<unknown>): void {
  try {
    Promise.resolve(thenable).then(ignore, ignore);
  } catch {
    // Only a promise whose `constructor` cannot be read gets here: handle it directly.
    try {
      thenable.then(ignore, ignore);
    } catch {
      // nothing more can be done with it
    }
  }
}
