import { maskDigits } from './card-numbers.js';
import type { RedactionCounter } from './counter.js';

/** ISO 13616: the shortest IBAN (Norway) has 15 characters, the longest 34. */
const MIN_IBAN_LENGTH = 15;

/**
 * An IBAN as written: a country code and two check digits, then groups of four letters or
 * digits (in either case: shoppers type them in lower case), run together or after single
 * spaces, the last group shorter, with a word boundary on either side (`\b` rather than a
 * lookbehind, which older Safari cannot parse). Only the shape (it allows one character more
 * than the longest IBAN): the check digits decide.
 */
const IBAN_SHAPE = /\b[a-z]{2}\d\d(?: ?[a-z\d]{4}){2,7}(?: ?[a-z\d]{1,3})?\b/gi;

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
 * four, not inside a longer word (a letter, digit or `_` right before or after it). A printed
 * IBAN followed by a short word (`… 7034 SEPA`) still matches: groups are dropped from the
 * end until the check passes (the longest first, so no group of a real IBAN is left in clear;
 * one time in 97 an IBAN-shaped text with its check wrong passes with the word, and the word
 * is masked with it). Letters count the same in either case.
 */
export function maskIbans(text: string, counter: RedactionCounter): string {
  // The country code and check digits: a native scan, far cheaper than the replace below.
  if (!MAY_HOLD_IBAN.test(text)) return text;
  return text.replace(IBAN_SHAPE, (match: string) => {
    for (let end = match.length; end >= MIN_IBAN_LENGTH; end = match.lastIndexOf(' ', end - 1)) {
      const iban = match.slice(0, end).replace(/ /g, '');
      if (iban.length >= MIN_IBAN_LENGTH && passesMod97(iban)) {
        counter.count++;
        return iban.slice(0, 2) + maskDigits(iban.slice(2)) + match.slice(end);
      }
    }
    return match;
  });
}
