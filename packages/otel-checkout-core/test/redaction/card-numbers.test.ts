import assert from 'node:assert/strict';
import { isCardNumber, maskCutDigits } from '../../src/index.js';
import { hasCardNetworkPrefix } from '../../src/redaction/card-networks.js';
import { maskCardNumbers } from '../../src/redaction/card-numbers.js';

/** The networks' table (card-networks.ts), read row by row: the reference for every prefix and length. */
function inTable(digits: string): boolean {
  const length = digits.length;
  const prefix = (size: number): number => Number(digits.slice(0, size));
  const within = (value: number, low: number, high: number): boolean => value >= low && value <= high;
  const rows: Array<[boolean, (n: number) => boolean]> = [
    [digits[0] === '4', (n) => n === 13 || n === 16 || n === 19], // Visa
    [within(prefix(2), 51, 55) || within(prefix(4), 2221, 2720), (n) => n === 16], // Mastercard
    [within(prefix(4), 2200, 2204), (n) => n >= 16], // Mir
    [prefix(2) === 34 || prefix(2) === 37, (n) => n === 15], // American Express
    [within(prefix(4), 3528, 3589), (n) => n >= 16], // JCB
    [within(prefix(3), 300, 305) || prefix(4) === 3095 || prefix(2) === 36 || within(prefix(2), 38, 39), (n) => n >= 14], // Diners Club
    [prefix(4) === 6011 || within(prefix(3), 644, 649) || prefix(2) === 65, (n) => n >= 16], // Discover
    [prefix(2) === 62, (n) => n >= 16], // UnionPay
    [prefix(2) === 50 || within(prefix(2), 56, 69), () => true], // Maestro
  ];
  return length >= 13 && length <= 19 && rows.some(([prefixMatches, lengthMatches]) => prefixMatches && lengthMatches(length));
}

function mask(text: string): { text: string; count: number } {
  const counter = { count: 0 };
  return { text: maskCardNumbers(text, counter), count: counter.count };
}

