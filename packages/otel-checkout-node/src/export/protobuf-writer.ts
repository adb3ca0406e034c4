/**
 * A protobuf writer that builds a message in one pass.
 *
 * A length-delimited field's length comes before its content, which is not known until the
 * content is written. Rather than measuring every message in a first pass (as the
 * OpenTelemetry serializer does, which encodes each span twice), `beginMessage` reserves the
 * number of length bytes the caller expects, and `endMessage` writes the length and, in the
 * rare case the guess was wrong, moves the content by the difference. Every varint written is
 * minimal, so the bytes are the same as a two-pass encoder's.
 */
export class ProtobufWriter {
  private buffer: Buffer;
  pos = 0;

  constructor(initialCapacity: number) {
    // Not zero-filled: every byte up to `pos` is written before it is read.
    this.buffer = Buffer.allocUnsafe(Math.max(64, initialCapacity));
  }

  /** The bytes written so far (a view of the internal buffer, not a copy). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.pos);
  }

  /** Writes a field's tag: `field << 3 | wireType`. */
  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An unsigned varint of at most 2^53 - 1, or a negative int64 as ten bytes of two's complement. */
  varint(value: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    let pos = this.pos;
    if (value >= 0 && value < 0x80) {
      buffer[pos] = value;
      this.pos = pos + 1;
      return;
    }
    if (value >= 0 && value <= 0xffffffff) {
      while (value > 0x7f) {
        buffer[pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      buffer[pos++] = value;
      this.pos = pos;
      return;
    }
    this.pos = pos;
    this.varint64(value);
  }

  /** Integers beyond 32 bits: split into two 32-bit halves (negative values in two's complement). */
  private varint64(value: number): void {
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value % 0x100000000;
      high = Math.floor(value / 0x100000000);
    } else {
      const magnitude = -value;
      low = magnitude % 0x100000000;
      high = Math.floor(magnitude / 0x100000000);
      // Two's complement of (high, low): invert and add one.
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    const buffer = this.buffer;
    let pos = this.pos;
    while (high > 0 || low > 0x7f) {
      buffer[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[pos++] = low;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.pos = this.buffer.writeUInt32LE(value, this.pos);
  }

  /** A fixed64 given as two 32-bit halves. */
  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.pos = this.buffer.writeUInt32LE(high, this.buffer.writeUInt32LE(low, this.pos));
  }

  double(value: number): void {
    this.ensure(8);
    this.pos = this.buffer.writeDoubleLE(value, this.pos);
  }

  /** A string as length-delimited UTF-8. */
  string(value: string): void {
    const length = value.length;
    this.ensure(length * 3 + 5);
    const buffer = this.buffer;
    const start = this.pos;
    // Most strings here (attribute keys, ids, routes, codes) are short ASCII: copied by hand
    // after a one-byte length, which is cheaper than a call into the native UTF-8 encoder.
    if (length < 0x80) {
      let pos = start + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buffer[pos++] = code;
      }
      if (i === length) {
        buffer[start] = length;
        this.pos = pos;
        return;
      }
    }
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.varint(byteLength);
    this.ensure(byteLength);
    this.pos += this.buffer.write(value, this.pos, 'utf8');
  }

  /** Bytes as length-delimited. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  /** Bytes as they are, with no length (a field already encoded). */
  raw(value: Uint8Array): void {
    const length = value.length;
    this.ensure(length);
    if (length > 32) {
      this.buffer.set(value, this.pos);
      this.pos += length;
      return;
    }
    // Short arrays (attribute keys) copy faster by hand than through a native call.
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) buffer[pos++] = value[i]!;
    this.pos = pos;
  }

  /**
   * A hex id (trace or span id) as length-delimited bytes. The SDK only makes valid hex ids;
   * an invalid digit is read as 0 rather than failing the whole export.
   */
  hexId(hex: string): void {
    const length = hex.length >>> 1;
    this.varint(length);
    this.ensure(length);
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) {
      buffer[pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
    }
    this.pos = pos;
  }

  /**
   * Starts a length-delimited message, reserving `lengthBytes` for its length; returns the
   * mark `endMessage` needs. Reserve what the message's size usually needs (1 byte below 128
   * bytes, 2 below 16 KiB, 3 below 2 MiB): a wrong guess costs one move of the content.
   */
  beginMessage(lengthBytes: number): number {
    this.ensure(lengthBytes);
    const mark = this.pos;
    this.pos += lengthBytes;
    return mark * 8 + lengthBytes;
  }

  endMessage(mark: number): void {
    const reserved = mark & 7;
    const start = (mark - reserved) / 8;
    const contentStart = start + reserved;
    const length = this.pos - contentStart;
    const needed = varintSize(length);
    if (needed !== reserved) {
      this.ensure(needed - reserved);
      this.buffer.copyWithin(start + needed, contentStart, this.pos);
      this.pos += needed - reserved;
    }
    const buffer = this.buffer;
    let pos = start;
    let value = length;
    while (value > 0x7f) {
      buffer[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[pos] = value;
  }

  private ensure(extra: number): void {
    const required = this.pos + extra;
    if (required <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < required) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    grown.set(this.buffer.subarray(0, this.pos));
    this.buffer = grown;
  }
}

/** Bytes of the minimal varint of a non-negative 32-bit length. */
function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return 0;
}
