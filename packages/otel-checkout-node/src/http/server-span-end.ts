import { SpanStatusCode } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

/** How an HTTP request ended, as far as its server span is concerned. */
export interface ServerSpanEnd {
  /** The route template, when a router matched one: names the span `METHOD route`. */
  route?: string;
  /** The response's status code; undefined when no complete response went out. */
  statusCode?: number;
  /**
   * `error.type` when the request failed other than by a 5xx status (a thrown error, an aborted
   * connection). Ignored with a complete 4xx answer: an error thrown for the client's mistake
   * (a body that fails validation, malformed JSON) that the framework answered with a 4xx.
   */
  errorType?: string;
  /** The status message of a failed request. */
  errorMessage?: string;
}

/**
 * Records the end of a request on its HTTP server span and ends the span, as the HTTP
 * semantic conventions describe a server span: `http.route` and the span name from the
 * route, the status code, and an error (with `error.type`) for a 5xx status or a failure
 * without one. A 4xx is the client's error, not the server's, so it leaves the status unset.
 * Both the span this package makes for every request and the one the payment middleware
 * makes in lean mode end here.
 */
export function endHttpServerSpan(span: Span, method: string, end: ServerSpanEnd): void {
  try {
    if (end.route !== undefined && end.route.length > 0) {
      span.setAttribute(ATTR_HTTP_ROUTE, end.route);
      span.updateName(`${method} ${end.route}`);
    }
    if (end.statusCode !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, end.statusCode);
    const errorType = serverErrorType(end);
    if (errorType !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus(end.errorMessage !== undefined ? { code: SpanStatusCode.ERROR, message: end.errorMessage } : { code: SpanStatusCode.ERROR });
    }
  } finally {
    span.end();
  }
}

/**
 * `error.type` of a server span that ended so, or `undefined`: the error when no complete answer
 * went out or the answer was a 5xx, the status code for a 5xx with no error.
 */
export function serverErrorType(end: Pick<ServerSpanEnd, 'statusCode' | 'errorType'>): string | undefined {
  if (end.statusCode === undefined) return end.errorType;
  return end.statusCode >= 500 ? (end.errorType ?? String(end.statusCode)) : undefined;
}
