import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RedactableAttributes, RedactableSpan } from '../../src/index.js';
import { createRedactor, DEFAULT_EXEMPT_KEYS, isCardNumber, redactSpanData } from '../../src/index.js';
import { passesLuhn } from '../../src/redaction/luhn.js';

/**
 * An independent reading of "no card number leaves": read every URL-encoded space, dash or
 * `+`, encoded once or more (`%20`, `%2D`, `%2B`, `%2520`), as a space, join digits separated by one space, dash or `+`, then look at
 * every maximal digit run of 13-19 digits. (Runs of 20 or more digits are not card numbers by
 * definition.)
 */
function leakedCards(text: string): string[] {
  const joined = text.replace(/%(?:25)*2[0bd]/gi, ' ').replace(/(\d)[ +-](?=\d)/g, '$1');
  const found: string[] = [];
  for (const run of joined.match(/\d+/g) ?? []) {
    if (run.length >= 13 && run.length <= 19 && isCardNumber(run)) found.push(run);
  }
  return found;
}

/** Luhn-valid numbers with a real network prefix, at that network's length. */
const cardNumber = fc
  .tuple(
    fc.constantFrom<[string, number]>(['4', 16], ['4', 13], ['4', 19], ['51', 16], ['2221', 16], ['34', 15], ['37', 15], ['6011', 16], ['65', 19], ['3528', 16], ['36', 14], ['62', 17], ['50', 13], ['6759', 18]),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }),
  )
  .map(([[prefix, length], digits]) => {
    const body = (prefix + digits.join('')).slice(0, length - 1);
    for (let check = 0; check <= 9; check++) {
      if (passesLuhn(body + String(check))) return body + String(check);
    }
    throw new Error('unreachable');
  });

/** A card number written the ways people write them, and the ways a form or a query encodes them. */
const writtenCard = fc.tuple(cardNumber, fc.constantFrom('', ' ', '-', '+', '%20', '%2D', '%2d', '%2B', '%2520', '%252D'), fc.constantFrom(4, 3, 6)).map(([digits, sep, size]) => {
  if (sep === '') return digits;
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += size) groups.push(digits.slice(i, i + size));
  return groups.join(sep);
});

/** Text that mixes cards with digits, separators, URLs and arbitrary characters. */
const noisyText = fc
  .array(
    fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      writtenCard,
      fc.stringMatching(/^\d{1,22}$/),
      fc.constantFrom(' ', '-', '  ', '=', '&', '?', 'https://h/p?n=', 'otc_flow=', '%20', '%2D', '%2', '%', '+', 'card ', '%25', '%2520', '%2B', '%2522'),
      // XML elements, cookie headers and query parameters, whose rules reach further than one pair.
      fc.constantFrom('<sign>', '</sign>', '<\\/sign>', '<![CDATA[', ']]>', '<b>', 'Cookie: ', 'Set-Cookie:', '; ', '\n', '\\n', '?key=', '&key='),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

const exempt = new Set(DEFAULT_EXEMPT_KEYS);
const key = fc.oneof(fc.string(), fc.constantFrom('url.full', 'url.query', 'http.target', 'exception.message', 'app.note')).filter((k) => !exempt.has(k));

const attributeValue = fc.oneof(
  noisyText,
  fc.array(noisyText, { maxLength: 3 }),
  cardNumber.map(Number),
  fc.double(),
  fc.integer(),
  fc.boolean(),
);

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  // Only integers print as a digit run; a double in exponent notation is not a card.
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e21 ? [String(value)] : [];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  return [];
}

