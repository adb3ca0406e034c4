import { declaresBody } from '../http/declares-body.js';
import type { RequestView } from '../http/request-view.js';
import type { HealthCounters } from '../health.js';
import { HEALTH_NON_JSON_BODIES } from '../health-names.js';
import type { PaymentRequest } from '../types.js';

/** Unparsed bodies longer than this (bytes, or characters of a string) are not read. */
export const MAX_READ_BODY_LENGTH = 64 * 1024;

/** The body as a JSON object, or why there is none: no body at all is no problem. */
export type JsonBody =
  | { readonly value: Record<string, unknown>; readonly problem?: undefined }
  | { readonly value: undefined; readonly problem?: 'too-large' | 'not-json' };

/**
 * One request's body, read at most once per representation however many readers ask (the
 * callback's token search, then each user hook): decoded to text once, parsed as JSON once.
 * It counts nothing itself; a reader that asked for JSON decides whether a miss is a problem.
 */
export interface RequestBody {
  /** The body the framework already parsed into an object (JSON or form), as it is. */
  readonly object: Record<string, unknown> | undefined;
  /** The unparsed body (string, bytes or raw body) as UTF-8 text; `undefined` with a parsed object, no body, or one over the limit. */
  text(): string | undefined;
  json(): JsonBody;
}

const NO_BODY: JsonBody = { value: undefined };
const TOO_LARGE: JsonBody = { value: undefined, problem: 'too-large' };
const NOT_JSON: JsonBody = { value: undefined, problem: 'not-json' };

export function requestBodyOf(view: RequestView): RequestBody {
  return new RequestBodyReader(view);
}

// A class rather than an object of closures: it is made for every payment request.
class RequestBodyReader implements RequestBody {
  readonly object: Record<string, unknown> | undefined;
  private readonly raw: string | Uint8Array | undefined;
  private decoded: { text: string | undefined } | undefined;
  private parsed: JsonBody | undefined;

  constructor(view: RequestView) {
    this.object = isPlainObject(view.body) ? view.body : undefined;
    this.raw = this.object === undefined ? unparsedBody(view) : undefined;
  }

  private get tooLarge(): boolean {
    return this.raw !== undefined && this.raw.length > MAX_READ_BODY_LENGTH;
  }

  text(): string | undefined {
    const raw = this.raw;
    this.decoded ??= { text: raw === undefined || this.tooLarge ? undefined : typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8') };
    return this.decoded.text;
  }

  json(): JsonBody {
    this.parsed ??= this.object !== undefined ? { value: this.object } : this.tooLarge ? TOO_LARGE : parseJsonObject(this.text());
    return this.parsed;
  }
}

/** A string or byte body is one the framework left unparsed (express.text, express.raw); else the adapter's raw body. */
function unparsedBody(view: RequestView): string | Uint8Array | undefined {
  const { body, rawBody } = view;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return rawBody;
}

function parseJsonObject(text: string | undefined): JsonBody {
  if (text === undefined || text.length === 0) return NO_BODY;
  // A JSON object starts with `{` after JSON whitespace (a subset of what trimStart drops):
  // anything else, a form body above all, is known not to be one without parsing it again.
  if (!text.trimStart().startsWith('{')) return NOT_JSON;
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return { value };
  } catch {
    // Reported as not JSON: such bodies are expected (XML callbacks, broken clients) and must not fail the request.
  }
  return NOT_JSON;
}

/**
 * The request view plus a `json()` that never throws: the body as a JSON object, or
 * `undefined` when it is not one. A form body a framework parsed into an object is that
 * object; an unparsed form body is not JSON, so `undefined` (its fields are the callback's
 * `fields`). A body that is not JSON is counted once per request, not once per call.
 * Pass the `body` other readers of the same request use, so it is parsed only once.
 */
export function paymentRequestOf(view: RequestView, health: HealthCounters, body?: RequestBody): PaymentRequest {
  let answered: { value: Record<string, unknown> | undefined } | undefined;
  // `json` closes over the view instead of using `this`, so an extractor may destructure `{ json }`.
  return {
    method: view.method,
    url: view.url,
    headers: view.headers,
    body: view.body,
    rawBody: view.rawBody,
    json(): Record<string, unknown> | undefined {
      // A body the framework parsed into an object (the usual case) needs no reader.
      if (answered !== undefined) return answered.value;
      answered = { value: body === undefined && isPlainObject(view.body) ? view.body : counted((body ?? requestBodyOf(view)).json(), health) };
      if (answered.value === undefined && view.body === undefined && view.rawBody === undefined && declaresBody(view)) {
        // The usual cause is order: a parser mounted after the middleware (or NestJS's, which it
        // mounts after anything `app.use`d in main.ts). Every payment detail of the body is lost.
        health.warnOnce(
          'body-unparsed',
          'a request body was not parsed when payment details were read from it, so none came from the body: mount the body parser before the payment middleware (with NestJS, attach the middleware in a module\'s configure; node:http parses no body)',
        );
      }
      return answered.value;
    },
  };
}

function counted(json: JsonBody, health: HealthCounters): Record<string, unknown> | undefined {
  if (json.problem === 'too-large') {
    health.increment(HEALTH_NON_JSON_BODIES);
    health.warnOnce('body-too-large', 'a request body was too large to read payment details from');
  } else if (json.problem === 'not-json') {
    health.increment(HEALTH_NON_JSON_BODIES);
    health.warnOnce('non-json-body', 'a request body was not a JSON object; payment details were not read from it');
  }
  return json.value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
