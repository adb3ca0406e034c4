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
    assert.equal(o.redact, true);
    assert.deepEqual(o.propagateTo, []);
    assert.deepEqual(warnings, []);
  });

  it('replaces bad values by the default with one warning each, never throwing', () => {
    const o = resolveOptions({ serviceName: '', sampleRate: 2, maxQueueSize: 0, redact: 'yes', headers: { a: 'b', c: 1 }, propagateTo: ['x', 3, /y/], canary: { percent: 500 } });
    assert.equal(o.serviceName, 'checkout-web');
    assert.equal(o.sampleRate, 1);
    assert.equal(o.maxQueueSize, 512);
    assert.equal(o.redact, true);
    assert.deepEqual(o.headers, { a: 'b' });
    assert.deepEqual(o.propagateTo.map(String), ['x', '/y/']);
    assert.equal(warnings.length, 5, warnings.join('\n'));
  });
});
