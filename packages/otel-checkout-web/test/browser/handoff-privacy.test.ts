import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { FlowDetails } from '@otel-checkout/web';
import { useChromiumSession } from '../harness/session.js';
import { startInPage, tracingOptions } from '../harness/page-api.js';
import { TEST_PAN } from '../harness/sites.js';
import type { Sites } from '../harness/sites.js';

// A page may hand the flow an object that holds more than flow details (its order, its form
// values): only the details the flow records may be parked in sessionStorage for the return
// page, or answered over postMessage to a challenge frame.
describe('the handoff record holds flow details only, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;

  useChromiumSession((session) => {
    ({ sites, page } = session);
  });

  it('what begin() and set() were given beyond the details reaches neither sessionStorage nor a postMessage answer', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const { stored, answered } = await page.evaluate(async (pan) => {
      const order = { tradeNo: 'T-hand-1', method: 'card', amount: 1250, currency: 'EUR', cardNumber: pan, cvv: '737' } as FlowDetails;
      const flow = window.otc.checkout.begin(order);
      flow.set({ provider: 'acme', holder: { pan } } as Partial<FlowDetails>);
      flow.answerChallenge();
      // The page asks itself, as a challenge frame of its own origin asks its opener.
      const reply = new Promise<unknown>((resolve) =>
        window.addEventListener('message', (event: MessageEvent<{ type?: string; record?: unknown }>) => {
          if (event.data?.type === 'otc.handoff') resolve(event.data.record);
        }),
      );
      window.postMessage({ type: 'otc.handoff.request' }, location.origin);
      const answer = await reply;
      await flow.prepareRedirect({ watchdogMillis: 0 });
      return { stored: sessionStorage.getItem('otc.handoff'), answered: JSON.stringify(answer) };
    }, TEST_PAN);
    for (const [where, text] of [['sessionStorage', stored], ['postMessage', answered]] as const) {
      assert.ok(text !== null, `a handoff record in ${where}`);
      // The CVV as a value (a random trace or span id may well contain the digits 737).
      assert.ok(!text.includes(TEST_PAN) && !text.includes('"737"') && !/cvv/i.test(text), `${where}: ${text}`);
      const record = JSON.parse(text) as { details: FlowDetails };
      assert.deepEqual(record.details, { tradeNo: 'T-hand-1', method: 'card', amount: 1250, currency: 'EUR', provider: 'acme' }, where);
    }
  });

  it('what resume() was given beyond the details stays out of the record the return page keeps for its reloads', async () => {
    await page.goto(`${sites.shop.url}/return.html`);
    // The same-tab handoff the checkout page left before the bank.
    await page.evaluate(() => {
      const now = Date.now();
      sessionStorage.setItem('otc.handoff', JSON.stringify({ v: 1, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), flags: 1, at: now, exp: now + 60_000, details: { tradeNo: 'T-hand-2' } }));
    });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const stored = await page.evaluate(async (pan) => {
      const order = { method: 'card', cardNumber: pan, cvv: '737' } as FlowDetails;
      (await window.otc.checkout.resume({ details: order })).end();
      return sessionStorage.getItem('otc.handoff');
    }, TEST_PAN);
    assert.ok(stored !== null, 'a record kept for reloads');
    assert.ok(!stored.includes(TEST_PAN) && !stored.includes('"737"') && !/cvv/i.test(stored), stored);
    assert.deepEqual((JSON.parse(stored) as { details: FlowDetails }).details, { tradeNo: 'T-hand-2', method: 'card' });
  });
});
