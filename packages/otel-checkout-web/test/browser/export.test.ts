import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import { newContext } from '../harness/browser.js';
import { useChromiumSession } from '../harness/session.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';
import type { Sites } from '../harness/sites.js';

describe('export from Chromium: unload flush, keepalive budget, dead collector', function () {
  this.timeout(30_000);
  let browser: Browser;
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ browser, sites, page, pageErrors } = session);
  });
  beforeEach(async () => {
    sites.receiver.setResponse(undefined);
    await page.goto(`${sites.shop.url}/checkout.html`);
  
  });

  it('hands over more than 64 KB of spans at pagehide: small batches up to the browser quota leave, the rest is sent by the next page', async () => {
    // Nothing is exported before the page leaves: everything queued must get out at pagehide.
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000, maxQueueSize: 1000, maxExportBatchSize: 1000 }));
    const count = 150;
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) window.otc.checkout.begin({ tradeNo: `T-${i}`, merchantId: `m-${i}-${'x'.repeat(900)}` }).end();
    }, count);
    await Promise.all([page.waitForURL(/other\.html/), page.click('#away')]);
    // What fits Chromium's 64 KiB keepalive/beacon quota arrives from the page that left...
    const first = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count: 20, timeoutMs: 10_000 });
    assert.ok(first.length >= 20);
    const leaving = sites.receiver.requests.map((r) => r.body.byteLength);
    assert.ok(leaving.every((b) => b <= 17_000), `small batches at unload: ${leaving.join(', ')}`);
    assert.ok(leaving.reduce((a, b) => a + b, 0) <= 65_536, 'within the browser quota');
    // ...and the next page of this tab sends the rest as soon as tracing starts there.
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const spans = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count, timeoutMs: 10_000 });
    assert.equal(new Set(spans.map((s) => s.attributes['payment.trade_no'])).size, count);
    const total = sites.receiver.requests.reduce((a, r) => a + r.body.byteLength, 0);
    assert.ok(total > 65_536, `more than 64 KB in all (${total} bytes)`);
  });

  it('counts beacons against the keepalive budget at pagehide: a last small batch is kept for the next page, not refused by Chromium and lost', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000, maxQueueSize: 1000, maxExportBatchSize: 1000 }));
    // Thirteen spans of about 5 KB, three to a 16 KB batch: three batches go as keepalive
    // (about 46 KB), the fourth as a beacon that fills Chromium's shared 64 KiB quota. The last
    // span alone would still fit the keepalive budget if beacons were not counted, and Chromium
    // would refuse it only after the page had gone; it must wait in sessionStorage instead.
    const count = 13;
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) window.otc.checkout.begin({ tradeNo: `T-${String(i).padStart(2, '0')}`, merchantId: 'x'.repeat(4350) }).end();
    }, count);
    await Promise.all([page.waitForURL(/other\.html/), page.click('#away')]);
    assert.ok((await page.evaluate(() => sessionStorage.getItem('otc.spill'))) !== null, 'the rest is kept for this page');
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const spans = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count, timeoutMs: 10_000 });
    assert.equal(new Set(spans.map((s) => s.attributes['payment.trade_no'])).size, count);
  });

  it('sends by sendBeacon when keepalive cannot be used (four keepalive requests already in flight), and the beacon arrives', async () => {
    // One span per batch: as the page is hidden, four batches go as keepalive requests (the
    // most the package keeps in flight), the fifth can only leave as a beacon.
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000, maxExportBatchSize: 1 }));
    const health = await page.evaluate(() => {
      // What the page hands to sendBeacon, kept to be read afterwards (the browser still sends it).
      const beacons: Blob[] = [];
      const sendBeacon = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url, data) => {
        beacons.push(data as Blob);
        return sendBeacon(url, data);
      };
      window.beacons = beacons;
      for (let i = 0; i < 5; i++) window.otc.checkout.begin({ tradeNo: `T-beacon-${i}` }).end();
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
      return (window.otcHandle as { health(): Record<string, number> }).health();
    });
    assert.equal(health.queueLength, 0, 'everything handed to the browser at once');
    // This test's only: a request of an earlier test may still arrive late.
    const ours = (text: unknown) => typeof text === 'string' && text.includes('T-beacon-');
    const spans = await sites.receiver.waitForSpans((s) => ours(s.attributes['payment.trade_no']), { count: 5, timeoutMs: 5000 });
    assert.deepEqual(spans.map((s) => s.attributes['payment.trade_no']).sort(), ['T-beacon-0', 'T-beacon-1', 'T-beacon-2', 'T-beacon-3', 'T-beacon-4']);
    assert.equal(sites.receiver.requests.filter((r) => ours(Buffer.from(r.body).toString('utf8'))).length, 5, 'one request per batch');
    const after = await page.evaluate(async () => ({
      health: (window.otcHandle as { health(): Record<string, number> }).health(),
      spilled: sessionStorage.getItem('otc.spill'),
      beacons: await Promise.all((window.beacons as Blob[]).map((b) => b.text())),
    }));
    assert.equal(after.beacons.length, 1, 'one beacon');
    assert.ok(after.beacons[0].includes('T-beacon-4'), 'the last batch went by beacon');
    assert.equal(after.health.beaconsSent, 1);
    assert.equal(after.health.spansDropped, 0);
    assert.equal(after.spilled, null, 'nothing was left for a later page');
    assert.deepEqual(pageErrors, []);
  });

  it('a full batch exported while the page is visible is sent as keepalive, so the navigation that follows does not cancel it', async () => {
    // Export requests are held until the page has navigated, as a slow network would hold them.
    let release: () => void = () => {};
    const navigated = new Promise<void>((resolve) => (release = resolve));
    let firstExport: () => void = () => {};
    const exporting = new Promise<void>((resolve) => (firstExport = resolve));
    await page.route(sites.receiver.tracesUrl, async (route) => {
      firstExport();
      await navigated;
      // A request the navigation cancelled cannot be continued; that is the loss this test is about.
      await route.continue().catch(() => undefined);
    });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000 }));
    // 64 spans of about 1 KB: a full batch (maxExportBatchSize) goes out at once, about 60 KB.
    await page.evaluate(() => {
      for (let i = 0; i < 64; i++) window.otc.checkout.begin({ tradeNo: `T-${i}`, merchantId: `m-${i}-${'x'.repeat(800)}` }).end();
    });
    await exporting;
    await Promise.all([
      page.waitForURL(/other\.html/),
      page.evaluate((shop) => window.otc.checkout.begin({ tradeNo: 'T-leaving' }).redirect(`${shop}/other.html`, { watchdogMillis: 0 }), sites.shop.url),
    ]);
    release();
    await page.unroute(sites.receiver.tracesUrl);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const spans = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count: 65, timeoutMs: 10_000 });
    assert.equal(new Set(spans.map((s) => s.attributes['payment.trade_no'])).size, 65);
    await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect');
    assert.ok(sites.receiver.requests.every((r) => r.body.byteLength <= 30_000), `batches fit the keepalive budget two at a time: ${sites.receiver.requests.map((r) => r.body.byteLength).join(', ')}`);
  });

  it('flushes when the page is hidden (visibilitychange), before any timer', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000 }));
    await page.evaluate(() => {
      window.otc.checkout.begin({ tradeNo: 'T-hidden' }).end();
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const span = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-hidden', { timeoutMs: 5000 });
    assert.equal(span.name, 'payment.checkout');
  });

  it('a batch sent as the page is hidden that fails is kept for later, not dropped, and leaves when the page is visible again', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 600_000 }));
    sites.receiver.setResponse({ status: 503, times: 1 });
    const setVisibility = (state: string) =>
      page.evaluate((visibility) => {
        Object.defineProperty(document, 'visibilityState', { value: visibility, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await page.evaluate(() => window.otc.checkout.begin({ tradeNo: 'T-hidden-failed' }).end());
    await setVisibility('hidden');
    await page.waitForFunction(() => sessionStorage.getItem('otc.spill') !== null);
    const health = await page.evaluate(() => (window.otcHandle as { health(): Record<string, number> }).health());
    assert.equal(health.exportFailures, 1);
    assert.equal(health.spansDropped, 0, 'kept, not lost');
    await setVisibility('visible');
    const span = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-hidden-failed', { timeoutMs: 5000 });
    assert.equal(span.name, 'payment.checkout');
    assert.equal(sites.receiver.requests.length, 2, 'the failed request, then the one from the kept body');
  });

  it('ignores what the application rewrote under the spill key: no inflated counters, no entry that never expires, nothing past the bound', async () => {
    const body = (tradeNo: string) =>
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [] },
            scopeSpans: [
              {
                scope: { name: 'spill-test' },
                spans: [
                  {
                    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                    spanId: '00f067aa0ba902b7',
                    name: 'payment.checkout',
                    kind: 1,
                    // Started during this test: the session's receiver keeps no span started before it.
                    startTimeUnixNano: `${Date.now()}000000`,
                    endTimeUnixNano: `${Date.now() + 1}000000`,
                    attributes: [{ key: 'payment.trade_no', value: { stringValue: tradeNo } }],
                  },
                ],
              },
            ],
          },
        ],
      });
    const now = await page.evaluate(() => Date.now());
    const entries = [
      { at: now - 1000, count: 1, body: body('T-kept') },
      { at: now - 1000, count: null, body: body('T-count-null') },
      { at: now - 1000, count: 1e12, body: body('T-count-huge') },
      { at: now - 1000, count: -5, body: body('T-count-negative') },
      { at: now - 1000, count: '1', body: body('T-count-text') },
      { at: now - 1000, count: 1.5, body: body('T-count-fraction') },
      { at: now + 86_400_000, count: 1, body: body('T-from-the-future') },
      { at: 'yesterday', count: 1, body: body('T-at-text') },
      { at: now - 1000, count: 1, body: body('T-past-the-bound') + ' '.repeat(600_000) },
      { at: now - 1000, count: 1, body: 42 },
      'not an entry',
    ];
    await page.evaluate((text) => sessionStorage.setItem('otc.spill', text), JSON.stringify(entries));
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const span = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-kept', { timeoutMs: 5000 });
    assert.equal(span.name, 'payment.checkout');
    const health = await page.evaluate(async () => {
      const handle = window.otcHandle as { flush(): Promise<void>; health(): Record<string, number> };
      await handle.flush();
      return handle.health();
    });
    assert.equal(health.spansExported, 1, 'only the entry spill() could have written is counted');
    assert.equal(health.exportFailures, 0);
    assert.equal(sites.receiver.requests.length, 1, 'no rewritten entry was sent');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('otc.spill')), null, 'the key is taken once');
    assert.deepEqual(pageErrors, []);
  });

  it('with the collector failing or down: bounded queue, drops counted, one diagnostic, no unhandled rejection', async () => {
    sites.receiver.setResponse({ status: 503 });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { maxQueueSize: 20, maxExportBatchSize: 10 }));
    const health = await page.evaluate(async () => {
      const handle = window.otcHandle as { flush(): Promise<void>; health(): Record<string, number> };
      for (let i = 0; i < 200; i++) window.otc.checkout.begin({ tradeNo: `T-${i}` }).end();
      await handle.flush();
      return handle.health();
    });
    assert.equal(health.spansExported, 0);
    assert.equal(health.spansDropped, 200, 'every span is counted as dropped: full queue or refused export');
    assert.ok(health.exportFailures >= 1);
    assert.equal(health.queueLength, 0);

    // A collector that does not exist at all.
    const down = await newContext(browser);
    const other = await down.newPage();
    await other.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(other, tracingOptions('http://127.0.0.1:9/v1/traces', sites.api.url, { maxQueueSize: 5 }));
    const result = await other.evaluate(async () => {
      const handle = window.otcHandle as { flush(): Promise<void>; health(): Record<string, number> };
      for (let i = 0; i < 20; i++) window.otc.checkout.begin().end();
      await handle.flush();
      await new Promise((r) => setTimeout(r, 50));
      return { health: handle.health(), diagnostics: window.otc.diagnostics, unhandled: window.otc.unhandled };
    });
    await down.close();
    assert.equal(result.health.spansDropped, 20);
    assert.deepEqual(result.unhandled, []);
    assert.equal(result.diagnostics.length, 1, result.diagnostics.join('\n'));
    // A drop with no error behind it says so without a trailing "undefined".
    assert.match(result.diagnostics[0], /^warn: @otel-checkout\/web: spans dropped \(queue full\); further drops only counted$/);
    assert.deepEqual(pageErrors, []);
  });

  it('a collector that refuses an export is named by its HTTP status in the one diagnostic, never by what it answered', async () => {
    sites.receiver.setResponse({ status: 503 });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const result = await page.evaluate(async () => {
      const handle = window.otcHandle as { flush(): Promise<void>; health(): Record<string, number> };
      window.otc.checkout.begin({ tradeNo: 'T-refused-1' }).end();
      await handle.flush();
      window.otc.checkout.begin({ tradeNo: 'T-refused-2' }).end();
      await handle.flush();
      return { health: handle.health(), diagnostics: window.otc.diagnostics };
    });
    assert.equal(result.health.exportFailures, 2);
    assert.equal(result.health.spansDropped, 2);
    assert.deepEqual(result.diagnostics, ['warn: @otel-checkout/web: spans dropped (export failed: HTTP 503); further drops only counted']);
    assert.deepEqual(pageErrors, []);
  });

  it('a cross-origin collector that sends no CORS headers gives no answer the page may read: the diagnostic says so, and what it can be', async () => {
    // Another origin (its own port) that answers the preflight without allowing anything.
    const noCors = await startOtlpReceiver();
    try {
      await startInPage(page, tracingOptions(noCors.tracesUrl, sites.api.url));
      const result = await page.evaluate(async () => {
        const handle = window.otcHandle as { flush(): Promise<void>; health(): Record<string, number> };
        window.otc.checkout.begin({ tradeNo: 'T-no-cors' }).end();
        await handle.flush();
        return { health: handle.health(), diagnostics: window.otc.diagnostics, unhandled: window.otc.unhandled };
      });
      assert.equal(result.health.exportFailures, 1);
      assert.equal(result.health.spansDropped, 1);
      assert.deepEqual(result.diagnostics, [
        'warn: @otel-checkout/web: spans dropped (export failed: no response (network error, CORS or timeout)); further drops only counted',
      ]);
      assert.deepEqual(result.unhandled, []);
      assert.equal(noCors.spans.length, 0, 'the browser never sent the export itself');
      assert.deepEqual(pageErrors, []);
    } finally {
      await noCors.close();
    }
  });

  it('bounds the queue by bytes too: spans with huge values (a response quoted in an error) overflow into counted drops', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { scheduledDelayMillis: 60_000 }));
    const health = await page.evaluate(() => {
      const handle = window.otcHandle as { health(): Record<string, number> };
      // 300 KB each: about six fit the 2 MB bound, far below the 512 spans of maxQueueSize.
      for (let i = 0; i < 20; i++) window.otc.checkout.begin({ tradeNo: `T-${i}-${'x'.repeat(300_000)}` }).end();
      return handle.health();
    });
    assert.equal(health.queueLength, 6);
    assert.equal(health.spansDropped, 14);
  });

  it('a slow collector: export requests in flight stay bounded and the queue overflows into counted drops', async () => {
    sites.receiver.setResponse({ delayMs: 2000 });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { maxQueueSize: 50, maxExportBatchSize: 5, scheduledDelayMillis: 0 }));
    const health = await page.evaluate(async () => {
      for (let i = 0; i < 100; i++) {
        window.otc.checkout.begin().end();
        await new Promise((r) => setTimeout(r, 1));
      }
      return (window.otcHandle as { health(): Record<string, number> }).health();
    });
    assert.ok(health.queueLength <= 50);
    assert.ok(health.spansDropped > 0, 'with two slow requests in flight the bounded queue overflows and counts it');
    // At most two export requests in flight while the page is visible.
    assert.ok(sites.receiver.requests.length <= 2);
    sites.receiver.setResponse(undefined);
  });

  it('the exporter URL itself is never instrumented, even when it is in propagateTo', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { propagateTo: [sites.receiver.url, sites.api.url] }));
    await page.evaluate(() => {
      const flow = window.otc.checkout.begin();
      flow.end();
    });
    await flushPage(page);
    await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    for (const request of sites.receiver.requests) assert.equal(request.headers.traceparent, undefined);
    assert.equal(sites.receiver.spans.filter((s) => s.kindName === 'CLIENT').length, 0);
  });
});
