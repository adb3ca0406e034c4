import { PAYMENT_OUTCOME_VALUE_PENDING } from '@otel-checkout/semantic-conventions';
import { InvalidArgumentError } from '../errors.js';
import { checked } from '../options.js';
import { safely } from '../safely.js';
import type { CheckoutFlow, PaymentOutcome, PollOptions } from '../types.js';

/** Rejects the way `query` and `poll` document it, whether tracing runs or not. */
export function needsFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`${what} needs a function`);
}

/** The page's `toOutcome` hook, guarded: a hook that throws is reported and maps to nothing. */
export function outcomeOf<T>(toOutcome: ((result: T) => PaymentOutcome | undefined) | undefined, result: T): PaymentOutcome | undefined {
  return safely('the toOutcome hook', () => (typeof toOutcome === 'function' ? toOutcome(result) : undefined));
}

/**
 * The loop behind `flow.poll()`, the same for recording and no-op flows: whether tracing runs
 * must not change what the page sees (how often and when its status query runs, what poll
 * resolves to). Each round goes through the flow's own `query`, so only recording flows record.
 * A failed query is retried; the loop stops at the first outcome other than pending.
 */
export async function pollLoop<T>(
  flow: Pick<CheckoutFlow, 'query'>,
  fn: () => Promise<T>,
  toOutcome: (result: T) => PaymentOutcome | undefined,
  options: PollOptions | undefined,
): Promise<PaymentOutcome | undefined> {
  needsFunction(fn, 'poll');
  // Checked as startCheckoutTracing checks its options: a bad one is reported, not just replaced.
  const interval = checked('poll.intervalMillis', options?.intervalMillis, 2000);
  const attempts = checked('poll.maxAttempts', options?.maxAttempts, 10);
  let outcome: PaymentOutcome | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, interval));
    let mapped: PaymentOutcome | undefined;
    try {
      await flow.query(fn, (result) => (mapped = typeof toOutcome === 'function' ? toOutcome(result) : undefined));
    } catch {
      // The page's query failed (on its span when recording); the next round may succeed.
      continue;
    }
    outcome = mapped;
    if (outcome !== undefined && outcome !== PAYMENT_OUTCOME_VALUE_PENDING) break;
  }
  return outcome;
}
