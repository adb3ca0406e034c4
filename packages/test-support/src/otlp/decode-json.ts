import { OtlpDecodeError } from '../errors.js';
import type { ReceivedSpan } from '../types.js';
import { normaliseRequest } from './normalise.js';
import type { WireCodec } from './normalise.js';

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

// OTLP/JSON departs from the protobuf JSON mapping for ids: trace and span ids are hex, not base64.
const jsonCodec: WireCodec = {
  encoding: 'json',
  id(value, byteLength, optional, where) {
    const text = value === undefined || value === null ? '' : value;
    if (typeof text !== 'string' || !HEX.test(text)) throw new OtlpDecodeError(`${where}: expected a hex string`);
    if (text === '' && optional) return '';
    if (text.length !== byteLength * 2) {
      throw new OtlpDecodeError(`${where}: expected ${byteLength * 2} hex characters, got ${text.length}`);
    }
    return text.toLowerCase();
  },
  bytes(value, where) {
    if (typeof value !== 'string' || !BASE64.test(value)) throw new OtlpDecodeError(`${where}: expected base64`);
    return new Uint8Array(Buffer.from(value, 'base64'));
  },
  int64(value, where) {
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw new OtlpDecodeError(`${where}: expected a 64-bit integer as a decimal string or number`);
  },
};

/** Decodes an OTLP/JSON ExportTraceServiceRequest; throws OtlpDecodeError on anything else. */
export function decodeJsonRequest(body: Uint8Array, requestIndex: number): ReceivedSpan[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new OtlpDecodeError(`not OTLP/JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OtlpDecodeError('not OTLP/JSON: the body must be a JSON object');
  }
  return normaliseRequest(parsed, jsonCodec, body, requestIndex);
}
