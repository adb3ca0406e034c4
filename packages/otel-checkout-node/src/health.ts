import { diag } from '@opentelemetry/api';
import { errorSummary } from './error-summary.js';
import { HEALTH_CONFIG_PROBLEMS } from './health-names.js';

/**
 * The library's own health: counts of what it dropped, rejected or could not do.
 * Readable from the tracing handle; every counter starts at zero.
 */
export type HealthSnapshot = Readonly<Record<string, number>>;

/**
 * A named set of monotonically increasing counters plus "log once per kind" diagnostics.
 * One instance per tracing handle, shared by every part of the package, so the handle's
 * `health()` reports everything in one place.
 */
export class HealthCounters {
  private readonly counts = new Map<string, number>();
  private readonly logged = new Set<string>();

  /** Adds `by` (default 1) to the counter `name`. */
  increment(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /**
   * Logs through the OpenTelemetry diagnostic logger the first time `kind` is seen, so a
   * flood of bad input costs one log line, not one per request. An error is described by
   * `errorSummary` (class, code, message length, stack frames), never passed on as it is:
   * its message may hold whatever the request carried.
   */
  warnOnce(kind: string, message: string, ...errors: unknown[]): void {
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    diag.warn(`@otel-checkout/node: ${message}${errors.map((error) => `: ${errorSummary(error)}`).join('')}`);
  }

  /**
   * An option that cannot be used: counted in `configProblems` and said once through `diag`,
   * naming the option; the caller then goes on with the default (bad configuration never throws).
   */
  rejectOption(option: string, message: string): void {
    this.increment(HEALTH_CONFIG_PROBLEMS);
    this.warnOnce(`option-${option}`, message);
  }

  snapshot(): HealthSnapshot {
    return Object.freeze(Object.fromEntries(this.counts));
  }
}
