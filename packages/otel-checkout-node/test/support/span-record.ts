import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ReceivedSpan } from '@otel-checkout/test-support';

/** One span, the same shape whether it was captured in memory or decoded from the wire. */
export interface SpanRecord {
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** The span context's W3C tracestate, serialized; '' when it has none. */
  traceState: string;
  attributes: Record<string, unknown>;
  status: 'UNSET' | 'OK' | 'ERROR';
  statusMessage: string;
  events: { name: string; attributes: Record<string, unknown> }[];
  resource: Record<string, unknown>;
  /** The name of the instrumentation scope that made the span. */
  scope: string;
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

export function fromReadable(span: ReadableSpan): SpanRecord {
  return {
    name: span.name,
    kind: KINDS[span.kind] ?? 'UNSPECIFIED',
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: span.spanContext().traceState?.serialize() ?? '',
    attributes: { ...span.attributes },
    status: STATUS[span.status.code] ?? 'UNSET',
    statusMessage: span.status.message ?? '',
    events: span.events.map((event) => ({ name: event.name, attributes: { ...(event.attributes ?? {}) } })),
    resource: { ...span.resource.attributes },
    scope: span.instrumentationScope.name,
  };
}

export function fromReceived(span: ReceivedSpan): SpanRecord {
  return {
    name: span.name,
    kind: span.kindName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    traceState: span.traceState,
    attributes: { ...span.attributes },
    status: span.status.codeName,
    statusMessage: span.status.message,
    events: span.events.map((event) => ({ name: event.name, attributes: { ...event.attributes } })),
    resource: { ...span.resource.attributes },
    scope: span.scope.name,
  };
}
