import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkFlowTokenAge,
  decodeBase64Url,
  decodeFlowToken,
  encodeBase64Url,
  encodeFlowTokenPayload,
  FLOW_TOKEN_MAC_LENGTH,
  joinFlowToken,
} from '../src/index.js';

const FIELDS = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: 1,
  issuedAt: 1_790_000_000,
  keyId: 'k2026',
};
const MAC = new Uint8Array(FLOW_TOKEN_MAC_LENGTH).map((_, i) => i * 7);

describe('flow token format', () => {
  it('round-trips every field and stays compact and URL-safe', () => {
    const payload = encodeFlowTokenPayload(FIELDS)!;
    const token = joinFlowToken(payload, MAC);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(token.length <= 90, `token is ${token.length} characters`);
    const decoded = decodeFlowToken(token);
    assert.ok(decoded.ok);
    const { traceId, spanId, traceFlags, issuedAt, keyId, version } = decoded.token;
    assert.deepEqual({ traceId, spanId, traceFlags, issuedAt, keyId }, FIELDS);
    assert.equal(version, 1);
    assert.deepEqual([...decoded.token.payload], [...payload]);
    assert.deepEqual([...decoded.token.mac], [...MAC]);
  });

  it('base64url matches Node Buffer (no padding) for any bytes, and decodes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        assert.equal(text, Buffer.from(bytes).toString('base64url'));
        assert.deepEqual([...decodeBase64Url(text)!], [...bytes]);
      }),
    );
  });

  it('decodes any text of base64url characters only in its one canonical spelling, as Node decodes it', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        const decoded = decodeBase64Url(text);
        const canonical = text.length % 4 !== 1 && Buffer.from(text, 'base64url').toString('base64url') === text;
        assert.equal(decoded !== undefined, canonical, text);
        if (decoded !== undefined) assert.deepEqual([...decoded], [...Buffer.from(text, 'base64url')]);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses non-canonical base64url (spare bits set), padding and foreign characters', () => {
    assert.equal(decodeBase64Url('AB'), undefined); // 'B' leaves spare bits set
    assert.deepEqual([...decodeBase64Url('AA')!], [0]);
    assert.equal(decodeBase64Url('AA=='), undefined);
    assert.equal(decodeBase64Url('A+/A'), undefined);
    assert.equal(decodeBase64Url('A'), undefined);
  });

  it('rejects invalid fields when encoding instead of minting a useless token', () => {
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, traceId: '0'.repeat(32) }), undefined);
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, spanId: 'xyz' }), undefined);
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, keyId: '' }), undefined);
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, keyId: 'k'.repeat(17) }), undefined);
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, traceFlags: 256 }), undefined);
    assert.equal(encodeFlowTokenPayload({ ...FIELDS, issuedAt: -1 }), undefined);
  });

  it('reports an unknown version as unsupported_version, other garbage as malformed', () => {
    const bytes = Buffer.from(joinFlowToken(encodeFlowTokenPayload(FIELDS)!, MAC), 'base64url');
    bytes[0] = 2;
    assert.deepEqual(decodeFlowToken(bytes.toString('base64url')), { ok: false, reason: 'unsupported_version' });
    for (const garbage of [undefined, null, 42, {}, '', '!!!!', 'A'.repeat(5000), 'AQ']) {
      assert.deepEqual(decodeFlowToken(garbage), { ok: false, reason: 'malformed' }, JSON.stringify(garbage) ?? 'undefined');
    }
  });

  it('never throws on random strings or random bytes, and only accepts well-formed shapes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), fc.uint8Array({ maxLength: 90 }).map((b) => Buffer.from(b).toString('base64url'))), (text) => {
        const result = decodeFlowToken(text);
        if (result.ok) {
          assert.match(result.token.traceId, /^[0-9a-f]{32}$/);
          assert.match(result.token.spanId, /^[0-9a-f]{16}$/);
          assert.equal(result.token.mac.length, FLOW_TOKEN_MAC_LENGTH);
        } else {
          assert.ok(['malformed', 'unsupported_version'].includes(result.reason));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a token is rejected', () => {
    const token = joinFlowToken(encodeFlowTokenPayload(FIELDS)!, MAC);
    for (let length = 0; length < token.length; length++) {
      assert.equal(decodeFlowToken(token.slice(0, length)).ok, false, `length ${length}`);
    }
  });

  it('checks the age against a maximum and a clock-skew allowance', () => {
    assert.equal(checkFlowTokenAge(1000, 1000, 60, 5), undefined);
    assert.equal(checkFlowTokenAge(1000, 1065, 60, 5), undefined);
    assert.equal(checkFlowTokenAge(1000, 1066, 60, 5), 'expired');
    assert.equal(checkFlowTokenAge(1005, 1000, 60, 5), undefined);
    assert.equal(checkFlowTokenAge(1006, 1000, 60, 5), 'future');
  });
});
