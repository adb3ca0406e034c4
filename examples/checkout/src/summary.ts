import { PAYMENT_OUTCOME_VALUE_STALLED, PAYMENT_OUTCOME_VALUE_SUCCEEDED } from '@otel-checkout/semantic-conventions/incubating';

/** One played checkout, as the demo saw it over the wire. */
export interface FlowResult {
  readonly scenario: string;
  readonly tradeNo: string;
  readonly provider: string;
  /** `checkout.canary.cohort` of the checkout span. */
  readonly cohort: string;
  /** The flow's final outcome (callback or stalled span) and failure reason. */
  readonly outcome: string;
  readonly reason?: string;
  /** Why the trace is not the expected shape (empty: it is). */
  readonly problems: readonly string[];
}

export interface DemoSummary {
  readonly flows: number;
  /** outcome → provider → flows. */
  readonly byOutcome: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** cohort → [succeeded, flows]. */
  readonly byCohort: Readonly<Record<string, readonly [number, number]>>;
  /** Succeeded flows over all flows, 0..1, as the span-metrics alert computes it. */
  readonly successRate: number;
  readonly stalled: number;
  /** Scenarios whose trace had the expected shape. */
  readonly passed: number;
  readonly failed: readonly string[];
  /** The backend's health counters at the end. */
  readonly health: Readonly<Record<string, number>>;
}

export function summarise(results: readonly FlowResult[], health: Readonly<Record<string, number>>): DemoSummary {
  const byOutcome: Record<string, Record<string, number>> = {};
  const byCohort: Record<string, [number, number]> = {};
  for (const r of results) {
    const row = (byOutcome[r.outcome] ??= {});
    row[r.provider] = (row[r.provider] ?? 0) + 1;
    const cohort = (byCohort[r.cohort] ??= [0, 0]);
    if (r.outcome === PAYMENT_OUTCOME_VALUE_SUCCEEDED) cohort[0] += 1;
    cohort[1] += 1;
  }
  const succeeded = results.filter((r) => r.outcome === PAYMENT_OUTCOME_VALUE_SUCCEEDED).length;
  return {
    flows: results.length,
    byOutcome,
    byCohort,
    successRate: results.length === 0 ? 0 : succeeded / results.length,
    stalled: results.filter((r) => r.outcome === PAYMENT_OUTCOME_VALUE_STALLED).length,
    passed: results.filter((r) => r.problems.length === 0).length,
    failed: results.filter((r) => r.problems.length > 0).map((r) => r.scenario),
    health,
  };
}

/** The summary as printed at the end of the demo. */
export function formatSummary(summary: DemoSummary): string[] {
  const providers = [...new Set(Object.values(summary.byOutcome).flatMap((row) => Object.keys(row)))].sort();
  const pad = (text: string, width: number) => text.padEnd(width);
  // As wide as the longest outcome ("no final outcome yet" when a self-check fails), plus a space.
  const first = Math.max(12, ...Object.keys(summary.byOutcome).map((outcome) => outcome.length + 1));
  const lines = [`Flows by outcome and provider (${summary.flows} flows):`, `  ${pad('outcome', first)}${providers.map((p) => pad(p, 12)).join('')}total`];
  for (const [outcome, row] of Object.entries(summary.byOutcome).sort()) {
    const total = Object.values(row).reduce((a, b) => a + b, 0);
    lines.push(`  ${pad(outcome, first)}${providers.map((p) => pad(String(row[p] ?? 0), 12)).join('')}${total}`);
  }
  const cohorts = Object.entries(summary.byCohort)
    .sort()
    .map(([cohort, [ok, all]]) => `${cohort} ${ok}/${all} succeeded`);
  lines.push(
    `Success rate: ${(summary.successRate * 100).toFixed(1)}% (succeeded / all flows)`,
    `Stalled flows (no final callback before the deadline): ${summary.stalled}`,
    `By canary cohort: ${cohorts.join(', ')}`,
    `Backend health: ${Object.entries(summary.health)
      .filter(([, value]) => value !== 0)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
    summary.failed.length === 0
      ? `Self-check: ${summary.passed}/${summary.passed} scenarios produced their expected trace`
      : `Self-check FAILED for: ${summary.failed.join(', ')} (${summary.passed} passed)`,
  );
  return lines;
}
