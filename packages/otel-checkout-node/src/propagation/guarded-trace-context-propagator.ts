import { defaultTextMapGetter, trace } from '@opentelemetry/api';
import type { Context, SpanContext, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { TRACE_PARENT_HEADER, TRACE_STATE_HEADER, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HealthCounters } from '../health.js';
import { runtime } from '../runtime.js';
import { HEALTH_MALFORMED_TRACEPARENT, HEALTH_MALFORMED_TRACESTATE, HEALTH_OVERSIZE_HEADERS } from '../health-names.js';
import { MAX_TRACESTATE_LENGTH, MAX_TRACESTATE_MEMBERS, parseTraceparent, parseTracestate } from './trace-context-validation.js';
import { holdsSecret } from './baggage-filter.js';

/** Members longer than this are the first to go when a tracestate must be truncated (spec 3.3.1.5). */
const LONG_TRACESTATE_MEMBER = 128;

/**
 * W3C tracecontext, with the headers checked against the specification first.
 *
 * A malformed or oversize `traceparent` is ignored (the request starts a new trace), counted
 * and logged once per kind; `tracestate` is then not parsed, as the spec requires. A
 * `tracestate` with invalid members keeps its valid members; one over the limits is truncated
 * the way the spec suggests (long members first, then from the end).
 */
export class GuardedTraceContextPropagator implements TextMapPropagator {
  private readonly inner = new W3CTraceContextPropagator();

  /** @param health counters to count in; by default those of the running `startCheckoutTracing`. */
  constructor(private readonly health?: HealthCounters) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.inner.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter = defaultTextMapGetter): Context {
    const traceparent = firstHeader(getter.get(carrier, TRACE_PARENT_HEADER));
    if (traceparent === undefined) return context;
    const parsed = parseTraceparent(traceparent);
    if (!parsed.ok) {
      if (parsed.problem === 'oversize') {
        this.counters().increment(HEALTH_OVERSIZE_HEADERS);
        this.counters().warnOnce('oversize-traceparent', 'ignored an oversize traceparent header; the request starts a new trace');
      } else {
        this.counters().increment(HEALTH_MALFORMED_TRACEPARENT);
        this.counters().warnOnce('malformed-traceparent', `ignored a malformed traceparent header (${parsed.problem}); the request starts a new trace`);
      }
      return context;
    }
    const rawState = getter.get(carrier, TRACE_STATE_HEADER);
    const tracestate = Array.isArray(rawState) ? rawState.join(',') : rawState;
    const sanitizedState = tracestate === undefined ? undefined : this.sanitizeTracestate(tracestate);
    // Built from the validated parts, as the inner propagator would build it, so the header is parsed once.
    const { traceId, parentId, flags } = parsed.value;
    const spanContext: SpanContext = { traceId, spanId: parentId, traceFlags: flags, isRemote: true };
    if (sanitizedState) spanContext.traceState = new TraceState(sanitizedState);
    return trace.setSpanContext(context, spanContext);
  }

  private counters(): HealthCounters {
    // Given at construction by the package's own SDK; an application's SDK gets the running setup's.
    return this.health ?? runtime().health;
  }

  fields(): string[] {
    return this.inner.fields();
  }

  private sanitizeTracestate(header: string): string {
    const parsed = parseTracestate(header);
    const { problems } = parsed;
    // Like baggage, tracestate comes from the client, and nothing redacts it after this: the
    // SDK exports it with every span of the trace (and every link to one) without a span
    // processor seeing it, and forwards it to every outgoing call. A member the redaction
    // rules would change (a card number, an `authorization:Bearer ...` pair) is not kept.
    const members = parsed.members.filter((member) => !holdsSecret(member));
    if (members.length < parsed.members.length) problems.push('sensitive_member');
    if (problems.length === 0) return header;
    if (problems.includes('oversize')) {
      this.counters().increment(HEALTH_OVERSIZE_HEADERS);
      this.counters().warnOnce('oversize-tracestate', 'truncated a tracestate header over 512 characters');
    } else {
      this.counters().increment(HEALTH_MALFORMED_TRACESTATE);
      this.counters().warnOnce('malformed-tracestate', `dropped invalid tracestate members (${problems.join(', ')})`);
    }
    return truncateTracestate(members);
  }
}

/** Keeps at most 32 members and 512 characters: drops members over 128 characters first, then from the end. */
export function truncateTracestate(members: readonly string[]): string {
  let kept = members.slice(0, MAX_TRACESTATE_MEMBERS);
  const length = (list: readonly string[]): number => list.join(',').length;
  if (length(kept) > MAX_TRACESTATE_LENGTH) kept = kept.filter((member) => member.length <= LONG_TRACESTATE_MEMBER);
  while (kept.length > 0 && length(kept) > MAX_TRACESTATE_LENGTH) kept = kept.slice(0, -1);
  return kept.join(',');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : value.length === 0 ? undefined : value.join(',');
  return value;
}
