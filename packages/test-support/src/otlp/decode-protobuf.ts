import { OtlpDecodeError } from '../errors.js';
import type { ReceivedSpan } from '../types.js';
import { normaliseRequest } from './normalise.js';
import type { WireCodec } from './normalise.js';
import { ExportTraceServiceRequest } from './schema.js';

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const protobufCodec: WireCodec = {
  encoding: 'protobuf',
  id(value, byteLength, optional, where) {
    const bytes = value instanceof Uint8Array ? value : new Uint8Array(0);
    if (bytes.byteLength === 0 && optional) return '';
    if (bytes.byteLength !== byteLength) {
      throw new OtlpDecodeError(`${where}: expected ${byteLength} bytes, got ${bytes.byteLength}`);
    }
    return toHex(bytes);
  },
  bytes(value, where) {
    if (!(value instanceof Uint8Array)) throw new OtlpDecodeError(`${where}: expected bytes`);
    // A copy, so tests compare plain Uint8Arrays rather than views into the request buffer.
    return new Uint8Array(value);
  },
  int64(value, where) {
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw new OtlpDecodeError(`${where}: expected a 64-bit integer`);
  },
};

/** Decodes a binary ExportTraceServiceRequest; throws OtlpDecodeError on anything else. */
export function decodeProtobufRequest(body: Uint8Array, requestIndex: number): ReceivedSpan[] {
  let message;
  try {
    message = ExportTraceServiceRequest.decode(body);
  } catch (error) {
    throw new OtlpDecodeError(`not a protobuf ExportTraceServiceRequest: ${(error as Error).message}`);
  }
  // longs as decimal strings: nanosecond timestamps exceed 2^53 and must not lose precision.
  const object = ExportTraceServiceRequest.toObject(message, { longs: String, defaults: false, arrays: true });
  return normaliseRequest(object, protobufCodec, body, requestIndex);
}
