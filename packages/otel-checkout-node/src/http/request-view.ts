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
}
