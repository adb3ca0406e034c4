/**
 * Names of the health counters this package keeps (see the README's health table).
 * `health()` reports every one of them, zero until something happens.
 */
export const HEALTH_SPANS_EXPORTED = 'spansExported' as const;
/** Spans lost: queue full, export failed or timed out, or still queued when shutdown gave up. */
export const HEALTH_SPANS_DROPPED = 'spansDropped' as const;
export const HEALTH_EXPORT_FAILURES = 'exportFailures' as const;
export const HEALTH_TOKENS_REJECTED = 'tokensRejected' as const;
export const HEALTH_BAGGAGE_DROPPED = 'baggageDropped' as const;
export const HEALTH_REDACTIONS = 'redactions' as const;
export const HEALTH_EXTRACTOR_ERRORS = 'extractorErrors' as const;
export const HEALTH_HOOK_ERRORS = 'hookErrors' as const;
export const HEALTH_MALFORMED_TRACEPARENT = 'malformedTraceparent' as const;
export const HEALTH_MALFORMED_TRACESTATE = 'malformedTracestate' as const;
export const HEALTH_MALFORMED_BAGGAGE = 'malformedBaggage' as const;
export const HEALTH_OVERSIZE_HEADERS = 'oversizeHeaders' as const;
export const HEALTH_NON_JSON_BODIES = 'nonJsonBodies' as const;
export const HEALTH_UNMAPPED_STATUSES = 'unmappedStatuses' as const;
export const HEALTH_CALLS_OUTSIDE_FLOW = 'callsOutsideFlow' as const;
/**
 * Options rejected at setup (wrong type or shape, out of range, unusable flow keys): each one
 * replaced by its default or ignored, counted once here and logged once through `diag`.
 */
export const HEALTH_CONFIG_PROBLEMS = 'configProblems' as const;

export const NODE_HEALTH_COUNTERS = [
  HEALTH_SPANS_EXPORTED,
  HEALTH_SPANS_DROPPED,
  HEALTH_EXPORT_FAILURES,
  HEALTH_TOKENS_REJECTED,
  HEALTH_BAGGAGE_DROPPED,
  HEALTH_REDACTIONS,
  HEALTH_EXTRACTOR_ERRORS,
  HEALTH_HOOK_ERRORS,
  HEALTH_MALFORMED_TRACEPARENT,
  HEALTH_MALFORMED_TRACESTATE,
  HEALTH_MALFORMED_BAGGAGE,
  HEALTH_OVERSIZE_HEADERS,
  HEALTH_NON_JSON_BODIES,
  HEALTH_UNMAPPED_STATUSES,
  HEALTH_CALLS_OUTSIDE_FLOW,
  HEALTH_CONFIG_PROBLEMS,
] as const;

/** The handle's health: every counter above (and any other part's counters) by name. */
export type NodeHealth = Readonly<Record<(typeof NODE_HEALTH_COUNTERS)[number], number>> &
  Readonly<Record<string, number>>;
