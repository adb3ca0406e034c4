import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';

/** A context whose parent is the flow's `payment.create` span, known only by its ids. */
export function flowParentContext(flow: { traceId: string; spanId: string; traceFlags: number }): Context {
  const spanContext: SpanContext = {
    traceId: flow.traceId,
    spanId: flow.spanId,
    traceFlags: flow.traceFlags,
    isRemote: true,
  };
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
