/**
 * The networks' prefixes, each followed by a check of how many digits come after it, so that
 * the whole number has that network's length (`4(?=.{12}$|...)`: a Visa number of 13, 16 or
 * 19 digits). Maestro's 50 and 56-69 and the 6 that covers Discover and UnionPay take any
 * length the caller allows (13-19).
 */
const CARD_PREFIX =
  /^(?:4(?=.{12}$|.{15}$|.{18}$)|5[1-5](?=.{14}$)|5[06-9]|6|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)(?=.{12}$)|220[0-4](?=.{12,15}$)|3[47](?=.{13}$)|35(?:2[89]|[3-8]\d)(?=.{12,15}$)|3(?:0[0-5]\d|095|[689]\d\d)(?=.{10,15}$))/;

/**
 * Whether a digit string has the prefix and length of a real card network's PAN. Lengths are
 * the networks' own, so that ordinary numbers (phone numbers, ids) rarely qualify:
 *
 * | network | prefix | length |
 * |---|---|---|
 * | Visa | 4 | 13, 16, 19 |
 * | Mastercard | 51-55, 2221-2720 | 16 |
 * | Mir | 2200-2204 | 16-19 |
 * | American Express | 34, 37 | 15 |
 * | JCB | 3528-3589 | 16-19 |
 * | Diners Club | 300-305, 3095, 36, 38-39 | 14-19 |
 * | Discover | 6011, 644-649, 65 | 16-19 |
 * | UnionPay | 62 | 16-19 |
 * | Maestro | 50, 56-69 | 13-19 |
 *
 * Maestro's 56-69 makes every 13-19 digit number starting with 6 a candidate, which covers
 * Discover and UnionPay as well. Millisecond timestamps start with 1 and never qualify.
 */
export function hasCardNetworkPrefix(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && CARD_PREFIX.test(digits);
}
