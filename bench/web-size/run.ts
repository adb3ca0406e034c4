// Bundle size and main-thread cost of @otel-checkout/web, against a bare OpenTelemetry web
// setup bundled in the same run. Writes bench/results/web-size.json.
//
//   npm run bench -- web-size
//
// Sizes: esbuild (bundle, minify, ESM, browser, es2020) then gzip -9, for
//   - the whole package with every export kept,
//   - a typical checkout page (start, begin, wrapSdk, redirect, resume),
//   - a bare OTel web entry: sdk-trace-web + BatchSpanProcessor + instrumentation-fetch + exporter-trace-otlp-http,
//   - and, for the design choices the README explains: instrumentation-fetch alone on top of
//     the package, the package's own fetch/XHR propagation, otlp-transformer's JSON
//     serializer against the package's own OTLP JSON encoder.
// Duplicate package copies are read from esbuild's metafile. The entries and the measurement
// live in the web package's test harness (bundle-size.ts), shared with the test that fails
// when the whole package outgrows the bare OTel entry, so the budget is enforced on every
// test run and this benchmark reports the same numbers. The main-thread time of
// checkout.begin + redirect bookkeeping is measured in Chromium against a baseline of the
// same number of plain OTel spans started and ended in the same page.
import { build } from 'esbuild';
import type { Tracer } from '@opentelemetry/api';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startHttpServer } from '@otel-checkout/test-support';
import type * as web from '@otel-checkout/web';
import { allExports, bundleOptions, entries, measure } from '../../packages/otel-checkout-web/test/harness/bundle-size.js';
import type { Measured } from '../../packages/otel-checkout-web/test/harness/bundle-size.js';

// `npm run bench` runs from the repository root.
const root = resolve('.');
const webSrc = join(root, 'packages', 'otel-checkout-web', 'src');

