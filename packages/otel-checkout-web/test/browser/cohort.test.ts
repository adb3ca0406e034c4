import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { launchBrowser, newContext } from '../harness/browser.js';
import { pageBundle } from '../harness/bundle.js';

interface CohortCase {
  id: string;
  salt: string;
  percent: number;
  bucket: number;
  cohort: string;
}

const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../otel-checkout-core/test/vectors/cohort.json', import.meta.url)), 'utf8'),
) as { cases: CohortCase[] };

describe('canary cohort in Chromium: the shared test vectors give the same results as in Node', function () {
  this.timeout(20_000);
  let browser: Browser;
  let server: StartedHttpServer;

  before(async () => {
    const bundle = await pageBundle();
    [browser, server] = await Promise.all([
      launchBrowser(),
      startHttpServer((req, res) => {
        res.writeHead(200, { 'content-type': req.url === '/otc.js' ? 'text/javascript' : 'text/html' });
        res.end(req.url === '/otc.js' ? bundle : '<!doctype html><meta charset="utf-8"><script src="/otc.js"></script>');
      }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`computes bucket and cohort of all ${vectors.cases.length} cases exactly`, async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const results = await page.evaluate((cases) => cases.map((c) => window.otc.cohortOf(c.id, { salt: c.salt, percent: c.percent })), vectors.cases);
    await context.close();
    assert.ok(vectors.cases.length > 0);
    vectors.cases.forEach((c, i) => assert.deepEqual(results[i], { bucket: c.bucket, cohort: c.cohort }, `case ${i}: ${JSON.stringify(c.id)}`));
  });
});
