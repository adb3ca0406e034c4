import { diag } from '@opentelemetry/api';
import type { HealthCounters } from '../health.js';

/** What a numeric option must be; `count` is floored (a batch of 10.5 is a batch of 10). */
export type NumberRule = 'positive' | 'nonNegative' | 'count';

const RULE_TEXT: Record<NumberRule, string> = {
  positive: 'a positive number',
  nonNegative: 'a number of zero or more',
  count: 'a number of 1 or more',
};

/**
 * The longest delay Node's timers keep (2^31 - 1 ms, about 24.8 days): a longer one fires after
 * 1 ms, so a timeout of 1e10 ms would time everything out at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options in milliseconds (named `...Ms` or `...Millis`) end up in timers: they are bounded too. */
const isTimerOption = (name: string): boolean => /(Ms|Millis)$/.test(name);

/** Whether `value` (given) satisfies `rule`. */
export function satisfies(value: unknown, rule: NumberRule): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (rule === 'nonNegative') return value >= 0;
  if (rule === 'count') return value >= 1;
  return value > 0;
}

/** Why a numeric option is rejected, or undefined when it is absent or usable. */
export function numberProblem(value: unknown, rule: NumberRule, name: string, fallback: number): string | undefined {
  const timer = isTimerOption(name);
  if (value === undefined || (satisfies(value, rule) && (!timer || value <= MAX_TIMER_MS))) return undefined;
  const shown = typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : `a ${typeof value}`;
  return `option ${name}=${shown} is not ${RULE_TEXT[rule]}${timer ? ` up to ${MAX_TIMER_MS}` : ''}; using ${fallback}`;
}

/**
 * A numeric option checked against `rule`: the value, or its default with the problem counted
 * in `configProblems` and said once (bad configuration is never silent, and never throws).
 */
export function checkedNumber(value: unknown, rule: NumberRule, fallback: number, name: string, health: HealthCounters): number {
  const problem = numberProblem(value, rule, name, fallback);
  if (problem !== undefined) {
    health.rejectOption(name, problem);
    return fallback;
  }
  return value === undefined ? fallback : rule === 'count' ? Math.floor(value as number) : (value as number);
}

/**
 * A numeric option of an object made before any tracing handle exists (a flow store): a
 * problem is said through `diag` at once and kept in `problems`, so the flows count it in
 * `configProblems` when the object is handed to them.
 */
export function collectedNumber(value: unknown, rule: NumberRule, fallback: number, name: string, problems: string[]): number {
  const problem = numberProblem(value, rule, name, fallback);
  if (problem !== undefined) {
    problems.push(problem);
    diag.warn(`@otel-checkout/node: ${problem}`);
    return fallback;
  }
  return value === undefined ? fallback : rule === 'count' ? Math.floor(value as number) : (value as number);
}
