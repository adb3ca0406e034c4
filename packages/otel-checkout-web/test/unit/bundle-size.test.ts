import assert from 'node:assert/strict';
import { entries, measure } from '../harness/bundle-size.js';
import type { Measured } from '../harness/bundle-size.js';

// The README promises the package costs a page no more than a bare OpenTelemetry web setup,
// with little to spare. The lockfile pins every input, so the sizes are exact and a single
// byte over fails, without Chromium: bench/web-size reports the same sizes and more.
describe('bundle size budget (esbuild minify, ESM, es2020, gzip -9)', function () {
  this.timeout(60_000);

  let whole: Measured;
  let bare: Measured;
  before(async () => {
    [whole, bare] = await Promise.all([measure('wholePackage', entries.wholePackage), measure('bareOtel', entries.bareOtel)]);
  });

  it('the whole package, every export kept, is no larger than bare OTel (sdk-trace-web, batch processor, fetch instrumentation, OTLP/HTTP exporter)', () => {
    assert.ok(
      whole.gzip <= bare.gzip,
      `@otel-checkout/web is ${whole.gzip} bytes gzip, bare OTel ${bare.gzip} bytes: ${whole.gzip - bare.gzip} bytes over budget`,
    );
  });

  it('bundles no zone.js', () => {
    assert.equal(whole.zoneJs, false);
  });

  it('bundles one copy of each package', () => {
    assert.deepEqual(whole.duplicates, {});
  });
});
