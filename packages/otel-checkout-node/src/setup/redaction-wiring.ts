import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { HealthCounters } from '../health.js';

/** The processors that redact spans before export, in order (on by default). */
export function redactionProcessors(_health: HealthCounters): SpanProcessor[] {
  return [];
}

/** In an application's own SDK: warn once when the redaction processor is not installed there. */
export function checkRedactionInExistingSdk(_health: HealthCounters): void {}
