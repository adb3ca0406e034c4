// A real Chromium page on one origin exporting to the receiver on another: fetch with a CORS
// preflight, and sendBeacon with a string (text/plain) and with a JSON Blob (preflighted, sent
// with credentials). This is how the web package's pages reach the receiver in later tests.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { startHttpServer, startOtlpReceiver } from '../src/index.js';
import type { OtlpReceiver, StartedHttpServer } from '../src/index.js';

/** The slice of the browser's navigator this test calls; the package compiles without DOM types. */
interface BeaconNavigator {
  sendBeacon(url: string, data: string | Blob): boolean;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

function otlpJson(name: string, spanId: string): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout-page' } }] },
        scopeSpans: [
          {
            scope: { name: 'page' },
            spans: [
              {
                traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                spanId,
                name,
                kind: 1,
                startTimeUnixNano: '1763800000000000000',
                endTimeUnixNano: '1763800000100000000',
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('OTLP receiver with a real browser on another origin', function () {
  this.timeout(60_000);
  let browser: Browser;
  let receiver: OtlpReceiver;
  let page: StartedHttpServer;

  before(async function () {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await startHttpServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><title>checkout</title>');
    });
  });

  after(async function () {
    await browser?.close();
    await page?.close();
  });

  beforeEach(async function () {
    receiver = await startOtlpReceiver({ cors: true });
  });

  afterEach(async function () {
    await receiver.close();
  });

  it('accepts fetch and sendBeacon exports from a page on another origin', async function () {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(page.url);
      const results = await tab.evaluate(
        async ({ url, fetchBody, beaconText, beaconBlob }) => {
          const { navigator } = globalThis as unknown as { navigator: BeaconNavigator };
          const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fetchBody });
          return {
            fetchStatus: response.status,
            fetchBody: await response.text(),
            beaconText: navigator.sendBeacon(url, beaconText),
            beaconBlob: navigator.sendBeacon(url, new Blob([beaconBlob], { type: 'application/json' })),
          };
        },
        {
          url: receiver.tracesUrl,
          fetchBody: otlpJson('page.fetch', '00f067aa0ba902b1'),
          beaconText: otlpJson('page.beacon.text', '00f067aa0ba902b2'),
          beaconBlob: otlpJson('page.beacon.blob', '00f067aa0ba902b3'),
        },
      );
      assert.deepStrictEqual(results, { fetchStatus: 200, fetchBody: '{}', beaconText: true, beaconBlob: true });
      const spans = await receiver.waitForSpans((span) => span.name.startsWith('page.'), { count: 3 });
      assert.deepStrictEqual(spans.map((span) => span.name).sort(), ['page.beacon.blob', 'page.beacon.text', 'page.fetch']);
      const byName = new Map(receiver.requests.map((request) => [request.spans[0]?.name, request]));
      assert.match(byName.get('page.beacon.text')!.contentType, /^text\/plain/);
      assert.equal(byName.get('page.beacon.blob')!.contentType, 'application/json');
      assert.equal(byName.get('page.fetch')!.headers.origin, page.url);
      assert.equal(receiver.rejectedCount, 0);
    } finally {
      await context.close();
    }
  });
});
