import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useChromiumSession } from '../harness/session.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';
import { TEST_PAN } from '../harness/sites.js';
import type { Sites } from '../harness/sites.js';

interface Echo {
  traceparent: string | null;
  baggage: string | null;
}

describe('propagation, concurrency and never breaking the page, in Chromium', function () {
  this.timeout(30_000);
  let sites: Sites;
  let page: Page;
  let pageErrors: string[];

  useChromiumSession((session) => {
    ({ sites, page, pageErrors } = session);
  });
  beforeEach(async () => {
    await page.goto(`${sites.shop.url}/checkout.html`);
  
  });

  it('fetch and XHR to propagateTo carry the flow context and the release/cohort baggage; other requests carry nothing', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { stableUserId: 'user-1', canary: { salt: 'rollout-2026-11', percent: 5 } }));
    const seen = await page.evaluate(async (api) => {
      const echo = (url: string) => fetch(url, { method: 'POST', body: '{}' }).then((r) => r.json() as Promise<Echo>);
      const xhr = (url: string) =>
        new Promise<Echo>((resolve) => {
          const request = new XMLHttpRequest();
          request.open('POST', url);
          request.onload = () => resolve(JSON.parse(request.responseText) as Echo);
          request.send('{}');
        });
      const before = await echo(`${api}/api/echo`);
      const flow = window.otc.checkout.begin({ tradeNo: 'T-prop' });
      const withFlow = await echo(`${api}/api/echo`);
      const withXhr = await xhr(`${api}/api/echo`);
      const withRequest = await fetch(new Request(`${api}/api/echo`, { method: 'POST', body: '{}', headers: { 'x-app': '1' } })).then((r) => r.json() as Promise<Echo>);
      const unrelated = await echo('/echo');
      flow.end();
      const after = await echo(`${api}/api/echo`);
      return { before, withFlow, withXhr, withRequest, unrelated, after, traceId: flow.traceId };
    }, sites.api.url);
    assert.equal(seen.before.traceparent, null, 'no flow, no context');
    assert.equal(seen.after.traceparent, null, 'ended flow, no context');
    assert.deepEqual(seen.unrelated, { traceparent: null, baggage: null }, 'a URL outside propagateTo is untouched');
    for (const echo of [seen.withFlow, seen.withXhr, seen.withRequest]) {
      assert.match(String(echo.traceparent), new RegExp(`^00-${seen.traceId}-[0-9a-f]{16}-01$`));
      assert.equal(echo.baggage, 'checkout.release=web-1.2.3,checkout.canary.cohort=stable');
    }
    await flushPage(page);
    const clients = await sites.receiver.waitForSpans((s) => s.kindName === 'CLIENT', { count: 3 });
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    for (const client of clients) {
      assert.equal(client.parentSpanId, checkout.spanId);
      assert.equal(client.name, 'POST');
      assert.equal(client.attributes['http.request.method'], 'POST');
      assert.equal(client.attributes['http.response.status_code'], 200);
      assert.equal(client.attributes['server.address'], '127.0.0.1');
    }
    // The span id each request carried is its CLIENT span's.
    const carried = [seen.withFlow, seen.withXhr, seen.withRequest].map((e) => String(e.traceparent).split('-')[2]).sort();
    assert.deepEqual(carried, clients.map((c) => c.spanId).sort());
  });

  it('a no-cors fetch (init.mode or a Request’s mode), which cannot carry the headers, is left alone: no CLIENT span claims it propagated', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(async (api) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-no-cors' });
      await fetch(`${api}/api/echo?no-cors-init`, { mode: 'no-cors', method: 'POST', body: '{}' });
      await fetch(new Request(`${api}/api/echo?no-cors-request`, { mode: 'no-cors' }));
      // A Request's mode is overridden by the init's, as fetch reads them.
      await fetch(new Request(`${api}/api/echo?cors-init`, { mode: 'no-cors' }), { mode: 'cors' });
      await fetch(`${api}/api/echo?cors`);
      flow.end();
    }, sites.api.url);
    await flushPage(page);
    const clients = await sites.receiver.waitForSpans((s) => s.kindName === 'CLIENT', { count: 2 });
    await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    assert.deepEqual(clients.map((s) => new URL(s.attributes['url.full'] as string).search).sort(), ['?cors', '?cors-init']);
    assert.deepEqual(pageErrors, []);
  });

  it('the page’s own baggage (another tool’s sampling context) is kept beside ours on fetch, as on XHR; its own traceparent gives way to the flow’s, on XHR too, and goes out untouched when the request is not traced', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const seen = await page.evaluate(async (api) => {
      const theirs = { baggage: 'sentry-trace_id=abc,sentry-environment=prod', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
      const echo = (request: Promise<Response>) => request.then((r) => r.json() as Promise<Echo>);
      const flow = window.otc.checkout.begin({ tradeNo: 'T-baggage' });
      const plain = await echo(fetch(`${api}/api/echo`, { method: 'POST', headers: theirs }));
      const headers = await echo(fetch(`${api}/api/echo`, { method: 'POST', headers: new Headers(theirs) }));
      const request = await echo(fetch(new Request(`${api}/api/echo`, { method: 'POST', headers: theirs })));
      const xhr = await new Promise<Echo>((resolve) => {
        const r = new XMLHttpRequest();
        r.open('POST', `${api}/api/echo`);
        r.setRequestHeader('baggage', theirs.baggage);
        r.setRequestHeader('TraceParent', theirs.traceparent);
        r.onload = () => resolve(JSON.parse(r.responseText) as Echo);
        r.send();
      });
      flow.end();
      // Not traced (no flow now): the page's own traceparent goes out as the page set it.
      const untraced = await new Promise<Echo>((resolve) => {
        const r = new XMLHttpRequest();
        r.open('POST', `${api}/api/echo`);
        r.setRequestHeader('traceparent', theirs.traceparent);
        r.onload = () => resolve(JSON.parse(r.responseText) as Echo);
        r.send();
      });
      // A header set after send() still throws, as XHR says it must.
      const late = new XMLHttpRequest();
      late.open('POST', `${api}/api/echo`);
      late.send();
      let lateError = 'none';
      try {
        late.setRequestHeader('traceparent', theirs.traceparent);
      } catch (error) {
        lateError = (error as Error).name;
      }
      return { plain, headers, request, xhr, untraced, lateError, theirs: theirs.traceparent, traceId: flow.traceId };
    }, sites.api.url);
    for (const [how, echo] of Object.entries({ plain: seen.plain, headers: seen.headers, request: seen.request, xhr: seen.xhr })) {
      assert.equal(echo.baggage, 'sentry-trace_id=abc,sentry-environment=prod, checkout.release=web-1.2.3', how);
      assert.match(String(echo.traceparent), new RegExp(`^00-${seen.traceId}-[0-9a-f]{16}-01$`), how);
    }
    assert.equal(seen.untraced.traceparent, seen.theirs);
    assert.equal(seen.lateError, 'InvalidStateError');
  });

  it('an XHR whose own onload or onreadystatechange ends the flow still records its status, and no span ends twice', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const diagnostics = await page.evaluate(async (api) => {
      const { checkout } = window.otc;
      // The page's handler set after open(), and one set before it (ours cannot run first there).
      await new Promise<void>((resolve) => {
        const flow = checkout.begin({ tradeNo: 'T-onload' });
        const request = new XMLHttpRequest();
        request.open('GET', `${api}/api/status`);
        request.onload = () => {
          flow.succeed();
          resolve();
        };
        request.send();
      });
      await new Promise<void>((resolve) => {
        const flow = checkout.begin({ tradeNo: 'T-readystate' });
        const request = new XMLHttpRequest();
        request.onreadystatechange = () => {
          if (request.readyState !== 4) return;
          flow.fail('provider_error');
          resolve();
        };
        request.open('GET', `${api}/api/missing`);
        request.send();
      });
      await (window.otcHandle as { flush(): Promise<void> }).flush();
      return window.otc.diagnostics;
    }, sites.api.url);
    // This test's own spans only: a span of an earlier test may still arrive.
    const tradeNos = ['T-onload', 'T-readystate'];
    const roots = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout' && tradeNos.includes(s.attributes['payment.trade_no'] as string), { count: 2 });
    const rootIds = new Set(roots.map((root) => root.spanId));
    const clients = await sites.receiver.waitForSpans((s) => s.kindName === 'CLIENT' && rootIds.has(s.parentSpanId ?? ''), { count: 2 });
    for (const [tradeNo, status] of [['T-onload', 200], ['T-readystate', 404]] as const) {
      const root = roots.find((s) => s.attributes['payment.trade_no'] === tradeNo)!;
      const client = clients.find((s) => s.parentSpanId === root.spanId);
      assert.ok(client, `client span of ${tradeNo}`);
      assert.equal(client.attributes['http.response.status_code'], status);
    }
    assert.equal(clients.find((s) => s.attributes['http.response.status_code'] === 404)!.status.codeName, 'ERROR');
    assert.deepEqual(diagnostics, [], 'nothing written to or ended on an ended span');
  });

  it('a request the browser refuses leaves no span open: an XHR sent twice, a synchronous XHR that fails', async () => {
    // A closed port among the targets: the synchronous request there fails as it is sent.
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { propagateTo: [sites.api.url, 'http://127.0.0.1:1'] }));
    const thrown = await page.evaluate(async (api) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-refused' });
      const errors: string[] = [];
      const twice = new XMLHttpRequest();
      twice.open('GET', `${api}/api/status`);
      await new Promise<void>((resolve) => {
        twice.onloadend = () => resolve();
        twice.send();
        try {
          twice.send(); // the page's own bug: the browser refuses a second send
        } catch (error) {
          errors.push((error as Error).name);
        }
      });
      const sync = new XMLHttpRequest();
      sync.open('GET', 'http://127.0.0.1:1/unreachable', false);
      try {
        sync.send(); // synchronous, to a closed port: throws before any loadend
      } catch (error) {
        errors.push((error as Error).name);
      }
      flow.succeed();
      await (window.otcHandle as { flush(): Promise<void> }).flush();
      return errors;
    }, sites.api.url);
    assert.deepEqual(thrown, ['InvalidStateError', 'NetworkError'], 'the page sees exactly what it would without tracing');
    const root = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.attributes['payment.trade_no'] === 'T-refused');
    // The first send's request and the failed synchronous request; the refused second send
    // sent nothing, and an XHR is traced once per open().
    const clients = await sites.receiver.waitForSpans((s) => s.kindName === 'CLIENT' && s.parentSpanId === root.spanId, { count: 2 });
    assert.deepEqual(clients.map((s) => s.status.codeName).sort(), ['ERROR', 'UNSET']);
    assert.equal(sites.receiver.spans.filter((s) => s.kindName === 'CLIENT' && s.parentSpanId === root.spanId).length, 2, 'no span for the refused send');
  });

  it('a flow ended inside its own query ends the query span once', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const diagnostics = await page.evaluate(async () => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-ended-in-query' });
      await flow.query(() => {
        flow.succeed();
        return Promise.resolve('PAID');
      });
      await (window.otcHandle as { flush(): Promise<void> }).flush();
      return window.otc.diagnostics;
    });
    await sites.receiver.waitForSpan((s) => s.name === 'payment.query');
    assert.deepEqual(diagnostics.filter((d) => d.includes('end()')), [], diagnostics.join('\n'));
  });

  it('fetch with an object that stringifies to a URL is matched on that URL, as fetch reads it', async () => {
    // propagateTo: the page's own origin only; the API is another origin.
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.shop.url));
    const seen = await page.evaluate(async (api) => {
      const flow = window.otc.checkout.begin();
      const echo = (input: unknown) => fetch(input as string).then((r) => r.json() as Promise<Echo>);
      const crossOrigin = await echo({ toString: () => `${api}/api/echo` });
      const sameOrigin = await echo({ toString: () => '/echo' });
      const url = await echo(new URL('/echo', location.href));
      flow.end();
      return { crossOrigin, sameOrigin, url, traceId: flow.traceId };
    }, sites.api.url);
    assert.deepEqual(seen.crossOrigin, { traceparent: null, baggage: null }, 'another origin is never touched');
    assert.match(String(seen.sameOrigin.traceparent), new RegExp(`^00-${seen.traceId}-`));
    assert.match(String(seen.url.traceparent), new RegExp(`^00-${seen.traceId}-`));
  });

  it('a relative URL is resolved against the document base URL, as fetch and XHR resolve it: a <base> on another origin gets nothing', async () => {
    // propagateTo left at its default, the page's own origin; `<base>` points at the API's origin.
    await startInPage(page, { ...tracingOptions(sites.receiver.tracesUrl, sites.api.url), propagateTo: undefined });
    const seen = await page.evaluate(async (api) => {
      const echo = (url: string) => fetch(url).then((r) => r.json() as Promise<Echo>);
      const xhr = (url: string) =>
        new Promise<Echo>((resolve) => {
          const request = new XMLHttpRequest();
          request.open('GET', url);
          request.onload = () => resolve(JSON.parse(request.responseText) as Echo);
          request.send();
        });
      const flow = window.otc.checkout.begin({ tradeNo: 'T-base' });
      const base = document.createElement('base');
      base.href = `${api}/`;
      document.head.prepend(base);
      const viaFetch = await echo('api/echo');
      const viaXhr = await xhr('api/echo');
      base.remove();
      const sameOrigin = await echo('echo');
      const sameOriginXhr = await xhr('echo');
      flow.end();
      return { viaFetch, viaXhr, sameOrigin, sameOriginXhr, traceId: flow.traceId };
    }, sites.api.url);
    assert.deepEqual(seen.viaFetch, { traceparent: null, baggage: null }, 'fetch to the <base> origin is untouched');
    assert.deepEqual(seen.viaXhr, { traceparent: null, baggage: null }, 'XHR to the <base> origin is untouched');
    for (const echo of [seen.sameOrigin, seen.sameOriginXhr]) {
      assert.match(String(echo.traceparent), new RegExp(`^00-${seen.traceId}-[0-9a-f]{16}-01$`));
      assert.equal(echo.baggage, 'checkout.release=web-1.2.3');
    }
    await flushPage(page);
    await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    // This flow's only: a request of an earlier test may still be exported late.
    const clients = sites.receiver.spans.filter((s) => s.kindName === 'CLIENT' && s.traceId === seen.traceId);
    assert.deepEqual(
      clients.map((s) => s.attributes['url.full']),
      [`${sites.shop.url}/echo`, `${sites.shop.url}/echo`],
    );
    assert.deepEqual(pageErrors, []);
  });

  it('a sandboxed frame (no allow-same-origin) has an opaque origin: by default its requests to its own server get no headers, which would need a preflight', async () => {
    await page.goto(`${sites.shop.url}/other.html`);
    await page.evaluate(
      (src) =>
        new Promise<void>((resolve) => {
          const frame = document.createElement('iframe');
          frame.setAttribute('sandbox', 'allow-scripts');
          frame.onload = () => resolve();
          frame.src = src;
          document.body.append(frame);
        }),
      `${sites.shop.url}/checkout.html`,
    );
    const frame = page.frames().find((f) => f.url().endsWith('/checkout.html'))!;
    const seen = await frame.evaluate(async (options) => {
      // Every request of the frame is cross-origin (its origin is 'null'); this one is a simple
      // request, which its server allows from anywhere without a preflight.
      const echo = () => fetch('/public-echo').then((r) => r.json() as Promise<Echo>, (error: Error) => error.name);
      const before = await echo();
      window.otc.startCheckoutTracing({ ...options, propagateTo: undefined });
      const flow = window.otc.checkout.begin({ tradeNo: 'T-sandboxed' });
      const traced = await echo();
      flow.end();
      return { before, traced };
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    assert.deepEqual(seen.before, { traceparent: null });
    assert.deepEqual(seen.traced, { traceparent: null }, 'the request works as without tracing');
    assert.deepEqual(pageErrors, []);
  });

  it('concurrent flows: requests go to the most recent active flow, or to the one passed to run()', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const seen = await page.evaluate(async (api) => {
      const traceOf = (p: Promise<Response>) => p.then((r) => r.json() as Promise<Echo>).then((e) => String(e.traceparent).split('-')[1]);
      const a = window.otc.checkout.begin({ tradeNo: 'A' });
      const b = window.otc.checkout.begin({ tradeNo: 'B' });
      const implicit = await traceOf(fetch(`${api}/api/echo`));
      const scoped = await traceOf(a.run(() => fetch(`${api}/api/echo`)));
      const active = window.otc.checkout.active()?.traceId;
      b.end();
      const afterB = await traceOf(fetch(`${api}/api/echo`));
      const activeAfter = window.otc.checkout.active()?.traceId;
      a.end();
      return { a: a.traceId, b: b.traceId, implicit, scoped, active, afterB, activeAfter, none: window.otc.checkout.active() === undefined };
    }, sites.api.url);
    assert.notEqual(seen.a, seen.b);
    assert.equal(seen.implicit, seen.b);
    assert.equal(seen.scoped, seen.a);
    assert.equal(seen.active, seen.b);
    assert.equal(seen.afterB, seen.a);
    assert.equal(seen.activeAfter, seen.a);
    assert.equal(seen.none, true);
  });

  it('records the failing-payment journeys: retry, fallback to another method, failure taxonomy, cancel', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(() => {
      const credit = window.otc.checkout.begin({ tradeNo: 'T-bnpl', method: 'credit', provider: 'lender' });
      credit.retry('risk_rejected');
      credit.fallback('card');
      credit.fail('insufficient_funds', 'E51');
      window.otc.checkout.begin({ tradeNo: 'T-gave-up', method: 'online_banking' }).cancel();
    });
    await flushPage(page);
    const spans = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout' && /^T-(bnpl|gave-up)$/.test(s.attributes['payment.trade_no'] as string), { count: 2 });
    const bnpl = spans.find((s) => s.attributes['payment.trade_no'] === 'T-bnpl')!;
    assert.equal(bnpl.attributes['payment.attempt'], 2);
    assert.equal(bnpl.attributes['payment.method'], 'card');
    assert.equal(bnpl.attributes['payment.fallback.method'], 'card');
    assert.equal(bnpl.attributes['payment.outcome'], 'failed');
    assert.equal(bnpl.attributes['payment.failure.reason'], 'insufficient_funds');
    assert.equal(bnpl.attributes['payment.failure.code'], 'E51');
    assert.equal(bnpl.status.codeName, 'ERROR');
    const retry = bnpl.events.find((e) => e.name === 'payment.retry')!;
    assert.deepEqual(retry.attributes, { 'payment.attempt': 2, 'payment.failure.reason': 'risk_rejected' });
    const fallback = bnpl.events.find((e) => e.name === 'payment.fallback')!;
    assert.deepEqual(fallback.attributes, { 'payment.method': 'credit', 'payment.fallback.method': 'card' });
    const gaveUp = spans.find((s) => s.attributes['payment.trade_no'] === 'T-gave-up')!;
    assert.equal(gaveUp.attributes['payment.outcome'], 'cancelled');
    assert.equal(gaveUp.attributes['payment.failure.reason'], 'user_cancelled');
  });

  it('keeps at most 32 flows open: a page that never ends its flows does not grow without bound', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    const active = await page.evaluate(() => {
      for (let i = 0; i < 40; i++) window.otc.checkout.begin({ tradeNo: `T-open-${i}` });
      return window.otc.checkout.active()?.traceId !== undefined;
    });
    assert.equal(active, true);
    await flushPage(page);
    const ended = await sites.receiver.waitForSpans((s) => s.name === 'payment.checkout' && /^T-open-/.test(s.attributes['payment.trade_no'] as string), { count: 8 });
    assert.deepEqual(ended.map((s) => s.attributes['payment.trade_no']).sort(), ['T-open-0', 'T-open-1', 'T-open-2', 'T-open-3', 'T-open-4', 'T-open-5', 'T-open-6', 'T-open-7']);
  });

  it('is safe before start, twice, with wrong arguments and after shutdown; patches are idempotent and reversible', async () => {
    const result = await page.evaluate(async (options) => {
      const { checkout, startCheckoutTracing } = window.otc;
      const out: Record<string, unknown> = {};
      const nativeFetch = Object.getOwnPropertyDescriptor(window, 'fetch')?.value as unknown;
      const nativeSend = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, 'send')?.value as unknown;
      // Before start: flows that record nothing, the page's own behaviour kept.
      const early = checkout.begin({ tradeNo: 'early' });
      out.earlyTraceId = early.traceId;
      out.earlyRun = early.run(() => 7);
      const sdk = { pay: () => 'paid' };
      out.earlySdk = early.wrapSdk(sdk, { name: 'x' }) === sdk;
      out.earlyQuery = await early.query(() => Promise.resolve('q'));
      await early.prepareRedirect();
      early.fail('timeout');
      early.succeed();
      out.earlyResume = (await checkout.resume()).traceId;
      out.earlyActive = checkout.active();
      // Wrong arguments everywhere.
      const bad = undefined as never;
      checkout.begin(42 as never);
      checkout.onClick(bad, bad, bad)();
      const h1 = startCheckoutTracing(options);
      const h2 = startCheckoutTracing(options);
      out.sameHandle = h1 === h2;
      out.fetchPatched = Object.getOwnPropertyDescriptor(window, 'fetch')?.value !== nativeFetch;
      const flow = checkout.begin(null as never);
      flow.setTradeNo(5 as never);
      flow.set('nonsense' as never);
      flow.retry(17 as never);
      flow.fallback(undefined as never);
      out.runNonFunction = flow.run(undefined as never);
      out.wrapNull = flow.wrapSdk(null as never, { name: 'x' });
      out.queryNonFunction = await flow.query(undefined as never).then(
        () => 'resolved',
        (e: Error) => e.name,
      );
      flow.redirect(undefined as never);
      flow.fail(undefined as never, {} as never);
      flow.succeed();
      flow.end();
      flow.cancel();
      out.resumeBadOptions = typeof (await checkout.resume('bad' as never)).traceId;
      await h1.flush();
      await h1.shutdown();
      await h1.shutdown();
      out.fetchRestored = Object.getOwnPropertyDescriptor(window, 'fetch')?.value === nativeFetch;
      out.xhrRestored = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, 'send')?.value === nativeSend;
      // After shutdown: no-op flows again, and a new start works.
      out.afterTraceId = checkout.begin().traceId;
      out.afterHealth = h1.health().spansExported >= 0;
      const h3 = startCheckoutTracing(options);
      out.restarted = h3 !== h1 && Object.getOwnPropertyDescriptor(window, 'fetch')?.value !== nativeFetch;
      await h3.shutdown();
      out.diagnostics = window.otc.diagnostics;
      return out;
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    assert.equal(result.earlyTraceId, '0'.repeat(32));
    assert.equal(result.earlyRun, 7);
    assert.equal(result.earlySdk, true);
    assert.equal(result.earlyQuery, 'q');
    assert.equal(result.earlyResume, '0'.repeat(32));
    assert.equal(result.earlyActive, undefined);
    assert.equal(result.sameHandle, true);
    assert.equal(result.fetchPatched, true);
    assert.equal(result.runNonFunction, undefined);
    assert.equal(result.wrapNull, null);
    assert.equal(result.queryNonFunction, 'InvalidArgumentError');
    assert.equal(result.resumeBadOptions, 'string');
    assert.equal(result.fetchRestored, true);
    assert.equal(result.xhrRestored, true);
    assert.equal(result.afterTraceId, '0'.repeat(32));
    assert.equal(result.restarted, true);
    assert.ok((result.diagnostics as string[]).some((d) => d.includes('called twice')));
    assert.deepEqual(pageErrors, []);
  });

  it('poll and query behave the same whether the flow records or not: before start, while tracing, after shutdown', async () => {
    const runs = await page.evaluate(async (options) => {
      const { checkout, startCheckoutTracing } = window.otc;
      type Flow = ReturnType<typeof checkout.begin>;
      /** The page's own polling: a flaky first query, pending, then paid; and one that never settles. */
      const drive = async (flow: Flow) => {
        let queries = 0;
        const startedAt = performance.now();
        const settled = await flow.poll(
          () => {
            queries += 1;
            return queries === 1 ? Promise.reject(new Error('flaky')) : Promise.resolve(queries >= 3 ? 'PAID' : 'PENDING');
          },
          (state) => (state === 'PAID' ? 'succeeded' : 'pending'),
          { intervalMillis: 25, maxAttempts: 5 },
        );
        const settledQueries = queries;
        const elapsed = performance.now() - startedAt;
        queries = 0;
        const exhausted = await flow.poll(
          () => Promise.resolve(++queries),
          () => 'pending',
          { intervalMillis: 1, maxAttempts: 4 },
        );
        const errors = await Promise.all([flow.query(undefined as never), flow.poll(undefined as never, () => 'pending')].map((p) => p.then(() => 'resolved', (e: Error) => e.name)));
        return { settled, settledQueries, waitedAtLeast: elapsed >= 2 * 25, exhausted, exhaustedQueries: queries, errors };
      };
      const before = await drive(checkout.begin());
      const handle = startCheckoutTracing(options);
      const recording = await drive(checkout.begin({ tradeNo: 'T-poll' }));
      await handle.shutdown();
      const after = await drive(checkout.begin());
      return { before, recording, after };
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    const expected = {
      settled: 'succeeded',
      settledQueries: 3,
      waitedAtLeast: true,
      exhausted: 'pending',
      exhaustedQueries: 4,
      errors: ['InvalidArgumentError', 'InvalidArgumentError'],
    };
    assert.deepEqual(runs, { before: expected, recording: expected, after: expected });
    assert.deepEqual(pageErrors, []);
  });

  it('bad poll options are reported once each and replaced by their defaults; 0 ms queries without a pause, a fractional count is floored', async () => {
    const runs = await page.evaluate(async (options) => {
      const { checkout, startCheckoutTracing, diagnostics } = window.otc;
      type Flow = ReturnType<typeof checkout.begin>;
      /** How many queries one poll with `pollOptions` ran, how long it took, and what it reported. */
      const count = async (flow: Flow, pollOptions: unknown) => {
        diagnostics.length = 0;
        let queries = 0;
        const startedAt = performance.now();
        await flow.poll(() => Promise.resolve(++queries), () => 'pending', pollOptions as never);
        return { queries, tookMillis: Math.round(performance.now() - startedAt), diagnostics: [...diagnostics] };
      };
      const drive = async (flow: Flow) => ({
        // The defaults stand in for both: ten queries, then (one pause only) 2000 ms.
        zeroCount: await count(flow, { intervalMillis: 0, maxAttempts: 0 }),
        negativePause: await count(flow, { intervalMillis: -5, maxAttempts: 2 }),
        endlessPause: await count(flow, { intervalMillis: Infinity, maxAttempts: 2.5 }),
        fraction: await count(flow, { intervalMillis: 0, maxAttempts: 2.5 }),
        textPause: await count(flow, { intervalMillis: '10', maxAttempts: 1 }),
        textCount: await count(flow, { intervalMillis: 0, maxAttempts: '3' }),
      });
      const before = await drive(checkout.begin());
      const handle = startCheckoutTracing(options);
      const recording = await drive(checkout.begin({ tradeNo: 'T-poll-options' }));
      await handle.shutdown();
      return { before, recording };
    }, tracingOptions(sites.receiver.tracesUrl, sites.api.url) as Record<string, unknown>);
    const warning = (option: string, expected: string) => `warn: @otel-checkout/web: option poll.${option} is not ${expected}; using the default`;
    for (const run of [runs.before, runs.recording]) {
      assert.equal(run.zeroCount.queries, 10);
      assert.ok(run.zeroCount.tookMillis < 1000, `ten queries without a pause took ${run.zeroCount.tookMillis} ms`);
      assert.deepEqual(run.zeroCount.diagnostics, [warning('maxAttempts', 'a number from 1 to 2147483647')]);
      assert.equal(run.negativePause.queries, 2);
      assert.ok(run.negativePause.tookMillis >= 1900, `the default pause, 2000 ms; took ${run.negativePause.tookMillis} ms`);
      assert.deepEqual(run.negativePause.diagnostics, [warning('intervalMillis', 'a number from 0 to 2147483647')]);
      // A browser fires a timer it cannot hold at once: Infinity would be no pause at all.
      assert.equal(run.endlessPause.queries, 2);
      assert.ok(run.endlessPause.tookMillis >= 1900, `the default pause, 2000 ms; took ${run.endlessPause.tookMillis} ms`);
      assert.deepEqual(run.endlessPause.diagnostics, [warning('intervalMillis', 'a number from 0 to 2147483647')]);
      assert.equal(run.fraction.queries, 2);
      assert.deepEqual(run.fraction.diagnostics, []);
      assert.equal(run.textPause.queries, 1);
      assert.deepEqual(run.textPause.diagnostics, [warning('intervalMillis', 'a number from 0 to 2147483647')]);
      assert.equal(run.textCount.queries, 10);
      assert.deepEqual(run.textCount.diagnostics, [warning('maxAttempts', 'a number from 1 to 2147483647')]);
    }
    assert.deepEqual(pageErrors, []);
  });

  it('user hooks that throw are contained; page errors and unhandled rejections during a flow are recorded on it', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url));
    await page.evaluate(() => {
      window.otc.checkout.onClick(
        document.getElementById('pay')!,
        () => {
          throw new Error('getDetails broke');
        },
        () => {
          throw new Error('onFlow broke');
        },
      );
    });
    await page.click('#pay');
    await page.evaluate(async () => {
      setTimeout(() => {
        throw new Error('late page error');
      }, 0);
      void Promise.reject(new Error('nobody caught this'));
      await new Promise((r) => setTimeout(r, 50));
      window.otc.checkout.active()?.end();
    });
    await flushPage(page);
    const checkout = await sites.receiver.waitForSpan((s) => s.name === 'payment.checkout');
    const messages = checkout.events.filter((e) => e.name === 'exception').map((e) => e.attributes['exception.message']);
    assert.ok(messages.includes('late page error'), JSON.stringify(messages));
    assert.ok(messages.includes('nobody caught this'));
    const diagnostics = await page.evaluate(() => window.otc.diagnostics);
    assert.ok(diagnostics.some((d) => d.includes('getDetails')));
    assert.ok(diagnostics.some((d) => d.includes('onFlow')));
    // Only the page's own errors reached the page; our hooks' failures did not.
    assert.deepEqual(pageErrors.sort(), ['late page error', 'nobody caught this']);
  });

  it('bad options are reported once each and replaced by their defaults, so tracing still works', async () => {
    const options = { ...tracingOptions(sites.receiver.tracesUrl, sites.api.url), exportTimeoutMillis: 0, sampleRatio: 0, propagateTo: sites.api.url };
    await startInPage(page, options as never);
    const seen = await page.evaluate(async (api) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-options' });
      const own = await fetch('/echo').then((r) => r.json() as Promise<Echo>);
      const other = await fetch(`${api}/api/echo`).then((r) => r.json() as Promise<Echo>);
      flow.succeed();
      await (window.otcHandle as { flush(): Promise<void> }).flush();
      return { own, other, diagnostics: window.otc.diagnostics };
    }, sites.api.url);
    assert.deepEqual(seen.diagnostics, [
      'warn: @otel-checkout/web: option exportTimeoutMillis is not a number from 1 to 2147483647; using the default',
      'warn: @otel-checkout/web: option sampleRatio is not a known option; ignored',
      'warn: @otel-checkout/web: option propagateTo is not an array; using the default',
    ]);
    // The default timeout exports; the typo did not sample anything out; the default propagateTo is the page's origin.
    await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-options');
    assert.notEqual(seen.own.traceparent, null);
    assert.equal(seen.other.traceparent, null);
  });

  it('redaction: `{ enabled: false }` turns it off as documented; anything but an explicit off keeps it on', async () => {
    for (const [redaction, masked] of [[{ enabled: false }, false], ['off', true]] as const) {
      sites.receiver.clear({ ignoreSpansStartedBefore: Date.now() });
      await page.goto(`${sites.shop.url}/checkout.html`);
      await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { redaction: redaction as never }));
      await page.evaluate((pan) => window.otc.checkout.begin({ tradeNo: 'T-redaction' }).fail('invalid_request', pan), TEST_PAN);
      await flushPage(page);
      const span = await sites.receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-redaction');
      assert.equal(span.attributes['payment.failure.code'] !== TEST_PAN, masked, JSON.stringify(redaction));
    }
  });

  it('sampleRate 0: nothing recorded, the "not sampled" decision still travels so the backend does not record either', async () => {
    await startInPage(page, tracingOptions(sites.receiver.tracesUrl, sites.api.url, { sampleRate: 0 }));
    const echo = await page.evaluate(async (api) => {
      const flow = window.otc.checkout.begin({ tradeNo: 'T-unsampled' });
      const answer = await fetch(`${api}/api/echo`, { method: 'POST' }).then((r) => r.json() as Promise<Echo>);
      flow.succeed();
      return answer;
    }, sites.api.url);
    assert.match(String(echo.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await flushPage(page);
    assert.equal(sites.receiver.spans.filter((s) => s.resource.attributes['service.name'] === 'shop-web').length, 0);
  });
});
