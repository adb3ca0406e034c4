import * as assert from 'node:assert/strict';
import { diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { FLOW_HEALTH_COUNTERS, payments, startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';

const ENV_KEYS = [
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
];

function captureDiag(): { warnings: string[]; restore: () => void } {
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: (message) => warnings.push(message),
    warn: (message) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { warnings, restore: () => diag.disable() };
}

describe('startCheckoutTracing', () => {
  let receiver: OtlpReceiver;
  let handle: NodeTracingHandle | undefined;
  const savedEnv: Record<string, string | undefined> = {};

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
  });
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    await receiver.close();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  it('a second call warns and returns the same handle', () => {
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl });
      const again = startCheckoutTracing({ endpoint: 'http://127.0.0.1:1/v1/traces' });
      assert.equal(again, handle);
      assert.ok(diagnostics.warnings.some((w) => w.includes('called again')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
  });

  it('says once when a default-mode option cannot apply: lean mode, or a hook that is not a function', async () => {
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, ignoreIncomingRequest: () => true, frameworkSpans: true });
      assert.equal(handle.mode, 'lean');
      assert.ok(diagnostics.warnings.some((w) => w.includes('ignoreIncomingRequest applies to default mode only; it has no effect in lean mode')), diagnostics.warnings.join('\n'));
      assert.ok(diagnostics.warnings.some((w) => w.includes('frameworkSpans applies to default mode only')), diagnostics.warnings.join('\n'));
      await handle.shutdown();
      diagnostics.warnings.length = 0;
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, ignoreIncomingRequest: '/healthz' as unknown as () => boolean });
      assert.equal(handle.mode, 'default');
      assert.ok(diagnostics.warnings.some((w) => w.includes('ignoreIncomingRequest is not a function')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
  });

  it('honours the standard OTEL_* variables: endpoint, headers, protocol, service name and resource attributes', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=shop-eu';
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    process.env.OTEL_SERVICE_NAME = 'order-service';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.version=3.1.0,deployment.environment.name=staging';
    handle = startCheckoutTracing({ scheduledDelayMillis: 10 });
    await payments.create({ tradeNo: 'E-1' }, () => undefined);
    await handle.flush();
    const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
    assert.equal(span.encoding, 'json');
    assert.equal(receiver.requests[0]?.headers['x-tenant'], 'shop-eu');
    assert.deepEqual(span.resource.attributes, {
      'service.name': 'order-service',
      'service.version': '3.1.0',
      'deployment.environment.name': 'staging',
    });
    assert.equal(span.attributes['checkout.release'], '3.1.0', 'the release defaults to service.version');
  });

  it('keeps the resource small and lets options win over the environment; protobuf by default', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, serviceName: 'checkout-api', serviceVersion: '1.0.0', environment: 'prod', scheduledDelayMillis: 10 });
    await payments.create({}, () => undefined);
    await handle.flush();
    const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
    assert.equal(span.encoding, 'protobuf');
    assert.deepEqual(Object.keys(span.resource.attributes).sort(), ['deployment.environment.name', 'service.name', 'service.version']);
    assert.equal(span.resource.attributes['service.name'], 'checkout-api');
  });

  it('samples 100% by default, honours OTEL_TRACES_SAMPLER, and registers tracecontext + baggage', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl });
    const recording = await payments.create({}, () => trace.getActiveSpan()?.isRecording());
    assert.equal(recording, false);
    assert.deepEqual(propagation.fields().sort(), ['baggage', 'traceparent', 'tracestate']);
    await handle.shutdown();
    delete process.env.OTEL_TRACES_SAMPLER;
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl });
    assert.equal(await payments.create({}, () => trace.getActiveSpan()?.isRecording()), true);
  });

  it('exports no metrics and no logs, only traces', async () => {
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, scheduledDelayMillis: 10 });
    await payments.create({}, () => undefined);
    await handle.shutdown();
    assert.ok(receiver.requests.length > 0);
    assert.deepEqual([...new Set(receiver.requests.map((r) => r.path))], ['/v1/traces']);
  });

  it('can be started again after shutdown, and payments works before start and after shutdown', async () => {
    assert.equal(await payments.create({ tradeNo: 'N-0' }, (flow) => flow.tradeNo), 'N-0');
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl });
    await handle.shutdown();
    assert.equal(await payments.create({}, () => trace.getActiveSpan()?.isRecording() ?? false), false);
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl });
    assert.equal(handle.mode, 'default');
    assert.equal(await payments.create({}, () => trace.getActiveSpan()?.isRecording()), true);
  });

  it('reports every health counter, starting at zero', () => {
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    assert.equal(handle.mode, 'lean');
    const health = handle.health();
    for (const name of ['spansExported', 'spansDropped', 'exportFailures', 'tokensRejected', 'baggageDropped', 'redactions']) {
      assert.equal(health[name], 0, name);
    }
    // The flows' counters (tokens, store, callbacks, stalled) are reported from the start too.
    for (const name of FLOW_HEALTH_COUNTERS) assert.equal(health[name], 0, name);
  });

  it('never throws on bad configuration', () => {
    handle = startCheckoutTracing({
      endpoint: 'not a url',
      protocol: 'grpc' as 'http/json',
      maxQueueSize: -5,
      cohort: { percent: Number.NaN },
      baggage: { maxEntries: -1 },
    });
    assert.ok(handle);
    assert.doesNotThrow(() => trace.getTracer('x').startSpan('y', {}, ROOT_CONTEXT).end());
  });
});
