import assert from 'node:assert/strict';
import { parseHandoff } from '../../src/handoff.js';
import { matchesTarget, normalizeTarget } from '../../src/propagation/url-match.js';
import type { PropagateTarget } from '../../src/types.js';
import { formatTraceparent } from '@otel-checkout/core';
import { parseTraceparent } from '../../src/traceparent.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('traceparent (W3C Trace Context)', () => {
  const cases: [string, unknown, boolean][] = [
    ['valid sampled', `00-${T}-${S}-01`, true],
    ['valid unsampled', `00-${T}-${S}-00`, true],
    ['future version with extra fields', `cc-${T}-${S}-01-extra`, true],
    ['version ff is invalid', `ff-${T}-${S}-01`, false],
    ['version 00 with extra fields', `00-${T}-${S}-01-extra`, false],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${S}-01`, false],
    ['all-zero span id', `00-${T}-${'0'.repeat(16)}-01`, false],
    ['uppercase hex', `00-${T.toUpperCase()}-${S}-01`, false],
    ['short trace id', `00-${T.slice(1)}-${S}-01`, false],
    ['not a string', 42, false],
    ['empty', '', false],
  ];
  for (const [name, value, ok] of cases) {
    it(name, () => assert.equal(parseTraceparent(value) !== undefined, ok));
  }
  it('round-trips', () => {
    assert.equal(formatTraceparent(parseTraceparent(`00-${T}-${S}-01`)!), `00-${T}-${S}-01`);
  });
});

describe('handoff records', () => {
  const now = 1_700_000_000_000;
  const good = { v: 1, traceId: T, spanId: S, flags: 1, at: now - 1000, exp: now + 1000, details: { tradeNo: 'T1' } };
  it('accepts a fresh record', () => assert.equal(parseHandoff(good, now).ok, true));
  it('rejects an expired one as expired', () => assert.deepEqual(parseHandoff({ ...good, exp: now - 1 }, now), { ok: false, reason: 'expired' }));
  it('rejects one from the future as expired', () => assert.deepEqual(parseHandoff({ ...good, at: now + 120_000 }, now), { ok: false, reason: 'expired' }));
  for (const [name, value] of [
    ['null', null],
    ['a string', 'x'],
    ['wrong version', { ...good, v: 2 }],
    ['bad trace id', { ...good, traceId: 'zz' }],
    ['a trace id in uppercase hex', { ...good, traceId: T.toUpperCase() }],
    ['a span id in uppercase hex', { ...good, spanId: S.toUpperCase() }],
    ['a trace id that is no string', { ...good, traceId: 1 }],
    ['a trace id in an array', { ...good, traceId: [T] }],
    ['a span id in an array', { ...good, spanId: [S] }],
    ['a missing span id', { ...good, spanId: undefined }],
    ['a trace id one digit short', { ...good, traceId: T.slice(1) }],
    ['zero trace id', { ...good, traceId: '0'.repeat(32) }],
    ['zero span id', { ...good, spanId: '0'.repeat(16) }],
    ['missing flags', { ...good, flags: undefined }],
  ] as const) {
    it(`rejects ${name} as malformed`, () => assert.deepEqual(parseHandoff(value, now), { ok: false, reason: 'malformed' }));
  }
});

describe('propagateTo matching', () => {
  const targets = ['https://api.example.com', 'https://pay.example.com/v2/', 'https://PAY.example.com:443/v3/charge', 'http://shop.test:80/api/x', /\/internal\//].map(normalizeTarget) as PropagateTarget[];
  const cases: [string, boolean][] = [
    ['https://api.example.com/pay', true],
    ['https://api.example.com:443/pay', true],
    ['https://API.EXAMPLE.COM/pay', true],
    ['https://api.example.com.evil.test/pay', false],
    ['http://api.example.com/pay', false],
    ['https://pay.example.com/v2/charge', true],
    ['https://pay.example.com/v1/charge', false],
    // An uppercase host and an explicit default port in the target still match; a prefix ends at a path boundary.
    ['https://pay.example.com/v3/charge', true],
    ['https://pay.example.com/v3/charge/42?x=1', true],
    ['https://pay.example.com/v3/charges', false],
    ['http://shop.test/api/x', true],
    ['http://shop.test/api/x?y=1', true],
    ['http://shop.test/api/xhr', false],
    ['https://other.test/internal/x', true],
    ['https://other.test/public', false],
  ];
  for (const [url, expected] of cases) it(`${url} → ${expected}`, () => assert.equal(matchesTarget(new URL(url), targets), expected));

  it('entries that can never match normalise to nothing', () => {
    for (const entry of ['api.example.com', '/api', 'ftp://x', 'https://', '', 3, null]) assert.equal(normalizeTarget(entry), undefined, String(entry));
  });
});
