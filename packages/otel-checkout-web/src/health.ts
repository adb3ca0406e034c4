import type { WebHealth } from './types.js';

/** The mutable counters behind `handle.health()`; `queueLength` is read from the queue when asked. */
export type HealthCounters = { -readonly [K in keyof WebHealth]: number };

/** All zero: also what `health()` answers when tracing never started. */
export function newHealthCounters(): HealthCounters {
  return { spansExported: 0, spansDropped: 0, exportFailures: 0, beaconsSent: 0, contextsRejected: 0, queueLength: 0 };
}
