/**
 * A bearer token with no name in front of it (`acme=Bearer eyJ…` in `tracestate`, a baggage
 * value `Bearer eyJ…`). The redaction rules find one after a sensitive name
 * (`authorization=Bearer …`); a header forwarded to every outgoing call must not carry one
 * under any other name either.
 */
const BEARER_TOKEN = /(?:^|[^A-Za-z0-9])bearer\s+[A-Za-z0-9._~+/-]/i;

/** Whether `value` holds a bearer token. */
export function holdsBearerToken(value: string): boolean {
  return BEARER_TOKEN.test(value);
}
