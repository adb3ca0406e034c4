import { GROUP_SEPARATOR, maskDigits } from './card-numbers.js';
import type { RedactionCounter } from './counter.js';

/** ISO 13616: the shortest IBAN (Norway) has 15 characters, the longest 34. */
const MIN_IBAN_LENGTH = 15;

/**
 * An IBAN as written: a country code and two check digits, then groups of four letters or
 * digits (in either case: shoppers type them in lower case), run together or after single
 * separators, the last group shorter, with a word boundary on either side (`\b` rather than a
 * lookbehind, which older Safari cannot parse). Only the shape (it allows one character more
 * than the longest IBAN): the check digits decide. The separators are any space (a no-break
 * space as a page formats one, a tab) and, as in a URL-encoded form body quoted in free text
 * where nothing decodes it first, `+` or `%20`, or either encoded again (`%2B`, `%2520`: a
 * form body carried in another parameter); such a body may also put an escape right before it
 * (`iban%3DDE89…`, `%20DE89…`, `%253DDE89…`), which leaves no word boundary there, so one is
 * matched (and kept) in front, as the first group.
 * Not a dash: a UUID's groups of four would read as an IBAN, and one in 97 would pass the check.
 */
const IBAN_SHAPE = /(?:\b|(%(?:25)*[\da-f]{2}))[a-z]{2}\d\d(?:(?:[\s+]|%(?:25)*2[0b])?[a-z\d]{4}){2,7}(?:(?:[\s+]|%(?:25)*2[0b])?[a-z\d]{1,3})?\b/gi;

/** A country code and check digits somewhere: without them there is nothing to look for. */
const MAY_HOLD_IBAN = /[a-z]{2}\d\d/i;

/** The ISO 7064 MOD 97-10 check of `iban` (letters and digits only): country code and check digits moved to the end, letters read as 10-35. */
export function passesMod97(iban: string): boolean {
  const digits = [...iban.slice(4) + iban.slice(0, 4)].map((char) => parseInt(char, 36)).join('');
  return BigInt(digits) % 97n === 1n;
}

/**
 * Masks every IBAN in `text` to its country code and last four characters, spaces dropped
 * (`DE89 3704 0044 0532 0130 00` → `DE****************3000`): a country code, check digits
 * and account characters that pass the MOD 97 check, run together or printed in groups of
 * four (joined by spaces, `+` or `%20`, encoded again or not), not inside a longer word (a letter, digit or `_`
 * right before or after it; an escape right before it is kept, see `IBAN_SHAPE`). A printed
 * IBAN followed by a short word (`… 7034 SEPA`) still matches: groups are dropped from the
 * end until the check passes (the longest first, so no group of a real IBAN is left in clear;
 * one time in 97 an IBAN-shaped text with its check wrong passes with the word, and the word
 * is masked with it). Letters count the same in either case.
 */
export function maskIbans(text: string, counter: RedactionCounter): string {
  // The country code and check digits: a native scan, far cheaper than the replace below.
  if (!MAY_HOLD_IBAN.test(text)) return text;
  return text.replace(IBAN_SHAPE, (match: string, leadingEscape: string | undefined) => {
    const escape = leadingEscape ?? '';
    const parts = match.slice(escape.length).split(GROUP_SEPARATOR);
    for (let end = parts.length; end > 0; end -= 2) {
      const iban = parts.slice(0, end).filter((_, i) => i % 2 === 0).join('');
      if (iban.length >= MIN_IBAN_LENGTH && passesMod97(iban)) {
        counter.count++;
        return escape + iban.slice(0, 2) + maskDigits(iban.slice(2)) + parts.slice(end).join('');
      }
    }
    return match;
  });
}
