import { INVALID_SPAN_CONTEXT, isSpanContextValid, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { IdGenerator, Sampler, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { checkoutTracer, runtime } from '../runtime.js';
import { LightServerSpan } from './light-server-span.js';
import type { LightSpanPipeline } from './light-server-span.js';

/**
 * Starts the HTTP server span of a request as a child of `parent`'s span (or a new trace).
 * `attributes` is a fresh object of the caller's: the sampler's attributes may be added to it.
 */
export type ServerSpanStarter = (name: string, attributes: Attributes, parent: Context) => Span;

/** The server span of a request this package makes itself: light where the package runs its own SDK, else from the tracer. */
export function startOwnServerSpan(name: string, attributes: Attributes, parent: Context): Span {
  const starter = runtime().startServerSpan;
  return starter !== undefined ? starter(name, attributes, parent) : checkoutTracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
}

/** The parts of the SDK's tracer (2.x) a light span is made from; none of them is public API. */
interface SdkTracerInternals {
  _sampler: Sampler;
  _idGenerator: IdGenerator;
  _spanLimits: SpanLimits;
  _resource: LightSpanPipeline['resource'];
  _spanProcessor: LightSpanPipeline['processor'];
  instrumentationScope: LightSpanPipeline['scope'];
}

/**
 * A starter of light server spans (see light-server-span.ts) with the configuration of
 * `tracer`, the SDK tracer this package's own SDK made: its sampler, id generator, limits,
 * resource, scope and span processors, so the span is sampled, limited and processed exactly
 * as one from `tracer.startSpan`. Undefined when `tracer` does not have that shape (another
 * SDK version, or a provider that is not the SDK's): the caller then uses `tracer.startSpan`,
 * which costs more and behaves the same.
 */
export function lightServerSpanStarter(tracer: Tracer): ServerSpanStarter | undefined {
  const internals = tracer as unknown as Partial<SdkTracerInternals>;
  const { _sampler: sampler, _idGenerator: ids, _spanLimits: limits, _resource: resource, _spanProcessor: processor, instrumentationScope: scope } = internals;
  if (
    typeof sampler?.shouldSample !== 'function' ||
    typeof ids?.generateTraceId !== 'function' ||
    typeof ids.generateSpanId !== 'function' ||
    typeof limits !== 'object' ||
    limits === null ||
    typeof resource !== 'object' ||
    resource === null ||
    typeof processor?.onStart !== 'function' ||
    typeof processor.onEnd !== 'function' ||
    typeof scope?.name !== 'string'
  ) {
    return undefined;
  }
  const pipeline: LightSpanPipeline = { processor, limits, resource, scope };
  return (name, attributes, parent) => {
    // As the SDK's tracer does: nothing recorded under suppressed tracing (an exporter's own calls).
    if (isTracingSuppressed(parent)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentContext = trace.getSpanContext(parent);
    const validParent = parentContext !== undefined && isSpanContextValid(parentContext) ? parentContext : undefined;
    const traceId = validParent?.traceId ?? ids.generateTraceId();
    const spanId = ids.generateSpanId();
    const result = sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, attributes, []);
    const traceState = result.traceState ?? validParent?.traceState;
    const traceFlags = result.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const context: SpanContext = traceState === undefined ? { traceId, spanId, traceFlags } : { traceId, spanId, traceFlags, traceState };
    if (result.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(context);
    if (result.attributes !== undefined) {
      for (const key in result.attributes) attributes[key] = result.attributes[key];
    }
    return new LightServerSpan(pipeline, context, name, validParent, attributes, parent);
  };
}
