/** What the `tradeNo` hook of a callback returned, as the trade number the flow store is keyed by. */
export interface HookTradeNo {
  /** The trade number, or `undefined` for none. */
  readonly tradeNo: string | undefined;
  /** What came back instead of a usable trade number, for the warning; `undefined` when nothing was wrong. */
  readonly unusable?: string;
}

const NONE: HookTradeNo = { tradeNo: undefined };

/**
 * A non-empty string as it is; a safe integer as its decimal string, because a provider that
 * sends `{"out_trade_no": 12345}` hands the hook a number whatever its type says, and the flow
 * was recorded under "12345". `undefined`, `null` and `''` are "no trade number". Anything else
 * is unusable: a fraction or a number past 2^53 (whose digits JSON parsing has already changed,
 * so it would match no flow) as well as objects and booleans.
 */
export function tradeNoOfHook(value: unknown): HookTradeNo {
  if (typeof value === 'string') return value === '' ? NONE : { tradeNo: value };
  if (value === undefined || value === null) return NONE;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { tradeNo: String(value) } : { tradeNo: undefined, unusable: 'a number that is not a safe integer' };
  }
  if (Array.isArray(value)) return { tradeNo: undefined, unusable: 'an array' };
  return { tradeNo: undefined, unusable: typeof value === 'object' ? 'an object' : `a ${typeof value}` };
}
