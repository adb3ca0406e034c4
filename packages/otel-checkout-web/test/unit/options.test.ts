import assert from 'node:assert/strict';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { resolveOptions } from '../../src/options.js';

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
    assert.equal(o.tokenParam, 'otc_flow');
    assert.deepEqual(o.redaction, {});
    assert.deepEqual(o.propagateTo, []);
    assert.deepEqual(warnings, []);
  });

  it('replaces bad values by the default with one warning each, never throwing', () => {
    const o = resolveOptions({ serviceName: '', sampleRate: 2, maxQueueSize: 0, redaction: 'yes', headers: { a: 'b', c: 1 }, propagateTo: ['x', 3, /y/], canary: { percent: 500 } });
    assert.equal(o.serviceName, 'checkout-web');
    assert.equal(o.sampleRate, 1);
    assert.equal(o.maxQueueSize, 512);
    assert.deepEqual(o.redaction, {}, 'a wrong value keeps redaction on');
    assert.equal(resolveOptions({ redaction: false }).redaction, undefined);
    assert.deepEqual(resolveOptions({ redaction: { sensitiveKeys: ['iban'] } }).redaction, { sensitiveKeys: ['iban'] });
    assert.deepEqual(o.headers, { a: 'b' });
    assert.deepEqual(o.propagateTo.map(String), ['x', '/y/']);
    assert.equal(warnings.length, 5, warnings.join('\n'));
  });
});
