import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';
import { TEST_PAN } from '../harness/sites.js';
import type { Sites } from '../harness/sites.js';

// Spans are redacted as they end, but an export request carries more than spans: the resource
// in every body. No secret may leave the page there either.
describe('export requests carry nothing secret, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;

  useChromiumSession((session) => {
    ({ sites, page } = session);
  });

  it('resource attributes go through the redaction rules: a key and a card number given there are not exported', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    const resourceAttributes = { api_key: 'sk_live_not_for_the_collector', 'shop.note': `test card ${TEST_PAN}`, 'shop.region': 'eu-west' };
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { resourceAttributes }));
    await page.evaluate(() => window.otc.checkout.begin({ tradeNo: 'T-resource' }).end());
    await flushPage(page);
    const span = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-resource');
    assert.equal(span.resource.attributes['shop.region'], 'eu-west', 'what is not sensitive is kept');
    assert.equal(span.resource.attributes['service.name'], 'shop-web');
    for (const request of sites.receiver.requests) {
      const body = Buffer.from(request.body).toString('utf8');
      assert.ok(!body.includes('sk_live_not_for_the_collector') && !body.includes(TEST_PAN), body.slice(0, 400));
    }
  });

  it('export requests send no Referer: a return page exports before resume() takes the flow token out of its address', async () => {
    const token = sites.mintToken({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) });
    // A collector on the shop's own origin (the default endpoint is a path there): the browser
    // sends such a request the page's full address as Referer unless told otherwise.
    const endpoint = `${sites.shop.url}/v1/traces`;
    const referers: Array<Promise<string | undefined>> = [];
    page.on('request', (request) => {
      if (request.url() === endpoint) referers.push(request.allHeaders().then((headers) => headers.referer));
    });
    await page.goto(`${sites.shop.url}/return.html?otc_flow=${token}`);
    // What an earlier page of the tab could not send: tracing sends it as it starts, before resume().
    await page.evaluate(() => sessionStorage.setItem('otc.spill', JSON.stringify([{ at: Date.now(), count: 1, body: '{"resourceSpans":[]}' }])));
    await startInPage(page, tracingOptions(endpoint, sites.api.url));
    await page.evaluate(() => window.otc.checkout.begin({ tradeNo: 'T-early' }).end());
    await flushPage(page);
    await page.evaluate(async () => (await window.otc.checkout.resume()).end());
    await flushPage(page);
    const sent = await Promise.all(referers);
    assert.equal(sent.length, 3, 'the kept body, the span before resume() and the one after');
    assert.deepEqual(sent, [undefined, undefined, undefined]);
  });

  it('no export from an address with a query carries it as Referer: past the keepalive budget such a page sends no beacon (which cannot leave the Referer out), and keeps the batch for the next page', async () => {
    const token = sites.mintToken({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) });
    const endpoint = `${sites.shop.url}/v1/traces`;
    const referers: Array<Promise<string | undefined>> = [];
    page.on('request', (request) => {
      if (request.url() === endpoint) referers.push(request.allHeaders().then((headers) => headers.referer));
    });
    // The shop's collector accepts every export.
    await page.route(endpoint, (route) => route.fulfill({ status: 200, body: '{}' }));
    /** Five batches as the page is hidden: four keepalive requests (the most in flight), then the fifth. */
    const hideWithFiveBatches = () =>
      page.evaluate(async () => {
        for (let i = 0; i < 5; i++) window.otc.checkout.begin({ tradeNo: `T-hidden-${i}` }).end();
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
        // The counters are updated as each send settles (a beacon's at once).
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { health: (window.otcHandle as { health(): Record<string, number> }).health(), spilled: sessionStorage.getItem('otc.spill') };
      });
    // A return page whose address still holds the flow token and the provider's parameters.
    await page.goto(`${sites.shop.url}/return.html?otc_flow=${token}&PayerID=PAYER123&token=EC-77`);
    await startInPage(page, tracingOptions(endpoint, sites.api.url, { scheduledDelayMillis: 600_000, maxExportBatchSize: 1 }));
    const withQuery = await hideWithFiveBatches();
    assert.equal(withQuery.health.beaconsSent, 0, 'no beacon');
    assert.equal(withQuery.health.spansDropped, 0);
    const spilled = JSON.parse(withQuery.spilled ?? '[]') as Array<{ body: string }>;
    assert.deepEqual(
      spilled.map((entry) => /T-hidden-\d/.exec(entry.body)?.[0]),
      ['T-hidden-4'],
      'the fifth batch is kept for the next page',
    );
    const sent = await Promise.all(referers.splice(0));
    assert.equal(sent.length, 4, 'the four keepalive requests');
    assert.deepEqual(sent, [undefined, undefined, undefined, undefined]);

    // An address with a fragment only: the browser never puts a fragment in a Referer, so the beacon goes.
    await page.goto(`${sites.shop.url}/checkout.html#otc_flow=${token}`);
    await page.evaluate(() => sessionStorage.clear());
    await startInPage(page, tracingOptions(endpoint, sites.api.url, { scheduledDelayMillis: 600_000, maxExportBatchSize: 1 }));
    const withFragment = await hideWithFiveBatches();
    assert.equal(withFragment.health.beaconsSent, 1);
    assert.equal(withFragment.spilled, null);
    const beaconReferers = (await Promise.all(referers.splice(0))).filter((referer) => referer !== undefined);
    assert.deepEqual(beaconReferers, [`${sites.shop.url}/checkout.html`], 'the beacon, without the fragment');
  });
});
