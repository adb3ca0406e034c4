import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * OTLP/HTTP JSON encoding of spans, written here because `@opentelemetry/otlp-transformer`
 * costs more bytes than everything else in this package. Each span is encoded once, when it
 * ends, to a JSON string; a request body is those strings joined inside one envelope, so its
 * byte size is known exactly before it is sent (the keepalive budget depends on that).
 */

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } };

interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(value: AttributeValue | undefined | null): AnyValue | undefined {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
    default:
      return Array.isArray(value)
        ? { arrayValue: { values: (value as AttributeValue[]).map(anyValue).filter((item): item is AnyValue => item !== undefined) } }
        : undefined;
  }
}

export function keyValues(attributes: Attributes | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, given] of Object.entries(attributes ?? {})) {
    const value = anyValue(given);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

/** Nanoseconds as a decimal string; seconds * 1e9 overflows a double's exact range. */
function nanos(time: HrTime): string {
  const [seconds, ns] = time;
  return seconds === 0 ? String(ns) : seconds + String(ns).padStart(9, '0');
}

/** One span as OTLP JSON (ids in hex, as the OTLP/HTTP JSON mapping requires). */
export function encodeSpan(span: ReadableSpan): string {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  return JSON.stringify({
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: parent?.spanId,
    flags: context.traceFlags,
    name: span.name,
    // api SpanKind starts at INTERNAL = 0; OTLP reserves 0 for "unspecified".
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: keyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((event) => ({
      timeUnixNano: nanos(event.time),
      name: event.name,
      attributes: keyValues(event.attributes),
      droppedAttributesCount: event.droppedAttributesCount,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: keyValues(link.attributes),
      droppedAttributesCount: link.droppedAttributesCount,
    })),
    droppedLinksCount: span.droppedLinksCount,
    // The SDK's setStatus (and the redactor after it) leave `code` and `message` only, and
    // JSON.stringify leaves out a message that is not set.
    status: span.status,
  });
}

/** The part of a request body before and after the comma-joined spans. */
export interface Envelope {
  readonly head: string;
  readonly tail: string;
}

export function envelope(resource: Attributes, scopeName: string, scopeVersion: string): Envelope {
  const head =
    '{"resourceSpans":[{"resource":' +
    JSON.stringify({ attributes: keyValues(resource) }) +
    ',"scopeSpans":[{"scope":' +
    JSON.stringify({ name: scopeName, version: scopeVersion }) +
    ',"spans":[';
  return { head, tail: ']}]}]}' };
}

/**
 * UTF-8 byte length (keepalive limits are in bytes, strings are UTF-16); the platform's encoder
 * is smaller than one written here, and one per call costs less code than keeping one.
 */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
