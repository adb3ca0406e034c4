/**
 * The longest identifier the package keeps (a trade number, an order, merchant or provider
 * transaction id), in characters (UTF-16 code units, as `String.prototype.length` counts them).
 * Providers cap their references far below it (Alipay's out_trade_no at 64, WeChat Pay's at 32,
 * Adyen's reference at 80, PayPal's invoice id at 127). A longer value did not come from one:
 * it is forged or a whole field mistaken for one, and kept it would cost its size in every span
 * that records it and in the flow store for as long as the store remembers it (tombstones for
 * days, unknown takes for minutes), which a stream of unauthenticated callbacks could grow
 * without bound.
 */
export const MAX_IDENTIFIER_LENGTH = 128;

/**
 * A trade number as user code handed it over (an extractor, `payments.create`, a callback's
 * `tradeNo` hook), as the text the flow store is keyed by and `payment.trade_no` records: a
 * non-empty string of at most `MAX_IDENTIFIER_LENGTH` characters as it is; a safe integer as its
 * decimal string, because a provider or a client that sends `{"out_trade_no": 12345}` hands the
 * code a number whatever its type says, and the flow must be found under "12345" wherever it came
 * from. `undefined` otherwise. Allocates nothing: it runs on every payment request.
 */
export function tradeNoText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' || value.length > MAX_IDENTIFIER_LENGTH ? undefined : value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/**
 * What `value` is, when it was meant as a trade number and `tradeNoText` could not use it, for
 * a warning that never shows the value; `undefined` when it is usable or means "none"
 * (`undefined`, `null`, `''`). A fraction or a number past 2^53 (whose digits JSON parsing has
 * already changed, so it would match no flow) is unusable, as are objects, booleans and strings
 * longer than `MAX_IDENTIFIER_LENGTH`.
 */
export function unusableTradeNo(value: unknown): string | undefined {
  if (value === undefined || value === null || tradeNoText(value) !== undefined || value === '') return undefined;
  if (typeof value === 'string') return tooLong(value);
  if (typeof value === 'number') return 'a number that is not a safe integer';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Says what is wrong with an identifier longer than `MAX_IDENTIFIER_LENGTH`, by its length only. */
export function tooLong(value: string): string {
  return `a string of ${value.length} characters, longer than ${MAX_IDENTIFIER_LENGTH}`;
}