async function mainThread(): Promise<Record<string, number | boolean>> {
  const pageBundle = await build({
    ...bundleOptions,
    format: 'iife',
    stdin: {
      contents: `
        import { startCheckoutTracing, checkout } from '@otel-checkout/web';
        import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
        Object.assign(window, { startCheckoutTracing, checkout, WebTracerProvider });`,
      resolveDir: webSrc,
      sourcefile: 'page.ts',
      loader: 'ts',
    },
  });
  const script = pageBundle.outputFiles[0].text;
  const server = await startHttpServer((req, res) => {
    if (req.url === '/v1/traces') {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
    res.writeHead(200, {
      'content-type': req.url === '/page.js' ? 'text/javascript' : 'text/html',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(req.url === '/page.js' ? script : '<!doctype html><script src="/page.js"></script>');
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.addInitScript('globalThis.__name = (fn) => fn;');
    await page.goto(`${server.url}/`);
    return await page.evaluate(async () => {
      const w = window as unknown as {
        startCheckoutTracing: typeof web.startCheckoutTracing;
        checkout: typeof web.checkout;
        WebTracerProvider: new () => { getTracer(name: string): Tracer };
        crossOriginIsolated: boolean;
      };
      w.startCheckoutTracing({ endpoint: '/v1/traces', scheduledDelayMillis: 60_000 });
      const tracer = new w.WebTracerProvider().getTracer('baseline');
      // What the click-to-navigate path costs the page: begin, the redirect span, the handoff
      // record. The spans then leave in the next task and at pagehide, measured separately
      // against a bare keepalive fetch of a similar body, which is what that work mostly is.
      const body = JSON.stringify({ resourceSpans: [{ spans: 'x'.repeat(1500) }] });
      const ours = (i: number): void => {
        const flow = w.checkout.begin({ tradeNo: `T-${i}`, method: 'card', provider: 'bank', amount: 10, currency: 'EUR' });
        void flow.prepareRedirect({ watchdogMillis: 0 });
      };
      const pagehide = (): void => {
        window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
      };
      const rawFetch = (): void => {
        void fetch('/v1/traces', { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'application/json' } });
      };
      // The same two spans with plain OpenTelemetry, no export: the floor any tracing pays.
      const baseline = (i: number): void => {
        const a = tracer.startSpan('payment.checkout', { attributes: { 'payment.trade_no': `T-${i}` } });
        tracer.startSpan('payment.redirect').end();
        a.end();
      };
      const time = (fn: (i: number) => void, i: number): number => {
        const start = performance.now();
        fn(i);
        return performance.now() - start;
      };
      const samples = { mine: [] as number[], base: [] as number[], hide: [] as number[], fetch: [] as number[] };
      const pause = () => new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 230; i++) {
        const a = time(ours, i);
        const b = time(baseline, i);
        await pause();
        const c = time(pagehide, i);
        await pause();
        const d = time(rawFetch, i);
        await pause();
        if (i >= 30) {
          samples.mine.push(a);
          samples.base.push(b);
          samples.hide.push(c);
          samples.fetch.push(d);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
      return {
        perFlowMs: median(samples.mine),
        p95FlowMs: p95(samples.mine),
        baselineMs: median(samples.base),
        ratio: median(samples.mine) / Math.max(median(samples.base), 0.005),
        pagehideMs: median(samples.hide),
        rawKeepaliveFetchMs: median(samples.fetch),
        pagehideToRawFetch: median(samples.hide) / Math.max(median(samples.fetch), 0.005),
        crossOriginIsolated: w.crossOriginIsolated,
      };
    });
  } finally {
    await browser.close();
    await server.close();
  }
}

async function main(): Promise<void> {
const sizes: Record<string, Measured> = {};
for (const [name, contents] of Object.entries(entries)) sizes[name] = await measure(name, contents);
// The same whole package with the core redaction rules stubbed out: what they cost, since the
// bare OTel setup has no equivalent (informational, not a check).
sizes.wholePackageWithoutRedaction = await measure('wholePackageWithoutRedaction', entries.wholePackage, {
  'packages/otel-checkout-core/src/redaction/redactor.ts': 'export function createRedactor() { return {}; } export function redactSpanData() { return 0; } export class Redactor {}',
});
const timing = await mainThread();

const whole = sizes.wholePackage;
const bare = sizes.bareOtel;
const checks = {
  wholePackageNotLargerThanBareOtel: whole.gzip <= bare.gzip,
  noZoneJs: Object.values(sizes).every((s) => !s.zoneJs),
  noDuplicatePackages: [whole, sizes.typicalCheckout].every((s) => Object.keys(s.duplicates).length === 0),
  beginAndRedirectUnder1ms: (timing.perFlowMs as number) < 1,
};
const result = {
  name: 'web-size',
  date: new Date().toISOString(),
  gzipBytes: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, v.gzip])),
  minifiedBytes: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, v.minified])),
  ratios: {
    wholePackageToBareOtel: whole.gzip / bare.gzip,
    typicalCheckoutToBareOtel: sizes.typicalCheckout.gzip / bare.gzip,
    fetchInstrumentationAddsGzip: sizes.packagePlusFetchInstrumentation.gzip - whole.gzip,
    ownPropagationGzip: sizes.ownPropagation.gzip,
    otlpTransformerJsonToOwnEncoder: sizes.otlpTransformerJson.gzip / sizes.ownOtlpJson.gzip,
    redactionRulesGzip: whole.gzip - sizes.wholePackageWithoutRedaction.gzip,
    wholePackageWithoutRedactionToBareOtel: sizes.wholePackageWithoutRedaction.gzip / bare.gzip,
  },
  duplicates: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, v.duplicates])),
  exportsKept: allExports,
  mainThread: timing,
  checks,
  pass: Object.values(checks).every(Boolean),
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'web-size.json'), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
process.exitCode = result.pass ? 0 : 1;
}

void main();
