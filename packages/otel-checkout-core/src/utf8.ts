/**
 * The platform's UTF-8 encoder: a global in browsers, Node, Deno, Bun and workers. Declared
 * here rather than through a platform's type definitions because this package names no
 * platform. It reads code points from UTF-16 (a valid surrogate pair is one astral code
 * point, four bytes) and encodes a lone surrogate as U+FFFD (EF BF BD), as the WHATWG
 * encoding standard requires, so the browser and Node agree byte for byte.
 */
declare const TextEncoder: new () => { encode(input: string): Uint8Array };

/** The UTF-8 bytes of `input`. */
export function utf8Bytes(input: string): Uint8Array {
  return new TextEncoder().encode(input);
}
