import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ProtobufWriter } from './protobuf-writer.js';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

// Protobuf wire types (plain numbers: read on every field, they must cost nothing).
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
// Span flags of the OTLP definitions: whether the parent's remoteness is known, and whether it is remote.
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;
// Bytes to reserve for a length: what most messages of the kind need (a wrong guess costs one move).
const SMALL = 1; // < 128 bytes: attributes, values, status, events
const SPAN = 2; // < 16 KiB
const BATCH = 3; // < 2 MiB: a resource's or a scope's spans
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/**
 * Encodes spans as an OTLP `ExportTraceServiceRequest` in protobuf: the same bytes as the
 * OpenTelemetry serializer (`ProtobufTraceSerializer`) writes for the same spans, in one pass
 * instead of two, and with the attribute keys (the same dozen names on every span) encoded
 * once. On a payment route the serializer's two passes over every string cost about as much
 * as creating the span; this is the exporter's share of the per-request cost.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const writer = new ProtobufWriter(spans.length * 512 + 256);
  for (const [resource, scopes] of groupByResourceAndScope(spans)) {
    writer.tag(1, LENGTH_DELIMITED); // ExportTraceServiceRequest.resource_spans
    const resourceSpans = writer.beginMessage(BATCH);
    writeResource(writer, resource);
    for (const scopeSpans of scopes.values()) {
      writer.tag(2, LENGTH_DELIMITED); // ResourceSpans.scope_spans
      const scopeMark = writer.beginMessage(BATCH);
      const scope = scopeSpans[0].instrumentationScope;
      writeScope(writer, scope);
      for (const span of scopeSpans) {
        writer.tag(2, LENGTH_DELIMITED); // ScopeSpans.spans
        writeSpan(writer, span);
      }
      if (scope.schemaUrl) {
        writer.tag(3, LENGTH_DELIMITED);
        writer.string(scope.schemaUrl);
      }
      writer.endMessage(scopeMark);
    }
    if (resource.schemaUrl) {
      writer.tag(3, LENGTH_DELIMITED);
      writer.string(resource.schemaUrl);
    }
    writer.endMessage(resourceSpans);
  }
  return writer.finish();
}

/** Spans grouped by resource, then by instrumentation scope, each in order of first appearance. */
function groupByResourceAndScope(spans: readonly ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const resources = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = resources.get(span.resource);
    if (!scopes) resources.set(span.resource, (scopes = new Map<Scope, ReadableSpan[]>()));
    let list = scopes.get(span.instrumentationScope);
    if (!list) scopes.set(span.instrumentationScope, (list = []));
    list.push(span);
  }
  return resources;
}

function writeResource(writer: ProtobufWriter, resource: Resource): void {
  writer.tag(1, LENGTH_DELIMITED); // ResourceSpans.resource
  const mark = writer.beginMessage(SPAN);
  if (resource.attributes) writeAttributes(writer, resource.attributes, 1);
  writer.tag(2, VARINT); // Resource.dropped_attributes_count
  writer.varint(0);
  writer.endMessage(mark);
}

function writeScope(writer: ProtobufWriter, scope: Scope & { attributes?: Attributes; droppedAttributesCount?: number }): void {
  writer.tag(1, LENGTH_DELIMITED); // ScopeSpans.scope
  const mark = writer.beginMessage(SMALL);
  writer.tag(1, LENGTH_DELIMITED);
  writer.string(scope.name);
  if (scope.version) {
    writer.tag(2, LENGTH_DELIMITED);
    writer.string(scope.version);
  }
  if (scope.attributes) writeAttributes(writer, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    writer.tag(4, VARINT);
    writer.varint(scope.droppedAttributesCount);
  }
  writer.endMessage(mark);
}

function writeSpan(writer: ProtobufWriter, span: ReadableSpan): void {
  const mark = writer.beginMessage(SPAN);
  const context = span.spanContext();
  writer.tag(1, LENGTH_DELIMITED);
  writer.hexId(context.traceId);
  writer.tag(2, LENGTH_DELIMITED);
  writer.hexId(context.spanId);
  writeTraceState(writer, context, 3);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    writer.tag(4, LENGTH_DELIMITED);
    writer.hexId(parent.spanId);
  }
  writer.tag(5, LENGTH_DELIMITED);
  writer.string(span.name);
  // OTLP's kinds start at 1 (0 is unspecified); the API's at 0.
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    writer.tag(6, VARINT);
    writer.varint(kind);
  }
  writer.tag(7, FIXED64);
  writeTime(writer, span.startTime);
  writer.tag(8, FIXED64);
  writeTime(writer, span.endTime);
  if (span.attributes) writeAttributes(writer, span.attributes, 9);
  writer.tag(10, VARINT);
  writer.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    writer.tag(11, LENGTH_DELIMITED);
    writeEvent(writer, event);
  }
  writer.tag(12, VARINT);
  writer.varint(span.droppedEventsCount);
  for (const link of span.links) {
    writer.tag(13, LENGTH_DELIMITED);
    writeLink(writer, link);
  }
  writer.tag(14, VARINT);
  writer.varint(span.droppedLinksCount);
  writer.tag(15, LENGTH_DELIMITED);
  const status = writer.beginMessage(SMALL);
  if (span.status.message) {
    writer.tag(2, LENGTH_DELIMITED);
    writer.string(span.status.message);
  }
  writer.tag(3, VARINT);
  writer.varint(span.status.code);
  writer.endMessage(status);
  writer.tag(16, FIXED32);
  writer.fixed32(spanFlags(context.traceFlags, parent?.isRemote));
  writer.endMessage(mark);
}

