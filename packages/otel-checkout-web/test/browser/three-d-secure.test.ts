import assert from 'node:assert/strict';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';
import type { Sites } from '../harness/sites.js';

describe('3-D Secure popup and iframe handoff over postMessage, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, context, page, pageErrors } = session);
  });
  beforeEach(async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
  });

  /**
   * Begins a flow with `details` that answers its challenge (from `origins`, else the page's own),
   * frames the bank's challenge page, which sends the shopper back to the shop's return page
   * (`?challenge=<tag>`), and starts tracing in that frame. The flow is `window.flow`.
   */
  async function challengeInFrame(details: Record<string, unknown>, tag: string, origins?: string[]): Promise<{ traceId: string; frame: Frame }> {
    const returned = page.waitForEvent('framenavigated', { predicate: (f) => f.url().includes(`challenge=${tag}`) });
    const traceId = await page.evaluate(
      ({ bank, back, flowDetails, allowed }) => {
        const flow = window.otc.checkout.begin(flowDetails);
        flow.answerChallenge(allowed === undefined ? undefined : { origins: allowed });
        const frame = document.createElement('iframe');
        frame.src = `${bank}/challenge?return=${encodeURIComponent(back)}`;
        document.body.append(frame);
        Object.assign(window, { flow });
        return flow.traceId;
      },
      { bank: sites.bank.url, back: `${sites.shop.url}/return.html?challenge=${tag}`, flowDetails: details, allowed: origins },
    );
    const frame = await returned;
    await frame.waitForLoadState();
    await frame.evaluate((o) => {
      window.otcHandle = window.otc.startCheckoutTracing(o);
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    return { traceId, frame };
  }

  /** The return frame's flow, resumed with `messageOrigins`, ended as a success and flushed: its trace id. */
  function resumeInFrame(frame: Frame, messageOrigins: string[]): Promise<string> {
    return frame.evaluate(async (allowed) => {
      const flow = await window.otc.checkout.resume({ messageOrigins: allowed });
      flow.succeed();
      await (window.otcHandle as { flush(): Promise<void> }).flush();
      return flow.traceId;
    }, messageOrigins);
  }

  it('a challenge popup that the bank sends back to the shop continues the flow from payment.redirect', async () => {
    const returnUrl = `${sites.shop.url}/return.html?challenge=1`;
    const popupOpened = page.waitForEvent('popup');
    await page.evaluate(
      ({ bank, back }) => {
        const flow = window.otc.checkout.begin({ tradeNo: 'T-3ds', method: 'card' });
        flow.answerChallenge();
        window.open(`${bank}/challenge?return=${encodeURIComponent(back)}`, 'challenge', 'popup');
        Object.assign(window, { flow });
      },
      { bank: sites.bank.url, back: returnUrl },
    );
    const popup = await popupOpened;
    await popup.waitForURL(/return\.html\?challenge=1/);
    await startInPage(popup, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const source = await popup.evaluate(async (shop) => {
      const flow = await window.otc.checkout.resume({ messageOrigins: [shop] });
      flow.succeed();
      return flow.traceId;
    }, sites.shop.url);
    await flushPage(popup);
    await page.evaluate(() => (window.flow as { succeed(): void }).succeed());
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    const redirect = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect');
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    assert.equal(ret.attributes['payment.context.source'], 'post_message');
    assert.equal(ret.parentSpanId, redirect.spanId);
    assert.equal(ret.traceId, checkout.traceId);
    assert.equal(source, checkout.traceId);
    assert.equal(ret.attributes['payment.trade_no'], 'T-3ds');
    assert.equal(redirect.parentSpanId, checkout.spanId);
    assert.deepEqual(pageErrors, []);
  });

  it('a challenge iframe that the bank sends back to the shop continues the flow from payment.redirect', async () => {
    const { frame } = await challengeInFrame({ tradeNo: 'T-3ds-frame', method: 'card' }, 'iframe');
    const source = await resumeInFrame(frame, [sites.shop.url]);
    await page.evaluate(() => (window.flow as { succeed(): void }).succeed());
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return' && s.attributes['payment.trade_no'] === 'T-3ds-frame');
    const redirect = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect' && s.traceId === ret.traceId);
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.traceId === ret.traceId);
    assert.equal(ret.attributes['payment.context.source'], 'post_message', 'the frame asked its parent, the checkout page');
    assert.equal(ret.parentSpanId, redirect.spanId);
    assert.equal(source, checkout.traceId);
    assert.deepEqual(pageErrors, []);
  });

  it('a challenge of a later attempt continues that attempt, not the one whose same-tab handoff an earlier redirect left (the shopper pressed Back at the bank)', async () => {
    // Attempt 1: a redirect to the bank, which leaves the same-tab handoff in sessionStorage.
    const first = await page.evaluate(() => window.otc.checkout.begin({ tradeNo: 'T-first', method: 'card', amount: 100 }).traceId);
    await Promise.all([page.waitForURL(/\/bank\?/), page.evaluate((bank) => window.otc.checkout.active()!.redirect(`${bank}/bank?return=x`, { watchdogMillis: 0 }), sites.bank.url)]);
    // Back: the checkout page loads anew (it is served no-store); the record is still there.
    await page.goBack({ waitUntil: 'load' });
    assert.ok((await page.evaluate(() => sessionStorage.getItem('otc.handoff'))) !== null, 'the first attempt left its record');
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    // Attempt 2: a wallet whose challenge runs in an iframe of the shop's return frame.
    const { traceId: second, frame } = await challengeInFrame({ tradeNo: 'T-second', method: 'wallet', amount: 4250 }, 'second');
    const resumed = await resumeInFrame(frame, [sites.shop.url]);
    await page.evaluate(() => (window.flow as { succeed(): void }).succeed());
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.notEqual(first, second);
    assert.equal(ret.attributes['payment.context.source'], 'post_message', 'asked the checkout page, not the record attempt 1 left');
    assert.equal(ret.traceId, second);
    assert.equal(resumed, second);
    assert.equal(ret.attributes['payment.trade_no'], 'T-second');
    assert.equal(ret.attributes['payment.method'], 'wallet');
    assert.deepEqual(pageErrors, []);
  });

  it('only the newest challenge answers: a popup of a second attempt continues it, not the first attempt left open (its popup closed)', async () => {
    const returnUrl = `${sites.shop.url}/return.html?challenge=two`;
    const popupOpened = page.waitForEvent('popup');
    const [first, second] = await page.evaluate(
      ({ bank, back }) => {
        // Attempt 1 answers its challenge; the shopper closes its popup, which the page cannot tell.
        const one = window.otc.checkout.begin({ tradeNo: 'T-one', method: 'wallet' });
        one.answerChallenge();
        // Attempt 2, with attempt 1 still open.
        const two = window.otc.checkout.begin({ tradeNo: 'T-two', method: 'wallet' });
        two.answerChallenge();
        window.open(`${bank}/challenge?return=${encodeURIComponent(back)}`, 'challenge', 'popup');
        Object.assign(window, { one, two });
        return [one.traceId, two.traceId];
      },
      { bank: sites.bank.url, back: returnUrl },
    );
    const popup = await popupOpened;
    await popup.waitForURL(/return\.html\?challenge=two/);
    await startInPage(popup, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await popup.evaluate(async (shop) => {
      (await window.otc.checkout.resume({ messageOrigins: [shop] })).succeed();
    }, sites.shop.url);
    await flushPage(popup);
    await page.evaluate(() => {
      (window.one as { end(): void }).end();
      (window.two as { succeed(): void }).succeed();
    });
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count: 2 });
    assert.equal(ret.attributes['payment.context.source'], 'post_message');
    assert.equal(ret.traceId, second, `the second attempt's trace, not the first's (${first})`);
    assert.equal(ret.attributes['payment.trade_no'], 'T-two');
    const redirects = sites.receiver.spans.filter((s) => s.name === 'payment.redirect');
    assert.deepEqual(
      redirects.map((s) => s.traceId),
      [second],
      'the first attempt did not answer',
    );
    assert.deepEqual(pageErrors, []);
  });

  it('a redirect after a challenge (a fallback to the bank page) records its own payment.redirect with url.full, and hands that one over', async () => {
    const traceId = await page.evaluate(async () => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-fallback', method: 'card' });
      flow.answerChallenge();
      // The challenge frame asks (here the page itself, as a frame of its own origin would).
      const reply = new Promise<void>((resolve) =>
        window.addEventListener('message', (event: MessageEvent<{ type?: string }>) => {
          if (event.data?.type === 'otc.handoff') resolve();
        }),
      );
      window.postMessage({ type: 'otc.handoff.request' }, location.origin);
      await reply;
      Object.assign(window, { flow });
      return flow.traceId;
    });
    // The challenge answers "fallback": the page redirects to the bank after all.
    await Promise.all([
      page.waitForURL(/\/bank\?from=fallback/),
      page.evaluate((bank) => (window.flow as { redirect(url: string, o: object): void }).redirect(`${bank}/bank?from=fallback&return=x`, { watchdogMillis: 0 }), sites.bank.url),
    ]);
    const redirects = await sites.receiver.waitForSpans((s) => s.name === 'payment.redirect' && s.traceId === traceId, { count: 2 });
    const navigation = redirects.find((s) => s.attributes['url.full'] !== undefined);
    assert.ok(navigation, 'a payment.redirect with url.full');
    assert.equal(navigation.attributes['url.full'], `${sites.bank.url}/bank?from=fallback&return=x`);
    assert.equal(redirects.filter((s) => s.attributes['url.full'] === undefined).length, 1, 'the challenge’s, without a URL');
    await page.goBack({ waitUntil: 'load' });
    const record = JSON.parse((await page.evaluate(() => sessionStorage.getItem('otc.handoff'))) ?? '{}') as { spanId?: string };
    assert.equal(record.spanId, navigation.spanId, 'the return page continues from the navigation');
    assert.deepEqual(pageErrors, []);
  });

  it('origins compare as the browser spells them (a trailing slash, a path), and a value that is not a list of http(s) URLs is reported', async () => {
    const { frame } = await challengeInFrame({ tradeNo: 'T-slash' }, 'slash', [`${sites.shop.url}/return.html`]);
    await resumeInFrame(frame, [`${sites.shop.url}/`]);
    const frameDiagnostics = await frame.evaluate(() => window.otc.diagnostics);
    const pageDiagnostics = await page.evaluate(() => {
      (window.flow as { succeed(): void }).succeed();
      const flow = window.otc.checkout.begin();
      // What a page without types may pass: one origin as a string, a host without a scheme.
      flow.answerChallenge({ origins: location.origin as unknown as string[] });
      flow.answerChallenge({ origins: ['shop.example', location.origin] });
      flow.end();
      return window.otc.diagnostics;
    });
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-slash');
    assert.equal(ret.attributes['payment.context.source'], 'post_message', `${JSON.stringify(ret.attributes)}`);
    assert.equal(ret.traceId, checkout.traceId);
    assert.deepEqual(frameDiagnostics, []);
    assert.deepEqual(pageDiagnostics, [
      'warn: @otel-checkout/web: option origins is not an array; using the default',
      'warn: @otel-checkout/web: option origins[0] is not an http(s) URL; ignored',
    ]);
    assert.deepEqual(pageErrors, []);
  });

  it('refuses contexts offered by, and requests coming from, origins that are not allowed', async () => {
    // The shop frames a bank page that asks for the flow's context: not an allowed origin, ignored.
    const asked = await page.evaluate(async (bank) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-guarded' });
      flow.answerChallenge();
      const frame = document.createElement('iframe');
      frame.src = `${bank}/forger`;
      document.body.append(frame);
      await new Promise((r) => setTimeout(r, 300));
      flow.end();
      return (window.otcHandle as { health(): { contextsRejected: number } }).health().contextsRejected;
    }, sites.bank.url);
    assert.ok(asked >= 1, 'the request from the bank origin was refused and counted');

    // A bank page frames the shop's return page and feeds it a forged handoff: refused by origin.
    const forger = await context.newPage();
    await forger.goto(`${sites.bank.url}/forger?embed=${encodeURIComponent(`${sites.shop.url}/return.html`)}`);
    const frame = forger.frames().find((f) => f.url().startsWith(sites.shop.url))!;
    await frame.waitForLoadState();
    await frame.evaluate((o) => {
      window.otcHandle = window.otc.startCheckoutTracing(o);
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    await frame.evaluate(async (shop) => {
      const flow = await window.otc.checkout.resume({ messageOrigins: [shop], timeoutMillis: 300 });
      flow.end();
      await (window.otcHandle as { flush(): Promise<void> }).flush();
    }, sites.shop.url);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.notEqual(ret.traceId, 'ee'.repeat(16));
    assert.equal(ret.parentSpanId, '');
    assert.equal(ret.attributes['payment.context.rejected'], 'origin_mismatch');
  });
});
