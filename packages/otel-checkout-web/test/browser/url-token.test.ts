import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { startInPage, tracingOptions } from '../harness/page-api.js';
import type { Sites } from '../harness/sites.js';

describe('the flow token leaves the address bar, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, page, pageErrors } = session);
  });

  // A page whose <base> points to a CDN resolves a path-only URL against the CDN's origin, and
  // history.replaceState refuses a URL of another origin: the token would stay in the address
  // bar, bookmarks, and the Referer of later requests.
  it('on a return page whose <base> names another origin; the rest of the URL stays as it was', async () => {
    await page.goto(`${sites.shop.url}/return.html?order=7&otc_flow=AQAAAQ-not-a-real-token&lang=de#summary`);
    await page.evaluate(() => {
      const base = document.createElement('base');
      base.href = 'https://cdn.example/assets/';
      document.head.prepend(base);
    });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async (api) => (await window.otc.checkout.resume({ verifyUrl: `${api}/api/verify` })).end(), sites.api.url);
    const url = new URL(page.url());
    assert.equal(url.origin, sites.shop.url);
    assert.equal(url.pathname, '/return.html');
    assert.equal(url.search, '?order=7&lang=de');
    assert.equal(url.hash, '#summary');
    assert.deepEqual(pageErrors, []);
  });
});
