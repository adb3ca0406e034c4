import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import type { ReceivedSpan } from '@otel-checkout/test-support';
import { useChromiumSession } from '../harness/session.js';
import { TEST_PAN } from '../harness/sites.js';
import type { Sites } from '../harness/sites.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';

function byName(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.find((s) => s.name === name);
  assert.ok(found, `no span named ${name}; got ${spans.map((s) => s.name).join(', ')}`);
  return found;
}

describe('checkout journey in Chromium (click → SDK → backend → bank → return → query)', function () {
  this.timeout(30_000);
  let sites: Sites;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, context, page, pageErrors } = session);
  });

  /** Checkout page: start tracing, wire the Pay button, click it, land on the bank. */
  async function payAndReachBank(extra: Record<string, unknown> = {}, returnPath = '/return.html'): Promise<void> {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { stableUserId: 'user-1', canary: { salt: 'rollout-2026-11', percent: 50 }, ...extra }));
    await page.evaluate(
      ({ api, returnPath }) => {
        const { checkout } = window.otc;
        const sdk = {
          name: 'testbank-js',
          pay(this: { name: string }, order: { tradeNo: string; card: string }) {
            // The SDK sees itself as `this`; the card number goes in the body, which is never recorded.
            if (this.name !== 'testbank-js') throw new Error('wrong this');
            return fetch(`${api}/api/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...order, returnPath }) }).then(
              (r) => r.json() as Promise<{ redirect: string }>,
            );
          },
          validate(card: string) {
            throw new Error(`card ${card} failed the issuer check`);
          },
        };
        checkout.onClick(
          document.getElementById('pay')!,
          () => ({ method: 'online_banking', provider: 'testbank', amount: 1250, currency: 'EUR' }),
          (flow) => {
            const wrapped = flow.wrapSdk(sdk, { name: 'testbank-js', version: '3.1.0' });
            flow.setTradeNo('T-1001');
            const card = (document.getElementById('card') as HTMLInputElement).value;
            try {
              wrapped.validate(card);
            } catch {
              flow.retry('provider_error');
            }
            void fetch(`${api}/api/echo?pan=${card}`);
            void wrapped.pay({ tradeNo: 'T-1001', card }).then((answer) => flow.redirect(answer.redirect));
          },
        );
      },
      { api: sites.api.url, returnPath },
    );
    // As a shopper would, click once the page has painted: Chromium has then reported its
    // Largest Contentful Paint. Observers are called in the order they were registered, so
    // the library's (from startInPage) has seen the entry when this one resolves.
    await page.evaluate(
      () => new Promise<void>((resolve) => new PerformanceObserver(() => resolve()).observe({ type: 'largest-contentful-paint', buffered: true })),
    );
    await Promise.all([page.waitForURL(/\/bank\?/), page.click('#pay')]);
  }

  it('records one trace with the right parents, survives both navigations, and never exports the card number', async () => {
    await payAndReachBank();
    await Promise.all([page.waitForURL(/\/return\.html/), page.click('#confirm')]);
    // The flow token the backend minted, before resume() takes it out of the address bar.
    const token = new URL(page.url()).searchParams.get('otc_flow');
    assert.ok(token !== null && token.length >= 20, `a flow token on the return URL: ${page.url()}`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { stableUserId: 'user-1', canary: { salt: 'rollout-2026-11', percent: 50 } }));
    const outcome = await page.evaluate(async (api) => {
      const flow = await window.otc.checkout.resume({ verifyUrl: `${api}/api/verify` });
      return flow.poll(
        () => fetch(`${api}/api/status`).then((r) => r.json() as Promise<{ status: string }>),
        (r) => (r.status === 'succeeded' ? 'succeeded' : 'pending'),
        { intervalMillis: 10 },
      );
    }, sites.api.url);
    assert.equal(outcome, 'succeeded');
    assert.ok(!page.url().includes('otc_flow'), 'the token is removed from the visible URL');

    await flushPage(page);
    const query = await sites.receiver.waitForSpan((s) => s.name === 'payment.query', { timeoutMs: 10_000 });
    const spans = sites.receiver.spans.filter((s) => s.traceId === query.traceId);
    const checkout = byName(spans, 'payment.checkout');
    const pay = byName(spans, 'payment.sdk pay');
    const validate = byName(spans, 'payment.sdk validate');
    const redirect = byName(spans, 'payment.redirect');
    const ret = byName(spans, 'payment.return');
    const create = byName(spans, 'payment.create');

    // The browser half.
    assert.equal(checkout.parentSpanId, '');
    assert.equal(checkout.attributes['payment.stage'], 'checkout');
    assert.equal(checkout.attributes['payment.trade_no'], 'T-1001');
    assert.equal(checkout.attributes['payment.method'], 'online_banking');
    assert.equal(checkout.attributes['payment.amount'], 1250);
    assert.equal(checkout.attributes['payment.outcome'], 'pending');
    assert.equal(checkout.attributes['checkout.release'], 'web-1.2.3');
    assert.equal(checkout.attributes['checkout.canary.cohort'], 'canary');
    assert.equal(checkout.attributes['checkout.canary.bucket'], 47);
    assert.equal(checkout.attributes['payment.attempt'], 2);
    assert.ok(checkout.events.some((e) => e.name === 'payment.retry'));
    assert.equal(checkout.resource.attributes['service.name'], 'shop-web');
    // Page-ready figures of the checkout page, in seconds: load time (Navigation Timing) and
    // LCP, which Chromium reported before the click (payAndReachBank waits for it).
    const loadTime = checkout.attributes['checkout.page.load_time'];
    assert.ok(typeof loadTime === 'number' && loadTime > 0 && loadTime < 30, `checkout.page.load_time ${JSON.stringify(loadTime)}`);
    const lcp = checkout.attributes['checkout.page.lcp'];
    assert.ok(typeof lcp === 'number' && lcp > 0 && lcp < 30, `checkout.page.lcp ${JSON.stringify(lcp)}`);
    assert.equal(checkout.resource.attributes['service.version'], 'web-1.2.3');
    assert.equal(checkout.resource.attributes['deployment.environment.name'], 'test');
    assert.equal(pay.parentSpanId, checkout.spanId);
    assert.equal(pay.attributes['checkout.sdk.name'], 'testbank-js');
    assert.equal(pay.attributes['checkout.sdk.version'], '3.1.0');
    assert.equal(pay.attributes['payment.stage'], 'sdk');
    assert.equal(validate.status.codeName, 'ERROR');
    const sdkError = validate.events.find((e) => e.name === 'payment.sdk.error');
    assert.ok(sdkError, 'payment.sdk.error event');
    assert.equal(sdkError.attributes['checkout.sdk.name'], 'testbank-js');

    // The fetch inside the SDK call is its child, and the backend continued from it.
    const post = spans.find((s) => s.kindName === 'CLIENT' && s.parentSpanId === pay.spanId);
    assert.ok(post, 'client span of the SDK fetch');
    const server = spans.find((s) => s.parentSpanId === post.spanId);
    assert.ok(server, 'backend span under the browser request');
    assert.equal(server.resource.attributes['service.name'], 'checkout-api');
    assert.ok(create.parentSpanId === server.spanId || spans.some((s) => s.spanId === create.parentSpanId && s.parentSpanId === server.spanId));

    assert.equal(redirect.parentSpanId, checkout.spanId);
    assert.match(redirect.attributes['url.full'] as string, /\/bank\?return=/);
    // Same-tab handoff: the return page continues from the browser's redirect span.
    assert.equal(ret.parentSpanId, redirect.spanId);
    assert.equal(ret.attributes['payment.context.source'], 'handoff');
    assert.equal(ret.attributes['payment.trade_no'], 'T-1001');
    assert.equal(ret.attributes['payment.outcome'], 'succeeded');
    assert.equal(query.parentSpanId, ret.spanId);
    assert.equal(query.attributes['payment.outcome'], 'succeeded');
    const statusRequest = spans.find((s) => s.kindName === 'CLIENT' && s.parentSpanId === query.spanId);
    assert.ok(statusRequest, `the status fetch is a child of payment.query: ${spans.map((s) => `${s.name} ${s.spanId}<${s.parentSpanId}`).join('; ')}`);

    // The card number was there to leak: in a URL and in an SDK exception message, both redacted.
    const echo = spans.find((s) => s.kindName === 'CLIENT' && (s.attributes['url.full'] as string).includes('/api/echo'));
    assert.ok(echo, 'client span of the echo request');
    assert.match(echo.attributes['url.full'] as string, /pan=/);
    assert.match(sdkError.attributes['exception.message'] as string, /failed the issuer check/);

    // Privacy: no exported byte anywhere holds the card number or the flow token, as it is or
    // percent-encoded (payment.redirect's url.full holds the return URL inside a parameter).
    assert.match(redirect.attributes['url.full'] as string, /otc_flow/, 'the nested return URL is recorded, its token redacted');
    const secrets = [TEST_PAN, token, encodeURIComponent(token), encodeURIComponent(encodeURIComponent(token))];
    for (const request of sites.receiver.requests) {
      const text = Buffer.from(request.body).toString('utf8');
      for (const secret of secrets) assert.ok(!text.includes(secret), `${secret === TEST_PAN ? 'card number' : 'flow token'} in an export`);
    }
    assert.deepEqual(pageErrors, []);
  });

  /** The return URL the backend minted, as the bank page holds it. */
  async function returnUrlAtBank(): Promise<string> {
    return page.evaluate(() => new URL(location.href).searchParams.get('return')!);
  }

  /** Opens `url` in a new tab (no same-tab handoff there), starts tracing and resumes; returns the new tab. */
  async function resumeInNewTab(url: string, resume: Record<string, unknown>): Promise<Page> {
    const tab = await context.newPage();
    await tab.goto(url);
    await startInPage(tab, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await tab.evaluate(async (options) => {
      const flow = await window.otc.checkout.resume(options);
      flow.end();
    }, resume);
    await flushPage(tab);
    return tab;
  }

  async function backendCreate(): Promise<ReceivedSpan> {
    await flushPage(page).catch(() => undefined);
    return sites.receiver.waitForSpan((s) => s.name === 'payment.create', { timeoutMs: 10_000 });
  }

  it('a server-rendered <meta name="traceparent"> (token verified by the server) continues from payment.create', async () => {
    await payAndReachBank({}, '/return-meta.html');
    const url = await returnUrlAtBank();
    const create = await backendCreate();
    const tab = await resumeInNewTab(url, {});
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.attributes['payment.context.source'], 'meta');
    assert.equal(ret.traceId, create.traceId);
    assert.equal(ret.parentSpanId, create.spanId);
    assert.ok(!tab.url().includes('otc_flow'));
  });

  it('a reload of a return page that the server linked (the token gone from the address by then) continues from payment.create too', async () => {
    await payAndReachBank({}, '/return-meta.html');
    const url = await returnUrlAtBank();
    const create = await backendCreate();
    const tab = await resumeInNewTab(url, {});
    await tab.reload();
    await startInPage(tab, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await tab.evaluate(async () => (await window.otc.checkout.resume()).end());
    await flushPage(tab);
    const returns = await sites.receiver.waitForSpans((s) => s.name === 'payment.return', { count: 2 });
    assert.deepEqual(returns.map((r) => r.attributes['payment.context.source']).sort(), ['meta', 'reload']);
    for (const ret of returns) {
      assert.equal(ret.traceId, create.traceId);
      assert.equal(ret.parentSpanId, create.spanId);
    }
  });

  it('a URL token the backend verified continues from payment.create', async () => {
    await payAndReachBank();
    const url = await returnUrlAtBank();
    const create = await backendCreate();
    await resumeInNewTab(url, { verifyUrl: `${sites.api.url}/api/verify` });
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.attributes['payment.context.source'], 'verified_token');
    assert.equal(ret.parentSpanId, create.spanId);
    assert.equal(ret.traceId, create.traceId);
    assert.equal(ret.attributes['payment.context.rejected'], undefined);
  });

  it('an unverified URL token (no verify handler) is a link with payment.context.rejected = unverified, never a parent', async () => {
    await payAndReachBank();
    const url = await returnUrlAtBank();
    const create = await backendCreate();
    await resumeInNewTab(url, {});
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.parentSpanId, '');
    assert.notEqual(ret.traceId, create.traceId);
    assert.equal(ret.attributes['payment.context.source'], 'none');
    assert.equal(ret.attributes['payment.context.rejected'], 'unverified');
    assert.equal(ret.links.length, 1);
    assert.equal(ret.links[0].traceId, create.traceId);
    assert.equal(ret.links[0].spanId, create.spanId);
    assert.equal(ret.links[0].attributes['payment.context.rejected'], 'unverified');
  });

  it('a forged token is refused by the verify handler: a link with its reason, a new trace', async () => {
    const victim = { traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8) };
    const forged = sites.mintToken({ ...victim, secret: 'not-the-server-secret-at-all' });
    await resumeInNewTab(`${sites.shop.url}/return.html?otc_flow=${forged}`, { verifyUrl: `${sites.api.url}/api/verify` });
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.notEqual(ret.traceId, victim.traceId);
    assert.equal(ret.parentSpanId, '');
    assert.equal(ret.attributes['payment.context.rejected'], 'bad_signature');
    assert.deepEqual(
      ret.links.map((l) => [l.traceId, l.spanId, l.attributes['payment.context.rejected']]),
      [[victim.traceId, victim.spanId, 'bad_signature']],
    );
  });

  it('an expired token is not even sent for verification; a corrupt token is malformed and not linked', async () => {
    const old = sites.mintToken({ traceId: 'cc'.repeat(16), spanId: 'dd'.repeat(8), issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    await resumeInNewTab(`${sites.shop.url}/return.html?otc_flow=${old}`, { verifyUrl: `${sites.api.url}/api/verify` });
    const expired = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(expired.attributes['payment.context.rejected'], 'expired');
    assert.equal(expired.parentSpanId, '');
    sites.receiver.clear({ ignoreSpansStartedBefore: Date.now() });
    await resumeInNewTab(`${sites.shop.url}/return.html?otc_flow=%%not-a-token%%`, { verifyUrl: `${sites.api.url}/api/verify` });
    const corrupt = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(corrupt.attributes['payment.context.rejected'], 'malformed');
    assert.equal(corrupt.links.length, 0);
    assert.equal(corrupt.parentSpanId, '');
    assert.deepEqual(pageErrors, []);
  });

  it('with sessionStorage disabled: no exception, the verified token still joins the trace, and a return with nothing carried records storage_unavailable', async () => {
    await context.addInitScript(() => {
      Object.defineProperty(window, 'sessionStorage', {
        get() {
          throw new DOMException('storage is disabled', 'SecurityError');
        },
      });
    });
    await payAndReachBank();
    const url = await returnUrlAtBank();
    const create = await backendCreate();
    const tab = await resumeInNewTab(url, { verifyUrl: `${sites.api.url}/api/verify` });
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.attributes['payment.context.source'], 'verified_token');
    assert.equal(ret.parentSpanId, create.spanId);
    sites.receiver.clear();
    await tab.goto(`${sites.shop.url}/return.html`);
    await startInPage(tab, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await tab.evaluate(async () => (await window.otc.checkout.resume()).end());
    await flushPage(tab);
    const bare = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(bare.attributes['payment.context.rejected'], 'storage_unavailable');
    assert.deepEqual(pageErrors, []);
  });

  it('records page_load_failed when the page is still visible after the redirect should have left it', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate((shop) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-slow', method: 'credit' });
      flow.redirect(`${shop}/slow.html`, { watchdogMillis: 300 });
    }, sites.shop.url);
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout', { timeoutMs: 5000 });
    assert.equal(checkout.attributes['payment.failure.reason'], 'page_load_failed');
    assert.equal(checkout.attributes['payment.outcome'], 'failed');
    assert.equal(checkout.status.codeName, 'ERROR');
    const redirect = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect');
    assert.equal(redirect.parentSpanId, checkout.spanId);
  });

  it('a watchdog delay no timer can wait (Infinity, NaN, past 2^31 - 1 ms) arms no watchdog, rather than one that fires at once', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    // The SDK navigates by itself, later than the watchdogs below: every flow is still redirecting.
    await page.evaluate(async () => {
      const flows = [Infinity, Number.NaN, 2 ** 31].map((watchdogMillis, i) => {
        const flow = window.otc.checkout.begin({ tradeNo: `T-never-${i}` });
        void flow.prepareRedirect({ watchdogMillis });
        return flow;
      });
      window.neverWatched = flows;
      await window.otc.checkout.begin({ tradeNo: 'T-watched' }).prepareRedirect({ watchdogMillis: 50 });
    });
    // Timers run in the order they are due: once the 50 ms watchdog has fired, one set to fire at once would have too.
    const watched = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-watched', { timeoutMs: 5000 });
    assert.equal(watched.attributes['payment.failure.reason'], 'page_load_failed');
    await page.evaluate(() => {
      for (const flow of window.neverWatched as Array<ReturnType<typeof window.otc.checkout.begin>>) flow.end();
    });
    await flushPage(page);
    const never = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout' && /^T-never-/.test(s.attributes['payment.trade_no'] as string), { count: 3 });
    for (const span of never) {
      assert.equal(span.attributes['payment.outcome'], 'pending', JSON.stringify(span.attributes['payment.trade_no']));
      assert.equal(span.attributes['payment.failure.reason'], undefined);
    }
    assert.deepEqual(pageErrors, []);
  });

  it('with sessionStorage full the redirect still navigates and the verified token joins the trace', async () => {
    await context.addInitScript(() => {
      Storage.prototype.setItem = () => {
        throw new DOMException('quota exceeded', 'QuotaExceededError');
      };
    });
    await payAndReachBank();
    await Promise.all([page.waitForURL(/\/return\.html/), page.click('#confirm')]);
    const create = await backendCreate();
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async (api) => (await window.otc.checkout.resume({ verifyUrl: `${api}/api/verify` })).end(), sites.api.url);
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.attributes['payment.context.source'], 'verified_token');
    assert.equal(ret.parentSpanId, create.spanId);
    assert.deepEqual(pageErrors, []);
  });

  it('an expired same-tab handoff is refused (expired) and the return starts a new trace', async () => {
    await page.goto(`${sites.shop.url}/return.html`);
    await page.evaluate(() => {
      const old = Date.now() - 3_600_000;
      sessionStorage.setItem('otc.handoff', JSON.stringify({ v: 1, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), flags: 1, at: old, exp: old + 1_800_000, details: { tradeNo: 'T-old' } }));
    });
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async () => (await window.otc.checkout.resume()).end());
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    assert.equal(ret.attributes['payment.context.rejected'], 'expired');
    assert.notEqual(ret.traceId, 'ab'.repeat(16));
    assert.equal(ret.parentSpanId, '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('otc.handoff')), null, 'a handoff is used once');
  });

  it('a relative redirect URL is recorded absolute, as the browser resolves it (a <base> element included), its flow token still redacted', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await Promise.all([
      page.waitForURL(/\/other\.html\?/),
      page.evaluate(() => window.otc.checkout.begin({ tradeNo: 'T-relative' }).redirect('/other.html?otc_flow=secret-flow-token&step=2')),
    ]);
    const landed = page.url();

    // A page whose <base> points elsewhere: location.assign resolves against it, as fetch does.
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await Promise.all([
      page.waitForURL(/\/bank\?/),
      page.evaluate((bank) => {
        const base = document.createElement('base');
        base.href = `${bank}/`;
        document.head.append(base);
        window.otc.checkout.begin({ tradeNo: 'T-base' }).redirect('bank?return=somewhere');
      }, sites.bank.url),
    ]);
    const landedWithBase = page.url();

    const relative = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect' && s.attributes['payment.trade_no'] === 'T-relative');
    const withBase = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect' && s.attributes['payment.trade_no'] === 'T-base');
    assert.equal(landed, `${sites.shop.url}/other.html?otc_flow=secret-flow-token&step=2`);
    assert.equal(relative.attributes['url.full'], `${sites.shop.url}/other.html?otc_flow=REDACTED&step=2`);
    assert.equal(landedWithBase, `${sites.bank.url}/bank?return=somewhere`);
    assert.equal(withBase.attributes['url.full'], landedWithBase);
    for (const request of sites.receiver.requests) assert.ok(!Buffer.from(request.body).toString('utf8').includes('secret-flow-token'), 'the token in an export');
    assert.deepEqual(pageErrors, []);
  });

  it('the attempt a handoff record carries is taken only when it is a small positive integer; anything else is the first attempt', async () => {
    // [attempt written to the record, attempt the return page's query records]
    const cases: [unknown, number][] = [
      [3, 3],
      [1000, 1000],
      [0, 1],
      [-2, 1],
      [2.5, 1],
      ['4', 1],
      [1001, 1],
      [Number.MAX_SAFE_INTEGER, 1],
      [null, 1],
      [[5], 1],
    ];
    const seen: unknown[] = [];
    for (const [index, [attempt]] of cases.entries()) {
      const traceId = `${(index + 1).toString(16).padStart(2, '0')}`.repeat(16);
      await page.goto(`${sites.shop.url}/return.html`);
      await page.evaluate(
        ({ traceId, attempt }) => {
          const now = Date.now();
          sessionStorage.setItem('otc.handoff', JSON.stringify({ v: 1, traceId, spanId: 'cd'.repeat(8), flags: 1, at: now, exp: now + 60_000, details: {}, attempt }));
        },
        { traceId, attempt },
      );
      await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
      await page.evaluate(async () => {
        const flow = await window.otc.checkout.resume();
        await flow.query(() => Promise.resolve('pending'));
        flow.end();
      });
      await flushPage(page);
      const query = await sites.receiver.waitForSpan((s) => s.name === 'payment.query' && s.traceId === traceId);
      seen.push(query.attributes['payment.attempt']);
    }
    assert.deepEqual(seen, cases.map(([, expected]) => expected));
    assert.deepEqual(pageErrors, []);
  });

  it('poll is not a retry (payment.attempt stays), and a polled failure ends the flow failed with ERROR status but no reason', async () => {
    await page.goto(`${sites.shop.url}/return.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async () => {
      const { checkout } = window.otc;
      const failed = checkout.begin({ tradeNo: 'T-poll-failed' });
      let queries = 0;
      await failed.poll(() => Promise.resolve(++queries), (n) => (n >= 3 ? 'failed' : 'pending'), { intervalMillis: 1 });
      const retried = checkout.begin({ tradeNo: 'T-poll-retried' });
      await retried.poll(() => Promise.resolve(0), () => 'pending', { intervalMillis: 1, maxAttempts: 3 });
      retried.retry('provider_error');
      retried.fail('provider_error');
    });
    await flushPage(page);
    const roots = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count: 2 });
    const failed = roots.find((s) => s.attributes['payment.trade_no'] === 'T-poll-failed')!;
    assert.equal(failed.attributes['payment.outcome'], 'failed');
    // The page learns that the payment failed, not why: a decline is not a provider's error.
    assert.equal(failed.attributes['payment.failure.reason'], undefined);
    assert.equal(failed.status.codeName, 'ERROR');
    const queries = sites.receiver.spans.filter((s) => s.name === 'payment.query' && s.parentSpanId === failed.spanId);
    assert.deepEqual(queries.map((q) => q.attributes['payment.attempt']), [1, 1, 1]);
    const retried = roots.find((s) => s.attributes['payment.trade_no'] === 'T-poll-retried')!;
    assert.equal(retried.attributes['payment.attempt'], 2, 'three queries and one retry: the second attempt');
    assert.deepEqual(retried.events.find((e) => e.name === 'payment.retry')!.attributes, { 'payment.attempt': 2, 'payment.failure.reason': 'provider_error' });
  });

  it('contextsRejected counts refused contexts only: nothing carried is recorded as missing but not counted', async () => {
    await page.goto(`${sites.shop.url}/return.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const missing = await page.evaluate(async () => {
      (await window.otc.checkout.resume()).end();
      return (window.otcHandle as { health(): Record<string, number> }).health().contextsRejected;
    });
    const forged = sites.mintToken({ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), secret: 'not-the-server-secret-at-all' });
    await page.goto(`${sites.shop.url}/return.html?otc_flow=${forged}`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const refused = await page.evaluate(async (api) => {
      (await window.otc.checkout.resume({ verifyUrl: `${api}/api/verify` })).end();
      return (window.otcHandle as { health(): Record<string, number> }).health().contextsRejected;
    }, sites.api.url);
    assert.deepEqual([missing, refused], [0, 1]);
    await flushPage(page);
    const returns = await sites.receiver.waitForSpans((s) => s.name === 'payment.return', { count: 2 });
    assert.deepEqual(returns.map((s) => s.attributes['payment.context.rejected']).sort(), ['bad_signature', 'missing']);
  });

  it('an amount that is not an integer in minor units is left out, with one warning for the page', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const diagnostics = await page.evaluate(() => {
      const { checkout } = window.otc;
      checkout.begin({ tradeNo: 'T-decimal', amount: 42.5, currency: 'EUR' }).end();
      const later = checkout.begin({ tradeNo: 'T-later', currency: 'EUR' });
      later.set({ amount: Number.NaN });
      later.set({ amount: 4250 });
      later.end();
      return window.otc.diagnostics;
    });
    await flushPage(page);
    const roots = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout', { count: 2 });
    assert.equal(roots.find((s) => s.attributes['payment.trade_no'] === 'T-decimal')!.attributes['payment.amount'], undefined);
    assert.equal(roots.find((s) => s.attributes['payment.trade_no'] === 'T-later')!.attributes['payment.amount'], 4250);
    assert.deepEqual(diagnostics, ['warn: @otel-checkout/web: amount (number) is not an integer in minor units; ignored']);
  });

  it('prepareRedirect: an SDK that navigates by itself still hands the flow over to the return page', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await Promise.all([
      page.waitForURL(/\/return\.html/),
      page.evaluate(async (shop) => {
        const flow = window.otc.checkout.begin({ tradeNo: 'T-self', method: 'wallet' });
        const sdk = flow.wrapSdk({ open: (url: string) => setTimeout(() => (location.href = url), 0) }, { name: 'wallet-js' });
        await flow.prepareRedirect();
        sdk.open(`${shop}/return.html`);
      }, sites.shop.url),
    ]);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async () => (await window.otc.checkout.resume()).succeed());
    await flushPage(page);
    const ret = await sites.receiver.waitForSpan((s) => s.name === 'payment.return');
    const redirect = await sites.receiver.waitForSpan((s) => s.name === 'payment.redirect');
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-self');
    assert.equal(ret.parentSpanId, redirect.spanId);
    assert.equal(redirect.parentSpanId, checkout.spanId);
    assert.equal(ret.attributes['payment.trade_no'], 'T-self');
    assert.equal(ret.attributes['payment.outcome'], 'succeeded');
    assert.equal(checkout.attributes['payment.outcome'], 'pending');
  });

  it('a double-click on Pay is one flow: the second click runs the page’s handler again, in the flow the first click began', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate((api) => {
      const flows: Array<ReturnType<typeof window.otc.checkout.begin>> = [];
      const requests: Array<Promise<unknown>> = [];
      window.clickFlows = flows;
      window.clickRequests = requests;
      window.detailsCalls = 0;
      window.otc.checkout.onClick(
        document.getElementById('pay')!,
        () => {
          (window.detailsCalls as number) += 1;
          return { tradeNo: 'T-double', method: 'card' };
        },
        (flow) => {
          flows.push(flow);
          flow.run(() => requests.push(fetch(`${api}/api/echo`)));
        },
      );
    }, sites.api.url);
    await page.dblclick('#pay');
    // A click on its own later (click count 1 again) is a new intent: a flow of its own.
    await page.click('#pay');
    const { calls, sameFlow, laterIsNew, detailsCalls } = await page.evaluate(async () => {
      await Promise.all(window.clickRequests as Array<Promise<unknown>>);
      const flows = window.clickFlows as Array<ReturnType<typeof window.otc.checkout.begin>>;
      const answer = { calls: flows.length, sameFlow: flows[0] === flows[1], laterIsNew: flows[2]?.traceId !== flows[0]?.traceId, detailsCalls: window.detailsCalls };
      for (const flow of flows) flow.cancel();
      return answer;
    });
    assert.equal(calls, 3, 'the page’s handler ran for every click');
    assert.equal(detailsCalls, 2, 'the details hook ran once per flow begun, not for the double-click’s second click');
    assert.equal(sameFlow, true, 'the double-click’s second click got the flow the first began');
    assert.equal(laterIsNew, true, 'a later single click begins a flow of its own');
    await flushPage(page);
    const checkouts = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-double', { count: 2 });
    const requestsIn = (checkout: ReceivedSpan): number => sites.receiver.spans.filter((s) => s.traceId === checkout.traceId && s.kindName === 'CLIENT').length;
    assert.deepEqual(checkouts.map(requestsIn).sort(), [1, 2], 'the double-click’s two requests in one trace, the later click’s in another');
    const doubled = checkouts.find((s) => requestsIn(s) === 2)!;
    assert.equal(doubled.attributes['payment.attempt'], undefined, 'a double-click is not a retry');
    assert.deepEqual(doubled.events.map((e) => e.name), []);
    const all = sites.receiver.spans.filter((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-double');
    assert.equal(all.length, 2, 'no third payment.checkout');
  });

  it('page load time and LCP go on the first checkout of a page load only: a single-page app’s later checkouts do not repeat them', async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(
      () => new Promise<void>((resolve) => new PerformanceObserver(() => resolve()).observe({ type: 'largest-contentful-paint', buffered: true })),
    );
    await page.evaluate(async () => {
      window.otc.checkout.begin({ tradeNo: 'T-spa-1' }).fail('card_declined');
      // The app changes route without a page load; the shopper pays again later.
      history.pushState(null, '', '/checkout/again');
      await new Promise((resolve) => setTimeout(resolve, 20));
      window.otc.checkout.begin({ tradeNo: 'T-spa-2' }).succeed();
    });
    await flushPage(page);
    const [first, second] = await Promise.all(['T-spa-1', 'T-spa-2'].map((no) => sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === no)));
    assert.equal(typeof first.attributes['checkout.page.load_time'], 'number');
    assert.equal(typeof first.attributes['checkout.page.lcp'], 'number');
    assert.equal(second.attributes['checkout.page.load_time'], undefined);
    assert.equal(second.attributes['checkout.page.lcp'], undefined);
  });
});
