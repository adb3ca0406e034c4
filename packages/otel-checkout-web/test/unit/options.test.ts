import assert from 'node:assert/strict';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { listOf, resolveOptions } from '../../src/options.js';
import { originOf } from '../../src/propagation/url-match.js';

describe('option defaults', () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  });
  afterEach(() => diag.disable());

  it('fills every default', () => {
    const o = resolveOptions(undefined);
    assert.equal(o.serviceName, 'checkout-web');
    assert.equal(o.endpoint, '/v1/traces');
    assert.equal(o.sampleRate, 1);
    assert.equal(o.maxQueueSize, 512);
    assert.equal(o.maxExportBatchSize, 64);
    assert.equal(o.exportTimeoutMillis, 10_000);
    assert.equal(o.tokenParam, 'otc_flow');
    assert.deepEqual(o.redaction, {});
    assert.deepEqual(o.propagateTo, []);
    assert.deepEqual(warnings, []);
  });

  it('keeps good values: absolute http(s) endpoints and paths on the page origin, fractional sizes floored', () => {
    const o = resolveOptions({
      endpoint: 'https://otel.example.com/v1/traces?tenant=a',
      exportTimeoutMillis: 1,
      scheduledDelayMillis: 0,
      maxQueueSize: 10.7,
      sampleRate: 0,
      headers: { 'x-api-key': 'k' },
      canary: { salt: 's', percent: 100 },
    });
    assert.equal(o.endpoint, 'https://otel.example.com/v1/traces?tenant=a');
    assert.equal(o.exportTimeoutMillis, 1);
    assert.equal(o.scheduledDelayMillis, 0);
    assert.equal(o.maxQueueSize, 10);
    assert.equal(o.sampleRate, 0);
    assert.deepEqual(o.headers, { 'x-api-key': 'k' });
    assert.deepEqual([o.canarySalt, o.canaryPercent], ['s', 100]);
    assert.equal(resolveOptions({ endpoint: '/collector/v1/traces' }).endpoint, '/collector/v1/traces');
    assert.deepEqual(warnings, []);
  });

  // [what is wrong, options, the option read back, its expected value, text the one warning holds]
  const bad: [string, Record<string, unknown>, string, unknown, RegExp][] = [
    ['endpoint without a host', { endpoint: 'http://' }, 'endpoint', '/v1/traces', /option endpoint is not an http\(s\) URL or a \/path; using the default/],
    ['endpoint that does not parse', { endpoint: 'https://[::1' }, 'endpoint', '/v1/traces', /option endpoint/],
    ['endpoint of another scheme', { endpoint: 'ftp://x' }, 'endpoint', '/v1/traces', /option endpoint/],
    ['javascript: endpoint', { endpoint: 'javascript:x' }, 'endpoint', '/v1/traces', /option endpoint/],
    ['endpoint that is not a URL', { endpoint: 'not a url at all' }, 'endpoint', '/v1/traces', /option endpoint/],
    ['scheme-relative endpoint', { endpoint: '//otel.example.com/v1/traces' }, 'endpoint', '/v1/traces', /option endpoint/],
    ['endpoint that is not a string', { endpoint: 42 }, 'endpoint', '/v1/traces', /option endpoint/],
    ['export timeout of 0 (every export aborted)', { exportTimeoutMillis: 0 }, 'exportTimeoutMillis', 10_000, /option exportTimeoutMillis is not a number from 1 to 2147483647; using the default/],
    ['negative export timeout', { exportTimeoutMillis: -5 }, 'exportTimeoutMillis', 10_000, /exportTimeoutMillis/],
    ['export timeout a browser timer cannot hold', { exportTimeoutMillis: 1e12 }, 'exportTimeoutMillis', 10_000, /exportTimeoutMillis/],
    ['handoff that expires at once', { handoffMaxAgeMillis: 0 }, 'handoffMaxAgeMillis', 1_800_000, /handoffMaxAgeMillis/],
    ['sample rate above 1', { sampleRate: 2 }, 'sampleRate', 1, /option sampleRate is not a number from 0 to 1/],
    ['sample rate as a string', { sampleRate: '1' }, 'sampleRate', 1, /sampleRate/],
    ['NaN delay', { scheduledDelayMillis: NaN }, 'scheduledDelayMillis', 1000, /scheduledDelayMillis/],
    ['queue of 0', { maxQueueSize: 0 }, 'maxQueueSize', 512, /option maxQueueSize is not a number from 1/],
    ['unbounded queue', { maxQueueSize: Infinity }, 'maxQueueSize', 512, /maxQueueSize/],
    ['empty service name', { serviceName: '' }, 'serviceName', 'checkout-web', /option serviceName is not a non-empty string/],
    ['boolean as a string', { captureErrors: 'false' }, 'captureErrors', true, /option captureErrors is not true or false/],
    ['propagateTo as one string', { propagateTo: 'https://api.example.com' }, 'propagateTo', [], /option propagateTo is not an array; using the default/],
    ['headers that are not an object', { headers: 'x-api-key: k' }, 'headers', {}, /option headers is not an object/],
    ['resource attributes that are not an object', { resourceAttributes: ['a'] }, 'resourceAttributes', {}, /option resourceAttributes is not an object/],
    ['canary that is not an object', { canary: 5 }, 'canaryPercent', 0, /option canary is not an object/],
    // Clamped, as core's cohortOf clamps it in Node: both put a user in the same cohort.
    ['canary percent above 100', { canary: { percent: 500 } }, 'canaryPercent', 100, /option canary.percent is not a number from 0 to 100/],
    ['canary percent below 0', { canary: { percent: -5 } }, 'canaryPercent', 0, /option canary.percent is not a number from 0 to 100/],
    ['canary percent that is not a number', { canary: { percent: '5' } }, 'canaryPercent', 0, /option canary.percent is not a number from 0 to 100/],
    ['canary salt that is not a string', { canary: { salt: 7 } }, 'canarySalt', '', /option canary.salt is not a string/],
    ['redaction as a string (stays on)', { redaction: 'off' }, 'redaction', {}, /option redaction is not a boolean or an object/],
    ['misspelt option (sampleRatio)', { sampleRatio: 0 }, 'sampleRate', 1, /option sampleRatio is not a known option; ignored/],
  ];
  for (const [what, options, key, expected, warning] of bad) {
    it(`${what}: one warning naming the option, and the default`, () => {
      const resolved = resolveOptions(options) as unknown as Record<string, unknown>;
      assert.deepEqual(resolved[key], expected);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], warning);
      assert.match(warnings[0], /^@otel-checkout\/web: /);
    });
  }

  it('options that are not an object: one warning, every default', () => {
    assert.equal(resolveOptions('shop-web').serviceName, 'checkout-web');
    assert.deepEqual(warnings, ['@otel-checkout/web: the options are not an object; using the defaults']);
  });

  it('propagateTo entries that can never match are reported one by one and dropped; the others are normalised', () => {
    const o = resolveOptions({ propagateTo: ['api.example.com', 'https://API.Example.com:443', '/api', 3, /\/pay\//, 'https://pay.example.com/v2'] });
    assert.deepEqual(o.propagateTo.map(String), ['https://api.example.com/', '/\\/pay\\//', 'https://pay.example.com/v2']);
    assert.deepEqual(
      warnings.map((w) => /option (\S+)/.exec(w)?.[1]),
      ['propagateTo[0]', 'propagateTo[2]', 'propagateTo[3]'],
    );
    assert.ok(warnings.every((w) => w.endsWith('is not an http(s) URL or a RegExp; ignored')), warnings.join('\n'));
  });

  it('origins (messageOrigins, answerChallenge’s origins) become origins as the browser spells them; what is not an http(s) URL is reported and dropped, a value that is not a list reported', () => {
    const origins = listOf('messageOrigins', ['https://Shop.example:443/', 'http://shop.test/return.html?x=1', 'shop.example', '*', 'null', 3], originOf);
    assert.deepEqual(origins, ['https://shop.example', 'http://shop.test']);
    assert.deepEqual(warnings, [2, 3, 4, 5].map((i) => `@otel-checkout/web: option messageOrigins[${i}] is not an http(s) URL; ignored`));
    warnings.length = 0;
    assert.equal(listOf('origins', 'https://shop.example', originOf), undefined);
    assert.deepEqual(warnings, ['@otel-checkout/web: option origins is not an array; using the default']);
    warnings.length = 0;
    assert.equal(listOf('origins', undefined, originOf), undefined);
    assert.deepEqual(listOf('origins', [], originOf), []);
    assert.deepEqual(warnings, []);
  });

  it('headers the browser would refuse are reported and dropped; the valid ones are kept', () => {
    const o = resolveOptions({ headers: { 'x-tenant': 'a', 'bad name': 'b', count: 1, 'x-split': 'a\nb' } });
    assert.deepEqual(o.headers, { 'x-tenant': 'a' });
    assert.deepEqual(
      warnings.map((w) => /option (headers\[.*?\])/.exec(w)?.[1]),
      ['headers["bad name"]', 'headers["count"]', 'headers["x-split"]'],
    );
  });

  it('redaction is off only when asked explicitly: false, or { enabled: false } (which the redactor obeys)', () => {
    assert.equal(resolveOptions({ redaction: false }).redaction, undefined);
    assert.deepEqual(resolveOptions({ redaction: { enabled: false } }).redaction, { enabled: false });
    assert.deepEqual(resolveOptions({ redaction: true }).redaction, {});
    assert.deepEqual(resolveOptions({ redaction: { sensitiveKeys: ['iban'] } }).redaction, { sensitiveKeys: ['iban'] });
    assert.deepEqual(warnings, []);
  });

  it('several problems at once: one warning each, and nothing thrown', () => {
    const o = resolveOptions({ serviceName: '', sampleRate: 2, maxQueueSize: 0, endpoint: 'ftp://x', headers: { a: 'b', c: 1 }, typo: true });
    assert.equal(o.serviceName, 'checkout-web');
    assert.deepEqual(o.headers, { a: 'b' });
    assert.equal(warnings.length, 6, warnings.join('\n'));
  });
});