describe('redaction properties', () => {
  const redactor = createRedactor();

  it('no Luhn-valid, card-prefixed 13-19 digit run survives outside the exempt keys', () => {
    fc.assert(
      fc.property(fc.dictionary(key, attributeValue, { maxKeys: 6 }), noisyText, (attributes, name) => {
        const span: RedactableSpan = {
          name,
          status: { message: name },
          attributes: { ...attributes },
          events: [{ name, attributes: { ...attributes } }],
          links: [{ attributes: { ...attributes } }],
        };
        redactSpanData(span, redactor);
        const texts = [
          span.name,
          span.status?.message ?? '',
          ...Object.values(span.attributes ?? {}).flatMap(stringsIn),
          ...(span.events ?? []).flatMap((e) => [e.name, ...Object.values(e.attributes ?? {}).flatMap(stringsIn)]),
          ...(span.links ?? []).flatMap((l) => Object.values(l.attributes ?? {}).flatMap(stringsIn)),
        ];
        for (const text of texts) assert.deepEqual(leakedCards(text), [], `leaked in ${JSON.stringify(text)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('every written card number is masked, wherever it sits in the text', () => {
    fc.assert(
      fc.property(fc.string(), writtenCard, fc.string(), (before, card, after) => {
        const out = redactor.redactText(`${before} ${card} ${after}`);
        assert.ok(!out.includes(card), out);
      }),
    );
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (name, attributes, events, links) => {
        const span = { name, status: { message: name }, attributes, events, links } as unknown as RedactableSpan;
        assert.doesNotThrow(() => redactSpanData(span, redactor));
        assert.doesNotThrow(() => redactor.redactText(name as string));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent: redacting redacted data changes nothing', () => {
    fc.assert(
      fc.property(fc.dictionary(key, attributeValue, { maxKeys: 6 }), (attributes) => {
        const copy = { ...attributes } as RedactableAttributes;
        redactor.redactAttributes(copy);
        const once = JSON.stringify(copy);
        assert.equal(redactor.redactAttributes(copy), 0, once);
        assert.equal(JSON.stringify(copy), once);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves exempt identifiers exactly as they were', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DEFAULT_EXEMPT_KEYS), fc.oneof(noisyText, cardNumber), (exemptKey, value) => {
        const attributes: RedactableAttributes = { [exemptKey]: value };
        redactor.redactAttributes(attributes);
        assert.equal(attributes[exemptKey], value);
      }),
    );
  });

  it('no sensitive query parameter keeps its value in a URL attribute', () => {
    const sensitiveName = fc.constantFrom('otc_flow', 'token', 'Access_Token', 'sign', 'signature', 'cvv', 'password', 'client-secret', 'api_key');
    const plainName = fc.constantFrom('trade_no', 'amount', 'lang', 'return', 'state');
    // At most 12 characters: a plain value can never be mistaken for a card number.
    const value = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((v) => v !== 'REDACTED');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(sensitiveName, plainName), value), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('url.full', 'http.url', 'http.target'),
        fc.boolean(),
        (params, key, inFragment) => {
          const query = params.map(([n, v]) => `${n}=${v}`).join('&');
          const url = key === 'http.target' ? `/cb?${query}` : inFragment ? `https://h/app#/r?${query}` : `https://h/cb?${query}`;
          const attributes: RedactableAttributes = { [key]: url };
          redactor.redactAttributes(attributes);
          const out = String(attributes[key]);
          const scrubbed = out.slice(out.indexOf('?') + 1).split('&');
          params.forEach(([name, v], i) => {
            const sensitive = !['trade_no', 'amount', 'lang', 'return', 'state'].includes(name);
            assert.equal(scrubbed[i], `${name}=${sensitive ? 'REDACTED' : v}`, out);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('no sensitive parameter keeps its value in a URL carried by another URL encoded up to four times', () => {
    const sensitiveName = fc.constantFrom('otc_flow', 'token', 'sign', 'cvv');
    const value = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((v) => v !== 'REDACTED');
    fc.assert(
      fc.property(sensitiveName, value, fc.integer({ min: 1, max: 4 }), (name, secret, times) => {
        let inner = `https://shop.example/r?trade_no=T1&${name}=${secret}&x=1`;
        for (let i = 0; i < times; i++) inner = encodeURIComponent(inner);
        const attributes: RedactableAttributes = { 'url.full': `https://bank.example/pay?order=T1&return_url=${inner}` };
        redactor.redactAttributes(attributes);
        let out = String(attributes['url.full']);
        assert.ok(out.startsWith('https://bank.example/pay?order=T1&return_url='), out);
        // Encoded as often as it came: decoding it as often shows the scrubbed URL.
        for (let i = 0; i < times; i++) out = decodeURIComponent(out);
        assert.ok(out.endsWith(`return_url=https://shop.example/r?trade_no=T1&${name}=REDACTED&x=1`), `${times}x: ${String(attributes['url.full'])}`);
      }),
      { numRuns: 300 },
    );
  });

  it('no sensitive parameter keeps its value in a URL carried, encoded or not, by another URL', () => {
    const sensitiveName = fc.constantFrom('otc_flow', 'token', 'sign', 'cvv');
    const value = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((v) => v !== 'REDACTED');
    const carrier = fc.constantFrom('return_url', 'next', 'redirect');
    fc.assert(
      fc.property(sensitiveName, value, carrier, fc.integer({ min: 1, max: 3 }), fc.boolean(), (name, secret, param, depth, encoded) => {
        let url = `https://shop.example/r?trade_no=T1&${name}=${secret}`;
        for (let level = 0; level < depth; level++) url = `https://hop${level}.example/go?${param}=${encoded ? encodeURIComponent(url) : url}`;
        const attributes: RedactableAttributes = { 'url.full': url };
        redactor.redactAttributes(attributes);
        let out = String(attributes['url.full']);
        for (let level = 0; level < depth; level++) out = decodeURIComponent(out);
        // The secret as a whole value (followed by a separator or the end), not as the start of REDACTED.
        const kept = new RegExp(`${name}=${secret.replace(/[.]/g, '\\.')}(?:[&#;]|$)`);
        assert.ok(out.includes(`${name}=REDACTED`) && !kept.test(out), `${url} -> ${String(attributes['url.full'])}`);
      }),
      { numRuns: 300 },
    );
  });
});

