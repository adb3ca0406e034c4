import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { createNoopLogger, logs } from '@opentelemetry/api-logs';
import type { LoggerProvider } from '@opentelemetry/api-logs';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver, startRedisServer } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { ATTR_PAYMENT_TRADE_NO } from '@otel-checkout/semantic-conventions';
import { SPAN_NAME_PAYMENT_CALLBACK_STALLED } from '@otel-checkout/semantic-conventions/incubating';
import { FLOW_HEALTH_COUNTERS, HEALTH_CONFIG_PROBLEMS, HEALTH_FLOW_STORE_EVICTIONS, HEALTH_FLOW_STORE_RESETS, HEALTH_HOOK_ERRORS, MemoryFlowStore, payments, startCheckoutTracing } from '../../src/index.js';
import type { FlowStore, NodeTracingHandle } from '../../src/index.js';
import { hasRegisteredTracerProvider } from '../../src/setup/existing-provider.js';
import { startTracingSession } from '../support/tracing-session.js';
import { assertExitsAfterShutdown } from '../support/exits-after-shutdown.js';
import { customFlowStore } from '../support/custom-store.js';

const ENV_KEYS = [
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
];

/** A store as an application writes one (with `overrides`), counting its closes. */
function closeCountingStore(overrides: Partial<FlowStore> = {}): { store: FlowStore; closes: () => number } {
  let closed = 0;
  const memory = new MemoryFlowStore();
  const close = (): Promise<void> => {
    closed += 1;
    return memory.close();
  };
  return { store: customFlowStore({ ...overrides, close }, memory), closes: () => closed };
}

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

  it('the traces-specific OTEL_* variables win over the general ones: endpoint (used as given), protocol and headers', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9';
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=general';
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.tracesUrl;
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/json';
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-tenant=traces';
    handle = startCheckoutTracing({ scheduledDelayMillis: 10 });
    await payments.create({ tradeNo: 'E-2' }, () => undefined);
    await handle.flush();
    const span = await receiver.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'E-2');
    assert.equal(span.encoding, 'json');
    assert.equal(receiver.requests.at(-1)?.headers['x-tenant'], 'traces');
    assert.equal(handle.health().spansDropped, 0);
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

  it("leaves the global LoggerProvider to the application: one registered after the start is the one in use, one before it stays", async () => {
    const mine: LoggerProvider = { getLogger: () => createNoopLogger() };
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    assert.equal(logs.setGlobalLoggerProvider(mine), mine);
    assert.equal(logs.getLoggerProvider(), mine);
    await handle.shutdown();
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false });
    assert.equal(logs.getLoggerProvider(), mine, "the application's provider, registered before this start, is kept");
    logs.disable();
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

  it('replaces a malformed endpoint by the default one, saying so once and counting it; tracing runs', async () => {
    const diagnostics = captureDiag();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    try {
      handle = startCheckoutTracing({ endpoint: 'not a url', scheduledDelayMillis: 10 });
      assert.equal(handle.mode, 'default');
      await payments.create({ tradeNo: 'URL-1' }, () => undefined);
      await handle.flush();
      const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
      assert.equal(span.attributes['payment.trade_no'], 'URL-1');
      assert.equal(handle.health()[HEALTH_CONFIG_PROBLEMS], 1);
      assert.equal(diagnostics.warnings.filter((w) => w.includes('option endpoint')).length, 1, diagnostics.warnings.join('\n'));
      assert.ok(!diagnostics.warnings.some((w) => w.includes('setup failed')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
  });

  it('stops what a setup that failed had started: the flow store is closed, no provider stays registered', async () => {
    const { store, closes } = closeCountingStore();
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({
        endpoint: receiver.tracesUrl,
        flows: {
          store,
          sweeper: {
            get intervalMs(): number {
              throw new Error('setup breaks here');
            },
          },
        },
      });
      assert.equal(handle.mode, 'not_started');
      assert.ok(diagnostics.warnings.some((w) => w.includes('setup failed')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
    await handle.shutdown();
    assert.equal(closes(), 1, 'the flow store of the failed setup is closed');
    assert.equal(hasRegisteredTracerProvider(), false, 'no half-started SDK stays registered');
    assert.equal(await payments.create({ tradeNo: 'F-1' }, (flow) => flow.tradeNo), 'F-1', 'the application runs untraced');
  });

  it("a store of the application's own whose listener methods throw or answer no function costs the count, not the setup", async () => {
    let notifyReset: (() => void) | undefined;
    const { store, closes } = closeCountingStore({
      addEvictionListener: () => {
        throw new Error('not supported');
      },
      addResetListener: ((listener: () => void) => {
        notifyReset = listener;
        return 'not a function';
      }) as unknown as (listener: () => void) => () => void,
    });
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, flows: { store } });
      assert.equal(handle.mode, 'default');
      assert.equal(await payments.create({ tradeNo: 'L-1' }, (flow) => flow.tradeNo), 'L-1');
      notifyReset?.();
      const health = handle.health();
      assert.equal(health[HEALTH_CONFIG_PROBLEMS], 2);
      assert.equal(health[HEALTH_FLOW_STORE_EVICTIONS], 0);
      assert.equal(health[HEALTH_FLOW_STORE_RESETS], 1, 'the subscription that answered no function still counts');
      assert.equal(diagnostics.warnings.filter((w) => w.includes('its addEvictionListener threw')).length, 1, diagnostics.warnings.join('\n'));
      assert.equal(diagnostics.warnings.filter((w) => w.includes('addResetListener did not return a function')).length, 1, diagnostics.warnings.join('\n'));
      assert.ok(!diagnostics.warnings.some((w) => w.includes('setup failed')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
    await handle.shutdown();
    assert.equal(closes(), 1, 'shutdown still closes the store');
  });

  it('a process whose setup failed with a Redis flow store exits once it called shutdown', async () => {
    const redis = await startRedisServer();
    try {
      // The store's connection would hold the process for ever.
      const output = await assertExitsAfterShutdown(join(__dirname, 'fixtures', 'failed-setup-with-redis.ts'), [redis.url], 3000, 'the flow store');
      assert.deepEqual(JSON.parse(output), { mode: 'not_started', left: 'flow store is closed' });
    } finally {
      await redis.stop();
    }
  });

  it('replaces a sampler or span processors of the wrong shape by the defaults, said once and counted; payments work', async () => {
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({
        endpoint: receiver.tracesUrl,
        sampler: 'always_off' as unknown as Sampler,
        spanProcessors: [{} as SpanProcessor, { onStart: () => undefined } as unknown as SpanProcessor],
        serviceName: 42 as unknown as string,
        scheduledDelayMillis: 10,
      });
      assert.equal(handle.mode, 'default');
      const recording = await payments.create({ tradeNo: 'S-1' }, () => trace.getActiveSpan()?.isRecording());
      assert.equal(recording, true, 'sampled by the default sampler');
      await handle.flush();
      const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
      assert.equal(span.resource.attributes['service.name'], 'unknown_service:node', 'a numeric service name is not used');
      assert.equal(handle.health()[HEALTH_CONFIG_PROBLEMS], 4, 'the sampler, two processors and the service name');
      for (const option of ['option sampler', 'option spanProcessors', 'option serviceName']) {
        assert.equal(diagnostics.warnings.filter((w) => w.includes(option)).length, 1, `${option}: ${diagnostics.warnings.join('\n')}`);
      }
    } finally {
      diagnostics.restore();
    }
  });

  it('never throws from tracing into payments.create or a provider call: a sampler that throws leaves them untraced, counted', async () => {
    let failing = false;
    const sampler: Sampler = {
      shouldSample: () => {
        if (failing) throw new Error('sampler bug');
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => 'flaky',
    };
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, sampler });
    failing = true;
    const result = await payments.create({ tradeNo: 'G-1' }, async (flow) => {
      const headers = await flow.providerCall('charge', (call) => call.inject<Record<string, string>>({}));
      return { tradeNo: flow.tradeNo, headers, returnUrl: flow.returnUrl('https://shop.example/return') };
    });
    assert.deepEqual(result, { tradeNo: 'G-1', headers: {}, returnUrl: 'https://shop.example/return' });
    await assert.rejects(
      payments.create({}, () => {
        throw new RangeError('the app’s own error');
      }),
      RangeError,
      "the application's own errors still come through",
    );
    assert.ok(handle.health()[HEALTH_HOOK_ERRORS] >= 2, `hookErrors ${handle.health()[HEALTH_HOOK_ERRORS]}`);
    failing = false;
    assert.equal(await payments.create({}, () => trace.getActiveSpan()?.isRecording()), true, 'traced again once the sampler works');
  });

  it('counts every flow option it cannot use (keys, numbers, token parameter) and says each once', async () => {
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({
        endpoint: receiver.tracesUrl,
        instrumentHttp: false,
        flows: {
          keys: { current: { id: 'k1', secret: 'too short' } },
          callbackMaxAgeSeconds: -5,
          tokenParam: 42 as unknown as string,
          deadlines: -1,
          // 1e10 ms: longer than Node's timers keep, which would fire it at once.
          sweeper: { batchSize: 0.5, leaseMs: Number.NaN, intervalMs: 1e10 },
          store: new MemoryFlowStore({ maxEntries: -3 }),
        },
      });
      assert.equal(handle.mode, 'lean');
      assert.equal(handle.health()[HEALTH_CONFIG_PROBLEMS], 8);
      for (const option of ['flows.keys', 'flows.callbackMaxAgeSeconds', 'flows.tokenParam', 'flows.deadlines', 'flows.sweeper.batchSize', 'flows.sweeper.leaseMs', 'flows.sweeper.intervalMs', 'MemoryFlowStore maxEntries']) {
        assert.equal(diagnostics.warnings.filter((w) => w.includes(`option ${option}`) || w.includes(`${option} unusable`)).length, 1, `${option}: ${diagnostics.warnings.join('\n')}`);
      }
      // The defaults are in force: URLs carry no token (no usable key), under the default parameter.
      assert.equal(await payments.create({ tradeNo: 'K-1' }, (flow) => flow.returnUrl('https://shop.example/r')), 'https://shop.example/r');
    } finally {
      diagnostics.restore();
    }
    await handle.shutdown();
    // A missing secret is counted the same way.
    handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, flows: { keys: { current: { id: 'k1', secret: undefined as unknown as string } } } });
    assert.equal(handle.health()[HEALTH_CONFIG_PROBLEMS], 1);
  });

  it('a timeout longer than Node keeps a timer is the default, counted: exports still get through', async () => {
    const diagnostics = captureDiag();
    try {
      handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, exportTimeoutMillis: 1e10, scheduledDelayMillis: 50 });
      assert.equal(handle.health()[HEALTH_CONFIG_PROBLEMS], 1);
      assert.ok(diagnostics.warnings.some((w) => w.includes('exportTimeoutMillis=10000000000 is not a positive number of ms up to 2147483647')), diagnostics.warnings.join('\n'));
    } finally {
      diagnostics.restore();
    }
    await payments.create({ tradeNo: 'T-timer' }, () => undefined);
    await receiver.waitForSpan((s) => s.attributes['payment.trade_no'] === 'T-timer');
    assert.equal(handle.health().spansDropped, 0);
  });

  it('a sweeper batch size of 10.5 is 10, no problem; one below 1 falls back to the default: stalled flows are still reported', async () => {
    const floored = await startTracingSession('memory', { instrumentHttp: false, flows: { sweeper: { batchSize: 10.5 } } });
    assert.equal(floored.handle.health()[HEALTH_CONFIG_PROBLEMS], 0);
    await floored.stop();
    const session = await startTracingSession('memory', {
      instrumentHttp: false,
      flows: { keys: { current: { id: 'k1', secret: 'a-secret-of-32-characters-length' } }, deadlines: 0.05, sweeper: { batchSize: 0.5, intervalMs: 20 } },
    });
    try {
      await payments.create({ tradeNo: 'ST-1' }, (flow) => flow.notifyUrl('https://shop.example/notify'));
      const stalled = await session.waitForSpan((s) => s.name === SPAN_NAME_PAYMENT_CALLBACK_STALLED);
      assert.equal(stalled.attributes[ATTR_PAYMENT_TRADE_NO], 'ST-1');
      assert.equal(session.handle.health()[HEALTH_CONFIG_PROBLEMS], 1);
    } finally {
      await session.stop();
    }
  });
});
