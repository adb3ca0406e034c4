import { hasCardNetworkPrefix } from './card-networks.js';
import type { RedactionCounter } from './counter.js';
import { passesLuhn } from './luhn.js';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

// The separators allowed between digit groups: any space (no-break and thin spaces and tabs
// too: a number formatted for display or pasted from one), a dash, a dot, `_`, `/`, `+`, and a
// space, dash or `+` URL-encoded, once or more (`%20`, `%2D`, `%2B`; `%2520`, `%252D`,
// `%252B`...). A number typed
// in groups and sent in a form body or a query has its spaces encoded
// (`card=4111+1111+1111+1111`, `4111%201111%201111%201111`), a form body carried inside another
// parameter or a nested URL is encoded again (`%2B`, `%2520`), and such a body ends up in free
// text (an error message) where nothing decodes it first. The patterns below each spell them
// out; keep them in step.

/** 13 digits joined by at most single separators: the cheap (native) gate before the scan. */
const MAY_HOLD_CARD = /\d(?:(?:[\s+./_-]|%(?:25)*2[0bd])?\d){12}/i;
/**
 * A run of digit groups joined by single separators, holding at least 13 digits (the lookahead
 * keeps the many shorter numbers of a message, line numbers of a stack, away from the
 * callback). An escaped separator outside a run is matched on its own, so that the `20` of
 * `card%204111…` (or the `2520` of `card%25204111…`) does not start a group.
 */
const DIGIT_RUN = /%(?:25)*2[0bd]|\d(?=(?:(?:[\s+./_-]|%(?:25)*2[0bd])?\d){12})\d*(?:(?:[\s+./_-]|%(?:25)*2[0bd])\d+)*/gi;
/** One separator character. */
const SEPARATOR = /[\s+./_-]/;
/** Splits a run of digit groups (or an IBAN as written) into its groups (even indices) and separators (odd indices). */
export const GROUP_SEPARATOR = /([\s+./_-]|%(?:25)*2[0bd])/i;

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

/** The length of the separator that ends right before `end` (0 when there is none). */
function separatorBefore(text: string, end: number): number {
  if (SEPARATOR.test(text.charAt(end - 1))) return 1;
  const code = text.charCodeAt(end - 1);
  // `%20`, `%2d` or `%2b` in either case (`| 32` lower-cases an ASCII letter), escaped once or
  // more (`%2520`: every `25` before the `2` is one more escape of the `%`).
  const lower = code | 32;
  if ((code !== 48 && lower !== 100 && lower !== 98) || text.charCodeAt(end - 2) !== 50) return 0;
  let start = end - 2;
  while (text.charCodeAt(start - 1) === 53 && text.charCodeAt(start - 2) === 50) start -= 2;
  return text.charCodeAt(start - 1) === 37 ? end - start + 1 : 0;
}

/**
 * What comes right before a run that may start inside a URL escape: a `%` (escaped again or not,
 * `%25`), so the run's first two digits may be the escape's (`%22`, or `%2522` encoded twice:
 * then four); or such a `%` and one more character (`%A4`, `%25A4`), so its first digit may be.
 */
const ESCAPE_BEFORE_RUN = /%(?:25)*[^%]?$/;

/**
 * Masks every card number in `text`. A card is looked for in runs of digit groups joined by
 * single separators (`4111 1111 1111 1111`, `4111-1111-1111-1111`, `4111%201111%201111%201111`):
 * any stretch of whole groups holding 13-19 digits that is a card is masked. A group is never
 * split, so digits inside a longer unbroken run (a 20-digit reference) are not a card. Letters
 * next to the digits do not protect them (`card4111111111111111` is masked). The last four
 * digits stay visible unless another group is joined right after them.
 *
 * Returns `text` itself when nothing matched, so callers can compare by identity.
 */
