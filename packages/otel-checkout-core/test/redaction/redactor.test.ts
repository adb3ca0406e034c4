import assert from 'node:assert/strict';
import {
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_ORDER_ID,
  ATTR_PAYMENT_PROVIDER_TRANSACTION_ID,
  ATTR_PAYMENT_TRADE_NO,
} from '@otel-checkout/semantic-conventions/incubating';
import type { RedactableSpan, RedactableValue, RedactionOptions } from '../../src/index.js';
import { createRedactor, REDACTED, redactSpanData } from '../../src/index.js';

const VISA = '4111111111111111';
const MASKED_VISA = '************1111';
/** A trade number that happens to be a Luhn-valid, UnionPay-prefixed 16-digit number. */
const LUHN_TRADE_NO = '6202411200000000';
const MASKED_TRADE_NO = '************0000';

const redactor = createRedactor();

function redactOne(key: string, value: RedactableValue): { value: RedactableValue; count: number } {
  const attributes = { [key]: value };
  const count = redactor.redactAttributes(attributes);
  return { value: attributes[key], count };
}

describe('redaction rules', () => {
  describe('attributes (key, value → value, redactions)', () => {
    const table: Array<[string, string, RedactableValue, RedactableValue, number]> = [
      // card numbers in ordinary attributes
      ['card in free text', 'app.note', `paid with ${VISA}`, `paid with ${MASKED_VISA}`, 1],
      ['card as a number attribute', 'app.value', 4111111111111111, MASKED_VISA, 1],
      ['card in a string array', 'app.list', ['a', `x ${VISA}`], ['a', `x ${MASKED_VISA}`], 1],
      ['card in a number array: the array becomes strings', 'app.nums', [1, 4111111111111111], ['1', MASKED_VISA], 1],
      // exempt identifiers
      ['trade number passing Luhn stays in payment.trade_no', ATTR_PAYMENT_TRADE_NO, LUHN_TRADE_NO, LUHN_TRADE_NO, 0],
      ['...and in payment.order.id', ATTR_PAYMENT_ORDER_ID, LUHN_TRADE_NO, LUHN_TRADE_NO, 0],
      ['...and in payment.provider.transaction_id', ATTR_PAYMENT_PROVIDER_TRANSACTION_ID, LUHN_TRADE_NO, LUHN_TRADE_NO, 0],
      ['...and in payment.merchant.id', ATTR_PAYMENT_MERCHANT_ID, LUHN_TRADE_NO, LUHN_TRADE_NO, 0],
      ['the same number in free text is masked', 'app.message', `trade ${LUHN_TRADE_NO} failed`, `trade ${MASKED_TRADE_NO} failed`, 1],
      ['...and so is it when grouped with %20', 'app.message', 'trade 6202%204112%200000%200000 failed', `trade ${MASKED_TRADE_NO} failed`, 1],
      ['a %20-grouped number stays in payment.trade_no', ATTR_PAYMENT_TRADE_NO, '6202%204112%200000%200000', '6202%204112%200000%200000', 0],
      ['card grouped with %20 in an exception message', 'exception.message', 'card 4111%201111%201111%201111 declined', `card ${MASKED_VISA} declined`, 1],
      // false positives that must stay
      ['millisecond timestamp (string)', 'app.time', '1732000000007', '1732000000007', 0],
      ['millisecond timestamp (number)', 'app.time_ms', 1732000000007, 1732000000007, 0],
      ['millisecond timestamps joined by %20', 'app.times', '1732000000007%201732000000008', '1732000000007%201732000000008', 0],
      ['amount', 'payment.amount', 129900.5, 129900.5, 0],
      ['phone number', 'app.phone', '+1 415-555-2671', '+1 415-555-2671', 0],
      ['UUID', 'app.request_id', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 0],
      ['IBAN-shaped with a wrong check digit', 'app.account', 'GB83 WEST 1234 5698 7654 32', 'GB83 WEST 1234 5698 7654 32', 0],
      ['order id with a Luhn-failing card prefix', 'app.order', '4111111111111112', '4111111111111112', 0],
      ['boolean', 'app.flag', true, true, 0],
      // bank accounts
      ['IBAN', 'app.account', 'GB82 WEST 1234 5698 7654 32', 'GB****************5432', 1],
      // denylisted keys
      ['cvv', 'cvv', '123', REDACTED, 1],
      ['CVC upper case', 'CVC', '123', REDACTED, 1],
      ['cvv2 as number', 'card.cvv2', 123, REDACTED, 1],
      ['pan', 'payment.pan', VISA, REDACTED, 1],
      ['card_number', 'card_number', VISA, REDACTED, 1],
      ['cardNumber', 'form.cardNumber', VISA, REDACTED, 1],
      ['card.number (two segments)', 'payment.card.number', VISA, REDACTED, 1],
      ['card-number', 'card-number', VISA, REDACTED, 1],
      ['expiry', 'card.expiry', '12/29', REDACTED, 1],
      ['exp_date', 'exp_date', '12/29', REDACTED, 1],
      ['password', 'user.password', 'hunter2', REDACTED, 1],
      ['passwd', 'passwd', 'hunter2', REDACTED, 1],
      ['secret', 'app.secret', 's3cr3t', REDACTED, 1],
      ['client_secret', 'oauth.client_secret', 's3cr3t', REDACTED, 1],
      ['token', 'token', 'abc', REDACTED, 1],
      ['access_token', 'access_token', 'abc', REDACTED, 1],
      ['refresh-token', 'refresh-token', 'abc', REDACTED, 1],
      ['ending in token', 'http.request.header.x-csrf-token', ['abc'], [REDACTED], 1],
      ['sign', 'provider.sign', 'a1b2c3', REDACTED, 1],
      ['signature', 'signature', 'a1b2c3', REDACTED, 1],
      ['authorization header', 'http.request.header.authorization', ['Bearer abc'], [REDACTED], 1],
      ['cookie header', 'http.request.header.cookie', ['sid=1', 'x=2'], [REDACTED, REDACTED], 1],
      ['set-cookie header', 'http.response.header.set-cookie', ['sid=1'], [REDACTED], 1],
      ['api_key', 'api_key', 'k', REDACTED, 1],
      ['apikey', 'apiKey', 'k', REDACTED, 1],
      ['x-api-key header', 'http.request.header.x-api-key', ['k'], [REDACTED], 1],
      ['private_key', 'private_key', 'k', REDACTED, 1],
      ['iban, whatever its value', 'payer.iban', 'DE00 0000', REDACTED, 1],
      ['ending in iban', 'debtorIban', 'x', REDACTED, 1],
      ['account_number', 'bank.account_number', '0532013000', REDACTED, 1],
      ['ending in account number', 'payerAccountNumber', '0532013000', REDACTED, 1],
      ['bank_account', 'bank_account', '0532013000', REDACTED, 1],
      ['bracketed form field', 'form.card[cvv]', '123', REDACTED, 1],
      ['flow token parameter as a key', 'otc_flow', 'AQ...', REDACTED, 1],
      // Names payment providers give their signatures, check values and card fields.
      ['cvc2 (a digit after a name)', 'card.cvc2', '987', REDACTED, 1],
      ['csc', 'card.csc', '987', REDACTED, 1],
      ['cvv_code', 'cvv_code', '987', REDACTED, 1],
      ['exp', 'card.exp', '12/30', REDACTED, 1],
      ['expiryMonth', 'card.expiryMonth', '12', REDACTED, 1],
      // Expiry dates are never exported (with a card number's last four they identify a card).
      ['ending in expiry', 'card_expiry', '12/30', REDACTED, 1],
      ['ending in expiration', 'cardExpiration', '12/30', REDACTED, 1],
      ['ending in exp date', 'payment.card.card_exp_date', '12/30', REDACTED, 1],
      ['ending in expiry date', 'cardExpiryDate', '2030-12', REDACTED, 1],
      ['ending in exp month', 'card_exp_month', '12', REDACTED, 1],
      ['ending in exp year', 'ccExpYear', '2030', REDACTED, 1],
      ['a form field', 'form.card[card_expiry]', '12/30', REDACTED, 1],
      ['sig', 'provider.sig', 'a1b2', REDACTED, 1],
      ['mac', 'mac', 'a1b2', REDACTED, 1],
      ['hash', 'hash', 'a1b2', REDACTED, 1],
      ['ending in hash', 'vnp_SecureHash', 'a1b2', REDACTED, 1],
      ['CHECKSUMHASH', 'CHECKSUMHASH', 'a1b2', REDACTED, 1],
      ['ending in sig', 'http.request.header.paypal-transmission-sig', ['a1b2'], [REDACTED], 1],
      ['merchantSig', 'merchantSig', 'a1b2', REDACTED, 1],
      ['a signature header with its digest size', 'http.request.header.x-hub-signature-256', ['sha256=a1'], [REDACTED], 1],
      ['hmac anywhere', 'http.request.header.x-shopify-hmac-sha256', ['a1b2'], [REDACTED], 1],
      ['ending in session id', 'http.request.header.x-session-id', ['s1'], [REDACTED], 1],
      ['jsessionid', 'jsessionid', 's1', REDACTED, 1],
      ['ending in access key', 'http.request.header.x-access-key', ['k'], [REDACTED], 1],
      ['credentials', 'gateway.credentials', 'u:p', REDACTED, 1],
      ['already redacted', 'password', REDACTED, REDACTED, 0],
      ['boolean under a denylisted key', 'token', true, true, 0],
      // keys that only look close
      ['span is not pan', 'app.span', 'x', 'x', 0],
      ['campaign is not sign', 'app.campaign', 'x', 'x', 0],
      ['tokens (a count) is not token', 'llm.usage.tokens', 42, 42, 0],
      ['callback correlation value mentions token', 'payment.callback.correlation', 'token_query', 'token_query', 0],
      ['an index after a key is no name', 'items.2', 'x', 'x', 0],
      ['sha256 alone is a digest name, not a secret', 'file.sha256', 'ab', 'ab', 0],
      ['regexp does not end in an expiry name', 'app.regexp', '^x$', '^x$', 0],
      // `key` is sensitive as a query parameter only (see "URLs"): as a key it names ordinary things.
      ['key is no secret as an attribute key', 'messaging.kafka.message.key', 'order-42', 'order-42', 0],
      ['...nor alone', 'key', 'color', 'color', 0],
      ['...nor in a cache key', 'app.cache_key', 'cart:42', 'cart:42', 0],
    ];
    for (const [why, key, input, expected, count] of table) {
      it(`${why}: ${key}`, () => assert.deepEqual(redactOne(key, input), { value: expected, count }));
    }
  });

  describe('URLs', () => {
    const table: Array<[string, string, string, string, number]> = [
      [
        'flow token and signature in url.full',
        'url.full',
        'https://shop.example/pay/return?trade_no=T1&otc_flow=AQAAAAAB&sign=abc',
        'https://shop.example/pay/return?trade_no=T1&otc_flow=REDACTED&sign=REDACTED',
        2,
      ],
      ['http.url', 'http.url', 'http://h/cb?token=x&a=1', 'http://h/cb?token=REDACTED&a=1', 1],
      ['url.query', 'url.query', 'a=1&access_token=x&otc_flow=y', 'a=1&access_token=REDACTED&otc_flow=REDACTED', 2],
      // instrumentation-undici's form, with the leading `?`: the first name is still read.
      ['url.query with its "?"', 'url.query', '?otc_flow=y&sign=z&a=1', '?otc_flow=REDACTED&sign=REDACTED&a=1', 2],
      ['http.target', 'http.target', '/notify?otc_flow=AQ&amount=10', '/notify?otc_flow=REDACTED&amount=10', 1],
      ['url.path with a query', 'url.path', '/r?password=x', '/r?password=REDACTED', 1],
      ['url.path without a query stays', 'url.path', '/pay/T1', '/pay/T1', 0],
      ['card in the path', 'url.full', `https://h/cards/${VISA}/x`, `https://h/cards/${MASKED_VISA}/x`, 1],
      ['card in a query value', 'url.full', `https://h/p?n=${VISA}`, `https://h/p?n=${MASKED_VISA}`, 1],
      ['percent-encoded card in a query value', 'url.full', 'https://h/p?n=4111%201111%201111%201111', 'https://h/p?n=************1111', 1],
      ['plus-encoded card in a query value', 'url.full', 'https://h/p?n=4111+1111+1111+1111', 'https://h/p?n=************1111', 1],
      ['percent-encoded card in the path', 'url.full', 'https://h/cards/4111%201111%201111%201111/x', `https://h/cards/${MASKED_VISA}/x`, 1],
      ['percent-encoded card in a URL inside free text', 'exception.message', 'GET https://h/cards/4111%201111%201111%201111 failed: 404', `GET https://h/cards/${MASKED_VISA} failed: 404`, 1],
      ['encoded parameter name', 'url.full', 'https://h/p?otc%5Fflow=AQ', 'https://h/p?otc%5Fflow=REDACTED', 1],
      ['parameter name case', 'url.full', 'https://h/p?Token=abc', 'https://h/p?Token=REDACTED', 1],
      ['fragment with a query', 'url.full', 'https://h/app#/return?otc_flow=AQ&x=1', 'https://h/app#/return?otc_flow=REDACTED&x=1', 1],
      ['fragment as parameters', 'url.full', 'https://h/cb#access_token=abc&state=1', 'https://h/cb#access_token=REDACTED&state=1', 1],
      ['credentials in the authority', 'url.full', 'https://bob:pw@h/p', 'https://REDACTED:REDACTED@h/p', 1],
      ['@ in the path is not credentials', 'url.full', 'https://h/users/@bob', 'https://h/users/@bob', 0],
      ['malformed percent-encoding', 'url.full', 'https://h/p?x=%E0%A4%A&token=1', 'https://h/p?x=%E0%A4%A&token=REDACTED', 1],
      ['no scheme, no query', 'url.full', 'not a url', 'not a url', 0],
      ['empty value', 'url.full', 'https://h/p?token=&a=1', 'https://h/p?token=&a=1', 0],
      ['parameter without value', 'url.full', 'https://h/p?token&a=1', 'https://h/p?token&a=1', 0],
      ['semicolon separators', 'url.query', 'a=1;token=2', 'a=1;token=REDACTED', 1],
      [
        'redirect URL in any attribute',
        'payment.redirect.target',
        'https://bank.example/auth?notify=1&signature=zz',
        'https://bank.example/auth?notify=1&signature=REDACTED',
        1,
      ],
      ['URL inside free text', 'exception.message', 'GET https://h/p?otc_flow=AQ failed: 502', 'GET https://h/p?otc_flow=REDACTED failed: 502', 1],
      [
        'password of a database URL inside free text',
        'exception.message',
        'connect ECONNREFUSED postgres://shop:hunter2@db:5432/orders',
        'connect ECONNREFUSED postgres://REDACTED:REDACTED@db:5432/orders',
        1,
      ],
      ['password-only userinfo inside free text', 'exception.message', 'redis://:s3cret@cache:6379 closed', 'redis://REDACTED:REDACTED@cache:6379 closed', 1],
      ['scheme with + and digits inside free text', 'app.note', 'via mongodb+srv://u:p@c0.example/db', 'via mongodb+srv://REDACTED:REDACTED@c0.example/db', 1],
      ['mail address in free text is no URL', 'app.note', 'mailto bob@example.com: 550', 'mailto bob@example.com: 550', 0],
      ['already scrubbed', 'url.full', 'https://h/p?otc_flow=REDACTED', 'https://h/p?otc_flow=REDACTED', 0],
      // Found by the idempotence property: a space cut the URL short, so its pair was scrubbed as text.
      ['scrubbed as text, then read as a URL', 'app.note', 'https://h/p?n=4000 0000 0000 0002?otc_flow=(', 'https://h/p?n=************0002?otc_flow=[REDACTED]', 2],
      ['...and redacted again, unchanged', 'app.note', 'https://h/p?n=************0002?otc_flow=[REDACTED]', 'https://h/p?n=************0002?otc_flow=[REDACTED]', 0],
      [
        'flow token in a percent-encoded return URL carried by the bank URL',
        'url.full',
        'https://bank.example/pay?order=T1&return_url=https%3A%2F%2Fshop.example%2Fr%3Ftrade_no%3DT1%26otc_flow%3DAQAAAAAB',
        'https://bank.example/pay?order=T1&return_url=https%3A%2F%2Fshop.example%2Fr%3Ftrade_no%3DT1%26otc_flow%3DREDACTED',
        1,
      ],
      [
        'flow token in a return URL encoded twice (a chain of redirects)',
        'url.full',
        'https://bank.example/pay?return_url=https%253A%252F%252Fshop.example%252Fr%253Fotc_flow%253DAQAAAAAB%2526x%253D1',
        'https://bank.example/pay?return_url=https%253A%252F%252Fshop.example%252Fr%253Fotc_flow%253DREDACTED%2526x%253D1',
        1,
      ],
      [
        'flow token whose = is escaped in a carried path',
        'url.full',
        'https://bank.example/pay?next=%2Freturn%3Fotc_flow%253DAQAAAAAB',
        'https://bank.example/pay?next=%2Freturn%3Fotc_flow%253DREDACTED',
        1,
      ],
      ['a query whose = is escaped', 'url.query', 'otc_flow%3DAQAAAAAB', 'otc_flow%3DREDACTED', 1],
      ['a path encoded twice, with nothing to scrub, stays as it is', 'url.full', 'https://h/p?next=%252Fhome%252Fcart', 'https://h/p?next=%252Fhome%252Fcart', 0],
      [
        'flow token in an unencoded return URL carried by the bank URL',
        'url.full',
        'https://bank.example/pay?next=https://shop.example/r?otc_flow=AQAAAAAB',
        'https://bank.example/pay?next=https://shop.example/r?otc_flow=REDACTED',
        1,
      ],
      [
        'flow token two redirects deep',
        'url.full',
        `https://a.example/?next=${encodeURIComponent(`https://b.example/?back=${encodeURIComponent('https://shop.example/r?otc_flow=AQ')}`)}`,
        `https://a.example/?next=${encodeURIComponent(`https://b.example/?back=${encodeURIComponent('https://shop.example/r?otc_flow=REDACTED')}`)}`,
        1,
      ],
      ['an encoded value without a sensitive parameter stays as it was', 'url.full', 'https://h/p?q=a%3Db%26c%3Dd', 'https://h/p?q=a%3Db%26c%3Dd', 0],
      // `key` carries API keys in URLs (Google's APIs: `?key=AIza…`).
      [
        'API key as the key parameter',
        'url.full',
        'https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv',
        'https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key=REDACTED',
        1,
      ],
      ['key first, in http.target', 'http.target', '/geocode?key=AIzaSyA1b2&x=1', '/geocode?key=REDACTED&x=1', 1],
      ['KEY in url.query', 'url.query', 'KEY=AIzaSyA1b2&lang=en', 'KEY=REDACTED&lang=en', 1],
      ['key in a fragment', 'url.full', 'https://h/app#key=AIzaSyA1b2', 'https://h/app#key=REDACTED', 1],
      ['key in a URL inside free text', 'exception.message', 'GET https://maps.googleapis.com/x?key=AIzaSyA1b2 failed: 403', 'GET https://maps.googleapis.com/x?key=REDACTED failed: 403', 1],
      [
        'key in a return URL carried encoded by another URL',
        'url.full',
        `https://bank.example/pay?return_url=${encodeURIComponent('https://shop.example/r?key=AIzaSyA1b2&x=1')}`,
        `https://bank.example/pay?return_url=${encodeURIComponent('https://shop.example/r?key=REDACTED&x=1')}`,
        1,
      ],
      [
        'parameters that only contain key stay',
        'url.full',
        'https://h/p?keys=2&monkey=1&keyword=pay&key_id=k1&sort_key=amount&idempotency_key=ik1',
        'https://h/p?keys=2&monkey=1&keyword=pay&key_id=k1&sort_key=amount&idempotency_key=ik1',
        0,
      ],
    ];
    for (const [why, key, input, expected, count] of table) {
      it(why, () => assert.deepEqual(redactOne(key, input), { value: expected, count }));
    }

    it('scrubs configured extra parameters and a renamed flow token parameter', () => {
      const custom = createRedactor({ sensitiveQueryParameters: ['bank_ref'], flowTokenParameter: 'ft' });
      const attributes = { 'url.full': 'https://h/r?bank_ref=1&ft=AQ&otc_flow=AQ&x=2' };
      assert.equal(custom.redactAttributes(attributes), 2);
      assert.equal(attributes['url.full'], 'https://h/r?bank_ref=REDACTED&ft=REDACTED&otc_flow=AQ&x=2');
    });

    it('treats configured keys as URLs', () => {
      const custom = createRedactor({ urlKeys: ['app.return_path'] });
      const attributes = { 'app.return_path': '/back?sign=1' };
      custom.redactAttributes(attributes);
      assert.equal(attributes['app.return_path'], '/back?sign=REDACTED');
    });
  });

  describe('sensitive pairs in free text', () => {
    const table: Array<[string, string, string, number]> = [
      ['form body', 'body: card=x&cvv=123&amount=10', 'body: card=x&cvv=[REDACTED]&amount=10', 1],
      ['form body with bracketed names', 'card[cvc]=123&card[exp_month]=03&x=1', 'card[cvc]=[REDACTED]&card[exp_month]=[REDACTED]&x=1', 2],
      ['JSON', '{"password": "hunter 2", "user": "bob"}', '{"password": "[REDACTED]", "user": "bob"}', 1],
      ['escaped JSON', '{\\"cvv\\":\\"123\\"}', '{\\"cvv\\":\\"[REDACTED]\\"}', 1],
      ['JSON number', '{"cvc":123}', '{"cvc":[REDACTED]}', 1],
      ['header line', 'Authorization: Bearer eyJhbGciOi', 'Authorization: Bearer [REDACTED]', 1],
      ['header line, another auth scheme before a long credential', 'Authorization: DPoP eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0In0', 'Authorization: DPoP [REDACTED]', 1],
      ['header line, Negotiate', 'proxy-authorization: Negotiate YIIJvwYGKwYBBQUCoIIJszCCCa+gJDAiBgkqhkiC9xIBAgI', 'proxy-authorization: Negotiate [REDACTED]', 1],
      ['header line, Basic with short credentials', 'Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [REDACTED]', 1],
      ['camelCase name', 'clientSecret=abc', 'clientSecret=[REDACTED]', 1],
      // Names are judged as attribute keys are, endings included: a prefix does not hide a secret.
      [
        'names that end as a sensitive key does',
        'verify failed: webhookSecret=whsec_F1, merchantApiKey: sk_live_G2, x-session-token=t3, stripe_api_key=k4, payment.card_number: 5',
        'verify failed: webhookSecret=[REDACTED], merchantApiKey: [REDACTED], x-session-token=[REDACTED], stripe_api_key=[REDACTED], payment.card_number: [REDACTED]',
        5,
      ],
      ['JSON with a prefixed name', '{"webhookSignature":"abc","tokens":3}', '{"webhookSignature":"[REDACTED]","tokens":3}', 1],
      ['a pair inside the value of an ordinary one', 'note=password=hunter2', 'note=password=[REDACTED]', 1],
      ['names that merely contain an ending', 'tokenizer=on secretary: Ann passwords=2', 'tokenizer=on secretary: Ann passwords=2', 0],
      ['relative URL without scheme', 'redirect to /return?otc_flow=AQxyz', 'redirect to /return?otc_flow=[REDACTED]', 1],
      ['words that only contain a name', 'design=flat campaign: spring', 'design=flat campaign: spring', 0],
      // A name and a long token after a space, with no `:` or `=`: a credential quoted in a message.
      ['a bare bearer token', 'rejected Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0 by the bank', 'rejected Bearer [REDACTED] by the bank', 1],
      ['a token after its name and a space', 'refresh failed for access_token ya29.a0AfH6SMBx3jQ-long-token', 'refresh failed for access_token [REDACTED]', 1],
      ['a name before an ordinary word or a short value', 'token expired; password reset sent; Bearer abc', 'token expired; password reset sent; Bearer abc', 0],
      ['a name before a path in parentheses', 'at verifySignature (/app/node_modules/acme-sdk/dist/index.js:10:5)', 'at verifySignature (/app/node_modules/acme-sdk/dist/index.js:10:5)', 0],
      ['idempotent', 'cvv=[REDACTED]', 'cvv=[REDACTED]', 0],
      // `key` after `?` or `&` is a query parameter (a URL without its scheme), anywhere else a word.
      ['key in a relative URL', 'GET /maps/api/geocode/json?address=x&key=AIzaSyA1b2 failed', 'GET /maps/api/geocode/json?address=x&key=[REDACTED] failed', 1],
      ['key as the first parameter', 'GET /geocode?key=AIzaSyA1b2 failed', 'GET /geocode?key=[REDACTED] failed', 1],
      ['key in prose and JSON', 'missing key: amount; {"key":"color","value":"red"}; key=cart:42', 'missing key: amount; {"key":"color","value":"red"}; key=cart:42', 0],
    ];
    for (const [why, input, expected, count] of table) {
      it(why, () => assert.deepEqual(redactOne('exception.message', input), { value: expected, count }));
    }

    it('can be turned off', () => {
      const attributes = { msg: 'cvv=123', headers: 'Cookie: a=1; sid=2', body: '<sign>9A0A</sign>' };
      assert.equal(createRedactor({ inlinePairs: false }).redactAttributes(attributes), 0);
      assert.deepEqual(attributes, { msg: 'cvv=123', headers: 'Cookie: a=1; sid=2', body: '<sign>9A0A</sign>' });
    });
  });

  describe('cookie headers in free text', () => {
    // A header's value holds every cookie (`a=1; session=…`): the rest of its line goes.
    const table: Array<[string, string, string, number]> = [
      ['every cookie, not only the first', 'Cookie: a=1; session=abcdefghijklmnopqrstuvwxyz', 'Cookie: [REDACTED]', 1],
      ['Set-Cookie, its attributes and a date with a comma', 'Set-Cookie: sid=s3cr3t; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly', 'Set-Cookie: [REDACTED]', 1],
      ['cookies holding &, quotes and JSON', `Cookie: prefs=a&b; cart={"items":[1]}; q="x y"; sid=s3cr3t`, 'Cookie: [REDACTED]', 1],
      [
        'only its line of a multi-line dump',
        'GET /pay HTTP/1.1\nCookie: a=1; sid=xyz\nUser-Agent: curl/8.5.0\nX-Trade-No: T2026120300001234',
        'GET /pay HTTP/1.1\nCookie: [REDACTED]\nUser-Agent: curl/8.5.0\nX-Trade-No: T2026120300001234',
        1,
      ],
      ['CRLF line ends stay', 'Cookie: a=1; sid=xyz\r\nHost: shop.example', 'Cookie: [REDACTED]\r\nHost: shop.example', 1],
      ['one header per line', 'Set-Cookie: a=1; Path=/\nset-cookie: b=2; Secure\nHost: shop', 'Set-Cookie: [REDACTED]\nset-cookie: [REDACTED]\nHost: shop', 2],
      [
        'a request dump escaped in JSON: up to the escaped line break',
        String.raw`{"raw":"GET / HTTP/1.1\r\nCookie: a=1; q=\"x\"; sid=xyz\r\nHost: shop"}`,
        String.raw`{"raw":"GET / HTTP/1.1\r\nCookie: [REDACTED]\r\nHost: shop"}`,
        1,
      ],
      ['the attribute name of a header', 'http.request.header.cookie: a=1; sid=xyz', 'http.request.header.cookie: [REDACTED]', 1],
      ['a quoted JSON value is one value', '{"cookie":"a=1; sid=2","accept":"*/*"}', '{"cookie":"[REDACTED]","accept":"*/*"}', 1],
      ['a cookie= parameter is one value, the rest of the line stays', 'GET /t?cookie=abc&lang=en; theme=dark', 'GET /t?cookie=[REDACTED]&lang=en; theme=dark', 1],
      ['prose about cookies stays', 'cookies disabled; session cookie expired, cookie consent given', 'cookies disabled; session cookie expired, cookie consent given', 0],
      ['idempotent', 'Cookie: [REDACTED]\nHost: shop', 'Cookie: [REDACTED]\nHost: shop', 0],
    ];
    for (const [why, input, expected, count] of table) {
      it(why, () => assert.deepEqual(redactOne('exception.message', input), { value: expected, count }));
    }
  });

  describe('XML elements in free text', () => {
    // A WeChat Pay v2 notification: every value in CDATA.
    const wechat = (sign: string): string =>
      `<xml><return_code><![CDATA[SUCCESS]]></return_code><appid><![CDATA[wx2421b1c4370ec43b]]></appid><out_trade_no><![CDATA[T2026120300001234]]></out_trade_no><sign_type><![CDATA[MD5]]></sign_type><sign>${sign}</sign></xml>`;
    const table: Array<[string, string, string, number]> = [
      ['WeChat Pay v2: a CDATA section', wechat('<![CDATA[9A0A8659F005D6984697E2CA0A9CF3B7]]>'), wechat('[REDACTED]'), 1],
      ['a signature in CDATA and a CVV', '<xml><sign><![CDATA[9A0A8659F005D6984697E2CA0A9CF3B7]]></sign><cvv>123</cvv></xml>', '<xml><sign>[REDACTED]</sign><cvv>[REDACTED]</cvv></xml>', 2],
      ['text', '<sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign>', '<sign>[REDACTED]</sign>', 1],
      ['text on several lines', '<sign>\n  9A0A8659\n  F005D698\n</sign>', '<sign>[REDACTED]</sign>', 1],
      ['names judged as keys are', '<card><cvv>123</cvv><exp_month>03</exp_month><holderName>A B</holderName></card>', '<card><cvv>[REDACTED]</cvv><exp_month>[REDACTED]</exp_month><holderName>A B</holderName></card>', 2],
      ['endings, and attributes on the start tag', '<x-signature alg="RSA2">MEUCIQ+/ab==</x-signature><webhookSecret>whsec_1</webhookSecret>', '<x-signature alg="RSA2">[REDACTED]</x-signature><webhookSecret>[REDACTED]</webhookSecret>', 2],
      [
        'namespaced (SOAP, WS-Security)',
        '<wsse:UsernameToken><wsse:Username>shop</wsse:Username><wsse:Password Type="#PasswordText">hunter2</wsse:Password></wsse:UsernameToken><ns2:pan>5555555555554444</ns2:pan>',
        '<wsse:UsernameToken><wsse:Username>shop</wsse:Username><wsse:Password Type="#PasswordText">[REDACTED]</wsse:Password></wsse:UsernameToken><ns2:pan>[REDACTED]</ns2:pan>',
        2,
      ],
      ['an XML attribute (the pair rule)', '<xml sign="9A0A8659F005" mch_id="1900000109"/>', '<xml sign="[REDACTED]" mch_id="1900000109"/>', 1],
      [
        'escaped in a JSON string, the end tag as `<\\/sign>`',
        String.raw`{"body":"<xml sign_type=\"MD5\"><sign>9A0A8659<\/sign><mch_id>1900000109<\/mch_id><\/xml>"}`,
        String.raw`{"body":"<xml sign_type=\"MD5\"><sign>[REDACTED]<\/sign><mch_id>1900000109<\/mch_id><\/xml>"}`,
        1,
      ],
      // False positives that must stay.
      [
        'identifiers stay searchable',
        '<out_trade_no>T2026120300001234</out_trade_no><transaction_id>4200001234202612030000</transaction_id><sign_type>MD5</sign_type><nonce_str>5K8264ILTKCH16CQ</nonce_str>',
        '<out_trade_no>T2026120300001234</out_trade_no><transaction_id>4200001234202612030000</transaction_id><sign_type>MD5</sign_type><nonce_str>5K8264ILTKCH16CQ</nonce_str>',
        0,
      ],
      [
        'prose and HTML',
        'Payment failed: <b>token expired</b> <token expired> see <a href="/help">help</a>, <i>password</i> reset <span>1</span>',
        'Payment failed: <b>token expired</b> <token expired> see <a href="/help">help</a>, <i>password</i> reset <span>1</span>',
        0,
      ],
      ['a name in angle brackets, then an end tag of another element', '<p>Enter your <password> here</p>', '<p>Enter your <password> here</p>', 0],
      ['generic types in an error message', "Type 'Promise<Token>' is not assignable to 'Map<string, Secret>'", "Type 'Promise<Token>' is not assignable to 'Map<string, Secret>'", 0],
      ['an HTML page', '<html><title>Session expired</title><input name="token" type="hidden"></html>', '<html><title>Session expired</title><input name="token" type="hidden"></html>', 0],
      ['empty elements', '<sign></sign><sign/>', '<sign></sign><sign/>', 0],
      ['a card number in another element is masked as a card', '<note>4111111111111111</note>', `<note>${MASKED_VISA}</note>`, 1],
      ['idempotent', '<sign>[REDACTED]</sign>', '<sign>[REDACTED]</sign>', 0],
    ];
    for (const [why, input, expected, count] of table) {
      it(why, () => assert.deepEqual(redactOne('exception.message', input), { value: expected, count }));
    }

    it('never reads past the next `<`: a long run of name characters costs a linear scan', () => {
      const long = `<${'a'.repeat(200_000)}`;
      const started = performance.now();
      assert.equal(redactor.redactText(`${long}${long}>x</a>`), `${long}${long}>x</a>`);
      assert.ok(performance.now() - started < 1000);
    });
  });

  describe('span data', () => {
    function span(): RedactableSpan {
      return {
        name: `charge ${VISA}`,
        status: { message: `declined: card 5555 5555 5555 4444` },
        attributes: {
          [ATTR_PAYMENT_TRADE_NO]: LUHN_TRADE_NO,
          'app.echo': LUHN_TRADE_NO,
          'url.full': 'https://h/return?otc_flow=AQ',
          cvv: '123',
          'payment.amount': 10,
        },
        events: [
          {
            name: `exception ${VISA}`,
            attributes: {
              'exception.message': `invalid card ${VISA}`,
              'exception.stacktrace': `Error: invalid card ${VISA}\n    at charge (/app/pay.js:10:5)`,
              'exception.type': 'Error',
            },
          },
          { name: 'plain' },
        ],
        links: [{ attributes: { note: `linked ${VISA}`, token: 'abc' } }, {}],
      };
    }

    it('redacts name, status message, attributes, events and links, and counts every change', () => {
      const s = span();
      assert.equal(redactSpanData(s), 10);
      assert.deepEqual(s, {
        name: `charge ${MASKED_VISA}`,
        status: { message: 'declined: card ************4444' },
        attributes: {
          [ATTR_PAYMENT_TRADE_NO]: LUHN_TRADE_NO,
          'app.echo': MASKED_TRADE_NO,
          'url.full': 'https://h/return?otc_flow=REDACTED',
          cvv: REDACTED,
          'payment.amount': 10,
        },
        events: [
          {
            name: `exception ${MASKED_VISA}`,
            attributes: {
              'exception.message': `invalid card ${MASKED_VISA}`,
              'exception.stacktrace': `Error: invalid card ${MASKED_VISA}\n    at charge (/app/pay.js:10:5)`,
              'exception.type': 'Error',
            },
          },
          { name: 'plain' },
        ],
        links: [{ attributes: { note: `linked ${MASKED_VISA}`, token: REDACTED } }, {}],
      });
    });

    it('is idempotent: a second pass changes nothing', () => {
      const s = span();
      redactSpanData(s);
      const once = JSON.stringify(s);
      assert.equal(redactSpanData(s), 0);
      assert.equal(JSON.stringify(s), once);
    });

    it('masks a card grouped with %20 or %2D in the span name, status message and exception event', () => {
      const s: RedactableSpan = {
        name: 'charge 4111%201111%201111%201111',
        status: { message: 'declined: card%205555%2D5555%2D5555%2D4444' },
        events: [{ name: 'exception', attributes: { 'exception.stacktrace': 'Error: card=4111%201111%201111%201111\n    at pay (/app/pay.js:1:1)' } }],
      };
      assert.equal(redactSpanData(s), 3);
      assert.equal(s.name, `charge ${MASKED_VISA}`);
      assert.equal(s.status?.message, 'declined: card%20************4444');
      assert.equal(s.events?.[0]?.attributes?.['exception.stacktrace'], `Error: card=${MASKED_VISA}\n    at pay (/app/pay.js:1:1)`);
    });

    it('replaces the status object instead of changing one the caller may share', () => {
      const status = { code: 2, message: `card ${VISA}` };
      const s: RedactableSpan = { name: 'x', status };
      redactSpanData(s);
      assert.equal(status.message, `card ${VISA}`);
      assert.deepEqual(s.status, { code: 2, message: `card ${MASKED_VISA}` });
    });

    it('leaves everything alone when disabled', () => {
      const s = span();
      const before = JSON.stringify(s);
      assert.equal(redactSpanData(s, createRedactor({ enabled: false })), 0);
      assert.equal(JSON.stringify(s), before);
    });

    it('can keep card numbers while still removing secrets', () => {
      const s = span();
      redactSpanData(s, createRedactor({ cardNumbers: false }));
      assert.equal(s.name, `charge ${VISA}`);
      assert.equal(s.attributes?.cvv, REDACTED);
    });

    it('honours extra exempt and sensitive keys', () => {
      const custom = createRedactor({ exemptKeys: ['shop.voucher'], sensitiveKeys: ['bank_account'] });
      const attributes = { 'shop.voucher': VISA, 'customer.bank_account': 'DE89...', 'customer.bankAccount': 'DE89...' };
      assert.equal(custom.redactAttributes(attributes), 2);
      assert.deepEqual(attributes, { 'shop.voucher': VISA, 'customer.bank_account': REDACTED, 'customer.bankAccount': REDACTED });
    });

    it('takes one name given alone, from plain JavaScript, as a list of one: a list option never masks less by its shape', () => {
      const custom = createRedactor({ sensitiveKeys: 'x-shop-ref', sensitiveQueryParameters: 'voucher' } as unknown as RedactionOptions);
      const attributes = { 'http.request.header.x-shop-ref': ['r-1'], 'url.full': 'https://shop.example/r?voucher=V1&page=2' };
      assert.equal(custom.redactAttributes(attributes), 2);
      assert.deepEqual(attributes, { 'http.request.header.x-shop-ref': [REDACTED], 'url.full': 'https://shop.example/r?voucher=REDACTED&page=2' });
    });

    it('fails closed: a value whose redaction throws becomes [REDACTED] and is counted', () => {
      const hostile = {
        toString() {
          throw new Error('boom');
        },
      };
      const attributes = { weird: [hostile] as unknown as string[], 'url.full': hostile as unknown as string };
      // A getter that throws while the attribute is read
      Object.defineProperty(attributes, 'explodes', { enumerable: true, get: () => { throw new Error('getter'); } });
      assert.doesNotThrow(() => redactor.redactAttributes(attributes));
      assert.equal(attributes['url.full'], REDACTED);
    });

    it('never throws on a span with missing or odd parts', () => {
      const odd = { name: undefined, status: { message: 42 }, attributes: { a: { nested: VISA } }, events: [{ name: 7 }], links: [] };
      assert.doesNotThrow(() => redactSpanData(odd as unknown as RedactableSpan));
    });
  });
});
