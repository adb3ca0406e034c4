/**
 * A trade number as user code handed it over (an extractor, `payments.create`, a callback's
 * `tradeNo` hook), as the text the flow store is keyed by and `payment.trade_no` records: a
 * non-empty string as it is; a safe integer as its decimal string, because a provider or a
 * client that sends `{"out_trade_no": 12345}` hands the code a number whatever its type says,
 * and the flow must be found under "12345" wherever it came from. `undefined` otherwise.
 * Allocates nothing: it runs on every payment request.
 */
export function tradeNoText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/**
 * What `value` is, when it was meant as a trade number and `tradeNoText` could not use it, for
 * a warning that never shows the value; `undefined` when it is usable or means "none"
 * (`undefined`, `null`, `''`). A fraction or a number past 2^53 (whose digits JSON parsing has
 * already changed, so it would match no flow) is unusable, as are objects and booleans.
 */
export function unusableTradeNo(value: unknown): string | undefined {
  if (value === undefined || value === null || tradeNoText(value) !== undefined || value === '') return undefined;
  if (typeof value === 'number') return 'a number that is not a safe integer';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
