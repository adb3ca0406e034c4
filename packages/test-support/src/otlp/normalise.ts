// Turns a decoded ExportTraceServiceRequest (protobuf via protobufjs, or parsed OTLP/JSON) into
// ReceivedSpan objects. Both decoders hand over plain objects with lowerCamelCase keys; they
// differ only in how ids, byte strings and 64-bit integers are spelled, which the codec says.
import { OtlpDecodeError } from '../errors.js';
import type {
  AttributeValue,
  Attributes,
  OtlpEncoding,
  ReceivedEvent,
  ReceivedLink,
  ReceivedSpan,
  ReceivedStatus,
  SpanKindName,
  StatusCodeName,
} from '../types.js';

/** How one encoding spells the values that JSON and protobuf write differently. */
export interface WireCodec {
  readonly encoding: OtlpEncoding;
  /** A trace or span id of exactly `byteLength` bytes as lowercase hex; '' when absent and `optional`. */
  id(value: unknown, byteLength: 8 | 16, optional: boolean, where: string): string;
  bytes(value: unknown, where: string): Uint8Array;
  int64(value: unknown, where: string): bigint;
}

type WireObject = Record<string, unknown>;

const SPAN_KIND_NAMES: readonly SpanKindName[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_CODE_NAMES: readonly StatusCodeName[] = ['UNSET', 'OK', 'ERROR'];

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Reads a field by its lowerCamelCase name, also accepting the proto field name. */
function field(object: WireObject, key: string): unknown {
  const value = object[key];
  return value === undefined ? object[snakeCase(key)] : value;
}

function asObject(value: unknown, where: string): WireObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new OtlpDecodeError(`${where}: expected an object`);
  return value as WireObject;
}

function asList(value: unknown, where: string): WireObject[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where}: expected an array`);
  return value.map((item, index) => asObject(item, `${where}[${index}]`));
}

function asString(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${where}: expected a string`);
  return value;
}

function asCount(value: unknown, where: string): number {
  if (value === undefined || value === null) return 0;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0) {
    throw new OtlpDecodeError(`${where}: expected a non-negative integer`);
  }
  return number;
}

/** OTLP/JSON writes enums as integers; the names are accepted too, as protobuf JSON allows. */
function asEnum(value: unknown, names: readonly string[], prefix: string, where: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const index = names.indexOf(value.startsWith(prefix) ? value.slice(prefix.length) : value);
    if (index >= 0) return index;
  }
  throw new OtlpDecodeError(`${where}: expected an enum integer`);
}

function int64ToNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function anyValue(value: unknown, codec: WireCodec, where: string): AttributeValue {
  const any = asObject(value, where);
  const stringValue = field(any, 'stringValue');
  if (stringValue !== undefined) return asString(stringValue, `${where}.stringValue`);
  const boolValue = field(any, 'boolValue');
  if (boolValue !== undefined) {
    if (typeof boolValue !== 'boolean') throw new OtlpDecodeError(`${where}.boolValue: expected a boolean`);
    return boolValue;
  }
  const intValue = field(any, 'intValue');
  if (intValue !== undefined) return int64ToNumber(codec.int64(intValue, `${where}.intValue`));
  const doubleValue = field(any, 'doubleValue');
  if (doubleValue !== undefined) return asDouble(doubleValue, `${where}.doubleValue`);
  const arrayValue = field(any, 'arrayValue');
  if (arrayValue !== undefined) {
    const values = asList(field(asObject(arrayValue, `${where}.arrayValue`), 'values'), `${where}.arrayValue.values`);
    return values.map((item, index) => anyValue(item, codec, `${where}.arrayValue.values[${index}]`));
  }
  const kvlistValue = field(any, 'kvlistValue');
  if (kvlistValue !== undefined) {
    return attributes(field(asObject(kvlistValue, `${where}.kvlistValue`), 'values'), codec, `${where}.kvlistValue.values`);
  }
  const bytesValue = field(any, 'bytesValue');
  if (bytesValue !== undefined) return codec.bytes(bytesValue, `${where}.bytesValue`);
  return null;
}

/** Protobuf JSON spells the non-finite doubles as strings. */
function asDouble(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw new OtlpDecodeError(`${where}: expected a number`);
}

function attributes(value: unknown, codec: WireCodec, where: string): Attributes {
  const result: Attributes = {};
  asList(value, where).forEach((keyValue, index) => {
    const key = asString(field(keyValue, 'key'), `${where}[${index}].key`);
    result[key] = anyValue(field(keyValue, 'value'), codec, `${where}[${index}].value`);
  });
  return result;
}

function status(value: unknown, where: string): ReceivedStatus {
  const object = asObject(value, where);
  const code = asEnum(field(object, 'code'), STATUS_CODE_NAMES, 'STATUS_CODE_', `${where}.code`);
  return {
    code,
    codeName: STATUS_CODE_NAMES[code] ?? 'UNSET',
    message: asString(field(object, 'message'), `${where}.message`),
  };
}

