import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedactor } from '../../src/index.js';
import { maskIbans, passesMod97 } from '../../src/redaction/iban.js';

/**
 * The ISO 7064 MOD 97-10 check, computed here independently of the package: letters become
 * 10-35 and the remainder is taken nine digits at a time, as the standard describes it for
 * implementations without big integers.
 */
function validIban(iban: string): boolean {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
  let rest = 0;
  for (let i = 0; i < digits.length; i += 7) rest = Number(String(rest) + digits.slice(i, i + 7)) % 97;
  return rest === 1;
}

/** The check digits that make `country + '00' + bban` valid. */
function withCheckDigits(country: string, bban: string): string {
  for (let check = 2; check <= 98; check++) {
    const iban = `${country}${String(check).padStart(2, '0')}${bban}`;
    if (validIban(iban)) return iban;
  }
  throw new Error('unreachable');
}

/** Printed the way banks print them: groups of four after the country code and check digits. */
function printed(iban: string, separator = ' '): string {
  return iban.replace(/(.{4})(?=.)/g, `$1${separator}`);
}

function mask(text: string): { text: string; count: number } {
  const counter = { count: 0 };
  return { text: maskIbans(text, counter), count: counter.count };
}

describe('IBAN masking', () => {
  describe('published example IBANs (ISO 13616 registry) are valid', () => {
    for (const iban of ['DE89370400440532013000', 'GB82WEST12345698765432', 'NO9386011117947', 'FR1420041010050500013M02606', 'BE68539007547034', 'MT84MALT011000012345MTLCAST001S', 'LC55HEMM000100010012001200023015']) {
      it(iban, () => {
        assert.equal(validIban(iban), true, 'the independent check');
        assert.equal(passesMod97(iban), true);
      });
    }
  });

  const table: Array<[string, string, string, number]> = [
    ['run together', 'iban DE89370400440532013000 refused', 'iban DE****************3000 refused', 1],
    ['printed in groups', 'IBAN DE89 3704 0044 0532 0130 00 refused', 'IBAN DE****************3000 refused', 1],
    ['letters in the account part', 'to GB82 WEST 1234 5698 7654 32.', 'to GB****************5432.', 1],
    ['the shortest (Norway, 15)', 'NO9386011117947', 'NO*********7947', 1],
    ['a long one (Saint Lucia, 32)', 'LC55 HEMM 0001 0001 0012 0012 0002 3015', `LC${'*'.repeat(26)}3015`, 1],
    ['quoted in JSON', '{"account":"FR1420041010050500013M02606"}', `{"account":"FR${'*'.repeat(21)}2606"}`, 1],
    ['in a query value', 'https://bank.example/pay?to=BE68539007547034&x=1', `https://bank.example/pay?to=BE${'*'.repeat(10)}7034&x=1`, 1],
    ['two of them', 'from NO9386011117947 to BE68539007547034', `from NO*********7947 to BE${'*'.repeat(10)}7034`, 2],
    ['followed by a word of four capitals', 'BE68 5390 0754 7034 SEPA transfer', `BE${'*'.repeat(10)}7034 SEPA transfer`, 1],
    ['followed by a short number', 'DE89 3704 0044 0532 0130 00 42', 'DE****************3000 42', 1],
    // A URL-encoded form body quoted in a message, where nothing decodes it first.
    ['joined by %20', 'refused: iban=DE89%203704%200044%200532%200130%2000&amount=5', 'refused: iban=DE****************3000&amount=5', 1],
    ['joined by +', 'refused: iban=DE89+3704+0044+0532+0130+00&amount=5', 'refused: iban=DE****************3000&amount=5', 1],
    ['joined by no-break spaces (U+00A0), as a page formats it', 'IBAN DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000', 'IBAN DE****************3000', 1],
    ['joined by tabs', 'DE89\t3704\t0044\t0532\t0130\t00', 'DE****************3000', 1],
    ['right after an escape', 'next=%2Fsepa%3Fiban%3DDE89370400440532013000', 'next=%2Fsepa%3Fiban%3DDE****************3000', 1],
    ['after an encoded space, joined by %20, then a word', 'IBAN%20DE89%203704%200044%200532%200130%2000%20refused', 'IBAN%20DE****************3000%20refused', 1],
    ['joined by %20, then a word of four capitals', 'to%20BE68%205390%200754%207034%20SEPA', `to%20BE${'*'.repeat(10)}7034%20SEPA`, 1],
    // A form body encoded again, inside another parameter or a nested URL.
    ['joined by %2520', 'refused: acct=DE89%25203704%25200044%25200532%25200130%252000&amount=5', 'refused: acct=DE****************3000&amount=5', 1],
    ['joined by %2B (a form body\'s + encoded)', 'next=%2Fsepa%3Facct%3DDE89%2B3704%2B0044%2B0532%2B0130%2B00', 'next=%2Fsepa%3Facct%3DDE****************3000', 1],
    ['right after an escape encoded twice', 'next=%252Fsepa%253Facct%253DDE89370400440532013000', 'next=%252Fsepa%253Facct%253DDE****************3000', 1],
    ['after a literal percent sign (%25)', 'fee 5%25DE89370400440532013000', 'fee 5%25DE****************3000', 1],
    // Not masked, on purpose.
    ['a wrong check digit', 'DE89370400440532013001', 'DE89370400440532013001', 0],
    ['inside a longer word', 'XDE89370400440532013000', 'XDE89370400440532013000', 0],
    ['followed by more characters', 'DE89370400440532013000X', 'DE89370400440532013000X', 0],
    ['a wrong check digit, joined by %20', 'iban=DE89%203704%200044%200532%200130%2001', 'iban=DE89%203704%200044%200532%200130%2001', 0],
    ['a wrong check digit, joined by %2520', 'acct=DE89%25203704%25200044%25200532%25200130%252001', 'acct=DE89%25203704%25200044%25200532%25200130%252001', 0],
    ['typed in lower case', 'iban de89 3704 0044 0532 0130 00 invalid', 'iban de****************3000 invalid', 1],
    ['mixed case, run together', 'gb82West12345698765432', 'gb****************5432', 1],
    ['followed by a short lower-case word', 'BE68 5390 0754 7034 for', `BE${'*'.repeat(10)}7034 for`, 1],
    ['too short to be one', 'AB12 3456 7890', 'AB12 3456 7890', 0],
    // Dashes are no IBAN separator: a UUID's groups of four would be read as one (one in 97 would pass the check).
    ['joined by dashes', 'DE89-3704-0044-0532-0130-00', 'DE89-3704-0044-0532-0130-00', 0],
    ['a span name', 'payment.provider create_payment', 'payment.provider create_payment', 0],
  ];
  for (const [why, input, expected, count] of table) {
    it(`${why}: ${input}`, () => assert.deepEqual(mask(input), { text: expected, count }));
  }

  it('is idempotent', () => {
    for (const [, input] of table) assert.equal(mask(mask(input).text).text, mask(input).text);
  });

  const country = fc.tuple(fc.integer({ min: 65, max: 90 }), fc.integer({ min: 65, max: 90 })).map(([a, b]) => String.fromCharCode(a, b));
  const bban = fc.array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), { minLength: 11, maxLength: 30 }).map((chars) => chars.join(''));
  const iban = fc.tuple(country, bban).map(([c, b]) => withCheckDigits(c, b));
  /** What may sit next to an IBAN in a message: anything but a letter, a digit or `_`, or a URL escape. */
  const separator = fc.constantFrom(' ', ': ', '"', "'", '=', '(', ') ', ', ', '\n', '/', '%3D', '%20', '%2C', '%253D', '%2520');

  it('masks every valid IBAN, printed (spaces, +, %20, or those encoded again) or run together, in either case, between separators, keeping only the country code and the last four', () => {
    fc.assert(
      fc.property(iban, fc.constantFrom('', ' ', '+', '%20', '%2B', '%2520'), fc.boolean(), separator, separator, (upper, groupSeparator, lower, before, after) => {
        const value = lower ? upper.toLowerCase() : upper;
        const written = groupSeparator === '' ? value : printed(value, groupSeparator);
        // What follows starts with punctuation: a short word right after it could be read as
        // its last group, and one time in 97 pass the check with it (masked with it, then).
        const { text, count } = mask(`refused${before}${written}${after}(retry)`);
        assert.equal(count, 1);
        assert.equal(text, `refused${before}${value.slice(0, 2)}${'*'.repeat(value.length - 6)}${value.slice(-4)}${after}(retry)`);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves an IBAN-shaped text with a wrong check alone', () => {
    fc.assert(
      fc.property(iban, fc.integer({ min: 1, max: 96 }), (value, shift) => {
        const check = ((Number(value.slice(2, 4)) + shift - 2) % 97) + 2;
        const wrong = `${value.slice(0, 2)}${String(check).padStart(2, '0')}${value.slice(4)}`;
        fc.pre(!validIban(wrong));
        // Followed by punctuation: a short word right after it could be read as its last group,
        // and with it pass the check by chance (one time in 97), which masks that word too.
        assert.deepEqual(mask(`x ${wrong}, y`), { text: `x ${wrong}, y`, count: 0 });
      }),
      { numRuns: 300 },
    );
  });

  it('is a rule of the redactor, on by default and off with bankAccounts: false, and runs in free text and URLs', () => {
    const message = 'debit refused for DE89 3704 0044 0532 0130 00';
    assert.equal(createRedactor().redactText(message), 'debit refused for DE****************3000');
    assert.equal(createRedactor({ bankAccounts: false }).redactText(message), message);
    const url = 'https://bank.example/sepa?to=DE89%203704%200044%200532%200130%2000';
    assert.equal(createRedactor().redactValue('url.full', url), `https://bank.example/sepa?to=${encodeURIComponent('DE****************3000')}`);
  });
});
