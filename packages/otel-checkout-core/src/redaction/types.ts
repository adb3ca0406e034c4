/**
 * Public configuration and the framework-neutral span shape of the redaction rules.
 * Every field is optional; the defaults are what a payment service should run with.
 */

/** Options of the redaction rules (see the package README, "Redaction"). */
export interface RedactionOptions {
  /** Turns every rule off. Only for local debugging: exported data may then hold card numbers. Default `true`. */
  enabled?: boolean;
  /** Masks card numbers (13-19 digits, card-network prefix, valid Luhn check) to their last four digits. Default `true`. */
  cardNumbers?: boolean;
  /**
   * Masks IBANs (country code, check digits and account characters passing the ISO 7064
   * MOD 97-10 check, in either case, run together or in groups of four) to the country code
   * and the last four characters. Default `true`.
   */
  bankAccounts?: boolean;
  /**
   * Scrubs `name=value`, `name: value` and `"name": "value"` pairs with a sensitive name inside
   * free text (exception messages, logged bodies, status messages), the whole line of a bare
   * `Cookie:` or `Set-Cookie:` header, and the text of XML elements with a sensitive name
   * (`<sign>…</sign>`). Default `true`.
   */
  inlinePairs?: boolean;
  /** More denylisted keys, matched like the built-in ones (case and `-`/`_`/`.` insensitive, last segment). Default `[]`. */
  sensitiveKeys?: readonly string[];
  /** More query parameter names whose values are replaced by `REDACTED` in URLs (and `[REDACTED]` in free text). Default `[]`. */
  sensitiveQueryParameters?: readonly string[];
  /** The query parameter that carries the flow token; always scrubbed from URLs. Default `'otc_flow'`. */
  flowTokenParameter?: string;
  /**
   * More attribute keys whose values are kept exactly as they are (no rule applies), added to
   * the registered identifiers `payment.trade_no`, `payment.order.id`,
   * `payment.provider.transaction_id` and `payment.merchant.id`. Default `[]`.
   */
  exemptKeys?: readonly string[];
  /**
   * More attribute keys that hold a URL or a path with a query (scrubbed even without a
   * scheme), added to `url.full`, `url.original`, `url.path`, `http.url`, `http.target`. Default `[]`.
   */
  urlKeys?: readonly string[];
}

/** An attribute value as OpenTelemetry allows it (plus what JavaScript callers may slip in). */
export type RedactableValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | ReadonlyArray<string | number | boolean | null | undefined>;

/** Attributes, redacted in place. */
export type RedactableAttributes = Record<string, RedactableValue>;

/**
 * The parts of a span that can carry sensitive data, as plain objects. The SDK span (Node
 * and web) has this shape, so it can be passed as it is; it is changed in place.
 */
export interface RedactableSpan {
  name: string;
  status?: { message?: string };
  attributes?: RedactableAttributes;
  events?: ReadonlyArray<{ name: string; attributes?: RedactableAttributes }>;
  links?: ReadonlyArray<{ attributes?: RedactableAttributes }>;
}
