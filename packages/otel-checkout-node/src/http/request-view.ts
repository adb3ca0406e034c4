import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the shared middleware core needs from a request, whatever the framework.
 * Each framework adapter builds one of these; the core never touches framework objects.
 */
export interface RequestView {
  readonly method: string;
  /** Path and query as received, e.g. `/pay/notify?otc_flow=...`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** True when the request came over TLS (`url.scheme` https). */
  readonly secure?: boolean;
  /** The body as the framework parsed it (object for JSON/form), when it did. */
  readonly body?: unknown;
  /** The raw body, when the adapter has it and no parsed body exists. */
  readonly rawBody?: string | Uint8Array;
  /**
   * The body stream, when the adapter can tell it was not read. `unread`: nothing consumed it,
   * so no parser read a body the request declares, whatever placeholder `body` holds (a parser
   * that skips a content type may leave `{}`). `not-searched`: left unread on purpose, or lost
   * with its connection; nobody is to be told. `over-limit`: a bounded read gave up on it.
   */
  readonly bodyStream?: 'unread' | 'not-searched' | 'over-limit';
}