export function maskCardNumbers(text: string, counter: RedactionCounter): string {
  if (text.length < MIN_DIGITS || !MAY_HOLD_CARD.test(text)) return text;
  let found = 0;
  const out = text.replace(DIGIT_RUN, (run, at: number) => {
    // An escape on its own.
    if (run.length < MIN_DIGITS) return run;
    // Right after a `%`, the run's first digits may be an escape's (`%22` is a quote in
    // URL-encoded JSON, `%2522` the same encoded twice, `%28` a parenthesis), and right after
    // `%` and a hex letter its first digit (`%A4`, the end of an `ä`), stuck to a card that
    // follows. After such an escape the run is read as it stands, then without its first one,
    // two, four... digits, and the reading that finds the most cards wins (the earliest on a tie:
    // `5%4111…` is a percent sign and a card). A card in a later group must not hide one that
    // starts right after the escape, or a second pass would still find it.
    let best = run;
    let most = 0;
    const escape = ESCAPE_BEFORE_RUN.test(text.slice(0, at));
    for (let skip = 0; skip < run.length; skip += skip < 2 ? 1 : 2) {
      const [masked, cards] = maskRun(run.slice(skip));
      if (cards > most) {
        best = run.slice(0, skip) + masked;
        most = cards;
      }
      // No escape before the run: one reading. After one: past two digits, `25` read as one more
      // escape of the `%` while there is one.
      if (!escape || (skip > 1 && !run.startsWith('25', skip - 2))) break;
    }
    found += most;
    return best;
  });
  counter.count += found;
  return found ? out : text;
}

/** Masks the cards in one run of digit groups (the same text when there are none), and counts them. */
function maskRun(run: string): [masked: string, cards: number] {
  let cards = 0;
  const parts = run.split(GROUP_SEPARATOR);
  for (let g = 0; g < parts.length; g += 2) {
    let digits = '';
    let matchEnd = -1;
    let matchDigits = '';
    for (let e = g; e < parts.length; e += 2) {
      digits += parts[e];
      if (digits.length > MAX_DIGITS) break;
      if (isCardNumber(digits)) {
        matchEnd = e;
        matchDigits = digits;
      }
    }
    if (matchEnd < 0) continue;
    // Kept last four digits joined to a following group would read as a new number
    // (`************6360-0003960482`), so such a card is masked completely.
    const masked = matchEnd < parts.length - 1 ? '*'.repeat(matchDigits.length) : maskDigits(matchDigits);
    // The card's groups and the separators between them become the one masked string.
    parts.fill('', g, matchEnd);
    parts[matchEnd] = masked;
    cards++;
    g = matchEnd;
  }
  return [parts.join(''), cards];
}

/**
 * More digits than this at the end of a cut value are masked: a card's first six digits (its
 * issuer's number) may be shown, as PCI DSS allows, and anything more may not.
 */
const MAX_SHOWN_CUT_DIGITS = 6;

/** What a cut leaves of an escaped separator at the end of a value: `%`, `%2`, `%25`, `%252`... */
const CUT_ESCAPE_END = /%(?:25)*2?$/;

/**
 * Masks the digits at the very end of `text`, a value that an attribute length limit cut. A
 * card number cut there has lost its last digits, so it fails the length and Luhn checks
 * `maskCardNumbers` relies on, and its first digits would otherwise be exported. The run of
 * digit groups (joined as in `maskCardNumbers`, a trailing separator included, or the `%`,
 * `%2` or `%25` a cut left of an escaped one) that reaches the end is masked completely when it holds
 * more than six digits; a shorter run is left alone.
 *
 * Only for values known to be cut: in a whole value these digits are an ordinary number.
 * Returns `text` itself when nothing was masked, so callers can compare by identity.
 */
export function maskCutDigits(text: string): string {
  let i = text.length;
  // A separator the cut ended on, or what the cut left of an escaped one (`%`, `%2`).
  i -= separatorBefore(text, i) || (CUT_ESCAPE_END.exec(text)?.[0].length ?? 0);
  let digits = 0;
  for (;;) {
    const groupEnd = i;
    // The `0` of a `%20` is part of the separator, not of the group.
    while (i > 0 && isDigit(text.charCodeAt(i - 1)) && separatorBefore(text, i) === 0) i--;
    digits += groupEnd - i;
    if (groupEnd === i) break;
    const separator = separatorBefore(text, i);
    if (separator > 0 && isDigit(text.charCodeAt(i - separator - 1))) i -= separator;
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