describe('card numbers', () => {
  it('knows every network by the table: each four-digit prefix at every length from 12 to 20 digits', () => {
    for (let start = 0; start < 10_000; start++) {
      for (let length = 12; length <= 20; length++) {
        const digits = String(start).padStart(4, '0') + '7'.repeat(length - 4);
        assert.equal(hasCardNetworkPrefix(digits), inTable(digits), `${digits.slice(0, 4)}… (${length} digits)`);
      }
    }
  });

  describe('recognised per network (prefix, length, Luhn)', () => {
    const cards: Array<[string, string]> = [
      ['Visa 16', '4111111111111111'],
      ['Visa 16 (second test number)', '4012888888881881'],
      ['Visa 13', '4222222222222'],
      ['Visa 19', '4000000000000000006'],
      ['Mastercard 51-55', '5555555555554444'],
      ['Mastercard 51-55 (5105)', '5105105105105100'],
      ['Mastercard 2-series', '2223003122003222'],
      ['Mir', '2200000000000004'],
      ['American Express 37', '378282246310005'],
      ['American Express 34', '371449635398431'],
      ['Discover 6011', '6011111111111117'],
      ['JCB 3530', '3530111333300000'],
      ['JCB 3566', '3566002020360505'],
      ['Diners 305', '30569309025904'],
      ['Diners 38', '38520000023237'],
      ['Diners 36', '36000000000008'],
      ['UnionPay 16', '6200000000000005'],
      ['UnionPay 19', '6200000000000000000'],
      ['Maestro 67', '6759649826438453'],
      ['Maestro 50, 13 digits', '5000000000005'],
    ];
    for (const [network, number] of cards) {
      it(`${network}: ${number}`, () => {
        assert.equal(isCardNumber(number), true);
        assert.deepEqual(mask(number), { text: `${'*'.repeat(number.length - 4)}${number.slice(-4)}`, count: 1 });
      });
    }
  });

  describe('not cards', () => {
    const notCards: Array<[string, string]> = [
      ['Luhn fails', '4111111111111112'],
      ['millisecond timestamp (prefix 1)', '1732000000007'],
      ['Visa prefix at a length Visa does not issue (15)', '411111111111116'],
      ['Amex prefix at 16 digits', '3782822463100058'],
      ['Mastercard 51 at 15 digits', '510510510510518'],
      ['prefix 7', '7000000000000002'],
      ['prefix 8 (phone-like)', '8613800138000'],
      ['prefix 9', '9000000000000000'],
      ['12 digits', '500000000009'],
      ['20 digits', '41111111111111111113'],
    ];
    for (const [why, number] of notCards) {
      it(`${why}: ${number}`, () => {
        assert.equal(isCardNumber(number), false);
        assert.deepEqual(mask(number), { text: number, count: 0 });
      });
    }
  });

  describe('in text', () => {
    const table: Array<[string, string, string, number]> = [
      ['spaces between groups', 'card 4111 1111 1111 1111 declined', 'card ************1111 declined', 1],
      ['dashes between groups', 'pan=4111-1111-1111-1111;', 'pan=************1111;', 1],
      ['a form body\'s "+" between groups', 'card=4111+1111+1111+1111&x=1', 'card=************1111&x=1', 1],
      ['URL-encoded spaces (%20) between groups', 'card 4111%201111%201111%201111 declined', 'card ************1111 declined', 1],
      ['URL-encoded dashes (%2D, %2d) between groups', 'pan=5555%2D5555%2d5555%2D4444;', 'pan=************4444;', 1],
      ['Amex 4-6-5 grouping with %20', '3782%20822463%2010005', '***********0005', 1],
      ['%20 before the card: its 20 is no digit of the card', 'card%204111111111111111%20declined', 'card%20************1111%20declined', 1],
      ['%20-grouped, after %20', 'q=card%204111%201111%201111%201111', 'q=card%20************1111', 1],
      ['%20 joins a following group: masked completely', '4111%201111%201111%201111%2012', '****************%2012', 1],
      ['a percent sign right before a card takes none of its digits', 'fee 5%4111111111111111', 'fee 5%************1111', 1],
      ['URL-encoded JSON: the %22 before the card is a quote', '%7B%22pan%22%3A%224111111111111111%22%7D', '%7B%22pan%22%3A%22************1111%22%7D', 1],
      ['URL-encoded parenthesis (%28) before the card', 'card%20%284111111111111111%29', 'card%20%28************1111%29', 1],
      ['an escape ending in a digit (%A4) before the card', 'K%C3%A44111111111111111', 'K%C3%A4************1111', 1],
      ['%22 before a card in groups', 'x%224111%201111%201111%201111', 'x%22************1111', 1],
      // A form body encoded again, inside another parameter or a nested URL.
      ['spaces encoded twice (%2520) between groups', 'ref=4111%25201111%25201111%25201111&x=1', 'ref=************1111&x=1', 1],
      ['dashes encoded twice (%252D, %252d) between groups', 'ref=5555%252D5555%252d5555%252D4444', 'ref=************4444', 1],
      ['a form body\'s "+" encoded (%2B, %2b) between groups', 'next=card%3D4111%2B1111%2b1111%2B1111', 'next=card%3D************1111', 1],
      ['"+" encoded twice (%252B) between groups', 'card%253D4111%252B1111%252B1111%252B1111', 'card%253D************1111', 1],
      ['spaces encoded three times (%252520)', '4111%2525201111%2525201111%2525201111', '************1111', 1],
      ['%2520 before the card: its 2520 is no digit of the card', 'card%25204111111111111111%2520declined', 'card%2520************1111%2520declined', 1],
      ['JSON encoded twice: the %2522 before the card is a quote', '%257B%2522pan%2522%253A%25224111111111111111%2522%257D', '%257B%2522pan%2522%253A%2522************1111%2522%257D', 1],
      ['%2522 before a card in groups', 'x%25224111%25201111%25201111%25201111', 'x%2522************1111', 1],
      ['an escape encoded twice ending in a digit (%25A4) before the card', 'K%25C3%25A44111111111111111', 'K%25C3%25A4************1111', 1],
      ['a literal percent sign (%25) right before a card takes none of its digits', 'fee 5%254111111111111111', 'fee 5%25************1111', 1],
      ['a card right after %25, with another card later in the same run', '%254001000010000009 4000000000000002', '%25**************** ************0002', 2],
      ['Amex 4-6-5 grouping', '3782 822463 10005', '***********0005', 1],
      // Separators of numbers as printed, pasted or formatted in other places.
      ['dots between groups', 'card 4111.1111.1111.1111 declined', 'card ************1111 declined', 1],
      ['no-break spaces (U+00A0) between groups', 'card 4111\u00a01111\u00a01111\u00a01111', 'card ************1111', 1],
      ['narrow no-break spaces (U+202F) between groups', '5555\u202f5555\u202f5555\u202f4444', '************4444', 1],
      ['thin spaces (U+2009) between groups', '5555\u20095555\u20095555\u20094444', '************4444', 1],
      ['tabs between groups', '4111\t1111\t1111\t1111', '************1111', 1],
      ['underscores between groups', 'pan_4111_1111_1111_1111', 'pan_************1111', 1],
      ['slashes between groups', '/cards/4111/1111/1111/1111/verify', '/cards/************1111/verify', 1],
      ['two cards', '4111111111111111 and 5555555555554444', '************1111 and ************4444', 2],
      ['glued to letters', 'card4111111111111111x', 'card************1111x', 1],
      ['inside JSON', '{"number":"4111111111111111"}', '{"number":"************1111"}', 1],
      ['after a timestamp joined by a dash', '1732000000007-4111111111111111', '1732000000007-************1111', 1],
      ['phone number then card, one space', 'call 5551234 4111111111111111', 'call 5551234 ************1111', 1],
      ['inside a 20+ digit run', 'ref 94111111111111111123', 'ref 94111111111111111123', 0],
      ['double space breaks the grouping', '4111  1111  1111  1111', '4111  1111  1111  1111', 0],
      ['dots between numbers failing Luhn', 'v4111.1111.1111.1112', 'v4111.1111.1111.1112', 0],
      ['a dotted address and a port', '10.200.30.40:4318', '10.200.30.40:4318', 0],
      ['a date with slashes', 'on 2026/12/05 at 05/40', 'on 2026/12/05 at 05/40', 0],
      ['double %20 breaks the grouping', '4111%20%201111%201111%201111', '4111%20%201111%201111%201111', 0],
      ['%20 between numbers without a card prefix', 'q=1234%205678%209012%203456', 'q=1234%205678%209012%203456', 0],
      ['%20 between numbers failing Luhn', 'card 4111%201111%201111%201112', 'card 4111%201111%201111%201112', 0],
      ['%20 between short numbers of encoded text', 'items=12%2034%2056%2078%2090%2012%2034%2056', 'items=12%2034%2056%2078%2090%2012%2034%2056', 0],
      ['%20 before a millisecond timestamp', 'at%201732000000007%20ok', 'at%201732000000007%20ok', 0],
      ['encoded date and time', '2026%2D11%2D22%2005%3A26%3A16', '2026%2D11%2D22%2005%3A26%3A16', 0],
      ['%20 before a 20+ digit run', 'ref%2094111111111111111123', 'ref%2094111111111111111123', 0],
      ['%22 before digits failing Luhn', '%224111111111111112%22', '%224111111111111112%22', 0],
      ['%A4 before digits failing Luhn', 'K%C3%A44111111111111112', 'K%C3%A44111111111111112', 0],
      ['%28 before a 20+ digit run', '%2894111111111111111123%29', '%2894111111111111111123%29', 0],
      ['%2520 between numbers failing Luhn', 'ref=4111%25201111%25201111%25201112', 'ref=4111%25201111%25201111%25201112', 0],
      ['%2520 between short numbers', 'items=12%252034%252056%252078%252090%252012%252034', 'items=12%252034%252056%252078%252090%252012%252034', 0],
      ['%2520 before a millisecond timestamp', 'at%25201732000000007%2520ok', 'at%25201732000000007%2520ok', 0],
      ['%2522 before digits failing Luhn', '%25224111111111111112%2522', '%25224111111111111112%2522', 0],
      ['a %25 that is no separator breaks the grouping', '4111%251111%251111%251111', '4111%251111%251111%251111', 0],
      ['amount', 'amount 1234567890123.45 JPY', 'amount 1234567890123.45 JPY', 0],
      ['order id', 'order 2026112200001234', 'order 2026112200001234', 0],
      ['UUID', 'id 550e8400-e29b-41d4-a716-446655440000', 'id 550e8400-e29b-41d4-a716-446655440000', 0],
      ['IBAN', 'DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00', 0],
      ['international phone', '+86 138 0013 8000', '+86 138 0013 8000', 0],
      ['date and time', '2026-11-22 05:26:16', '2026-11-22 05:26:16', 0],
      ['already masked', '************1111', '************1111', 0],
      ['empty', '', '', 0],
    ];
    for (const [why, input, expected, count] of table) {
      it(why, () => assert.deepEqual(mask(input), { text: expected, count }));
    }
  });

  describe('digits at the end of a cut value (maskCutDigits)', () => {
    const cases: Array<[string, string, string]> = [
      ['a card cut to 14 digits (fails length and Luhn)', 'paid with 41111111111111', 'paid with **************'],
      ['a card cut to 7 digits', 'card 4111111', 'card *******'],
      ['grouped, cut inside a group', 'card 4111 1111 1111 11', 'card **************'],
      ['grouped, cut right after a separator', 'card 4111-1111-1111-', 'card ************'],
      ['grouped with dots, cut inside a group', 'card 4111.1111.1111.11', 'card **************'],
      ['grouped with no-break spaces, cut right after one', 'card 4111\u00a01111\u00a01111\u00a0', 'card ************'],
      ['grouped with %20, cut inside a group', 'card 4111%201111%201111%2011', 'card **************'],
      ['grouped with %2D, cut right after it', 'card 4111%2D1111%2D1111%2D', 'card ************'],
      ['grouped with %20, cut inside the escape', 'card 4111%201111%201111%2', 'card ************'],
      ['grouped with %20, cut right after its %', 'card 4111%201111%201111%', 'card ************'],
      ['the 20 of a %20 before the digits is no digit of theirs', 'card%204111111', 'card%20*******'],
      ['grouped with %2520, cut inside the escape', 'card 4111%25201111%25201111%252', 'card ************'],
      ['grouped with %2520, cut right after its %25', 'card 4111%25201111%25201111%25', 'card ************'],
      ['grouped with %2520, cut right after it', 'card 4111%25201111%25201111%2520', 'card ************'],
      ['grouped with %2B, cut inside a group', 'card 4111%2B1111%2B1111%2B11', 'card **************'],
      ['the 2520 of a %2520 before the digits is no digit of theirs', 'card%25204111111', 'card%2520*******'],
      ['six digits after %20 stay', 'id%20411111', 'id%20411111'],
      ['a percentage stays', 'growth 50%', 'growth 50%'],
      ['letters before the digits do not protect them', 'pan41111111111', 'pan***********'],
      ['the whole run goes, a number joined before the card too', 'ref 12 4111 1111', 'ref **********'],
      ['a URL path cut inside the card', 'https://bank.example/cards/411111111111', 'https://bank.example/cards/************'],
      ['six digits (a card network and issuer number) stay', 'card 411111', 'card 411111'],
      ['a short number stays', 'amount 129', 'amount 129'],
      ['digits not at the end stay', '4111111111111 paid', '4111111111111 paid'],
      ['a separator joins single groups only', 'a 1234  5678', 'a 1234  5678'],
      ['already masked digits are not counted again', 'card ************1111', 'card ************1111'],
      ['no digits', 'a cut message', 'a cut message'],
      ['empty', '', ''],
    ];
    for (const [why, input, expected] of cases) {
      it(why, () => assert.equal(maskCutDigits(input), expected));
    }

    it('returns the same string when nothing is masked, and masks idempotently', () => {
      const text = 'amount 129';
      assert.equal(maskCutDigits(text), text);
      const once = maskCutDigits('card 41111111111111');
      assert.equal(maskCutDigits(once), once);
    });
  });
});
