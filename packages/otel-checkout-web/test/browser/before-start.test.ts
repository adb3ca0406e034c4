import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { tracingOptions } from '../harness/page-api.js';
import type { Sites } from '../harness/sites.js';

// Checkout code that runs before startCheckoutTracing (an import order, a script loaded first)
// gets flows that record nothing. The page must not notice, and the developer must be told.
describe('the flow API before startCheckoutTracing, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, page, pageErrors } = session);
  });

  it('says once through diag that nothing is recorded and what to do, and the page behaves as without tracing', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    const result = await page.evaluate(async (options) => {
      const { checkout, startCheckoutTracing, diagnostics } = window.otc;
      const early = checkout.begin({ tradeNo: 'T-early' });
      const ran = early.run(() => 42);
      const resumed = await checkout.resume();
      checkout.onClick(document.getElementById('pay')!, () => ({ tradeNo: 'T-early-click' }));
      document.getElementById('pay')!.click();
      const before = [...diagnostics];
      const handle = startCheckoutTracing(options);
      checkout.begin({ tradeNo: 'T-started' }).end();
      await handle.flush();
      await handle.shutdown();
      // Stopped on purpose: nothing more to say.
      checkout.begin({ tradeNo: 'T-stopped' }).end();
      return { before, after: [...diagnostics], ran, traceIds: [early.traceId, resumed.traceId] };
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    assert.deepEqual(result.before, ['warn: @otel-checkout/web: checkout.begin records nothing; call startCheckoutTracing first']);
    assert.deepEqual(result.after, result.before, 'once per page, and not after shutdown');
    assert.equal(result.ran, 42);
    assert.deepEqual(result.traceIds, ['0'.repeat(32), '0'.repeat(32)]);
    const span = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    assert.equal(span.attributes['payment.trade_no'], 'T-started');
    assert.deepEqual(
      sites.receiver.spans.map((s) => s.attributes['payment.trade_no']),
      ['T-started'],
      'nothing from before the start or after the shutdown',
    );
    assert.deepEqual(pageErrors, []);
  });

  it('a return page that resumes first is told by the name of the call it made', async () => {
    await page.goto(`${sites.shop.url}/return.html`);
    const diagnostics = await page.evaluate(async () => {
      const flow = await window.otc.checkout.resume({ verifyUrl: '/api/verify' });
      flow.succeed();
      window.otc.checkout.begin().end();
      return window.otc.diagnostics;
    });
    assert.deepEqual(diagnostics, ['warn: @otel-checkout/web: checkout.resume records nothing; call startCheckoutTracing first']);
    assert.deepEqual(pageErrors, []);
  });
});
