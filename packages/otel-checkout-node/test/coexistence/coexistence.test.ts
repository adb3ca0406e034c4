import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface AppReport {
  mode: string;
  clientSpanId: string;
  clientTraceId: string;
  rpcSpanId: string;
  flushedByHandle: number;
  sweeperPacedOnAppProvider: boolean;
  hostileStatus: number;
  health: { malformedTraceparent: number; baggageDropped: number };
  warnings: string[];
  spans: { name: string; kind: number; traceId: string; spanId: string; parentSpanId: string; attributes: Record<string, unknown> }[];
}

const SERVER = 1;

async function runApp(variant: 'with-redaction' | 'without-redaction' | 'without-http-instrumentation'): Promise<AppReport> {
  const script = join(__dirname, 'app-with-own-sdk.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script, variant], { timeout: 30_000 });
  return JSON.parse(stdout) as AppReport;
}

describe('coexistence with an application that runs its own OpenTelemetry SDK', () => {
  for (const variant of ['with-redaction', 'without-redaction', 'without-http-instrumentation'] as const) {
    describe(variant, () => {
      let report: AppReport;
      before(async () => {
        report = await runApp(variant);
      });

      it('adds payment spans and attributes to the app SDK without a duplicate server span', () => {
        assert.equal(report.mode, 'coexisting');
        // The request the client traced (a second one, with hostile headers, starts its own trace).
        const servers = report.spans.filter((s) => s.kind === SERVER && s.traceId === report.clientTraceId);
        assert.equal(servers.length, 1, JSON.stringify(report.spans.map((s) => s.name)));
        const server = servers[0];
        assert.equal(server.parentSpanId, report.clientSpanId);
        // Whoever made it, the server span is the one a framework instrumentation would name.
        assert.equal(report.rpcSpanId, server.spanId);
        assert.equal(server.attributes['payment.provider'], 'acme');
        assert.equal(server.attributes['payment.amount'], 5);
        assert.equal(server.attributes['payment.trade_no'], 'C-1');
        const create = report.spans.find((s) => s.name === 'payment.create' && s.traceId === report.clientTraceId);
        assert.equal(create?.parentSpanId, server.spanId);
        assert.equal(create?.attributes['payment.outcome'], 'failed');
      });

      it("flush() flushes the app's provider", () => {
        assert.equal(report.flushedByHandle, 1);
      });

      it("the guarded propagators, made for the app's SDK without arguments, check headers and count in the setup's health", () => {
        assert.equal(report.hostileStatus, 200);
        assert.deepEqual(report.health, { malformedTraceparent: 1, baggageDropped: 1 });
      });

      it("the stalled sweeper paces on the app's provider: it flushes it after emitting", () => {
        assert.ok(report.spans.some((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === 'C-STALLED'));
        assert.equal(report.sweeperPacedOnAppProvider, true);
      });

      it(variant !== 'without-redaction' ? 'redacts through the exported processor and does not warn' : 'warns once that the redaction processor is missing', () => {
        const missing = report.warnings.filter((w) => w.includes('no RedactionSpanProcessor'));
        const reason = String(report.spans.find((s) => s.name === 'payment.create')?.attributes['payment.failure.reason']);
        if (variant !== 'without-redaction') {
          assert.equal(missing.length, 0, report.warnings.join('\n'));
          assert.ok(!reason.includes('4111111111111111'), reason);
        } else {
          assert.equal(missing.length, 1, report.warnings.join('\n'));
          assert.ok(reason.includes('4111111111111111'), 'nothing redacts without the processor, hence the warning');
        }
      });
    });
  }
});

interface OptionsReport {
  mode: string;
  configProblems: number;
  /** spansExported, spansDropped, exportFailures. */
  exportCounters: number[];
  warnings: string[];
  attributes: Record<string, unknown>;
}

async function runOptionsApp(variant: 'sdk-options' | 'redaction-false' | 'applicable' | 'failing-export' | 'processor-options'): Promise<OptionsReport> {
  const script = join(__dirname, 'options-app.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script, variant], { timeout: 30_000 });
  return JSON.parse(stdout) as OptionsReport;
}

describe('startCheckoutTracing options beside an application SDK', () => {
  it('each option of the SDK it does not build is counted, and said once per kind with where it belongs; redaction rules above all', async () => {
    const report = await runOptionsApp('sdk-options');
    assert.equal(report.mode, 'coexisting');
    // serviceName, environment, resourceAttributes; endpoint, headers, protocol, exporter and the four
    // queue options; sampler; spanProcessors; propagator; instrumentHttp, fastifyAutoRegister; redaction.
    assert.equal(report.configProblems, 17, report.warnings.join('\n'));
    const said = (text: string): string[] => report.warnings.filter((w) => w.includes(text));
    assert.equal(said('options serviceName, environment, resourceAttributes have no effect').length, 1, report.warnings.join('\n'));
    assert.equal(said('options endpoint, headers, protocol, exporter, maxQueueSize, maxExportBatchSize, scheduledDelayMillis, exportTimeoutMillis have no effect').length, 1);
    assert.equal(said('option sampler has no effect').length, 1);
    assert.equal(said('option spanProcessors has no effect').length, 1);
    assert.equal(said('option propagator has no effect').length, 1);
    assert.equal(said('options instrumentHttp, fastifyAutoRegister have no effect').length, 1);
    const redaction = said('option redaction has no effect');
    assert.equal(redaction.length, 1, report.warnings.join('\n'));
    assert.match(redaction[0], /new RedactionSpanProcessor\(\{ \.\.\.rules \}\)/);
    // What the warning is about: the app's processor masks by its own rules only.
    assert.deepEqual(report.attributes, { 'x-mine': 'hunter2', password: '[REDACTED]' });
  });

  it('redaction: false beside a RedactionSpanProcessor in the SDK is said: that processor still redacts', async () => {
    const report = await runOptionsApp('redaction-false');
    assert.equal(report.configProblems, 1);
    assert.equal(report.warnings.filter((w) => w.includes('option redaction: false has no effect')).length, 1, report.warnings.join('\n'));
  });

  it("the export counters stay 0 while the application's exporter fails: its SDK exports, not the package", async () => {
    const report = await runOptionsApp('failing-export');
    assert.equal(report.mode, 'coexisting');
    assert.deepEqual(report.exportCounters, [0, 0, 0]);
  });

  it("unusable options of the application's RedactionSpanProcessor are counted in the handle's configProblems and said when spans end; a list given as a string still masks", async () => {
    const report = await runOptionsApp('processor-options');
    assert.equal(report.mode, 'coexisting');
    // The processor was made before startCheckoutTracing and before its first span: the problems
    // land in the running setup's handle all the same.
    assert.equal(report.configProblems, 3, report.warnings.join('\n'));
    const said = (text: string): string[] => report.warnings.filter((w) => w.includes(text));
    assert.equal(said('option RedactionSpanProcessor.sensitiveKeys is a string, not a list of names; read as a list of that one name').length, 1, report.warnings.join('\n'));
    assert.equal(said('option RedactionSpanProcessor.sensitivekeys is not a known option; ignored').length, 1);
    assert.equal(said('option RedactionSpanProcessor.cardNumbers is not a boolean (string); the rule stays on').length, 1);
    assert.ok(!report.warnings.join('\n').includes('x-mine'), 'a value put where names belong is not echoed');
    assert.deepEqual(report.attributes, { 'x-mine': '[REDACTED]', password: '[REDACTED]' });
  });

  it('the options that apply beside an application SDK (flows, baggage, cohort, release, timeouts) are neither said nor counted', async () => {
    const report = await runOptionsApp('applicable');
    assert.equal(report.configProblems, 0, report.warnings.join('\n'));
    assert.deepEqual(report.warnings, []);
  });
});

describe('an application SDK started after startCheckoutTracing', () => {
  it("its failed registration is said once and counted: its SDK is unused, the order is to change; the watch ends with shutdown", async () => {
    const script = join(__dirname, 'late-sdk-app.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script], { timeout: 30_000 });
    const report = JSON.parse(stdout) as { mode: string; configProblems: number; warnings: string[]; toApp: number; toPackage: number; watchedBeforeShutdown: boolean; watchedAfterShutdown: boolean };
    assert.equal(report.mode, 'lean', 'not coexisting: the package started its own SDK');
    assert.equal(report.toApp, 0, "the application's SDK gets nothing");
    assert.equal(report.toPackage, 1);
    assert.equal(report.configProblems, 1);
    assert.equal(report.warnings.length, 1, report.warnings.join('\n'));
    assert.match(report.warnings[0], /an OpenTelemetry SDK started after startCheckoutTracing could not register its TracerProvider.*sdk\.start\(\) before startCheckoutTracing\(\)/);
    assert.equal(report.watchedBeforeShutdown, true);
    assert.equal(report.watchedAfterShutdown, false);
  });
});

describe('an Express application whose SDK has instrumentation-express but no HTTP instrumentation', () => {
  // What the README says of this set-up: the middleware's server span is named after the route;
  // instrumentation-express 0.71's own spans are not (it finds no span when the layers before the
  // payment middleware run, and keeps the mount path of the layer that runs it).
  const repository = join(__dirname, '..', '..', '..', '..');
  for (const [express, from, handlerName] of [
    ['Express 4', join(repository, 'fixtures', 'express-4', 'package.json'), 'request handler - /pay/pay/create'],
    ['Express 5', join(repository, 'package.json'), 'request handler'],
  ] as const) {
    it(`${express}: the server span is named after the route; instrumentation-express names its handler span "${handlerName}", without http.route`, async () => {
      const script = join(__dirname, 'express-without-http-app.ts');
      const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script, from], { timeout: 30_000 });
      const report = JSON.parse(stdout) as { mode: string; express: string; spans: { name: string; kind: number; route?: string; scope: string }[] };
      assert.equal(report.mode, 'coexisting');
      assert.equal(report.express.split('.')[0], express.slice(-1));
      assert.deepEqual(report.spans, [
        { name: 'POST /pay/create', kind: SERVER, route: '/pay/create', scope: '@otel-checkout/node' },
        { name: handlerName, kind: 0, scope: '@opentelemetry/instrumentation-express' },
      ]);
    });
  }
});