function event(object: WireObject, codec: WireCodec, where: string): ReceivedEvent {
  return {
    name: asString(field(object, 'name'), `${where}.name`),
    timeUnixNano: codec.int64(field(object, 'timeUnixNano') ?? 0, `${where}.timeUnixNano`),
    attributes: attributes(field(object, 'attributes'), codec, `${where}.attributes`),
    droppedAttributesCount: asCount(field(object, 'droppedAttributesCount'), `${where}.droppedAttributesCount`),
  };
}

function link(object: WireObject, codec: WireCodec, where: string): ReceivedLink {
  return {
    traceId: codec.id(field(object, 'traceId'), 16, false, `${where}.traceId`),
    spanId: codec.id(field(object, 'spanId'), 8, false, `${where}.spanId`),
    traceState: asString(field(object, 'traceState'), `${where}.traceState`),
    flags: asCount(field(object, 'flags'), `${where}.flags`),
    attributes: attributes(field(object, 'attributes'), codec, `${where}.attributes`),
    droppedAttributesCount: asCount(field(object, 'droppedAttributesCount'), `${where}.droppedAttributesCount`),
  };
}

/** Every span of one ExportTraceServiceRequest, with resource and scope copied onto each. */
export function normaliseRequest(request: unknown, codec: WireCodec, raw: Uint8Array, requestIndex: number): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const resourceSpansList = asList(field(asObject(request, 'request'), 'resourceSpans'), 'resourceSpans');
  resourceSpansList.forEach((resourceSpans, r) => {
    const resourceWhere = `resourceSpans[${r}]`;
    const resourceObject = asObject(field(resourceSpans, 'resource'), `${resourceWhere}.resource`);
    const resource = {
      attributes: attributes(field(resourceObject, 'attributes'), codec, `${resourceWhere}.resource.attributes`),
      droppedAttributesCount: asCount(field(resourceObject, 'droppedAttributesCount'), `${resourceWhere}.resource.droppedAttributesCount`),
      schemaUrl: asString(field(resourceSpans, 'schemaUrl'), `${resourceWhere}.schemaUrl`),
    };
    asList(field(resourceSpans, 'scopeSpans'), `${resourceWhere}.scopeSpans`).forEach((scopeSpans, s) => {
      const scopeWhere = `${resourceWhere}.scopeSpans[${s}]`;
      const scopeObject = asObject(field(scopeSpans, 'scope'), `${scopeWhere}.scope`);
      const scope = {
        name: asString(field(scopeObject, 'name'), `${scopeWhere}.scope.name`),
        version: asString(field(scopeObject, 'version'), `${scopeWhere}.scope.version`),
        attributes: attributes(field(scopeObject, 'attributes'), codec, `${scopeWhere}.scope.attributes`),
        schemaUrl: asString(field(scopeSpans, 'schemaUrl'), `${scopeWhere}.schemaUrl`),
      };
      asList(field(scopeSpans, 'spans'), `${scopeWhere}.spans`).forEach((span, i) => {
        const where = `${scopeWhere}.spans[${i}]`;
        const kind = asEnum(field(span, 'kind'), SPAN_KIND_NAMES, 'SPAN_KIND_', `${where}.kind`);
        spans.push({
          traceId: codec.id(field(span, 'traceId'), 16, false, `${where}.traceId`),
          spanId: codec.id(field(span, 'spanId'), 8, false, `${where}.spanId`),
          parentSpanId: codec.id(field(span, 'parentSpanId'), 8, true, `${where}.parentSpanId`),
          traceState: asString(field(span, 'traceState'), `${where}.traceState`),
          flags: asCount(field(span, 'flags'), `${where}.flags`),
          name: asString(field(span, 'name'), `${where}.name`),
          kind,
          kindName: SPAN_KIND_NAMES[kind] ?? 'UNSPECIFIED',
          startTimeUnixNano: codec.int64(field(span, 'startTimeUnixNano') ?? 0, `${where}.startTimeUnixNano`),
          endTimeUnixNano: codec.int64(field(span, 'endTimeUnixNano') ?? 0, `${where}.endTimeUnixNano`),
          attributes: attributes(field(span, 'attributes'), codec, `${where}.attributes`),
          droppedAttributesCount: asCount(field(span, 'droppedAttributesCount'), `${where}.droppedAttributesCount`),
          events: asList(field(span, 'events'), `${where}.events`).map((e, n) => event(e, codec, `${where}.events[${n}]`)),
          droppedEventsCount: asCount(field(span, 'droppedEventsCount'), `${where}.droppedEventsCount`),
          links: asList(field(span, 'links'), `${where}.links`).map((l, n) => link(l, codec, `${where}.links[${n}]`)),
          droppedLinksCount: asCount(field(span, 'droppedLinksCount'), `${where}.droppedLinksCount`),
          status: status(field(span, 'status'), `${where}.status`),
          resource,
          scope,
          encoding: codec.encoding,
          raw,
          requestIndex,
        });
      });
    });
  });
  return spans;
}
