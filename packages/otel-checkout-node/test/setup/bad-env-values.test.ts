import * as assert from 'node:assert/strict';
import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';

const VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;

function makeSpans(count: number): void {
  const tracer = trace.getTracer('load');
  for (let i = 0; i < count; i += 1) tracer.startSpan(`span ${i}`, {}, ROOT_CONTEXT).end();
}

/**
 * Bad values of the standard variables: each one said once, by the package, without the value,
 * and counted in configProblems, as the same mistake in an option is; the usable rest still applies.
 */
describe('bad values of the standard OTEL_* variables', () => {
  const saved: Partial<Record<string, string>> = {};
  let handle: NodeTracingHandle | undefined;
  let receiver: OtlpReceiver;
  let logs: ReturnType<typeof captureWarnings>;
  beforeEach(async () => {
    for (const key of VARIABLES) saved[key] = process.env[key];
    receiver = await startOtlpReceiver();
    logs = captureWarnings();
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    logs.restore();
    await receiver.close();
    for (const key of VARIABLES) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('OTEL_EXPORTER_OTLP_HEADERS: the malformed entries are said in one line (by position, not value), each counted; the good ones are sent', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'Bearer-secret-1,x-ok=1,=v,k=,x-bad%zz=1,,x-also=a%20b';
    handle = startCheckoutTracing({ instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 4, logs.warnings.join('\n'));
    assert.equal(logs.warnings.length, 1, logs.warnings.join('\n'));
    assert.match(logs.warnings[0], /OTEL_EXPORTER_OTLP_HEADERS: entries 1, 3, 4, 5 of 7 are not name=value .*; left out, the other headers are sent/);
    assert.ok(!logs.warnings[0].includes('Bearer-secret-1'));
    makeSpans(1);
    await handle.flush();
    const headers = receiver.requests[0]?.headers ?? {};
    assert.equal(headers['x-ok'], '1');
    assert.equal(headers['x-also'], 'a b');
    assert.equal(headers.k, undefined);
  });

  it('OTEL_RESOURCE_ATTRIBUTES with one malformed entry: ignored whole, as the specification asks, and said once, counted', async () => {
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.namespace=shop,bad-entry,service.version=2.0.0';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 1);
    assert.equal(logs.warnings.length, 1, logs.warnings.join('\n'));
    assert.match(logs.warnings[0], /OTEL_RESOURCE_ATTRIBUTES: entry 2 of 3 is not key=value .*; the whole variable is ignored/);
    assert.ok(!logs.warnings[0].includes('bad-entry'));
    makeSpans(1);
    await handle.flush();
    const span = await receiver.waitForSpan((s) => s.name === 'span 0');
    assert.deepEqual(span.resource.attributes, { 'service.name': 'unknown_service:node' });
  });

  it('OTEL_RESOURCE_ATTRIBUTES with a malformed entry holding a secret: no log line at any level shows it', () => {
    logs.restore();
    const lines: string[] = [];
    const record = (...args: unknown[]): void => void lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    diag.setLogger({ error: record, warn: record, info: record, debug: record, verbose: record }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.namespace=shop,db.password=RESENVSECRET1=x';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 1);
    assert.ok(lines.length > 0, 'the logger was called');
    assert.deepEqual(lines.filter((line) => line.includes('RESENVSECRET1')), []);
    assert.equal(process.env.OTEL_RESOURCE_ATTRIBUTES, 'service.namespace=shop,db.password=RESENVSECRET1=x', 'the variable is left as it was');
  });

  it('an endpoint variable that is not an absolute http(s) URL: said once without its value, counted; exports go where it says', async () => {
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'not a url with a password';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    handle = startCheckoutTracing({ instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 1);
    assert.deepEqual(logs.warnings, [
      '@otel-checkout/node: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an absolute http(s) URL (not logged, as it may carry credentials); using OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces',
    ]);
    makeSpans(2);
    await handle.flush();
    assert.equal(handle.health().spansExported, 2);
    assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'not a url with a password', 'the variable is left as it was');
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT without a scheme is said once (not by OpenTelemetry, with its value), counted, and the default is used', async () => {
    for (const value of ['collector:4318', '127.0.0.1:4318/v1/traces']) {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = value;
      logs.warnings.length = 0;
      handle = startCheckoutTracing({ instrumentHttp: false, scheduledDelayMillis: 10, exportTimeoutMillis: 500, shutdownTimeoutMillis: 200 });
      assert.equal(handle.health().configProblems, 1, value);
      assert.deepEqual(logs.warnings, [
        '@otel-checkout/node: OTEL_EXPORTER_OTLP_ENDPOINT is not an absolute http(s) URL (not logged, as it may carry credentials); using http://localhost:4318/v1/traces',
      ]);
      await handle.shutdown();
    }
  });

  it('an endpoint variable an endpoint option makes unused is neither said nor counted', () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'not a url';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 0);
    assert.deepEqual(logs.warnings, []);
  });

  it('OTEL_TRACES_SAMPLER_ARG that is not a probability: one diagnostic, counted, ratio 1; unset, it means 1 without a word', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = 'abc';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 1);
    assert.deepEqual(logs.warnings, ['@otel-checkout/node: OTEL_TRACES_SAMPLER_ARG="abc" is not a probability from 0 to 1; using 1 (every trace sampled)']);
    makeSpans(20);
    await handle.flush();
    assert.equal(handle.health().spansExported, 20);
    await handle.shutdown();

    delete process.env.OTEL_TRACES_SAMPLER_ARG;
    logs.warnings.length = 0;
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 0);
    assert.deepEqual(logs.warnings, []);
    await handle.shutdown();

    process.env.OTEL_TRACES_SAMPLER = 'traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    makeSpans(5);
    await handle.flush();
    assert.equal(handle.health().spansExported, 0, 'a ratio of 0 samples nothing');
    assert.deepEqual(logs.warnings, []);
  });

  it('OTEL_TRACES_SAMPLER naming a sampler the package cannot make: said once, counted, parentbased_always_on', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'xray';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, scheduledDelayMillis: 10 });
    assert.equal(handle.health().configProblems, 1);
    assert.equal(logs.warnings.length, 1, logs.warnings.join('\n'));
    assert.match(logs.warnings[0], /OTEL_TRACES_SAMPLER="xray" is not one of always_on, .*; using parentbased_always_on/);
    makeSpans(3);
    await handle.flush();
    assert.equal(handle.health().spansExported, 3);
  });
});
