import type { RequestView } from '../http/request-view.js';

const MAX_RAW_BODY = 64 * 1024;

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

/** A header's first value, or `undefined`. */
export function headerValue(view: RequestView, name: string): string | undefined {
  const value = view.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The body as flat fields: a parsed object as it is; a raw body (or a string body) parsed as
 * JSON when it looks like JSON, otherwise as a form. Never throws; large bodies are not read.
 */
export function bodyFields(view: RequestView): Record<string, unknown> | undefined {
  const { body, rawBody } = view;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    return body as Record<string, unknown>;
  }
  const raw = typeof body === 'string' ? body : body instanceof Uint8Array ? body : rawBody;
  if (raw === undefined || raw.length === 0 || raw.length > MAX_RAW_BODY) return undefined;
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
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
