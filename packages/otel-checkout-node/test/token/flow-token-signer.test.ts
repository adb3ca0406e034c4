import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { FlowTokenSigner, flowTokenKeyProblems } from '../../src/index.js';

const K1 = { id: 'k1', secret: 'first-secret-0123456789abcdef' };
const K2 = { id: 'k2', secret: Buffer.from('second-secret-0123456789abcdef') };
const OTHER = { id: 'k2', secret: 'an-attacker-secret-0123456789' };
const NOW = 1_790_000_000;
const CALLBACK = { maxAgeSeconds: 48 * 3600, clockSkewSeconds: 60 };
const FLOW = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length }).filter((s) => !/^0+$/.test(s));
const flowArb = fc.record({ traceId: hex(32), spanId: hex(16), traceFlags: fc.integer({ min: 0, max: 255 }) });

describe('FlowTokenSigner', () => {
  const signer = new FlowTokenSigner({ current: K2, previous: [K1] });

  it('mints a token that verifies to the same span context, with a MAC that is HMAC-SHA256 of the payload', () => {
    const token = signer.mint(FLOW, NOW)!;
    const result = signer.verify(token, CALLBACK, NOW + 10);
    assert.deepEqual(result, { ok: true, token: { ...FLOW, issuedAt: NOW, keyId: 'k2' } });
    const bytes = Buffer.from(token, 'base64url');
    const payload = bytes.subarray(0, bytes.length - 16);
    const expected = createHmac('sha256', K2.secret).update(payload).digest().subarray(0, 16);
    assert.deepEqual(bytes.subarray(bytes.length - 16), expected);
  });

  it('verifies tokens of previous keys (rotation) but signs with the current one', () => {
    const old = new FlowTokenSigner({ current: K1 }).mint(FLOW, NOW)!;
    assert.equal(signer.verify(old, CALLBACK, NOW).ok, true);
    const afterRetirement = new FlowTokenSigner({ current: K2 });
    assert.deepEqual(afterRetirement.verify(old, CALLBACK, NOW), { ok: false, reason: 'unknown_key' });
  });

  it('refuses unusable key sets with the reasons', () => {
    assert.deepEqual(flowTokenKeyProblems(undefined), ['no keys configured']);
    assert.ok(flowTokenKeyProblems({ current: { id: 'k', secret: 'short' } })[0].includes('shorter than 16 bytes'));
    assert.ok(flowTokenKeyProblems({ current: K1, previous: [K1] })[0].includes('twice'));
    assert.ok(flowTokenKeyProblems({ current: { id: 'bad id', secret: K1.secret } }).length > 0);
    assert.throws(() => new FlowTokenSigner({ current: { id: 'k', secret: '' } }), { name: 'FlowTokenKeyError' });
  });

  it('expired and future-dated tokens are rejected at the edges of max age and skew', () => {
    const token = signer.mint(FLOW, NOW)!;
    assert.equal(signer.verify(token, CALLBACK, NOW + 48 * 3600 + 60).ok, true);
    assert.deepEqual(signer.verify(token, CALLBACK, NOW + 48 * 3600 + 61), { ok: false, reason: 'expired' });
    assert.equal(signer.verify(token, CALLBACK, NOW - 60).ok, true);
    assert.deepEqual(signer.verify(token, CALLBACK, NOW - 61), { ok: false, reason: 'future' });
    assert.deepEqual(signer.verify(token, { maxAgeSeconds: 1800, clockSkewSeconds: 60 }, NOW + 1861), { ok: false, reason: 'expired' });
  });

  describe('properties: zero exceptions, zero false accepts', () => {
    const runs = { numRuns: 500 };

    it('random bytes and random strings never verify and never throw', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('base64url')), fc.string({ maxLength: 100 }), fc.anything()), (input) => {
          assert.equal(signer.verify(input, CALLBACK, NOW).ok, false);
        }),
        { numRuns: 2000 },
      );
    });

    it('every truncation of a valid token is rejected', () => {
      fc.assert(
        fc.property(flowArb, (flow) => {
          const token = signer.mint(flow, NOW)!;
          for (let length = 0; length < token.length; length++) assert.equal(signer.verify(token.slice(0, length), CALLBACK, NOW).ok, false);
        }),
        { numRuns: 50 },
      );
    });

    it('any single bit flip in the token bytes is rejected', () => {
      fc.assert(
        fc.property(flowArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (flow, at, bit) => {
          const bytes = Buffer.from(signer.mint(flow, NOW)!, 'base64url');
          bytes[at % bytes.length] ^= 1 << bit;
          const result = signer.verify(bytes.toString('base64url'), CALLBACK, NOW);
          assert.equal(result.ok, false);
        }),
        runs,
      );
    });

    it('any single character change in the token text is rejected', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. ';
      fc.assert(
        fc.property(flowArb, fc.nat(), fc.constantFrom(...alphabet), (flow, at, char) => {
          const token = signer.mint(flow, NOW)!;
          const i = at % token.length;
          fc.pre(token[i] !== char);
          assert.equal(signer.verify(token.slice(0, i) + char + token.slice(i + 1), CALLBACK, NOW).ok, false);
        }),
        runs,
      );
    });

    it('through any rotation: a token verifies exactly while its key is current or previous; retired, it is unknown_key', () => {
      // A key ring of up to five generations; the verifier knows a window of them, newest current.
      const keyAt = (generation: number) => ({ id: `k${generation}`, secret: `secret-of-generation-${generation}-0123456789` });
      fc.assert(
        fc.property(flowArb, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 }), (flow, minted, current, kept) => {
          const token = new FlowTokenSigner({ current: keyAt(minted) }).mint(flow, NOW)!;
          const previous = Array.from({ length: Math.min(kept, current) }, (_, i) => keyAt(current - 1 - i));
          const verifier = new FlowTokenSigner({ current: keyAt(current), previous });
          const known = minted === current || previous.some((key) => key.id === `k${minted}`);
          assert.deepEqual(
            verifier.verify(token, CALLBACK, NOW),
            known ? { ok: true, token: { ...flow, issuedAt: NOW, keyId: `k${minted}` } } : { ok: false, reason: 'unknown_key' },
          );
          // What a verifier signs is always under its current key.
          assert.equal((verifier.verify(verifier.mint(flow, NOW)!, CALLBACK, NOW) as { token?: { keyId: string } }).token?.keyId, `k${current}`);
        }),
        runs,
      );
    });

    it('a token signed with a different secret under a known key id is bad_signature', () => {
      const forger = new FlowTokenSigner({ current: OTHER });
      fc.assert(
        fc.property(flowArb, (flow) => {
          assert.deepEqual(signer.verify(forger.mint(flow, NOW), CALLBACK, NOW), { ok: false, reason: 'bad_signature' });
        }),
        runs,
      );
    });

    it('issue times outside [now - maxAge - skew, now + skew] are rejected; inside are accepted', () => {
      fc.assert(
        fc.property(flowArb, fc.integer({ min: -400_000, max: 400_000 }), (flow, offset) => {
          const token = signer.mint(flow, NOW + offset)!;
          const result = signer.verify(token, CALLBACK, NOW);
          if (offset > 60) assert.deepEqual(result, { ok: false, reason: 'future' });
          else if (-offset > 48 * 3600 + 60) assert.deepEqual(result, { ok: false, reason: 'expired' });
          else assert.equal(result.ok, true);
        }),
        runs,
      );
    });
  });
});
