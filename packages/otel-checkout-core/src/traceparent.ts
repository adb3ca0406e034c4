/** The ids a W3C `traceparent` is made of (structurally an OpenTelemetry `SpanContext`). */
export interface TraceparentIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** W3C `traceparent` (version 00) for a span context, e.g. the flow's `payment.create` span. */
export function formatTraceparent(ids: TraceparentIds): string {
  return `00-${ids.traceId}-${ids.spanId}-${(ids.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
