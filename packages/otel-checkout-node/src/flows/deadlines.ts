import type { FlowDeadlineRule, FlowDeadlines } from './types.js';

const DEFAULT_DEADLINE_SECONDS = 1800;

/** Resolves the callback deadline (seconds) of a flow from its provider and method. */
export function deadlineSeconds(deadlines: FlowDeadlines | undefined, provider?: string, method?: string): number {
  if (typeof deadlines === 'number') return valid(deadlines) ?? DEFAULT_DEADLINE_SECONDS;
  if (deadlines === undefined || deadlines === null || typeof deadlines !== 'object') return DEFAULT_DEADLINE_SECONDS;
  const rules: readonly FlowDeadlineRule[] = Array.isArray(deadlines.rules) ? deadlines.rules : [];
  for (const rule of rules) {
    if (rule.provider !== undefined && rule.provider !== provider) continue;
    if (rule.method !== undefined && rule.method !== method) continue;
    const seconds = valid(rule.seconds);
    if (seconds !== undefined) return seconds;
  }
  return valid(deadlines.default) ?? DEFAULT_DEADLINE_SECONDS;
}

function valid(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
