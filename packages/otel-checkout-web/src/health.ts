import type { WebHealth } from './types.js';

/** The mutable counters behind `handle.health()`. */
export type HealthCounters = { -readonly [K in Exclude<keyof WebHealth, 'queueLength'>]: number };

export function newHealthCounters(): HealthCounters {
  return { spansExported: 0, spansDropped: 0, exportFailures: 0, beaconsSent: 0, contextsRejected: 0 };
}
