import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import type { Sites } from '../harness/sites.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';

declare global {
  interface Window {
    restoredFromCache?: boolean;
    paidAgain?: unknown;
  }
}

// A shopper who presses Back on the bank's page gets the checkout page back from the browser's
// back-forward cache: no page load, the page's scripts and their flow objects as they were.
// `pagehide` ended the flow when the shopper left; the flow must carry on in the same trace.
describe('back-forward cache in Chromium (Back from the bank)', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession(
    (session) => {
      ({ sites, page, pageErrors } = session);
    },
    { backForwardCache: true },
  );

  /** Checkout page with tracing: begins a flow (`window.flow`) and redirects it to the bank. */
  async function leaveForTheBank(watchdogMillis?: number): Promise<void> {
    await page.goto(`${sites.shop.url}/checkout-cacheable.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { release: 'web-9.9.9' }));
    await page.evaluate(
      ({ bank, watchdogMillis }) => {
        window.addEventListener('pageshow', (event) => {
          window.restoredFromCache = event.persisted;
        });
        // A flow the page ended before leaving: nothing of it may come back.
        window.otc.checkout.begin({ tradeNo: 'T-done' }).cancel();
        const flow = window.otc.checkout.begin({ tradeNo: 'T-back', method: 'online_banking', provider: 'testbank', amount: 1999, currency: 'EUR' });
        window.flow = flow;
        flow.redirect(`${bank}/bank?return=x`, watchdogMillis === undefined ? undefined : { watchdogMillis });
      },
      { bank: sites.bank.url, watchdogMillis },
    );
    await page.waitForURL(/\/bank\?/);
  }

  async function pressBack(): Promise<void> {
    // A page restored from the cache fires no `load`: wait for the navigation's commit, then its pageshow.
    await page.goBack({ waitUntil: 'commit' });
    await page.waitForFunction(() => window.restoredFromCache !== undefined);
    assert.equal(await page.evaluate(() => window.restoredFromCache), true, 'Chromium did not restore the checkout page from its back-forward cache');
  }

  it('carries the flow on in its trace: payment.return, a child of the payment.checkout that ended at pagehide', async () => {
    await leaveForTheBank();
    await pressBack();
    assert.equal(await page.evaluate(() => window.otc.checkout.active() === window.flow), true, 'the restored flow is the active one again');
    // The page's own flow object records again: the shopper picks another method and pays.
    await page.evaluate(() => {
      const flow = window.flow as ReturnType<typeof window.otc.checkout.begin>;
      flow.fallback('card');
      flow.succeed();
    });
    await flushPage(page);

    const spans = sites.receiver.spans;
    const checkout = spans.find((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-back');
    assert.ok(checkout, 'the checkout span was exported');
    assert.equal(checkout.attributes['payment.outcome'], 'pending', 'the checkout span ended at pagehide, pending');
    const redirect = spans.find((s) => s.name === 'payment.redirect' && s.traceId === checkout.traceId);
    assert.ok(redirect);
    assert.equal(redirect.parentSpanId, checkout.spanId);

    const back = spans.filter((s) => s.name === 'payment.return');
    assert.equal(back.length, 1, `one payment.return; got ${back.length}`);
    const ret = back[0];
    assert.equal(ret.traceId, checkout.traceId);
    assert.equal(ret.parentSpanId, checkout.spanId);
    assert.ok(ret.startTimeUnixNano >= checkout.endTimeUnixNano, 'the return starts after the checkout ended');
    assert.equal(ret.attributes['payment.stage'], 'return');
    assert.equal(ret.attributes['payment.context.source'], 'back_forward_cache');
    assert.equal(ret.attributes['payment.trade_no'], 'T-back');
    assert.equal(ret.attributes['payment.amount'], 1999);
    assert.equal(ret.attributes['payment.currency'], 'EUR');
    assert.equal(ret.attributes['checkout.release'], 'web-9.9.9');
    assert.equal(ret.attributes['payment.outcome'], 'succeeded');
    assert.equal(ret.attributes['payment.method'], 'card');
    assert.deepEqual(
      ret.events.map((e) => e.name),
      ['payment.fallback'],
    );
    // The flow the page had ended stays ended.
    const done = spans.filter((s) => s.attributes['payment.trade_no'] === 'T-done').map((s) => s.name);
    assert.deepEqual(done, ['payment.checkout']);
    assert.deepEqual(pageErrors, []);
  });

  it('a shopper who pays again after Back continues the restored flow as its next attempt, in the same trace', async () => {
    await leaveForTheBank();
    await pressBack();
    // The page's Pay button, wired as most pages wire it: each click begins a flow.
    await page.evaluate(() => {
      window.otc.checkout.onClick(
        document.getElementById('pay')!,
        () => ({ tradeNo: 'T-back-2', method: 'card' }),
        (flow) => {
          window.paidAgain = flow;
        },
      );
    });
    await page.click('#pay');
    const { same, otherTrace } = await page.evaluate(() => {
      const flow = window.flow as ReturnType<typeof window.otc.checkout.begin>;
      // Only the first begin after a restore continues it: a further one is a flow of its own.
      const other = window.otc.checkout.begin({ tradeNo: 'T-other' });
      other.cancel();
      return { same: window.paidAgain === flow, otherTrace: other.traceId !== flow.traceId };
    });
    assert.equal(same, true, 'the click handed the page the restored flow');
    assert.equal(otherTrace, true, 'a later begin() starts a trace of its own');
    await page.evaluate((bank) => (window.flow as ReturnType<typeof window.otc.checkout.begin>).redirect(`${bank}/bank?return=again`), sites.bank.url);
    await page.waitForURL(/return=again/);

    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-back');
    assert.equal(ret.traceId, checkout.traceId);
    assert.equal(ret.attributes['payment.trade_no'], 'T-back-2');
    assert.equal(ret.attributes['payment.method'], 'card');
    assert.equal(ret.attributes['payment.attempt'], 2);
    assert.equal(ret.attributes['payment.outcome'], 'pending', 'ended at pagehide, redirecting');
    assert.deepEqual(
      ret.events.map((e) => [e.name, e.attributes['payment.attempt'], e.attributes['payment.failure.reason']]),
      [['payment.retry', 2, 'user_cancelled']],
      'the first attempt ended with the shopper turning back',
    );
    const redirects = await sites.receiver.waitForSpans((s) => s.name === 'payment.redirect' && s.traceId === checkout.traceId, { count: 2 });
    assert.deepEqual(redirects.map((r) => r.parentSpanId).sort(), [checkout.spanId, ret.spanId].sort());
    const other = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-other');
    assert.equal(other.name, 'payment.checkout');
    assert.notEqual(other.traceId, checkout.traceId);
    const checkouts = sites.receiver.spans.filter((s) => s.name === 'payment.checkout' && s.traceId === checkout.traceId);
    assert.equal(checkouts.length, 1, 'no second payment.checkout in the trace');
    assert.deepEqual(pageErrors, []);
  });

  it('the attempt goes on counting on the return page: Back, Pay again (attempt 2), the bank, the return page’s queries record attempt 2', async () => {
    await leaveForTheBank();
    await pressBack();
    const returnUrl = `${sites.shop.url}/return.html`;
    await page.evaluate(
      ({ bank, returnUrl }) => {
        // The shopper's second click on Pay: the restored flow's second attempt.
        const flow = window.otc.checkout.begin({ tradeNo: 'T-back' });
        flow.redirect(`${bank}/bank?return=${encodeURIComponent(returnUrl)}`);
      },
      { bank: sites.bank.url, returnUrl },
    );
    await page.waitForURL(/\/bank\?/);
    await Promise.all([page.waitForURL(/\/return\.html$/), page.click('#confirm')]);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async (api) => {
      const flow = await window.otc.checkout.resume();
      await flow.query(() => fetch(`${api}/api/status?status=pending`).then((r) => r.json()));
      // A retry on the return page is the third attempt, not the second.
      flow.retry('provider_error');
      await flow.query(() => fetch(`${api}/api/status`).then((r) => r.json()));
      flow.succeed();
    }, sites.api.url);
    await flushPage(page);

    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return' && s.attributes['payment.context.source'] === 'handoff');
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-back');
    assert.equal(ret.traceId, checkout.traceId, 'the return page continues the trace');
    const queries = await sites.receiver.waitForSpans((s) => s.name === 'payment.query' && s.parentSpanId === ret.spanId, { count: 2 });
    assert.deepEqual(
      queries.sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano)).map((q) => q.attributes['payment.attempt']),
      [2, 3],
    );
    assert.deepEqual(ret.events.find((e) => e.name === 'payment.retry')?.attributes, { 'payment.attempt': 3, 'payment.failure.reason': 'provider_error' });
    assert.deepEqual(pageErrors, []);
  });

  it('a second redirect after Back gets a payment.redirect of its own, and the first redirect’s watchdog leaves it alone', async () => {
    // The first watchdog was armed with 300 ms; timers of a cached page resume when it is restored.
    await leaveForTheBank(300);
    await pressBack();
    const armedAt = await page.evaluate((shop) => {
      const flow = window.flow as ReturnType<typeof window.otc.checkout.begin>;
      flow.retry();
      // A page that never answers: the page stays visible, so only a watchdog can end the flow.
      flow.redirect(`${shop}/slow.html`, { watchdogMillis: 1500 });
      return Date.now();
    }, sites.shop.url);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return', { timeoutMs: 10_000 });
    // Ended by the second redirect's watchdog (1.5 s), not by the first one (at most 300 ms).
    assert.equal(ret.attributes['payment.failure.reason'], 'page_load_failed');
    const endedAfterMillis = Number(ret.endTimeUnixNano / 1_000_000n) - armedAt;
    assert.ok(endedAfterMillis >= 1400, `the flow ended ${endedAfterMillis} ms after the second redirect`);

    const redirects = await sites.receiver.waitForSpans((s) => s.name === 'payment.redirect', { count: 2 });
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-back');
    const parents = redirects.map((r) => r.parentSpanId).sort();
    assert.deepEqual(parents, [checkout.spanId, ret.spanId].sort(), 'one redirect under the checkout, the second under the return');
    assert.match(redirects.find((r) => r.parentSpanId === ret.spanId)!.attributes['url.full'] as string, /\/slow\.html$/);
    assert.equal(ret.attributes['payment.attempt'], 2);
    assert.deepEqual(pageErrors, []);
  });
});