function writeEvent(writer: ProtobufWriter, event: TimedEvent): void {
  const mark = writer.beginMessage(SMALL);
  writer.tag(1, FIXED64);
  writeTime(writer, event.time);
  writer.tag(2, LENGTH_DELIMITED);
  writer.string(event.name);
  if (event.attributes) writeAttributes(writer, event.attributes, 3);
  writer.tag(4, VARINT);
  writer.varint(event.droppedAttributesCount || 0);
  writer.endMessage(mark);
}

function writeLink(writer: ProtobufWriter, link: Link): void {
  const mark = writer.beginMessage(SMALL);
  const context = link.context;
  writer.tag(1, LENGTH_DELIMITED);
  writer.hexId(context.traceId);
  writer.tag(2, LENGTH_DELIMITED);
  writer.hexId(context.spanId);
  writeTraceState(writer, context, 3);
  if (link.attributes) writeAttributes(writer, link.attributes, 4);
  writer.tag(5, VARINT);
  writer.varint(link.droppedAttributesCount || 0);
  writer.tag(6, FIXED32);
  writer.fixed32(spanFlags(context.traceFlags, context.isRemote));
  writer.endMessage(mark);
}

function writeTraceState(writer: ProtobufWriter, context: SpanContext, field: number): void {
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(field, LENGTH_DELIMITED);
    writer.string(traceState);
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}

/**
 * Nanoseconds since the epoch as a fixed64 from `[seconds, nanos]`, in two 32-bit halves:
 * `seconds * 1e9` exceeds 2^53, so it is computed from the seconds' low 16 bits and the rest.
 */
function writeTime(writer: ProtobufWriter, time: HrTime): void {
  const [seconds, nanos] = time;
  const lowSeconds = seconds & 0xffff;
  const highSeconds = Math.floor(seconds / 0x10000);
  const fromLow = lowSeconds * 1e9; // < 2^46
  const fromHigh = highSeconds * 1e9; // shifted left by 16 bits below
  const lowSum = (fromLow % 0x100000000) + (fromHigh % 0x10000) * 0x10000 + nanos;
  const low = lowSum % 0x100000000;
  const high = Math.floor(fromLow / 0x100000000) + Math.floor(fromHigh / 0x10000) + Math.floor(lowSum / 0x100000000);
  writer.fixed64(low >>> 0, high >>> 0);
}

/** Each attribute as a `KeyValue` in field `field`; the keys' encodings are cached. */
function writeAttributes(writer: ProtobufWriter, attributes: Attributes, field: number): void {
  const keys = Object.keys(attributes);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    writer.tag(field, LENGTH_DELIMITED);
    const mark = writer.beginMessage(SMALL);
    writer.raw(encodedKey(key));
    writer.tag(2, LENGTH_DELIMITED); // KeyValue.value
    const value = writer.beginMessage(SMALL);
    writeAnyValue(writer, attributes[key]);
    writer.endMessage(value);
    writer.endMessage(mark);
  }
}

/** `AnyValue` of an attribute value; a value of no attribute type writes nothing (an empty value). */
function writeAnyValue(writer: ProtobufWriter, value: AttributeValue | undefined | null): void {
  switch (typeof value) {
    case 'string':
      writer.tag(1, LENGTH_DELIMITED);
      writer.string(value);
      return;
    case 'boolean':
      writer.tag(2, VARINT);
      writer.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        writer.tag(3, VARINT);
        writer.varint(value);
      } else {
        writer.tag(4, FIXED64);
        writer.double(value);
      }
      return;
    default:
      break;
  }
  if ((value as unknown) instanceof Uint8Array) {
    writer.tag(7, LENGTH_DELIMITED);
    writer.bytes(value as unknown as Uint8Array);
  } else if (Array.isArray(value)) {
    writer.tag(5, LENGTH_DELIMITED);
    const array = writer.beginMessage(SMALL);
    for (const item of value as unknown[]) {
      writer.tag(1, LENGTH_DELIMITED);
      const mark = writer.beginMessage(SMALL);
      writeAnyValue(writer, item as AttributeValue);
      writer.endMessage(mark);
    }
    writer.endMessage(array);
  } else if (typeof value === 'object' && value !== null) {
    // Not an attribute type of the API, but what the OpenTelemetry serializer writes for a map.
    writer.tag(6, LENGTH_DELIMITED);
    const list = writer.beginMessage(SMALL);
    writeAttributes(writer, value, 1);
    writer.endMessage(list);
  }
}

// The same attribute names come on every span: each is encoded once (tag, length, UTF-8).
const KEY_CACHE_LIMIT = 512;
const keyCache = new Map<string, Uint8Array>();

function encodedKey(key: string): Uint8Array {
  let encoded = keyCache.get(key);
  if (encoded === undefined) {
    const writer = new ProtobufWriter(key.length * 3 + 8);
    writer.tag(1, LENGTH_DELIMITED); // KeyValue.key
    writer.string(key);
    encoded = writer.finish().slice();
    // Bounded: a service that puts ids in attribute names must not grow this forever.
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, encoded);
  }
  return encoded;
}
