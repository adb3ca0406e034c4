import { hasCardNetworkPrefix } from './card-networks.js';
import type { RedactionCounter } from './counter.js';
import { passesLuhn } from './luhn.js';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
/** 13 digits joined by at most single separators: the cheap (native) gate before the scan. */
const MAY_HOLD_CARD = /\d(?:[ +-]?\d){12}/;

/** A card number: 13-19 digits with a card-network prefix and a valid Luhn check. */
export function isCardNumber(digits: string): boolean {
  return hasCardNetworkPrefix(digits) && passesLuhn(digits);
}

/** `************1111`: one star per hidden digit, separators dropped, the last four kept. */
export function maskDigits(digits: string): string {
  return '*'.repeat(digits.length - 4) + digits.slice(-4);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Space, dash, and `+`: a number typed in groups and sent in a form body has its spaces
 * encoded as `+` (`card=4111+1111+1111+1111`), and such a body ends up in free text (an
 * error message) where nothing decodes it first.
 */
function isSeparator(code: number): boolean {
  return code === 32 || code === 45 || code === 43;
}

/**
 * Masks every card number in `text`. A card is looked for in runs of digit groups joined by
 * single spaces, dashes or `+` (`4111 1111 1111 1111`, `4111-1111-1111-1111`): any stretch of
 * whole groups holding 13-19 digits that is a card is masked. A group is never split, so
 * digits inside a longer unbroken run (a 20-digit reference) are not a card. Letters next to
 * the digits do not protect them (`card4111111111111111` is masked). The last four digits
 * stay visible unless another group is joined right after them.
 *
 * Returns `text` itself when nothing matched, so callers can compare by identity.
 */
export function maskCardNumbers(text: string, counter: RedactionCounter): string {
  const length = text.length;
  if (length < MIN_DIGITS || !MAY_HOLD_CARD.test(text)) return text;
  let result = '';
  let copiedUpTo = 0;
  let i = 0;
  while (i < length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // Measure the run of joined groups first; only a run with enough digits is looked into.
    const runStart = i;
    let total = 0;
    for (;;) {
      const groupStart = i;
      while (i < length && isDigit(text.charCodeAt(i))) i++;
      total += i - groupStart;
      if (i + 1 < length && isSeparator(text.charCodeAt(i)) && isDigit(text.charCodeAt(i + 1))) i++;
      else break;
    }
    if (total < MIN_DIGITS) continue;
    const starts: number[] = [];
    const ends: number[] = [];
    for (let j = runStart; j < i; ) {
      const groupStart = j;
      while (j < i && isDigit(text.charCodeAt(j))) j++;
      starts.push(groupStart);
      ends.push(j);
      j++; // the separator
    }
    for (let g = 0; g < starts.length; ) {
      let digits = '';
      let matchEnd = -1;
      let matchDigits = '';
      for (let e = g; e < starts.length; e++) {
        digits += text.slice(starts[e], ends[e]);
        if (digits.length > MAX_DIGITS) break;
        if (digits.length >= MIN_DIGITS && isCardNumber(digits)) {
          matchEnd = e;
          matchDigits = digits;
        }
      }
      if (matchEnd < 0) {
        g++;
        continue;
      }
      // Kept last four digits joined to a following group would read as a new number
      // (`************6360-0003960482`), so such a card is masked completely.
      const masked = matchEnd < starts.length - 1 ? '*'.repeat(matchDigits.length) : maskDigits(matchDigits);
      result += text.slice(copiedUpTo, starts[g]) + masked;
      copiedUpTo = ends[matchEnd];
      counter.count++;
      g = matchEnd + 1;
    }
  }
  return copiedUpTo === 0 ? text : result + text.slice(copiedUpTo);
}

/**
 * More digits than this at the end of a cut value are masked: a card's first six digits (its
 * issuer's number) may be shown, as PCI DSS allows, and anything more may not.
 */
const MAX_SHOWN_CUT_DIGITS = 6;

/**
 * Masks the digits at the very end of `text`, a value that an attribute length limit cut. A
 * card number cut there has lost its last digits, so it fails the length and Luhn checks
 * `maskCardNumbers` relies on, and its first digits would otherwise be exported. The run of
 * digit groups (joined as in `maskCardNumbers`, a trailing separator included) that reaches the
 * end is masked completely when it holds more than six digits; a shorter run is left alone.
 *
 * Only for values known to be cut: in a whole value these digits are an ordinary number.
 * Returns `text` itself when nothing was masked, so callers can compare by identity.
 */
export function maskCutDigits(text: string): string {
  let i = text.length;
  if (i > 0 && isSeparator(text.charCodeAt(i - 1))) i--;
  let digits = 0;
  for (;;) {
    const groupEnd = i;
    while (i > 0 && isDigit(text.charCodeAt(i - 1))) i--;
    digits += groupEnd - i;
    if (groupEnd === i) break;
    if (i > 1 && isSeparator(text.charCodeAt(i - 1)) && isDigit(text.charCodeAt(i - 2))) i--;
    else break;
  }
  if (digits <= MAX_SHOWN_CUT_DIGITS) return text;
  return text.slice(0, i) + '*'.repeat(digits);
}

/**
 * A number attribute can hold a card number too (16 digits fit in a double exactly). Returns
 * the masked string, or `undefined` when the number is not a card. Cheap for ordinary values:
 * only integers of 13 or more digits are looked at.
 */
export function maskCardNumberValue(value: number, counter: RedactionCounter): string | undefined {
  const magnitude = Math.abs(value);
  if (magnitude < 1e12 || magnitude >= 1e19 || !Number.isInteger(magnitude)) return undefined;
  const digits = String(magnitude);
  // Above 2^53 the last digits are rounded away, so Luhn says nothing; the leading digits
  // of a 17-19 digit card are still there, so a card prefix alone is enough to mask.
  if (!(Number.isSafeInteger(magnitude) ? isCardNumber(digits) : hasCardNetworkPrefix(digits))) return undefined;
  counter.count++;
  return maskDigits(digits);
}
