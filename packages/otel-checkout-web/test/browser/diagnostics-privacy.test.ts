import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { startInPage, tracingOptions } from '../harness/page-api.js';
import { TEST_PAN } from '../harness/sites.js';
import type { Sites } from '../harness/sites.js';

// A checkout page's hooks read its payment form: what they throw, and a value the page passes
// as the amount, can hold the card number. Console output can be shipped (RUM tools forward it),
// so the diagnostics say which hook failed and what kind of value was refused, not the value.
describe('diagnostics hold no value from the page, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;

  useChromiumSession((session) => {
    ({ sites, page } = session);
  });

  it('a hook that throws and an amount that is not a number are reported without their values', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const diagnostics = await page.evaluate(async (pan) => {
      const { checkout } = window.otc;
      const button = document.getElementById('pay')!;
      checkout.onClick(
        button,
        () => {
          throw new Error(`card ${pan} is not valid`);
        },
        () => {
          throw new TypeError(`no flow for ${pan}`);
        },
      );
      button.click();
      const flow = checkout.begin({ tradeNo: 'T-diag-1', amount: pan as unknown as number });
      await flow.poll(
        () => Promise.resolve({ pan }),
        (result) => {
          throw new Error(`status of ${result.pan}`);
        },
        { maxAttempts: 1, intervalMillis: 0 },
      );
      flow.end();
      return window.otc.diagnostics;
    }, TEST_PAN);
    const text = diagnostics.join('\n');
    assert.ok(!text.includes(TEST_PAN), text);
    assert.ok(text.includes('the getDetails hook failed'), text);
    assert.ok(text.includes('the onFlow hook failed'), text);
    assert.ok(text.includes('the toOutcome hook failed'), text);
    assert.ok(text.includes('amount (string) is not an integer in minor units; ignored'), text);
  });

  it('a 19-digit card number passed as a number is refused as an amount and logged by its type only', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    // Past 2^53 it is no safe integer, and printed it would keep its leading digits: 6011000990139424000.
    const diagnostics = await page.evaluate(() => {
      window.otc.checkout.begin({ tradeNo: 'T-diag-2', amount: Number('6011000990139424123') }).end();
      return window.otc.diagnostics;
    });
    assert.deepEqual(diagnostics, ['warn: @otel-checkout/web: amount (number) is not an integer in minor units; ignored']);
  });
});
