import type { RedactionOptions } from '@otel-checkout/core';

/**
 * Options of the redaction span processor: the redaction rules of `@otel-checkout/core`
 * (see its README) plus how redactions are reported.
 */
export interface RedactionSpanProcessorOptions extends RedactionOptions {
  /**
   * Called after a span was redacted, with the number of values changed in it (never with
   * 0). Runs inside a guard: a hook that throws is logged once and ignored. Default: none.
   */
  onRedaction?: (count: number) => void;
}
