import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startOtlpReceiver, startHttpServer } from '@otel-checkout/test-support';
import type { OtlpReceiver, StartedHttpServer } from '@otel-checkout/test-support';
import { collectPageErrors, launchBrowser, newContext } from '../harness/browser.js';
import { pageBundle } from '../harness/bundle.js';
import { flushPage, startInPage, tracingOptions } from '../harness/page-api.js';

describe('wrapSdk in Chromium: the SDK behaves as before', function () {
  this.timeout(30_000);
  let browser: Browser;
  let receiver: OtlpReceiver;
  let shop: StartedHttpServer;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    const bundle = await pageBundle();
    [browser, receiver, shop] = await Promise.all([
      launchBrowser(),
      startOtlpReceiver({ cors: true }),
      startHttpServer((req, res) => {
        res.writeHead(200, { 'content-type': req.url === '/otc.js' ? 'text/javascript' : 'text/html' });
        res.end(req.url === '/otc.js' ? bundle : '<!doctype html><script src="/otc.js"></script>');
      }),
    ]);
    context = await newContext(browser);
    page = await context.newPage();
    pageErrors = collectPageErrors(page);
    await page.goto(`${shop.url}/`);
    await startInPage(page, tracingOptions(receiver.tracesUrl, shop.url));
  });
  after(async () => {
    await browser?.close();
    await Promise.all([receiver?.close(), shop?.close()]);
  });
  // One page for the whole file: a span a test flushes late must not pass for one of the next test's.
  beforeEach(() => receiver.clear({ ignoreSpansStartedBefore: Date.now() }));

  it('sync, promise and callback-style methods: same results, same errors, same `this`, same callback arguments', async () => {
    const report = await page.evaluate(async () => {
      class Sdk {
        #secret = 'inner';
        version = '9';
        readonly calls: string[] = [];
        sync(a: number, b: number) {
          this.calls.push('sync');
          return { sum: a + b, self: this, secret: this.#secret };
        }
        boom() {
          throw new TypeError('sdk exploded');
        }
        /** The promise `later` returned last, to check the page gets that very object back. */
        lastPromise: Promise<string> | undefined;
        later(value: string) {
          this.lastPromise = new Promise<string>((r) => setTimeout(() => r(`${value}!`), 5));
          return this.lastPromise;
        }
        async rejects() {
          await new Promise((r) => setTimeout(r, 5));
          throw new RangeError('declined');
        }
        nodeStyle(value: number, done: (error: Error | null, result?: number) => void) {
          setTimeout(() => (value < 0 ? done(new Error('negative')) : done(null, value * 2)), 5);
        }
        twoCallbacks(value: number, onSuccess: (...args: unknown[]) => void, onFail: (...args: unknown[]) => void) {
          setTimeout(() => (value < 0 ? onFail.call({ from: 'sdk' }, 'E42', 'bad value') : onSuccess.call({ from: 'sdk' }, value, 'ok')), 5);
        }
      }
      const sdk = new Sdk();
      const flow = window.otc.checkout.begin({ tradeNo: 'T-sdk' });
      const wrapped = flow.wrapSdk(sdk, { name: 'acme-pay', version: '2.0.1' });
      const out: Record<string, unknown> = {};
      const sync = wrapped.sync(2, 3);
      out.syncSum = sync.sum;
      out.syncThisIsSdk = sync.self === sdk;
      out.privateField = sync.secret;
      const error = new TypeError('x');
      try {
        wrapped.boom();
      } catch (caught) {
        out.thrownName = (caught as Error).name;
        out.thrownMessage = (caught as Error).message;
        out.thrownIsTypeError = caught instanceof TypeError && caught !== error;
      }
      const promise = wrapped.later('hi');
      out.returnsPromise = promise instanceof Promise;
      out.returnsSdkPromise = promise === sdk.lastPromise;
      out.later = await promise;
      const rejection = await wrapped.rejects().then(
        () => 'resolved',
        (e: unknown) => (e instanceof RangeError ? `RangeError ${e.message}` : 'other'),
      );
      out.rejection = rejection;
      out.node = await new Promise((resolve) => wrapped.nodeStyle(21, (e, r) => resolve([e, r])));
      out.nodeError = await new Promise((resolve) => wrapped.nodeStyle(-1, (e) => resolve(e instanceof Error ? e.message : e)));
      out.success = await new Promise((resolve) =>
        wrapped.twoCallbacks(
          7,
          function (this: unknown, ...args: unknown[]) {
            resolve([this, args]);
          },
          () => resolve('fail'),
        ),
      );
      out.failure = await new Promise((resolve) =>
        wrapped.twoCallbacks(
          -7,
          () => resolve('success'),
          function (this: unknown, ...args: unknown[]) {
            resolve([this, args]);
          },
        ),
      );
      out.version = wrapped.version;
      wrapped.version = '10';
      out.writeThrough = sdk.version;
      out.sameProxy = flow.wrapSdk(sdk, { name: 'acme-pay' }) === wrapped;
      out.wrapWrapped = flow.wrapSdk(wrapped, { name: 'acme-pay' }) === wrapped;
      out.stableMethod = wrapped.sync === wrapped.sync;
      out.calls = sdk.calls;
      out.notAnObject = flow.wrapSdk(42 as unknown as object, { name: 'x' });
      out.noInfo = flow.wrapSdk(sdk, undefined as unknown as { name: string }) === sdk;
      flow.succeed();
      return out;
    });
    assert.equal(report.syncSum, 5);
    assert.equal(report.syncThisIsSdk, true);
    assert.equal(report.privateField, 'inner');
    assert.equal(report.thrownName, 'TypeError');
    assert.equal(report.thrownMessage, 'sdk exploded');
    assert.equal(report.returnsPromise, true);
    assert.equal(report.returnsSdkPromise, true, "the SDK's own promise object, not a copy");
    assert.equal(report.later, 'hi!');
    assert.equal(report.rejection, 'RangeError declined');
    assert.deepEqual(report.node, [null, 42]);
    assert.equal(report.nodeError, 'negative');
    assert.deepEqual(report.success, [{ from: 'sdk' }, [7, 'ok']]);
    assert.deepEqual(report.failure, [{ from: 'sdk' }, ['E42', 'bad value']]);
    assert.equal(report.version, '9');
    assert.equal(report.writeThrough, '10');
    assert.equal(report.sameProxy, true);
    assert.equal(report.wrapWrapped, true);
    assert.equal(report.stableMethod, true);
    assert.deepEqual(report.calls, ['sync']);
    assert.equal(report.notAnObject, 42);
    assert.equal(report.noInfo, true);

    await flushPage(page);
    const spans = await receiver.waitForSpans((s) => s.name.startsWith('payment.'), { count: 9 });
    const checkout = spans.find((s) => s.name === 'payment.checkout')!;
    const sdkSpans = spans.filter((s) => s.name.startsWith('payment.sdk '));
    // One span per call, no doubles from the repeated wrapping.
    assert.deepEqual(sdkSpans.map((s) => s.name).sort(), [
      'payment.sdk boom',
      'payment.sdk later',
      'payment.sdk nodeStyle',
      'payment.sdk nodeStyle',
      'payment.sdk rejects',
      'payment.sdk sync',
      'payment.sdk twoCallbacks',
      'payment.sdk twoCallbacks',
    ]);
    for (const span of sdkSpans) {
      assert.equal(span.parentSpanId, checkout.spanId);
      assert.equal(span.attributes['checkout.sdk.name'], 'acme-pay');
      assert.equal(span.attributes['checkout.sdk.version'], '2.0.1');
      assert.equal(span.attributes['payment.stage'], 'sdk');
      assert.equal(span.attributes['checkout.sdk.operation'], span.name.slice('payment.sdk '.length));
    }
    const failed = sdkSpans.filter((s) => s.status.codeName === 'ERROR');
    assert.equal(failed.length, 4, 'boom, rejects, nodeStyle(-1), twoCallbacks(-7)');
    for (const span of failed) {
      const event = span.events.find((e) => e.name === 'payment.sdk.error');
      assert.ok(event, `${span.name} has payment.sdk.error`);
      assert.equal(event.attributes['checkout.sdk.name'], 'acme-pay');
      assert.ok(typeof event.attributes['error.type'] === 'string');
    }
    const boom = failed.find((s) => s.name === 'payment.sdk boom')!;
    assert.equal(boom.attributes['error.type'], 'TypeError');
    const later = sdkSpans.find((s) => s.name === 'payment.sdk later')!;
    assert.ok(later.endTimeUnixNano - later.startTimeUnixNano >= 4_000_000n, 'the promise span lasts until it settles');
    assert.deepEqual(pageErrors, []);
  });

  it('a frozen SDK: a read-only, non-configurable method is returned as it is (a Proxy must), so the call works and the page sees no exception', async () => {
    const seen = await page.evaluate(() => {
      const flow = window.otc.checkout.begin();
      const sdk = Object.freeze({ pay: (amount: number) => amount * 2 });
      const wrapped = flow.wrapSdk(sdk, { name: 'frozen-pay' });
      let paid: number | undefined;
      let thrown: string | undefined;
      try {
        paid = wrapped.pay(21);
      } catch (error) {
        thrown = String(error);
      }
      // Freezing an instance leaves its class's methods alone: those are still traced.
      class Sdk {
        charge() {
          return 'charged';
        }
      }
      const charged = flow.wrapSdk(Object.freeze(new Sdk()), { name: 'frozen-class' }).charge();
      flow.end();
      return { paid, thrown, same: wrapped.pay === sdk.pay, charged, traceId: flow.traceId };
    });
    const { traceId, ...result } = seen;
    assert.deepEqual(result, { paid: 42, thrown: undefined, same: true, charged: 'charged' });
    await flushPage(page);
    await receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.traceId === traceId);
    assert.deepEqual(
      receiver.spans.filter((s) => s.traceId === traceId && s.name.startsWith('payment.sdk')).map((s) => s.name),
      ['payment.sdk charge'],
    );
    assert.deepEqual(pageErrors, []);
  });

  it('a promise-like whose `then` throws, or whose `then` getter does: the page gets the SDK’s object back, as without tracing, and the span ends', async () => {
    const seen = await page.evaluate(() => {
      const flow = window.otc.checkout.begin();
      const throwingThen = {
        then() {
          throw new Error('then refuses a second listener');
        },
      };
      const throwingGetter = {
        get then(): unknown {
          throw new Error('then getter broke');
        },
      };
      const sdk = { pending: () => throwingThen, lazy: () => throwingGetter };
      const wrapped = flow.wrapSdk(sdk, { name: 'odd-promises' });
      const results: unknown[] = [];
      for (const call of [() => wrapped.pending(), () => wrapped.lazy()]) {
        try {
          results.push(call());
        } catch (error) {
          results.push(`threw ${(error as Error).message}`);
        }
      }
      flow.end();
      return { same: results[0] === throwingThen && results[1] === throwingGetter, results: results.map(String), traceId: flow.traceId };
    });
    assert.equal(seen.same, true, seen.results.join(', '));
    await flushPage(page);
    await receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.traceId === seen.traceId);
    const spans = receiver.spans.filter((s) => s.traceId === seen.traceId && s.name.startsWith('payment.sdk'));
    assert.deepEqual(spans.map((s) => [s.name, s.status.codeName]).sort(), [
      ['payment.sdk lazy', 'UNSET'],
      ['payment.sdk pending', 'UNSET'],
    ]);
    assert.deepEqual(pageErrors, []);
  });

  it('the limits the README states: callbacks inside an options object are not observed, and a rejection the page never handles raises no unhandledrejection', async () => {
    const { unhandled, traceId } = await page.evaluate(async () => {
      const flow = window.otc.checkout.begin();
      const sdk = {
        pay(options: { fail(code: string): void }) {
          setTimeout(() => options.fail('declined'), 0);
        },
        charge: (why: string) => Promise.reject(new Error(why)),
      };
      const wrapped = flow.wrapSdk(sdk, { name: 'limits' });
      const failed = new Promise<void>((resolve) => wrapped.pay({ fail: () => resolve() }));
      await failed;
      const reasons: string[] = [];
      const collect = (event: PromiseRejectionEvent) => reasons.push(String(event.reason));
      window.addEventListener('unhandledrejection', collect);
      const reported = new Promise<void>((resolve) => window.addEventListener('unhandledrejection', () => resolve(), { once: true }));
      // Both rejected in the same task: the browser reports them in one check, in order, so
      // once the unwrapped one is reported the wrapped one would have been too.
      void wrapped.charge('through the wrapper');
      void sdk.charge('without the wrapper');
      await reported;
      window.removeEventListener('unhandledrejection', collect);
      flow.end();
      return { unhandled: reasons, traceId: flow.traceId };
    });
    assert.deepEqual(unhandled, ['Error: without the wrapper']);
    await flushPage(page);
    const pay = await receiver.waitForSpan((s) => s.name === 'payment.sdk pay' && s.traceId === traceId);
    assert.equal(pay.status.codeName, 'UNSET', 'the fail callback inside the options object is not seen');
    const charge = await receiver.waitForSpan((s) => s.name === 'payment.sdk charge' && s.traceId === traceId);
    assert.equal(charge.status.codeName, 'ERROR', 'the wrapper observed the rejection itself');
  });

  it('a handler given to on() is found by off(): the SDK gets the same function for the same handler each time', async () => {
    const report = await page.evaluate(() => {
      const flow = window.otc.checkout.begin();
      class Emitter {
        readonly handlers = new Set<(value: number) => void>();
        on(_event: string, handler: (value: number) => void) {
          this.handlers.add(handler);
        }
        off(_event: string, handler: (value: number) => void) {
          this.handlers.delete(handler);
        }
        emit(value: number) {
          for (const handler of this.handlers) handler(value);
        }
      }
      const sdk = new Emitter();
      const wrapped = flow.wrapSdk(sdk, { name: 'acme' });
      const seen: number[] = [];
      const onChange = (value: number) => seen.push(value);
      wrapped.on('change', onChange);
      wrapped.on('change', onChange);
      const registered = sdk.handlers.size;
      sdk.emit(1);
      sdk.emit(2);
      wrapped.off('change', onChange);
      sdk.emit(3);
      flow.end();
      return { seen, registered, left: sdk.handlers.size };
    });
    assert.deepEqual(report, { seen: [1, 2], registered: 1, left: 0 }, 'registered once, as without the wrapper, and removed');
  });

  it('a payment retried with the same callbacks: each call ends with its own outcome', async () => {
    const traceId = await page.evaluate(async () => {
      const flow = window.otc.checkout.begin();
      const sdk = {
        pay(approve: boolean, onSuccess: (r: string) => void, onFail: (e: Error) => void) {
          setTimeout(() => (approve ? onSuccess('paid') : onFail(new Error('declined'))), 1);
        },
      };
      const wrapped = flow.wrapSdk(sdk, { name: 'acme' });
      const outcomes: unknown[] = [];
      await new Promise<void>((done) => {
        const onSuccess = (r: string) => (outcomes.push(r), done());
        const onFail = (e: Error) => (outcomes.push(e.message), wrapped.pay(true, onSuccess, onFail));
        wrapped.pay(false, onSuccess, onFail);
      });
      flow.end();
      return flow.traceId;
    });
    await flushPage(page);
    await receiver.waitForSpan((s) => s.name === 'payment.checkout' && s.traceId === traceId);
    const calls = receiver.spans
      .filter((s) => s.name === 'payment.sdk pay' && s.traceId === traceId)
      .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    assert.deepEqual(
      calls.map((s) => s.status.codeName),
      ['ERROR', 'UNSET'],
    );
    assert.ok(calls[1].endTimeUnixNano > calls[0].endTimeUnixNano, 'the retry ends at its own callback');
  });

  it('traces only the listed methods when `methods` is given', async () => {
    await page.evaluate(() => {
      const flow = window.otc.checkout.begin();
      const sdk = { a: () => 1, b: () => 2 };
      const wrapped = flow.wrapSdk(sdk, { name: 'acme', methods: ['a'] });
      wrapped.a();
      wrapped.b();
      flow.end();
    });
    await flushPage(page);
    await receiver.waitForSpan((s) => s.name === 'payment.checkout');
    assert.deepEqual(
      receiver.spans.filter((s) => s.name.startsWith('payment.sdk')).map((s) => s.name),
      ['payment.sdk a'],
    );
  });

  it('a listed method the SDK does not have (a typo, a property that is no function) is reported once per page; the others are traced', async () => {
    const errorsBefore = pageErrors.length;
    const diagnostics = await page.evaluate(() => {
      window.otc.diagnostics.length = 0;
      const sdk = { pay: () => 1, version: '2.0' };
      for (const tradeNo of ['T-typo-1', 'T-typo-2']) {
        // Each checkout wraps the SDK again, with the same list.
        const flow = window.otc.checkout.begin({ tradeNo });
        const wrapped = flow.wrapSdk(sdk, { name: 'acme', methods: ['pay', 'payy', 'version'] as never[] });
        wrapped.pay();
        flow.end();
      }
      return [...window.otc.diagnostics];
    });
    assert.deepEqual(diagnostics, ['warn: @otel-checkout/web: wrapSdk: payy is not a method of acme', 'warn: @otel-checkout/web: wrapSdk: version is not a method of acme']);
    await flushPage(page);
    const calls = await receiver.waitForSpans((s) => s.name === 'payment.sdk pay', { count: 2 });
    assert.equal(calls.length, 2);
    assert.deepEqual(pageErrors.slice(errorsBefore), []);
  });
});
