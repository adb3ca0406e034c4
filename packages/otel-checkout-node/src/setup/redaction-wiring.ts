import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { HealthCounters } from '../health.js';
import {
  hasRedactionProcessor,
  RedactionSpanProcessor,
  redactionProcessorHasSeenSpans,
} from '../redaction/redaction-span-processor.js';
import type { RedactionSpanProcessorOptions } from '../redaction/types.js';

const MISSING_MESSAGE =
  'the application\'s OpenTelemetry SDK has no RedactionSpanProcessor: card numbers and secrets in spans are exported unmasked. ' +
  'Add `new RedactionSpanProcessor()` (from @otel-checkout/node) first in its spanProcessors';

/** The processors that redact spans before export (on by default). */
export function redactionProcessors(option: boolean | RedactionSpanProcessorOptions | undefined, health: HealthCounters): SpanProcessor[] {
  if (option === false) return [];
  return [new RedactionSpanProcessor(option === true || option === undefined ? {} : option, health)];
}

/**
 * In an application's own SDK: warn once when the redaction processor is not installed.
 * When the provider's processors can be inspected the answer is immediate; otherwise the
 * returned check runs after each payment span ends and warns if no redaction processor has
 * seen a span by then.
 */
export function checkRedactionInExistingSdk(health: HealthCounters): (() => void) | undefined {
  const found = hasRedactionProcessor();
  if (found === true) return undefined;
  if (found === false) {
    health.warnOnce('redaction-missing', MISSING_MESSAGE);
    return undefined;
  }
  let checked = false;
  return () => {
    if (checked) return;
    checked = true;
    if (!redactionProcessorHasSeenSpans()) health.warnOnce('redaction-missing', MISSING_MESSAGE);
  };
}
