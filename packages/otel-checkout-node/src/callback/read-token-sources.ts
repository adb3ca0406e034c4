import type { RequestView } from '../http/request-view.js';
import { trimOptionalWhitespace } from '../propagation/optional-whitespace.js';
import type { RequestBody } from '../middleware/payment-request-view.js';

/** The value of a query parameter in a request URL (path + query), or `undefined`. */
export function queryParam(url: string, name: string): string | undefined {
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return undefined;
  const hashAt = url.indexOf('#', queryAt);
  try {
    return new URLSearchParams(url.slice(queryAt + 1, hashAt < 0 ? undefined : hashAt)).get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token in a header, or `undefined`. A header sent twice reaches the application joined
 * (Node joins a repeated header's values with ", ", frameworks keep what Node gives them): a
 * proxy or client that repeats it repeats the same token, which is that token; two different
 * tokens are no correlation, and are handed on joined, to be rejected as malformed (a token
 * holds no comma).
 */
export function headerToken(view: RequestView, name: string): string | undefined {
  const raw = view.headers[name.toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (value === undefined || !value.includes(',')) return value;
  const tokens = value.split(',').map(trimOptionalWhitespace);
  return tokens.every((token) => token === tokens[0]) ? tokens[0] : value;
}

/**
 * The body as flat fields: a parsed object as it is; an unparsed body as JSON when it looks
 * like JSON, otherwise as a form. Reads through `body`, so the hooks that later ask the same
 * request for `json()` reuse this decoding and parse. Never throws; large bodies are not read.
 */
export function bodyFields(body: RequestBody): Record<string, unknown> | undefined {
  if (body.object !== undefined) return body.object;
  const text = body.text();
  if (text === undefined || text.length === 0) return undefined;
  if (text.trimStart().startsWith('{')) return body.json().value;
  try {
    return Object.fromEntries(new URLSearchParams(text));
  } catch {
    return undefined;
  }
}

/** A body field as a string, following `a.b.c` into nested objects. */
export function fieldValue(fields: Record<string, unknown> | undefined, path: string): string | undefined {
  let value: unknown = fields;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Object.prototype.hasOwnProperty.call(value, part) ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === 'string' ? value : undefined;
}
