import type { SpanContext, TraceState } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Redactor } from '@otel-checkout/core';
import { holdsBearerToken } from '../propagation/bearer-token.js';

/**
 * Drops the `tracestate` members the redaction rules would change from a span's own context
 * and from its links' contexts; returns how many were dropped. Exporters write those trace
 * states as they are, and no attribute rule reaches them. With this package's propagator an
 * incoming header never carries such a member (see `GuardedTraceContextPropagator`); with an
 * application's own SDK and propagator it can, and this is the last place to catch it. A
 * member is dropped whole rather than masked: a vendor's member with a changed value is
 * neither valid for that vendor nor useful to anyone.
 */
export function redactTraceStates(span: ReadableSpan, redactor: Redactor): number {
  // Read defensively: a processor of an application's SDK may hand over a span of its own making.
  let dropped = typeof span.spanContext === 'function' ? withoutSensitiveMembers(span.spanContext(), redactor) : 0;
  const links = span.links;
  if (Array.isArray(links) && links.length > 0) {
    for (const link of links) {
      if (typeof link === 'object' && link !== null) dropped += withoutSensitiveMembers(link.context, redactor);
    }
  }
  return dropped;
}

function withoutSensitiveMembers(context: SpanContext | undefined, redactor: Redactor): number {
  const traceState: TraceState | undefined = context?.traceState;
  if (context === undefined || typeof traceState?.serialize !== 'function') return 0;
  let kept = traceState;
  let dropped = 0;
  for (const member of traceState.serialize().split(',')) {
    const eq = member.indexOf('=');
    if (eq <= 0 || (!holdsBearerToken(member) && redactor.redactText(member) === member)) continue;
    kept = kept.unset(member.slice(0, eq).trim());
    dropped++;
  }
  // The context is the span's own object: the SDK hands out its span context, not a copy.
  if (dropped > 0) context.traceState = kept;
  return dropped;
}
