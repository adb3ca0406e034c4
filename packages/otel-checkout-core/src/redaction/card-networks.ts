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
  const length = digits.length;
  if (length < 13 || length > 19) return false;
  const p2 = (digits.charCodeAt(0) - 48) * 10 + (digits.charCodeAt(1) - 48);
  const p3 = p2 * 10 + (digits.charCodeAt(2) - 48);
  const p4 = p3 * 10 + (digits.charCodeAt(3) - 48);
  switch (digits.charCodeAt(0) - 48) {
    case 2:
      return (p4 >= 2221 && p4 <= 2720 && length === 16) || (p4 >= 2200 && p4 <= 2204 && length >= 16);
    case 3:
      return (
        ((p2 === 34 || p2 === 37) && length === 15) ||
        (p4 >= 3528 && p4 <= 3589 && length >= 16) ||
        (((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) && length >= 14)
      );
    case 4:
      return length === 13 || length === 16 || length === 19;
    case 5:
      return (p2 >= 51 && p2 <= 55 && length === 16) || p2 === 50 || (p2 >= 56 && p2 <= 59);
    case 6:
      return true;
    default:
      return false;
  }
}
