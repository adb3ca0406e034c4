import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import type { Sites } from '../harness/sites.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';

// A shopper back on the return page while the payment is still pending reloads it, often more
// than once. The same-tab handoff that carried the flow to the first load must carry it to
// the reloads too; any other page in the tab must not pick it up.
describe('reloading the return page in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, page, pageErrors } = session);
  });

  /** Checkout page: begins a flow and redirects it straight to the return page. */
  async function payAndReturn(): Promise<void> {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate((shop) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-reload', provider: 'testbank', method: 'online_banking' });
      // The shopper's second attempt: the return page and its reloads go on counting from it.
      flow.retry('provider_error');
      flow.redirect(`${shop}/return.html?order=T-reload`);
    }, sites.shop.url);
    await page.waitForURL(/\/return\.html\?order=T-reload$/);
  }

  /** What the return page does on every load: start tracing, resume, and report the flow. */
  async function resumeHere(): Promise<void> {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async () => {
      const flow = await window.otc.checkout.resume();
      await flow.query(() => Promise.resolve('pending'));
      flow.end();
    });
    await flushPage(page);
  }

  it('continues the flow on every reload: one payment.return per load, each a child of the redirect, the reloads marked reload', async () => {
    await payAndReturn();
    await resumeHere();
    await page.reload();
    await resumeHere();
    await page.reload();
    await resumeHere();

    const redirect = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect' && s.attributes['payment.trade_no'] === 'T-reload');
    const returns = await sites.receiver.waitForSpans((s) => s.name === 'payment.return', { count: 3 });
    for (const ret of returns) {
      assert.equal(ret.traceId, redirect.traceId, 'in the flow’s trace');
      assert.equal(ret.parentSpanId, redirect.spanId);
      assert.equal(ret.attributes['payment.trade_no'], 'T-reload');
    }
    // The first load came through the handoff; the reloads say they are reloads.
    assert.deepEqual(returns.map((r) => r.attributes['payment.context.source']).sort(), ['handoff', 'reload', 'reload']);
    const queries = await sites.receiver.waitForSpans((s) => s.name === 'payment.query', { count: 3 });
    assert.deepEqual(queries.map((q) => q.attributes['payment.attempt']), [2, 2, 2], 'the attempt the checkout page left with, on every load');
    assert.deepEqual(pageErrors, []);
  });

  it('resume() called twice on one page (a component mounted again) gives the same flow, and a reload still continues it', async () => {
    await payAndReturn();
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const same = await page.evaluate(async () => {
      const [first, second] = await Promise.all([window.otc.checkout.resume(), window.otc.checkout.resume()]);
      const third = await window.otc.checkout.resume();
      first.end();
      return first === second && second === third;
    });
    assert.equal(same, true);
    await flushPage(page);
    await page.reload();
    await resumeHere();

    const returns = await sites.receiver.waitForSpans((s) => s.name === 'payment.return', { count: 2 });
    assert.deepEqual(returns.map((r) => r.attributes['payment.context.source']).sort(), ['handoff', 'reload'], 'one return for the page, and the reload record kept');
    assert.equal(sites.receiver.spans.filter((s) => s.name === 'payment.return').length, 2);
    assert.deepEqual(pageErrors, []);
  });

  it('does not hand the flow to another page of the tab, nor to the same page reached again by a link', async () => {
    await payAndReturn();
    await resumeHere();
    // The same address again, but by navigation rather than a reload, then another return page.
    await page.goto(`${sites.shop.url}/return.html?order=T-reload`);
    await resumeHere();
    await page.goto(`${sites.shop.url}/return.html?order=T-other`);
    await resumeHere();

    const returns = await sites.receiver.waitForSpans((s) => s.name === 'payment.return', { count: 3 });
    const sources = returns.map((r) => r.attributes['payment.context.source']).sort();
    assert.deepEqual(sources, ['handoff', 'none', 'none']);
    for (const ret of returns.filter((r) => r.attributes['payment.context.source'] === 'none')) {
      assert.equal(ret.attributes['payment.context.rejected'], 'missing', 'nothing was carried to it');
    }
    assert.deepEqual(pageErrors, []);
  });
});
